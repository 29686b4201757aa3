# Developer and CI commands. `make demo` and `make test` are the whole interface (README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_RESPONSES ?= 20000

.PHONY: help venv install lock lock-upgrade system-deps system-deps-demo demo serve test pytest lint fmt \
	services-start services-stop clean

help:
	@echo "make demo    install, load the demo campaign with $(DEMO_RESPONSES) responses, render"
	@echo "             its PDF report and serve http://$(HOST):$(PORT)"
	@echo "make test    install, lint, run the tests on SQLite, then on PostgreSQL + Redis + Celery"
	@echo "make lint    ruff, ruff format --check, mypy, import-linter, alembic check"
	@echo "make fmt     ruff format and ruff check --fix"
	@echo "make lock    pin pyproject.toml's dependencies in requirements/*.txt (after editing it)"
	@echo "make lock-upgrade   the same, moving every pin to the newest allowed release"

venv install:
	scripts/venv.sh

# requirements/dev.txt and requirements/production.txt, then the venv installs the new lock.
lock:
	scripts/lock.sh
	scripts/venv.sh

lock-upgrade:
	scripts/lock.sh --upgrade
	scripts/venv.sh

system-deps:
	scripts/system-deps.sh test

system-deps-demo:
	scripts/system-deps.sh demo

# The demo runs with the development keys (a warning says so at start); production sets
# MINSHENG_SECRET_KEY and MINSHENG_PII_KEY instead (README.md, Configuration).
demo serve: export MINSHENG_DEVELOPMENT ?= true

demo: install system-deps-demo
	$(BIN)/minsheng db upgrade
	$(BIN)/minsheng demo --responses $(DEMO_RESPONSES)
	$(MAKE) --no-print-directory serve

serve:
	@echo "serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(BIN)/minsheng run --host $(HOST) --port $(PORT)

test: install system-deps
	$(MAKE) --no-print-directory lint
	scripts/test.sh

# The suites without reinstalling or linting (for a quick rerun).
pytest:
	scripts/test.sh

lint:
	scripts/lint.sh

fmt:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

services-start:
	scripts/services.sh start

services-stop:
	scripts/services.sh stop

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
