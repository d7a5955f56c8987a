# Setiakawan: `make run` starts the platform, `make test` runs every test.
# Another Python gets a venv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
PYTHON  ?= python3
VENV    ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN     := $(VENV)/bin
SERVICES := registry distribution training notifications
STAMP   := $(VENV)/.installed

.PHONY: run test unit install bench migrate clean wheelhouse base-image images

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

# Docker images (README: Docker). A build cannot reach PyPI, so the images install
# from wheelhouse/: every third-party dependency, at the versions this venv runs
# (and was tested) with, plus setuptools to build ours, which the images build
# from source (the registry's C module included). The images run Debian's
# Python 3.11, so the wheels come from a Python 3.11 venv.
wheelhouse: install
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "wheelhouse: the images run Python 3.11; use a Python 3.11 venv")'
	rm -rf wheelhouse && mkdir wheelhouse
	$(BIN)/python -m pip freeze --exclude-editable > wheelhouse/constraints.txt
	$(BIN)/python -m pip wheel --quiet -w wheelhouse -c wheelhouse/constraints.txt ./contract ./kit $(foreach s,$(SERVICES),./services/$(s)) "setuptools>=77"
	rm -rf wheelhouse/setiakawan_*.whl contract/build kit/build $(foreach s,$(SERVICES),services/$(s)/build)

# the base image setiakawan/python:3.11, made with debootstrap (once; --force makes it again)
base-image:
	scripts/docker-base-image

# setiakawan/<service>:latest for each service, FROM the base image
images: base-image wheelhouse
	$(foreach s,$(SERVICES),docker build --network host -f services/$(s)/Dockerfile -t setiakawan/$(s) . &&) true
