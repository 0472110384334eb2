# The two commands a user needs: `make run` and `make test`. Everything else is built on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
KAFKA_LIBS := .cache/kafka/libs

.PHONY: run test stack bench lint typecheck install kafka lock clean

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,embedded]"
	touch $@

$(KAFKA_LIBS)/.fetched: deploy/kafka/pom.xml
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS) -DincludeScope=runtime
	touch $@

install: $(INSTALLED)
kafka: $(KAFKA_LIBS)/.fetched

## Start the whole platform on 127.0.0.1:8080 (PORT overrides) with embedded PostgreSQL.
run: install
	$(BIN)/tanktop run

## Lint, type-check, and run every test against a real PostgreSQL and a real Kafka broker.
test: install kafka lint typecheck
	$(BIN)/python -m pytest

## Each service and the gateway as separate processes with real Kafka and PostgreSQL.
stack: install kafka
	$(BIN)/tanktop stack

## Benchmarks (requests/s, p50, p99) through the gateway and direct to the services.
bench: install kafka
	$(BIN)/tanktop bench

demo: install ; $(BIN)/tanktop demo $(DEMO_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

## Re-pin every dependency after changing pyproject.toml.
lock: install
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) .cache .data
