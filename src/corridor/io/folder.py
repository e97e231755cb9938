"""The network folder: one CSV per table plus an optional `network.yaml` (docs/data-contract.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from corridor.network import Network, NetworkMeta
from corridor.schema import TABLES
from corridor.validation import NetworkError, Problem, build_network

META_FILE = "network.yaml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
PROFILES_FILE = "profiles.csv"


def _read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """A CSV as strings in file order (blank cells are ''), or None if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        header = pd.read_csv(path, dtype=str, header=None, nrows=1).iloc[0].astype(str).str.strip()
        twice = sorted(set(header[header.duplicated()]))
        if twice:
            problems.append(Problem(path.name, f"column(s) named twice: {', '.join(twice)}"))
            return None
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        problems.append(Problem(path.name, "file is empty (no header row)"))
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        text = str(exc).replace("\n", " ")
        problems.append(Problem(path.name, f"is not a readable CSV file ({text})"))
    return None


def _exact_profile_values(profiles: pd.DataFrame | None) -> pd.DataFrame | None:
    """Profile values as floats, bit for bit as written.

    pandas' fast text-to-float parser may miss the last bit; numpy's conversion rounds correctly.
    A column with a cell that is not a non-negative number stays text, so that validation names
    the cell as written.
    """
    if profiles is None:
        return None
    profiles = profiles.copy()
    for name in profiles.columns:
        if str(name).strip() == "period":
            continue
        try:
            values = profiles[name].to_numpy(dtype=str).astype(float)
        except ValueError:
            continue
        if (values >= 0).all():  # False for NaN
            profiles[name] = values
    return profiles


def _read_meta(folder: Path, problems: list[Problem]) -> NetworkMeta:
    path = folder / META_FILE
    if not path.is_file():
        return NetworkMeta(name=folder.name)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        if not isinstance(data, dict):
            raise ValueError("expected a mapping of keys to values")
        data.setdefault("name", folder.name)
        return NetworkMeta(**data)
    except yaml.YAMLError as exc:
        problems.append(Problem(META_FILE, f"is not valid YAML ({exc})".replace("\n", " ")))
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            problems.append(Problem(f"{META_FILE}, key {key}", err["msg"]))
    except ValueError as exc:
        problems.append(Problem(META_FILE, str(exc)))
    return NetworkMeta(name=folder.name)


def read_network(path: str | Path) -> Network:
    """Read and check a network folder (or an .xlsx workbook, `corridor.interchange.excel`);
    raise NetworkError naming every problem found."""
    folder = Path(path)
    if folder.suffix.lower() == ".xlsx":
        from corridor.interchange.excel import read_network_xlsx

        return read_network_xlsx(folder)
    if not folder.is_dir():
        raise NetworkError([Problem(str(folder), "is not a folder")], str(folder))
    problems: list[Problem] = []
    raw = {name: _read_csv(folder / table.file, problems) for name, table in TABLES.items()}
    profiles = _exact_profile_values(_read_csv(folder / PROFILES_FILE, problems))
    meta = _read_meta(folder, problems)
    if problems:
        raise NetworkError(problems, str(folder))
    return build_network(raw, profiles, meta, origin=str(folder), from_files=True)


def _table_frames(net: Network) -> dict[str, pd.DataFrame]:
    """Each table as written (CSV or an xlsx sheet): id first, derived columns dropped."""
    frames = {}
    for name, table in TABLES.items():
        df = getattr(net, name).reset_index()
        derived = [c for c in ("carrier", "kind") if c in df.columns and table.column(c) is None
                   and name not in ("nodes", "links")]
        frames[name] = df.drop(columns=derived)  # a supply's carrier (its node's), a band's kind
    return frames


def write_network(net: Network, path: str | Path) -> Path:
    """Write a Network as a folder that `read_network` reads back to an equal Network.

    Floats are written as their shortest exact text (pandas' default, Python's repr), so that
    they read back bit for bit.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in _table_frames(net).items():
        df.to_csv(folder / TABLES[name].file, index=False)
    if net.profiles.shape[1] > 0:
        net.profiles.reset_index().to_csv(folder / PROFILES_FILE, index=False)
    (folder / META_FILE).write_text(yaml.safe_dump(net.meta.model_dump(), sort_keys=False,
                                                   allow_unicode=True))
    return folder
