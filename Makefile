# One entry point for set-up and everything after it. Every target creates or
# reuses .venv and installs what it needs first, so a fresh clone needs only
# `make demo` or `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip
# torch first and pinned: the CPU wheel that lies on disk. Anything else that
# asks for "torch" would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install install-dev demo test test-fast bench lint clean chromium

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH (or run: make PY=python3 ...)"; exit 2; }
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[export,eval]'
	@touch $@

$(DEVSTAMP): $(STAMP)
	$(PIP) install -q -e '.[export,eval,dev]'
	@touch $@

install: $(STAMP)
install-dev: $(DEVSTAMP)

# Debian's Chromium for the browser tests (never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; fi; \
	fi

demo: $(STAMP)
	$(BIN)/xsearch demo

# Everything, slow and browser tests included: -m "" overrides the fast-only
# marker filter that pyproject's addopts gives a plain `pytest`.
test: $(DEVSTAMP) chromium
	$(BIN)/python -m pytest -q -m "" --timeout=1800 tests

# What a plain `pytest` runs: no real model bundle, no browser.
test-fast: $(DEVSTAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(DEVSTAMP)
	$(BIN)/ruff check xsearch indexer api tests bench

clean:
	rm -rf $(VENV) .xsearch-test artifacts
