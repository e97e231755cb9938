"""Bundled networks that ship with the package, so `corridor run` works with no argument."""

from __future__ import annotations

from pathlib import Path

DEFAULT_NETWORK = "central-asia"
BUNDLED = {"central-asia": "central_asia"}


def bundled_path(name: str = DEFAULT_NETWORK) -> Path:
    """Folder of a bundled network by its public name (e.g. 'central-asia')."""
    return Path(__file__).parent / BUNDLED[name]


def resolve(network: str | None) -> Path:
    """A bundled network's folder for its name, the default for None, else the path given."""
    if network is None:
        return bundled_path()
    if network in BUNDLED:
        return bundled_path(network)
    return Path(network)
