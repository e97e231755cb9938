"""`corridor serve` (the coordination service) and `corridor audit` (its audit trail: keygen,
checkpoint, verify)."""

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
                        help="Check the service's append-only audit trail; sign checkpoints.")
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
        "--demo/--no-demo", help="Seed the demo parties, users (published passwords) and "
                                 "points into an empty database and accept the demo "
                                 "passwords (default: only on a loopback --host).")] = None,
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
        if settings.seeds_demo and demo_seed.seed(database, settings, datetime.now(UTC)):
            err.print("seeded the demo (accounts in docs/service.md; password: "
                      "<username>-demo)", highlight=False)
        elif settings.demo is None and not settings.loopback:
            err.print(f"not seeding the demo on the non-loopback address {settings.host} (its "
                      "passwords are published; --demo to seed it anyway)", highlight=False)
        err.print(f"database {_safe(settings.database_url)}; dashboard "
                  f"http://{settings.host}:{settings.port}/ ; API docs "
                  f"http://{settings.host}:{settings.port}/docs", highlight=False)
        uvicorn.run(create_app(settings, database), host=settings.host, port=settings.port,
                    log_level="warning" if not debug else "info", timeout_graceful_shutdown=5)

    guarded(debug, body)


KeyOpt = Annotated[Path | None, typer.Option(
    "--key", help="The audit key (PEM): the private key signs; verifying takes either key. "
                  "Default: $CORRIDOR_SERVICE_AUDIT_KEY or `audit_key` in the settings file.")]


def _audit_key(settings, key: Path | None) -> Path | None:
    return key if key is not None else settings.audit_key


def _with_trail(settings, read):
    """Run `read(session)` on the database's audit trail; unreadable databases are user errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from corridor.service.db import Database

    database = Database(settings.database_url)
    try:
        with database.read() as s:
            return read(s)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the audit trail of {_safe(settings.database_url)}: "
                        f"{str(exc).splitlines()[0]} (is it a service database, migrated by "
                        "`corridor serve`?)") from None
    finally:
        database.dispose()


def _print_problems(report) -> None:
    out.print(f"audit trail BROKEN ({len(report.problems)} problems):", highlight=False)
    for problem in report.problems:
        out.print(f"  - {problem}", highlight=False, soft_wrap=True)


@audit_app.command("keygen")
def keygen(
    out_file: Annotated[Path, typer.Option(
        "--out", help="Private key file to create (mode 0600); the public key goes to "
                      "FILE.pub. Keep the private key off the database server.")],
    debug: DebugOpt = False,
) -> None:
    """Create the Ed25519 key pair that signs audit checkpoints."""

    def body() -> None:
        from corridor.service import checkpoint

        public = checkpoint.generate_key(out_file)
        out.print(f"private key {out_file} (keep it secret), public key {public} (give it to "
                  "whoever verifies)", highlight=False)

    guarded(debug, body)


@audit_app.command("checkpoint")
def checkpoint_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="Checkpoint file to write (JSON).")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    key: KeyOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Verify the audit trail and write its head (entry, hash, time) signed with the audit key:
    exit 0 when written, 1 if the trail does not verify (nothing is signed)."""
    result = {}

    def body() -> None:
        from datetime import UTC, datetime

        from corridor.service import checkpoint

        settings = _settings(config, database_url=db)
        path = _audit_key(settings, key)
        if path is None:
            raise UserError("signing a checkpoint needs the audit private key: give --key or "
                            "set CORRIDOR_SERVICE_AUDIT_KEY (create one with `corridor audit "
                            "keygen --out FILE`)")
        private_key = checkpoint.load_private_key(path)
        try:
            cp = _with_trail(settings, lambda s: checkpoint.take(s, private_key,
                                                                 datetime.now(UTC)))
        except checkpoint.TrailBroken as exc:
            result["broken"] = exc.report
            return
        checkpoint.write(out_file, cp)
        out.print(f"checkpoint {out_file}: entry {cp.head.seq}, head {cp.head.hash}, signed "
                  f"by key {cp.key_id}", highlight=False)

    guarded(debug, body)
    if "broken" in result:
        _print_problems(result["broken"])
        raise typer.Exit(1)


@audit_app.command("verify")
def verify(
    db: DbOpt = None,
    config: ConfigOpt = None,
    checkpoints: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help="A checkpoint file from `corridor audit checkpoint` (repeatable): "
                             "fail unless its signature holds and the chain still contains "
                             "its head unchanged.")] = None,
    key: KeyOpt = None,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="A head hash published earlier: fail if the chain no longer "
                              "contains it (detects entries cut from the end).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Recompute the audit chain and compare the cycle's tables with it: exit 0 if intact, 1 if
    any entry was edited, deleted, inserted or reordered, a row was changed behind the
    service's back, or a checkpoint's head is gone or its signature does not hold."""
    result = {}

    def body() -> None:
        from corridor.service import checkpoint

        settings = _settings(config, database_url=db)
        files = [checkpoint.read(path) for path in checkpoints or []]
        path = _audit_key(settings, key)
        public_key = checkpoint.load_public_key(path) if files and path is not None else None
        result["report"] = _with_trail(settings, lambda s: checkpoint.verify(
            s, files, public_key, expect_head))

    guarded(debug, body)
    report = result["report"]
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    elif report.ok:
        held = f"; {report.checkpoints} checkpoint(s) hold" if report.checkpoints else ""
        unattested = (f" ({report.unattested_rows} predate row digests)"
                      if report.unattested_rows else "")
        out.print(f"audit trail intact: {report.entries} entries, head {report.head_hash}; "
                  f"{report.rows} rows match the log{unattested}{held}", highlight=False)
    else:
        _print_problems(report)
    raise typer.Exit(0 if report.ok else 1)
