# Admit: `make run` to try it, `make test` to check it. Both set up everything they need.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
DEV_DB ?= sqlite:///admit-dev.db

.PHONY: install run test test-deps lint bench clean lock

# Installs exactly what requirements.lock pins (hash-checked), then Admit itself without touching them.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# The demo, Admit on :8000 and the example app (examples/shop_app.py) on :8001, which signs
# people in through Admit; Ctrl-C stops both.
run: $(STAMP)
	ADMIT_DEV_MODE=true ADMIT_DATABASE_URL=$(DEV_DB) $(BIN)/admit demo --example-app .example-app.env
	set -a; . ./.example-app.env; set +a; $(BIN)/python examples/shop_app.py & app=$$!; \
	trap 'kill $$app 2>/dev/null' EXIT INT TERM; \
	ADMIT_DEV_MODE=true ADMIT_DATABASE_URL=$(DEV_DB) $(BIN)/admit serve --host 127.0.0.1 --port 8000

test-deps: $(STAMP)
	@scripts/install-test-deps

test: test-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/oidc.py
	$(BIN)/python bench/codes.py
	$(BIN)/python bench/scim.py
	$(BIN)/python bench/webhooks.py

# Re-resolve requirements.lock from pyproject.toml (newest versions allowed), with hashes.
lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu --no-header --no-annotate -q -o requirements.lock

clean:
	rm -rf $(VENV) admit-dev.db* .example-app.env .pytest_cache .mypy_cache .ruff_cache
