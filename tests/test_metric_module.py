"""`lear_span_f1`, the `evaluate` metric module: it loads from its local folder with no Hub access and equals
`span_scores` on flat and nested spans (the scores run_lear.py's evaluation reports, `lear.evaluation`)."""

from __future__ import annotations

import os
import random

import evaluate
import pytest

from lear.evaluation import EvaluationSplit
from lear.metrics import SPAN_F1_MODULE, span_scores
from lear.windowing import CharSpan, TextWindow


LABELS = ["LOC", "ORG", "PER"]


def random_spans(rng: random.Random, nested: bool) -> list[dict]:
    spans = []
    for _ in range(rng.randint(0, 5)):
        start = rng.randint(0, 30)
        end = start + rng.randint(1, 8 if nested else 3)
        spans.append({"start": start, "end": end, "label": rng.choice(LABELS)})
    if nested and spans:
        outer = spans[0]
        spans.append({"start": outer["start"], "end": outer["end"] + 4, "label": outer["label"]})  # overlaps
    return spans


def as_id_tuples(texts):
    return [[(span["start"], span["end"], LABELS.index(span["label"])) for span in spans] for spans in texts]


@pytest.fixture(scope="module")
def span_f1():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    return evaluate.load(SPAN_F1_MODULE)


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_module_equals_span_scores(span_f1, nested):
    rng = random.Random(7 + nested)
    references = [random_spans(rng, nested) for _ in range(200)]
    # predictions: each gold span kept, shifted or relabelled, plus spurious ones
    predictions = []
    for gold in references:
        predicted = []
        for span in gold:
            choice = rng.random()
            if choice < 0.6:
                predicted.append(dict(span))
            elif choice < 0.8:
                predicted.append({**span, "end": span["end"] + 1})
            else:
                predicted.append({**span, "label": rng.choice(LABELS)})
        predictions.append(predicted + random_spans(rng, nested)[:1])
    scores = span_f1.compute(predictions=predictions, references=references, label_names=LABELS)
    expected = span_scores(as_id_tuples(references), as_id_tuples(predictions), LABELS)
    assert scores == pytest.approx(expected)
    assert 0.2 < scores["f1"] < 0.95  # a comparison of non-trivial scores
    assert {f"{label}_f1" for label in LABELS} <= set(scores)


def test_module_scores_a_hand_computed_case(span_f1):
    scores = span_f1.compute(
        predictions=[[{"start": 0, "end": 5, "label": "PER"}, {"start": 9, "end": 14, "label": "LOC"}]],
        references=[[{"start": 0, "end": 5, "label": "PER"}, {"start": 15, "end": 20, "label": "LOC"}]],
    )
    assert (scores["precision"], scores["recall"], scores["PER_f1"], scores["LOC_f1"]) == (0.5, 0.5, 1.0, 0.0)


def test_a_label_outside_label_names_is_named_in_the_error(span_f1):
    with pytest.raises(ValueError, match="predictions\\[1\\] has a span labelled 'DRUG'"):
        span_f1.compute(
            predictions=[[], [{"start": 0, "end": 5, "label": "DRUG"}]], references=[[], []], label_names=LABELS
        )


def test_an_evaluation_split_scores_with_span_scores():
    """`EvaluationSplit.score`: `span_scores` over label ids (no name dicts), plus `n_unreachable` and the truncated
    scoring, which drops what lies past each text's first window."""
    window = TextWindow(0, 0, [1, 2, 3], [(-1, -1), (0, 5), (-1, -1)], [False, True, False], [False, True, False],
                        [False, True, False])  # fmt: skip
    targets = {"n_gold": 2, "n_inexact": 1, "n_cut": 0}
    split = EvaluationSplit(["Alice Paris"], [[(0, 5, 2), (6, 11, 0)]], LABELS, [window], [targets])
    predictions = [[CharSpan(0, 5, 2, 0.9), CharSpan(6, 11, 1, 0.8)]]
    scores = split.score(predictions)
    assert {key: scores[key] for key in span_scores(split.gold, predictions, LABELS)} == span_scores(
        split.gold, predictions, LABELS
    )
    assert scores["n_unreachable"] == 1 and scores["f1"] == 0.5
    assert scores["n_gold_truncated"] == 2  # one window: the text is read whole
