# The two commands of the README, and the checks they run.
#   make demo   installs loopml in .venv and runs the demo (SQLite + local folder)
#   make test   installs the dev tools, starts PostgreSQL and an S3 server on 127.0.0.1,
#               runs ruff, mypy and pytest, and stops the services again
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest services-start services-stop bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/loopml demo

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

services-start: $(STAMP)
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

bench: $(STAMP)
	$(PY) bench/run_tracking.py
	$(PY) bench/run_server.py
	$(PY) bench/run_profile.py
	$(PY) bench/run_register.py

clean:
	bash scripts/services.sh stop || true
	rm -rf $(VENV) .services loopml-demo
