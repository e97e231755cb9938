"""Commands that exchange networks with PyPSA and Excel: export, import-pypsa
(docs/interchange.md)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Annotated

import typer

from corridor.cli.common import DebugOpt, UserError, guarded, load_network, out

app = typer.Typer()
FORMATS = ("xlsx", "pypsa")


def _pypsa():
    """pypsa, quiet, or a UserError saying how to install it."""
    try:
        import pypsa
    except ImportError as exc:
        raise UserError("PyPSA is not installed; `pip install pypsa` (or the corridor[test] "
                        "extra) to exchange networks with it") from exc
    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return pypsa


def _has_netcdf() -> bool:
    import importlib.util

    return importlib.util.find_spec("netCDF4") is not None


@app.command()
def export(
    network: Annotated[str, typer.Argument(help="Network folder, .xlsx workbook or bundled "
                                                "network name.")],
    to: Annotated[str, typer.Option("--to", help="xlsx (one sheet per table) or pypsa.")],
    output: Annotated[Path, typer.Argument(help="File (.xlsx; .nc for PyPSA netCDF) or folder "
                                                "(PyPSA CSV folder) to write.")],
    periods: Annotated[int, typer.Option(help="PyPSA snapshots: periods of the year (1, 12 or "
                                              "365).", min=1, max=365)] = 12,
    debug: DebugOpt = False,
) -> None:
    """Write a network as an Excel workbook or as a PyPSA network (netCDF file or CSV folder)."""

    def body() -> None:
        if to not in FORMATS:
            raise UserError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
        net = load_network(network)
        if to == "xlsx":
            from corridor.interchange import write_network_xlsx

            if output.suffix.lower() != ".xlsx":
                raise UserError(f"{output}: an Excel workbook needs the .xlsx suffix")
            write_network_xlsx(net, output)
            out.print(f"Wrote {output} (one sheet per table).")
            return
        _pypsa()
        from corridor.interchange import to_pypsa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            n = to_pypsa(net, periods)
            if output.suffix.lower() == ".nc":
                if not _has_netcdf():
                    raise UserError(f"{output}: netCDF needs the netCDF4 package; give a folder "
                                    "name instead to write PyPSA's CSV folder")
                n.export_to_netcdf(output)
            else:
                n.export_to_csv_folder(output)
        out.print(f"Wrote {output}: PyPSA network, {len(n.snapshots)} snapshot(s). Route "
                  "targets and contracts: optimize with extra_functionality="
                  "corridor.interchange.corridor_constraints.")

    guarded(debug, body)


@app.command("import-pypsa")
def import_pypsa(
    source: Annotated[Path, typer.Argument(help="PyPSA network: a .nc file or a CSV folder.")],
    output: Annotated[Path, typer.Argument(help="Corridor network folder (or .xlsx) to write.")],
    debug: DebugOpt = False,
) -> None:
    """Read a PyPSA gas/oil network and write it as a Corridor network folder (or workbook)."""

    def body() -> None:
        pypsa = _pypsa()
        from corridor.interchange import from_pypsa, write_network_xlsx
        from corridor.io import write_network

        if not source.exists():
            raise UserError(f"{source}: no such file or folder")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                n = pypsa.Network(source)
            except Exception as exc:  # pypsa/xarray raise many kinds for an unreadable input
                raise UserError(f"{source}: not a readable PyPSA network ({exc})") from None
        net = from_pypsa(n)
        if output.suffix.lower() == ".xlsx":
            write_network_xlsx(net, output)
        else:
            write_network(net, output)
        counts = ", ".join(f"{v} {k}" for k, v in net.counts().items() if v)
        out.print(f"Wrote {output} ({counts}).")

    guarded(debug, body)
