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

# Three pytest-xdist workers (the tests mostly wait on Redis, servers and Chromium, so three fit on two cores), each
# with its own redis-server: the browser tests run together on one of them (one Chromium at a time), every other
# test file stays whole on a worker (tests/conftest.py). No reruns: a test that fails once fails the run.
# The 15 slowest steps are listed at the end.
test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q -n 3 --dist loadfile --durations=15 tests

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
