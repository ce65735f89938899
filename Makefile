# Two commands on a fresh machine (Python >= 3.10 and git): `make demo` and `make test`.
# Each creates what it needs (.venv) by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo/homedata-dashboard
PORT   ?= 8000

.PHONY: demo test lint typecheck pytest venv bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "homedeploy needs Python >= 3.10; run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(VENV)/.installed-test

# The main job on the bundled app: scaffold it into a fresh folder, check it, rehearse the
# deploy locally, then serve it on $(PORT) until Ctrl-C.
demo: venv
	rm -rf $(DEMO)
	$(BIN)/homedeploy init --example $(DEMO)
	$(BIN)/homedeploy check-reqs $(DEMO)/requirements.txt --app $(DEMO) || true
	$(BIN)/homedeploy doctor $(DEMO) --offline
	$(BIN)/homedeploy push --local $(DEMO)
	$(BIN)/homedeploy serve $(DEMO) --venv --port $(PORT)

lint: venv
	$(BIN)/ruff check homedeploy tests benchmarks example_app
	$(BIN)/ruff format --check homedeploy tests benchmarks example_app

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: venv
	$(BIN)/python benchmarks/serve_check.py
	$(BIN)/python benchmarks/doctor.py
	$(BIN)/python benchmarks/rehearsal.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache
