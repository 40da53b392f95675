# The whole contributor interface: demo, test, lint, bench. Each target refreshes .venv itself:
# `demo` needs only the runtime packages; the others add the dev tools (pytest, Spark, Playwright …).
# Every install is held to the exact versions of constraints.txt; `make constraints` refreshes it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
CONSTRAINTS := constraints.txt

.PHONY: demo test lint audit bench clean constraints

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	touch $(DEV) $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/eigyo demo --out demo-output

# two workers (pytest-xdist); each test file stays on one worker, the Spark files share one
TEST_WORKERS ?= 2

test: $(DEV)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup --durations=25

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# known vulnerabilities in the pinned dependencies (constraints.txt), with pip-audit in its own venv
audit:
	bash scripts/audit.sh

bench: $(DEV)
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) demo-output

# Newest versions pyproject.toml allows, in a fresh environment, written down as the new pins;
# run `make test lint` afterwards and commit constraints.txt only when both pass.
constraints:
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	{ sed -n '1,2p' $(CONSTRAINTS); $(BIN)/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	touch $(DEV) $(RUNTIME)
