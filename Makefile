# Vigie: two commands, `make run` and `make test`. Both install what they need first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_STAMP := .vigie/.apt-installed

.PHONY: run test test-unit test-integration test-browser bench screenshots schemas install system-deps clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need: a real redis-server and a headless Chromium with its driver.
system-deps:
	@bash .ci/system-deps.sh

run: $(STAMP)
	$(BIN)/python app.py

# Browser tests share 2 cores with a real engine and simulators: a timing-sensitive one may fail under load,
# so a failure is retried twice (reported as "rerun" in the summary); a test that fails three times fails the run.
test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q --reruns 2 --reruns-delay 1 tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

test-browser: system-deps $(STAMP)
	$(BIN)/python -m pytest -q tests/browser

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

schemas: $(STAMP)
	$(BIN)/python -m services.contract.schemas docs/schemas

clean:
	rm -rf $(VENV) .vigie
