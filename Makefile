# Two commands: `make run` (set up and serve with demo data) and `make test`.
# With DATABASE_URL / REDIS_URL in the environment the same targets use PostgreSQL and Redis.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install run migrate seed test e2e lint format bench worker clean

help:
	@echo "make run    - create .venv, install, migrate, seed demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   - run the test suite (not the browser tests)"
	@echo "make e2e    - run the browser tests in headless Chromium"
	@echo "make fuzz   - fuzz every API operation longer, with a random seed (schemathesis)"
	@echo "make lint   - ruff check, ruff format --check, mypy, bandit, missing migrations"
	@echo "make bench  - seed a large data set and write figures to bench/results/"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/ (HTTP and websockets from one ASGI process; Ctrl-C to stop)"
	$(BIN)/uvicorn marketplace.asgi:application --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/celery -A marketplace worker -l info --concurrency 2

test: install
	$(BIN)/pytest -m "not e2e" -n 2 $(PYTEST_ARGS)

e2e: install tests/e2e/node_modules/.installed
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

# A longer API fuzzing run with a new random seed each time (CI runs 50 examples per
# operation with a fixed seed inside `make test`). FUZZ_EXAMPLES=2000 make fuzz for more.
FUZZ_EXAMPLES ?= 500
.PHONY: fuzz
fuzz: install
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -m fuzz tests/api -n 2 $(PYTEST_ARGS)

# axe-core for the accessibility browser test, from the npm registry (pinned in the lock file)
tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --silent
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/bandit -c pyproject.toml -r . -q --severity-level medium
	DATABASE_URL=sqlite:///:memory: DJANGO_SETTINGS_MODULE=marketplace.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache .mypy_cache .ruff_cache
