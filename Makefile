# The two commands in the README: `make lab` (the main job) and `make test` (the whole suite).
# Both create the virtual environment first; nothing else needs to be installed by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: init lab test lint bench clean-sandbox

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "dbworkbench needs Python >= 3.11; set PYTHON=python3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[test]'
	@touch $(STAMP)

# Nothing is compiled: the whole package is plain Python.
init: $(STAMP)

lab: init
	$(VENV)/bin/dbworkbench lab

test: init
	$(PY) -m pytest

lint: init
	$(PY) -m pip install --quiet ruff mypy
	$(VENV)/bin/ruff check dbworkbench tests benchmarks
	$(VENV)/bin/mypy dbworkbench

bench: init
	$(PY) benchmarks/collect.py
	$(PY) benchmarks/plans.py

clean-sandbox: init
	$(VENV)/bin/dbworkbench sandbox stop
