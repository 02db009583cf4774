# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""LEAR decoding: start/end (and, for nested models, span) logits -> spans over token positions.

Plain functions on tensors, vectorised over batch and labels, testable without a model: the flat start/end pairing
rules (`decode_flat_spans`, docs/decoding.md), nested span decoding (`decode_nested_spans`), and `decode_spans`, which
reads the thresholds and rules from a `LearConfig`. The pipeline (for the torch model and the ONNX Runtime runner
alike), evaluation and `LearPreTrainedModel.decode` all decode through `decode_spans`, so equal logits give equal
spans.

This module imports only torch. `modeling_lear` imports it relatively, which is what makes transformers copy it next
to a checkpoint (and into the remote-code cache) for `trust_remote_code=True` loading without the `lear` package.

Shape legend: B batch, L text length, C labels, R rows (one per example and label).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch.nn import functional as F


if TYPE_CHECKING:
    from .configuration_lear import LearConfig


class Span(NamedTuple):
    """A decoded span over token positions, both ends inclusive."""

    start: int
    end: int
    label: int
    score: float


def _segment_first_argmax(values: torch.Tensor, member: torch.Tensor, segment: torch.Tensor, num_segments: int):
    """For each segment, the first position holding the segment's largest value among members.

    values, member, segment: `[R, L]`; segment ids index a flat `[num_segments]` space. Returns `(max, position)` per
    segment, position `-1` where a segment has no member. Taking the first maximum reproduces the reference loop's
    strict `>` updates.
    """
    length = values.shape[-1]
    flat_segment = segment.reshape(-1)
    masked = torch.where(member, values, torch.full_like(values, -math.inf)).reshape(-1)
    best = torch.full((num_segments,), -math.inf, dtype=values.dtype, device=values.device)
    best = best.scatter_reduce(0, flat_segment, masked, reduce="amax")
    positions = torch.arange(length, device=values.device).expand_as(values).reshape(-1)
    is_best = member.reshape(-1) & (masked == best[flat_segment])
    first = torch.full((num_segments,), length, dtype=torch.long, device=values.device)
    first = first.scatter_reduce(0, flat_segment, torch.where(is_best, positions, length), reduce="amin")
    return best, torch.where(first == length, -1, first)


def _last_true_position(flags: torch.Tensor) -> torch.Tensor:
    """`[R, L]` bool -> `[R, L]` index of the last True at or before each position (-1 if none)."""
    positions = torch.arange(flags.shape[-1], device=flags.device).expand_as(flags)
    return torch.where(flags, positions, -1).cummax(dim=-1).values


def _count_between(cumulative: torch.Tensor, first: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """Number of flagged positions in `[first, last]` from an inclusive cumulative count; 0 for empty ranges."""
    padded = F.pad(cumulative, (1, 0))  # padded[:, k] = count over positions < k
    first = first.clamp(min=0)
    last_plus_one = (last + 1).clamp(min=0)
    counts = padded.gather(-1, last_plus_one) - padded.gather(-1, first.clamp(max=cumulative.shape[-1]))
    return torch.where(last >= first, counts, 0)


def decode_v5_rows(start_probs: torch.Tensor, end_probs: torch.Tensor, start_threshold: float, end_threshold: float):
    """The original's "v5" rule (see docs/decoding.md) on `[R, L]` rows, one row per (example, label).

    Scanning left to right, a start (p >= threshold) opens or joins a group; ends (p > threshold) count once the group
    holds a start with p > threshold; the next start after such an end closes the group and emits (most probable
    start, most probable end). Instead of scanning, group boundaries are computed with cumulative ops: a start t
    opens a new group iff, with p the previous start and q the last strong start at or before p, there is no end in
    [q, p-1] and there is an end in [p, t-1].

    Returns `(row, start, end, score)` tensors of the emitted spans.
    """
    rows, length = start_probs.shape
    positions = torch.arange(length, device=start_probs.device).expand(rows, length)
    is_start = start_probs >= start_threshold
    is_strong_start = start_probs > start_threshold
    is_end = end_probs > end_threshold
    end_cumulative = is_end.long().cumsum(-1)

    last_start = _last_true_position(is_start)
    previous_start = F.pad(last_start[:, :-1], (1, 0), value=-1)  # last start strictly before t
    last_strong = _last_true_position(is_strong_start)
    strong_before_previous = last_strong.gather(-1, previous_start.clamp(min=0))
    previous_group_closed = (
        (previous_start >= 0)
        & (strong_before_previous >= 0)
        & (_count_between(end_cumulative, strong_before_previous, previous_start - 1) == 0)
        & (_count_between(end_cumulative, previous_start, positions - 1) > 0)
    )
    opens_group = is_start & ((previous_start < 0) | previous_group_closed)

    group = opens_group.long().cumsum(-1)  # 0 before the first start
    group_start = _last_true_position(opens_group)
    qualifying_end = is_end & (group > 0) & (last_strong >= group_start) & (group_start >= 0)

    segments_per_row = length + 1
    segment = group + segments_per_row * torch.arange(rows, device=start_probs.device)[:, None]
    num_segments = rows * segments_per_row
    start_score, start_position = _segment_first_argmax(start_probs, is_start, segment, num_segments)
    end_score, end_position = _segment_first_argmax(end_probs, qualifying_end, segment, num_segments)

    emitted = (end_position >= 0).nonzero().squeeze(-1)
    score = (start_score[emitted] + end_score[emitted]) / 2
    return emitted // segments_per_row, start_position[emitted], end_position[emitted], score


def decode_v1_rows(start_probs: torch.Tensor, end_probs: torch.Tensor, start_threshold: float, end_threshold: float):
    """The original's "v1" rule on `[R, L]` rows: each start (p > threshold) pairs with the nearest end (p >
    threshold) at or after it. Returns `(row, start, end, score)`."""
    length = start_probs.shape[-1]
    is_end = end_probs > end_threshold
    positions = torch.arange(length, device=start_probs.device).expand_as(start_probs)
    # next end at or after each position: a reversed running minimum
    next_end = torch.where(is_end, positions, length).flip(-1).cummin(-1).values.flip(-1)
    row, start = ((start_probs > start_threshold) & (next_end < length)).nonzero(as_tuple=True)
    end = next_end[row, start]
    score = (start_probs[row, start] + end_probs[row, end]) / 2
    return row, start, end, score


FLAT_DECODERS = {"v5": decode_v5_rows, "v1": decode_v1_rows}


def _apply_position_masks(start_probs, end_probs, start_mask, end_mask):
    # Masked positions (special tokens, padding, word-internal sub-tokens) can neither start nor end a span.
    if start_mask is not None:
        start_probs = start_probs.masked_fill(~start_mask.bool().unsqueeze(-1), 0.0)
    if end_mask is not None:
        end_probs = end_probs.masked_fill(~end_mask.bool().unsqueeze(-1), 0.0)
    return start_probs, end_probs


def _group_spans(batch_size: int, batch, start, end, label, score) -> list[list[Span]]:
    spans: list[list[Span]] = [[] for _ in range(batch_size)]
    for b, s, e, c, p in zip(batch.tolist(), start.tolist(), end.tolist(), label.tolist(), score.tolist()):
        spans[b].append(Span(s, e, c, p))
    for example_spans in spans:
        example_spans.sort()
    return spans


def decode_flat_spans(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_mask: torch.Tensor | None = None,
    end_mask: torch.Tensor | None = None,
    strategy: str = "v5",
    start_threshold: float = 0.5,
    end_threshold: float = 0.5,
    max_span_length: int | None = None,
) -> list[list[Span]]:
    """Decode flat spans from `[B, L, C]` start/end logits.

    Spans of one label never overlap under "v5"; spans of different labels may. The score is the mean of the
    start and end probabilities. Masks are `[B, L]` (True where a position may start / end a span). Spans longer
    than `max_span_length` tokens are dropped (a start whose own end was missed would otherwise pair with an end
    sentences later).

    Example:

    ```python
    >>> import torch
    >>> logits = torch.full((1, 4, 1), -5.0)
    >>> start, end = logits.clone(), logits.clone()
    >>> start[0, 1, 0] = end[0, 2, 0] = 5.0
    >>> decode_flat_spans(start, end)[0][0][:3]
    (1, 2, 0)
    ```
    """
    if strategy not in FLAT_DECODERS:
        raise ValueError(f"unknown decode strategy {strategy!r}; expected one of {sorted(FLAT_DECODERS)}")
    batch_size, length, num_labels = start_logits.shape
    start_threshold = _row_thresholds(start_threshold, batch_size, num_labels, start_logits.device)
    end_threshold = _row_thresholds(end_threshold, batch_size, num_labels, start_logits.device)
    start_probs, end_probs = _apply_position_masks(
        start_logits.float().sigmoid(), end_logits.float().sigmoid(), start_mask, end_mask
    )
    # one row per (example, label): [B * C, L]
    start_rows = start_probs.permute(0, 2, 1).reshape(-1, length)
    end_rows = end_probs.permute(0, 2, 1).reshape(-1, length)
    # Only rows holding both a start and an end can emit a span; in a trained model most (example, label) rows hold
    # neither, so the decoder's dozens of row-wide scans run on the few that do.
    active = ((start_rows >= start_threshold).any(-1) & (end_rows > end_threshold).any(-1)).nonzero().squeeze(-1)
    row, start, end, score = FLAT_DECODERS[strategy](
        start_rows[active], end_rows[active], _select_rows(start_threshold, active), _select_rows(end_threshold, active)
    )
    row = active[row]
    if max_span_length is not None:
        short = end - start < max_span_length
        row, start, end, score = row[short], start[short], end[short], score[short]
    return _group_spans(batch_size, row // num_labels, start, end, row % num_labels, score)


def _row_thresholds(threshold, batch_size: int, num_labels: int, device) -> float | torch.Tensor:
    """A scalar threshold as it is; one threshold per label as a `[B * C, 1]` column over the decoder's rows (one row
    per (example, label), label fastest)."""
    if isinstance(threshold, (int, float)):
        return float(threshold)
    per_label = torch.as_tensor(threshold, dtype=torch.float32, device=device)
    if per_label.shape != (num_labels,):
        raise ValueError(f"expected one threshold per label ({num_labels}), got {list(per_label.shape)}")
    return per_label.repeat(batch_size)[:, None]


def _select_rows(threshold: float | torch.Tensor, rows: torch.Tensor) -> float | torch.Tensor:
    return threshold if isinstance(threshold, float) else threshold[rows]


def decode_nested_spans(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    span_logits: torch.Tensor,
    start_mask: torch.Tensor | None = None,
    end_mask: torch.Tensor | None = None,
    start_threshold: float = 0.5,
    end_threshold: float = 0.5,
    span_threshold: float = 0.5,
    max_span_length: int | None = None,
    allow_overlaps: bool = True,
) -> list[list[Span]]:
    """Decode nested spans: every (i, j, c) with P_span > t, P_start[i] > t, P_end[j] > t and i <= j (and at most
    `max_span_length` tokens long). `span_logits` is `[B, L, L, C]`. The score is the span probability.

    `allow_overlaps=False` scores spans the same way but returns flat output: the most probable spans that share no
    token (`drop_overlapping_spans`), for a span head trained on flat data."""
    start_probs, end_probs = _apply_position_masks(
        start_logits.float().sigmoid(), end_logits.float().sigmoid(), start_mask, end_mask
    )
    span_probs = span_logits.float().sigmoid()
    keep = (
        (span_probs > span_threshold)
        & (start_probs > start_threshold).unsqueeze(2)
        & (end_probs > end_threshold).unsqueeze(1)
        & upper_triangle(span_logits.shape[1], span_logits.device, max_span_length)[None, :, :, None]
    )
    batch, start, end, label = keep.nonzero(as_tuple=True)
    spans = _group_spans(span_logits.shape[0], batch, start, end, label, span_probs[batch, start, end, label])
    return spans if allow_overlaps else [drop_overlapping_spans(example_spans) for example_spans in spans]


def drop_overlapping_spans(spans: list[Span]) -> list[Span]:
    """Greedy flat selection: spans by decreasing score, each kept unless it shares a token with a kept one (so one
    label per span too). Returns them in position order."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda span: -span.score):
        if all(span.end < other.start or other.end < span.start for other in kept):
            kept.append(span)
    return sorted(kept)


def upper_triangle(length: int, device: torch.device, max_span_length: int | None = None) -> torch.Tensor:
    """`[L, L]` True where `i <= j` (and `j - i < max_span_length`)."""
    ones = torch.ones(length, length, dtype=torch.bool, device=device)
    upper = ones.triu()
    return upper if max_span_length is None else upper & ones.tril(max_span_length - 1)


def decode_spans(
    config: LearConfig,
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    span_logits: torch.Tensor | None = None,
    start_mask: torch.Tensor | None = None,
    end_mask: torch.Tensor | None = None,
    nested: bool | None = None,
    strategy: str | None = None,
    threshold: float | None = None,
    label_ids: Sequence[int] | None = None,
) -> list[list[Span]]:
    """Decode a model's logits into spans over token positions with the config's rules and thresholds.

    `nested=False` forces flat decoding on a nested model; `threshold` overrides all three thresholds. Flat decoding
    uses `config.label_thresholds` (per label, calibrated on a dev set) where they are set. Logits are `[B, L, C]`
    (`span_logits` `[B, L, L, C]`, nested models only), masks `[B, L]`. `label_ids` says which of the model's labels
    the C columns are when they are not all of them in id order (`LearLabelStates.label_ids`; -1, a label the model
    does not know, decodes at `columns_thresholds`' threshold for it); spans keep the column index as their label.
    """
    nested = config.nested if nested is None else nested
    start_threshold = threshold if threshold is not None else config.start_threshold
    end_threshold = threshold if threshold is not None else config.end_threshold
    if threshold is None and config.label_thresholds is not None and not nested:
        start_threshold = end_threshold = columns_thresholds(
            config.label_thresholds, label_ids, getattr(config, "unseen_label_threshold", None)
        )
    span_threshold = threshold if threshold is not None else config.span_threshold
    if nested:
        if span_logits is None:
            raise ValueError("nested decoding needs span_logits: this model was built with nested=False")
        return decode_nested_spans(
            start_logits, end_logits, span_logits, start_mask, end_mask,
            start_threshold, end_threshold, span_threshold, config.max_span_length, config.allow_overlaps,
        )  # fmt: skip
    return decode_flat_spans(
        start_logits, end_logits, start_mask, end_mask,
        strategy or config.decode_strategy, start_threshold, end_threshold, config.max_span_length,
    )  # fmt: skip


def columns_thresholds(
    label_thresholds: Sequence[float], label_ids: Sequence[int] | None, unseen: float | None = None
) -> list[float]:
    """The calibrated thresholds of the labels `label_ids` (all, in id order, when None); a label the model does not
    know (-1) takes `unseen` (`LearConfig.unseen_label_threshold`, calibrated on labels held out of training), else
    their median, which is the single threshold of a model calibrated with one for all labels."""
    if label_ids is None:
        return list(label_thresholds)
    fallback = unseen if unseen is not None else statistics.median(label_thresholds)
    return [label_thresholds[label] if label >= 0 else fallback for label in [int(i) for i in label_ids]]


def predict_window_spans(
    model,
    inputs: dict[str, torch.Tensor],
    start_mask: torch.Tensor,
    end_mask: torch.Tensor,
    thresholds: Sequence[float | None] = (None,),
    nested: bool | None = None,
    label_ids: Sequence[int] | None = None,
    **forward_kwargs,
) -> tuple[Any, dict[float | None, list[list[Span]]]]:
    """The one prediction step of the pipeline and of evaluation (`LearTrainer`, threshold calibration): a forward
    pass over a batch of token windows (`inputs`, padded, `[B, L]`) and its spans decoded by `decode_spans` at each
    of `thresholds` (`None`: the config's). `forward_kwargs` go to the model (`label_states`, targets for a loss);
    `model` is a LEAR model or anything that returns its outputs and carries its config (the ONNX runner).
    Returns the outputs and, per threshold, each window's spans over token positions (labels: logit columns)."""
    outputs = model(**inputs, **forward_kwargs)
    spans = {
        threshold: decode_spans(
            model.config,
            outputs.start_logits,
            outputs.end_logits,
            outputs.span_logits,
            start_mask,
            end_mask,
            nested=nested,
            threshold=threshold,
            label_ids=label_ids,
        )
        for threshold in thresholds
    }
    return outputs, spans


__all__ = [
    "predict_window_spans",
    "columns_thresholds",
    "Span",
    "decode_flat_spans",
    "decode_nested_spans",
    "decode_spans",
    "drop_overlapping_spans",
    "upper_triangle",
]
