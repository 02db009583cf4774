"""GLiNER on the same footing as LEAR's zero-shot model: trained on the same mix of corpora (`lear.corpus_mix`, the
same texts of each corpus), the same encoder and steps, its threshold chosen on the mix's validation texts, then
scored on corpora it never saw by the code that scores LEAR (`lear.metrics.span_scores`, exact character spans,
every gold entity counted, per-label F1).

GLiNER reads each label's name (its users' way; `--label_prompt description` gives it the descriptions LEAR reads).
`--train_label_prompt` trains it on one text and lets it read the other at validation and on the targets, as LEAR's
documented model, trained partly on names, is scored by the corpora's definitions.
Training texts are cut into word windows of at most `--window_pieces` sub-word pieces (LEAR's windows are 128
pieces), each prompted with its gold labels plus negatives drawn from its own corpus's labels, up to
`--max_labels` (LEAR's `--max_labels_per_batch` samples the same way per batch). At evaluation a text is prompted
with all its corpus's labels, `--max_labels` at a time, and the spans of every chunk of labels are merged, the best
first where they overlap (GLiNER's flat decoding).

    python -m bench.gliner_zero_shot --encoder PATH --output_dir outputs/zero-shot/gliner --tag mix4 \
        --dataset_dir outputs/data/pile_ner outputs/data/ontonotes5_en outputs/data/bc5cdr outputs/data/ncbi_disease \
        --corpus mit_movie=outputs/data/mit_movie --corpus mit_restaurant=outputs/data/mit_restaurant \
        --corpus bionlp13cg=outputs/data/bionlp13cg --max_steps 1000

writes bench/results/zeroshot-<corpus>-gliner-<tag>.json per target corpus; resumes from its checkpoints.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import datasets
from gliner.training import Trainer as GlinerTrainer
from gliner.training import TrainingArguments as GlinerTrainingArguments
from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from bench.gliner import (
    LABEL_PROMPTS,
    THRESHOLDS,
    build_model,
    choose_threshold,
    gold_char_spans,
    label_prompts,
    predict_by_threshold,
    prompt_pieces,
    word_budget,
    word_spans,
)
from bench.tagger import set_threads_and_logging
from bench.zero_shot import parse_corpus
from lear.corpus_mix import LABEL_SET_COLUMN, load_corpus_mix, sample_per_corpus
from lear.metrics import span_scores


def word_windows(tokenizer, words: Sequence[str], pieces: int) -> list[tuple[int, int]]:
    """Consecutive `(first, end)` word ranges of at most `pieces` sub-word pieces each (a longer word alone)."""
    if not words:
        return []
    word_ids = tokenizer(list(words), is_split_into_words=True, add_special_tokens=False).word_ids()
    counts = [0] * len(words)
    for word_id in word_ids:
        counts[word_id] += 1
    windows, first, used = [], 0, 0
    for index, count in enumerate(counts):
        if used + count > pieces and index > first:
            windows.append((first, index))
            first, used = index, 0
        used += count
    windows.append((first, len(words)))
    return windows


def training_items(rows, tokenizer, label_sets, names, prompt_of, window_pieces, max_labels, seed) -> list[dict]:
    """GLiNER records of the mix's training texts: word windows, their whole entities, and per window its gold
    labels plus negatives of its own corpus, up to `max_labels` prompts."""
    rng = random.Random(seed)
    items = []
    for row in rows:
        spans = word_spans(row["text"], row["tokens"], row["entities"])
        own = [names[label_id] for label_id in label_sets[row[LABEL_SET_COLUMN]]]
        for first, end in word_windows(tokenizer, row["tokens"], window_pieces):
            inside = [[s - first, e - first, label] for s, e, label in spans if first <= s and e < end]
            gold = sorted({label for _, _, label in inside})[:max_labels]
            negatives = [label for label in own if label not in gold]
            sampled = gold + rng.sample(negatives, min(max_labels - len(gold), len(negatives)))
            items.append(
                {
                    "tokenized_text": list(row["tokens"][first:end]),
                    "ner": [[s, e, prompt_of[label]] for s, e, label in inside if label in sampled],
                    "ner_labels": [prompt_of[label] for label in sampled],
                }
            )
    return items


def flat_union(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """The spans of several label chunks as one flat prediction: best score first, no two sharing a character."""
    kept = []
    for span in sorted(spans, key=lambda span: -span[3]):
        if all(span[1] <= other[0] or other[1] <= span[0] for other in kept):
            kept.append(span)
    return sorted(kept)


def label_chunks(tokenizer, config, labels: Sequence[str], prompt_of, max_labels: int, prompt_budget: int):
    """`labels` in consecutive chunks of at most `max_labels` labels whose prompt takes at most `prompt_budget`
    pieces (a label alone may take more), so that long prompts (descriptions) leave room for the text as names do."""
    chunks: list[list[str]] = []
    for label in labels:
        grown = [*chunks[-1], label] if chunks else [label]
        fits = (
            len(grown) <= max_labels
            and prompt_pieces(tokenizer, [prompt_of[name] for name in grown], config.ent_token, config.sep_token)
            <= prompt_budget
        )
        if chunks and fits:
            chunks[-1] = grown
        else:
            chunks.append([label])
    return chunks


def predict_with_labels(model, rows, labels, prompt_of, args, thresholds):
    """Per threshold, each text's character spans with `labels` prompted in chunks (`label_chunks`: at most
    `--max_labels`, their prompt within `--max_length` less `--window_pieces`, the text room training had), merged."""
    tokenizer, config = model.data_processor.transformer_tokenizer, model.config
    merged = {threshold: [[] for _ in range(len(rows))] for threshold in thresholds}
    prompt_budget = args.max_length - args.window_pieces
    for chunk in label_chunks(tokenizer, config, labels, prompt_of, args.max_labels, prompt_budget):
        prompts = [prompt_of[label] for label in chunk]
        budget = args.max_length - prompt_pieces(tokenizer, prompts, config.ent_token, config.sep_token)
        kept = [word_budget(tokenizer, row["tokens"], budget) for row in rows]
        by_threshold = predict_by_threshold(model, rows, kept, prompts, chunk, thresholds, args.eval_batch_size)
        for threshold, texts in by_threshold.items():
            for text_spans, spans in zip(merged[threshold], texts):
                text_spans.extend(spans)
    return {threshold: [flat_union(spans) for spans in texts] for threshold, texts in merged.items()}


def validation_predictions(model, mix, names, prompt_of, args) -> tuple[list, dict[float, list]]:
    """Gold and per-threshold predictions of the mix's validation texts, each with its own corpus's labels."""
    rows = mix.splits["validation"]
    gold, predicted = [], {threshold: [] for threshold in THRESHOLDS}
    for label_set, label_ids in enumerate(mix.label_sets):
        group = rows.filter(lambda row, wanted=label_set: row[LABEL_SET_COLUMN] == wanted)
        if not len(group):
            continue
        labels = [names[label_id] for label_id in label_ids]
        by_threshold = predict_with_labels(model, group, labels, prompt_of, args, THRESHOLDS)
        gold.extend(gold_char_spans(group))
        for threshold in THRESHOLDS:
            predicted[threshold].extend(by_threshold[threshold])
    return gold, predicted


def train(args: argparse.Namespace, mix, names, prompt_of):
    model = build_model(args)
    tokenizer = model.data_processor.transformer_tokenizer
    train_rows = sample_per_corpus(mix.splits["train"], args.max_train_samples)
    items = training_items(train_rows, tokenizer, mix.label_sets, names, prompt_of, args.window_pieces,
                           args.max_labels, args.seed)  # fmt: skip
    training_args = GlinerTrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        others_lr=args.learning_rate * args.head_lr_multiplier,
        weight_decay=0.01,
        others_weight_decay=0.01,
        max_steps=args.max_steps,
        warmup_steps=0.1,
        max_grad_norm=1.0,
        seed=args.seed,
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=1,
        logging_steps=25,
        focal_loss_alpha=0.75,  # bench.gliner's recipe (docs/gliner-notes.md)
        focal_loss_gamma=2.0,
        loss_reduction="sum",
        dataloader_num_workers=0,
    )
    trainer = GlinerTrainer(
        model=model, args=training_args, train_dataset=items, data_collator=model._create_data_collator(),
        processing_class=tokenizer,
    )  # fmt: skip
    output_dir = Path(args.output_dir)
    started = time.perf_counter()
    last = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    metrics = trainer.train(resume_from_checkpoint=last).metrics
    trainer.save_model()
    return model, {"train_seconds": time.perf_counter() - started, "train_windows": len(items),
                   "train_texts": len(train_rows), "train_steps": trainer.state.global_step,
                   "train_loss": metrics.get("train_loss")}  # fmt: skip


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", required=True)
    parser.add_argument("--dataset_dir", nargs="+", required=True, help="the training mix (converted corpora)")
    parser.add_argument("--corpus", type=parse_corpus, action="append", required=True, help="NAME=FOLDER targets")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--tag", required=True, help="names the result files: zeroshot-<corpus>-gliner-<tag>.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max_train_samples", type=int, default=2000, help="texts of each corpus (LEAR's rule)")
    parser.add_argument("--max_eval_samples", type=int, default=60, help="validation texts of each corpus")
    parser.add_argument("--max_steps", type=int, default=1000)
    parser.add_argument("--save_steps", type=int, default=250)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--eval_batch_size", type=int, default=32)
    parser.add_argument("--learning_rate", type=float, default=2e-4)
    parser.add_argument("--head_lr_multiplier", type=float, default=10.0)
    parser.add_argument("--max_labels", type=int, default=16, help="label prompts per text (chunks at evaluation)")
    parser.add_argument("--window_pieces", type=int, default=128, help="training windows' length in pieces")
    parser.add_argument("--max_length", type=int, default=384, help="pieces per input, prompt included")
    parser.add_argument("--max_width", type=int, default=12)
    parser.add_argument("--hidden_size", type=int, default=512)
    parser.add_argument("--dropout", type=float, default=0.4)
    parser.add_argument(
        "--label_prompt",
        choices=LABEL_PROMPTS,
        default="name",
        help="the label text read at validation and on the targets",
    )
    parser.add_argument(
        "--train_label_prompt", choices=LABEL_PROMPTS, help="the text trained on (default: --label_prompt)"
    )
    parser.add_argument("--max_predict_samples", type=int, default=None, help="first N target texts (a smoke run)")
    parser.add_argument("--results_dir", type=Path, default=RESULTS_DIR, help="where the result files go")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    args.train_label_prompt = args.train_label_prompt or args.label_prompt
    return args


def prompts_by_label(descriptions: dict[str, str], mode: str) -> dict[str, str]:
    return dict(zip(descriptions, label_prompts(descriptions, mode)))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    set_threads_and_logging(args.threads)
    set_seed(args.seed)
    paths = {name: args.results_dir / f"zeroshot-{name}-gliner-{args.tag}.json" for name, _ in args.corpus}
    for path in paths.values():
        check_result_name_free(path)
    mix = load_corpus_mix(args.dataset_dir)
    mix.splits["validation"] = sample_per_corpus(mix.splits["validation"], args.max_eval_samples)
    names = list(mix.labels)
    training_prompt_of = prompts_by_label(mix.labels, args.train_label_prompt)
    prompt_of = prompts_by_label(mix.labels, args.label_prompt)
    model, training = train(args, mix, names, training_prompt_of)

    started = time.perf_counter()
    gold, by_threshold = validation_predictions(model, mix, names, prompt_of, args)
    threshold, dev_f1 = choose_threshold(gold, by_threshold)
    validation_seconds = time.perf_counter() - started
    for name, folder in args.corpus:
        descriptions = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        target_prompts = prompts_by_label(descriptions, args.label_prompt)
        rows = datasets.load_from_disk(str(folder))["test"]
        if args.max_predict_samples:
            rows = rows.select(range(min(args.max_predict_samples, len(rows))))
        started = time.perf_counter()
        predicted = predict_with_labels(model, rows, list(descriptions), target_prompts, args, (threshold,))[threshold]
        scores = span_scores(gold_char_spans(rows), predicted)
        result = {
            "model": "gliner",
            "corpus": name,
            "split": "test",
            "encoder": args.encoder,
            "training_mix": args.dataset_dir,
            "label_text": args.label_prompt,
            "training_label_text": args.train_label_prompt,
            "threshold": threshold,
            "threshold_source": "best micro F1 on the training mix's validation texts (none from the target)",
            "mix_validation_f1_by_threshold": {str(t): f for t, f in dev_f1.items()},
            "labels_not_in_training": [label for label in descriptions if label not in mix.labels],
            **{f"predict_{key}": scores[key] for key in ("precision", "recall", "f1", "n_gold")},
            "metrics": scores,
            "per_label_f1": {label: scores.get(f"{label}_f1", 0.0) for label in descriptions},
            "texts": len(rows),
            "seconds": time.perf_counter() - started,
            "validation_seconds": validation_seconds,
            **training,
            **{key: value for key, value in vars(args).items() if key not in ("corpus", "dataset_dir", "results_dir")},
            **provenance("bench.gliner_zero_shot", argv),
        }
        write_result(paths[name], result)
        print(f"{name}: F1 {result['predict_f1']:.4f} at threshold {threshold} -> {paths[name]}")


if __name__ == "__main__":
    main()
