"""Corridor: plan and coordinate cross-border oil and gas transport.

The public Python API (docs/api.md); a notebook needs nothing but this module:

    import corridor as cr
    net = cr.read_network("central-asia")
    run = cr.optimize(cr.apply_scenario(net, "line-d"), periods=12)
    print(run.summary())
    print(run.welfare(by="country")[["welfare_usd"]])

Names are imported on first use, so `import corridor` (and the `corridor` command) stays fast.
"""

import importlib as _importlib
import sys as _sys
import types as _types
import typing as _typing

__version__ = "0.1.0"

if _typing.TYPE_CHECKING:
    from corridor.api import (
        Run,
        SecurityReport,
        apply_scenario,
        coalition,
        coalition_options,
        compare,
        hydraulic_check,
        hydraulics,
        list_scenarios,
        optimize,
        plan,
        read_network,
        security,
        sweep,
    )
    from corridor.coalitions.summary import CoalitionSummary
    from corridor.compare import Comparison
    from corridor.hydraulics.check import PlanCheck
    from corridor.hydraulics.results import HydraulicResult
    from corridor.interchange import (
        InterchangeError,
        from_pypsa,
        to_pypsa,
        write_network_xlsx,
        write_results_xlsx,
    )
    from corridor.network import Network
    from corridor.optimize.results import Results
    from corridor.optimize.solve import SolverError
    from corridor.plan.results import PlanResults
    from corridor.scenario.file import ScenarioError
    from corridor.sweep.report import SweepReport
    from corridor.validation import NetworkError, NetworkWarning

# public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        ("Run", "SecurityReport", "apply_scenario", "coalition", "coalition_options", "compare",
         "hydraulic_check", "hydraulics", "list_scenarios", "optimize", "plan", "read_network",
         "security", "sweep"), "corridor.api"),
    "CoalitionSummary": "corridor.coalitions.summary",
    "Comparison": "corridor.compare",
    "HydraulicResult": "corridor.hydraulics.results",
    **dict.fromkeys(("to_pypsa", "from_pypsa", "write_network_xlsx", "write_results_xlsx",
                     "InterchangeError"), "corridor.interchange"),
    "Network": "corridor.network",
    "NetworkError": "corridor.validation",
    "NetworkWarning": "corridor.validation",
    "PlanCheck": "corridor.hydraulics.check",
    "PlanResults": "corridor.plan.results",
    "Results": "corridor.optimize.results",
    "ScenarioError": "corridor.scenario.file",
    "SolverError": "corridor.optimize.solve",
    "SweepReport": "corridor.sweep.report",
}

__all__ = [
    # read and change networks
    "read_network", "apply_scenario", "list_scenarios",
    # optimise and read results
    "optimize", "Run", "compare", "plan",
    # games, security, physics, sweeps
    "coalition", "coalition_options", "security", "SecurityReport", "hydraulics",
    "hydraulic_check", "sweep",
    # interchange: PyPSA networks and Excel workbooks (read_network also reads .xlsx)
    "to_pypsa", "from_pypsa", "write_network_xlsx", "write_results_xlsx",
    # the engine's objects these return
    "Network", "Results", "Comparison", "PlanResults", "CoalitionSummary", "HydraulicResult",
    "PlanCheck", "SweepReport",
    # errors and warnings
    "NetworkError", "NetworkWarning", "ScenarioError", "SolverError", "InterchangeError",
]


def __getattr__(name: str) -> object:
    """Import a public name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corridor' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


class _Package(_types.ModuleType):
    """The corridor package. Importing a submodule binds it on its package, so
    `import corridor.optimize` (the engine does) would replace the function `corridor.optimize`
    with the subpackage; the public names keep their functions instead (the submodules stay in
    sys.modules, where `from corridor.optimize import ...` finds them)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _EXPORTS and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
