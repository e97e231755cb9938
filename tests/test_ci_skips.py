"""The CI hook of tests/conftest.py: under CI=true a skipped browser or PostgreSQL test fails the
run; elsewhere it stays a skip, and so does any other skip."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INNER = """
import pytest

@pytest.mark.browser
def test_browser_missing():
    pytest.skip("chromium is not installed")

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request):
    if request.param == "postgresql":
        pytest.skip("set CORRIDOR_TEST_POSTGRES_URL")
    return request.param

def test_database(backend):
    assert backend == "sqlite"

@pytest.mark.browser
def test_browser_present():
    pass

def test_optional_extra():
    pytest.skip("an optional extra is missing")

@pytest.mark.browser
@pytest.mark.xfail(reason="known bug")
def test_browser_known_bug():
    assert False
"""
MARKERS = """
[pytest]
markers =
    browser: needs Chromium
    postgres: needs PostgreSQL
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A throw-away test folder with the real tests/conftest.py and the file above."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makeini(MARKERS)
    pytester.makepyfile(test_inner=INNER)
    return pytester


def test_marked_skips_fail_under_ci(inner: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = inner.runpytest("-rA", "--strict-markers")
    # a skip in the test fails it; a skip in a fixture's setup is an error; the rest as usual
    result.assert_outcomes(passed=2, failed=1, errors=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([  # the short summary, in pytest's order
        "SKIPPED*an optional extra is missing",
        "ERROR test_inner.py::test_database[[]postgresql[]] - postgres test skipped under "
        "CI=true, where it must run: set CORRIDOR_TEST_POSTGRES_URL",
        "FAILED test_inner.py::test_browser_missing - browser test skipped under CI=true, "
        "where it must run: chromium is not installed",
    ])


@pytest.mark.parametrize("ci", [None, "false", "1"])
def test_marked_skips_stay_skips_outside_ci(inner: pytest.Pytester, monkeypatch, ci) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = inner.runpytest("-rs", "--strict-markers")
    result.assert_outcomes(passed=2, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*SKIPPED*chromium is not installed*"])
