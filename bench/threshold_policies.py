"""Decoding-threshold policies compared on one trained flat LEAR model: which thresholds carry from dev to test.

The model's logits on the validation and test splits are computed once each; every policy then only decodes:
`0.5` (the paper's), `per_label` (each label its best threshold on dev, `run_lear.py`'s calibration), `global` (one
threshold for all labels, best micro F1 on dev), `per_label_1se` (each label the threshold nearest 0.5 within one
bootstrap standard error of its best on dev), `saved` (the thresholds in the checkpoint's config) and
`test_oracle_global` (the best single threshold on test: an upper bound, not a result, that tells a detector that
misses entities from thresholds that do not carry).

    python -m bench.threshold_policies outputs/seed_rows/conll2003-lear-0.05-seed0 --dataset_dir DIR --max_seq_length 192

writes `bench/results/thresholds-<run>.json` (`bench.seed_rows` records the same policies in each LEAR result).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from lear.evaluation import choose_thresholds, predictions_at, predictions_by_threshold
from lear.metrics import span_scores
from lear.training import LearDataCollator


def scoring_job(model_dir: str, dataset_dir: str, max_seq_length: int, batch_size: int = 32):
    """A trained flat run's model, tokenizer and validation / test `EvaluationSplit`s (`job.evaluation["eval"]`,
    `["predict"]`), read by run_lear.py's own data, windowing and model loading, so the splits are as in training;
    and a collator for them. Returns `(job, collator)`."""
    import run_lear

    with tempfile.TemporaryDirectory() as scratch:
        job = run_lear.prepare_job([
            "--model_name_or_path", model_dir, "--dataset_dir", dataset_dir, "--output_dir", scratch,
            "--do_eval", "--do_predict", "--max_seq_length", str(max_seq_length),
            "--per_device_eval_batch_size", str(batch_size), "--report_to", "none", "--log_level", "warning",
        ])  # fmt: skip
    return job, LearDataCollator(job.tokenizer, job.model.config.num_labels, nested=False)


def policy_scores(model_dir: str, dataset_dir: str, max_seq_length: int, batch_size: int = 32) -> dict:
    """`{policy: {"thresholds": {label: t}, "dev_f1", "test_f1", "test_precision", "test_recall"}}`."""
    job, collator = scoring_job(model_dir, dataset_dir, max_seq_length, batch_size)
    model, names = job.model, job.model.config.label_names
    dev = predictions_by_threshold(model, job.evaluation["eval"], collator, batch_size)
    test = predictions_by_threshold(model, job.evaluation["predict"], collator, batch_size)
    dev_gold, test_gold = job.evaluation["eval"].gold, job.evaluation["predict"].gold
    policies = {
        "0.5": [0.5] * len(names),
        "per_label": choose_thresholds(dev, dev_gold, names, "per_label"),
        "global": choose_thresholds(dev, dev_gold, names, "global"),
        "per_label_1se": choose_thresholds(dev, dev_gold, names, "per_label_1se"),
        "test_oracle_global": choose_thresholds(test, test_gold, names, "global"),
    }
    if model.config.label_thresholds is not None and set(model.config.label_thresholds) <= set(test):
        policies["saved"] = list(model.config.label_thresholds)
    results = {}
    for policy, thresholds in policies.items():
        dev_scores = span_scores(dev_gold, predictions_at(dev, thresholds), names)
        test_scores = span_scores(test_gold, predictions_at(test, thresholds), names)
        results[policy] = {
            "thresholds": dict(zip(names, thresholds)),
            "dev_f1": dev_scores["f1"],
            "test_f1": test_scores["f1"],
            "test_precision": test_scores["precision"],
            "test_recall": test_scores["recall"],
        }
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--dataset_dir", required=True)
    parser.add_argument("--max_seq_length", type=int, default=192, help="the training run's")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None, help="default: bench/results/thresholds-<run>.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    output = check_result_name_free(
        args.output or RESULTS_DIR / f"thresholds-{args.model_dir.name}.json", "another --output"
    )
    started = time.perf_counter()
    result = {"policies": policy_scores(str(args.model_dir), args.dataset_dir, args.max_seq_length, args.batch_size)}
    result.update(
        run=str(args.model_dir), dataset_dir=args.dataset_dir, wall_seconds=time.perf_counter() - started,
        **provenance("bench.threshold_policies", argv),
    )  # fmt: skip
    write_result(output, result, "another --output")
    for policy, scores in result["policies"].items():
        print(f"{policy:20s} dev F1 {scores['dev_f1']:.4f}  test F1 {scores['test_f1']:.4f}  {scores['thresholds']}")


if __name__ == "__main__":
    main()
