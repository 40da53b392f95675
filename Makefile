# The whole contributor interface: demo, test, lint, bench. Each target refreshes .venv itself:
# `demo` needs only the runtime packages; the others add the dev tools (pytest, Spark, Playwright …).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(DEV) $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/eigyo demo --out demo-output

test: $(DEV)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(DEV)
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) demo-output
