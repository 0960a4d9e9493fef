# ledgerbank: `make run` sets everything up and serves the demo bank; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dashboard]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ledgerbank db upgrade
	$(BIN)/ledgerbank demo load --if-empty
	@echo ""
	@echo "  ledgerbank: http://127.0.0.1:8000   (API docs: http://127.0.0.1:8000/docs)"
	@echo "  demo logins: alice / alice-demo-2026 (customer), admin / admin-demo-2026,"
	@echo "  auditor, analyst, manager, compliance, supervisor: <username>-demo-2026 (README.md lists all)"
	@echo "  staff also type a sign-in code: $(BIN)/ledgerbank demo totp admin  (or add the README's"
	@echo "  TOTP secret to an authenticator app)"
	@echo ""
	@echo "  the worker (standing orders, expiries, interest) runs beside the server; Ctrl-C stops both"
	@echo ""
	@# one process group: Ctrl-C reaches both; the trap stops the worker when the server ends
	$(BIN)/ledgerbank worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/ledgerbank serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/ledgerbank bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
