"""Decoding-threshold policies compared on one trained flat LEAR model: which thresholds carry from dev to test.

The model's logits on the validation and test splits are computed once each; every policy then only decodes:
`0.5` (the paper's), `per_label` (each label its best threshold on dev), `global` (one threshold for all labels,
best micro F1 on dev: `run_lear.py`'s default calibration), `per_label_1se` (each label the threshold nearest 0.5 within one
bootstrap standard error of its best on dev), `saved` (the thresholds in the checkpoint's config) and
`test_oracle_global` (the best single threshold on test: an upper bound, not a result, that tells a detector that
misses entities from thresholds that do not carry). Test scores on mentions seen / unseen in training are recorded
for each policy.

    python -m bench.threshold_policies outputs/seed_rows/conll2003-lear-0.05-seed0 --dataset_dir DIR --max_seq_length 192
    python -m bench.threshold_policies RUN --dataset_dir DIR --small_dev 100 300 --draws 20

writes `bench/results/thresholds-<run>.json` (`bench.seed_rows` records the same policies in each LEAR result).
`--small_dev` asks how each policy carries from a small validation split, as a user with few annotated sentences
has: every policy chooses on random parts of the validation split of that many texts and is scored on all of test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from lear.evaluation import (
    CALIBRATION_POLICIES,
    CharSpan,
    choose_thresholds,
    predictions_at,
    predictions_by_threshold,
)
from lear.metrics import seen_unseen_scores, span_scores, training_mentions
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


@dataclass
class DecodedSplits:
    """A trained run's validation and test spans at every candidate threshold (`predictions_by_threshold`), with
    the gold spans and test texts: what every policy decodes from, computed once."""

    label_names: list[str]
    saved_thresholds: list[float] | None
    dev: dict[float, list]
    dev_gold: list
    test: dict[float, list]
    test_gold: list
    test_texts: list[str]


def decode_splits(model_dir: str, dataset_dir: str, max_seq_length: int, batch_size: int = 32) -> DecodedSplits:
    job, collator = scoring_job(model_dir, dataset_dir, max_seq_length, batch_size)
    model, dev_split, test_split = job.model, job.evaluation["eval"], job.evaluation["predict"]
    return DecodedSplits(
        label_names=list(model.config.label_names),
        saved_thresholds=model.config.label_thresholds,
        dev=predictions_by_threshold(model, dev_split, collator, batch_size),
        dev_gold=dev_split.gold,
        test=predictions_by_threshold(model, test_split, collator, batch_size),
        test_gold=test_split.gold,
        test_texts=test_split.texts,
    )


#: The threshold an uncalibrated model decodes at (the paper's); `per_label_1se` moves from it only on evidence.
UNCALIBRATED_THRESHOLD = 0.5
#: Bootstrap resamples of the validation texts behind the 1se policies' standard errors (seeded: reproducible).
BOOTSTRAP_RESAMPLES = 200


def per_text_label_counts(
    table: Mapping[float, list[list[CharSpan]]], gold, num_labels: int
) -> tuple[list[float], np.ndarray, np.ndarray, np.ndarray]:
    """Per-text, per-label counts behind span F1 at each threshold of `table`: `(thresholds, correct [T, N, C],
    predicted [T, N, C], gold [N, C])` for T thresholds (ascending), N texts, C labels."""
    thresholds = sorted(table)
    n_texts = len(gold)
    gold_sets = [{tuple(span[:3]) for span in spans} for spans in gold]
    gold_counts = np.zeros((n_texts, num_labels))
    correct = np.zeros((len(thresholds), n_texts, num_labels))
    predicted = np.zeros_like(correct)
    for index, spans in enumerate(gold_sets):
        for _, _, label in spans:
            gold_counts[index, label] += 1
    for t, threshold in enumerate(thresholds):
        for index, spans in enumerate(table[threshold]):
            for span in {tuple(span[:3]) for span in spans}:
                predicted[t, index, span[2]] += 1
                correct[t, index, span[2]] += span in gold_sets[index]
    return thresholds, correct, predicted, gold_counts


def one_standard_error_thresholds(
    table: Mapping[float, list[list[CharSpan]]],
    gold,
    num_labels: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    anchor: float = UNCALIBRATED_THRESHOLD,
) -> list[float]:
    """Each label's threshold by the one-standard-error rule (Breiman et al. 1984; Hastie et al., *Elements of
    Statistical Learning* 7.10): among the candidates whose validation F1 for the label is within one standard error
    of the label's best, the one nearest `anchor` (ties: the higher), the simpler model the rule falls back to.

    Why: a per-label best threshold fitted on a few hundred validation mentions follows the split's noise where the
    F1 curve is flat (PHEE: 0.45 / 0.25 chosen, 0.5 better on test), yet it is worth several points where the
    detector is under-confident (CoNLL at 1 %: 0.05-0.15). The standard error, from `resamples` bootstrap draws
    of the validation texts, tells the two apart. Returns thresholds in label-id order."""
    thresholds, correct, predicted, gold_counts = per_text_label_counts(table, gold, num_labels)

    def f1(c: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:  # summed over texts (axis -2)
        c, p, g = c.sum(-2), p.sum(-2), g.sum(-2)
        return np.divide(2 * c, p + g, out=np.zeros_like(c), where=(p + g) > 0)

    full = f1(correct, predicted, gold_counts)  # [T, C]
    draws = np.random.default_rng(seed).integers(0, len(gold), size=(resamples, len(gold)))
    boot = np.stack([f1(correct[:, d], predicted[:, d], gold_counts[d]) for d in draws])  # [R, T, C]
    chosen = []
    for label in range(num_labels):
        best = int(np.argmax(full[:, label]))
        standard_error = boot[:, best, label].std()
        within = [t for t in range(len(thresholds)) if full[t, label] >= full[best, label] - standard_error]
        nearest = min(within, key=lambda t: (abs(thresholds[t] - anchor), -thresholds[t]))
        chosen.append(thresholds[nearest])
    return chosen


def chosen_thresholds(names: list[str], dev: dict[float, list], dev_gold: list) -> dict[str, list[float]]:
    """Each policy's thresholds chosen on `dev` (the whole validation split, or a part of it): run_lear.py's
    `CALIBRATION_POLICIES`, and each label's threshold by the one-standard-error rule towards 0.5 (`per_label_1se`)
    or towards the global choice (`global_1se`: a label leaves the shared threshold only where its own best is better
    by more than the split's noise). The 1se policies measured no better across corpora (bench/benchmarks.md,
    "Threshold policies across corpora"), so they live here, not in the library."""
    chosen = {policy: choose_thresholds(dev, dev_gold, names, policy) for policy in CALIBRATION_POLICIES}
    return {
        "0.5": [UNCALIBRATED_THRESHOLD] * len(names),
        **chosen,
        "per_label_1se": one_standard_error_thresholds(dev, dev_gold, len(names), anchor=UNCALIBRATED_THRESHOLD),
        "global_1se": one_standard_error_thresholds(dev, dev_gold, len(names), anchor=chosen["global"][0]),
    }


def policy_scores(
    model_dir: str, dataset_dir: str, seen_mentions: set[str], max_seq_length: int, batch_size: int = 32
) -> dict:
    """`scores_by_policy` of a trained run on `dataset_dir`, with the seen / unseen split against `seen_mentions`
    (`dataset_mentions` of its training split)."""
    splits = decode_splits(model_dir, dataset_dir, max_seq_length, batch_size)
    return scores_by_policy(splits, seen_mentions)


def dataset_mentions(dataset_dir: str) -> set[str]:
    train = datasets.load_from_disk(dataset_dir)["train"]
    return training_mentions(train["text"], train["entities"])


def scores_by_policy(splits: DecodedSplits, seen_mentions: set[str] | None = None) -> dict:
    """`{policy: {"thresholds": {label: t}, "dev_f1", "test_f1", "test_precision", "test_recall"}}`, and with
    `seen_mentions` (`lear.metrics.training_mentions` of the training split) each policy's test scores on mentions
    seen / unseen in training too (`test_f1_unseen`, `test_recall_unseen`, `test_recall_seen`)."""
    names = splits.label_names
    policies = chosen_thresholds(names, splits.dev, splits.dev_gold)
    policies["test_oracle_global"] = choose_thresholds(splits.test, splits.test_gold, names, "global")
    if splits.saved_thresholds is not None and set(splits.saved_thresholds) <= set(splits.test):
        policies["saved"] = list(splits.saved_thresholds)
    results = {}
    for policy, thresholds in policies.items():
        test_spans = predictions_at(splits.test, thresholds)
        dev_scores = span_scores(splits.dev_gold, predictions_at(splits.dev, thresholds), names)
        test_scores = span_scores(splits.test_gold, test_spans, names)
        results[policy] = {
            "thresholds": dict(zip(names, thresholds)),
            "dev_f1": dev_scores["f1"],
            "test_f1": test_scores["f1"],
            "test_precision": test_scores["precision"],
            "test_recall": test_scores["recall"],
        }
        if seen_mentions is not None:
            split = seen_unseen_scores(splits.test_texts, splits.test_gold, test_spans, seen_mentions)
            results[policy].update({f"test_{key}": split[key] for key in SPLIT_KEYS})
    return results


SPLIT_KEYS = ("f1_unseen", "recall_unseen", "recall_seen")


def small_dev_scores(splits: DecodedSplits, dev_texts: int, draws: int, seed: int = 0) -> dict:
    """How each policy carries when the validation split is small: `draws` random parts of `dev_texts` validation
    texts, each policy's thresholds chosen on each part, every choice scored on the whole test split. Returns
    `{policy: {"test_f1_mean", "test_f1_std", "test_f1": [one per draw]}}` (`test_oracle_global` is left out: it
    never sees the validation split)."""
    rng = random.Random(seed)
    total = len(splits.dev_gold)
    if not 0 < dev_texts < total:
        raise ValueError(f"dev_texts must be between 1 and the validation split's {total - 1} texts, got {dev_texts}")
    scores = defaultdict(list)
    for _ in range(draws):
        part = sorted(rng.sample(range(total), dev_texts))
        dev = {threshold: [spans[i] for i in part] for threshold, spans in splits.dev.items()}
        chosen = chosen_thresholds(splits.label_names, dev, [splits.dev_gold[i] for i in part])
        for policy, thresholds in chosen.items():
            test_spans = predictions_at(splits.test, thresholds)
            scores[policy].append(span_scores(splits.test_gold, test_spans, splits.label_names)["f1"])
    return {
        policy: {"test_f1_mean": statistics.mean(f1), "test_f1_std": statistics.pstdev(f1), "test_f1": f1}
        for policy, f1 in scores.items()
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--dataset_dir", required=True)
    parser.add_argument("--max_seq_length", type=int, default=192, help="the training run's")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--small_dev",
        type=int,
        nargs="*",
        default=[],
        metavar="TEXTS",
        help="also choose on random parts of the validation split of these sizes (small_dev_scores)",
    )
    parser.add_argument("--draws", type=int, default=20, help="random parts per --small_dev size")
    parser.add_argument("--output", type=Path, default=None, help="default: bench/results/thresholds-<run>.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    output = check_result_name_free(
        args.output or RESULTS_DIR / f"thresholds-{args.model_dir.name}.json", "another --output"
    )
    started = time.perf_counter()
    splits = decode_splits(str(args.model_dir), args.dataset_dir, args.max_seq_length, args.batch_size)
    result = {"policies": scores_by_policy(splits, dataset_mentions(args.dataset_dir))}
    if args.small_dev:
        result["small_dev"] = {str(texts): small_dev_scores(splits, texts, args.draws) for texts in args.small_dev}
        result["dev_texts"] = len(splits.dev_gold)
    result.update(
        run=str(args.model_dir), dataset_dir=args.dataset_dir, wall_seconds=time.perf_counter() - started,
        **provenance("bench.threshold_policies", argv),
    )  # fmt: skip
    write_result(output, result, "another --output")
    for policy, scores in result["policies"].items():
        print(f"{policy:20s} dev F1 {scores['dev_f1']:.4f}  test F1 {scores['test_f1']:.4f}  {scores['thresholds']}")
    for texts, by_policy in result.get("small_dev", {}).items():
        for policy, scores in by_policy.items():
            print(
                f"dev of {texts:>5s} texts  {policy:15s} test F1 {scores['test_f1_mean']:.4f} ± {scores['test_f1_std']:.4f}"
            )


if __name__ == "__main__":
    main()
