# The two commands of the README's quick start: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test bench perf quality lint

serve: $(VENV)/.runtime
	$(BIN)/lookalike serve

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	sh tests/install_chromium.sh
	$(BIN)/python -m tests.acceptance.node_sdk  # from npm, before the tests' network namespace shuts it out
	sh tests/private_network.sh $(BIN)/pytest -q --durations=10

bench: $(VENV)/.dev
	$(BIN)/python bench/bench_http.py

perf: $(VENV)/.dev
	$(BIN)/python bench/bench_perf.py $(PERF_ARGS)

quality: $(VENV)/.dev
	$(BIN)/python bench/bench_quality.py

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.runtime
