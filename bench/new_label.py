"""New labels at inference: train LEAR without one label, add it back with `set_labels`, score it zero-shot.

1. Train LEAR (MiniLM) on a CoNLL-2003 training subset from which one label (default LOC) is removed: its entities
   are dropped from the training texts (those words become plain negatives) and its description from the labels.
2. Re-label the trained checkpoint with all four labels and their descriptions (`run_lear.py --label_descriptions`,
   i.e. `model.set_labels(...)`): the trained labels keep their classifier rows, the held-out label's rows start
   from the mean of the trained rows, so it is predicted from its description alone.
3. Score every label on the test subset; the held-out label's figures are zero-shot, the others supervised. For
   reference, the same label's score when it *is* trained comes from `bench.quality`'s run with the same subset
   and seed, when that run exists.

    python -m bench.new_label --held-out LOC
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import datasets

from bench.common import OUTPUT_DIR, REPO_ROOT, metadata_line, run_metadata
from bench.quality import (
    QUALITY_DIR,
    converted_corpus,
    corpus_setting,
    epochs_for,
    make_subset,
    run_lear_recipe,
    subprocess_env,
    subset_name,
)
from lear.evaluation import read_prediction_spans


NEW_LABEL_DIR = OUTPUT_DIR / "new_label"


def run_lear(arguments: dict, output_dir: Path, threads: int) -> dict:
    """Run run_lear.py with a JSON argument file in `output_dir`; returns its predict metrics when it predicted."""
    output_dir.mkdir(parents=True, exist_ok=True)
    arguments_file = output_dir / "run_lear_args.json"
    arguments_file.write_text(json.dumps(arguments, indent=2))
    with (output_dir / "run.log").open("w") as log:
        subprocess.run(
            [sys.executable, "run_lear.py", str(arguments_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=subprocess_env(threads),
            check=True,
        )
    results = output_dir / "predict_results.json"
    return json.loads(results.read_text()) if results.is_file() else {}


def held_out_analysis(predictions_file: Path, held_out: str) -> dict:
    """What happened to the held-out label's gold entities: found exactly as the held-out label, found with the
    exact span under another label, or missed; and how many predictions of the held-out label there were."""
    outcome: Counter[str] = Counter()
    predicted_as_held_out = 0
    for _, gold_spans, predicted_spans in zip(*read_prediction_spans(predictions_file)):
        predicted = {(start, end): label for start, end, label in predicted_spans}
        predicted_as_held_out += sum(label == held_out for _, _, label in predicted_spans)
        for start, end, gold_label in gold_spans:
            if gold_label != held_out:
                continue
            label = predicted.get((start, end))
            outcome[
                "exact, held-out label" if label == held_out else f"exact span as {label}" if label else "missed"
            ] += 1
    return {"gold_outcomes": dict(outcome), "predicted_as_held_out": predicted_as_held_out}


def reference_run(args: argparse.Namespace) -> dict | None:
    """bench.quality's fully supervised LEAR result on the same subset and seed, if it was run."""
    name = f"lear-{subset_name(args.fraction, args.seed, args.test_size)}" + (f"-{args.tag}" if args.tag else "")
    path = QUALITY_DIR / "conll2003" / name / "bench_result.json"
    return json.loads(path.read_text()) if path.is_file() else None


def report(
    scores: dict, analysis: dict, reference: dict | None, args: argparse.Namespace, labels: Sequence[str]
) -> str:
    lines = [
        "| label | trained? | test P | test R | test F1 | F1 when trained (bench.quality, same subset and seed) |",
        "|---|---|---|---|---|---|",
    ]
    for label in labels:
        trained = "no (zero-shot)" if label == args.held_out else "yes"
        reference_f1 = f"{100 * reference['per_label'][label + '_f1']:.1f}" if reference else "not run"
        lines.append(
            f"| {label} | {trained} | {100 * scores[f'predict_{label}_precision']:.1f} | "
            f"{100 * scores[f'predict_{label}_recall']:.1f} | {100 * scores[f'predict_{label}_f1']:.1f} | "
            f"{reference_f1} |"
        )
    lines.append("")
    lines.append(
        f"{args.held_out} gold entities ({sum(analysis['gold_outcomes'].values())}): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(analysis["gold_outcomes"].items(), key=lambda kv: -kv[1]))
        + f"; predictions labelled {args.held_out}: {analysis['predicted_as_held_out']}."
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--held-out", default="LOC", help="the CoNLL-2003 label left out of training")
    parser.add_argument("--fraction", type=float, default=0.05, help="training-data fraction (as bench.quality)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=int, default=1000, help="test sentences (bench.quality's subset)")
    parser.add_argument("--target-steps", type=int, default=120, help="the budget rule of bench.quality")
    parser.add_argument("--min-epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--head-lr-multiplier", type=float, default=10.0)
    parser.add_argument("--initializer-range", type=float, default=None, help="init std of the new layers")
    parser.add_argument("--tag", default="", help="suffix of the run folder and the bench.quality run to compare to")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    settings = corpus_setting("conll2003")
    corpus_dir = converted_corpus("conll2003")
    all_labels = json.loads((corpus_dir / "labels.json").read_text(encoding="utf-8"))
    if args.held_out not in all_labels:
        raise SystemExit(f"--held-out must be one of {list(all_labels)}")
    subset = make_subset(corpus_dir, args.fraction, args.seed, args.test_size, drop_labels=[args.held_out])
    size = len(datasets.load_from_disk(str(subset))["train"])
    epochs = epochs_for(size, args.batch_size, args.target_steps, args.min_epochs)
    base = NEW_LABEL_DIR / f"conll2003-{subset_name(args.fraction, args.seed, args.test_size)}-without-{args.held_out}"
    base = base.with_name(f"{base.name}-{args.tag}") if args.tag else base

    # 1. train without the label
    model_dir = base / "trained"
    if not (model_dir / "config.json").is_file():
        train_arguments = {
            "model_name_or_path": settings.encoder,
            "dataset_dir": str(subset),
            "output_dir": str(model_dir),
            "do_train": True,
            "num_train_epochs": epochs,
            **run_lear_recipe(args, settings.max_length, args.seed),
        }
        run_lear(train_arguments, model_dir, args.threads)

    # 2. + 3. all four labels back, scored on the test subset
    labels_file = base / "all_labels.json"
    labels_file.write_text(json.dumps(all_labels, ensure_ascii=False, indent=2), encoding="utf-8")
    predict_dir = base / "relabelled"
    predict_arguments = {
        "model_name_or_path": str(model_dir),
        "dataset_dir": str(subset),
        "label_descriptions": str(labels_file),
        "output_dir": str(predict_dir),
        "do_predict": True,
        **run_lear_recipe(args, settings.max_length, args.seed),
    }
    scores = run_lear(predict_arguments, predict_dir, args.threads)
    analysis = held_out_analysis(predict_dir / "predictions.jsonl", args.held_out)
    reference = reference_run(args)
    result = {"held_out": args.held_out, "epochs": epochs, "train_size": size, "scores": scores, **analysis}
    result.update(learning_rate=args.learning_rate, initializer_range=args.initializer_range)
    suffix = f"-{args.tag}" if args.tag else ""
    (NEW_LABEL_DIR / f"result-{args.held_out}{suffix}.json").write_text(json.dumps(result, indent=2))
    print(
        f"Run: {metadata_line(run_metadata())}; trained {epochs} epochs on {size} sentences without {args.held_out}, "
        f"lr {args.learning_rate:g}, head x{args.head_lr_multiplier:g}, init {args.initializer_range or 'default'}\n"
    )
    print(report(scores, analysis, reference, args, list(all_labels)))


if __name__ == "__main__":
    main()
