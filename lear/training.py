# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Training and evaluation pieces for the stock `transformers.Trainer` (used by `run_lear.py`).

- `LearFeatureBuilder` turns rows of a converted corpus (`text`, `tokens`, `entities` as character offsets) into
  one feature per token window, with `lear.windowing`: long texts become overlapping windows, entities are aligned
  to sub-tokens, and every window remembers what is needed to map its predictions back to the whole text.
- `LearDataCollator` pads a batch and builds the model's targets: `start_labels`/`end_labels` `[B, L, C]` and, for
  nested models, `span_labels` `[B, L, L, C]`. Positions that can never start (end) an entity (special tokens,
  padding, pieces inside a unit of the text, see `windowing.char_boundaries`) are -100, as `run_ner.py` does for
  word-internal sub-tokens; so are the in-window boundaries of entities that a window cuts.
- `make_preprocess_logits_for_metrics` decodes each evaluation batch at once, so evaluation keeps a small tensor of
  spans per window instead of every `[N, L, C]` (and `[N, L, L, C]`) logit. It reads the decoding masks back from
  the -100s of the labels, and each window's row number (`add_feature_index`) from digits the collator hides in
  attention-masked label positions, so that predictions find their window in any evaluation order.
- `SpanEvaluator` is `compute_metrics` for one split: it maps window spans to character spans of the texts (window
  ownership, then de-duplication), and scores them against *all* gold entities of the split (`lear.metrics`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from accelerate.utils import pad_across_processes

from . import windowing
from .decoding_lear import Span
from .metrics import load_span_f1, span_scores
from .modeling_lear import LearSpanExtractionOutput
from .windowing import (
    CharSpan,
    TextWindow,
    align_entities,
    encode_windows,
    merge_char_spans,
    pad_windows,
    window_spans_to_char_spans,
)


logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
# A feature index rides in the labels as INDEX_DIGITS base-100 digits (int8 cells, never -100): up to 10**10 windows.
INDEX_BASE, INDEX_DIGITS = 100, 5
PACKED_INDEX_BASE = 4096  # and in the float32 decoded spans as three base-4096 digits

# Columns every feature carries besides the encoder inputs. Pairs/triples are [position, label] / [start, end, label]
# over the window's token positions (ends inclusive).
FEATURE_COLUMNS = {
    "example_index": datasets.Value("int32"),  # row of the text in its split
    "length": datasets.Value("int32"),  # tokens in the window (for `train_sampling_strategy="group_by_length"`)
    "window_index": datasets.Value("int32"),
    "token_spans": datasets.List(datasets.List(datasets.Value("int32"))),  # [char start, char end) per token
    "start_allowed": datasets.List(datasets.Value("bool")),
    "end_allowed": datasets.List(datasets.Value("bool")),
    "owned": datasets.List(datasets.Value("bool")),
    "start_positives": datasets.List(datasets.List(datasets.Value("int32"))),
    "end_positives": datasets.List(datasets.List(datasets.Value("int32"))),
    "start_ignored": datasets.List(datasets.List(datasets.Value("int32"))),
    "end_ignored": datasets.List(datasets.List(datasets.Value("int32"))),
    "gold_spans": datasets.List(datasets.List(datasets.Value("int32"))),
    # Per-text counts, carried by the text's first window only (0 on the others), so that sums count texts once.
    "n_gold": datasets.Value("int32"),
    "n_inexact": datasets.Value("int32"),  # boundary inside a token / not on a word boundary
    "n_cut": datasets.Value("int32"),  # never whole in the window that owns its start (longer than the stride allows)
}


def feature_schema(with_token_type_ids: bool) -> datasets.Features:
    """The `datasets.Features` of the features `LearFeatureBuilder` writes."""
    schema = {"input_ids": datasets.List(datasets.Value("int32"))}
    if with_token_type_ids:
        schema["token_type_ids"] = datasets.List(datasets.Value("int8"))
    return datasets.Features({**schema, **FEATURE_COLUMNS})


def count_overlapping(entities: Iterable[Mapping[str, Any]]) -> int:
    """Number of entities whose span overlaps a *different* span (nested or crossing); the same span under two labels
    is not overlap. Same definition as the corpus cards written by `data_scripts`."""
    spans = sorted({(entity["start"], entity["end"]) for entity in entities})
    multiplicity: dict[tuple[int, int], int] = defaultdict(int)
    for entity in entities:
        multiplicity[(entity["start"], entity["end"])] += 1
    marked = [False] * len(spans)
    for i, (_, end) in enumerate(spans):
        j = i + 1
        while j < len(spans) and spans[j][0] < end:  # sorted by start: these all overlap span i
            marked[i] = marked[j] = True
            j += 1
    return sum(multiplicity[span] for span, overlaps in zip(spans, marked) if overlaps)


# ---------------------------------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------------------------------


def feature_code_digest() -> str:
    """SHA-256 of the sources that turn texts into training features (this module and `windowing`)."""
    digest = hashlib.sha256()
    for module_file in (__file__, windowing.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


@dataclass
class LearFeatureBuilder:
    """`Dataset.map(builder, batched=True, with_indices=True, remove_columns=..., features=builder.features)`: one
    output row per window.

    An entity that a window cuts gets -100 at its in-window boundary: it is neither a positive the decoder could pair
    with anything in this window, nor a negative. (Evaluation features are built the same way, so the evaluation
    loss is the training loss; predictions themselves are scored on whole texts, against every gold entity.)

    Example:

    ```python
    >>> builder = LearFeatureBuilder(tokenizer, {"PER": 0}, max_length=128, stride=32)  # doctest: +SKIP
    >>> features = dataset.map(builder, batched=True, with_indices=True, remove_columns=dataset.column_names,
    ...                        features=builder.features)  # doctest: +SKIP
    ```
    """

    tokenizer: Any
    label2id: Mapping[str, int]
    max_length: int
    stride: int
    text_column: str = "text"
    tokens_column: str | None = "tokens"
    entities_column: str = "entities"
    # `datasets` fingerprints a map function by pickling it, and pickles this class by reference, not by code: the
    # digest of the feature-building source makes a new lear version (windowing, alignment) miss stale caches.
    code_digest: str = field(default_factory=feature_code_digest, repr=False)

    @property
    def features(self) -> datasets.Features:
        with_token_type_ids = "token_type_ids" in self.tokenizer.model_input_names
        return feature_schema(with_token_type_ids)

    def __call__(self, batch: Mapping[str, list], indices: Sequence[int]) -> dict[str, list]:
        texts = batch[self.text_column]
        words = batch[self.tokens_column] if self.tokens_column else None
        windows = encode_windows(self.tokenizer, texts, words=words, max_length=self.max_length, stride=self.stride)
        entities = [
            [(entity["start"], entity["end"], self.label2id[entity["label"]]) for entity in row]
            for row in batch[self.entities_column]
        ]
        windows_of_text: dict[int, list[TextWindow]] = defaultdict(list)
        for window in windows:
            windows_of_text[window.text_index].append(window)

        columns: dict[str, list] = defaultdict(list)
        with_token_type_ids = "token_type_ids" in self.features
        for text_index, text_windows in windows_of_text.items():
            text_entities = entities[text_index]
            counts = _reachability_counts(text_windows, text_entities)
            for window in text_windows:
                columns["input_ids"].append(window.input_ids)
                if with_token_type_ids:
                    columns["token_type_ids"].append(window.token_type_ids or [0] * len(window.input_ids))
                columns["example_index"].append(indices[text_index])
                columns["length"].append(len(window.input_ids))
                columns["window_index"].append(window.window_index)
                columns["token_spans"].append([list(span) for span in window.token_spans])
                columns["start_allowed"].append(window.start_allowed)
                columns["end_allowed"].append(window.end_allowed)
                columns["owned"].append(window.owned)
                for name, values in self._targets(window, text_entities).items():
                    columns[name].append(values)
                first = window.window_index == 0
                columns["n_gold"].append(len(text_entities) if first else 0)
                columns["n_inexact"].append(counts["inexact"] if first else 0)
                columns["n_cut"].append(counts["cut"] if first else 0)
        return dict(columns)

    def _targets(self, window: TextWindow, entities: Sequence[tuple[int, int, int]]) -> dict[str, list]:
        targets = {name: [] for name in ("start_positives", "end_positives", "start_ignored", "end_ignored")}
        targets["gold_spans"] = []
        for entity in align_entities(window, entities):
            if entity.complete:
                targets["start_positives"].append([entity.start, entity.label])
                targets["end_positives"].append([entity.end, entity.label])
                targets["gold_spans"].append([entity.start, entity.end, entity.label])
                continue
            if entity.start is not None:
                targets["start_ignored"].append([entity.start, entity.label])
            if entity.end is not None:
                targets["end_ignored"].append([entity.end, entity.label])
        return targets


def _reachability_counts(windows: Sequence[TextWindow], entities: Sequence[tuple[int, int, int]]) -> dict[str, int]:
    """Count the entities of one text that no decoded span can reproduce exactly.

    An entity is reachable when some window holds it whole, owns its start token (so its prediction is the one
    kept), and its boundaries are exact token boundaries where a span may start/end. Otherwise it is "inexact" when
    it is whole in its owning window but its boundaries fall inside tokens (or inside words), else "cut".
    """
    counts = {"inexact": 0, "cut": 0}
    for entity in entities:
        whole_in_owner, reachable = False, False
        for window in windows:
            aligned = align_entities(window, [entity])
            if not aligned or not aligned[0].complete or not window.owned[aligned[0].start]:
                continue
            whole_in_owner = True
            start, end = aligned[0].start, aligned[0].end
            if aligned[0].exact and window.start_allowed[start] and window.end_allowed[end]:
                reachable = True
                break
        if not reachable:
            counts["inexact" if whole_in_owner else "cut"] += 1
    return counts


def alignment_summary(features: datasets.Dataset) -> dict[str, int]:
    """Totals over a feature split: texts, windows, gold entities, and the unreachable ones (`inexact`, `cut`)."""
    return {
        "texts": len(set(features["example_index"])),
        "windows": len(features),
        "gold": int(np.sum(features["n_gold"])),
        "inexact": int(np.sum(features["n_inexact"])),
        "cut": int(np.sum(features["n_cut"])),
    }


def windows_from_features(features: datasets.Dataset) -> list[TextWindow]:
    """Rebuild the `TextWindow`s (the parts needed to map spans back to characters) from feature rows."""
    columns = features.select_columns(
        ["example_index", "window_index", "input_ids", "token_spans", "start_allowed", "end_allowed", "owned"]
    ).to_dict()
    return [
        TextWindow(
            text_index=text_index,
            window_index=window_index,
            input_ids=input_ids,
            token_spans=[tuple(span) for span in token_spans],
            start_allowed=start_allowed,
            end_allowed=end_allowed,
            owned=owned,
        )
        for text_index, window_index, input_ids, token_spans, start_allowed, end_allowed, owned in zip(
            *columns.values()
        )
    ]


def first_window_ends(windows: Sequence[TextWindow], num_texts: int) -> list[int]:
    """Per text, the character where its first window's last token ends: where a model that truncates at
    `max_seq_length` instead of windowing stops reading (a text that fits one window is read whole)."""
    ends = [0] * num_texts
    single = [True] * num_texts
    for window in windows:
        if window.window_index == 0:
            ends[window.text_index] = max((end for _, end in window.token_spans if end >= 0), default=0)
        else:
            single[window.text_index] = False
    return [2**31 - 1 if whole else end for end, whole in zip(ends, single)]


# ---------------------------------------------------------------------------------------------------------------------
# Collator
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class LearDataCollator:
    """Pad features from `LearFeatureBuilder` and build LEAR's targets.

    Targets are `int8` (the model only reads 0/1/-100): the Trainer keeps every evaluation label to hand it to
    `compute_metrics`, and `int8` makes that a quarter of the size of the float logits it no longer keeps.

    Evaluation features carry their row number (`add_feature_index`). It rides, as base-100 digits, in one to three
    extra attention-masked positions at the end of the labels (the loss never reads them), so that
    `preprocess_logits_for_metrics` can tag each window's spans with it: predictions then find their window whatever
    order the Trainer evaluates in (transformers 5 reorders evaluation under `train_sampling_strategy=
    "group_by_length"`, and distributed evaluation shards it).

    Needs `TrainingArguments(remove_unused_columns=False)`: the target columns are not model arguments.
    """

    tokenizer: Any
    num_labels: int
    nested: bool = False
    pad_to_multiple_of: int | None = None
    pad_token_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def __call__(self, features: list[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        batch_size, num_labels = len(features), self.num_labels
        slots = index_slot_positions(num_labels) if "feature_index" in features[0] else 0
        length = max(len(feature["input_ids"]) for feature in features) + slots
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = pad_windows(features, self.pad_token_id, length)
        # -100 (ignored by the loss) on padding and where a word cannot start/end; 0 elsewhere; gold 1s below
        start_labels = torch.full((batch_size, length, num_labels), IGNORE_INDEX, dtype=torch.int8)
        end_labels = torch.full((batch_size, length, num_labels), IGNORE_INDEX, dtype=torch.int8)
        start_labels[batch.pop("start_mask")] = 0
        end_labels[batch.pop("end_mask")] = 0
        span_labels = torch.zeros((batch_size, length, length, num_labels), dtype=torch.int8) if self.nested else None

        for row, feature in enumerate(features):
            for position, label in feature["start_positives"]:
                start_labels[row, position, label] = 1
            for position, label in feature["end_positives"]:
                end_labels[row, position, label] = 1
            for position, label in feature["start_ignored"]:
                start_labels[row, position, label] = IGNORE_INDEX
                if span_labels is not None:
                    span_labels[row, position, :, label] = IGNORE_INDEX
            for position, label in feature["end_ignored"]:
                end_labels[row, position, label] = IGNORE_INDEX
                if span_labels is not None:
                    span_labels[row, :, position, label] = IGNORE_INDEX
            if span_labels is not None:
                for start, end, label in feature["gold_spans"]:
                    span_labels[row, start, end, label] = 1
            if slots:  # the last positions are padding in every row
                for cell, digit in zip(_index_cells(length - slots, num_labels), _digits(feature["feature_index"])):
                    (start_labels if cell[0] == 0 else end_labels)[row, cell[1], cell[2]] = digit

        batch["start_labels"], batch["end_labels"] = start_labels, end_labels
        if span_labels is not None:
            batch["span_labels"] = span_labels
        return batch


def longest_gold_span(features: datasets.Dataset) -> int | None:
    """The longest whole gold entity in a feature split, in tokens (None when there is none): the model's
    `max_span_length` after training, so that decoding never returns a span longer than any it was trained on."""
    lengths = [end - start + 1 for spans in features["gold_spans"] for start, end, _ in spans]
    return max(lengths, default=None)


def add_feature_index(features: datasets.Dataset) -> datasets.Dataset:
    """Number the rows of an evaluation feature split (see `LearDataCollator`)."""
    if len(features) >= INDEX_BASE**INDEX_DIGITS:
        raise ValueError(f"an evaluation split can have at most {INDEX_BASE**INDEX_DIGITS} windows")
    return features.add_column("feature_index", list(range(len(features))))


def index_slot_positions(num_labels: int) -> int:
    """Extra label positions that hold a feature index: each has 2 * num_labels cells (start and end labels)."""
    return -(-INDEX_DIGITS // (2 * num_labels))


def _index_cells(first_position: int, num_labels: int) -> list[tuple[int, int, int]]:
    """(0 for start_labels / 1 for end_labels, position, label) of each index digit, least significant first."""
    cells = []
    for digit in range(INDEX_DIGITS):
        position, cell = divmod(digit, 2 * num_labels)
        cells.append((cell // num_labels, first_position + position, cell % num_labels))
    return cells


def _digits(number: int) -> list[int]:
    return [number // INDEX_BASE**digit % INDEX_BASE for digit in range(INDEX_DIGITS)]


#: The collator's targets that the Trainer must return as labels (`TrainingArguments.label_names`): they carry the
#: decoding masks to `preprocess_logits_for_metrics`. `span_labels` stays a plain model input, so that evaluation
#: never accumulates `[N, L, L, C]` labels.
LABEL_NAMES = ["start_labels", "end_labels"]


# ---------------------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------------------


def pack_spans(
    spans: Sequence[Sequence[Span]], feature_index: torch.Tensor, device: torch.device | None = None
) -> torch.Tensor:
    """Decoded spans of a batch as one `[B, 1 + K, 4]` float tensor: row 0 holds the window's feature index (as three
    base-4096 digits, exact in float32), rows 1..K the spans as (start, end, label, score), padded with -1 (K = the
    most spans in one window, at least 1)."""
    most = max([len(example_spans) for example_spans in spans] + [1])
    packed = torch.full((len(spans), 1 + most, 4), -1.0, device=device)
    feature_index = feature_index.to(device=device, dtype=torch.long)
    for digit in range(3):
        packed[:, 0, digit] = (feature_index // PACKED_INDEX_BASE**digit % PACKED_INDEX_BASE).to(packed.dtype)
    for row, example_spans in enumerate(spans):
        if example_spans:
            packed[row, 1 : 1 + len(example_spans)] = torch.tensor(
                [[span.start, span.end, span.label, span.score] for span in example_spans], device=device
            )
    return packed


def unpack_spans(rows: np.ndarray) -> tuple[int, list[Span]]:
    """One window's rows from `pack_spans` (after the Trainer's own -100 padding): its feature index and spans."""
    spans = [
        Span(int(start), int(end), int(label), float(score)) for start, end, label, score in rows[1:] if start >= 0
    ]
    return sum(int(rows[0, digit]) * PACKED_INDEX_BASE**digit for digit in range(3)), spans


def make_preprocess_logits_for_metrics(model) -> Callable[[Any, Any], torch.Tensor]:
    """`preprocess_logits_for_metrics` for a LEAR model: decode the batch with the model's settings (flat "v5"/"v1",
    or nested with the span logits) and return the spans from `pack_spans`, tagged with their feature index.

    Everything else comes from the labels built by `LearDataCollator` from features numbered by `add_feature_index`:
    the start/end masks (a position is allowed when any label is not -100 there) and, in the last position that is
    not -100, the feature index.
    """

    def preprocess_logits_for_metrics(logits, labels) -> torch.Tensor:
        if labels is None:
            raise ValueError(
                "LEAR evaluation needs the labels of LearDataCollator (TrainingArguments.label_names = "
                f"{LABEL_NAMES}) to recover the decoding masks and window indices"
            )
        start_logits, end_logits, *rest = logits
        span_logits = rest[0] if rest and model.config.nested else None
        start_labels, end_labels = labels[0], labels[1]
        # The index digits fill the batch's last positions (the last one always holds some); across processes the
        # Trainer may have padded after them.
        filled = ((start_labels != IGNORE_INDEX) | (end_labels != IGNORE_INDEX)).any(-1).any(0)
        slot = int(filled.nonzero().max()) + 1 - index_slot_positions(start_labels.shape[-1])
        feature_index = torch.zeros(start_labels.shape[0], dtype=torch.long, device=start_labels.device)
        for digit, (tensor, position, label) in enumerate(_index_cells(slot, start_labels.shape[-1])):
            cells = (start_labels if tensor == 0 else end_labels)[:, position, label].long()
            feature_index += cells * INDEX_BASE**digit
        start_logits, end_logits = start_logits[:, :slot], end_logits[:, :slot]
        start_labels, end_labels = start_labels[:, :slot], end_labels[:, :slot]
        if span_logits is not None:
            span_logits = span_logits[:, :slot, :slot]
        start_mask = (start_labels != IGNORE_INDEX).any(-1)
        end_mask = (end_labels != IGNORE_INDEX).any(-1)
        outputs = LearSpanExtractionOutput(start_logits=start_logits, end_logits=end_logits, span_logits=span_logits)
        spans = model.decode(outputs, start_mask, end_mask)
        packed = pack_spans(spans, feature_index, device=start_logits.device)
        # The Trainer gathers this tensor across processes next, which needs the same K everywhere.
        return pad_across_processes(packed, dim=1, pad_index=-1)

    return preprocess_logits_for_metrics


def _prediction_rows(predictions: np.ndarray | Sequence[np.ndarray]) -> Iterable[np.ndarray]:
    """One `[1 + K, 4]` array per window, whether the Trainer concatenated the batches or not
    (`eval_do_concat_batches=False`)."""
    if isinstance(predictions, np.ndarray):
        yield from predictions
    else:
        for batch in predictions:
            yield from batch


#: Thresholds tried by `calibrate_label_thresholds`.
THRESHOLD_CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
#: How `calibrate_label_thresholds` chooses: each label its own best threshold, or one threshold for all labels.
CALIBRATION_POLICIES = ("per_label", "global")


def predictions_by_threshold(
    model,
    features: datasets.Dataset,
    evaluator: SpanEvaluator,
    collator,
    batch_size: int,
    candidates: Sequence[float] = THRESHOLD_CANDIDATES,
) -> dict[float, list[list[CharSpan]]]:
    """A flat model's character spans for each text of a split, decoded at every candidate threshold (all labels
    alike): one forward pass over the split keeps the logits, then each candidate only decodes.

    Every process of a distributed run computes the same table over the whole split (a plain DataLoader, no
    sharding)."""
    if model.config.nested:
        raise ValueError("threshold calibration is for flat models (a nested model has start, end and span thresholds)")
    device = next(model.parameters()).device
    loader = torch.utils.data.DataLoader(features, batch_size=batch_size, collate_fn=collator)
    kept = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        label_states = model.compute_label_states()  # once for the split: they do not depend on the text
        for batch in loader:
            labels = (batch["start_labels"], batch["end_labels"])
            inputs = {name: value.to(device) for name, value in batch.items() if name not in LABEL_NAMES}
            outputs = model(**inputs, label_states=label_states)
            kept.append(((outputs.start_logits.float().cpu(), outputs.end_logits.float().cpu()), labels))
    model.train(was_training)
    preprocess = make_preprocess_logits_for_metrics(model)
    saved = model.config.label_thresholds
    table = {}
    try:
        for threshold in candidates:
            model.config.label_thresholds = [threshold] * model.config.num_labels
            table[threshold] = evaluator.text_predictions(
                [preprocess(logits, labels).numpy() for logits, labels in kept]
            )
    finally:
        model.config.label_thresholds = saved
    return table


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
    table: Mapping[float, list[list[CharSpan]]], gold, label_names: Sequence[str], policy: str = "per_label"
) -> list[float]:
    """Thresholds (one per label, id order) that maximise F1 on the split behind `table`: each label's own F1
    (`"per_label"`) or the micro F1 with one threshold for all labels (`"global"`). Ties keep the higher threshold."""
    if policy not in CALIBRATION_POLICIES:
        raise ValueError(f"unknown calibration policy {policy!r}; expected one of {CALIBRATION_POLICIES}")
    scores = {threshold: span_scores(gold, spans, label_names) for threshold, spans in table.items()}
    ordered = sorted(scores, reverse=True)  # max() keeps the first of equal scores: the higher threshold
    if policy == "global":
        best = max(ordered, key=lambda threshold: scores[threshold]["f1"])
        return [best] * len(label_names)
    return [max(ordered, key=lambda threshold: scores[threshold][f"{name}_f1"]) for name in label_names]


def calibrate_label_thresholds(
    model,
    features: datasets.Dataset,
    evaluator: SpanEvaluator,
    collator,
    batch_size: int,
    candidates: Sequence[float] = THRESHOLD_CANDIDATES,
    policy: str = "per_label",
) -> dict[str, float]:
    """Choose the decoding thresholds (start and end alike) of a flat model on an evaluation split, and store them in
    `model.config.label_thresholds`.

    LEAR's per-label sigmoid classifiers see about 1 % positives, so their probabilities at true boundaries often sit
    below 0.5 (high precision, low recall): a lower threshold trades the surplus precision for recall. `policy`
    (`CALIBRATION_POLICIES`) chooses one threshold per label or one for all (fewer choices fitted to the split).
    Returns `{label: threshold}`.
    """
    table = predictions_by_threshold(model, features, evaluator, collator, batch_size, candidates)
    names = model.config.label_names
    thresholds = choose_thresholds(table, evaluator.gold, names, policy)
    model.config.label_thresholds = thresholds
    return dict(zip(names, thresholds))


class SpanEvaluator:
    """`compute_metrics` for one split: text-level exact-match scores over every gold entity of the split.

    Window predictions are mapped to characters of the whole text (a span is kept from the window that owns its
    start token), merged, and compared with the split's gold entities, which come from the data, not from the
    windows, so entities that no window can represent still count (as misses). The last text-level predictions
    are kept in `last_predictions` for writing them out.

    Args:
        examples: the split's rows (text and entities columns).
        features: the split's features from `LearFeatureBuilder`, in the order the Trainer evaluates them.
        label_names: label names in id order.
    """

    def __init__(
        self,
        examples: datasets.Dataset,
        features: datasets.Dataset,
        label_names: Sequence[str],
        text_column: str = "text",
        entities_column: str = "entities",
    ):
        self.label_names = list(label_names)
        label2id = {name: index for index, name in enumerate(self.label_names)}
        self.texts: list[str] = examples[text_column]
        self.gold = [
            sorted((entity["start"], entity["end"], label2id[entity["label"]]) for entity in row)
            for row in examples[entities_column]
        ]
        self.windows = windows_from_features(features)
        self.alignment = alignment_summary(features)
        self.first_window_ends = first_window_ends(self.windows, len(self.texts))
        self.last_predictions: list[list[CharSpan]] | None = None
        self.metric = load_span_f1()

    def text_predictions(self, predictions: np.ndarray | Sequence[np.ndarray]) -> list[list[CharSpan]]:
        """Packed window spans (`[num_windows, 1 + K, 4]`, any order) -> character spans per text."""
        per_text: list[list[CharSpan]] = [[] for _ in self.texts]
        seen = [False] * len(self.windows)
        for rows in _prediction_rows(predictions):
            index, spans = unpack_spans(rows)
            if not 0 <= index < len(self.windows) or seen[index]:
                raise ValueError(f"got predictions for window {index} of a split of {len(self.windows)} windows twice "
                                 "or out of range: was compute_metrics built for another split?")  # fmt: skip
            seen[index] = True
            window = self.windows[index]
            per_text[window.text_index].extend(window_spans_to_char_spans(window, spans))
        if not all(seen):
            raise ValueError(
                f"got predictions for {sum(seen)} of the {len(self.windows)} windows of this split: was "
                "compute_metrics built for another split?"
            )
        return [merge_char_spans(spans) for spans in per_text]

    def __call__(self, eval_prediction) -> dict[str, float]:
        self.last_predictions = self.text_predictions(eval_prediction.predictions)
        scores = self.metric.compute(
            predictions=[self._span_dicts(spans) for spans in self.last_predictions],
            references=[self._span_dicts(spans) for spans in self.gold],
            label_names=self.label_names,
        )
        scores["n_unreachable"] = self.alignment["inexact"] + self.alignment["cut"]
        scores.update(self.truncated_scores(self.last_predictions))
        return scores

    def _span_dicts(self, spans: Iterable[Sequence]) -> list[dict[str, Any]]:
        return [{"start": span[0], "end": span[1], "label": self.label_names[span[2]]} for span in spans]

    def truncated_scores(self, predictions: Sequence[Sequence[CharSpan]]) -> dict[str, float]:
        """The original code's scoring, beside ours: each text cut after its first window (`max_seq_length`
        tokens), gold entities and predictions past the cut dropped. Keys `precision_truncated`, `recall_truncated`,
        `f1_truncated`, `n_gold_truncated`: comparable with figures the authors' code reports (ours count every gold
        entity of the whole text)."""
        gold, predicted = [], []
        for text_gold, text_predicted, cut in zip(self.gold, predictions, self.first_window_ends):
            gold.append([span for span in text_gold if span[1] <= cut])
            predicted.append([(s.start, s.end, s.label) for s in text_predicted if s.end <= cut])
        scores = span_scores(gold, predicted)
        return {f"{key}_truncated": scores[key] for key in ("precision", "recall", "f1", "n_gold")}

    def records(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The last predictions as JSON-ready records: text, gold and predicted spans with character offsets, label
        names, the covered text and (predictions) scores."""
        if self.last_predictions is None:
            raise ValueError("no predictions yet: run an evaluation first")
        records = []
        for index, (text, gold, predicted) in enumerate(zip(self.texts, self.gold, self.last_predictions)):
            record: dict[str, Any] = {"id": ids[index]} if ids is not None else {}
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


__all__ = [
    "CALIBRATION_POLICIES",
    "LABEL_NAMES",
    "LearDataCollator",
    "LearFeatureBuilder",
    "SpanEvaluator",
    "add_feature_index",
    "alignment_summary",
    "calibrate_label_thresholds",
    "choose_thresholds",
    "count_overlapping",
    "feature_schema",
    "make_preprocess_logits_for_metrics",
    "pack_spans",
    "predictions_at",
    "predictions_by_threshold",
    "unpack_spans",
    "windows_from_features",
]
