"""Per-label decoding alone, and completed by label-agnostic boundaries (`decoding_lear.any_label_spans`), on one
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
from pathlib import Path

import datasets
import torch

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from bench.threshold_policies import scoring_job
from lear.decoding_lear import any_label_spans, decode_spans
from lear.evaluation import THRESHOLD_CANDIDATES, EvaluationSplit
from lear.metrics import seen_unseen_scores, training_mentions
from lear.training import DECODING_MASKS, model_inputs
from lear.windowing import text_char_spans


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
