# Every target creates/uses .venv so that a fresh clone needs only Python 3.11+ and git.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint typecheck unit bench bench-quick clean

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

demo: install
	$(BIN)/pypowerwall-server --demo

lint: install
	$(BIN)/ruff check pypowerwall_server tests benchmarks
	$(BIN)/ruff format --check pypowerwall_server tests benchmarks

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q tests

test: lint typecheck unit

bench: install
	$(BIN)/python -m benchmarks

bench-quick: install
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
