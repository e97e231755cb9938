# Two commands do all the set-up: `make run` and `make test`.
# Every install comes from the committed lock (uv.lock) through uv, itself pinned by hash in
# tools/uv-requirements.txt: the same packages on any day. `make lock` re-resolves on purpose.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint typecheck docs lock lock-check bench clean chromium postgres
PG_URL ?= postgresql://corridor:corridor@127.0.0.1:5432/corridor_test

$(UV): tools/uv-requirements.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r tools/uv-requirements.txt
	touch $(UV)

# --locked: install exactly uv.lock, and fail if it no longer matches pyproject.toml.
$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --quiet --locked --extra test --extra docs
	touch $(STAMP)

# Re-resolve every dependency to the newest releases pyproject.toml allows (a deliberate upgrade).
lock: $(UV)
	$(UV) lock --upgrade

# Fails when uv.lock and pyproject.toml disagree (CI runs it before the tests).
lock-check: $(UV)
	$(UV) lock --check

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

test: lock-check $(STAMP) chromium postgres typecheck
	$(BIN)/ruff check
	CORRIDOR_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python -m pytest

# The public API (corridor/__init__.py and what it re-exports) type-checks strictly: [tool.mypy].
typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site, built offline into site/; warnings are errors.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP) $(UV)
	$(UV) sync --quiet --locked --extra test --extra docs --extra bench
	rm -f $(STAMP)  # the next `make run`/`make test` syncs back to the test set
	$(BIN)/python benchmarks/optimizer_vs_pypsa.py
	$(BIN)/python benchmarks/planning_vs_pypsa.py
	$(BIN)/python benchmarks/plan_bundled.py

clean:
	rm -rf $(VENV) $(TOOLS) build site src/*.egg-info .pytest_cache
