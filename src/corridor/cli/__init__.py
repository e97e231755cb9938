"""The `corridor` command: each command group lives in its own module and is registered here."""

from __future__ import annotations

import typer

from corridor.cli import (
    coalition,
    hydraulics,
    interchange_commands,
    network_commands,
    plan_commands,
    runs_commands,
    service_commands,
    sweep_commands,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Corridor: flows, prices, bottlenecks and who gains in oil and gas.")
for group in (network_commands, runs_commands, plan_commands, coalition, sweep_commands,
              service_commands, interchange_commands):
    app.registered_commands += group.app.registered_commands
app.add_typer(hydraulics.app, name="hydraulics")
app.add_typer(service_commands.audit_app, name="audit")

__all__ = ["app"]
