"""The GLiNER baseline for the quality benchmark: PyPI `gliner`'s `UniEncoderSpanGLiNER` (span x label-prompt
scoring), built fresh on the same local encoder as LEAR and the tagger (its pretrained checkpoints cannot be
downloaded here), trained with gliner's own `Trainer` subclass on a corpus converted by `data_scripts`.

The corpus's words become GLiNER's `tokenized_text` and its character-offset entities `ner` word spans
`[first_word, last_word, label]` (last inclusive); predicted word spans go back to character spans of the text
through the words' offsets and are scored like LEAR and the tagger (`lear.metrics.span_scores`, micro and per-label
exact match, every gold entity counted). `--max_length` counts sub-word pieces, the label prompt included, as the
tagger's does: the words past it are cut, and their entities count as misses; so do entities longer than
`--max_width` words, which GLiNER cannot represent.

Every label is prompted for every text (`--label_sampling all`, the supervised setting: the model sees at training
the prompt it gets at inference); `gliner` keeps the library's own sampling (a text's gold labels plus in-batch
negatives). The decision threshold is chosen on the validation split among 0.1..0.9 unless `--threshold` is given;
with `--select_on_dev` every epoch is scored on validation (at its best threshold) and the best epoch is kept.

    python -m bench.gliner --encoder PATH --dataset_dir outputs/data/conll2003 --output_dir outputs/gliner \
        --seed 0 --num_train_epochs 7 --learning_rate 2e-4 --head_lr_multiplier 10 --batch_size 16 --select_on_dev

The defaults (lr 2e-4, head x10 = LEAR's recipe, focal loss alpha 0.75 / gamma 2) are the recipe that learned best
in the trials of docs/gliner-notes.md; GLiNER's own learning rates (1e-5 / 5e-5) and plain BCE learned nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import datasets
from gliner import GLiNER
from gliner import __version__ as GLINER_VERSION
from gliner.config import UniEncoderSpanConfig
from gliner.model import UniEncoderSpanGLiNER
from gliner.training import Trainer as GlinerTrainer
from gliner.training import TrainingArguments as GlinerTrainingArguments
from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from bench.tagger import (
    baseline_parser,
    resolve_learning_rate,
    set_threads_and_logging,
    shared_training_arguments,
    write_prediction_records,
)
from lear.metrics import span_scores
from lear.training_args import train_at_least_min_steps
from lear.windowing import word_char_offsets


THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 10))
DEV_SUBSET_SEED = 1234  # one validation subset for every run (bench.quality's TEST_SUBSET_SEED)


# ---- data: character offsets <-> word spans ----------------------------------------------------------------------


def word_spans(text: str, words: Sequence[str], entities: Sequence[dict]) -> list[list]:
    """Character-offset entities -> GLiNER's `[first_word, last_word, label]` (last inclusive): the words lying
    wholly inside the entity, the rule of `bench.tagger.word_tags`. An entity covering no whole word is left out
    (the converted corpora put every boundary on a word boundary, so this does not happen on them)."""
    offsets = word_char_offsets(text, words)
    spans = []
    for entity in sorted(entities, key=lambda e: (e["start"], e["end"])):
        covered = [k for k, (start, end) in enumerate(offsets) if start >= entity["start"] and end <= entity["end"]]
        if covered:
            spans.append([covered[0], covered[-1], entity["label"]])
    return spans


def char_spans(text: str, words: Sequence[str], spans: Sequence) -> list[tuple[int, int, str, float]]:
    """Predicted word spans `(first_word, last_word, label, score)` -> character spans `(start, end, label, score)`
    of the text, from the first word's start to the last word's end."""
    offsets = word_char_offsets(text, words)
    return [(offsets[first][0], offsets[last][1], label, score) for first, last, label, score in spans]


def word_budget(tokenizer, words: Sequence[str], budget: int) -> int:
    """How many leading words fit in `budget` sub-word pieces (the rest is cut, as the tagger cuts at max_length)."""
    if not words or budget <= 0:
        return 0
    word_ids = tokenizer(list(words), is_split_into_words=True, add_special_tokens=False).word_ids()
    if len(word_ids) <= budget:
        return len(words)
    return word_ids[budget]  # the word of the first piece past the budget: it and all after it are cut


def prompt_pieces(tokenizer, prompts: Sequence[str], ent_token: str, sep_token: str) -> int:
    """Pieces the label prompt (`<<ENT>> label ... <<SEP>>`) and the two special tokens take from max_length."""
    prompt = [piece for text in prompts for piece in (ent_token, text)] + [sep_token]
    return len(tokenizer(prompt, is_split_into_words=True, add_special_tokens=True)["input_ids"])


LABEL_PROMPTS = ("name", "description")  # what GLiNER may read for a label (`label_prompts`)


def label_prompts(labels: dict[str, str], mode: str) -> list[str]:
    """The text GLiNER reads for each label: its name (as a GLiNER user writes it) or its labels.json description."""
    return list(labels) if mode == "name" else [labels[label] for label in labels]


def training_items(
    rows: datasets.Dataset, kept: Sequence[int], prompts: Sequence[str] | None, prompt_of: dict[str, str]
) -> list[dict]:
    """GLiNER's training records: words cut at `kept`, the word spans inside the cut, labels as prompt texts, and
    `ner_labels` = every prompt when given (else gliner samples a text's labels and in-batch negatives)."""
    items = []
    for row, count in zip(rows, kept):
        spans = [[first, last, prompt_of[label]] for first, last, label in
                 word_spans(row["text"], row["tokens"], row["entities"]) if last < count]  # fmt: skip
        item = {"tokenized_text": list(row["tokens"][:count]), "ner": spans}
        if prompts is not None:
            item["ner_labels"] = list(prompts)
        items.append(item)
    return items


def gold_char_spans(rows: datasets.Dataset) -> list[list[tuple[int, int, str]]]:
    """Every gold entity of the split, also those cut off or too wide for the model (they count as misses)."""
    return [[(e["start"], e["end"], e["label"]) for e in row["entities"]] for row in rows]


# ---- model and prediction ---------------------------------------------------------------------------------------


def build_model(args: argparse.Namespace) -> UniEncoderSpanGLiNER:
    """A fresh UniEncoderSpanGLiNER on the local encoder (its weights loaded, GLiNER's layers random), with
    GLiNER's own defaults for its head (markerV0 spans, LSTM, hidden 512, dropout 0.4) unless overridden; or, with
    `--init`, a trained GLiNER checkpoint (e.g. bench.gliner_zero_shot's multi-corpus model) with its own head."""
    if getattr(args, "init", None):
        return GLiNER.from_pretrained(args.init, local_files_only=True, load_tokenizer=True)
    config = UniEncoderSpanConfig(
        model_name=args.encoder,
        max_width=args.max_width,
        hidden_size=args.hidden_size,
        dropout=args.dropout,
        span_mode="markerV0",
        max_len=args.max_length,  # in words; never binding, the piece budget cuts first
    )
    return UniEncoderSpanGLiNER.load_from_config(config)  # a local folder: no download is attempted


def predict_by_threshold(
    model: UniEncoderSpanGLiNER,
    rows: datasets.Dataset,
    kept: Sequence[int],
    prompts: Sequence[str],
    labels: Sequence[str],
    thresholds: Sequence[float],
    batch_size: int,
    flat_ner: bool = True,
) -> dict[float, list[list[tuple[int, int, str, float]]]]:
    """Predicted character spans of every text at each threshold, from one forward pass per batch (decoding is
    cheap next to the encoder, so choosing a threshold costs no extra pass). The words are the corpus's, not
    GLiNER's whitespace splitting of the text, so that character-split corpora (Weibo) keep their units."""
    model.eval()
    collator = model.create_collator()
    predicted: dict[float, list] = {threshold: [] for threshold in thresholds}
    for begin in range(0, len(rows), batch_size):
        chunk = rows.select(range(begin, min(begin + batch_size, len(rows))))
        counts = kept[begin : begin + len(chunk)]
        input_x = [{"tokenized_text": list(row["tokens"][:count]), "ner": None} for row, count in zip(chunk, counts)]
        batch = model.collate_batch(input_x, list(prompts), collator, label_names=list(labels))
        output = model.run_batch(batch, threshold=min(thresholds))
        for threshold in thresholds:
            decoded = model.decode_batch(output, batch, threshold=threshold, flat_ner=flat_ner)
            for row, count, spans in zip(chunk, counts, decoded):
                word_level = [(s.start, s.end, s.entity_type, float(s.score)) for s in spans] if count else []
                predicted[threshold].append(char_spans(row["text"], row["tokens"], word_level))
    return predicted


def choose_threshold(gold: Sequence, by_threshold: dict[float, list]) -> tuple[float, dict[float, float]]:
    """The threshold with the best micro span F1 (the lowest among ties) and the F1 at every threshold."""
    f1 = {threshold: span_scores(gold, predicted)["f1"] for threshold, predicted in by_threshold.items()}
    return max(f1, key=lambda threshold: (f1[threshold], -threshold)), f1


class SpanF1Trainer(GlinerTrainer):
    """gliner's Trainer whose evaluation is LEAR's: span F1 on the validation rows at the best threshold (or the
    given one), so that `metric_for_best_model="f1"` keeps the best epoch and a resumed run knows it."""

    def __init__(self, *args, dev_rows, dev_kept, prompts, labels, thresholds, eval_batch_size, flat_ner, **kwargs):
        super().__init__(*args, **kwargs)
        self.dev = (dev_rows, dev_kept, gold_char_spans(dev_rows))
        self.prompts, self.labels, self.thresholds = prompts, labels, thresholds
        self.span_batch_size, self.flat_ner = eval_batch_size, flat_ner

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        rows, kept, gold = self.dev
        started = time.perf_counter()
        by_threshold = predict_by_threshold(self.model, rows, kept, self.prompts, self.labels, self.thresholds,
                                            self.span_batch_size, self.flat_ner)  # fmt: skip
        threshold, f1 = choose_threshold(gold, by_threshold)
        metrics = {f"{metric_key_prefix}_f1": f1[threshold], f"{metric_key_prefix}_threshold": threshold,
                   **{f"{metric_key_prefix}_f1@{t}": value for t, value in f1.items()},
                   f"{metric_key_prefix}_runtime": time.perf_counter() - started}  # fmt: skip
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


def kept_evaluation(state) -> dict[float, float] | None:
    """Validation F1 by threshold of the epoch that was kept, read from the log (so also after a resume)."""
    best = state.best_model_checkpoint
    step = int(best.rsplit("-", 1)[-1]) if best else None
    for entry in state.log_history:
        if "eval_f1" in entry and entry.get("step") == step:
            return {float(key.split("@")[1]): value for key, value in entry.items() if key.startswith("eval_f1@")}
    return None


def dev_history(state) -> list[dict]:
    """Each validation pass of the run: its epoch, span F1 and threshold."""
    entries = [entry for entry in state.log_history if "eval_f1" in entry]
    return [{"epoch": e.get("epoch"), "f1": e["eval_f1"], "threshold": e["eval_threshold"]} for e in entries]


# ---- the run ----------------------------------------------------------------------------------------------------


def dev_split(corpus: datasets.DatasetDict, size: int) -> datasets.Dataset:
    """The validation split, or a fixed random `size` of it (the same rows for every run) to cut evaluation time."""
    dev = corpus["validation"]
    return dev.shuffle(seed=DEV_SUBSET_SEED).select(range(size)) if 0 < size < len(dev) else dev


def training_arguments(args: argparse.Namespace, train_samples: int) -> GlinerTrainingArguments:
    """gliner's TrainingArguments for the run, with LEAR's step floor (`--min_train_steps`) on a small split."""
    training_args = GlinerTrainingArguments(
        **shared_training_arguments(args),  # learning_rate: the encoder's ("token_rep_layer", its projection included)
        others_lr=args.learning_rate * args.head_lr_multiplier,  # span, prompt and LSTM layers
        others_weight_decay=args.weight_decay,
        focal_loss_alpha=args.focal_alpha,
        focal_loss_gamma=args.focal_gamma,
        loss_reduction=args.loss_reduction,
        logging_steps=10,
        dataloader_num_workers=0,  # gliner's default of 1 forks a worker per epoch: no gain for in-memory lists
    )
    train_at_least_min_steps(training_args, args.min_train_steps, math.ceil(train_samples / args.batch_size))
    return training_args


def recipe_fields(args: argparse.Namespace) -> dict:
    return {
        "model": "gliner",
        "gliner_version": GLINER_VERSION,
        "gliner_class": UniEncoderSpanGLiNER.__name__,
        "encoder": args.encoder,
        "seed": args.seed,
        "num_train_epochs": args.num_train_epochs,
        "min_train_steps": args.min_train_steps,
        "learning_rate": args.learning_rate,
        "head_lr_multiplier": args.head_lr_multiplier,
        "others_lr": args.learning_rate * args.head_lr_multiplier,
        "focal_alpha": args.focal_alpha,
        "focal_gamma": args.focal_gamma,
        "loss_reduction": args.loss_reduction,
        "batch_size": args.batch_size,
        "warmup": args.warmup,
        "weight_decay": args.weight_decay,
        "max_length": args.max_length,
        "max_width": args.max_width,
        "hidden_size": args.hidden_size,
        "dropout": args.dropout,
        "label_prompt": args.label_prompt,
        "label_sampling": args.label_sampling,
        "select_on_dev": args.select_on_dev,
        "flat_ner": not args.nested,
    }


def train_and_score(args: argparse.Namespace) -> dict:
    set_seed(args.seed)
    dataset_dir, output_dir = Path(args.dataset_dir), Path(args.output_dir)
    corpus = datasets.load_from_disk(str(dataset_dir))
    descriptions = json.loads((dataset_dir / "labels.json").read_text(encoding="utf-8"))
    labels = list(descriptions)
    prompts = label_prompts(descriptions, args.label_prompt)
    prompt_of = dict(zip(labels, prompts))
    model = build_model(args)
    tokenizer, config = model.data_processor.transformer_tokenizer, model.config
    budget = args.max_length - prompt_pieces(tokenizer, prompts, config.ent_token, config.sep_token)
    if budget <= 0:
        raise SystemExit(f"the label prompt alone fills --max_length {args.max_length}: raise it")
    dev = dev_split(corpus, args.dev_size)

    def kept_words(rows: datasets.Dataset) -> list[int]:
        return [word_budget(tokenizer, row["tokens"], budget) for row in rows]

    train_kept, dev_kept, test_kept = kept_words(corpus["train"]), kept_words(dev), kept_words(corpus["test"])
    train = training_items(corpus["train"], train_kept, prompts if args.label_sampling == "all" else None, prompt_of)
    thresholds = (args.threshold,) if args.threshold is not None else THRESHOLDS
    flat_ner = not args.nested
    trainer = SpanF1Trainer(
        model=model,
        args=training_arguments(args, len(train)),
        train_dataset=train,
        eval_dataset=training_items(dev, dev_kept, prompts, prompt_of) if args.select_on_dev else None,
        data_collator=model._create_data_collator(),
        processing_class=tokenizer,
        dev_rows=dev, dev_kept=dev_kept, prompts=prompts, labels=labels, thresholds=thresholds,
        eval_batch_size=args.eval_batch_size, flat_ner=flat_ner,
    )  # fmt: skip
    started = time.perf_counter()
    last_checkpoint = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    train_metrics = trainer.train(resume_from_checkpoint=last_checkpoint).metrics  # resumes an interrupted run
    train_seconds = time.perf_counter() - started

    # the kept model's validation F1 by threshold: from its epoch's pass, else one validation pass now
    dev_f1 = kept_evaluation(trainer.state) if args.select_on_dev else None
    if dev_f1 is None:
        dev_by_threshold = predict_by_threshold(model, dev, dev_kept, prompts, labels, thresholds,
                                                args.eval_batch_size, flat_ner)  # fmt: skip
        dev_f1 = choose_threshold(gold_char_spans(dev), dev_by_threshold)[1]
    threshold = args.threshold if args.threshold is not None else max(dev_f1, key=lambda t: (dev_f1[t], -t))

    started = time.perf_counter()
    test_by_threshold = predict_by_threshold(model, corpus["test"], test_kept, prompts, labels,
                                             sorted({*THRESHOLDS, threshold}), args.eval_batch_size, flat_ner)  # fmt: skip
    predict_seconds = time.perf_counter() - started
    gold = gold_char_spans(corpus["test"])
    predicted = test_by_threshold[threshold]
    scores = span_scores(gold, predicted)
    write_prediction_records(output_dir / "predictions.jsonl", corpus["test"]["text"], gold, predicted)
    trainer.save_model()  # the kept model (gliner's save_pretrained), for later probes

    results = {f"predict_{key}": value for key, value in scores.items()}
    results.update(
        threshold=threshold,
        threshold_source="given" if args.threshold is not None else "validation",
        best_dev_f1=trainer.state.best_metric if args.select_on_dev else dev_f1[threshold],
        dev_f1=dev_f1[threshold],
        dev_f1_by_threshold={str(t): f for t, f in dev_f1.items()},
        # diagnostic only (the threshold is chosen on validation): shows a model that scores nothing at 0.5
        predict_f1_by_threshold={str(t): span_scores(gold, p)["f1"] for t, p in test_by_threshold.items()},
        dev_sentences=len(dev),
        test_sentences=len(corpus["test"]),
        test_texts_cut=sum(count < len(row["tokens"]) for row, count in zip(corpus["test"], test_kept)),
        train_samples=len(corpus["train"]),
        train_steps=trainer.state.global_step,
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
        train_loss=train_metrics.get("train_loss"),
        dev_history=dev_history(trainer.state),
        **recipe_fields(args),
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "gliner_results.json").write_text(json.dumps(results, indent=2))
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = baseline_parser(__doc__, "encoder folder (AutoModel loads it; GLiNER's layers are new)")
    parser.add_argument("--min_train_steps", type=int, default=0,
                        help="train at least this many steps, as run_lear.py's --min_train_steps (0: epochs only)")  # fmt: skip
    parser.add_argument("--head_lr_multiplier", type=float, default=10.0,
                        help="GLiNER's others_lr (span, prompt, LSTM layers) = learning_rate x this")  # fmt: skip
    # focal loss on by default: with plain BCE (alpha -1, gamma 0) the model learned nothing (docs/gliner-notes.md)
    parser.add_argument("--focal_alpha", type=float, default=0.75, help="focal loss alpha (-1: unweighted)")
    parser.add_argument("--focal_gamma", type=float, default=2.0, help="focal loss gamma (0 with alpha -1: BCE)")
    parser.add_argument("--loss_reduction", choices=("sum", "mean"), default="sum", help="gliner's default: sum")
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument("--warmup", type=float, default=0.1, help="warm-up: a fraction of the steps (<1) or steps")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--eval_batch_size", type=int, default=32)
    parser.add_argument("--max_length", type=int, default=192,
                        help="sub-word pieces per input, label prompt included; words past it are cut (misses)")  # fmt: skip
    parser.add_argument("--max_width", type=int, default=12, help="longest span in words (GLiNER's default)")
    parser.add_argument("--hidden_size", type=int, default=512, help="GLiNER's span/prompt width (its default)")
    parser.add_argument("--dropout", type=float, default=0.4, help="GLiNER's head dropout (its default)")
    parser.add_argument("--label_prompt", choices=LABEL_PROMPTS, default="name",
                        help="what GLiNER reads for a label: its name or its labels.json description")  # fmt: skip
    parser.add_argument("--label_sampling", choices=("all", "gliner"), default="all",
                        help="all: every label prompted for every text; gliner: the library's gold + negatives")  # fmt: skip
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold (default: the best on the validation split among 0.1..0.9)")  # fmt: skip
    parser.add_argument("--dev_size", type=int, default=0,
                        help="score a fixed random N of the validation split (0: all of it)")  # fmt: skip
    parser.add_argument("--nested", action="store_true", help="let predicted spans overlap (nested corpora)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--select_on_dev", action="store_true",
                        help="evaluate on the validation split every epoch and keep the best epoch (span F1)")  # fmt: skip
    parser.add_argument("--init", default="",
                        help="fine-tune this GLiNER checkpoint (its head settings) instead of a fresh model")  # fmt: skip
    return resolve_learning_rate(parser.parse_args(argv))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    set_threads_and_logging(args.threads)
    results = train_and_score(args)
    print(json.dumps({key: results[key] for key in ("predict_precision", "predict_recall", "predict_f1",
                                                     "best_dev_f1", "threshold")}))  # fmt: skip


if __name__ == "__main__":
    main()
