# Frontdoor: `make run` starts the whole stack, `make test` runs the suite.
# Both create the environment first: with uv when it is installed, otherwise
# with the standard library's venv and pip from the exported lock file.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
STAMP := $(VENV)/.synced

.DEFAULT_GOAL := help
.PHONY: help env run test lint typecheck check bench-edge bench-bff exercise exercise-reset new-service lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

env: $(STAMP) ## create or update the virtual environment from the lock file

$(STAMP): pyproject.toml uv.lock requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Frontdoor needs Python 3.11 or newer; set PYTHON=python3.x")'
ifdef UV
	uv sync --frozen --all-groups
else
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
endif
	@touch $@

run: $(STAMP) ## start edge, BFFs and services on this machine (Ctrl-C stops them)
	$(PY) -m devstack

test: lint typecheck ## lint, type-check, then run every test (unit, integration, browser)
	$(PY) -m pytest

lint: $(STAMP) ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP) ## mypy --strict over code and tests
	$(PY) -m mypy

check: test ## alias of test: everything CI runs

bench-edge: $(STAMP) ## edge throughput and latency vs direct and nginx, on loopback (~4 min)
	$(PY) -m bench.edge

bench-bff: $(STAMP) ## the web BFF: fan-out latency vs its slowest call, throughput vs the services (~1 min)
	$(PY) -m bench.bff

# `make exercise 3` and `make exercise N=3` both work: the number after the goal
# becomes N, and a do-nothing target so make does not look for a file named 3.
ifneq ($(filter exercise exercise-reset,$(firstword $(MAKECMDGOALS))),)
  N ?= $(word 2,$(MAKECMDGOALS))
  ifneq ($(N),)
    $(eval $(N):;@:)
  endif
endif

exercise: $(STAMP) ## check workshop exercise N (make exercise 1); docs/workshop/
	$(PY) -m workshop check $(N)

exercise-reset: $(STAMP) ## start workshop exercise N over from a fresh copy
	$(PY) -m workshop reset $(N)

new-service: $(STAMP) ## add a domain service wired everywhere (make new-service NAME=inventory)
	$(PY) -m scaffold $(NAME)

lock: ## refresh uv.lock and the pip fallback's requirements.lock (needs uv)
	uv lock
	uv export --frozen --no-emit-project --all-groups --format requirements-txt -o requirements.lock

clean: ## remove the environment and local state (certificates, databases, keys)
	rm -rf $(VENV) .state .mypy_cache .ruff_cache .pytest_cache
