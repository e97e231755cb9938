"""The `corridor` command: each command group lives in its own module and is registered here."""

from __future__ import annotations

import typer

from corridor.cli import network_commands

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Corridor: least-cost flows, bottlenecks and money in oil and gas networks.")
for command in network_commands.app.registered_commands:
    app.registered_commands.append(command)

__all__ = ["app"]
