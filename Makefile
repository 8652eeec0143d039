# dew.kms developer entry points. `make test` does all set-up on a fresh machine and runs every
# test suite; `make demo` shows the collection at work against the local KMS emulator.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYENV_ROOT ?= $(HOME)/.pyenv
# Full interpreter paths: pyenv shims of versions that are not active refuse to run.
find_python = $(firstword $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)) $(shell command -v python$(1)))
PYTHON_NEW ?= $(call find_python,3.13)
PYTHON_OLD ?= $(call find_python,3.11)

# The virtual environments; VENV_DIR may be anywhere (a directory inside the checkout must be
# ignored by git and by galaxy.yml's build_ignore, as .venv is).
VENV_DIR ?= .venv
NEW := $(abspath $(VENV_DIR))/core-2.21
OLD := $(abspath $(VENV_DIR))/core-2.16
TOOLS := $(abspath $(VENV_DIR))/tools
DOCS := $(abspath $(VENV_DIR))/docs
PIP_SHIM := ../shared/ci/install-ansible-test-pip-shim

# ansible-test only runs inside .../ansible_collections/dew/kms: tests run in a copy of the
# checkout (tracked and untracked-but-not-ignored files) under a temporary directory. Every
# target that needs one copies the checkout to its own $(TARGET_TREE), so that suites running
# in parallel (`make test`) never share a tests/output directory.
BUILD_ROOT ?= $(or $(TMPDIR),/tmp)/dew-kms-$(shell id -u)-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)
TREE := $(BUILD_ROOT)/ansible_collections/dew/kms
TARGET_ROOT = $(BUILD_ROOT)/$@
TARGET_TREE = $(TARGET_ROOT)/ansible_collections/dew/kms
COPY_CHECKOUT = rm -rf $(1) && mkdir -p $(1) \
	&& git ls-files -z --cached --others --exclude-standard \
	  | while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
	  | tar --null -cf - -T - | tar -xf - -C $(1)
ANSIBLE_TEST_NEW = cd $(TARGET_TREE) && PATH="$(dir $(PYTHON_NEW)):$(dir $(PYTHON_OLD)):$(NEW)/bin:$$PATH" $(NEW)/bin/ansible-test
ANSIBLE_TEST_OLD = cd $(TARGET_TREE) && PATH="$(dir $(PYTHON_OLD)):$(dir $(PYTHON_NEW)):$$PATH" $(OLD)/bin/ansible-test
ANSIBLE_TEST_FLAGS := --venv --requirements --color no
# Extra arguments of `make units` / `make integration` / `make sanity` / `make units-fast` for
# ansible-test or pytest: a target name, a test file, `--test pep8`, ...
ARGS ?=

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

# ---------------------------------------------------------------------------- environments
# Three pinned venvs: the newest and the oldest ansible-core for ansible-test, and one tool
# environment (tests/requirements/tools.txt) for every other suite.
# $(1) the interpreter, $(2) its version for the error message. The venv is the stamp target's
# directory; its requirements file is the first prerequisite.
define make-venv
	@test -x "$(1)" || { echo "Python $(2) not found: set PYTHON_NEW / PYTHON_OLD to its path" >&2; exit 1; }
	rm -rf $(@D) && $(1) -m venv $(@D)
	$(@D)/bin/python -m pip install -q --upgrade pip
	$(@D)/bin/python -m pip install -q -r $<
endef

$(NEW)/.done: tests/requirements/core-2.21.txt
	$(call make-venv,$(PYTHON_NEW),3.13)
	if [ -x $(PIP_SHIM) ]; then $(PIP_SHIM) $(@D)/bin/python; fi
	touch $@

$(OLD)/.done: tests/requirements/core-2.16.txt
	$(call make-venv,$(PYTHON_OLD),3.11)
	if [ -x $(PIP_SHIM) ]; then $(PIP_SHIM) $(@D)/bin/python; fi
	touch $@

$(TOOLS)/.done: tests/requirements/tools.txt
	$(call make-venv,$(PYTHON_NEW),3.13)
	touch $@

# the plot library of the full benchmark, added to the tools environment by `make bench` only
$(TOOLS)/.bench-done: tests/requirements/bench.txt $(TOOLS)/.done
	$(TOOLS)/bin/python -m pip install -q -r $<
	touch $@

.PHONY: venvs
venvs: $(NEW)/.done $(OLD)/.done $(TOOLS)/.done $(DOCS)/.done ## create the pinned virtual environments

.PHONY: tree
tree: ## copy the checkout into a temporary ansible_collections/dew/kms tree (for running ansible-test by hand)
	$(call COPY_CHECKOUT,$(TREE))

# ---------------------------------------------------------------------------- test suites
# `make test` builds the virtual environments first, then runs TEST_JOBS suites at a time, the
# longest first (so that no long suite starts last); --output-sync keeps each suite's output in one
# piece. Every suite runs even when one fails (-k); the last lines name the failed suites and give
# each suite's wall time. TEST_JOBS=1 runs them one after the other.
# Three suites share the two cores of the machine CI runs on: every suite also waits (pip, the
# emulator's injected delays, timeouts), and a third one fills those gaps (measured on a fresh
# clone: 996 s with two, 907 s with three). The venvs mostly download and unpack: four at once.
TEST_JOBS ?= 3
VENV_JOBS ?= 4
SUITES := integration-new integration-old security-test reliability-test sanity docs-examples units-new units-old \
	live-test-emulator emulator-test galaxy-importer docs awx-test ceremony-test docs-lint bench-smoke \
	build-check lint
TEST_STATUS := $(BUILD_ROOT)/test-status

.PHONY: test
test: ## every test suite (what CI runs), TEST_JOBS (3) at a time
	rm -rf $(TEST_STATUS) && mkdir -p $(TEST_STATUS)
	$(MAKE) --no-print-directory -j$(VENV_JOBS) venvs
	@started=$$(date +%s); $(MAKE) --no-print-directory -k -j$(TEST_JOBS) --output-sync=target $(SUITES:%=suite-%); \
	  status=$$?; echo "make test: suite wall times (s), $$(( $$(date +%s) - started )) s in all:"; \
	  sort -k2 -n -r $(TEST_STATUS)/times | sed 's/^/  /'; \
	  if [ $$status -ne 0 ]; then echo "make test: FAILED: $$(cd $(TEST_STATUS) && ls *.failed | sed 's/[.]failed$$//' | tr '\n' ' ')(each one's output is above)" >&2; exit 1; fi
	@echo "make test: all suites passed"

# one suite of `make test`: records its wall time, and its name when it fails
suite-%:
	@started=$$(date +%s); $(MAKE) --no-print-directory $* || failed=1; \
	  echo "$* $$(( $$(date +%s) - started ))$${failed:+ FAILED}" >> $(TEST_STATUS)/times; \
	  if [ -n "$$failed" ]; then touch $(TEST_STATUS)/$*.failed; echo "make test: $* FAILED" >&2; exit 1; fi

.PHONY: sanity
# The modules claim Python 3.9+: one more ansible-test run compiles them on every version from
# 3.9 on that is found here (the main run skips compile, so 3.13 is not compiled twice).
COMPILE_PATH := $(subst $(eval) ,:,$(foreach v,3.9 3.10 3.11 3.12 3.13,$(dir $(call find_python,$(v)))))

sanity: $(NEW)/.done ## ansible-test sanity on the newest ansible-core, no ignore file (ARGS: e.g. --test pep8)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(ANSIBLE_TEST_NEW) sanity $(ANSIBLE_TEST_FLAGS) --python 3.13 $(or $(ARGS),--skip-test compile)
	$(if $(ARGS),,cd $(TARGET_TREE) && PATH="$(COMPILE_PATH):$(NEW)/bin:$$PATH" \
	  $(NEW)/bin/ansible-test sanity --test compile $(ANSIBLE_TEST_FLAGS))

.PHONY: units
units: units-new units-old ## unit tests on both ansible-core versions (ARGS: e.g. a test file)

.PHONY: units-new units-old
units-new: $(NEW)/.done
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(ANSIBLE_TEST_NEW) units $(ANSIBLE_TEST_FLAGS) --python 3.13 $(ARGS)
units-old: $(OLD)/.done
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(ANSIBLE_TEST_OLD) units $(ANSIBLE_TEST_FLAGS) --python 3.11 $(ARGS)

.PHONY: units-fast
units-fast: $(TOOLS)/.done ## the unit tests under plain pytest in seconds, newest ansible-core (ARGS: e.g. a test file)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	cd $(TARGET_TREE) && PYTHONPATH=$(TARGET_ROOT) $(TOOLS)/bin/python -m pytest -q -p no:cacheprovider \
	  --rootdir . $(or $(ARGS),tests/unit)

.PHONY: integration
integration: integration-new integration-old ## integration targets against the emulator, both cores (ARGS: e.g. a target name)

# The emulator's cloud profile for the integration targets (setup_emulator passes it as --cloud;
# empty: the emulator's default). Each core runs against one profile.
.PHONY: integration-new integration-old
integration-new: EMULATOR_CLOUD ?= otc
integration-old: EMULATOR_CLOUD ?= huaweicloud
INTEGRATION_CONFIG = $(if $(EMULATOR_CLOUD),printf 'setup_emulator_cloud: %s\n' '$(EMULATOR_CLOUD)' \
	> $(TARGET_TREE)/tests/integration/integration_config.yml,true)
integration-new: $(NEW)/.done
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(INTEGRATION_CONFIG)
	$(ANSIBLE_TEST_NEW) integration $(ANSIBLE_TEST_FLAGS) --python 3.13 $(ARGS)
# The oldest ansible-core runs the targets where the ansible-core version or the Huawei Cloud
# profile makes a difference: ad-hoc use, every authentication, the import parameters and
# wrapping algorithms, key management and listing, material import, and the role with its action
# plugin and ceremony. The material-truth, public-key, renewal and emulator smoke targets run on
# the newest ansible-core only (their Huawei profile behaviour is in the emulator and live
# suites): `make test` stays within its time. INTEGRATION_OLD_TARGETS= (empty) runs them all.
INTEGRATION_OLD_TARGETS ?= kms_adhoc kms_auth kms_import_params kms_key kms_key_info kms_key_material \
	role_byok role_byok_ceremony
integration-old: $(OLD)/.done
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(INTEGRATION_CONFIG)
	$(ANSIBLE_TEST_OLD) integration $(ANSIBLE_TEST_FLAGS) --python 3.11 $(or $(ARGS),$(INTEGRATION_OLD_TARGETS))

.PHONY: emulator-test
emulator-test: $(TOOLS)/.done ## the emulator's own suite, incl. the official SDK against it
	$(TOOLS)/bin/python -m pytest -q -p no:cacheprovider tests/emulator/tests

.PHONY: ceremony-test
ceremony-test: $(TOOLS)/.done ## a wrapped bundle filled by openssl (as an HSM would) imports into the emulator
	$(TOOLS)/bin/python -m pytest -q -p no:cacheprovider tests/ceremony

.PHONY: security-test
# Two worker processes, one test file each at a time: the canary runs and the bad-input run are
# separate ansible-playbook runs against separate emulators.
security-test: $(TOOLS)/.done ## secret-leak canaries and the bad-input table, against the emulator (< 5 min)
	$(TOOLS)/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile tests/security

# ---------------------------------------------------------------------------- lint, docs, build, AWX
# Tools of $(TOOLS) (tests/requirements/tools.txt). A fresh ANSIBLE_HOME per target (FRESH_HOME) keeps
# caches out of ~/.ansible and keeps copies of dew.kms from earlier runs from shadowing the checkout.
TOOLS_ENV = PATH="$(TOOLS)/bin:$$PATH" ANSIBLE_HOME="$(BUILD_ROOT)/home-$@" ANSIBLE_NOCOLOR=1 NO_COLOR=1
FRESH_HOME = rm -rf "$(BUILD_ROOT)/home-$@" && mkdir -p "$(BUILD_ROOT)/home-$@"
MODULE_NAMES = $(sort $(patsubst plugins/modules/%.py,dew.kms.%,$(wildcard plugins/modules/[a-z]*.py)))
BUILD_CHECK := $(BUILD_ROOT)/build-check

.PHONY: lint
lint: $(TOOLS)/.done ## ansible-lint (production profile) on roles/, playbooks/, extensions/awx/, galaxy.yml and meta/
	@# the checkout itself, as dew.kms, so that the role's and playbooks' module names resolve
	$(FRESH_HOME) && mkdir -p $(BUILD_ROOT)/lint-collections/ansible_collections/dew
	ln -sfn $(CURDIR) $(BUILD_ROOT)/lint-collections/ansible_collections/dew/kms
	$(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH=$(BUILD_ROOT)/lint-collections \
	  ansible-lint --profile production roles/ playbooks/ extensions/awx/ galaxy.yml meta/

.PHONY: docs-lint
docs-lint: $(TOOLS)/.done ## antsibull-docs collection docs lint, ansible-doc of every module and the role, changelog lint
	$(FRESH_HOME)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	cd $(TARGET_TREE) && $(TOOLS_ENV) antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .
	@# ansible-doc must render every module and the role's argument spec without a warning (ansible-core
	@# 2.21 itself warns that its internal _protomatter collection has no version: not ours, ignored)
	@cd $(TARGET_TREE) && export $(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH="$(TARGET_ROOT)" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	  && for doc in $(addprefix module:,$(MODULE_NAMES)) role:dew.kms.byok; do \
	    echo "ansible-doc -t $${doc%%:*} $${doc#*:}"; \
	    ansible-doc -t "$${doc%%:*}" "$${doc#*:}" > "$(TARGET_ROOT)/ansible-doc.out" 2>&1 \
	      && grep -q "$${doc#*:}" "$(TARGET_ROOT)/ansible-doc.out" && ! grep -E "WARNING|ERROR" "$(TARGET_ROOT)/ansible-doc.out" | grep -qv "/_protomatter' does not have a MANIFEST.json" \
	      || { cat "$(TARGET_ROOT)/ansible-doc.out"; exit 1; }; \
	  done
	cd $(TARGET_TREE) && $(TOOLS_ENV) antsibull-changelog lint
	cd $(TARGET_TREE) && $(TOOLS_ENV) antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

.PHONY: build-check
build-check: $(TOOLS)/.done ## build the collection, check its content, install it, ansible-doc from it, EE build context
	$(FRESH_HOME) && rm -rf $(BUILD_CHECK) && mkdir -p $(BUILD_CHECK)
	$(TOOLS_ENV) ansible-galaxy collection build --output-path $(BUILD_CHECK)/dist .
	@# nothing that git ignores (virtual environments, caches, test output) may end up in the tarball
	@tar -tzf $(BUILD_CHECK)/dist/dew-kms-*.tar.gz | grep -v '/$$' | grep -vxE 'MANIFEST.json|FILES.json' | sort > $(BUILD_CHECK)/content
	@git ls-files --cached --others --exclude-standard | sort > $(BUILD_CHECK)/allowed
	@comm -23 $(BUILD_CHECK)/content $(BUILD_CHECK)/allowed > $(BUILD_CHECK)/leaked
	@if [ -s $(BUILD_CHECK)/leaked ]; then echo "Files git ignores are in the collection tarball (extend build_ignore in galaxy.yml or delete them):" >&2; \
	  sed -E 's|/.*|/...|' $(BUILD_CHECK)/leaked | sort | uniq -c >&2; exit 1; fi
	@for f in meta/runtime.yml meta/execution-environment.yml roles/byok/meta/argument_specs.yml \
	    docs/docsite/extra-docs.yml extensions/awx/credential_type.yml requirements.txt bindep.txt; do \
	  grep -qx "$$f" $(BUILD_CHECK)/content || { echo "$$f is missing from the tarball" >&2; exit 1; }; done
	$(TOOLS_ENV) ansible-galaxy collection install --offline --no-deps --force -p $(BUILD_CHECK)/collections $(BUILD_CHECK)/dist/dew-kms-*.tar.gz
	cd $(BUILD_CHECK) && $(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH=$(BUILD_CHECK)/collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	  ansible-doc -t module dew.kms.kms_key_material | grep -q 'dew.kms.kms_key_material'
	@# ansible-builder reads the installed collection's meta/execution-environment.yml ...
	$(TOOLS_ENV) ansible-builder introspect --sanitize $(BUILD_CHECK)/collections > $(BUILD_CHECK)/introspect.txt
	grep -q '^- .cryptography.*from collection dew.kms' $(BUILD_CHECK)/introspect.txt && grep -q '^- .requests.*from collection dew.kms' $(BUILD_CHECK)/introspect.txt \
	  && grep -q 'libffi' $(BUILD_CHECK)/introspect.txt || { cat $(BUILD_CHECK)/introspect.txt; exit 1; }
	@# ... and accepts the example execution environment that installs the built tarball
	mkdir -p $(BUILD_CHECK)/ee && cp extensions/awx/execution-environment.yml $(BUILD_CHECK)/ee/ \
	  && cp $(BUILD_CHECK)/dist/dew-kms-*.tar.gz $(BUILD_CHECK)/ee/dew-kms.tar.gz
	cd $(BUILD_CHECK)/ee && $(TOOLS_ENV) ansible-builder create -f execution-environment.yml --context context --output-filename Containerfile
	test -s $(BUILD_CHECK)/ee/context/Containerfile && test -s $(BUILD_CHECK)/ee/context/_build/collections/dew-kms.tar.gz

.PHONY: awx-test
awx-test: $(TOOLS)/.done ## AWX path: credential type vs modules, the byok role via ansible-runner against the emulator
	$(FRESH_HOME)
	$(TOOLS_ENV) $(TOOLS)/bin/python -m pytest -q -p no:cacheprovider tests/awx

# ---------------------------------------------------------------------------- running things
.PHONY: emulator
emulator: $(NEW)/.done ## run the local KMS emulator in the foreground (Ctrl-C stops it)
	PYTHONPATH=tests/emulator $(NEW)/bin/python -m kms_emulator $(EMULATOR_ARGS)

.PHONY: demo
demo: $(NEW)/.done ## build + install the collection, import keys into the emulator with the byok role
	tools/demo.sh $(NEW)

.PHONY: bench bench-smoke
bench: $(TOOLS)/.bench-done ## BYOK benchmark on the emulator: role vs uri+openssl vs SDK, N=1..100, 0/20 ms (~20 min)
	$(TOOLS)/bin/python tests/perf/bench.py $(BENCH_ARGS)
bench-smoke: $(TOOLS)/.done ## quick benchmark (N=5): fails if a scenario errors or a key was not imported
	$(TOOLS)/bin/python tests/perf/bench.py --smoke $(BENCH_ARGS)

.PHONY: reliability-test reliability-long
# Its tests mostly wait (timeouts, retries, the load test's clock): two worker processes halve
# its time for little more CPU.
RELIABILITY_WORKERS ?= 2
reliability-test: $(TOOLS)/.done ## faults, kill/restart, network failures, isolation, fuzz, 10 s load (tests/reliability)
	$(TOOLS)/bin/python -m pytest -c tests/reliability/pytest.ini -n $(RELIABILITY_WORKERS) tests/reliability $(RELIABILITY_ARGS)
reliability-long: $(TOOLS)/.done ## the reliability suite with long budgets: 60 s load, more fuzz examples
	RELIABILITY_PROFILE=long $(TOOLS)/bin/python -m pytest -c tests/reliability/pytest.ini -n $(RELIABILITY_WORKERS) tests/reliability $(RELIABILITY_ARGS)

.PHONY: clean
clean: ## remove virtual environments and the temporary collection trees
	rm -rf $(VENV_DIR) $(BUILD_ROOT)

# ---------------------------------------------------------------------------- live conformance suite
# `make live-test`: tests/live against the KMS the standard environment variables name (a real,
# billed account: it refuses to run without DEW_KMS_LIVE=1; see tests/live/README.md).
# `make live-test-emulator` (part of `make test`): the same suite against the emulator, once per
# cloud profile (LIVE_PROFILES, default every profile the emulator offers), each transcript
# checked for secrets. Both use a copy of the checkout as the collection dew.kms.
LIVE_VENV ?= $(NEW)
LIVE_PROFILES ?= auto
LIVE_RUN = test -x $(LIVE_VENV)/bin/ansible-playbook || { echo "$(LIVE_VENV) has no ansible-playbook: run make venvs or set LIVE_VENV" >&2; exit 1; }; \
  PATH="$(LIVE_VENV)/bin:$$PATH" ANSIBLE_HOME="$(TARGET_ROOT)/home" $(LIVE_VENV)/bin/python

.PHONY: live-test live-test-emulator
live-test: ## the live conformance suite against the account in the environment (DEW_KMS_LIVE=1)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(LIVE_RUN) tests/live/run.py --ansible-playbook $(LIVE_VENV)/bin/ansible-playbook --collections-path $(TARGET_ROOT)

live-test-emulator: $(NEW)/.done ## the live suite against the emulator per cloud profile, transcripts checked for secrets
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(LIVE_RUN) tests/live/emulator.py --profiles "$(LIVE_PROFILES)" --python $(LIVE_VENV)/bin/python \
	  --ansible-playbook $(LIVE_VENV)/bin/ansible-playbook --collections-path $(TARGET_ROOT)

# ---------------------------------------------------------------------------- docs: docsite, examples, Galaxy import
# The tools of tests/requirements/docs.txt: a venv of its own because galaxy-importer pins
# packages (attrs) that conflict with the tools venv. Each target gets a fresh ANSIBLE_HOME and
# sees only its own copy of the checkout ($(TARGET_TREE)) as dew.kms.
DOCS_ENV = PATH="$(DOCS)/bin:$$PATH" ANSIBLE_HOME="$(BUILD_ROOT)/home-$@" ANSIBLE_NOCOLOR=1 NO_COLOR=1 \
  ANSIBLE_COLLECTIONS_PATH="$(TARGET_ROOT)" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
DOCSITE_SRC := $(BUILD_ROOT)/docsite-src
DOCSITE_OUT := $(CURDIR)/tests/output/docsite

$(DOCS)/.done: tests/requirements/docs.txt
	$(call make-venv,$(PYTHON_NEW),3.13)
	touch $@

.PHONY: docs
docs: $(DOCS)/.done ## build the HTML docsite with antsibull-docs into tests/output/docsite/ (fails on warnings)
	$(FRESH_HOME) && rm -rf $(DOCSITE_SRC) $(DOCSITE_OUT) && mkdir -m 755 -p $(DOCSITE_SRC)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	$(DOCS_ENV) antsibull-docs sphinx-init --use-current --fail-on-error --squash-hierarchy \
	  --dest-dir $(DOCSITE_SRC) dew.kms
	@# build.sh runs antsibull-docs into rst/ and sphinx-build into build/html. Images of the extra
	@# docs are not copied by antsibull-docs: they go beside the pages that show them. Warnings are
	@# judged below rather than by sphinx-build -W.
	cd $(DOCSITE_SRC) && sed -i -e 's/^sphinx-build /cp $(subst /,\/,$(TARGET_TREE))\/docs\/docsite\/rst\/*.png rst\/docsite\/ \&\& &/' \
	  -e 's/ -W --keep-going$$//' build.sh
	cd $(DOCSITE_SRC) && $(DOCS_ENV) ./build.sh > $(DOCSITE_SRC)/build.log 2>&1 || { cat $(DOCSITE_SRC)/build.log; exit 1; }
	@# Any warning fails, except the intersphinx inventories of other projects (no network here)
	@# and, only then, the references into the Ansible docs that those inventories would resolve.
	@grep -E 'WARNING|ERROR' $(DOCSITE_SRC)/build.log > $(DOCSITE_SRC)/warnings.log || true
	@if grep -q 'failed to reach any of the inventories' $(DOCSITE_SRC)/warnings.log; then \
	  sed -i -E "/failed to reach any of the inventories|undefined label: '(common_return_values|ansible_configuration_settings|action_plugins|ansible_collections\.ansible\.builtin\.[a-z_]+)'/d" \
	    $(DOCSITE_SRC)/warnings.log; fi
	@if [ -s $(DOCSITE_SRC)/warnings.log ]; then cat $(DOCSITE_SRC)/warnings.log; \
	  echo "docs: the docsite build has warnings (above; full log $(DOCSITE_SRC)/build.log)" >&2; exit 1; fi
	mkdir -p $(dir $(DOCSITE_OUT)) && cp -r $(DOCSITE_SRC)/build/html $(DOCSITE_OUT)
	@for png in docs/docsite/rst/*.png; do test -s $(DOCSITE_OUT)/_images/$$(basename $$png) \
	  || { echo "docs: $$png is missing from the built docsite" >&2; exit 1; }; done
	@echo "docs: $(DOCSITE_OUT)/index.html"

.PHONY: docs-examples
docs-examples: $(DOCS)/.done ## module EXAMPLES, README and docs snippets: ansible-lint production + run against the emulator
	$(FRESH_HOME)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	cd $(TARGET_TREE) && $(DOCS_ENV) $(DOCS)/bin/python tests/docs/run_examples.py --work $(TARGET_ROOT)/work

.PHONY: galaxy-importer
galaxy-importer: $(DOCS)/.done ## galaxy-importer (what Galaxy and Automation Hub run) on the built collection: zero warnings
	$(FRESH_HOME) && rm -rf $(BUILD_ROOT)/galaxy-importer && mkdir -p $(BUILD_ROOT)/galaxy-importer
	$(DOCS_ENV) ansible-galaxy collection build --output-path $(BUILD_ROOT)/galaxy-importer .
	@# users start the emulator from the installed collection (README): it must be in the tarball
	@for f in tools/kms_emulator_env.py tests/emulator/kms_emulator/__main__.py; do \
	  tar -tzf $(BUILD_ROOT)/galaxy-importer/dew-kms-*.tar.gz | grep -qx "$$f" || { echo "$$f is missing from the tarball" >&2; exit 1; }; done
	cd $(BUILD_ROOT)/galaxy-importer && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/docs/galaxy-importer.cfg $(DOCS_ENV) \
	  $(DOCS)/bin/python -m galaxy_importer.main dew-kms-*.tar.gz > importer.log 2>&1 \
	  || { cat importer.log; exit 1; }
	@cat $(BUILD_ROOT)/galaxy-importer/importer.log
	@if grep -E 'WARNING|ERROR' $(BUILD_ROOT)/galaxy-importer/importer.log; then echo "galaxy-importer: warnings (above)" >&2; exit 1; fi

.PHONY: changelog
changelog: $(TOOLS)/.done ## release notes: fold changelogs/fragments into changelog.yaml and CHANGELOG.rst (version of galaxy.yml)
	$(FRESH_HOME)
	$(call COPY_CHECKOUT,$(TARGET_TREE))
	cd $(TARGET_TREE) && $(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH=$(TARGET_ROOT) ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	  antsibull-changelog release --update-existing
	cp $(TARGET_TREE)/CHANGELOG.rst CHANGELOG.rst && cp $(TARGET_TREE)/changelogs/changelog.yaml changelogs/changelog.yaml
	find changelogs/fragments -name '*.yml' -o -name '*.yaml' | xargs -r git rm -q --ignore-unmatch -f
