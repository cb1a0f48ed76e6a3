# ImageShelf: `make run` serves the app, `make test` runs the suite. Nothing else is needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt whenever a requirements file changes.
INSTALLED := $(VENV)/.installed
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
PYTEST_MARKS ?= not e2e and not s3 and not heroku and not load and not deployments

.PHONY: run prod prod-superuser test lint format bench test-e2e test-s3 test-heroku test-load test-deployments clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production settings over loopback http, with a database and media of its own (never
# development's): collectstatic, migrate, then gunicorn as the Procfile runs it.
PROD_ENV := DJANGO_SETTINGS_MODULE=config.settings.production DEBUG=False \
	SECRET_KEY=local-production-rehearsal-not-secret-0123456789abcdefghij \
	DATABASE_URL=sqlite:///$(CURDIR)/prod.sqlite3 DATABASE_SSL_REQUIRE=False \
	MEDIA_ROOT=$(CURDIR)/media-prod ALLOWED_HOSTS=localhost,127.0.0.1 \
	SECURE_SSL_REDIRECT=False SECURE_HSTS_SECONDS=0 PORT=$(PORT)

prod: $(INSTALLED)
	$(PROD_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(PROD_ENV) $(PY) manage.py migrate --noinput
	$(PROD_ENV) $(VENV)/bin/gunicorn config.wsgi --config gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# An admin for `make prod`'s database (`createsuperuser` alone writes to development's).
prod-superuser: $(INSTALLED)
	$(PROD_ENV) $(PY) manage.py migrate --noinput
	$(PROD_ENV) $(PY) manage.py createsuperuser

test: $(INSTALLED)
	$(PY) -m pytest -m "$(PYTEST_MARKS)" $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-e2e: $(INSTALLED)
	[ -d tests/e2e/node_modules/axe-core ] || \
		npm install --no-save --no-audit --no-fund --prefix tests/e2e axe-core@4.14.1
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

test-s3: $(INSTALLED)
	$(PY) -m pytest -m s3 $(PYTEST_ARGS)

test-heroku: $(INSTALLED)
	$(PY) -m pytest -m heroku $(PYTEST_ARGS)

# Database-independent (each deployment has its own SQLite file): run once, not per database.
test-deployments: $(INSTALLED)
	$(PY) -m pytest -m deployments $(PYTEST_ARGS)

test-load: $(INSTALLED)
	$(PY) -m pytest -m load -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

bench: $(INSTALLED)
	$(PY) bench/ingest.py
	$(PY) bench/memory.py
	$(PY) bench/reconcile.py
	$(PY) bench/page.py
