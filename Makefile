# hrt — entry points. `make test-<SPEC>` runs every applicable case against one HAProxy;
# `make test` runs the harness's own test suite. Both run `make setup` first (idempotent).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HRT := $(VENV)/bin/hrt
# Offline release index: the project's shared catalog when it sits beside the checkout.
SHARED_INDEX := $(abspath $(wildcard ../shared/catalog/haproxy-releases.json))
ifneq ($(SHARED_INDEX),)
export HRT_RELEASE_INDEX ?= $(SHARED_INDEX)
endif

.PHONY: setup host images test lint clean-containers bisect
setup: host $(VENV)/.installed images

host:
	@bash ci/setup-host.sh

$(VENV)/.installed: pyproject.toml
	@python3 -m venv $(VENV)
	@($(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e .) >$(VENV)/install.log 2>&1 \
		|| { tail -30 $(VENV)/install.log; exit 1; }
	@touch $@
	@echo "setup: python environment ready in $(VENV)"

images: $(VENV)/.installed
	@$(HRT) setup

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-%: setup
	$(HRT) test $*

clean-containers: $(VENV)/.installed
	$(HRT) setup --clean

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
