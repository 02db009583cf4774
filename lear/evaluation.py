# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Scoring LEAR on whole texts, by the path the pipeline runs: windows -> forward -> decode -> character spans.

Predictions go through `decoding_lear.predict_window_spans`, the pipeline's own step, and are scored as character
spans of the whole texts against **every** gold entity of the split, also those no window can represent
(`n_unreachable`); memory holds spans, never logits. Threshold calibration decodes one forward pass at each candidate
threshold. `lear.trainer.LearTrainer.evaluate`/`predict` and the benchmarks call `evaluate_spans`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import datasets
import torch

from .decoding_lear import predict_window_spans
from .distributed import gather_objects
from .metrics import span_scores
from .training import DECODING_MASKS, LearFeatureBuilder, alignment_summary, model_inputs
from .windowing import CharSpan, TextWindow, text_char_spans, window_row


ENCODE_CHUNK = 1000  # texts tokenized at once when a split's windows are built


@dataclass
class EvaluationSplit:
    """One split as evaluation reads it: texts, gold `(char start, char end, label id)` spans, windows and targets.

    Build it with `from_examples`. `targets[k]` are window k's training targets (`LearFeatureBuilder.encode`), for
    the evaluation loss only: the scores compare character spans with `gold`, which comes from the data, not from
    the windows.
    """

    texts: list[str]
    gold: list[list[tuple[int, int, int]]]
    label_names: list[str]
    windows: list[TextWindow]
    targets: list[dict[str, Any]]
    with_token_type_ids: bool = False
    ids: list[str] | None = None
    # A mix of corpora with different label sets: the label ids each corpus scores, and each text's corpus (an index
    # into label_sets). None: every text scores every label.
    label_sets: list[list[int]] | None = None
    text_label_sets: list[int] | None = None

    def label_groups(self, num_labels: int) -> list[tuple[list[int], set[int]]]:
        """`(label ids, texts)` pairs: the labels each group of texts is scored on (`label_sets`), or all
        `num_labels` labels for every text."""
        if self.label_sets is None:
            return [(list(range(num_labels)), set(range(len(self.texts))))]
        texts_of = [set() for _ in self.label_sets]
        for text, label_set in enumerate(self.text_label_sets):
            texts_of[label_set].add(text)
        return [(list(ids), texts) for ids, texts in zip(self.label_sets, texts_of) if texts]

    @classmethod
    def from_examples(cls, examples: datasets.Dataset, builder: LearFeatureBuilder) -> EvaluationSplit:
        """The split's rows (text, words, entities columns as `builder` names them), windowed by `builder`."""
        windows, targets = [], []
        for first in range(0, len(examples), ENCODE_CHUNK):
            for window, window_targets in builder.encode(examples[first : first + ENCODE_CHUNK]):
                windows.append(dataclasses.replace(window, text_index=first + window.text_index))
                targets.append(window_targets)
        label_names = [name for name, _ in sorted(builder.label2id.items(), key=lambda item: item[1])]
        return cls(
            texts=list(examples[builder.text_column]),
            gold=[sorted(row) for row in builder.entity_ids(examples[builder.entities_column])],
            label_names=label_names,
            windows=windows,
            targets=targets,
            with_token_type_ids=builder.with_token_type_ids,
            ids=list(examples["id"]) if "id" in examples.column_names else None,
        )

    def __len__(self) -> int:
        return len(self.windows)

    def rows(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """Windows `indices` as `LearDataCollator` rows."""
        return [
            {**window_row(self.windows[index], self.with_token_type_ids), **self.targets[index]} for index in indices
        ]

    def alignment(self) -> dict[str, int]:
        """`training.alignment_summary` of the split: texts, windows, gold, inexact, cut."""
        rows = [{**targets, "example_index": window.text_index} for window, targets in zip(self.windows, self.targets)]
        return alignment_summary(rows)

    def first_window_ends(self) -> list[int]:
        """Per text, the character where its first window's last token ends: where a model that truncates at
        `max_seq_length` instead of windowing stops reading (a text that fits one window is read whole)."""
        ends = [0] * len(self.texts)
        single = [True] * len(self.texts)
        for window in self.windows:
            if window.window_index == 0:
                ends[window.text_index] = max((end for _, end in window.token_spans if end >= 0), default=0)
            else:
                single[window.text_index] = False
        return [2**31 - 1 if whole else end for end, whole in zip(ends, single)]

    def score(self, predictions: Sequence[Sequence[CharSpan]]) -> dict[str, float]:
        """Scores of per-text character spans against every gold entity (`span_scores` keys), `n_unreachable`, and
        the original code's scoring: `precision_truncated`, `recall_truncated`, `f1_truncated`,
        `n_gold_truncated` (each text cut after its first window, gold and predictions past the cut dropped;
        comparable with figures the authors' code reports)."""
        scores = span_scores(self.gold, predictions, self.label_names, every_label=self.label_sets is None)
        alignment = self.alignment()
        scores["n_unreachable"] = alignment["inexact"] + alignment["cut"]
        gold, predicted = [], []
        for text_gold, text_predicted, cut in zip(self.gold, predictions, self.first_window_ends()):
            gold.append([span for span in text_gold if span[1] <= cut])
            predicted.append([span for span in text_predicted if span[1] <= cut])
        truncated = span_scores(gold, predicted)
        scores.update({f"{key}_truncated": truncated[key] for key in ("precision", "recall", "f1", "n_gold")})
        return scores

    def records(self, predictions: Sequence[Sequence[CharSpan]]) -> list[dict[str, Any]]:
        """Per text a JSON-ready record: id (when the split has one), text, gold and predicted spans with character
        offsets, label names, the covered text and (predictions) scores."""
        records = []
        for index, (text, gold, predicted) in enumerate(zip(self.texts, self.gold, predictions)):
            record: dict[str, Any] = {"id": self.ids[index]} if self.ids is not None else {}
            record["text"] = text
            record["gold"] = [self._span_record(text, start, end, label) for start, end, label in gold]
            record["predicted"] = [
                {**self._span_record(text, span.start, span.end, span.label), "score": round(span.score, 4)}
                for span in predicted
            ]
            records.append(record)
        return records

    def _span_record(self, text: str, start: int, end: int, label: int) -> dict[str, Any]:
        return {"start": start, "end": end, "label": self.label_names[label], "text": text[start:end]}


def read_prediction_spans(path: Path) -> tuple[list[str], list[list[tuple]], list[list[tuple]]]:
    """The texts of a `predictions.jsonl` (`EvaluationSplit.records`, one per line, as run_lear.py and the bench
    baselines write them) with their gold and predicted spans as `(start, end, label)` character offsets: the input
    of `lear.metrics`' scorers."""
    texts, gold, predicted = [], [], []
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts.append(record["text"])
            gold.append([(span["start"], span["end"], span["label"]) for span in record["gold"]])
            predicted.append([(span["start"], span["end"], span["label"]) for span in record["predicted"]])
    return texts, gold, predicted


class TextPredictions(NamedTuple):
    """`predict_text_spans`' result: per threshold, each text's character spans; the mean evaluation loss."""

    by_threshold: dict[float | None, list[list[CharSpan]]]
    loss: float | None


class SpanEvaluation(NamedTuple):
    """`evaluate_spans`' result: the scores (unprefixed keys) and each text's predicted character spans."""

    metrics: dict[str, float]
    predictions: list[list[CharSpan]]


def predict_text_spans(
    model,
    split: EvaluationSplit,
    collator,
    batch_size: int,
    thresholds: Sequence[float | None] = (None,),
    process_index: int = 0,
    num_processes: int = 1,
    forward_context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    with_loss: bool = True,
) -> TextPredictions:
    """Each text's character spans, decoded at every threshold of `thresholds` from one forward pass per batch.

    `None` decodes with the config's thresholds (`label_thresholds` where calibrated); a number overrides them all
    (`decode_spans(threshold=...)`). Batches of `batch_size` windows of about one length (longest first) go through
    `collator`; the label states are computed once. With `num_processes > 1` (a `torch.distributed` process group)
    this process runs the texts `process_index, process_index + num_processes, ...` and the results are gathered
    from all processes.
    `forward_context` wraps each forward (the Trainer's autocast). The model is left in the mode it was in.
    """
    device = next(model.parameters()).device
    mine = [index for index, window in enumerate(split.windows) if window.text_index % num_processes == process_index]
    window_spans: dict[float | None, dict[int, list]] = {threshold: {} for threshold in thresholds}
    loss_sum, loss_windows = 0.0, 0
    was_training = model.training
    model.eval()
    all_labels = split.label_sets is None  # every text scores every label, in id order
    try:
        with torch.no_grad():
            for label_ids, texts in split.label_groups(model.config.num_labels):
                group = [index for index in mine if split.windows[index].text_index in texts]
                # Longest windows first, so that batches hold windows of about one length: little padding (decoding
                # masks it, so the spans do not depend on the batching), and an out-of-memory error shows at once.
                group.sort(key=lambda index: -len(split.windows[index].input_ids))
                with forward_context():  # once a label set: they do not depend on the text
                    label_states = model.compute_label_states(None if all_labels else label_ids)
                for first in range(0, len(group), batch_size):
                    indices = group[first : first + batch_size]
                    batch = collator(split.rows(indices), label_ids=label_ids)
                    start_mask, end_mask = (batch[name].to(device) for name in DECODING_MASKS)
                    inputs = model_inputs(batch, device)
                    if not with_loss:
                        inputs = {name: value for name, value in inputs.items() if not name.endswith("_labels")}
                    with forward_context():  # the pipeline's step: one forward, decoded at every threshold
                        outputs, decoded = predict_window_spans(
                            model, inputs, start_mask, end_mask, thresholds,
                            label_ids=None if all_labels else label_ids, label_states=label_states,
                        )  # fmt: skip
                    if outputs.loss is not None:
                        loss_sum += float(outputs.loss) * len(indices)
                        loss_windows += len(indices)
                    for threshold, batch_spans in decoded.items():
                        for index, spans in zip(indices, batch_spans):  # label: column -> the model's label id
                            window_spans[threshold][index] = [
                                span._replace(label=label_ids[span.label]) for span in spans
                            ]
    finally:
        model.train(was_training)
    windows = [split.windows[index] for index in mine]
    local = (
        {
            threshold: text_char_spans(windows, [spans[index] for index in mine], len(split.texts))
            for threshold, spans in window_spans.items()
        },
        loss_sum,
        loss_windows,
    )
    shards = gather_objects(local, num_processes)
    by_threshold = {
        threshold: [
            [span for shard in shards for span in shard[0][threshold][text]] for text in range(len(split.texts))
        ]
        for threshold in thresholds
    }  # each text's spans come from one process: the one that ran it
    total_windows = sum(shard[2] for shard in shards)
    loss = sum(shard[1] for shard in shards) / total_windows if total_windows else None
    return TextPredictions(by_threshold, loss)


def evaluate_spans(
    model,
    split: EvaluationSplit,
    collator,
    batch_size: int,
    process_index: int = 0,
    num_processes: int = 1,
    forward_context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> SpanEvaluation:
    """Score a model on a split: `predict_text_spans` with the config's thresholds, then `EvaluationSplit.score`,
    and `loss`, the evaluation loss (the training loss, averaged over windows). Returns the scores and each text's
    predicted character spans."""
    predicted = predict_text_spans(
        model, split, collator, batch_size, (None,), process_index, num_processes, forward_context
    )
    predictions = predicted.by_threshold[None]
    metrics = split.score(predictions)
    if predicted.loss is not None:
        metrics = {"loss": predicted.loss, **metrics}
    return SpanEvaluation(metrics, predictions)


def predicted_no_span(metrics: Mapping[str, float], prefix: str) -> bool:
    """Whether scores under `prefix` (`eval`, `predict`) found no span at all on a split that has entities: the
    model sits at its all-negative prior. Reads the micro counts, not the per-label ones beside them."""
    return metrics.get(f"{prefix}_n_predicted", 1) == 0 and bool(metrics.get(f"{prefix}_n_gold"))


# ---------------------------------------------------------------------------------------------------------------------
# Threshold calibration
# ---------------------------------------------------------------------------------------------------------------------

#: Thresholds tried by `calibrate_label_thresholds`.
THRESHOLD_CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
#: How `calibrate_label_thresholds` chooses: each label its own best threshold, or one threshold for all labels.
CALIBRATION_POLICIES = ("per_label", "global")
#: run_lear.py's `--calibration_policy` default. One threshold for all labels: it measured best across corpora (mean
#: test F1 over CoNLL-2003 1/5/100 %, LitBank, PHEE and Weibo; bench/benchmarks.md, "Threshold policies across
#: corpora"), because a per-label best fitted on a few dozen validation mentions of a rare label follows the
#: split's noise.
DEFAULT_CALIBRATION_POLICY = "global"


def check_calibration_policy(policy: str, name: str = "calibration policy") -> None:
    """Raise a `ValueError` naming `name` unless `policy` is one of `CALIBRATION_POLICIES`."""
    if policy not in CALIBRATION_POLICIES:
        raise ValueError(f"{name} must be one of {CALIBRATION_POLICIES}, got {policy!r}")


def predictions_by_threshold(
    model,
    split: EvaluationSplit,
    collator,
    batch_size: int,
    candidates: Sequence[float] = THRESHOLD_CANDIDATES,
    process_index: int = 0,
    num_processes: int = 1,
) -> dict[float, list[list[CharSpan]]]:
    """A flat model's character spans for each text of a split at every candidate threshold (start and end alike,
    all labels alike): one forward pass, then each candidate only decodes (`predict_text_spans`)."""
    if model.config.nested:
        raise ValueError("threshold calibration is for flat models (a nested model has start, end and span thresholds)")
    predicted = predict_text_spans(
        model, split, collator, batch_size, tuple(candidates), process_index, num_processes, with_loss=False
    )
    return predicted.by_threshold


def predictions_at(table: Mapping[float, list[list[CharSpan]]], thresholds: Sequence[float]) -> list[list[CharSpan]]:
    """Each text's spans with label `c` decoded at `thresholds[c]`, assembled from `predictions_by_threshold`'s table
    (flat decoding treats labels independently, so this equals decoding with those per-label thresholds)."""
    texts = len(next(iter(table.values())))
    return [
        sorted(
            span
            for threshold in set(thresholds)
            for span in table[threshold][index]
            if thresholds[span.label] == threshold
        )
        for index in range(texts)
    ]


def choose_thresholds(
    table: Mapping[float, list[list[CharSpan]]],
    gold,
    label_names: Sequence[str],
    policy: str = DEFAULT_CALIBRATION_POLICY,
) -> list[float]:
    """Thresholds (one per label, id order) chosen on the split behind `table`: each label's best F1
    (`"per_label"`), or the best micro F1 with one threshold for all labels (`"global"`). Ties keep the higher
    threshold."""
    check_calibration_policy(policy)
    scores = {threshold: span_scores(gold, spans, label_names) for threshold, spans in table.items()}
    ordered = sorted(scores, reverse=True)  # max() keeps the first of equal scores: the higher threshold
    if policy == "global":
        return [max(ordered, key=lambda threshold: scores[threshold]["f1"])] * len(label_names)
    return [max(ordered, key=lambda threshold: scores[threshold][f"{name}_f1"]) for name in label_names]


def calibrate_label_thresholds(
    model,
    split: EvaluationSplit,
    collator,
    batch_size: int,
    candidates: Sequence[float] = THRESHOLD_CANDIDATES,
    policy: str = DEFAULT_CALIBRATION_POLICY,
    process_index: int = 0,
    num_processes: int = 1,
    held_out: Sequence[int] = (),
) -> dict[str, float]:
    """Choose the decoding thresholds (start and end alike) of a flat model on an evaluation split, and store them in
    `model.config.label_thresholds`. With `held_out` label ids (labels kept out of training, `lear.corpus_mix`), the
    trained labels' thresholds are chosen on the trained labels' spans alone, and one threshold on the held-out
    labels' spans becomes `config.unseen_label_threshold` (also theirs in `label_thresholds`): the threshold of a
    label the model never saw, chosen where such labels were scored.

    LEAR's per-label sigmoid classifiers see about 1 % positives, so their probabilities at true boundaries often sit
    below 0.5 (high precision, low recall): a lower threshold trades the surplus precision for recall. `policy`
    (`CALIBRATION_POLICIES`) chooses one threshold per label or one for all (fewer choices fitted to the split).
    Returns `{label: threshold}`.
    """
    table = predictions_by_threshold(model, split, collator, batch_size, candidates, process_index, num_processes)
    names = model.config.label_names
    if not held_out:
        thresholds = choose_thresholds(table, split.gold, names, policy)
    else:
        held = set(held_out)
        trained = choose_thresholds(
            spans_of(table, lambda label: label not in held),
            gold_of(split.gold, lambda label: label not in held),
            names,
            policy,
        )
        unseen = choose_thresholds(
            spans_of(table, held.__contains__), gold_of(split.gold, held.__contains__), names, "global"
        )[0]
        thresholds = [unseen if label in held else threshold for label, threshold in enumerate(trained)]
        model.config.unseen_label_threshold = unseen
    model.config.label_thresholds = thresholds
    return dict(zip(names, thresholds))


def spans_of(table: Mapping[float, list[list[CharSpan]]], keep: Callable[[int], bool]) -> dict[float, list]:
    """`predictions_by_threshold`'s table with only the spans whose label `keep` accepts."""
    return {threshold: [[s for s in spans if keep(s.label)] for spans in texts] for threshold, texts in table.items()}


def gold_of(gold, keep: Callable[[int], bool]) -> list[list]:
    return [[span for span in spans if keep(span[2])] for spans in gold]


__all__ = [
    "CALIBRATION_POLICIES",
    "DEFAULT_CALIBRATION_POLICY",
    "check_calibration_policy",
    "THRESHOLD_CANDIDATES",
    "EvaluationSplit",
    "SpanEvaluation",
    "TextPredictions",
    "calibrate_label_thresholds",
    "choose_thresholds",
    "evaluate_spans",
    "predict_text_spans",
    "predictions_at",
    "predictions_by_threshold",
]
