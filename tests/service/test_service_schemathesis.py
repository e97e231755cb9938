"""Schemathesis fuzzes the API from its own OpenAPI document, in process (ASGI, no network), as
every role: no request may get a server error, and every response must be one the document
describes (status code, content type, headers, body schema).

Each operation gets `EXAMPLES` schema-valid and `EXAMPLES` schema-invalid requests per role, from
a fixed seed (derandomized), on SQLite: a few thousand requests in well under two minutes on the
project's 2-core machine. The number of cases run is printed (`-s`) and checked to be non-zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from conftest import NOW, OPEN_DAY, Env, fresh_database
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 10
ROLES = ["secretariat", "regulator", "operator-kz", "shipper-a", None]  # None: no token
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# the feasibility check solves an LP, a login hashes a password: fewer examples there
SLOW = {("POST", "/api/gas-days/{gas_day}/check"), ("POST", "/api/gas-days/{gas_day}/close"),
        ("POST", "/api/auth/token")}  # Argon2 on every try
PUBLIC = {("GET", "/api/health"), ("POST", "/api/auth/token")}


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory) -> Iterator[Env]:
    """A service with some of everything: nominations, confirmations, a closed, checked and
    metered day. Schemathesis' ASGI client sends `Host: testserver`, which this test service
    is told to answer."""
    env = Env(fresh_database("sqlite", tmp_path_factory.mktemp("fuzz")),
              allowed_hosts=["testserver", "127.0.0.1"])
    past = NOW.date().replace(day=8)
    env.clock.now = NOW.replace(day=7)
    n = env.nominate("shipper-a", "G47", 10.0, past)
    env.confirm("operator-kz", n["id"])
    env.confirm("operator-ru", n["id"])
    env.clock.now = NOW.replace(day=9)
    assert env.call("secretariat", "POST", f"/api/gas-days/{past}/close").status_code == 200
    assert env.call("operator-kz", "PUT", f"/api/gas-days/{past}/measurements/G47",
                    {"quantity": 9.5}).status_code == 200
    env.clock.now = NOW
    env.nominate("shipper-a", "G08", 5.0, OPEN_DAY)
    for role in ROLES:  # log in before fuzzing the login throttles this client
        env.headers(role)
    yield env
    env.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_env: Env):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return schemathesis.openapi.from_asgi("/openapi.json", fuzz_env.app)


def _fuzz(operation, mode, examples: int, headers: dict, ran: dict, failures: list) -> None:
    """Run `examples` cases of one operation in one generation mode, collecting failures."""

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        ran[operation.label] = ran.get(operation.label, 0) + 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - collected, reported together
            failures.append(f"{operation.label} [{mode}]: {exc}"[:2000])

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        assert mode == GenerationMode.NEGATIVE, operation.label


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_api_conforms_to_its_openapi_document(fuzz_env: Env, api_schema, role) -> None:
    headers = fuzz_env.headers(role)
    ran: dict[str, int] = {}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # logging out revokes the role's token: last; the public operations: once, anonymously
    operations.sort(key=lambda op: op.path == "/api/auth/logout")
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        if role is not None and key in PUBLIC:
            continue
        examples = 3 if key in SLOW else EXAMPLES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, examples, headers, ran, failures)
    total = sum(ran.values())
    print(f"\nschemathesis as {role or 'anonymous'}: {total} cases over {len(ran)} operations")
    assert total > 0 and len(ran) >= len(operations) - len(PUBLIC)
    assert not failures, "\n\n".join(failures[:10])
