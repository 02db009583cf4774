"""The BIO tagger baseline for the quality benchmark: `AutoModelForTokenClassification` fine-tuned with the stock
`Trainer` and `DataCollatorForTokenClassification` on a corpus converted by `data_scripts` (the same files LEAR's
`run_lear.py` reads), labels on the first sub-token of each word, as in transformers' `run_ner.py`.

SentencePiece tokenizers of the XLM-R family split a lone word-start marker "▁" off every pre-split Chinese
character (`["▁", "中", "▁", "国"]`). Labelling that marker, as the first sub-token, puts every tag on the same
piece and doubles the input, so `max_length` cuts long texts at half as many characters (10 % of MSRA's test
entities at 256). `--lone_markers auto` (the default) drops those markers when they precede most words, leaving
one piece per character (the pieces the raw text would give are longer, and can straddle entity boundaries).

It is scored like LEAR: predicted BIO tags of the words -> entities (seqeval's reading of the tags) -> character
spans of the text -> `lear.metrics.span_scores` (micro and per-label exact-match P/R/F1, every gold entity
counted). seqeval's own entity F1 over the word tags is reported alongside as a cross-check.

    python -m bench.tagger --encoder PATH --dataset_dir outputs/data/conll2003 --output_dir outputs/tagger \
        --seed 0 --num_train_epochs 3 --learning_rate 5e-5 --head_lr_multiplier 10
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import datasets
import numpy as np
import torch
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.metrics.sequence_labeling import get_entities
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    Trainer,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint
from transformers.utils import logging as hf_logging

from lear.metrics import span_scores
from lear.training import optimizer_param_groups
from lear.training_args import LearTrainingArguments, encoder_learning_rate
from lear.windowing import LONE_MARKER_LIMIT, LONE_MARKER_SAMPLE_TEXTS, lone_marker_share, word_char_offsets
from lear.windowing import is_lone_marker as _is_lone_marker


IGNORE_INDEX = -100


def bio_tag_names(labels: Sequence[str]) -> list[str]:
    """`O`, then `B-x`, `I-x` for each label in order: 2C + 1 tags."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


def word_tags(text: str, words: Sequence[str], entities: Sequence[dict]) -> list[str]:
    """BIO tags of the words from character-offset entities (the converted corpora put every boundary on a word
    boundary; an entity covering no whole word is skipped, which cannot happen on those corpora)."""
    offsets = word_char_offsets(text, words)
    tags = ["O"] * len(words)
    for entity in sorted(entities, key=lambda e: (e["start"], e["end"])):
        covered = [k for k, (start, end) in enumerate(offsets) if start >= entity["start"] and end <= entity["end"]]
        for position, k in enumerate(covered):
            tags[k] = ("B-" if position == 0 else "I-") + entity["label"]
    return tags


def tags_to_char_spans(text: str, words: Sequence[str], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Word BIO tags -> character spans `(start, end, label)`, reading the tags as seqeval does."""
    offsets = word_char_offsets(text, words)
    return [(offsets[first][0], offsets[last][1], label) for label, first, last in get_entities(list(tags))]


def tokenize_split(
    dataset: datasets.Dataset, tokenizer, tag2id: dict[str, int], max_length: int, drop_lone_markers: bool = False
) -> datasets.Dataset:
    """Tokenize pre-split words; the first sub-token of each word carries the word's tag, the rest -100.

    `drop_lone_markers`: a word's first piece that is only SentencePiece's "▁" is left out when more pieces of the
    word follow, so the tag sits on the piece that holds the word's characters. Texts longer than `max_length`
    pieces (special tokens included) are cut; the words cut off count as misses.
    """
    marker_id = tokenizer.convert_tokens_to_ids("▁") if drop_lone_markers else None

    def encode(batch):
        encoding = tokenizer(list(map(list, batch["tokens"])), is_split_into_words=True, verbose=False)
        columns = {"input_ids": [], "attention_mask": [], "labels": []}
        for index, (text, words, entities) in enumerate(zip(batch["text"], batch["tokens"], batch["entities"])):
            tags = word_tags(text, words, entities)
            ids, word_ids = encoding["input_ids"][index], encoding.word_ids(index)
            kept = [k for k in range(len(ids)) if not _is_lone_marker(ids, word_ids, k, marker_id)]
            kept = kept if len(kept) <= max_length else kept[: max_length - 1] + kept[-1:]  # keep the closing token
            previous, labels = None, []
            for k in kept:
                word = word_ids[k]
                labels.append(IGNORE_INDEX if word is None or word == previous else tag2id[tags[word]])
                previous = word
            columns["input_ids"].append([ids[k] for k in kept])
            columns["attention_mask"].append([1] * len(kept))
            columns["labels"].append(labels)
        return columns

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


def lone_marker_mode(results: dict) -> str:
    """How a finished run fed lone markers, from its tagger_results.json (runs from before the option kept them)."""
    return results.get("lone_markers", "keep")


def resolve_lone_markers(choice: str, tokenizer, corpus: datasets.DatasetDict) -> bool:
    """`--lone_markers`: "drop", "keep", or "auto" (drop when the tokenizer splits a lone "▁" off most of the first
    training texts' words: the probe `run_lear.py --pre_split auto` uses)."""
    if choice != "auto":
        return choice == "drop"
    words = [word for row in corpus["train"][:LONE_MARKER_SAMPLE_TEXTS]["tokens"] for word in row]
    return lone_marker_share(tokenizer, words) > LONE_MARKER_LIMIT


def first_subtoken_predictions(predictions: np.ndarray, labels: np.ndarray, id2tag: Sequence[str]) -> list[list[str]]:
    """Per text, the predicted tag of each word (read at its first sub-token, where the gold label is not -100)."""
    best = predictions.argmax(-1)
    return [[id2tag[p] for p, gold in zip(row, gold_row) if gold != IGNORE_INDEX] for row, gold_row in
            zip(best, labels)]  # fmt: skip


def span_predictions(
    predictions: np.ndarray, label_ids: np.ndarray, rows: datasets.Dataset, tag_names: Sequence[str]
) -> tuple[list, list, list, list]:
    """Gold and predicted character spans (and word tags) of a split from the model's logits."""
    predicted_tags = first_subtoken_predictions(predictions, label_ids, tag_names)
    gold_spans, predicted_spans, gold_tags, padded_tags = [], [], [], []
    for record, tags in zip(rows, predicted_tags):
        words = record["tokens"]
        tags = tags + ["O"] * (len(words) - len(tags))  # words cut by truncation count as O (misses)
        predicted_spans.append(tags_to_char_spans(record["text"], words, tags))
        gold_spans.append([(e["start"], e["end"], e["label"]) for e in record["entities"]])
        gold_tags.append(word_tags(record["text"], words, record["entities"]))
        padded_tags.append(tags)
    return gold_spans, predicted_spans, gold_tags, padded_tags


def write_prediction_records(path: Path, texts: Sequence[str], gold: Sequence, predicted: Sequence) -> None:
    """One JSON line per text in run_lear.py's `predictions.jsonl` form (text, gold and predicted character spans with
    their covered text, and a predicted span's score where it has one: `(start, end, label[, score])`), so that the
    same analyses read LEAR's, the tagger's and GLiNER's predictions."""

    def records(text: str, spans) -> list[dict]:
        return [{"start": s[0], "end": s[1], "label": s[2], "text": text[s[0] : s[1]]}
                | ({"score": s[3]} if len(s) > 3 else {}) for s in spans]  # fmt: skip

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as writer:
        for text, gold_spans, predicted_spans in zip(texts, gold, predicted):
            line = {"text": text, "gold": records(text, gold_spans), "predicted": records(text, predicted_spans)}
            writer.write(json.dumps(line, ensure_ascii=False) + "\n")


def shared_training_arguments(args: argparse.Namespace) -> dict:
    """The TrainingArguments the tagger and GLiNER (`bench.gliner`) share: the run's batch sizes, (encoder)
    learning rate, epochs, warm-up, weight decay and seed, gradients clipped at 1.0, no reports or progress bars, the
    GPU when there is one; with `--select_on_dev` the validation split is scored every epoch and the best checkpoint
    by span F1 is kept, without it there is no evaluation and no checkpoint."""
    selection = (
        {"eval_strategy": "epoch", "save_strategy": "epoch", "save_total_limit": 2, "load_best_model_at_end": True,
         "metric_for_best_model": "f1"}
        if args.select_on_dev
        else {"eval_strategy": "no", "save_strategy": "no"}
    )  # fmt: skip
    return dict(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.eval_batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        num_train_epochs=args.num_train_epochs,
        warmup_steps=args.warmup,
        max_grad_norm=1.0,
        seed=args.seed,
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
        **selection,
    )


def train_and_score(args: argparse.Namespace) -> dict:
    set_seed(args.seed)
    dataset_dir = Path(args.dataset_dir)
    corpus = datasets.load_from_disk(str(dataset_dir))
    labels = list(json.loads((dataset_dir / "labels.json").read_text(encoding="utf-8")))
    tag_names = bio_tag_names(labels)
    tag2id = {tag: index for index, tag in enumerate(tag_names)}
    tokenizer = AutoTokenizer.from_pretrained(args.encoder)
    init = {"initializer_range": args.initializer_range} if args.initializer_range else {}
    model = AutoModelForTokenClassification.from_pretrained(
        args.encoder, num_labels=len(tag_names), id2label=dict(enumerate(tag_names)), label2id=tag2id, **init
    )  # the init std only touches the new classifier: the encoder's weights are loaded
    drop_lone_markers = resolve_lone_markers(args.lone_markers, tokenizer, corpus)

    def tokenized(split: str) -> datasets.Dataset:
        return tokenize_split(corpus[split], tokenizer, tag2id, args.max_length, drop_lone_markers)

    train, test = tokenized("train"), tokenized("test")
    dev = tokenized("validation") if args.select_on_dev else None

    def dev_scores(output) -> dict[str, float]:  # compute_metrics: span F1 on the validation split
        gold, predicted, _, _ = span_predictions(output.predictions, output.label_ids, corpus["validation"], tag_names)
        return span_scores(gold, predicted)

    training_args = LearTrainingArguments(  # LEAR's argument class, for its --min_train_steps rule only
        min_train_steps=args.min_train_steps,
        keep_checkpoints=True,
        logging_steps=50,
        **shared_training_arguments(args),
    )
    steps_per_epoch = math.ceil(len(train) / (args.batch_size * training_args.world_size))
    training_args.train_at_least_min_steps(steps_per_epoch)  # the step budget LEAR gets on the same data
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=dev,
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=dev_scores if args.select_on_dev else None,
        optimizer_cls_and_kwargs=(
            torch.optim.AdamW,
            # LEAR's grouping: the encoder at the learning rate, the classifier at head_lr_multiplier times it
            {"params": optimizer_param_groups(model, args.learning_rate, args.head_lr_multiplier, args.weight_decay)},
        ),
    )
    started = time.perf_counter()
    last_checkpoint = get_last_checkpoint(args.output_dir) if Path(args.output_dir).is_dir() else None
    train_metrics = trainer.train(resume_from_checkpoint=last_checkpoint).metrics  # resumes an interrupted run
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    trainer.compute_metrics = None  # dev_scores reads the validation rows; the test split is scored below
    output = trainer.predict(test)
    predict_seconds = time.perf_counter() - started
    gold_spans, predicted_spans, gold_tags, predicted_tags = span_predictions(
        output.predictions, output.label_ids, corpus["test"], tag_names
    )
    scores = span_scores(gold_spans, predicted_spans)
    write_prediction_records(Path(args.output_dir) / "predictions.jsonl", corpus["test"]["text"], gold_spans,
                             predicted_spans)  # fmt: skip
    trainer.save_model()  # the selected model, for later probes of its confidence
    results = {f"predict_{key}": value for key, value in scores.items()}
    results["predict_seqeval_f1"] = seqeval_f1(gold_tags, predicted_tags)
    results.update(
        train_samples=len(corpus["train"]),
        train_steps=train_metrics.get("train_steps", trainer.state.global_step),
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
        train_loss=train_metrics.get("train_loss"),
        best_dev_f1=trainer.state.best_metric,
        lone_markers="drop" if drop_lone_markers else "keep",
    )
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    (Path(args.output_dir) / "tagger_results.json").write_text(json.dumps(results, indent=2))
    return results


def baseline_parser(description: str, encoder_help: str) -> argparse.ArgumentParser:
    """The command line a baseline trainer starts with (shared with `bench.gliner`): the encoder, the converted
    corpus, the output folder, the seed and the epochs."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", required=True, help=encoder_help)
    parser.add_argument("--dataset_dir", required=True, help="a corpus converted by data_scripts (with labels.json)")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num_train_epochs", type=float, default=3.0)
    parser.add_argument("--learning_rate", type=float, default=None,
                        help="encoder learning rate (default: run_lear.py's rule for the encoder's size)")  # fmt: skip
    return parser


def resolve_learning_rate(args: argparse.Namespace) -> argparse.Namespace:
    """A baseline gets LEAR's default encoder learning rate for its encoder (`encoder_learning_rate`) unless
    --learning_rate gives one, so that the comparison stays on one recipe whatever the encoder."""
    if args.learning_rate is None:
        args.learning_rate, reason = encoder_learning_rate(AutoConfig.from_pretrained(args.encoder))
        print(f"Encoder learning rate {args.learning_rate:g} {reason}", flush=True)
    return args


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = baseline_parser(__doc__, "encoder folder (AutoModelForTokenClassification loads it)")
    parser.add_argument("--head_lr_multiplier", type=float, default=10.0,
                        help="classifier learning rate = learning_rate x this (LEAR's task_layer_lr)")  # fmt: skip
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument("--initializer_range", type=float, default=None,
                        help="std of the classifier's init (default: the encoder config's, 0.02)")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=0.1, help="warm-up: a fraction of the steps (<1) or steps")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--eval_batch_size", type=int, default=32)
    parser.add_argument("--max_length", type=int, default=192, help="longer inputs are truncated (misses)")
    parser.add_argument("--lone_markers", choices=("auto", "drop", "keep"), default="auto",
                        help='SentencePiece\'s lone "▁" before pre-split words: auto drops it when most words have one')  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--min_train_steps", type=int, default=0,
                        help="train at least this many steps, as run_lear.py's --min_train_steps (0: epochs only)")  # fmt: skip
    parser.add_argument("--select_on_dev", action="store_true",
                        help="evaluate on the validation split every epoch and keep the best checkpoint (span F1)")  # fmt: skip
    return resolve_learning_rate(parser.parse_args(argv))


def set_threads_and_logging(threads: int) -> None:
    """A baseline run's process settings (shared with `bench.gliner`): `--threads` torch threads (0: torch's
    default) and transformers' logging at warnings."""
    if threads:
        torch.set_num_threads(threads)
    hf_logging.set_verbosity_warning()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    set_threads_and_logging(args.threads)
    results = train_and_score(args)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
