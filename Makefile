# `make demo` and `make test` are the two commands a newcomer needs (see README.md).
# Nothing here names a machine path: the virtual environment is made by whichever `python3`
# is first on PATH (or `make PY=/path/to/python`), and a .venv copied from elsewhere, whose
# interpreter no longer runs, is made anew.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN := $(BIN)/python -m hazard_rules

.PHONY: demo test report hygiene lint typecheck unit bench docs clean venv fuzz

venv:
	@if ! $(BIN)/python -c "" >/dev/null 2>&1; then \
		rm -rf $(VENV); \
		$(PY) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; \
	fi

$(STAMP): pyproject.toml | venv
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@echo "== hazard-rules check examples/export (as of 2026-01-15) =="
	@$(RUN) check examples/export --pack baoshan-2024 --pack gm-2023 --pack chem-2017 --pack gas-2023 \
		--pack construction-2024 --pack mem-16 \
		--as-of 2026-01-15 --show-unmapped; rc=$$?; \
		if [ $$rc -gt 1 ]; then exit $$rc; fi; \
		echo "(exit code $$rc: 1 means violations were found, as intended in this example)"

# the example's 督查考核 report, to hand on (reports/ is git-ignored)
REPORT_ARGS := examples/export --as-of 2026-01-15 --waivers examples/waivers.yaml
report: $(STAMP)
	@mkdir -p reports
	$(RUN) report $(REPORT_ARGS) -o reports/report.html
	$(RUN) report $(REPORT_ARGS) -o reports/report.xlsx

# a generated or environment file tracked by git fails the build (tools/check_tracked.py)
hygiene:
	@$(PY) tools/check_tracked.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy src/hazard_rules

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: hygiene lint typecheck unit

# the fuzzing suite at full size: at least 10,000 hostile inputs (CI runs 2,000 of them)
fuzz: $(STAMP)
	HAZARD_RULES_FUZZ=fuzz $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py

docs: $(STAMP)
	$(BIN)/python -c "from hazard_rules.diagnostics import render_markdown as r; print(r(), end='')" > docs/diagnostics.md

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
