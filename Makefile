# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test install migrate seed worker lint bench clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

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

## bench: sign-up load benchmark on gunicorn + PostgreSQL on loopback (about 2 min 15 s; see bench/README.md)
bench: install
	$(BIN)/python bench/bench_signup.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check app tests config.py wsgi.py bench

clean:
	rm -rf $(VENV) .pytest_cache
