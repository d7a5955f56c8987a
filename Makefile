# Setiakawan: `make run` starts the platform, `make test` runs every test.
# Another Python gets a venv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
PYTHON  ?= python3
VENV    ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN     := $(VENV)/bin
SERVICES := registry distribution training notifications coordination
STAMP   := $(VENV)/.installed

.PHONY: run demo test unit install bench migrate clean wheelhouse base-image images asyncapi

run: install
	$(BIN)/setiakawan run

# the seed reports' programmes, loaded through the APIs of the platform `make run` started (another terminal)
demo: install
	$(BIN)/python -m demo

# three test processes (pytest-xdist), each module's tests in one of them: most of a test's time is
# spent waiting for services, brokers and databases, which side by side take half as long.
# TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 3
test: install
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# the tests that need no broker or database (contract/tests where the contract package is in the tree)
unit: install
	$(BIN)/python -m pytest $(wildcard contract/tests kit/tests services/*/tests/unit)

bench: install
	$(BIN)/python bench/events.py

# the published contract, contracts/asyncapi.yaml, made again from the contract package
# (the contract's tests fail while the file and the schemas disagree)
asyncapi: install
	$(BIN)/python -m setiakawan_contract --asyncapi contracts/asyncapi.yaml

migrate: install
	$(BIN)/setiakawan migrate

install: $(STAMP)

# the registry's C module (setup.py) is compiled in place: a change to it reinstalls
# Offline (a district office with a poor connection): `make run WHEELHOUSE=wheelhouse` (or
# install, test) installs from a folder `make wheelhouse` wrote, with --no-index: nothing is downloaded.
WHEELHOUSE ?=
PIP_SOURCE := $(if $(WHEELHOUSE),--no-index --find-links $(abspath $(WHEELHOUSE)) -c $(abspath $(WHEELHOUSE))/constraints.txt)

$(STAMP): contract/pyproject.toml kit/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml) requirements-dev.txt \
          services/registry/setup.py services/registry/src/setiakawan_registry/_bulktext.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(WHEELHOUSE),,$(BIN)/python -m pip install --quiet --upgrade pip)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -e contract -e kit $(foreach s,$(SERVICES),-e services/$(s)) -r requirements-dev.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache

# wheelhouse/: every wheel the platform needs, for an offline install (`make install
# WHEELHOUSE=wheelhouse`) and for the Docker images, whose builds cannot reach PyPI:
# every third-party dependency of the services and of the tests, at the versions this
# venv runs (and was tested) with (constraints.txt), plus setuptools to build ours,
# which are installed from source (the registry's C module included). Wheels are
# per Python version: the images run Debian's Python 3.11 (`make images` checks).
# Made again only when the venv's dependencies changed (its install stamp is newer).
wheelhouse: wheelhouse/constraints.txt

wheelhouse/constraints.txt: $(STAMP)
	rm -rf wheelhouse && mkdir wheelhouse
	$(BIN)/python -m pip freeze --exclude-editable > wheelhouse/pinned.txt
	$(BIN)/python -m pip wheel --quiet -w wheelhouse -c wheelhouse/pinned.txt ./contract ./kit $(foreach s,$(SERVICES),./services/$(s)) -r requirements-dev.txt "setuptools>=77"
	rm -rf wheelhouse/setiakawan_*.whl contract/build kit/build $(foreach s,$(SERVICES),services/$(s)/build)
	$(BIN)/python -c 'import sys; print(*sys.version_info[:2], sep=".")' > wheelhouse/python-version
	mv wheelhouse/pinned.txt wheelhouse/constraints.txt
	@echo "wheelhouse/: $$(ls wheelhouse/*.whl | wc -l) wheels for Python $$(cat wheelhouse/python-version); offline: make run WHEELHOUSE=wheelhouse"

# the base image setiakawan/python:3.11, made with debootstrap (once; --force makes it again)
base-image:
	scripts/docker-base-image

# setiakawan/platform:latest, FROM the base image: every service, each container serving one
images: base-image wheelhouse
	@grep -qx 3.11 wheelhouse/python-version || { echo "images: they run Python 3.11; make the wheelhouse with a Python 3.11 venv"; exit 1; }
	docker build --network host -f docker/platform/Dockerfile -t setiakawan/platform .
