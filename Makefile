# stockpool: `make run` and `make test` do everything on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export STOCKPOOL_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "stockpool needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/stockpool init
	@echo
	@echo "stockpool is ready; data in $(STOCKPOOL_DATA_DIR)."
	@echo "Try: $(BIN)/stockpool --help"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 --dist loadfile -q

bench: $(VENV)/.installed-dev
	@for script in benchmarks/ledger.py benchmarks/ats.py benchmarks/imports.py; do \
		echo "== $$script"; $(BIN)/python $$script $(if $(BENCH_QUICK),--quick,) || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
