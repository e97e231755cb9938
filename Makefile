# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean chromium postgres
PG_URL ?= postgresql://corridor:corridor@127.0.0.1:5432/corridor_test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/corridor run --periods 12

# Browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# The service tests also run against a real PostgreSQL server (Debian's package); they wipe the
# corridor_test database they are given.
postgres:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; AS_PG="runuser -u postgres --"; \
	  else SUDO=sudo; AS_PG="sudo -u postgres"; fi; \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    postgresql; }; \
	  V=$$(ls /usr/lib/postgresql | sort -n | tail -1); \
	  pg_lsclusters -h | grep -q "^$$V main" || $$SUDO pg_createcluster $$V main; \
	  $$SUDO pg_ctlcluster $$V main start >/dev/null 2>&1 || true; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done; \
	  $$AS_PG psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='corridor'" | grep -q 1 || \
	    $$AS_PG psql -qc "CREATE ROLE corridor LOGIN PASSWORD 'corridor'"; \
	  $$AS_PG psql -qtAc "SELECT 1 FROM pg_database WHERE datname='corridor_test'" | grep -q 1 || \
	    $$AS_PG createdb -O corridor corridor_test

test: $(STAMP) chromium postgres
	$(BIN)/ruff check
	CORRIDOR_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/optimizer_vs_pypsa.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
