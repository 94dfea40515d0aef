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

# Creates the store, writes the demo brand into it when it is empty, keeps an admin key in
# $(STOCKPOOL_DATA_DIR)/admin-key and serves the API on 127.0.0.1:$(PORT).
run: $(VENV)/.installed
	$(BIN)/stockpool demo run --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 --dist loadfile -q

# Every script in benchmarks/ (BENCH_QUICK=1 for short runs), then benchmarks/RESULTS.md.
bench: $(VENV)/.installed-dev
	@out=$$(mktemp -d); \
	for script in $(filter-out benchmarks/report.py,$(wildcard benchmarks/*.py)); do \
		echo "== $$script"; \
		$(BIN)/python $$script $(if $(BENCH_QUICK),--quick,) | tee $$out/$$(basename $$script .py).log \
			|| exit 1; \
	done; \
	$(BIN)/python benchmarks/report.py $$out $(if $(BENCH_QUICK),--quick,) > benchmarks/RESULTS.md \
		&& rm -rf $$out && echo "wrote benchmarks/RESULTS.md"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
