# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""The `"span-extraction"` pipeline: raw texts (or pre-split words) in, character-offset entities out.

This module imports only torch, transformers and its siblings `windowing` and `decoding_lear`, so that
`save_pretrained` can copy them next to a checkpoint: `pipeline(model=dir, trust_remote_code=True)` then works where
the `lear` package is not installed (the checkpoint's `config.json` names this class under `custom_pipelines`,
`configuration_lear.REMOTE_TASK`).

Flow, as in transformers' own `ChunkPipeline`s (question answering, token classification with a stride):
`preprocess` cuts one text into token windows (`windowing.encode_windows`), the pipeline's DataLoader batches
windows from any number of texts, `_forward` runs the model and the vectorised decoder on the whole batch, and
`postprocess` maps the windows' token spans back to character offsets in the whole text and merges them. The label
descriptions' states do not depend on the text: the pipeline computes them once per label set and passes them to
every forward (`label_states=`).
"""

from __future__ import annotations

import bisect
import sys
import types
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from transformers.pipelines.base import ChunkPipeline

from .decoding_lear import predict_window_spans
from .windowing import (
    TextWindow,
    encode_windows,
    encoder_position_limit,
    merge_char_spans,
    pad_windows,
    window_spans_to_char_spans,
)


if TYPE_CHECKING:
    from .modeling_lear import LearLabelStates


TASK = "span-extraction"  # saved checkpoints name the pipeline under another one: `configuration_lear.REMOTE_TASK`
DEFAULT_BATCH_SIZE = 8
LABEL_STATES_KEPT = 8  # label sets whose states a pipeline keeps (a call with labels= computes its set's once)
# `overlap=`: "keep" returns every label's spans, so two labels may claim the same characters (a flat model's labels
# are decoded independently); "best_label" keeps, where spans overlap, the highest-scoring one.
OVERLAP_CHOICES = ("keep", "best_label")


@dataclass
class WindowPrediction:
    """One window and the token spans decoded on it.

    A plain object on purpose: `Pipeline.forward` walks lists, tuples and dicts of its outputs to move tensors to the
    CPU, which would cost a Python call per span (and turn the decoder's `Span`s into bare tuples).
    """

    window: TextWindow
    spans: list
    label_names: list[str]  # the name of each span's label (its column of the logits)
    wanted: list[str] | None = None  # the labels the call asked for (a model with built-in states scores them all)


@dataclass(frozen=True)
class CallLabels:
    """The labels one call scores: names, the model's id of each (-1: one it does not know) and the tokenized
    descriptions (None for a model without them, e.g. an ONNX graph, which scores its own labels)."""

    names: list[str]
    label_ids: list[int]
    input_ids: list[list[int]] | None

    def key(self) -> tuple:
        return tuple(self.label_ids), tuple(tuple(row) for row in self.input_ids)


class SpanExtractionPipeline(ChunkPipeline):
    """Span extraction (flat or nested NER, event triggers) with a LEAR model, on texts of any length.

    Inputs are raw strings (English with spaces, Chinese without: offsets come from the tokenizer, not from
    whitespace), or texts pre-split into words (`is_split_into_words=True` for one list of words; a list of lists is
    always read as several pre-split texts). Each text gives a list of entities sorted by position, each a dict with
    the keys of the token-classification pipeline's aggregated output:

    - `entity_group` (`str`): the label name;
    - `score` (`float`): mean of the start and end probabilities (flat), or the span probability (nested);
    - `word` (`str`): `text[start:end]`, exactly;
    - `start`, `end` (`int`): character offsets into the input string, end exclusive. For pre-split words they
      index `delimiter.join(words)` (`delimiter=" "` by default).

    Texts longer than the model's maximum length are cut into overlapping windows (`stride` tokens shared by
    neighbours); each span is kept from the window that owns its start token and duplicates are merged, so no
    entity is lost or doubled at a window edge.

    Call options (also accepted by the constructor, as defaults):

    - `threshold` (`float` in (0, 1)): overrides the start, end and span thresholds of the model's config.
    - `labels`: the labels this call scores and returns: a list of the model's label names, or a mapping
      `{name: description}` where a name the model does not know (or a new description) is read from its
      description for this call only; a `None` description keeps a known label's own. The model is not changed
      (`set_labels` below changes it). A model trained on many labels with `boundary_classifier="description"` finds
      new labels from their description alone (docs/zero-shot.md); a model with per-label classifiers scores a new
      label with the mean of its trained rows, which finds little: fine-tune it on examples instead.
    - `flat_ner` (`bool`): `True` decodes a nested model flat (non-overlapping spans per label).
    - `max_length` (`int`): window length in tokens, special tokens included; defaults to the smaller of the
      encoder's position limit and the tokenizer's `model_max_length`.
    - `stride` (`int`): tokens shared by neighbouring windows; defaults to a quarter of `max_length`.
    - `is_split_into_words` (`bool`), `delimiter` (`str`): pre-split input, see above.
    - `batch_size` (`int`, default 8): windows per forward pass; batches are padded to their own longest window.
    - `overlap` (`"keep"` or `"best_label"`, default `"keep"`): `"best_label"` returns at most one span per
      character, the highest-scoring, where spans of different labels (or a nested model's spans) overlap, as
      token-classification gives one tag per token; `"keep"` returns them all.
    - `progress_bar` (`bool`, default `False`): a tqdm bar on stderr over the windows of the call (its total grows as
      texts are cut into windows), for long texts and large inputs.

    The model runs in eval mode under `torch.no_grad()`. The label descriptions' states are computed once per label
    set (kept for the last few sets asked for, by content; again after `set_labels`, the pipeline's or the model's)
    and passed to every forward. Like an exported ONNX
    graph, the pipeline takes its model's weights as fixed: after changing them in place (training the model on),
    call `reset_label_states()`.

    Example:

    ```python
    >>> import lear  # registers the "span-extraction" task
    >>> from transformers import pipeline
    >>> extractor = pipeline("span-extraction", model="path/to/lear-checkpoint")  # doctest: +SKIP
    >>> extractor("Alice lives in Paris")  # doctest: +SKIP
    [{'entity_group': 'PER', 'score': 0.98, 'word': 'Alice', 'start': 0, 'end': 5},
     {'entity_group': 'LOC', 'score': 0.97, 'word': 'Paris', 'start': 15, 'end': 20}]
    >>> extractor(["Alice", "lives", "in", "Paris"], is_split_into_words=True)  # doctest: +SKIP
    [{'entity_group': 'PER', ...}, {'entity_group': 'LOC', ..., 'start': 15, 'end': 20}]
    >>> extractor("Take aspirin", labels={"DRUG": "names of medicines and drugs"})  # doctest: +SKIP
    ```
    """

    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True
    default_input_names = "sequences"

    def __init__(self, *args: Any, **kwargs: Any):
        # Read by __call__ to interpret the inputs, so kept apart from the preprocess/forward/postprocess defaults.
        self._is_split_into_words = bool(kwargs.pop("is_split_into_words", False))
        self._progress_bar = bool(kwargs.pop("progress_bar", False))
        self._progress = None  # the tqdm bar of the call in progress, when it asked for one
        super().__init__(*args, **kwargs)
        if self.tokenizer is None or not getattr(self.tokenizer, "is_fast", False):
            raise ValueError(
                "the span-extraction pipeline needs a fast tokenizer (for character offsets); save the encoder's "
                "fast tokenizer with the model or pass tokenizer=..."
            )
        if self._batch_size is None:
            self._batch_size = DEFAULT_BATCH_SIZE
        self.model.eval()  # dropout off
        # label states by what they were computed for (the model, and each label's id and description tokens)
        self._label_states: dict[tuple, LearLabelStates] = {}

    # -- parameters ---------------------------------------------------------------------------------------------------

    def _sanitize_parameters(
        self,
        threshold: float | None = None,
        labels: Sequence[str] | Mapping[str, str | None] | None = None,
        flat_ner: bool | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        delimiter: str | None = None,
        aggregation_strategy: str | None = None,
        overlap: str | None = None,
    ):
        if aggregation_strategy is not None:
            _answer_aggregation_strategy(aggregation_strategy)
        preprocess_params: dict[str, Any] = {}
        forward_params: dict[str, Any] = {}
        postprocess_params: dict[str, Any] = {}
        if max_length is not None:
            limit = self.model_max_length()
            if not isinstance(max_length, int) or not 2 < max_length <= limit:
                raise ValueError(f"max_length must be an int in (2, {limit}] for this model, got {max_length!r}")
            preprocess_params["max_length"] = max_length
        if stride is not None:
            if not isinstance(stride, int) or stride < 0:
                raise ValueError(f"stride must be a non-negative int, got {stride!r}")
            preprocess_params["stride"] = stride
        if delimiter is not None:
            if not isinstance(delimiter, str):
                raise TypeError(f"delimiter must be a str, got {type(delimiter).__name__}")
            preprocess_params["delimiter"] = delimiter
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
                raise ValueError(f"threshold must be a number strictly between 0 and 1, got {threshold!r}")
            forward_params["threshold"] = float(threshold)
        if flat_ner is not None:
            if not flat_ner and not self.model.config.nested:
                raise ValueError("flat_ner=False asks for nested decoding, but this model was trained flat")
            forward_params["nested"] = not flat_ner
        if labels is not None:
            forward_params["labels"] = self._resolve_labels(labels)
        if overlap is not None:
            if overlap not in OVERLAP_CHOICES:
                raise ValueError(f"overlap must be one of {OVERLAP_CHOICES}, got {overlap!r}")
            postprocess_params["overlap"] = overlap
        return preprocess_params, forward_params, postprocess_params

    def _resolve_labels(self, labels: Sequence[str] | Mapping[str, str | None]) -> CallLabels:
        """The labels one call scores: known names keep their id and description; a new name or description is
        tokenized for the call. The model is left as it is."""
        if isinstance(labels, str) or not isinstance(labels, (Sequence, Mapping)):
            raise TypeError(f"labels must be a list of label names or a {{name: description}} dict, got {labels!r}")
        if not labels:
            raise ValueError("labels must name at least one label")
        config = self.model.config
        known = {name: label_id for label_id, name in enumerate(config.label_names)}
        descriptions = dict(labels) if isinstance(labels, Mapping) else dict.fromkeys(labels)
        unknown = [name for name, description in descriptions.items() if description is None and name not in known]
        if unknown:
            raise ValueError(
                f"unknown labels {unknown}: this model knows {list(known)}; give a new label a description, "
                'e.g. labels={"DRUG": "names of medicines"}'
            )
        own = list(config.label_descriptions or [None] * config.num_labels)
        new = {
            name: description
            for name, description in descriptions.items()
            if description is not None and (name not in known or own[known[name]] != description)
        }
        if new and not hasattr(self.model, "compute_label_states"):
            raise ValueError(
                f"{type(self.model).__name__} has its label states built in (an exported ONNX graph): new labels or "
                "descriptions need the torch model (or set_labels on it, then export it again)"
            )
        tokenized = dict(zip(new, self._tokenize_descriptions(list(new.values())))) if new else {}
        names = list(descriptions)
        return CallLabels(
            names=names,
            label_ids=[known.get(name, -1) for name in names],
            input_ids=[tokenized.get(name) or list(config.label_input_ids[known[name]]) for name in names]
            if config.label_input_ids
            else None,
        )

    def _tokenize_descriptions(self, descriptions: list[str]) -> list[list[int]]:
        from .modeling_lear import tokenize_label_descriptions  # here: modeling_lear imports this module's siblings

        return tokenize_label_descriptions(self.tokenizer, descriptions, self.model.config.max_label_length)

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Replace the model's label set for good (names in id order, with descriptions): `model.set_labels` with
        this pipeline's tokenizer, so that `save_pretrained` keeps it. To score other labels in one call, pass
        `labels=` to the call instead, which leaves the model as it is."""
        if not hasattr(self.model, "set_labels"):
            raise ValueError(
                f"{type(self.model).__name__} has its label states built in (an exported ONNX graph): change the "
                "labels on the torch model (set_labels), then export it again"
            )
        self.model.set_labels(dict(labels), self.tokenizer)
        self.reset_label_states()

    def reset_label_states(self) -> None:
        """Drop the label states, so that the next forward computes them from the model as it is now."""
        self._label_states.clear()

    def _label_state_inputs(self, labels: CallLabels | None = None) -> dict[str, LearLabelStates]:
        """`{"label_states": ...}` for the call's labels (the model's own when None), computed when the labels or the
        model changed; `{}` for a model with its label states built in (an exported ONNX graph)."""
        compute = getattr(self.model, "compute_label_states", None)
        if compute is None:
            return {}
        own = [tuple(row) for row in self.model.config.label_input_ids]
        key = (id(self.model), tuple(own)) if labels is None else (id(self.model), labels.key())
        if key not in self._label_states:
            if len(self._label_states) >= LABEL_STATES_KEPT:
                self._label_states.pop(next(iter(self._label_states)))
            if labels is None:
                self._label_states[key] = compute()
            else:
                self._label_states[key] = compute(label_ids=labels.label_ids, label_input_ids=labels.input_ids)
        return {"label_states": self._label_states[key]}

    def model_max_length(self) -> int:
        """Longest window the encoder accepts: its position limit (`windowing.encoder_position_limit`, 512 where its
        config sets none), capped by the tokenizer's `model_max_length`."""
        limit = encoder_position_limit(self.model.config.encoder_config) or 512
        tokenizer_limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, int) and tokenizer_limit > 0:
            limit = min(limit, tokenizer_limit)
        return limit

    # -- calling ------------------------------------------------------------------------------------------------------

    def __call__(self, inputs: Any, **kwargs: Any) -> list[dict[str, Any]] | list[list[dict[str, Any]]] | Any:
        """Extract spans from one text (`str`, or `list[str]` of words with `is_split_into_words=True`), several
        (`list[str]`, `list[list[str]]`), or an iterator / torch dataset of them (results then stream lazily).

        Returns a list of entity dicts for one text, a list of such lists for several.
        """
        is_split_into_words = kwargs.pop("is_split_into_words", self._is_split_into_words)
        if not kwargs.pop("progress_bar", self._progress_bar):
            return self._call(inputs, is_split_into_words, **kwargs)
        from tqdm import tqdm  # not transformers' own, which lear-predict turns off for weight loading

        self._progress = tqdm(total=0, unit="window", file=sys.stderr, dynamic_ncols=True)
        try:
            results = self._call(inputs, is_split_into_words, **kwargs)
        except BaseException:
            self._close_progress()
            raise
        if isinstance(results, list):
            self._close_progress()
            return results
        return self._closing_progress_after(results)  # a lazy iterator: the bar closes when it is exhausted

    def _closing_progress_after(self, results: Iterator) -> Iterator:
        try:
            yield from results
        finally:
            self._close_progress()

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def _call(self, inputs: Any, is_split_into_words: bool, **kwargs: Any):
        if _is_sized_collection(inputs):  # a tuple, a `datasets` Column, a pandas Series...: taken as a list
            inputs = list(inputs)
        if isinstance(inputs, str):
            return super().__call__(inputs, **kwargs)
        if isinstance(inputs, list):
            if not inputs:
                return []
            if is_split_into_words and not any(isinstance(item, (list, tuple)) for item in inputs):
                _check_input(inputs, "input")  # one pre-split text
                return super().__call__([inputs], **kwargs)[0]
            for index, item in enumerate(inputs):
                _check_input(item, f"inputs[{index}]")
            return super().__call__(inputs, **kwargs)
        if isinstance(inputs, types.GeneratorType) or _is_torch_dataset(inputs):
            return super().__call__(inputs, **kwargs)
        if isinstance(inputs, Iterator):  # e.g. a file's lines: stream it as the pipeline streams generators
            return super().__call__((item for item in inputs), **kwargs)
        raise TypeError(
            "span-extraction inputs must be a str, a list of str (several texts, or one pre-split text with "
            f"is_split_into_words=True), a list of lists of str, or an iterator/torch dataset of those; got "
            f"{type(inputs).__name__}: {_short_repr(inputs)}"
        )

    def preprocess(
        self,
        inputs: str | Sequence[str],
        max_length: int | None = None,
        stride: int | None = None,
        delimiter: str = " ",
    ) -> Iterator[dict[str, Any]]:
        """Yield the token windows of one text (a str, or a list of words), the last one marked `is_last`."""
        _check_input(inputs, "input")
        max_length = max_length if max_length is not None else self.model_max_length()
        if isinstance(inputs, str):
            text, words = inputs, None
        else:
            words = list(inputs)
            text = delimiter.join(words)
            if not words:  # a tokenizer given zero words still makes one (empty) window, as for ""
                words = None
        # One piece per CJK character when the model was trained so (`LearConfig.character_pieces`).
        windows = encode_windows(
            self.tokenizer, [text], words=[words] if words is not None else None, max_length=max_length, stride=stride,
            character_pieces=bool(getattr(self.model.config, "character_pieces", None)),
        )  # fmt: skip
        if self._progress is not None:
            self._progress.total += len(windows)
            self._progress.refresh()
        for index, window in enumerate(windows):
            yield {"window": window, "text": text, "is_last": index == len(windows) - 1}

    def _forward(
        self,
        model_inputs: dict[str, Any],
        threshold: float | None = None,
        nested: bool | None = None,
        labels: CallLabels | None = None,
    ):
        # With batch_size > 1 the pipeline's collator gathers each (non-tensor) field into a list; with batch_size 1
        # it passes one window as is. Outputs mirror that, so that the pipeline's unbatching hands `postprocess` one
        # window's spans either way.
        batched = isinstance(model_inputs["window"], list)
        windows = model_inputs["window"] if batched else [model_inputs["window"]]
        batch = self._collate(windows)
        start_mask, end_mask = batch.pop("start_mask"), batch.pop("end_mask")
        label_inputs = self._label_state_inputs(labels) if labels is not None and labels.input_ids else {}
        # One vectorised decode for the whole batch, by the config's rules (so any model with a LEAR config and LEAR's
        # outputs runs here: the torch model, or the ONNX runner); the masks keep spans off special tokens, padding and
        # pieces inside a unit of the text (the rule training used, `windowing.char_boundaries`).
        _, decoded = predict_window_spans(
            self.model, batch, start_mask, end_mask, (threshold,), nested=nested,
            label_ids=labels.label_ids if label_inputs else None, **(label_inputs or self._label_state_inputs()),
        )  # fmt: skip
        spans = decoded[threshold]
        names = labels.names if label_inputs else self.model.config.label_names  # the logits' columns
        wanted = None if labels is None else labels.names
        predictions = [
            WindowPrediction(window, window_spans, names, wanted) for window, window_spans in zip(windows, spans)
        ]
        if self._progress is not None:
            self._progress.update(len(windows))
        return {
            "prediction": predictions if batched else predictions[0],
            "text": model_inputs["text"],
            "is_last": model_inputs["is_last"],
        }

    def _collate(self, windows: list) -> dict[str, torch.Tensor]:
        """Right-pad a batch of windows to its longest one, on the pipeline's device.

        Padding here rather than in the pipeline's collator keeps positions independent of the tokenizer's
        `padding_side`, so the decoded token positions index each window's own token list.
        """
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return {name: tensor.to(self.device) for name, tensor in pad_windows(windows, pad_id).items()}

    def postprocess(self, all_outputs: list[dict[str, Any]], overlap: str = "keep"):
        """Map every window's token spans to character spans of the whole text, keep each from the window that owns
        its start token, merge duplicates, and format them as entity dicts sorted by position (with
        `overlap="best_label"`, only the best-scoring of overlapping spans)."""
        text, wanted = all_outputs[0]["text"], all_outputs[0]["prediction"].wanted
        char_spans = []
        for output in all_outputs:
            prediction = output["prediction"]
            char_spans.extend(window_spans_to_char_spans(prediction.window, prediction.spans))
        names = all_outputs[0]["prediction"].label_names
        entities = []
        for span in merge_char_spans(char_spans):
            name = names[span.label]
            if wanted is not None and name not in wanted:  # a model with built-in label states scores them all
                continue
            entities.append(
                {
                    "entity_group": name,
                    "score": span.score,
                    "word": text[span.start : span.end],
                    "start": span.start,
                    "end": span.end,
                }
            )
        return keep_best_of_overlapping(entities) if overlap == "best_label" else entities


def keep_best_of_overlapping(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entities no higher-scoring entity overlaps (by characters), greedily from the best score (ties: the
    earlier, then the shorter span), in position order."""
    kept: list[dict[str, Any]] = []  # non-overlapping, sorted by start
    starts: list[int] = []
    for entity in sorted(entities, key=lambda e: (-e["score"], e["start"], e["end"])):
        index = bisect.bisect_right(starts, entity["start"])
        if index > 0 and kept[index - 1]["end"] > entity["start"]:
            continue
        if index < len(kept) and kept[index]["start"] < entity["end"]:
            continue
        kept.insert(index, entity)
        starts.insert(index, entity["start"])
    return kept


# token-classification's strategies that merge sub-word tags into whole entities; LEAR's output already is that
WHOLE_ENTITY_AGGREGATIONS = ("simple", "first", "average", "max")


def _answer_aggregation_strategy(strategy: Any) -> None:
    """`aggregation_strategy` is a token-classification habit: LEAR predicts spans, not per-token tags, so there is
    nothing to aggregate. The strategies that return whole entities are what LEAR returns anyway (a warning says so);
    `"none"` (one tag per token) has no LEAR equivalent."""
    name = str(getattr(strategy, "value", strategy)).lower()  # token-classification's AggregationStrategy enum too
    if name in WHOLE_ENTITY_AGGREGATIONS:
        warnings.warn(
            f"aggregation_strategy={name!r} is ignored: LEAR predicts spans (a start and an end per label), so its "
            "results are already whole entities with character offsets ('entity_group', 'score', 'word', 'start', "
            "'end'), the format token-classification returns with aggregation_strategy='simple'",
            UserWarning,
            stacklevel=4,
        )
        return
    if name == "none":
        raise ValueError(
            "aggregation_strategy='none' asks for one tag per token, but LEAR has no per-token tags: it predicts "
            "spans (a start and an end per label) and returns whole entities; leave aggregation_strategy out"
        )
    raise ValueError(
        f"aggregation_strategy={strategy!r} is not a token-classification strategy, and LEAR needs none: it returns "
        f"whole entities (spans) already; leave it out (or pass one of {WHOLE_ENTITY_AGGREGATIONS}, which is ignored)"
    )


def _is_sized_collection(inputs: Any) -> bool:
    """A finite collection of inputs that is not a list or a str: a tuple, a `datasets` Column, a pandas Series."""
    return (
        isinstance(inputs, Sized)
        and isinstance(inputs, Iterable)
        and not isinstance(inputs, (str, bytes, bytearray, list, Mapping, torch.Tensor))
        and not _is_torch_dataset(inputs)  # the pipeline streams these itself
    )


def register_span_extraction_task(replace: bool = False) -> None:
    """Register this pipeline for `pipeline("span-extraction", ...)`. `import lear` replaces whatever is registered;
    a checkpoint's config module running as remote code registers only where the task is not registered yet, so the
    installed package's pipeline stays."""
    from transformers import AutoModel
    from transformers.pipelines import PIPELINE_REGISTRY

    if replace or TASK not in PIPELINE_REGISTRY.supported_tasks:
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=SpanExtractionPipeline, pt_model=AutoModel, type="text"
        )


def _check_input(item: Any, where: str) -> None:
    """Raise a TypeError naming the input unless it is a text (str) or a pre-split text (list/tuple of str)."""
    if isinstance(item, str):
        return
    if isinstance(item, (list, tuple)):
        for index, word in enumerate(item):
            if not isinstance(word, str):
                raise TypeError(
                    f"span-extraction {where} is a list of words, but word {index} is a {type(word).__name__}: "
                    f"{_short_repr(word)}"
                )
        return
    raise TypeError(
        f"span-extraction {where} must be a str (or a list of str words), got {type(item).__name__}: "
        f"{_short_repr(item)}"
    )


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_torch_dataset(inputs: Any) -> bool:
    return isinstance(inputs, torch.utils.data.Dataset)


__all__ = ["OVERLAP_CHOICES", "SpanExtractionPipeline", "TASK"]
