# pixcast: `make run` serves the sample images, `make test` runs every check.
# Both set up from nothing: the virtualenv, the project and (for tests) the models.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: setup models system run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,faces,objects,objects-torch]'
	rm -f $(VENV)/.installed-* && touch $@

models: $(STAMP)
	$(BIN)/python scripts/fetch_models.py --dest models

setup: $(STAMP) models

run: setup
	$(BIN)/pixcast serve --host $(HOST) --port $(PORT) \
		--originals examples/images --cache-dir var/cache \
		--playground true --uploads-dir var/uploads

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

system:
	scripts/install-system-packages.sh

test: setup system lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
