# pixcast: `make run` serves the sample images, `make test` runs every check.
# Both set up from nothing: the virtualenv, the project and (for tests) the models.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: setup models test-images system run test fuzz lint bench bench-load bench-peers clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,faces,objects,objects-torch,heic]'
	rm -f $(VENV)/.installed-* && touch $@

models: $(STAMP)
	$(BIN)/python scripts/fetch_models.py --dest models

# The HEIC test original (made from a public-domain sample; provenance beside it).
test-images: $(STAMP)
	$(BIN)/python scripts/make_heic.py --dest var/test-images

setup: $(STAMP) models test-images

# The person model that set-up fetches for the tests (YOLOv8s, classes Normal/Fall)
# lets g_person and g_auto find people here; production sets its own object_model.
run: setup
	$(BIN)/pixcast serve --host $(HOST) --port $(PORT) \
		--originals examples/images --cache-dir var/cache \
		--playground true --uploads-dir var/uploads \
		--object-model person-yolov8s.onnx \
		--label-aliases '{"Normal": "person", "Fall": "person"}'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

system:
	scripts/install-system-packages.sh

test: setup system lint
	$(BIN)/python -m pytest

# The URL fuzz test at length (CI runs it with a few hundred examples).
FUZZ_EXAMPLES ?= 5000
fuzz: setup system
	PIXCAST_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/hardening/test_fuzz.py -s -q

bench: setup
	$(BIN)/python bench/run.py

bench-load: setup
	$(BIN)/python bench/load.py

# pixcast beside thumbor and ipx on loopback (bench/peers.py); the peers go to
# $$PEERS_HOME (default ~/.cache/pixcast-peers). E.g. make bench-peers PEERS_FLAGS='-d 2'
bench-peers: setup models
	scripts/install-system-packages.sh bench/system-packages.txt
	$(BIN)/python bench/peers.py $(PEERS_FLAGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
