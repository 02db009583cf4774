"""Detection or calibration? How confident LEAR and the BIO tagger are at the gold boundaries of test mentions seen
and unseen in training, read from two trained runs of `bench.seed_rows` on the same data.

For every gold mention of the test split (words of a pre-split corpus, cut at `--max_length` pieces as both models
were trained):

- LEAR: the start probability of the mention's label at its first piece and the end probability at its last piece
  (sigmoids of `start_logits` / `end_logits`), and whether both pass the model's decoding threshold for the label
  (its calibrated `label_thresholds`, else 0.5);
- the tagger: P(B-label) at the first word (its first piece carries the word's tag), the least probability of the
  mention's gold tags over its words and of "not I-label" at the next word, and whether the argmax tags reproduce the
  mention (every word's tag, and no I-label after it).

Split by mention seen / unseen in training (`lear.metrics.mention_key`), it reports the share each model detects
and, free of thresholds, how well each ranks gold starts above every other (word, label) pair: ROC AUC and average
precision of the start scores. A model that ranks unseen starts as well as the other but detects fewer of them is
mis-calibrated (its threshold is the problem); one that ranks them worse does not see them (detection).

    python -m bench.boundary_confidence --lear outputs/seed_rows/conll2003-lear-0.01-seed2 \
        --tagger outputs/seed_rows/conll2003-tagger-0.01-seed2 --dataset_dir outputs/bench/quality/data/conll2003-p1-s2
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import datasets
import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from transformers import AutoModelForTokenClassification, AutoTokenizer

from bench.common import RESULTS_DIR, check_result_name_free, provenance, write_result
from lear import LearForSpanExtraction
from lear.evaluation import read_prediction_spans
from lear.metrics import mention_key, training_mentions
from lear.windowing import word_char_offsets


GROUPS = ("seen", "unseen")
CURVE_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7)


def word_pieces(tokenizer, words: Sequence[str], max_length: int) -> tuple[dict, list[int], list[int]]:
    """The words' encoding cut at `max_length` pieces, each kept word's first and last piece positions."""
    encoding = tokenizer(list(words), is_split_into_words=True, truncation=True, max_length=max_length,
                         return_tensors="pt")  # fmt: skip
    first, last = {}, {}
    for position, word in enumerate(encoding.word_ids()):
        if word is not None:
            first.setdefault(word, position)
            last[word] = position
    kept = len(first)
    return encoding, [first[k] for k in range(kept)], [last[k] for k in range(kept)]


def mention_words(text: str, words: Sequence[str], entity: dict) -> list[int]:
    offsets = word_char_offsets(text, words)
    return [k for k, (start, end) in enumerate(offsets) if start >= entity["start"] and end <= entity["end"]]


def lear_scores(model, tokenizer, rows, max_length: int):
    """Per sentence: start and end probabilities [words, C] at each word's first / last piece."""
    with torch.no_grad():
        label_states = model.compute_label_states()
    for row in rows:
        encoding, first, last = word_pieces(tokenizer, row["tokens"], max_length)
        with torch.no_grad():
            output = model(**encoding, label_states=label_states)
        start = torch.sigmoid(output.start_logits[0].float())[first].numpy()
        end = torch.sigmoid(output.end_logits[0].float())[last].numpy()
        yield start, end


def tagger_scores(model, tokenizer, rows, max_length: int):
    """Per sentence: tag probabilities [words, 2C + 1] at each word's first piece (where the tagger reads its tag)."""
    for row in rows:
        encoding, first, _ = word_pieces(tokenizer, row["tokens"], max_length)
        with torch.no_grad():
            logits = model(**encoding).logits[0].float()
        yield torch.softmax(logits, dim=-1)[first].numpy()


def ranking(positive: list[float], negative: list[float]) -> dict[str, float]:
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    scores = np.r_[positive, negative]
    if not positive or not negative:
        return {"roc_auc": float("nan"), "average_precision": float("nan")}
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
    }


def summarise(records: list[dict], negatives: list[float], key: str, detected: str) -> dict:
    summary = {}
    for group in GROUPS:
        chosen = [r for r in records if r["group"] == group]
        starts = [r[key + "_start"] for r in chosen]
        summary[group] = {
            "mentions": len(chosen),
            "detected": float(np.mean([r[detected] for r in chosen])) if chosen else float("nan"),
            "start_median": float(np.median(starts)) if chosen else float("nan"),
            "end_median": float(np.median([r[key + "_end"] for r in chosen])) if chosen else float("nan"),
            "both_at_least": {
                str(t): float(np.mean([min(r[key + "_start"], r[key + "_end"]) >= t for r in chosen]))
                for t in CURVE_THRESHOLDS
            }
            if chosen
            else {},  # fmt: skip
            "start_ranking": ranking(starts, negatives),
        }
    return summary


MISS_KINDS = ("correct", "wrong label", "boundary overlap", "nothing")


def miss_kind(gold: tuple[int, int, str], predicted: Sequence[tuple[int, int, str]]) -> str:
    """What a model's test predictions (`predictions.jsonl`) made of one gold mention: found it, found its exact span
    under another label, predicted an overlapping span, or predicted nothing that touches it."""
    start, end, _ = gold
    if gold in predicted:
        return "correct"
    if any(p_start == start and p_end == end for p_start, p_end, _ in predicted):
        return "wrong label"
    if any(p_start < end and start < p_end for p_start, p_end, _ in predicted):
        return "boundary overlap"
    return "nothing"


def miss_kinds(run_dir: Path, seen: set[str]) -> dict[str, dict[str, float]]:
    """Share of each `miss_kind` among the gold test mentions seen / unseen in training, from a run's
    `predictions.jsonl` (LEAR's and the tagger's share its form): over the whole test split, as scored."""
    counts = {group: dict.fromkeys(MISS_KINDS, 0) for group in GROUPS}
    for text, gold, predicted in zip(*read_prediction_spans(run_dir / "predictions.jsonl")):
        for span in gold:
            group = "seen" if mention_key(text[span[0] : span[1]]) in seen else "unseen"
            counts[group][miss_kind(span, predicted)] += 1
    return {
        group: {kind: count / max(1, sum(kinds.values())) for kind, count in kinds.items()}
        for group, kinds in counts.items()
    }


def probe(lear_dir: Path, tagger_dir: Path, dataset_dir: Path, max_length: int) -> dict:
    corpus = datasets.load_from_disk(str(dataset_dir))
    seen = training_mentions(corpus["train"]["text"], corpus["train"]["entities"])
    test = corpus["test"]
    lear = LearForSpanExtraction.from_pretrained(lear_dir).eval()
    lear_tokenizer = AutoTokenizer.from_pretrained(lear_dir)
    tagger = AutoModelForTokenClassification.from_pretrained(tagger_dir).eval()
    tagger_tokenizer = AutoTokenizer.from_pretrained(tagger_dir)
    labels = lear.config.label_names
    thresholds = lear.config.label_thresholds or [0.5] * len(labels)
    tag_id = tagger.config.label2id

    records, lear_negative, tagger_negative = [], [], []
    for row, (start, end), tags in zip(test, lear_scores(lear, lear_tokenizer, test, max_length),
                                       tagger_scores(tagger, tagger_tokenizer, test, max_length)):  # fmt: skip
        kept = min(len(start), len(tags))
        gold_starts = set()
        for entity in row["entities"]:
            covered = mention_words(row["text"], row["tokens"], entity)
            if not covered or covered[-1] >= kept:
                continue  # cut off by max_length: neither model can score it
            c, first, last = labels.index(entity["label"]), covered[0], covered[-1]
            gold_starts.add((first, c))
            gold = [tag_id[("B-" if k == first else "I-") + entity["label"]] for k in covered]
            inside = tag_id["I-" + entity["label"]]
            after = 1.0 - tags[last + 1, inside] if last + 1 < kept else 1.0
            # the tagger's "end": the least probability of the rest of its path (the mention's later tags, then
            # "not I-label" at the next word), the event that its span stops where the gold one does
            rest_of_path = [tags[k, g] for k, g in zip(covered[1:], gold[1:])] + [after]
            argmax = tags[:kept].argmax(-1)
            records.append({
                "group": "seen" if mention_key(row["text"][entity["start"]:entity["end"]]) in seen else "unseen",
                "lear_start": float(start[first, c]), "lear_end": float(end[last, c]),
                # any label: does LEAR see a boundary here at all, whichever label it gives it?
                "lear_any_start": float(start[first].max()), "lear_any_end": float(end[last].max()),
                "lear_detected": bool(start[first, c] >= thresholds[c] and end[last, c] >= thresholds[c]),
                "tagger_start": float(tags[first, gold[0]]), "tagger_end": float(min(rest_of_path)),
                "tagger_detected": bool(all(argmax[k] == g for k, g in zip(covered, gold))
                                        and (last + 1 >= kept or argmax[last + 1] != inside)),
            })  # fmt: skip
        for k in range(kept):
            for c, label in enumerate(labels):
                if (k, c) not in gold_starts:
                    lear_negative.append(float(start[k, c]))
                    tagger_negative.append(float(tags[k, tag_id["B-" + label]]))
    any_label = summarise(records, [], "lear_any", "lear_detected")
    return {
        "miss_kinds": {
            model: miss_kinds(run, seen)
            for model, run in (("lear", lear_dir), ("tagger", tagger_dir))
            if (run / "predictions.jsonl").is_file()  # a run scored on its test split
        },
        "lear": summarise(records, lear_negative, "lear", "lear_detected"),
        "lear_any_label_both_at_least": {group: any_label[group]["both_at_least"] for group in GROUPS},
        "tagger": summarise(records, tagger_negative, "tagger", "tagger_detected"),
        "lear_thresholds": dict(zip(labels, thresholds)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lear", type=Path, required=True, help="a trained LEAR run's folder (saved model)")
    parser.add_argument("--tagger", type=Path, required=True, help="the tagger run's folder on the same data")
    parser.add_argument("--dataset_dir", type=Path, required=True, help="the corpus both were trained on")
    parser.add_argument("--max_length", type=int, default=192)
    parser.add_argument("--output", type=Path, default=None, help="default: bench/results/boundary-<lear run>.json")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    output = check_result_name_free(args.output or RESULTS_DIR / f"boundary-{args.lear.name}.json", "another --output")
    result = probe(args.lear, args.tagger, args.dataset_dir, args.max_length)
    result.update(
        lear_run=str(args.lear), tagger_run=str(args.tagger), dataset_dir=str(args.dataset_dir),
        **provenance("bench.boundary_confidence", argv),
    )  # fmt: skip
    write_result(output, result, "another --output")
    header = f"{'model':<7} {'group':<7} {'n':>5} {'detected':>9} {'start p50':>10} {'end p50':>8} {'AUC':>6} {'AP':>6}"
    print(header)
    for model in ("lear", "tagger"):
        for group in GROUPS:
            g = result[model][group]
            print(f"{model:<7} {group:<7} {g['mentions']:>5} {100 * g['detected']:>8.1f}% {g['start_median']:>10.3f} "
                  f"{g['end_median']:>8.3f} {g['start_ranking']['roc_auc']:>6.3f} "
                  f"{g['start_ranking']['average_precision']:>6.3f}")  # fmt: skip
    print("\nwhat each model's test predictions made of the gold mentions:")
    for model, groups in result["miss_kinds"].items():
        for group, kinds in groups.items():
            print(f"{model:<7} {group:<7} " + ", ".join(f"{kind} {100 * share:.1f}%" for kind, share in kinds.items()))
    for group, curve in result["lear_any_label_both_at_least"].items():
        print(
            f"LEAR, any label, {group}: both boundaries >= t: "
            + ", ".join(f"{t}: {100 * v:.1f}%" for t, v in curve.items())
        )


if __name__ == "__main__":
    main()
