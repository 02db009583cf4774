"""The vectorised decoders (`decode_flat_spans`, `decode_nested_spans`) against the literal loops of
lear-reference.md sections 4-5 (`tests/reference_decoding.py`), on random inputs and on hand-made cases."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_decoding import reference_flat, reference_nested

from bench.any_label_decoding import any_label_spans
from lear import decode_flat_spans, decode_nested_spans


# Logits whose probabilities hit the interesting values exactly: 0 and 1 (+-inf, and +-30, which round to 0/1 in
# float32), 0.5 (logit 0), near-ties, and values straddling the non-default thresholds used below.
SPECIAL_LOGITS = [-math.inf, -30.0, -2.0, -1.0986123, -0.5, 0.0, 0.0, 0.0, 0.5, 1.0986123, 2.0, 30.0, math.inf]
THRESHOLDS = [0.5, 0.5, 0.5, 0.25, 0.75]  # representable in float32, so both sides compare the same number
PROPERTY_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def logits(draw, batch_size: int, length: int, num_labels: int) -> torch.Tensor:
    """`[B, L, C]` logits built, per (example, label) row, from runs of repeated values (so ties and long runs of
    starts/ends are common), each value special or a random float32."""
    value = st.one_of(st.sampled_from(SPECIAL_LOGITS), st.floats(-4, 4, allow_nan=False, width=32))
    rows = []
    for _ in range(batch_size * num_labels):
        row: list[float] = []
        while len(row) < length:
            row.extend([draw(value)] * draw(st.integers(1, length)))
        rows.append(row[:length])
    return torch.tensor(rows, dtype=torch.float32).reshape(batch_size, num_labels, length).permute(0, 2, 1)


@st.composite
def optional_mask(draw, batch_size: int, length: int) -> torch.Tensor | None:
    if draw(st.booleans()):
        return None
    bits = draw(st.lists(st.booleans(), min_size=batch_size * length, max_size=batch_size * length))
    return torch.tensor(bits).reshape(batch_size, length)


@st.composite
def flat_cases(draw):
    batch_size, length, num_labels = draw(st.integers(1, 3)), draw(st.integers(1, 20)), draw(st.integers(1, 3))
    return dict(
        start_logits=draw(logits(batch_size, length, num_labels)),
        end_logits=draw(logits(batch_size, length, num_labels)),
        start_mask=draw(optional_mask(batch_size, length)),
        end_mask=draw(optional_mask(batch_size, length)),
        thresholds=(draw(st.sampled_from(THRESHOLDS)), draw(st.sampled_from(THRESHOLDS))),
    )


@st.composite
def seeded_logits(draw, *shape: int) -> torch.Tensor:
    """Logits for a large tensor from one drawn seed (cheap to draw): a mix of special values and Gaussians."""
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))
    special = torch.tensor(SPECIAL_LOGITS)[torch.randint(len(SPECIAL_LOGITS), shape, generator=generator)]
    gaussian = torch.randn(shape, generator=generator) * 2
    return torch.where(torch.rand(shape, generator=generator) < 0.5, special, gaussian)


@st.composite
def nested_cases(draw):
    batch_size, length, num_labels = draw(st.integers(1, 2)), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    return dict(
        start_logits=draw(logits(batch_size, length, num_labels)),
        end_logits=draw(logits(batch_size, length, num_labels)),
        span_logits=draw(seeded_logits(batch_size, length, length, num_labels)),
        start_mask=draw(optional_mask(batch_size, length)),
        end_mask=draw(optional_mask(batch_size, length)),
        thresholds=tuple(draw(st.sampled_from(THRESHOLDS)) for _ in range(3)),
    )


def probabilities(logits_tensor: torch.Tensor) -> list:
    """The probabilities the decoders see (float32 sigmoid), as exact Python floats."""
    return logits_tensor.float().sigmoid().tolist()


def as_lists(mask: torch.Tensor | None):
    return None if mask is None else mask.tolist()


def assert_same_spans(decoded, expected) -> None:
    """Same span sets per example; scores equal up to float32 rounding."""
    assert len(decoded) == len(expected)
    for example, (got, want) in enumerate(zip(decoded, expected)):
        assert [tuple(span[:3]) for span in got] == [span[:3] for span in want], f"example {example}"
        for span, reference in zip(got, want):
            assert span.score == pytest.approx(reference[3], abs=1e-6)


def check_flat_case(case, strategy: str) -> None:
    start_threshold, end_threshold = case["thresholds"]
    decoded = decode_flat_spans(
        case["start_logits"], case["end_logits"], case["start_mask"], case["end_mask"],
        strategy=strategy, start_threshold=start_threshold, end_threshold=end_threshold,
    )  # fmt: skip
    expected = reference_flat(
        probabilities(case["start_logits"]), probabilities(case["end_logits"]),
        as_lists(case["start_mask"]), as_lists(case["end_mask"]), strategy, case["thresholds"],
    )  # fmt: skip
    assert_same_spans(decoded, expected)


def check_nested_case(case) -> None:
    start_threshold, end_threshold, span_threshold = case["thresholds"]
    decoded = decode_nested_spans(
        case["start_logits"], case["end_logits"], case["span_logits"], case["start_mask"], case["end_mask"],
        start_threshold, end_threshold, span_threshold,
    )  # fmt: skip
    expected = reference_nested(
        probabilities(case["start_logits"]), probabilities(case["end_logits"]), probabilities(case["span_logits"]),
        as_lists(case["start_mask"]), as_lists(case["end_mask"]), case["thresholds"],
    )  # fmt: skip
    assert_same_spans(decoded, expected)


# -- property tests: 1,000 examples each in the default run, 10,000 under -m slow ----------------------------------


@pytest.mark.parametrize("strategy", ["v5", "v1"])
@settings(max_examples=1000, **PROPERTY_SETTINGS)
@given(case=flat_cases())
def test_flat_decoding_equals_reference_loop(case, strategy):
    check_flat_case(case, strategy)


@settings(max_examples=1000, **PROPERTY_SETTINGS)
@given(case=nested_cases())
def test_nested_decoding_equals_reference_loop(case):
    check_nested_case(case)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["v5", "v1"])
@settings(max_examples=10_000, **PROPERTY_SETTINGS)
@given(case=flat_cases())
def test_flat_decoding_equals_reference_loop_10k(case, strategy):
    check_flat_case(case, strategy)


@pytest.mark.slow
@settings(max_examples=10_000, **PROPERTY_SETTINGS)
@given(case=nested_cases())
def test_nested_decoding_equals_reference_loop_10k(case):
    check_nested_case(case)


@settings(max_examples=300, **PROPERTY_SETTINGS)
@given(case=flat_cases())
def test_v5_spans_of_one_label_never_overlap(case):
    start_threshold, end_threshold = case["thresholds"]
    decoded = decode_flat_spans(
        case["start_logits"], case["end_logits"], case["start_mask"], case["end_mask"],
        "v5", start_threshold, end_threshold,
    )  # fmt: skip
    for example in decoded:
        for span in example:
            assert span.start <= span.end
        for first, second in zip(example, example[1:]):
            if first.label == second.label:
                assert first.end < second.start


# -- a large random batch ---------------------------------------------------------------------------------------------


def random_logits(generator: torch.Generator, *shape: int) -> torch.Tensor:
    """Gaussian logits, half of them rounded to a coarse grid so that exact 0.5 probabilities and ties occur."""
    values = torch.randn(*shape, generator=generator) * 2
    coarse = torch.rand(*shape, generator=generator) < 0.5
    return torch.where(coarse, (values * 2).round() / 2, values)


@pytest.mark.parametrize("strategy", ["v5", "v1"])
@pytest.mark.parametrize("with_masks", [False, True])
def test_large_random_batch_flat_decoding_equals_reference_loop(strategy, with_masks):
    generator = torch.Generator().manual_seed(1234)
    batch_size, length, num_labels = 64, 128, 18
    start_logits = random_logits(generator, batch_size, length, num_labels)
    end_logits = random_logits(generator, batch_size, length, num_labels)
    start_mask = end_mask = None
    if with_masks:
        start_mask = torch.rand(batch_size, length, generator=generator) < 0.8
        end_mask = torch.rand(batch_size, length, generator=generator) < 0.8
    decoded = decode_flat_spans(start_logits, end_logits, start_mask, end_mask, strategy)
    expected = reference_flat(
        probabilities(start_logits), probabilities(end_logits), as_lists(start_mask), as_lists(end_mask), strategy
    )
    assert sum(map(len, expected)) > 1000  # the batch exercises the decoder
    assert_same_spans(decoded, expected)


def test_large_random_batch_nested_decoding_equals_reference_loop():
    generator = torch.Generator().manual_seed(99)
    batch_size, length, num_labels = 8, 48, 18
    start_logits = random_logits(generator, batch_size, length, num_labels)
    end_logits = random_logits(generator, batch_size, length, num_labels)
    span_logits = random_logits(generator, batch_size, length, length, num_labels)
    start_mask = torch.rand(batch_size, length, generator=generator) < 0.8
    decoded = decode_nested_spans(start_logits, end_logits, span_logits, start_mask, None)
    expected = reference_nested(
        probabilities(start_logits), probabilities(end_logits), probabilities(span_logits), as_lists(start_mask)
    )
    assert sum(map(len, expected)) > 1000
    assert_same_spans(decoded, expected)


# -- hand-made cases from the reference's bullet points --------------------------------------------------------------


def row_logits(*probs: float) -> torch.Tensor:
    """One example, one label: `[1, L, 1]` logits for the given probabilities."""
    return torch.logit(torch.tensor(probs, dtype=torch.float64)).float().reshape(1, -1, 1)


def decode_row(start_probs, end_probs, strategy="v5"):
    return [
        span[:2] for span in decode_flat_spans(row_logits(*start_probs), row_logits(*end_probs), strategy=strategy)[0]
    ]


def test_v5_keeps_the_most_probable_of_consecutive_starts_and_ends():
    # starts at 0 (0.6) and 1 (0.9); ends at 2 (0.7) and 3 (0.8) before the next start at 4; then a one-token entity
    starts = [0.6, 0.9, 0.1, 0.1, 0.7, 0.1]
    ends = [0.1, 0.1, 0.7, 0.8, 0.9, 0.1]
    assert decode_row(starts, ends) == [(1, 3), (4, 4)]


def test_v5_start_at_exactly_threshold_joins_a_group_but_cannot_open_the_end_gate():
    # a start of exactly 0.5 counts as a start (>=) but the end gate needs best_start_p > 0.5
    assert decode_row([0.5, 0.1, 0.1], [0.1, 0.9, 0.1]) == []
    assert decode_row([0.5, 0.6, 0.1], [0.1, 0.1, 0.9]) == [(1, 2)]
    # an end of exactly 0.5 is not an end (>)
    assert decode_row([0.9, 0.1], [0.1, 0.5]) == []


def test_v1_pairs_each_start_with_the_nearest_end_at_or_after_it():
    starts = [0.9, 0.9, 0.1, 0.9, 0.9]
    ends = [0.1, 0.1, 0.9, 0.9, 0.1]
    assert decode_row(starts, ends, "v1") == [(0, 2), (1, 2), (3, 3)]


def test_masked_positions_neither_start_nor_end_a_span():
    start_logits, end_logits = row_logits(0.9, 0.9, 0.1), row_logits(0.1, 0.9, 0.9)
    start_mask = torch.tensor([[False, True, True]])
    end_mask = torch.tensor([[True, True, False]])
    spans = decode_flat_spans(start_logits, end_logits, start_mask, end_mask)
    assert [span[:3] for span in spans[0]] == [(1, 1, 0)]


def test_unknown_flat_strategy_is_rejected_by_name():
    with pytest.raises(ValueError, match="v7"):
        decode_flat_spans(row_logits(0.9), row_logits(0.9), strategy="v7")


# -- per-label thresholds and the span-length limit ------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["v5", "v1"])
def test_per_label_thresholds_decode_each_label_as_its_own_scalar_threshold(strategy):
    generator = torch.Generator().manual_seed(3)
    start_logits = torch.randn(4, 12, 3, generator=generator)
    end_logits = torch.randn(4, 12, 3, generator=generator)
    thresholds = [0.2, 0.5, 0.35]
    decoded = decode_flat_spans(start_logits, end_logits, strategy=strategy, start_threshold=thresholds,
                                end_threshold=thresholds)  # fmt: skip
    for label, threshold in enumerate(thresholds):
        alone = decode_flat_spans(start_logits, end_logits, strategy=strategy, start_threshold=threshold,
                                  end_threshold=threshold)  # fmt: skip
        for example_spans, alone_spans in zip(decoded, alone):
            assert [s for s in example_spans if s.label == label] == [s for s in alone_spans if s.label == label]
    assert sum(map(len, decoded)) > 0


def test_max_span_length_drops_exactly_the_longer_spans():
    generator = torch.Generator().manual_seed(4)
    start_logits = torch.randn(3, 30, 2, generator=generator)
    end_logits = torch.randn(3, 30, 2, generator=generator)
    span_logits = torch.randn(3, 30, 30, 2, generator=generator)
    flat = decode_flat_spans(start_logits, end_logits)
    flat_short = decode_flat_spans(start_logits, end_logits, max_span_length=3)
    assert flat_short == [[s for s in spans if s.end - s.start < 3] for spans in flat]
    nested = decode_nested_spans(start_logits, end_logits, span_logits)
    nested_short = decode_nested_spans(start_logits, end_logits, span_logits, max_span_length=3)
    assert nested_short == [[s for s in spans if s.end - s.start < 3] for spans in nested]
    assert any(s.end - s.start >= 3 for spans in flat + nested for s in spans)  # something was dropped


def label_logits(*rows: tuple[float, ...]) -> torch.Tensor:
    """One example: `[1, L, C]` logits, one tuple of label probabilities per position."""
    return torch.logit(torch.tensor(rows, dtype=torch.float64)).float().unsqueeze(0)


def test_any_label_spans_recover_a_mention_split_between_labels_and_keep_per_label_spans():
    # positions 0-1: a mention whose start/end evidence is split between labels 0 and 1, each under 0.5;
    # positions 3-4: a clear label-1 span that per-label decoding finds
    start = label_logits((0.3, 0.4), (0.01, 0.01), (0.01, 0.01), (0.01, 0.9), (0.01, 0.01))
    end = label_logits((0.01, 0.01), (0.45, 0.2), (0.01, 0.01), (0.01, 0.01), (0.01, 0.9))
    per_label = decode_flat_spans(start, end, start_threshold=0.5, end_threshold=0.5)
    assert [span[:3] for span in per_label[0]] == [(3, 4, 1)]

    completed = any_label_spans(start, end, per_label, threshold=0.25)
    # the split mention is found, labelled by its best mean (label 0: (0.3 + 0.45) / 2 > label 1: (0.4 + 0.2) / 2)
    assert [span[:3] for span in completed[0]] == [(0, 1, 0), (3, 4, 1)]
    assert completed[0][0].score == pytest.approx(0.375, abs=1e-4)
    assert any_label_spans(start, end, per_label, threshold=0.5) == per_label  # nothing reaches 0.5 on any label


def test_any_label_spans_never_add_a_span_overlapping_a_per_label_one():
    start = label_logits((0.9, 0.3), (0.01, 0.01), (0.01, 0.01))
    end = label_logits((0.01, 0.01), (0.9, 0.01), (0.01, 0.4))
    per_label = decode_flat_spans(start, end)
    assert [span[:3] for span in per_label[0]] == [(0, 1, 0)]
    # label-agnostic v5 at 0.3 pairs start 0 with end 1 (the same span): nothing is added, nothing changed
    assert any_label_spans(start, end, per_label, threshold=0.3) == per_label


def test_the_config_offers_exactly_the_flat_decoders():
    """`LearConfig.decode_strategy`'s choices and the decoders behind them: the same names (until the config takes
    its list from `decoding_lear.FLAT_DECODERS`)."""
    from lear.configuration_lear import DECODE_STRATEGIES
    from lear.decoding_lear import FLAT_DECODERS

    assert tuple(FLAT_DECODERS) == DECODE_STRATEGIES
