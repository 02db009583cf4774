"""Per-label decoding alone, and completed by label-agnostic boundaries (`any_label_spans`), on one
trained flat LEAR model: does recovering the mentions that no single label claims buy F1 on unseen entities?

The model's logits on the validation and test splits are computed once each. Per-label decoding uses the checkpoint's
own thresholds (`label_thresholds`, calibrated on dev by run_lear.py); the label-agnostic threshold is chosen on dev
(micro F1) from the calibration candidates. Both are scored on test, overall and on mentions seen / unseen in
training (`lear.metrics.seen_unseen_scores`). Writes `bench/results/anylabel-<run>.json`.

    python -m bench.any_label_decoding outputs/seed_rows/conll2003-lear-0.01-seed2 \
        --dataset_dir outputs/bench/quality/data/conll2003-p1-s2
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import datasets
import torch

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from bench.threshold_policies import scoring_job
from lear.decoding_lear import Span, _apply_position_masks, decode_spans, decode_v5_rows
from lear.evaluation import THRESHOLD_CANDIDATES, EvaluationSplit
from lear.metrics import seen_unseen_scores, training_mentions
from lear.training import DECODING_MASKS, model_inputs
from lear.windowing import text_char_spans


def any_label_spans(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    label_spans: Sequence[Sequence[Span]],
    threshold: float,
    start_mask: torch.Tensor | None = None,
    end_mask: torch.Tensor | None = None,
    max_span_length: int | None = None,
) -> list[list[Span]]:
    """Spans found from label-agnostic boundaries, for the mentions that per-label decoding leaves out.

    Independent per-label sigmoids split an ambiguous mention's evidence between labels (an unseen name that could be
    a person or an organisation): each label's probability stays under its threshold and no label emits a span, where
    a tagger's softmax would still give it some label. Here each position's boundary score is its best label's
    (`max_c`), decoded by the "v5" rule at `threshold`; each span found takes the label with the highest mean of its
    start and end probabilities, and is kept only where it overlaps none of `label_spans` (per-label decoding's
    result for the same batch, which it completes and never changes). Returns, per example, `label_spans` plus the
    spans added, sorted."""
    batch_size = start_logits.shape[0]
    start_probs, end_probs = _apply_position_masks(
        start_logits.float().sigmoid(), end_logits.float().sigmoid(), start_mask, end_mask
    )
    row, start, end, _ = decode_v5_rows(start_probs.amax(-1), end_probs.amax(-1), threshold, threshold)  # [B, L] rows
    if max_span_length is not None:
        short = end - start < max_span_length
        row, start, end = row[short], start[short], end[short]
    label_scores = (start_probs[row, start] + end_probs[row, end]) / 2  # [N, C]
    score, label = label_scores.max(-1)
    completed = [list(spans) for spans in label_spans]
    for b, s, e, c, p in zip(row.tolist(), start.tolist(), end.tolist(), label.tolist(), score.tolist()):
        if all(e < other.start or other.end < s for other in label_spans[b]):
            completed[b].append(Span(s, e, c, p))
    for example_spans in completed:
        example_spans.sort()
    return completed[:batch_size]


def window_logits(model, split: EvaluationSplit, collator, batch_size: int) -> list[tuple]:
    """Per batch of windows (in split order): `(first window index, start_logits, end_logits, start_mask,
    end_mask)`, on the CPU."""
    batches = []
    with torch.no_grad():
        label_states = model.compute_label_states()
        for first in range(0, len(split.windows), batch_size):
            indices = list(range(first, min(first + batch_size, len(split.windows))))
            batch = collator(split.rows(indices))
            inputs = {name: value for name, value in model_inputs(batch).items() if not name.endswith("_labels")}
            outputs = model(**inputs, label_states=label_states)
            masks = [batch[name] for name in DECODING_MASKS]
            batches.append((outputs.start_logits.float(), outputs.end_logits.float(), *masks))
    return batches


def text_predictions(model, split: EvaluationSplit, batches, any_label_threshold: float | None):
    """Each text's character spans: per-label decoding (the config's thresholds), completed by `any_label_spans`
    at `any_label_threshold` unless it is None."""
    window_spans = []
    for start_logits, end_logits, start_mask, end_mask in batches:
        spans = decode_spans(model.config, start_logits, end_logits, None, start_mask, end_mask)
        if any_label_threshold is not None:
            spans = any_label_spans(
                start_logits, end_logits, spans, any_label_threshold, start_mask, end_mask,
                model.config.max_span_length,
            )  # fmt: skip
        window_spans.extend(spans)
    return text_char_spans(split.windows, window_spans, len(split.texts))


def as_triples(predictions) -> list[list[tuple[int, int, int]]]:
    return [[(span.start, span.end, span.label) for span in spans] for spans in predictions]


def compare(model_dir: str, dataset_dir: str, max_seq_length: int, batch_size: int = 32) -> dict:
    job, collator = scoring_job(model_dir, dataset_dir, max_seq_length, batch_size)
    model = job.model.eval()
    dev, test = job.evaluation["eval"], job.evaluation["predict"]
    dev_batches = window_logits(model, dev, collator, batch_size)
    test_batches = window_logits(model, test, collator, batch_size)

    dev_f1 = {t: dev.score(text_predictions(model, dev, dev_batches, t))["f1"] for t in THRESHOLD_CANDIDATES}
    chosen = max(sorted(dev_f1, reverse=True), key=dev_f1.get)  # ties keep the higher threshold
    train = datasets.load_from_disk(dataset_dir)["train"]
    seen = training_mentions(train["text"], train["entities"])
    result = {"any_label_threshold": chosen, "dev_f1_by_any_label_threshold": dev_f1}
    for name, threshold in (("per_label", None), ("any_label", chosen)):
        predictions = text_predictions(model, test, test_batches, threshold)
        scores = test.score(predictions)
        split_scores = seen_unseen_scores(test.texts, test.gold, as_triples(predictions), seen)
        result[name] = {
            "dev_f1": dev.score(text_predictions(model, dev, dev_batches, threshold))["f1"],
            "test_precision": scores["precision"], "test_recall": scores["recall"], "test_f1": scores["f1"],
            **{f"test_{key}": value for key, value in split_scores.items() if key != "unseen_share"},
        }  # fmt: skip
    result["label_thresholds"] = model.config.label_thresholds
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--dataset_dir", required=True)
    parser.add_argument("--max_seq_length", type=int, default=192, help="the training run's")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None, help="default: bench/results/anylabel-<run>.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    output = check_result_name_free(
        args.output or RESULTS_DIR / f"anylabel-{args.model_dir.name}.json", "another --output"
    )
    result = compare(str(args.model_dir), args.dataset_dir, args.max_seq_length, args.batch_size)
    result.update(
        run=str(args.model_dir), dataset_dir=args.dataset_dir,
        **provenance("bench.any_label_decoding", argv),
    )  # fmt: skip
    write_result(output, result, "another --output")
    for name in ("per_label", "any_label"):
        r = result[name]
        print(
            f"{name:<10} dev F1 {100 * r['dev_f1']:.1f}  test P/R/F1 {100 * r['test_precision']:.1f} / "
            f"{100 * r['test_recall']:.1f} / {100 * r['test_f1']:.1f}  unseen R {100 * r['test_recall_unseen']:.1f} "
            f"F1 {100 * r['test_f1_unseen']:.1f}  seen R {100 * r['test_recall_seen']:.1f}"
        )
    print(f"any-label threshold chosen on dev: {result['any_label_threshold']}")


if __name__ == "__main__":
    main()
