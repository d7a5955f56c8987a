# Setiakawan: `make run` starts the platform, `make test` runs every test.
# Another Python gets a venv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
PYTHON  ?= python3
VENV    ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN     := $(VENV)/bin
SERVICES := registry distribution training notifications
STAMP   := $(VENV)/.installed

.PHONY: run test unit install bench migrate clean

run: install
	$(BIN)/setiakawan run

test: install
	$(BIN)/python -m pytest

# the tests that need no broker or database (contract/tests where the contract package is in the tree)
unit: install
	$(BIN)/python -m pytest $(wildcard contract/tests kit/tests services/*/tests/unit)

bench: install
	$(BIN)/python bench/events.py

migrate: install
	$(BIN)/setiakawan migrate

install: $(STAMP)

# the registry's C module (setup.py) is compiled in place: a change to it reinstalls
$(STAMP): contract/pyproject.toml kit/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml) requirements-dev.txt \
          services/registry/setup.py services/registry/src/setiakawan_registry/_bulktext.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e contract -e kit $(foreach s,$(SERVICES),-e services/$(s)) -r requirements-dev.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
