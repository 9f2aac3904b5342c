# The two commands of the README's quick start are `make demo` and `make test`;
# everything they need is installed here, into .venv, from PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup test lint pytest demo bench clean tools deploy-tools manifests

setup: $(STAMP)

# Re-installs only when the packaging or the compiled scanners change, so a second `make setup`
# is quick. The install compiles processor/parsers/_scan.pyx (Cython, C compiler) in place.
SCANNER_SOURCES := setup.py $(wildcard processor/parsers/_scan*.pyx processor/parsers/_scan*.pxi processor/parsers/_scan*.h processor/parsers/_pg*.pyx processor/parsers/_pg*.pxi processor/parsers/_slowlog*.pyx processor/parsers/_slowlog*.pxi)
$(STAMP): pyproject.toml $(SCANNER_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Optional anchors for comparisons: pt-query-digest (percona-toolkit) and pgbadger, whose own
# fingerprint and normalisation the tests compare ours with; skipped with a message where apt is absent.
TOOL_PACKAGES := $(if $(shell command -v pt-query-digest),,percona-toolkit) $(if $(shell command -v pgbadger),,pgbadger)
tools:
	@if [ -z "$(strip $(TOOL_PACKAGES))" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(strip $(TOOL_PACKAGES)) for the fingerprint comparison tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TOOL_PACKAGES) >/dev/null) \
	    || echo "$(strip $(TOOL_PACKAGES)) could not be installed: those comparisons will be skipped"; \
	else echo "no apt-get as root here: the comparisons with $(strip $(TOOL_PACKAGES)) will be skipped"; fi

# Offline validators of the deployment files (tests/deploy). checkov pins an old boto3, so it gets
# a venv of its own; npm-groovy-lint (the Jenkinsfile) needs node >= 20 and Java, and is skipped
# with a message where they are missing. Stamps named by version: a second run does nothing.
# promtool (the alert rules' check and unit tests) is not on PyPI: it is taken out of Debian's
# `prometheus` package (apt-get download + dpkg-deb -x, no install, no server), and the alert-rule
# tests are skipped with a message where apt-get or dpkg-deb is missing.
CHECKOV_VERSION     := 3.3.30
GROOVY_LINT_VERSION := 16.2.0
TOOLS_VENV          := .venv-tools
CHECKOV_STAMP       := $(TOOLS_VENV)/.installed-checkov-$(CHECKOV_VERSION)
NPM_TOOLS           := .tools/npm
GROOVY_LINT_STAMP   := $(NPM_TOOLS)/.installed-npm-groovy-lint-$(GROOVY_LINT_VERSION)
NODE_MAJOR          := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
PROMTOOL            := .tools/promtool/promtool

deploy-tools: $(CHECKOV_STAMP)
	@if [ "$(NODE_MAJOR)" -ge 20 ] && command -v npm >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(GROOVY_LINT_STAMP); \
	else echo "node >= 20, npm or Java missing here: the Jenkinsfile lint (npm-groovy-lint) will be skipped"; fi
	@if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(PROMTOOL) \
	    || echo "promtool could not be taken from Debian's prometheus package: the alert-rule tests will be skipped"; \
	else echo "apt-get or dpkg-deb missing here: the alert-rule tests (promtool) will be skipped"; fi

$(CHECKOV_STAMP):
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

$(GROOVY_LINT_STAMP):
	npm install --prefix $(NPM_TOOLS) --no-audit --no-fund --silent npm-groovy-lint@$(GROOVY_LINT_VERSION)
	touch $@

# Only usr/bin/promtool (a static binary) is kept; the .deb is downloaded, not installed. Without
# package lists (a fresh image) the download fails once: as root, `apt-get update` and again.
$(PROMTOOL):
	@echo "taking promtool out of Debian's prometheus package"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" \
	  && { apt-get download -qq prometheus >/dev/null 2>apt.err \
	       || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download -qq prometheus >/dev/null 2>apt.err; } \
	       || { cat apt.err >&2; false; }; } \
	  && dpkg-deb -x prometheus_*.deb root \
	  && mkdir -p $(CURDIR)/$(dir $@) && cp root/usr/bin/promtool $(CURDIR)/$@.tmp \
	  && mv $(CURDIR)/$@.tmp $(CURDIR)/$@ && $(CURDIR)/$@ --version | head -1

# The plain manifests for kubectl users, rendered from the Helm chart (a test fails on drift).
manifests: setup
	$(BIN)/python k8s/render.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/cython-lint --max-line-length 100 processor/parsers/*.pyx processor/parsers/*.pxi

pytest: setup
	$(BIN)/pytest -q

test: setup tools deploy-tools lint pytest

demo: setup
	$(BIN)/python -m devstack.demo $(ARGS)

# The cost model reads what the other benchmarks wrote: it runs last.
bench: setup tools
	@for b in $(filter-out bench/cost_model.py,$(wildcard bench/*.py)); do echo "== $$b"; $(BIN)/python $$b || exit 1; done
	@echo "== bench/cost_model.py"; $(BIN)/python bench/cost_model.py

clean:
	-test -x $(BIN)/aurora-devstack && $(BIN)/aurora-devstack down
	rm -rf $(VENV) $(TOOLS_VENV) .tools .devstack .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info build processor/parsers/_scan.c processor/parsers/_scan.*.so
