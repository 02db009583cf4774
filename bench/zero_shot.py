"""Zero-shot labels: a LEAR model scored on corpora whose labels it never saw, from their descriptions alone.

The model (typically `run_lear.py` on a mix of corpora, docs/zero-shot.md) is given each target corpus's labels
with their `labels.json` descriptions (`set_labels` on an in-memory copy), and its split is scored by the path
evaluation always takes (`lear.evaluation.evaluate_spans`: windows -> forward -> decode -> character spans, exact
match, every gold entity counted), with per-label P/R/F1. No threshold is chosen on the target: a new label decodes
at the model's own calibrated threshold, chosen on the training mix's validation split (`columns_thresholds`: the
median of the calibrated ones). `--label_text name` gives each label its name instead of its description, as a
GLiNER user would write it; `name_description` gives "name: description"; `both` reads each label twice, by its
name and by its description, and averages the two readings' start and end logits (`TwoReadings`).

    python -m bench.zero_shot --model outputs/zero-shot/lear --tag mix4 \
        --corpus mit_movie=outputs/data/mit_movie --corpus mit_restaurant=outputs/data/mit_restaurant \
        --corpus bionlp13cg=outputs/data/bionlp13cg

writes bench/results/zeroshot-<corpus>-lear-<tag>.json per corpus.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import datasets
import torch
from torch import nn
from transformers import AutoTokenizer

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from lear import LearForSpanExtraction, tokenize_label_descriptions
from lear.corpus_mix import label_name_text
from lear.evaluation import EvaluationSplit, evaluate_spans
from lear.training import LearDataCollator, LearFeatureBuilder


SPLIT_OF = {"test": "test", "validation": "validation", "train": "train"}
LABEL_TEXTS = ("description", "name", "name_description", "both")


def parse_corpus(value: str) -> tuple[str, Path]:
    name, _, folder = value.partition("=")
    if not folder:
        raise argparse.ArgumentTypeError(f"--corpus takes NAME=FOLDER (a converted corpus), got {value!r}")
    return name, Path(folder)


def label_texts(descriptions: dict[str, str], mode: str) -> dict[str, str]:
    """What the model reads for each label: its description, its name (`label_name_text`), or both
    ("name: description")."""
    if mode == "description":
        return descriptions
    names = {label: label_name_text(label) for label in descriptions}
    return names if mode == "name" else {label: f"{names[label]}: {text}" for label, text in descriptions.items()}


class TwoReadings(nn.Module):
    """A LEAR model (flat) whose labels are each read twice, by their description (the model's own labels) and by
    their name (`name_input_ids`, tokenized, id order): the start and end logits of the two readings are averaged
    before decoding, an ensemble over the label's two texts. Evaluation calls it as it calls the model."""

    def __init__(self, model: LearForSpanExtraction, name_input_ids: list[list[int]]):
        if model.config.nested:
            raise ValueError("--label_text both averages start and end logits: flat models only")
        super().__init__()
        self.model, self.config, self.name_input_ids = model, model.config, name_input_ids

    def compute_label_states(self, label_ids=None):
        names = self.name_input_ids if label_ids is None else [self.name_input_ids[i] for i in label_ids]
        return self.model.compute_label_states(label_ids), self.model.compute_label_states(label_ids, names)

    def forward(self, label_states, **inputs):
        by_description, by_name = (self.model(**inputs, label_states=states) for states in label_states)
        by_description.start_logits = (by_description.start_logits + by_name.start_logits) / 2
        by_description.end_logits = (by_description.end_logits + by_name.end_logits) / 2
        return by_description


def score_corpus(
    model: LearForSpanExtraction,
    tokenizer,
    folder: Path,
    split: str,
    label_mode: str,
    max_seq_length: int,
    batch_size: int,
    max_samples: int | None = None,
) -> dict:
    """The model's scores on `folder`'s split with the corpus's own labels (the model is re-labelled in place)."""
    descriptions = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    model.set_labels(label_texts(descriptions, "description" if label_mode == "both" else label_mode), tokenizer)
    scored_model = model
    if label_mode == "both":
        names = list(label_texts(descriptions, "name").values())
        scored_model = TwoReadings(model, tokenize_label_descriptions(tokenizer, names, model.config.max_label_length))
    rows = datasets.load_from_disk(str(folder))[split]
    if max_samples:
        rows = rows.select(range(min(max_samples, len(rows))))
    builder = LearFeatureBuilder(
        tokenizer,
        {name: index for index, name in enumerate(descriptions)},
        max_length=max_seq_length,
        stride=max_seq_length // 4,
        character_pieces=bool(model.config.character_pieces),
    )
    evaluation = EvaluationSplit.from_examples(rows, builder)
    collator = LearDataCollator(tokenizer, model.config.num_labels, nested=model.config.nested)
    started = time.perf_counter()
    metrics = evaluate_spans(scored_model, evaluation, collator, batch_size).metrics
    return {
        "metrics": metrics,
        "per_label_f1": {name: metrics[f"{name}_f1"] for name in descriptions},
        "texts": len(rows),
        "labels": descriptions if label_mode in ("description", "both") else list(descriptions),
        "seconds": time.perf_counter() - started,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a LEAR checkpoint folder (with its tokenizer)")
    parser.add_argument("--corpus", type=parse_corpus, action="append", required=True, help="NAME=FOLDER, repeatable")
    parser.add_argument("--split", choices=sorted(SPLIT_OF), default="test")
    parser.add_argument("--label_text", choices=LABEL_TEXTS, default="description")
    parser.add_argument("--tag", required=True, help="names the result files: zeroshot-<corpus>-lear-<tag>.json")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_samples", type=int, default=None, help="score the first N texts (a smoke run)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--output_dir", type=Path, default=RESULTS_DIR, help="where the result files go")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = {name: args.output_dir / f"zeroshot-{name}-lear-{args.tag}.json" for name, _ in args.corpus}
    for path in paths.values():
        check_result_name_free(path)
    model = LearForSpanExtraction.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    trained_on = list(model.config.label_names)
    thresholds = sorted(set(model.config.label_thresholds or [model.config.start_threshold]))
    for name, folder in args.corpus:
        scored = score_corpus(
            model, tokenizer, folder, args.split, args.label_text, args.max_seq_length, args.batch_size,
            args.max_samples,
        )  # fmt: skip
        unseen = [label for label in scored["per_label_f1"] if label not in trained_on]
        result = {
            "model": "lear",
            "corpus": name,
            "split": args.split,
            "model_dir": str(args.model),
            "label_text": args.label_text,
            "threshold": thresholds,
            "threshold_source": "the model's calibrated thresholds (training mix validation; none from the target)",
            "labels_not_in_training": unseen,
            "trained_labels": len(trained_on),
            **{f"predict_{key}": scored["metrics"][key] for key in ("precision", "recall", "f1", "n_gold")},
            **scored,
            **provenance("bench.zero_shot", argv),
        }
        write_result(paths[name], result)
        print(f"{name}: F1 {result['predict_f1']:.4f} (P {result['predict_precision']:.4f} R "
              f"{result['predict_recall']:.4f}) over {scored['texts']} texts -> {paths[name]}")  # fmt: skip


if __name__ == "__main__":
    main()
