# Tandem: `make run` starts the whole help desk, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python >= 3.12 found: $PYTHON if set, then on PATH (python3.14 ... python3),
# then pyenv's versions, then one uv manages (as .ci/run looks).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
	$$(command -v uv >/dev/null 2>&1 && uv python find '>=3.12' 2>/dev/null); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What mypy checks (`make typecheck`, and `make lint` with LINT_TYPES=1).
MYPY_PATHS := helpdesk audit accounts tickets kb portal metrics service feedback importer privacy assist webhooks bench demo
# 1: `make lint` (hence .ci/run) fails on any mypy error too. The default becomes 1 once
# the last errors are fixed (`LINT_TYPES=1 make lint` tries it meanwhile).
LINT_TYPES ?= 0

.PHONY: help run test test-fast test-browser bench lint format typecheck migrate messages shell clean which-python

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Tandem needs Python 3.12 or newer: none on PATH, in pyenv or uv (set PYTHON=/path/to/python3.12)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## Start the whole help desk (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set)
	$(BIN)/python -m helpdesk.launcher run

test: $(STAMP) ## Run the whole test suite (unit, integration, browser) in two processes
	$(BIN)/python -m helpdesk.launcher test

test-fast: $(STAMP) ## Run the unit tests only (no browser, no mail servers)
	$(BIN)/python -m helpdesk.launcher test -- -n 2 -m "not e2e and not integration"

bench: $(STAMP) ## Seed large data and print p50/p95 timings (see docs/benchmarks.md)
	$(BIN)/python -m helpdesk.launcher bench

lint: $(STAMP) ## ruff lint and format check, the architecture's import contracts (docs/architecture.md), mypy with LINT_TYPES=1
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
ifeq ($(LINT_TYPES),1)
	$(BIN)/mypy $(MYPY_PATHS)
endif

format: $(STAMP) ## Apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy with django-stubs
	$(BIN)/python -m helpdesk.launcher manage -- check
	$(BIN)/mypy $(MYPY_PATHS)

migrate: $(STAMP) ## Apply database migrations
	$(BIN)/python -m helpdesk.launcher manage -- migrate

messages: $(STAMP) ## Update locale/*/django.po from the marked strings and compile the .mo (needs GNU gettext; docs/i18n.md)
	$(BIN)/python manage.py makemessages -l de -l fr -l es --no-obsolete --ignore='.venv/*' --ignore='tests/*' --ignore='var/*' --ignore='bench/*'
	$(BIN)/python manage.py compilemessages --ignore='.venv/*'

shell: $(STAMP) ## Django shell against the same database as `make run`
	$(BIN)/python -m helpdesk.launcher manage -- shell

clean: ## Remove the virtualenv and all local data under var/
	rm -rf $(VENV) var

which-python: ## Print the Python this Makefile uses
	@echo "$(PYTHON)"
