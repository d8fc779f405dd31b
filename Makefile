# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
# wsgi.py defaults to production; the README's commands ask for development explicitly.
export APP_ENV ?= development

.PHONY: run test install migrate seed worker messages lint format lock bench bench-export clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $(BIN)/activate

# Compiled message catalogues (.mo) are built here from the committed .po files, not committed.
CATALOGUES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)

install: $(BIN)/activate $(CATALOGUES:.po=.mo)

%.mo: %.po $(BIN)/activate
	$(BIN)/pybabel compile --statistics -i $< -o $@

## messages: extract every translatable string into the template, merge it into each language's
## catalogue (new strings arrive untranslated; tests/test_i18n.py fails until they are translated), compile
messages: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs=".* __pycache__" --sort-by-file --add-location=file --width=100 \
	  --project="Care Don't Share" --copyright-holder="Care Don't Share" \
	  --msgid-bugs-address="pledge@example.org" -k _l -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --width=100 --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d app/translations

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed --demo 240

## run: the site on http://127.0.0.1:5000 with SQLite, demo data, and a mail worker writing to instance/mail/
run: seed
	@echo "Mail is written to instance/mail/ (no MAIL_SERVER set)."
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/flask mail worker & \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000

worker: install
	$(BIN)/flask mail worker

## test: the whole suite (PostgreSQL when TEST_DATABASE_URL is set, Redis when REDIS_URL is set, the browser when Chromium is installed)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: the surge benchmarks on gunicorn, PostgreSQL and Redis on loopback: sign-ups, confirmations,
## the mail queue and the whole surge end to end (about 10 minutes; see bench/README.md)
bench: install
	$(BIN)/python bench/bench_signup.py
	$(BIN)/python bench/bench_confirm.py
	$(BIN)/python bench/bench_mail.py
	$(BIN)/python bench/bench_surge.py

## bench-export: a million-row export against the raw read (loads the rows once, about 1 min; then about 5 min)
bench-export: install
	$(BIN)/python bench/bench_export.py

LINT_PATHS := app tests bench migrations/env.py config.py wsgi.py

## lint: what CI checks before the tests (ruff's lint rules and its formatting)
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: install
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

## lock: regenerate the fully pinned, hashed requirements.txt from requirements.in
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools==7.6.2
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache
