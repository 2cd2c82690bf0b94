# Fileflow: the front door. `make up` runs it locally, `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON313 ?= $(shell tools/find-python313)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
export FILEFLOW_STACK_NAME ?= Fileflow
export AWS_DEFAULT_REGION ?= us-east-1
# the pinned CDK CLI still runs on Node 20; silence its end-of-life banner
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

# --- set-up ----------------------------------------------------------------------------------------
.PHONY: prereqs
prereqs: ## check Python 3.13 and Node 20+ are there
	@test -n "$(PYTHON313)" || { echo "error: Python 3.13 is required but none was found. Install it (pyenv install 3.13) or run: make PYTHON313=/path/to/python3.13 ..." >&2; exit 2; }
	@command -v node >/dev/null || { echo "error: Node.js 20+ is required (for the CDK CLI) but 'node' is not on PATH. Install Node 20 (https://nodejs.org or your package manager)." >&2; exit 2; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "error: Node.js 20+ is required, found $$(node --version)." >&2; exit 2; }
	@command -v npm >/dev/null || { echo "error: npm is required (it comes with Node.js) but is not on PATH." >&2; exit 2; }

$(VENV)/.installed: requirements-dev.txt | prereqs
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v 'is ignored: it is neither' >&2)
	@touch $@

node_modules/.installed: package.json package-lock.json | prereqs
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: $(VENV)/.installed node_modules/.installed ## create the venv and install the pinned npm CLIs

.PHONY: layers
layers: $(VENV)/.installed node_modules/.installed ## build the Lambda layers (manylinux wheels, CPython 3.13 x86_64; the web page)
	$(PY) layers/build.py

# --- the local cloud -------------------------------------------------------------------------------
.PHONY: localstack
localstack: prereqs ## start LocalStack on this host (or use the one already on :4566)
	PYTHON313=$(PYTHON313) $(PYTHON313) tools/localcloud.py start

.PHONY: localstack-stop
localstack-stop: ## stop the LocalStack that `make localstack` started
	@$(or $(PYTHON313),python3) tools/localcloud.py stop

.PHONY: deploy
deploy: deps layers ## deploy (or update) the stack on the local cloud; CDK context: CONTEXT="key=value ..."
	$(PY) -m tools.deploy up $(foreach item,$(CONTEXT),--context $(item))

.PHONY: up
up: deps layers localstack deploy ## everything: venvs, npm, layers, local cloud, deploy; prints the URLs

.PHONY: down
down: ## remove the stack and stop what `make up` started
	@if [ -x $(PY) ] && $(or $(PYTHON313),python3) tools/localcloud.py status >/dev/null 2>&1; then $(PY) -m tools.deploy down; fi
	@$(MAKE) --no-print-directory localstack-stop

.PHONY: outputs
outputs: $(VENV)/.installed ## print the deployed stack's outputs
	@$(PY) -m tools.deploy outputs

.PHONY: token
token: $(VENV)/.installed ## print a JWT for the deployed stack: make token USER=alice [TTL=3600] [AUDIENCE=fileflow-api] [ROLES=reviewer]
	@PYTHONPATH=functions/common $(PY) -m tools.token "$(USER)" $(if $(TTL),--ttl $(TTL)) $(if $(AUDIENCE),--audience $(AUDIENCE)) $(if $(ROLES),--roles $(ROLES))

.PHONY: pipeline-docs
pipeline-docs: $(VENV)/.installed ## regenerate docs/pipeline.asl.json and the workflow diagrams in README.md and docs/processing.md
	$(PY) -m tools.export_pipeline

.PHONY: events
events: $(VENV)/.installed ## regenerate the API's sample events, events/api/*.json, from docs/openapi.json (a unit test checks them)
	$(PY) -m tools.sample_events

.PHONY: openapi
openapi: $(VENV)/.installed ## regenerate docs/openapi.json from the API's routes (a unit test checks it)
	$(PY) -m tools.export_openapi

# --- quality and tests -----------------------------------------------------------------------------
.PHONY: lint
lint: $(VENV)/.installed ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: $(VENV)/.installed ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: typecheck
typecheck: $(VENV)/.installed ## mypy (strict)
	$(VENV)/bin/mypy

.PHONY: test-unit
test-unit: $(VENV)/.installed ## unit tests: no network, fakes
	$(PYTEST) tests/unit -q

.PHONY: test-infra
test-infra: deps layers ## CDK assertions and cdk-nag
	$(PYTEST) tests/infra -q

.PHONY: test-integration
test-integration: $(VENV)/.installed ## handlers in-process against moto (two workers: each test has its own mock cloud)
	$(PYTEST) tests/integration -q -n 2

.PHONY: test-e2e
test-e2e: deps layers prereqs ## the deployed stack on the local cloud (starts and deploys it if needed)
	PYTHON313=$(PYTHON313) $(PYTEST) tests/e2e -q

.PHONY: test-reliability
test-reliability: deps layers prereqs ## issue #9's reliability suite (in-process and on the local cloud: the whole hostile corpus); prints its figures
	@rm -rf .fileflow/reliability
	@# The figures are printed whatever failed (a failing run is when they matter); the exit status says it.
	$(PYTEST) tests/integration -q -n 2 -m reliability; inprocess=$$?; \
	PYTHON313=$(PYTHON313) FILEFLOW_CORPUS=full FILEFLOW_LOAD_UPLOADS=100 FILEFLOW_LOAD_ROUNDS=3 $(PYTEST) tests/e2e -q -m reliability; deployed=$$?; \
	$(PY) -m tests.reliability.report; \
	test $$inprocess -eq 0 && test $$deployed -eq 0

.PHONY: chromium
chromium: ## Debian's Chromium for the browser tests (installed if missing; needs root, as on dev machines and CI)
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

.PHONY: test-browser
test-browser: deps layers prereqs chromium ## the upload page in headless Chromium against the deployed stack
	PYTHON313=$(PYTHON313) $(PYTEST) tests/browser -q

.PHONY: test-cloud
test-cloud: deps layers prereqs chromium ## e2e, then browser, on one local cloud (started if none answers) and one deploy
	@PY=$(PY) PYTHON313=$(PYTHON313) tools/test-suite cloud

.PHONY: test
test: prereqs chromium ## the whole suite: ruff, mypy, unit and infra side by side, integration, while the local cloud comes up; then e2e, browser
	@$(MAKE) --no-print-directory -j2 --output-sync=target deps layers
	@PY=$(PY) PYTHON313=$(PYTHON313) tools/test-suite all

# --- operating the deployed stack (tools/ops; docs/runbooks/) --------------------------------------
.PHONY: invoke
invoke: $(VENV)/.installed ## invoke a deployed function with sample events: make invoke FN=stage-image EVENT=events/stage-image/png.json [FILE=<file id>] [JSON=1]
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=\"<file in events/> ...\" [FILE=<file id>]" >&2; exit 2; }
	PYTHONPATH=functions/common $(PY) -m tools.ops invoke $(FN) $(EVENT) $(if $(FILE),--file $(FILE)) $(if $(JSON),--json)

.PHONY: logs
logs: $(VENV)/.installed ## a function's log lines: make logs FN=api [SINCE=10m] [FOLLOW=1]
	@test -n "$(FN)" || { echo "usage: make logs FN=<function> [SINCE=10m] [FOLLOW=1]" >&2; exit 2; }
	$(PY) -m tools.ops logs $(FN) --since $(or $(SINCE),10m) $(if $(FOLLOW),--follow)

.PHONY: metrics
metrics: $(VENV)/.installed ## the latest value of each Fileflow metric, from the functions' EMF records [SINCE=1d]
	$(PY) -m tools.ops metrics --since $(or $(SINCE),1d)

.PHONY: executions
executions: $(VENV)/.installed ## recent workflow runs: status and duration
	$(PY) -m tools.ops executions

.PHONY: trace
trace: $(VENV)/.installed ## one file's whole path in time order: make trace FILE=<file id>
	@test -n "$(FILE)" || { echo "usage: make trace FILE=<file id>" >&2; exit 2; }
	$(PY) -m tools.ops trace $(FILE) --since $(or $(SINCE),1d)

.PHONY: synth
synth: deps layers ## synthesize the template into cdk.out/ with cdk-nag's AwsSolutions checks (fails on an unsuppressed finding)
	node_modules/.bin/cdk synth --quiet -c nag=true

.PHONY: client-docs
client-docs: $(VENV)/.installed ## rewrite the SDK reference in docs/client.md from the package's docstrings
	$(PY) -m tools.client_reference

.PHONY: redrive
redrive: $(VENV)/.installed ## after a fix: move the processing DLQ's messages back to the queue (FILEFLOW_STACK_NAME)
	$(PY) -m tools.redrive

# --- benchmarks (not part of `make test`) ----------------------------------------------------------
.PHONY: bench-upload
bench-upload: $(VENV)/.installed ## upload MB/s: the SDK's path vs boto3 upload_file, same S3 [BENCH_ARGS="--size-mib 256 --concurrency 8 --runs 3"]
	PYTHONPATH=client:functions/common $(PY) -m bench.upload_throughput $(BENCH_ARGS)

.PHONY: bench-pipeline
bench-pipeline: $(VENV)/.installed ## the processing workflow on the deployed stack: 5 MB JPEG latency, a burst, per-stage time [BENCH_ARGS="--jpegs 10 --burst 100"]
	PYTHONPATH=functions/common $(PY) -m bench.pipeline $(BENCH_ARGS)

.PHONY: bench-priority
bench-priority: $(VENV)/.installed ## priority lanes on the deployed stack: 50 priority-1 files, then one priority-9; how many end after it [BENCH_ARGS="--burst 50 --rounds 1"]
	PYTHONPATH=functions/common $(PY) -m bench.priority $(BENCH_ARGS)

.PHONY: bench-auth
bench-auth: $(VENV)/.installed ## auth cost: POST /v1/upload-tokens vs GET /health, verify vs bare jwt.decode [BENCH_ARGS="--requests 200"]
	PYTHONPATH=functions/common $(PY) -m bench.auth_overhead $(BENCH_ARGS)

.PHONY: bench-api
bench-api: $(VENV)/.installed ## the upload API's p50/p95/p99 per route under 100 concurrent uploads vs one client, on the deployed stack [BENCH_ARGS="--uploads 100 --rounds 2"]
	PYTHONPATH=functions/common $(PY) -m bench.api_concurrency $(BENCH_ARGS)

.PHONY: bench-cold-start
bench-cold-start: $(VENV)/.installed ## the API function's cold start as a whole process vs a bare Powertools handler, and its import profile [BENCH_ARGS="--runs 10"; --offline: no stack needed]
	PYTHONPATH=functions/common $(PY) -m bench.cold_start $(BENCH_ARGS)

.PHONY: bench-ai
bench-ai: $(VENV)/.installed ## Claude calls and cost for 100 mixed files: routing policy + cache vs Claude for every file, per 1,000 files (emulator) [BENCH_ARGS="--files 100 --seed 11"]
	PYTHONPATH=functions/common:functions/stages POWERTOOLS_METRICS_DISABLED=true POWERTOOLS_METRICS_NAMESPACE=FileflowBench POWERTOOLS_LOG_LEVEL=WARNING $(PY) -m bench.ai_cost $(BENCH_ARGS)

.PHONY: bench-analysis
bench-analysis: $(VENV)/.installed ## local analysis ms per image and per page vs Pillow / imagehash / split() [BENCH_ARGS="--rounds 5"]
	@$(PY) -m pip show --quiet imagehash >/dev/null 2>&1 || $(PY) -m pip install --quiet --disable-pip-version-check imagehash==4.3.2
	PYTHONPATH=functions/common:functions/stages $(PY) -m bench.analysis $(BENCH_ARGS)

.PHONY: bench-images
bench-images: $(VENV)/.installed ## images/s: our image pipeline vs naive Pillow vs libvips [BENCH_ARGS="--rounds 3"]
	@ldconfig -p | grep -q libvips.so || (apt-get update && apt-get install -y libvips42) || echo "warning: libvips could not be installed: comparing with naive Pillow only" >&2
	PYTHONPATH=functions/common:functions/stages $(PY) -m bench.image_pipeline $(BENCH_ARGS)

.PHONY: bench-cost
bench-cost: $(VENV)/.installed ## AWS cost per million files of each kind and per million API requests, measured on the deployed stack; writes docs/cost.md [BENCH_ARGS="--files 2"]
	PYTHONPATH=functions/common $(PY) -m bench.cost $(BENCH_ARGS)

.PHONY: bench
bench: $(VENV)/.installed ## every benchmark, then the README's results table [ONLY="bench-auth bench-cost"]
	$(PY) -m bench.run_all $(if $(ONLY),--only $(ONLY))
