# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs into .venv
# from uv.lock first; nothing is installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
UV := $(VENV)/bin/uv
COMPAT_VENV := .venv-duckdb-1.2

# Prefect keeps its run history here, so `make ui` shows the runs that `make demo` made. (Usage reporting
# of dbt, Great Expectations and Prefect is switched off by the platform itself: samskab.common.settings.)
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: help install browser demo test lint bench torture ui clean

help:
	@echo "make demo   install, then run the nightly refresh once on the embedded sample"
	@echo "make test   install, then run the test suite"
	@echo "make ui     samskab serve: the Prefect UI on http://127.0.0.1:4200 and the nightly schedule, until Ctrl-C"
	@echo "make lint   ruff (Python) and sqlfluff (dbt SQL); make test runs it too"
	@echo "make browser  Chromium for the tests that open the documentation in a browser (apt-get, as root; make test runs it)"
	@echo "make torture  the proof under faults at full strength: kills at every stage, a full disk and no memory, readers against publishes, about 2,600 fuzzed inputs, canaries (a table at the end)"
	@echo "make bench  a refresh at scale 1, 10 and 100 (full, no-op, one new delivery, a corrected register, a code change, the floor, a bare dbt build), survey ingest, the analysts' commands (benchmarks/results/; the scale part about 15 minutes)"

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# Bytecode is compiled once here, on both cores, rather than by every process that first imports a module.
install: $(UV)
	$(UV) sync --frozen --inexact --quiet --compile-bytecode

# Chromium, for the tests that open the documentation in a browser with no network (tests/browser.py): installed
# with apt-get when missing (as root; 13 s on this machine, most of it unpacking 100 MB). Without root it
# stops with the command that installs it.
CHROMIUM_INSTALL := apt-get install --no-install-recommends chromium
BROWSER_LOG := .browser.log
browser:
	@command -v chromium > /dev/null && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: the tests open the documentation in Chromium, which is not installed. Install it, then run"; \
		echo "make test again:  sudo $(CHROMIUM_INSTALL)"; \
		exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; apt="apt-get -q -y -o DPkg::Lock::Timeout=120"; \
	{ $$apt install --no-install-recommends chromium || { $$apt update && $$apt install --no-install-recommends chromium; }; } \
		> $(BROWSER_LOG) 2>&1 || { cat $(BROWSER_LOG); rm -f $(BROWSER_LOG); \
		echo "make: Chromium could not be installed (apt-get's output above): $(CHROMIUM_INSTALL)"; exit 1; }; \
	rm -f $(BROWSER_LOG); echo "Chromium installed for the tests that open the documentation: $(CHROMIUM_INSTALL)"

# DuckDB 1.2 in its own environment: the tests prove the published file opens in it.
$(COMPAT_VENV)/bin/python: tests/compat/requirements.txt $(UV)
	rm -rf $(COMPAT_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(COMPAT_VENV)
	$(UV) pip install --quiet --python $(COMPAT_VENV)/bin/python --require-hashes -r tests/compat/requirements.txt

demo: install
	$(VENV)/bin/samskab sample
	$(VENV)/bin/samskab refresh

# Two workers (the machines here have two cores); a test file stays on one worker, so its module fixtures
# are built once. The refreshed sample lake and the Prefect server are shared by both (tests/conftest.py),
# and the modules run in the order tests/conftest.py gives (RUN_FIRST), not xdist's own.
#
# Chromium is installed (when missing) beside the install, not before it; the tests start once both are done.
# Lint runs beside the tests at the lowest priority, so it takes only the moments the cores would idle (the
# tests wait on servers and subprocesses): measured, lint alone takes 23 s of the machine's two cores. Its
# output follows the tests'; either failing fails `make test`.
LINT_LOG := .lint.log
test:
	$(MAKE) --no-print-directory browser & browsing=$$!; \
	$(MAKE) --no-print-directory install $(COMPAT_VENV)/bin/python; installed=$$?; \
	wait $$browsing; browsed=$$?; \
	exit $$(( installed || browsed ))
	nice -n 19 $(MAKE) --no-print-directory lint > $(LINT_LOG) 2>&1 & linting=$$!; \
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder; tested=$$?; \
	wait $$linting; linted=$$?; cat $(LINT_LOG); rm -f $(LINT_LOG); \
	if [ $$linted -ne 0 ]; then echo "make test: lint failed (above)"; fi; \
	exit $$(( tested || linted ))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models tests --config ../pyproject.toml --disable-progress-bar --nocolor --processes 0

# A measurement, not a test: it writes benchmarks/results/ and never fails on a slow machine.
bench: install
	$(VENV)/bin/python benchmarks/scale.py
	$(VENV)/bin/python benchmarks/ingest_survey.py
	$(VENV)/bin/python benchmarks/analysts.py

# The torture suite at full strength (the tests marked `torture`: tests/torture/, and the canary and markup
# searches beside the refreshes they search; `make test` runs them all with two kills, two publishes under
# readers and a few inputs per seed): every kill point, more publishes, the same fixed seed with many more
# inputs, spread over both cores (a corpus night built once: loadgroup), and a table of what was tried and
# how it ended.
TORTURE_TALLY := .torture/tally.jsonl
torture: install
	mkdir -p .torture && rm -f $(TORTURE_TALLY)
	SAMSKAB_TORTURE=1 SAMSKAB_TORTURE_TALLY=$(CURDIR)/$(TORTURE_TALLY) $(VENV)/bin/python -m pytest -n 2 --dist loadgroup \
		tests -m torture -p no:randomly --durations=5; status=$$?; \
		$(VENV)/bin/python tests/torture/report.py $(TORTURE_TALLY); exit $$status

# The Prefect UI with every run `make demo` made, and the nightly schedule running, until Ctrl-C.
ui: install
	$(VENV)/bin/samskab serve --port 4200

clean:
	rm -rf data_lake/warehouse data_lake/published .prefect
