"""`corridor serve` (the coordination service) and `corridor audit verify` (its audit chain)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from corridor.cli.common import DebugOpt, UserError, err, guarded, out

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The coordination service and its audit trail.")
audit_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Check the service's append-only audit trail.")
app.add_typer(audit_app, name="audit")

DbOpt = Annotated[str | None, typer.Option(
    "--db", help="Database URL (sqlite:///FILE or postgresql://USER:PASSWORD@HOST/DB); default: "
                 "$CORRIDOR_SERVICE_DATABASE_URL, the config file, or a SQLite file in the "
                 "user data folder.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Settings file (TOML); default: $CORRIDOR_SERVICE_CONFIG or service.toml "
                     "in the user config folder.")]


def _settings(config: Path | None, **overrides: object):
    from pydantic import ValidationError

    from corridor.service.config import CONFIG_ENV, load_settings

    if config is not None:
        if not config.exists():
            raise UserError(f"settings file {config} does not exist")
        os.environ[CONFIG_ENV] = str(config)
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        raise UserError(f"invalid service settings: {exc}") from None


def _migrate(url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from corridor.service.migrations import upgrade

    try:
        upgrade(url)
    except (SQLAlchemyError, ImportError) as exc:
        raise UserError(f"cannot open or migrate the database {_safe(url)}: "
                        f"{str(exc).splitlines()[0]}") from None


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "<database>"


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")]
    = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    config: ConfigOpt = None,
    demo: Annotated[bool | None, typer.Option(
        "--demo/--no-demo", help="Seed the demo parties, users and points into an empty "
                                 "database (default: on).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Run the coordination service: migrate the database, seed the demo, serve the API
    (docs at /docs) and the dashboard."""

    def body() -> None:
        from datetime import UTC, datetime

        import uvicorn

        from corridor.service import demo as demo_seed
        from corridor.service.api import create_app
        from corridor.service.db import Database

        settings = _settings(config, database_url=db, host=host, port=port, demo=demo)
        _migrate(settings.database_url)
        database = Database(settings.database_url)
        if settings.demo and demo_seed.seed(database, settings, datetime.now(UTC)):
            err.print("seeded the demo (accounts in docs/service.md; password: "
                      "<username>-demo)", highlight=False)
        err.print(f"database {_safe(settings.database_url)}; dashboard "
                  f"http://{settings.host}:{settings.port}/ ; API docs "
                  f"http://{settings.host}:{settings.port}/docs", highlight=False)
        uvicorn.run(create_app(settings, database), host=settings.host, port=settings.port,
                    log_level="warning" if not debug else "info", timeout_graceful_shutdown=5)

    guarded(debug, body)


@audit_app.command("verify")
def verify(
    db: DbOpt = None,
    config: ConfigOpt = None,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="A head hash published earlier: fail if the chain no longer "
                              "contains it (detects entries cut from the end).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Recompute the audit chain's hashes: exit 0 if intact, 1 if any entry was edited,
    deleted, inserted or reordered."""
    result = {}

    def body() -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from corridor.service import audit
        from corridor.service.db import Database

        settings = _settings(config, database_url=db)
        database = Database(settings.database_url)
        try:
            with database.read() as s:
                result["report"] = audit.verify(s, expect_head)
        except SQLAlchemyError as exc:
            raise UserError(f"cannot read the audit trail of {_safe(settings.database_url)}: "
                            f"{str(exc).splitlines()[0]}") from None
        finally:
            database.dispose()

    guarded(debug, body)
    report = result["report"]
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    elif report.ok:
        out.print(f"audit trail intact: {report.entries} entries, head {report.head_hash}",
                  highlight=False)
    else:
        out.print(f"audit trail BROKEN ({len(report.problems)} problems):", highlight=False)
        for problem in report.problems:
            out.print(f"  - {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)
