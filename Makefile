# Two set-up commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# Torch pins for this machine live here, not in the package metadata (a GPU box may differ).
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint venv bench clean-venv

$(BIN)/segloc: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(BIN)/segloc

venv: $(BIN)/segloc

demo: venv
	$(BIN)/segloc demo

test: venv
	$(BIN)/python -m pytest -q tests

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
