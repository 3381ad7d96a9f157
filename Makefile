# data-ops: every target is idempotent; `demo` and `test` run `setup` themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(CURDIR)/tools/uv.sh
RUN := $(UV) run --frozen --no-sync
export DATA_OPS_LAKEHOUSE ?= $(CURDIR)/.lakehouse
MEMBERS ?= 100000
MONTHS ?= 12
REPEAT ?= 1

.PHONY: help setup demo report test lint docs docs-serve bench bench-pipeline bundle-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup:  ## install uv, the pinned Python environment, the Delta jars and Chromium (offline once done)
	@$(UV) sync --frozen --quiet --offline 2>/dev/null || $(UV) sync --frozen --quiet
	@$(RUN) python -m python_ingest.jars >/dev/null
	@bash tools/install_browser.sh || echo "setup: WARNING: no Chromium, so the docs-site browser test will fail (see above)" >&2
	@echo "setup: ok (uv $$($(UV) --version | cut -d' ' -f2), Delta jars cached in .cache/jars)"

demo: setup  ## generate data, ingest it and build silver + gold on the local target
	@$(RUN) python -m tools.demo

report: setup  ## run report of the local lakehouse: target/run_report.html (charts, runs, failures)
	@$(RUN) data-ops report --target local

test: setup  ## lint + type checks + unittest suites + local dbt build; ends with `N passed, N failed`
	@$(RUN) python -m tests.run

lint: setup  ## ruff, mypy and sqlfluff only
	@$(RUN) python -m tests.run --lint-only

docs: setup  ## dbt docs lineage site for the local target: target/index.html (+ static_index.html)
	@$(RUN) dbt docs generate --target local --static

docs-serve: docs  ## serve the dbt docs site on http://localhost:8080
	@$(RUN) dbt docs serve --target local --port 8080 --no-browser

bench: setup  ## ingestion throughput against a bare Spark write of the same files
	@$(RUN) python -m tools.bench

bench-pipeline: setup  ## time a full run of MONTHS months and a one-more-month run (MEMBERS, REPEAT)
	@$(RUN) python -m tools.bench_pipeline --members $(MEMBERS) --months $(MONTHS) --repeat $(REPEAT)

bundle-check: setup  ## offline check of the Databricks bundle: schema, references, domains, dbt, wheel
	@UV=$(UV) $(RUN) python -m tools.bundle_check

clean:  ## remove local lakehouse, dbt target and caches (keeps .venv and the jar cache)
	rm -rf .lakehouse target dbt_packages logs dist .mypy_cache .ruff_cache
