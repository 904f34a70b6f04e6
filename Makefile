# RNN -> FPGA toolchain. One config drives one experiment; stage artifacts go to build/NAME/<stage>/.
#   make all                       the whole chain on configs/default.yaml
#   make train compress synth CONFIG=configs/NAME.yaml
#   make test | test-all | bench | bench-fmax | lint | clean
CONFIG ?= configs/default.yaml
NAME   := $(basename $(notdir $(CONFIG)))
BUILD  := build/$(NAME)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BOARD  ?= ulx3s
PYTEST_ARGS ?=
# pytest workers (pytest-xdist; one test file per worker: module fixtures and per-file build folders stay
# with one process). 2 = the CI machine's cores; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

export PYTHONHASHSEED := 0

.PHONY: setup train compress hls rtl sim synth cpu report deploy all test test-all bench bench-fmax lint format clean

all: train compress hls rtl sim synth cpu report

# ---------------------------------------------------------------------------------------------- setup
setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	$(PY) -m pip install --quiet --no-compile --no-deps -r requirements-nodeps.txt
# bytecode on every core (pip compiles on one: 40 s of a 66 s setup here); a file that does not compile
# (a package's sources for another Python) is left to the import, as pip leaves it
	$(PY) -m compileall -qq -j 0 $(VENV)/lib || true
	@touch $(STAMP)

# ---------------------------------------------------------------------------------------------- stages
train: setup
	$(PY) -m train --config $(CONFIG)

compress: setup
	$(PY) -m compress --config $(CONFIG)

hls: setup
	$(PY) -m hw.hls --config $(CONFIG)

rtl: setup
	$(PY) -m hw.rtl --config $(CONFIG)

sim: setup
	$(PY) -m sim --config $(CONFIG)

synth: setup
	$(PY) -m hw.synth --config $(CONFIG)

cpu: setup
	$(PY) -m scripts.cpu_baseline --config $(CONFIG)

report: setup
	$(PY) -m scripts.report --config $(CONFIG)

deploy: setup
	$(PY) -m scripts.deploy --config $(CONFIG) --board $(BOARD) $(if $(PORT),--port $(PORT))

# ---------------------------------------------------------------------------------------------- checks
test: setup
	$(PY) -m pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

bench: setup
	$(PY) -m scripts.bench

# Fmax per cell type (ECP5, one nextpnr run per cell, resumable): make bench-fmax [CELLS=gru,lstm] [MHZ=100]
bench-fmax: setup
	$(PY) -m scripts.bench_fmax $(if $(CELLS),--cells $(CELLS)) $(if $(MHZ),--mhz $(MHZ)) $(if $(SEED),--seed $(SEED))

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf build .pytest_cache

# ---------------------------------------------------------------------------------------------- design-space exploration
SPACE ?= configs/dse/default.yaml
.PHONY: dse
dse: setup
	$(PY) -m dse --space $(SPACE) $(if $(RAY_ADDRESS),--address $(RAY_ADDRESS))
