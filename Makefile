# `make demo` and `make test` are the two commands a newcomer needs (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@echo "== hazard-rules check examples/export (as of 2026-01-15) =="
	@$(BIN)/hazard-rules check examples/export --pack baoshan-2024 --pack gm-2023 --pack chem-2017 --pack mem-16 \
		--as-of 2026-01-15 --show-unmapped; rc=$$?; \
		if [ $$rc -gt 1 ]; then exit $$rc; fi; \
		echo "(exit code $$rc: 1 means violations were found, as intended in this example)"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src/hazard_rules

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

docs: $(STAMP)
	$(BIN)/python -c "from hazard_rules.diagnostics import render_markdown as r; print(r(), end='')" > docs/diagnostics.md

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
