# The two commands of the README: `make run` (set up, load the samples, serve on :8080) and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
BENCH_ARGS ?=

.PHONY: run test setup setup-test lint bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup:
	sh scripts/system-packages.sh run
	$(MAKE) --no-print-directory $(VENV)/.installed

setup-test:
	sh scripts/system-packages.sh test
	$(MAKE) --no-print-directory $(VENV)/.installed

run: setup
	$(BIN)/hub init --samples
	$(BIN)/hub serve --host $(HOST) --port $(PORT)

serve:
	$(BIN)/hub serve --host $(HOST) --port $(PORT)

lint:
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

test: setup-test lint
	$(BIN)/pytest -n 2 -q

bench:
	sh scripts/system-packages.sh bench
	$(MAKE) --no-print-directory $(VENV)/.installed
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf hub.db hub.db-* hub-audit.db hub-audit.db-* storage artifacts .pytest_cache
