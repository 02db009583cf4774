# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Training pieces for `transformers.Trainer` (used by `run_lear.py` through `lear.trainer.LearTrainer`).

Positions that can never start (end) an entity (special tokens, padding, pieces inside a unit of the text, see
`windowing.char_boundaries`) are -100 for the loss, as `run_ner.py` does for word-internal sub-tokens; so are the
in-window boundaries of entities that a window cuts. `LearDataCollator` builds `start_labels`/`end_labels`
`[B, L, C]` (and `span_labels` `[B, L, L, C]` for nested models); the decoding masks travel as the named keys
`start_mask`/`end_mask`, as in the pipeline's batches.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

from . import windowing
from .modeling_lear import pad_label_texts
from .windowing import TextWindow, align_entities, encode_windows, pad_windows, window_row


logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
#: The collator's decoding masks (`[B, L]` bool: may a position start / end a span), named as in the pipeline's
#: batches. They are not model inputs: `LearTrainer` and the evaluation pass the rest of a batch to `forward`.
DECODING_MASKS = ("start_mask", "end_mask")

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
    with anything in this window, nor a negative. (Evaluation windows get the same targets, so the evaluation loss
    is the training loss; predictions themselves are scored on whole texts, against every gold entity.)

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
    # One piece per CJK character (`windowing.encode_windows`; the model's `LearConfig.character_pieces`).
    character_pieces: bool = False
    # `datasets` fingerprints a map function by pickling it, and pickles this class by reference, not by code: the
    # digest of the feature-building source makes a new lear version (windowing, alignment) miss stale caches.
    code_digest: str = field(default_factory=feature_code_digest, repr=False)

    @property
    def features(self) -> datasets.Features:
        return feature_schema(self.with_token_type_ids)

    @property
    def with_token_type_ids(self) -> bool:
        return "token_type_ids" in self.tokenizer.model_input_names

    def entity_ids(self, rows: Sequence[Sequence[Mapping[str, Any]]]) -> list[list[tuple[int, int, int]]]:
        """Each row's entities as `(char start, char end, label id)`."""
        return [[(entity["start"], entity["end"], self.label2id[entity["label"]]) for entity in row] for row in rows]

    def encode(self, batch: Mapping[str, list]) -> list[tuple[TextWindow, dict[str, Any]]]:
        """The windows of a batch of rows (`text_index` = row in the batch), each with its targets and, on a text's
        first window, the text's counts (`n_gold`, `n_inexact`, `n_cut`; 0 on its other windows)."""
        texts = batch[self.text_column]
        words = batch[self.tokens_column] if self.tokens_column else None
        windows = encode_windows(
            self.tokenizer, texts, words=words, max_length=self.max_length, stride=self.stride,
            character_pieces=self.character_pieces,
        )  # fmt: skip
        entities = self.entity_ids(batch[self.entities_column])
        windows_of_text: dict[int, list[TextWindow]] = defaultdict(list)
        for window in windows:
            windows_of_text[window.text_index].append(window)
        encoded = []
        for text_index, text_windows in windows_of_text.items():
            text_entities = entities[text_index]
            counts = _reachability_counts(text_windows, text_entities)
            for window in text_windows:
                first = window.window_index == 0
                targets = self._targets(window, text_entities)
                targets["n_gold"] = len(text_entities) if first else 0
                targets["n_inexact"] = counts["inexact"] if first else 0
                targets["n_cut"] = counts["cut"] if first else 0
                encoded.append((window, targets))
        return encoded

    def __call__(self, batch: Mapping[str, list], indices: Sequence[int]) -> dict[str, list]:
        columns: dict[str, list] = defaultdict(list)
        for window, targets in self.encode(batch):
            row = {**window_row(window, self.with_token_type_ids), "example_index": indices[window.text_index]}
            for name, value in {**row, **targets}.items():
                columns[name].append(value)
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


def alignment_summary(features: datasets.Dataset | Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Totals over a feature split (or the targets of `LearFeatureBuilder.encode`, with `example_index`): texts,
    windows, gold entities, and the unreachable ones (`inexact`, `cut`)."""
    columns = features if isinstance(features, datasets.Dataset) else {
        name: [row[name] for row in features] for name in ("example_index", "n_gold", "n_inexact", "n_cut")
    }  # fmt: skip
    return {
        "texts": len(set(columns["example_index"])),
        "windows": len(features),
        "gold": int(np.sum(columns["n_gold"])),
        "inexact": int(np.sum(columns["n_inexact"])),
        "cut": int(np.sum(columns["n_cut"])),
    }


def longest_gold_span(features: datasets.Dataset) -> int | None:
    """The longest whole gold entity in a feature split, in tokens (None when there is none): the model's
    `max_span_length` after training, so that decoding never returns a span longer than any it was trained on."""
    lengths = [end - start + 1 for spans in features["gold_spans"] for start, end, _ in spans]
    return max(lengths, default=None)


# ---------------------------------------------------------------------------------------------------------------------
# Collator
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class LearDataCollator:
    """Pad features from `LearFeatureBuilder` (dataset rows, or `window_row(window)` merged with the targets of
    `LearFeatureBuilder.encode`) and build LEAR's targets.

    Returns the encoder inputs, `start_mask`/`end_mask` (`DECODING_MASKS`, bool `[B, L]`: where a span may start /
    end; not model inputs) and the targets, `int8` (the model only reads 0/1/-100): a quarter of the size of the
    float logits beside them. Needs `TrainingArguments(remove_unused_columns=False)` (`LearTrainer` sets it): the
    columns it reads are not model arguments.

    Many labels (`label_sets`, `max_labels_per_batch`): a training mix of corpora with different label sets gives
    each corpus's label ids in `label_sets` and each feature its corpus (`label_set`, an index into it; 0 when
    absent). A batch then scores a subset of the labels, `label_ids` (`[C]`, passed to `forward`, which encodes only
    those descriptions): every label with a gold span in the batch, filled up to `max_labels_per_batch` with negatives
    drawn at random from the label sets of the batch's corpora (all its positives, at random, when they alone exceed
    it). A text is a negative only for its own corpus's labels: another corpus's label is -100 on it, since that
    corpus's annotators never looked for it. `__call__(features, label_ids=...)` builds the targets of given labels
    (what evaluation does, one label set at a time).

    Reading labels by name (`label_name_probability` > 0, with `label_input_ids` and `label_name_input_ids`, both
    tokenized per label id): a training batch reads each of its labels by its name instead of its description with
    this probability, and carries the texts it chose (`label_input_ids`, `label_attention_mask`, `[C, Lq]`). A
    zero-shot model is then asked for labels written either way; given only descriptions, it learns to read long
    definitions and never the short names a user types.
    """

    tokenizer: Any
    num_labels: int
    nested: bool = False
    pad_to_multiple_of: int | None = None
    label_sets: Sequence[Sequence[int]] | None = None
    max_labels_per_batch: int | None = None
    label_input_ids: Sequence[Sequence[int]] | None = None
    label_name_input_ids: Sequence[Sequence[int]] | None = None
    label_name_probability: float = 0.0
    pad_token_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        if self.label_name_probability > 0 and (self.label_input_ids is None or self.label_name_input_ids is None):
            raise ValueError("label_name_probability needs label_input_ids and label_name_input_ids (one per label)")
        if self.label_sets is not None:
            self.label_sets = [frozenset(label_set) for label_set in self.label_sets]

    def __call__(
        self, features: list[Mapping[str, Any]], label_ids: Sequence[int] | None = None
    ) -> dict[str, torch.Tensor]:
        training = label_ids is None
        if training:
            label_ids = self.sample_labels(features)
            if label_ids is None and self.label_name_probability > 0:
                label_ids = range(self.num_labels)
        columns = range(self.num_labels) if label_ids is None else label_ids
        column_of = {label: column for column, label in enumerate(columns)}
        batch_size, num_columns = len(features), len(column_of)
        length = max(len(feature["input_ids"]) for feature in features)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = pad_windows(features, self.pad_token_id, length)
        # -100 (ignored by the loss) on padding and where a word cannot start/end; 0 elsewhere; gold 1s below
        start_labels = torch.full((batch_size, length, num_columns), IGNORE_INDEX, dtype=torch.int8)
        end_labels = torch.full((batch_size, length, num_columns), IGNORE_INDEX, dtype=torch.int8)
        start_labels[batch["start_mask"]] = 0
        end_labels[batch["end_mask"]] = 0
        span_labels = torch.zeros((batch_size, length, length, num_columns), dtype=torch.int8) if self.nested else None
        for row, feature in enumerate(features):
            for position, label in feature["start_positives"]:
                if label in column_of:
                    start_labels[row, position, column_of[label]] = 1
            for position, label in feature["end_positives"]:
                if label in column_of:
                    end_labels[row, position, column_of[label]] = 1
            for position, label in feature["start_ignored"]:
                if label in column_of:
                    start_labels[row, position, column_of[label]] = IGNORE_INDEX
                    if span_labels is not None:
                        span_labels[row, position, :, column_of[label]] = IGNORE_INDEX
            for position, label in feature["end_ignored"]:
                if label in column_of:
                    end_labels[row, position, column_of[label]] = IGNORE_INDEX
                    if span_labels is not None:
                        span_labels[row, :, position, column_of[label]] = IGNORE_INDEX
            if span_labels is not None:
                for start, end, label in feature["gold_spans"]:
                    if label in column_of:
                        span_labels[row, start, end, column_of[label]] = 1

        # last, so that it also overrides a stray entity of a label its corpus does not annotate
        if self.label_sets is not None:  # another corpus's labels are no negatives for a text
            for row, feature in enumerate(features):
                own = self.label_sets[feature.get("label_set", 0)]
                foreign = [column for label, column in column_of.items() if label not in own]
                start_labels[row, :, foreign] = IGNORE_INDEX
                end_labels[row, :, foreign] = IGNORE_INDEX
                if span_labels is not None:
                    span_labels[row, :, :, foreign] = IGNORE_INDEX

        batch["start_labels"], batch["end_labels"] = start_labels, end_labels
        if span_labels is not None:
            batch["span_labels"] = span_labels
        if label_ids is not None:
            batch["label_ids"] = torch.tensor(list(label_ids), dtype=torch.long)
        if training and self.label_name_probability > 0:
            batch["label_input_ids"], batch["label_attention_mask"] = self.label_texts(label_ids)
        return batch

    def label_texts(self, label_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Each label's name (with `label_name_probability`) or description, padded: `input_ids`, `attention_mask`
        `[C, Lq]`."""
        texts = [
            self.label_name_input_ids[label]
            if random.random() < self.label_name_probability
            else self.label_input_ids[label]
            for label in label_ids
        ]
        return pad_label_texts(texts, self.pad_token_id)

    def sample_labels(self, features: Sequence[Mapping[str, Any]]) -> list[int] | None:
        """The labels a training batch scores (sorted ids; see the class docstring), or None: all the model's labels,
        when there is one label set and it fits `max_labels_per_batch`."""
        if self.label_sets is None and (
            self.max_labels_per_batch is None or self.num_labels <= self.max_labels_per_batch
        ):
            return None
        label_sets = self.label_sets or [range(self.num_labels)]
        candidates = set().union(*(label_sets[feature.get("label_set", 0)] for feature in features))
        positives = {label for feature in features for _, label in feature["start_positives"]}
        limit = self.max_labels_per_batch or len(candidates)
        if len(positives) >= limit:
            return sorted(random.sample(sorted(positives), limit))
        negatives = sorted(candidates - positives)
        return sorted(positives | set(random.sample(negatives, min(limit - len(positives), len(negatives)))))


def model_inputs(batch: Mapping[str, torch.Tensor], device: torch.device | None = None) -> dict[str, torch.Tensor]:
    """A collated batch without its decoding masks: what `forward` takes (moved to `device` when given)."""
    return {
        name: value if device is None else value.to(device)
        for name, value in batch.items()
        if name not in DECODING_MASKS
    }


# ---------------------------------------------------------------------------------------------------------------------
# Optimiser
# ---------------------------------------------------------------------------------------------------------------------


def optimizer_param_groups(
    model: torch.nn.Module,
    learning_rate: float,
    task_layer_lr: float = 1.0,
    weight_decay: float = 0.0,
    encoder: torch.nn.Module | None = None,
) -> list[dict[str, Any]]:
    """AdamW parameter groups of LEAR's recipe: the encoder (`encoder`, default `model.encoder`, else the model's
    `base_model`) at `learning_rate`, every other trainable parameter (fusion, heads, a classifier) at `learning_rate
    * task_layer_lr`; biases and norm weights (1-D parameters) without weight decay. Every trainable parameter lands
    in exactly one group; empty groups are left out."""
    if encoder is None:
        encoder = model.encoder if isinstance(getattr(model, "encoder", None), torch.nn.Module) else model.base_model
    in_encoder = {id(parameter) for parameter in encoder.parameters()}
    groups = []
    for is_task_layer in (False, True):
        for decays in (False, True):
            params = [
                parameter
                for parameter in model.parameters()
                if parameter.requires_grad
                and (id(parameter) not in in_encoder) == is_task_layer
                and (parameter.ndim >= 2) == decays
            ]
            if params:
                rate = learning_rate * task_layer_lr if is_task_layer else learning_rate
                groups.append({"params": params, "lr": rate, "weight_decay": weight_decay if decays else 0.0})
    return groups


__all__ = [
    "DECODING_MASKS",
    "LearDataCollator",
    "LearFeatureBuilder",
    "alignment_summary",
    "feature_schema",
    "longest_gold_span",
    "model_inputs",
    "optimizer_param_groups",
]
