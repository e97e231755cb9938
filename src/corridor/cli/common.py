"""What every `corridor` command shares: consoles, loading a network, and user-error handling.

Errors a user can cause end in one paragraph on stderr and exit code 2; `--debug` shows the
traceback instead. With `--json`, stdout carries exactly one JSON document.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from corridor.data import DEFAULT_NETWORK, resolve
from corridor.network import Network

_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120  # wide when piped
out = Console(width=_WIDTH)
err = Console(stderr=True, width=_WIDTH)

NetworkArg = Annotated[str | None, typer.Argument(
    help=f"Network folder, or the name of a bundled network (default: {DEFAULT_NETWORK}).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
StoreOpt = Annotated[Path | None, typer.Option(
    "--store", help="Results database (default: $CORRIDOR_STORE or the user data folder).")]

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3


class UserError(Exception):
    """A problem the user can fix; printed as one paragraph."""


@contextmanager
def user_errors(debug: bool):
    """Turn known errors into one clear paragraph and exit code 2."""
    from corridor.optimize import SolverError
    from corridor.units import UnitError
    from corridor.validation import NetworkError

    try:
        yield
    except (NetworkError, SolverError, UnitError, UserError, OSError, ValueError) as exc:
        # ScenarioError and StoreError are ValueErrors with a located message
        if debug:
            raise
        err.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug in Corridor: say so in one paragraph, not a traceback
        if debug:
            raise
        err.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}. This is a "
                  "bug in Corridor; rerun with --debug for the traceback and report it.",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL_ERROR) from None


def load_network(network: str | None, scenario: str | None = None) -> Network:
    """Read a network folder (or bundled name) and apply a scenario; warnings go to stderr."""
    return load_scenario_network(network, scenario)[0]


def load_scenario_network(network: str | None, scenario: str | None):
    """The network with `scenario` applied, and the scenario file (or None); the file's
    `periods` is filled in from the scenario it extends when it gives none."""
    from corridor.io import read_network
    from corridor.scenario import apply, find_scenario, read_scenario_file, scenario_periods

    folder = resolve(network)
    if not folder.exists():
        raise UserError(f"network {network!r} is neither a folder nor a bundled network "
                        f"(bundled: {DEFAULT_NETWORK})")
    spec = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = read_network(folder)
        if scenario:
            spec = read_scenario_file(find_scenario(scenario, net))
            spec.periods = scenario_periods(spec, net)
            net = apply(net, spec)
    for w in caught:
        err.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False, soft_wrap=True)
    return net, spec


@contextmanager
def progress(message: str, enabled: bool = True, delay: float = 1.0):
    """A spinner on stderr for work that takes longer than `delay` seconds; none when stderr is
    not a terminal (piped output, CI) or when disabled (e.g. `--json`)."""
    if not (enabled and err.is_terminal):
        yield
        return
    status = err.status(message)
    timer = threading.Timer(delay, status.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()


def guarded(debug: bool, body: Callable[[], None]) -> None:
    """Run a command body, turning user errors into a clear message and exit code 2."""
    with user_errors(debug):
        body()
