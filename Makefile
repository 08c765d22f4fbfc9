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
	@echo "make lint   - ruff check, ruff format --check, mypy, missing migrations"
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

e2e: install
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DATABASE_URL=sqlite:///:memory: DJANGO_SETTINGS_MODULE=marketplace.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache .mypy_cache .ruff_cache
