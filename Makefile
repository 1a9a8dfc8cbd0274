# Every target creates what it needs, so that a fresh clone needs only Python 3.11+ and git:
# .venv (the server plus the dev extra: tests, linters, type checker) for the development
# targets, .venv-demo (the server alone) for `make demo`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_VENV := .venv-demo
DEMO_BIN := $(DEMO_VENV)/bin
# pytest-xdist: four workers on this project's 2-core machines (most tests wait on servers,
# browsers and polls: two workers left a core idle, 6:52 against 5:11 quiet); a test file's
# tests stay on one worker (module-scoped simulators and servers start once per file).
PARALLEL := -n 4 --dist loadfile --no-loadscope-reorder -m "not figures"
FAST_TESTS := -m "not integration and not browser and not figures"

.PHONY: install demo test test-fast lint typecheck unit bench bench-quick bench-ui clean

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

# The server's own dependencies only: no test tools, no browser driver.
$(DEMO_BIN)/activate: pyproject.toml
	$(PY) -m venv $(DEMO_VENV)
	$(DEMO_BIN)/pip install -q --upgrade pip
	$(DEMO_BIN)/pip install -q -e .
	touch $(DEMO_BIN)/activate

demo: $(DEMO_BIN)/activate
	$(DEMO_BIN)/pypowerwall-server --demo

lint: install
	$(BIN)/ruff check pypowerwall_server tests benchmarks
	$(BIN)/ruff format --check pypowerwall_server tests benchmarks

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q $(PARALLEL) tests

# Lint and type check run beside the tests (they use the cores while the tests wait on
# servers); their output is shown after the tests only when they fail, so the test
# summary stays the last line of a green run.
test: install
	@checks=$$(mktemp); \
	( $(MAKE) --no-print-directory lint typecheck >"$$checks" 2>&1 ) & checks_pid=$$!; \
	$(BIN)/pytest -q $(PARALLEL) tests; tests_status=$$?; \
	wait $$checks_pid; checks_status=$$?; \
	if [ $$checks_status -ne 0 ]; then cat "$$checks"; echo "lint/typecheck failed"; fi; \
	rm -f "$$checks"; \
	[ $$tests_status -eq 0 ] && [ $$checks_status -eq 0 ]

# The edit loop: the socket-free tests (no simulator, server, broker or browser).
test-fast: install
	$(BIN)/pytest -q $(PARALLEL) $(FAST_TESTS) tests

# The browser measurements (the flow page's idle CPU, axe counts of the third-party doc pages).
bench-ui: install
	$(BIN)/pytest -q -s -m figures tests/browser

bench: install
	$(BIN)/python -m benchmarks

bench-quick: install
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) $(DEMO_VENV) .mypy_cache .pytest_cache .ruff_cache
