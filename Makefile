# Two commands matter: `make demo` and `make test`. Both build .venv (Python 3.10, all extras) first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
VENV312 := .venv312
STAMP := $(VENV)/.installed
STAMP312 := $(VENV312)/.installed
PYTEST_ARGS ?=

.PHONY: all venv demo test test-core-py312 bench clean
all: venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@PY310="$$(bash tools/find-python310.sh 3.10)" || exit 1; \
	  [ -x $(PY) ] || "$$PY310" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all]"
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/neurokit demo -o out/demo

test: $(STAMP)
	bash tools/ensure-chromium.sh
	CI=$${CI:-} $(PY) -m pytest $(PYTEST_ARGS)

# The same core suite on the users' / GPU machine's stack: Python 3.12, numpy 2, networkx 3 (no Lava).
$(STAMP312): pyproject.toml
	@PY312="$$(bash tools/find-python310.sh 3.12)" || exit 1; \
	  [ -x $(VENV312)/bin/python ] || "$$PY312" -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install -q --upgrade pip
	$(VENV312)/bin/python -m pip install -q -e ".[brian2,plots,interop,analysis,dev]" "numpy>=2" "networkx>=3"
	@touch $@

test-core-py312: $(STAMP312)
	$(VENV312)/bin/python -m pytest -m "not lava" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/engine_vs_brian2.py

clean:
	rm -rf $(VENV) $(VENV312) out build *.egg-info
