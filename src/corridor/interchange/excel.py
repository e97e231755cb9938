"""Networks and results as Excel workbooks, because ministries and operators exchange spreadsheets.

A network workbook has one sheet per table of the data contract (docs/data-contract.md), named
like the CSV file without `.csv` (`nodes`, `links`, `supplies`, ...), with the same columns, plus
`profiles` and a `network` sheet of key/value rows (the network.yaml keys; a mapping or list is
written as YAML text, e.g. `{gas: 600000.0, oil: 700000.0}`). Cells are read as the text a CSV
would hold and go through the same checks as a network folder (`corridor.validation`); problems
name the sheet, row and column. A results workbook has one sheet per table with the unit of every
column in its header, e.g. `G01 [mcm/d]`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from corridor.network import Network, NetworkMeta
from corridor.schema import TABLES
from corridor.units import BASE_AMOUNT, BASE_RATE
from corridor.validation import NetworkError, Problem, build_network

META_SHEET = "network"
PROFILES_SHEET = "profiles"

# ----------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV file would hold: blank '', floats in shortest exact form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


def _sheet_frame(ws, name: str, problems: list[Problem]) -> pd.DataFrame | None:
    """A sheet as strings: first row the header, blank trailing columns and rows dropped."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    if not rows or all(v is None for v in rows[0]):
        problems.append(Problem(f"sheet {name}", "sheet is empty (no header row)"))
        return None
    header = [_cell_text(v).strip() for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    blank = [i + 1 for i, h in enumerate(header) if h == ""]
    if blank:
        problems.append(Problem(f"sheet {name}, row 1", "header cell(s) empty in column(s) "
                                + ", ".join(_column_letter(i) for i in blank)))
        return None
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        problems.append(Problem(f"sheet {name}", f"column(s) named twice: {', '.join(twice)}"))
        return None
    body = [[_cell_text(v) for v in (r + [None] * width)[:width]] for r in rows[1:]]
    while body and all(v == "" for v in body[-1]):
        body.pop()
    return pd.DataFrame(body, columns=header, dtype=object)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _meta_value(value: Any) -> Any:
    """A `network` sheet value: a YAML mapping or list when written as one, else as is."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        return yaml.safe_load(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_meta(ws, default_name: str, problems: list[Problem]) -> NetworkMeta:
    data: dict[str, Any] = {}
    for k, row in enumerate(ws.iter_rows(values_only=True), start=1):
        key = _cell_text(row[0] if row else None).strip()
        if not key or (k == 1 and key.lower() == "key"):
            continue
        value = row[1] if len(row) > 1 else None
        if value is None:
            continue
        try:
            data[key] = _meta_value(value)
        except yaml.YAMLError as exc:
            problems.append(Problem(f"sheet {META_SHEET}, row {k}, column B (key {key})",
                                    f"is not valid YAML ({exc})".replace("\n", " ")))
    data.setdefault("name", default_name)
    try:
        return NetworkMeta(**data)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            problems.append(Problem(f"sheet {META_SHEET}, key {key}", err["msg"]))
    return NetworkMeta(name=default_name)


_LINE = re.compile(r"\b([a-z_]+)\.csv, line (\d+)")
_FILE = re.compile(r"\b([a-z_]+)\.csv\b")


def _in_sheets(problem: Problem) -> Problem:
    """A problem found by the folder checks, located in the workbook's sheets instead."""
    def move(text: str) -> str:
        text = _LINE.sub(r"sheet \1, row \2", text)
        text = _FILE.sub(r"sheet \1", text)
        return text.replace("network.yaml", f"sheet {META_SHEET}").replace(
            "file is missing", "sheet is missing")
    return Problem(move(problem.where), move(problem.what))


def read_network_xlsx(path: str | Path) -> Network:
    """Read and check a network workbook (one sheet per table, see the module docstring).

    Args:
        path: an .xlsx file.

    Returns:
        The checked Network, equal to the one read from the same tables as a CSV folder.

    Raises:
        NetworkError: every problem found, each naming its sheet, row and column.
    """
    import openpyxl

    from corridor.io.folder import _exact_profile_values

    file = Path(path)
    origin = str(file)
    if not file.is_file():
        raise NetworkError([Problem(origin, "is not a file")], origin)
    try:
        wb = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise NetworkError([Problem(origin, f"is not a readable .xlsx workbook ({exc})")],
                           origin) from exc
    try:
        problems: list[Problem] = []
        sheets = {str(s).strip(): s for s in wb.sheetnames}
        raw = {name: _sheet_frame(wb[sheets[name]], name, problems) if name in sheets else None
               for name in TABLES}
        profiles = (_sheet_frame(wb[sheets[PROFILES_SHEET]], PROFILES_SHEET, problems)
                    if PROFILES_SHEET in sheets else None)
        meta = (_read_meta(wb[sheets[META_SHEET]], file.stem, problems)
                if META_SHEET in sheets else NetworkMeta(name=file.stem))
    finally:
        wb.close()
    if problems:
        raise NetworkError(problems, origin)
    try:
        return build_network(raw, _exact_profile_values(profiles), meta, origin=origin,
                             from_files=True)
    except NetworkError as exc:
        raise NetworkError([_in_sheets(p) for p in exc.problems], origin) from None


# ----------------------------------------------------------------------------- writing


def _cell(value: Any) -> Any:
    """A value as an Excel cell: NaN and None blank, numpy scalars as Python numbers."""
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


@contextlib.contextmanager
def _exact_floats():
    """While saving, write floats as their shortest exact text (Python's repr).

    openpyxl writes numbers with '%.16g', which loses the last bit of about a third of floats
    (60 bcm/yr is 164.3835616438356 mcm/d, read back 1 ulp off); a workbook must read back to an
    equal Network, as a CSV folder does. Excel itself reads 17-digit numbers exactly.
    """
    from openpyxl.cell import _writer

    original = _writer.safe_string

    def exact(value):
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return original(value)

    _writer.safe_string = exact
    try:
        yield
    finally:
        _writer.safe_string = original


def _save(wb, out: Path) -> None:
    with _exact_floats():
        wb.save(out)


def _write_frame(wb, title: str, df: pd.DataFrame) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "A2"


def _meta_cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False,
                              allow_unicode=True, width=10**9).strip()
    return value


def write_network_xlsx(net: Network, path: str | Path) -> Path:
    """Write a Network as a workbook that `read_network_xlsx` reads back to an equal Network.

    Args:
        net: the network.
        path: the .xlsx file to write (replaced if it exists).

    Returns:
        The path written.
    """
    import openpyxl

    from corridor.io.folder import _table_frames

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, df in _table_frames(net).items():
        _write_frame(wb, name, df)
    if net.profiles.shape[1] > 0:
        _write_frame(wb, PROFILES_SHEET, net.profiles.reset_index())
    ws = wb.create_sheet(META_SHEET)
    ws.append(["key", "value"])
    for key, value in net.meta.model_dump().items():
        if value is not None:
            ws.append([key, _meta_cell(value)])
    _save(wb, out)
    return out


def _unit_rate(carriers: pd.Series) -> pd.Series:
    return carriers.map(BASE_RATE).fillna("base/d")


def _with_units(df: pd.DataFrame, units: pd.Series | str, days: np.ndarray) -> pd.DataFrame:
    """A (periods x ids) table with `id [unit]` headers, the period and its days first."""
    labels = [f"{c} [{units if isinstance(units, str) else units.get(c, '')}]"
              for c in df.columns]
    out = pd.DataFrame(df.to_numpy(), columns=labels)
    out.insert(0, "days [d]", days)
    out.insert(0, "period", np.arange(1, len(df) + 1))
    return out


def write_results_xlsx(result, path: str | Path) -> Path:
    """Write a run's results as a workbook: one sheet per table, units in the header cells.

    Sheets: `summary` (key, value, unit), `flows` (net, positive from `from` to `to`),
    `flows_forward`, `flows_reverse`, `utilisation`, `supply`, `served`, `unmet`, `prices`,
    `storage_level`, `storage_inject`, `storage_withdraw`, `links` (per link over the horizon),
    and for an optimal run `welfare_by_country`, `welfare_by_owner` and `contracts` (USD).

    Args:
        result: `corridor.optimize.Results` of a run.
        path: the .xlsx file to write.

    Returns:
        The path written.
    """
    import openpyxl

    net, days = result.network, np.asarray(result.days, float)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    link_rate = _unit_rate(net.links["carrier"])
    node_carrier = net.nodes["carrier"]
    price_unit = node_carrier.map(lambda c: f"USD/{BASE_AMOUNT.get(c, 'base unit')}")
    sheets: dict[str, pd.DataFrame] = {}
    summary = [("network", net.name, ""), ("status", result.status, ""),
               ("periods", result.n_periods, ""), ("days", float(days.sum()), "d"),
               ("objective", float(result.objective), "USD")]
    if result.optimal:
        summary += [("welfare", result.welfare(), "USD"),
                    ("tariff revenue", float(result.tariff_revenue().sum()), "USD")]
    sheets["summary"] = pd.DataFrame(summary, columns=["key", "value", "unit"])
    for name, table, units in (
            ("flows", result.flows, link_rate), ("flows_forward", result.flows_forward, link_rate),
            ("flows_reverse", result.flows_reverse, link_rate),
            ("utilisation", result.utilisation(), "share"),
            ("supply", result.supply, _unit_rate(net.supplies["carrier"])),
            ("served", result.served(), _unit_rate(net.demands["carrier"])),
            ("unmet", result.unmet, _unit_rate(net.demands["carrier"])),
            ("prices", result.prices, price_unit),
            ("storage_level", result.storage_level,
             net.storages["carrier"].map(BASE_AMOUNT).fillna("base")),
            ("storage_inject", result.storage_inject, _unit_rate(net.storages["carrier"])),
            ("storage_withdraw", result.storage_withdraw, _unit_rate(net.storages["carrier"]))):
        sheets[name] = _with_units(table, units, days)
    carrier = net.links["carrier"].to_numpy()
    volume = result.volume(result.flows_forward + result.flows_reverse).to_numpy()
    links = pd.DataFrame({"link": net.links.index, "carrier": carrier})
    for c in sorted(set(carrier)):  # one column per carrier, so that each has one unit
        links[f"{c} volume [{BASE_AMOUNT[c]}]"] = np.where(carrier == c, volume, np.nan)
    links["mean utilisation [share]"] = result.utilisation().mean().to_numpy()
    if result.optimal:
        links["tariff revenue [USD]"] = result.tariff_revenue().to_numpy()
        links["congestion rent [USD]"] = result.congestion_rent().reindex(
            net.links.index).to_numpy()
    sheets["links"] = links
    if result.optimal:
        for by in ("country", "owner"):
            table = result.welfare_by(by)
            table.columns = [f"{c} [USD]" for c in table.columns]
            sheets[f"welfare_by_{by}"] = table.reset_index()
        if len(net.contracts):
            contracts = result.contract_table()
            unit = net.supplies["carrier"].reindex(contracts["seller"]).map(BASE_AMOUNT)
            money = {c: f"{c} [USD]" for c in contracts.columns
                     if c not in ("seller", "buyer", "price", "volume", "shadow_price")}
            contracts = contracts.rename(columns={
                **money, "price": "price [USD/unit]", "volume": "volume [unit]",
                "shadow_price": "shadow_price [USD/unit]"})
            contracts.insert(2, "unit", unit.to_numpy())
            sheets["contracts"] = contracts.reset_index()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        _write_frame(wb, name, df)
    _save(wb, out)
    return out
