"""Set-up: migrations match the models and go up and down, settings come from a file and the
environment, `corridor serve` reports a bad database clearly, the demo seed is complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Env
from typer.testing import CliRunner

from corridor.cli.service_commands import app
from corridor.service import demo
from corridor.service.config import ServiceSettings, load_settings


def test_migrations_match_the_models_and_go_down_and_up(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    from corridor.service.db import Base
    from corridor.service.migrations import downgrade, upgrade

    url = ServiceSettings(database_url=database_url).database_url
    engine = create_engine(url)
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []
    downgrade(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert "audit_log" in inspect(engine).get_table_names()
    engine.dispose()


def test_settings_from_file_then_environment(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "service.toml"
    config.write_text('database_url = "postgresql://u:p@db.example/corridor"\nport = 9000\n'
                      'allocation_rule = "firm_first"\nmembers = ["ru", "kz"]\n')
    monkeypatch.setenv("CORRIDOR_SERVICE_CONFIG", str(config))
    monkeypatch.setenv("CORRIDOR_SERVICE_PORT", "9100")
    s = load_settings()
    assert s.database_url == "postgresql+psycopg://u:p@db.example/corridor"
    assert s.port == 9100 and s.allocation_rule == "firm_first" and s.members == ["RU", "KZ"]
    assert load_settings(port=9200).port == 9200  # command-line options win
    monkeypatch.setenv("CORRIDOR_SERVICE_ALLOCATION_RULE", "lottery")
    with pytest.raises(ValueError, match="allocation_rule"):
        load_settings()


def test_default_database_is_a_sqlite_file_in_the_data_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CORRIDOR_SERVICE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("CORRIDOR_SERVICE_DATABASE_URL", raising=False)
    s = load_settings()
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("service.db")
    assert s.host == "127.0.0.1" and s.port == 8000


def test_serve_reports_a_bad_database_clearly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CORRIDOR_SERVICE_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(app, ["serve", "--db", "postgresql://u:p@127.0.0.1:9/nothing",
                                      "--port", "8999"])
    assert result.exit_code == 2
    assert "cannot open or migrate the database" in result.stderr
    assert ":p@" not in result.stderr  # no password in messages
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_demo_seed(database_url: str) -> None:
    from corridor.service.db import Database

    settings = ServiceSettings(database_url=database_url)
    db = Database(settings.database_url)
    now = datetime.now(UTC)
    assert demo.seed(db, settings, now) is True
    assert demo.seed(db, settings, now) is False  # only into an empty database
    db.dispose()
    env = Env.__new__(Env)  # reuse the client helpers on the seeded database
    from fastapi.testclient import TestClient

    from corridor.service.api import create_app

    env.settings, env._tokens = settings, {}
    env.db = Database(settings.database_url)
    env.app = create_app(settings, env.db)
    env.client = TestClient(env.app, base_url="http://127.0.0.1").__enter__()
    try:
        points = env.call("secretariat", "GET", "/api/points").json()
        assert {"G05", "G08", "G44", "G47", "G39-R"} <= {p["point"] for p in points}
        assert {p["kind"] for p in env.call("secretariat", "GET", "/api/parties").json()} == {
            "secretariat", "regulator", "operator", "shipper"}
        cycle = env.call("secretariat", "GET", "/api/cycle").json()
        past = (datetime.fromisoformat(cycle["current_gas_day"]) - timedelta(days=1)).date()
        check = env.call("regulator", "GET", f"/api/gas-days/{past}/check").json()
        assert check["status"] == "feasible"
        assert env.call("shipper-b", "GET", f"/api/gas-days/{past}/imbalances").json()
        upcoming = env.call("secretariat", "GET",
                            f"/api/nominations?gas_day={cycle['next_open_gas_day']}").json()
        assert len(upcoming) == 3
        assert env.call("secretariat", "GET", "/api/audit/verify").json()["ok"]
    finally:
        env.close()


def test_openapi_documents_the_api(env: Env) -> None:
    spec = env.client.get("/openapi.json").json()
    assert "/api/nominations" in spec["paths"] and "/api/gas-days/{gas_day}/close" in spec["paths"]
    docs = env.client.get("/docs")
    assert docs.status_code == 200
    assert "http" not in docs.text.replace("http-equiv", "")  # every asset is served locally
    for asset in ("/static/swagger-ui-bundle.js", "/static/swagger-ui.css"):
        assert asset in docs.text and env.client.get(asset).status_code == 200


def test_scenario_runs_for_analysts(env: Env) -> None:
    from corridor.optimize import optimize
    from corridor.service.feasibility import load_network
    from corridor.store import Store

    with Store() as store:  # the per-test store of tests/conftest.py
        run_id = store.save(optimize(load_network("central-asia"), 1), "base")
    runs = env.call("operator-uz", "GET", "/api/runs").json()
    assert [r["run_id"] for r in runs] == [run_id]
    env.client.cookies.set("corridor_token", env.token("secretariat"))
    try:
        page = env.client.get("/dashboard").text
        assert f"/runs/{run_id}/report" in page
        report = env.client.get(f"/runs/{run_id}/report")
        assert report.status_code == 200 and "PlotlyGeoAssets" in report.text
        env.client.cookies.set("corridor_token", env.token("shipper-a"))
        assert env.client.get(f"/runs/{run_id}/report").status_code == 403
    finally:
        env.client.cookies.clear()


def test_serve_creates_the_data_folder_of_a_new_sqlite_file(tmp_path) -> None:
    from corridor.service.migrations import upgrade

    path = tmp_path / "not" / "yet" / "there" / "service.db"
    upgrade(f"sqlite:///{path}")
    assert path.is_file()
