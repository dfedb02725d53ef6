# Two commands matter: `make demo` (train the pentagon, render it to outputs/) and
# `make test` (the full test suite). Both create/reuse .venv: `make demo` installs animsup
# (editable) with its core dependencies only, `make test` adds the test extra.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE_STAMP := $(VENV)/.installed-core
TEST_STAMP := $(VENV)/.installed-test
# one intra-op thread: two torch/BLAS threads fight on 2 busy cores (see docs/benchmarks.md)
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup demo test bench clean

setup: $(TEST_STAMP)

# the core: what the demo (and every animsup command) needs
$(CORE_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e .
	touch $(CORE_STAMP)

# the core and the test extra (so a later `make demo` installs nothing)
$(TEST_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(CORE_STAMP) $(TEST_STAMP)

demo: $(CORE_STAMP)
	$(VENV)/bin/animsup demo

test: $(TEST_STAMP)
	$(PY) -m pytest

bench: $(CORE_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
