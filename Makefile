# The two commands of the README:
#   make run    set up everything (virtualenv, Python and npm packages, front-end bundle, database,
#               models, demo users) and start the web app on http://127.0.0.1:5000
#   make test   set up everything the tests need (also Chromium) and run the whole test suite
# Both are idempotent; a second run only redoes what changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.installed
BUNDLE := webapp/static/dist/app.js
FRONTEND := $(wildcard frontend/*.js frontend/*.mjs frontend/*.css frontend/bpmnlint-plugin-egs/*.js frontend/bpmnlint-plugin-egs/*.json frontend/bpmnlint-plugin-egs/rules/*.js) .bpmnlintrc
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_WORKERS ?= auto

.PHONY: run test lint setup browser worker clean

run: setup
	$(BIN)/egs init-db
	$(BIN)/egs deploy processes/
	$(BIN)/egs demo
	$(BIN)/egs serve --host $(HOST) --port $(PORT)

test: setup browser
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

worker: setup
	$(BIN)/egs worker

setup: $(PY_STAMP) $(BUNDLE)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(JS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BUNDLE): $(JS_STAMP) $(FRONTEND)
	npm run --silent build

browser:
	scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) node_modules webapp/static/dist
