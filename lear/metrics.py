# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Span-level scores: micro and per-label precision, recall and F1 over exact (start, end, label) matches.

The unit is whatever the caller puts in the tuples: `run_lear.py` scores character spans of whole texts (after
merging windows), so the figures do not depend on the tokenizer or on how texts were windowed, and flat and nested
entities are scored alike. On flat data the result equals `seqeval`'s entity-level micro and per-type scores
(`tests/test_run_lear.py` checks this on random BIO sequences).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


# The same scores as an `evaluate` metric module (lear_span_f1.py wraps `span_scores`): `evaluate.load` takes this
# local folder with no Hub access. Shipped inside the package, so installed copies have it too.
SPAN_F1_MODULE = str(Path(__file__).parent / "metric_modules" / "lear_span_f1")
# The paper's, for the metric module and run_lear.py's model cards.
CITATION = """@inproceedings{yang-etal-2021-enhanced,
    title = "Enhanced Language Representation with Label Knowledge for Span Extraction",
    author = "Yang, Pan and Cong, Xin and Sun, Zhenyu and Liu, Xingwu",
    booktitle = "Proceedings of the 2021 Conference on Empirical Methods in Natural Language Processing",
    year = "2021",
}"""


def _ratio(numerator: int, denominator: int) -> float:
    # Like seqeval (zero_division=0): an empty denominator scores 0, not NaN.
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def span_scores(
    gold: Sequence[Iterable[tuple[int, int, Hashable]]],
    predicted: Sequence[Iterable[tuple[int, int, Hashable]]],
    label_names: Sequence[str] | None = None,
    every_label: bool = True,
) -> dict[str, float]:
    """Score predicted spans against gold spans, text by text.

    Args:
        gold: for each text, its gold `(start, end, label)` spans. Duplicates within a text count once.
        predicted: for each text, its predicted spans (extra fields after the label, such as a score, are ignored).
        label_names: names of the labels when `label` is an id (`label_names[label]`); when omitted, labels are used
            as given. Every listed label gets per-label figures, even with no gold and no predicted span, unless
            `every_label=False` (a mix of corpora with hundreds of labels): then only labels with a gold or predicted
            span do.

    Returns:
        A flat dict (ready for `Trainer.log_metrics`): `precision`, `recall`, `f1` (micro), `n_gold`, `n_predicted`,
        `n_correct`, and for each label `{label}_precision`, `{label}_recall`, `{label}_f1`, `{label}_n_gold`.

    Example:

    ```python
    >>> scores = span_scores(gold=[[(0, 5, "PER"), (15, 20, "LOC")]], predicted=[[(0, 5, "PER"), (9, 14, "LOC")]])
    >>> scores["precision"], scores["recall"], scores["PER_f1"], scores["LOC_f1"]
    (0.5, 0.5, 1.0, 0.0)
    ```
    """
    if len(gold) != len(predicted):
        raise ValueError(f"got gold spans for {len(gold)} texts but predictions for {len(predicted)}")
    n_gold, n_predicted, n_correct = Counter(), Counter(), Counter()
    for gold_spans, predicted_spans in zip(gold, predicted):
        gold_set = {tuple(span[:3]) for span in gold_spans}
        predicted_set = {tuple(span[:3]) for span in predicted_spans}
        n_gold.update(label for _, _, label in gold_set)
        n_predicted.update(label for _, _, label in predicted_set)
        n_correct.update(label for _, _, label in gold_set & predicted_set)

    def name(label: Hashable) -> str:
        return label_names[label] if label_names is not None else str(label)

    total_gold, total_predicted, total_correct = (sum(c.values()) for c in (n_gold, n_predicted, n_correct))
    precision, recall = _ratio(total_correct, total_predicted), _ratio(total_correct, total_gold)
    scores: dict[str, float] = {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "n_gold": total_gold,
        "n_predicted": total_predicted,
        "n_correct": total_correct,
    }
    labels = list(range(len(label_names))) if label_names is not None and every_label else []
    labels += sorted((set(n_gold) | set(n_predicted)) - set(labels), key=str)
    for label in labels:
        label_precision = _ratio(n_correct[label], n_predicted[label])
        label_recall = _ratio(n_correct[label], n_gold[label])
        scores[f"{name(label)}_precision"] = label_precision
        scores[f"{name(label)}_recall"] = label_recall
        scores[f"{name(label)}_f1"] = _f1(label_precision, label_recall)
        scores[f"{name(label)}_n_gold"] = n_gold[label]
    return scores


def mention_key(surface: str) -> str:
    """How a mention is recognised as one seen in training: its surface form lower-cased, whitespace collapsed."""
    return " ".join(surface.lower().split())


def training_mentions(texts: Sequence[str], entities: Sequence[Iterable[Mapping[str, Any]]]) -> set[str]:
    """The `mention_key`s of every gold entity of a split (its `text` and `entities` columns)."""
    return {mention_key(text[e["start"] : e["end"]]) for text, row in zip(texts, entities) for e in row}


def overlaps(span: Sequence, other: Sequence) -> bool:
    """Whether two `(start, end, ...)` character spans share a character."""
    return span[0] < other[1] and other[0] < span[1]


def seen_unseen_scores(
    texts: Sequence[str],
    gold: Sequence[Iterable[tuple[int, int, Hashable]]],
    predicted: Sequence[Iterable[tuple[int, int, Hashable]]],
    seen_mentions: set[str],
) -> dict[str, float]:
    """Scores on test mentions seen in training and on unseen ones (by `mention_key`, whatever the label).

    Recall splits the gold mentions; precision splits the predictions by the same rule (a predicted span whose
    surface form occurs among the training mentions counts as "seen"), so `f1_unseen` is how well a model finds
    entities it has never seen, the measure of generalisation beyond memorised names.

    Returns `unseen_share` (of the gold mentions), `n_gold_seen`, `n_gold_unseen`, and `precision_*`, `recall_*`,
    `f1_*` and `untouched_*` for `seen` and `unseen`. `untouched_*` is the share of the group's gold mentions that no
    predicted span overlaps, whatever its label or boundaries: the mentions a model abstains on, as opposed to those
    it finds with a wrong boundary or label (both cost recall; only abstention means the mention went unnoticed).
    """
    if not len(texts) == len(gold) == len(predicted):
        raise ValueError(f"got {len(texts)} texts, gold spans for {len(gold)} and predictions for {len(predicted)}")
    counts = {group: Counter() for group in ("seen", "unseen")}

    def group(text: str, span) -> str:
        return "seen" if mention_key(text[span[0] : span[1]]) in seen_mentions else "unseen"

    for text, gold_spans, predicted_spans in zip(texts, gold, predicted):
        gold_set = {tuple(span[:3]) for span in gold_spans}
        predicted_set = {tuple(span[:3]) for span in predicted_spans}
        for span in gold_set:
            counts[group(text, span)]["gold"] += 1
            counts[group(text, span)]["untouched"] += not any(overlaps(span, other) for other in predicted_set)
        for span in predicted_set:
            counts[group(text, span)]["predicted"] += 1
            counts[group(text, span)]["correct"] += span in gold_set
    total_gold = counts["seen"]["gold"] + counts["unseen"]["gold"]
    scores: dict[str, float] = {"unseen_share": _ratio(counts["unseen"]["gold"], total_gold)}
    for name, count in counts.items():
        precision, recall = _ratio(count["correct"], count["predicted"]), _ratio(count["correct"], count["gold"])
        scores.update({
            f"n_gold_{name}": count["gold"],
            f"precision_{name}": precision,
            f"recall_{name}": recall,
            f"f1_{name}": _f1(precision, recall),
            f"untouched_{name}": _ratio(count["untouched"], count["gold"]),
        })  # fmt: skip
    return scores


def bio_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Token spans `(start, end exclusive, label)` of a well-formed BIO (IOB2) tag sequence.

    An `I-X` that does not continue an `X` entity starts a new one (seqeval's lenient reading).

    ```python
    >>> bio_to_spans(["B-PER", "I-PER", "O", "B-LOC"])
    [(0, 2, 'PER'), (3, 4, 'LOC')]
    ```
    """
    spans, start, label = [], None, None
    for position, tag in enumerate([*tags, "O"]):
        prefix, _, tag_label = tag.partition("-")
        continues = prefix == "I" and label == tag_label
        if start is not None and not continues:
            spans.append((start, position, label))
            start, label = None, None
        if prefix in ("B", "I") and not continues:
            start, label = position, tag_label
    return spans


def load_span_f1():
    """The `lear_span_f1` evaluate module, from the package (offline), kept in memory: no cache files, which the
    processes of a distributed run would otherwise share."""
    import evaluate

    return evaluate.load(SPAN_F1_MODULE, keep_in_memory=True)


__all__ = [
    "SPAN_F1_MODULE",
    "bio_to_spans",
    "load_span_f1",
    "mention_key",
    "seen_unseen_scores",
    "span_scores",
    "training_mentions",
]
