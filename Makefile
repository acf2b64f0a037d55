# Two commands set everything up on a fresh machine (Python 3.11 and make):
#   make demo   creates .venv, installs acctgraph, runs the demo on a synthetic world
#   make test   creates .venv, installs acctgraph with its test tools, runs lint and the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quality bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/acctgraph demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_detect.py

bench-quality: $(STAMP)
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_injection.py

bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --scales 10000 100000 1000000 10000000 --baseline-timeout 150

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
