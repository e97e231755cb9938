"""Results written to a folder: Parquet tables plus a small `summary.json` with provenance."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import corridor
from corridor.network import Network
from corridor.optimize import Results


def input_hash(net: Network) -> str | None:
    """SHA-256 over the names and bytes of every file in the network's folder and of the
    scenario files applied to it (None for a network built in memory)."""
    folder = net.origin_path
    if folder is None or not folder.is_dir():
        return None
    digest = hashlib.sha256()
    # scenario and sweep files count only when applied (below), not for being in the folder
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not {"scenarios", "sweeps"} & set(p.relative_to(folder).parts))
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    for scenario in net.scenarios:
        digest.update(Path(scenario).name.encode())
        digest.update(Path(scenario).read_bytes())
    return digest.hexdigest()


def summary(results: Results) -> dict:
    """Headline figures and provenance of a run: what produced it, when, and what it found."""
    bottlenecks = results.bottlenecks(10) if results.optimal else None
    unmet = results.volume(results.unmet)
    return {
        "network": results.network.name,
        "network_folder": (str(results.network.origin_path.resolve())
                           if results.network.origin_path is not None else None),
        "status": results.status,
        "objective_usd": results.objective if results.optimal else None,
        "periods": results.n_periods,
        "input_hash": input_hash(results.network),
        "scenarios": list(results.network.scenarios),
        "corridor_version": corridor.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "stats": results.stats,
        "bottlenecks": [] if bottlenecks is None else [
            {"link": lid, "mean_utilisation": round(float(r.mean_utilisation), 4)}
            for lid, r in bottlenecks.iterrows()],
        "unmet_base_units": {k: float(v) for k, v in unmet[unmet > 0].items()},
        "unmet_domestic_base_units": {
            k: float(v) for k, v in unmet[unmet > 0].items()
            if results.network.demands.at[k, "market"] == "domestic"},
        "violations": [v.__dict__ for v in results.violations],
    }


def write_results(results: Results, folder: str | Path) -> Path:
    """Write every result table as Parquet (periods x ids) and `summary.json` to `folder`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "flows": results.flows, "flows_forward": results.flows_forward,
        "flows_reverse": results.flows_reverse, "supply": results.supply,
        "unmet": results.unmet, "prices": results.prices, "utilisation": results.utilisation(),
        "storage_level": results.storage_level,
    }
    if results.optimal:
        tables["money_by_country"] = results.money_by_country()
        tables["congestion_rent"] = results.congestion_rent().to_frame("usd")
    for name, df in tables.items():
        df.set_axis(df.columns.astype(str), axis=1).to_parquet(out / f"{name}.parquet")
    (out / "summary.json").write_text(json.dumps(summary(results), indent=2))
    return out
