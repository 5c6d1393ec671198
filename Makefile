# hrt — entry points. `make test-<SPEC>` runs every applicable case against one HAProxy;
# `make test` runs the harness's own test suite. Both run `make setup` first (idempotent).
SHELL := /bin/bash
VENV ?= .venv
# The interpreter the venv is made with (>= 3.11). Under sudo, PATH is reset: pass the one you mean,
# e.g. `sudo -E make setup PYTHON="$(command -v python3)"`.
PYTHON ?= python3
export PYTHON
PY := $(VENV)/bin/python
HRT := $(VENV)/bin/hrt

.PHONY: setup host test-host images test test-unit clean-containers bisect
setup: host $(VENV)/.installed images

host:
	@bash ci/setup-host.sh

test-host:
	@bash ci/setup-host.sh --test

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "setup: $(PYTHON) is $$($(PYTHON) -V 2>&1); hrt needs Python >= 3.11: make setup PYTHON=/path/to/python3.11+"; exit 2; }
	@$(PYTHON) -m venv $(VENV)
	@($(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e .) >$(VENV)/install.log 2>&1 \
		|| { tail -30 $(VENV)/install.log; exit 1; }
	@touch $@
	@echo "setup: python environment ready in $(VENV)"

images: $(VENV)/.installed
	@$(HRT) setup

# The test suite's own tools (pyproject's `test` extra).
$(VENV)/.test-installed: $(VENV)/.installed
	@$(PY) -m pip install -q -e '.[test]' >>$(VENV)/install.log 2>&1 || { tail -30 $(VENV)/install.log; exit 1; }
	@touch $@

test: setup test-host $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The fast tier: parsers, plumbing, statistics; no Docker, no browser, well under a minute.
test-unit: $(VENV)/.test-installed
	$(PY) -m pytest tests/unit -m "not browser" -q $(PYTEST_ARGS)

test-%: setup
	$(HRT) test $*

clean-containers: $(VENV)/.installed
	$(HRT) setup

# make bisect CASE=tcp-leak-2.8 REPO=~/src/haproxy FROM=v3.1-dev10 TO=v3.1-dev11 [RUNS=N] [PROFILE=P]
# [BISECT_ARGS=--unreached-is-clean]
bisect: setup
	@test -n "$(CASE)" -a -n "$(REPO)" -a -n "$(FROM)" -a -n "$(TO)" \
		|| { echo "usage: make bisect CASE=... REPO=... FROM=... TO=... [RUNS=N] [PROFILE=P]"; exit 2; }
	$(HRT) bisect $(CASE) --repo $(REPO) --from $(FROM) --to $(TO) $(if $(RUNS),--runs $(RUNS)) \
		$(if $(PROFILE),--profile $(PROFILE)) $(BISECT_ARGS)

# make ci-rehearsal: .github/workflows/hrt.yml under act, offline, as a sudo-capable user `runner` like
# GitHub's (README, "CI and its rehearsal"; needs HRT_ACT_ACTIONS). Hours with the full matrix; not in `make test`.
.PHONY: ci-rehearsal
ci-rehearsal: $(VENV)/.installed
	bash ci/rehearse.sh
