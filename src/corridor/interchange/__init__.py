"""Interchange: Corridor networks to and from PyPSA, and networks and results in Excel.

`to_pypsa` / `from_pypsa` (pypsa imported lazily), `read_network_xlsx` / `write_network_xlsx`
and `write_results_xlsx` (docs/interchange.md).
"""

from corridor.interchange.excel import read_network_xlsx, write_network_xlsx, write_results_xlsx
from corridor.interchange.pypsa import (
    InterchangeError,
    add_links,
    corridor_constraints,
    from_pypsa,
    to_pypsa,
)

__all__ = ["to_pypsa", "from_pypsa", "corridor_constraints", "InterchangeError", "add_links",
           "read_network_xlsx", "write_network_xlsx", "write_results_xlsx"]
