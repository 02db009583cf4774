# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""`lear_span_f1`: micro and per-label precision, recall and F1 over exact (start, end, label) spans, as an `evaluate`
metric module. Flat and nested spans score alike (a text's spans are a set; overlaps are fine).

It is `lear.metrics.span_scores` (the one implementation) behind `evaluate`'s interface, loaded from its folder with
no Hub access:

    import evaluate, lear.metrics
    span_f1 = evaluate.load(lear.metrics.SPAN_F1_MODULE)      # a local path: works with HF_HUB_OFFLINE=1
    span_f1.compute(
        predictions=[[{"start": 0, "end": 5, "label": "PER"}]],
        references=[[{"start": 0, "end": 5, "label": "PER"}, {"start": 15, "end": 20, "label": "LOC"}]],
    )
    # {'precision': 1.0, 'recall': 0.5, 'f1': 0.666..., 'n_gold': 2, ..., 'PER_f1': 1.0, 'LOC_f1': 0.0, ...}
"""

import datasets
import evaluate

from lear.metrics import CITATION, span_scores


_CITATION = CITATION

_DESCRIPTION = """Exact-match span scores for span extraction (flat or nested NER, event triggers): a predicted span
counts when its start, end and label all equal a gold span's of the same text. Micro precision/recall/F1 over all
labels, and the same per label. On flat data the figures equal seqeval's entity-level scores."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: for each text, a list of predicted spans, each `{"start": int, "end": int, "label": str}` (the
        offsets in any one unit: characters, end exclusive, in lear).
    references: for each text, its gold spans in the same form.
    label_names (`list[str]`, optional): labels that always get per-label figures, even with no span.
Returns:
    `precision`, `recall`, `f1` (micro), `n_gold`, `n_predicted`, `n_correct`, and per label `{label}_precision`,
    `{label}_recall`, `{label}_f1`, `{label}_n_gold`.
"""

SPAN = {"start": datasets.Value("int64"), "end": datasets.Value("int64"), "label": datasets.Value("string")}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class LearSpanF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.List(SPAN), "references": datasets.List(SPAN)}),
            reference_urls=["https://arxiv.org/abs/2111.00884"],
        )

    def _compute(self, predictions, references, label_names=None):
        # span_scores takes label ids when it is given the names (every named label is then reported)
        label_id = {name: index for index, name in enumerate(label_names)} if label_names is not None else None

        def as_tuples(texts, what):
            tuples = []
            for text_index, spans in enumerate(texts):
                for span in spans:
                    if label_id is not None and span["label"] not in label_id:
                        raise ValueError(f"{what}[{text_index}] has a span labelled {span['label']!r}, which is not "
                                         f"among label_names {list(label_names)}")  # fmt: skip
                tuples.append([(s["start"], s["end"], s["label"] if label_id is None else label_id[s["label"]])
                               for s in spans])  # fmt: skip
            return tuples

        return span_scores(as_tuples(references, "references"), as_tuples(predictions, "predictions"), label_names)
