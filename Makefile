# Two commands on a fresh machine (Python >= 3.10 and git): `make demo` and `make test`.
# Each creates what it needs (.venv) by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Outside this checkout: the demo app gets its own git repository.
DEMO   ?= $(or $(TMPDIR),/tmp)/homedeploy-demo
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

# What the demo needs: homedeploy itself (not the linters, type checker or browser driver).
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# The main job on the bundled app: scaffold it into a fresh folder (with its own .venv),
# check its requirements for Heroku, run doctor, rehearse the deploy from the commit like a
# dyno would, then serve it on $(PORT) until Ctrl-C. `make demo PORT=8001` if 8000 is taken.
demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/homedeploy init --example --venv $(DEMO)
	$(BIN)/homedeploy check-reqs $(DEMO)
	$(BIN)/homedeploy doctor $(DEMO)
	$(BIN)/homedeploy push --local $(DEMO)
	@echo "To deploy for real: HEROKU_API_KEY=... $(abspath $(BIN))/homedeploy push $(DEMO) --create -a NAME"
	@echo "To serve it again later: $(abspath $(BIN))/homedeploy serve $(DEMO) --port $(PORT)"
	$(BIN)/homedeploy serve $(DEMO) --port $(PORT)

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
	$(BIN)/python benchmarks/check_reqs.py
	$(BIN)/python benchmarks/example_app.py --prebuilt

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache
