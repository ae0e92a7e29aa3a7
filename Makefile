# tinycil: every target creates the venv it needs; a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build

.PHONY: all setup demo test test-device typecheck parity readme bench bench-quick bench-device clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The main job: prepare on two digit classes, deploy to a virtual board, learn the rest.
demo: $(STAMP)
	$(BIN)/tinycil demo --out $(OUT)/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -ra

# Device tests alone, under the unix port (and $$MICROPYTHON when set).
test-device: $(STAMP)
	$(BIN)/python -m pytest -q -ra tests/test_device.py

# -t: the venv's site-packages, where the MicroPython stdlib stubs replace CPython's typeshed
typecheck: $(STAMP)
	$(BIN)/pyright -p stubs/pyrightconfig.json -t "$$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")"

parity: $(STAMP)
	$(BIN)/tinycil parity

# The README's REPL transcript, rerun under MicroPython (tests/test_readme.py checks it).
readme: $(STAMP)
	$(BIN)/python -m tinycil_host.transcript README.md

# the two-class protocol (with the memory sweep and the device repeat), then B50: half the classes as base
bench: $(STAMP)
	$(BIN)/tinycil bench --out bench
	$(BIN)/tinycil bench --base-classes half --sweep none --device-repeat none --out bench/b50

bench-quick: $(STAMP)
	$(BIN)/tinycil bench --quick --out $(OUT)/bench-quick

bench-device: $(STAMP)
	$(BIN)/tinycil bench-device --out bench/device

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
