"""Raw text through the pipeline: the same CoNLL-2003 dev sentences given as raw strings, pre-split into their words,
and joined five at a time into paragraphs, scored against the gold entities (exact character spans).

A model may put a span edge only where training could (`lear.windowing.char_boundaries`), so the raw string and the
pre-split words should give the same spans, and a paragraph no span that runs across sentences
(`config.max_span_length`). Also counts the raw-text spans that start or end inside a word of the text.

    python -m bench.raw_text --model outputs/demo --sentences 400
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import datasets
from transformers import pipeline

import lear  # noqa: F401  (registers the span-extraction pipeline)
from bench.common import (
    REPO_ROOT,
    RESULTS_DIR,
    check_result_name_free,
    git_commit,
    metadata_line,
    run_metadata,
    write_result,
)
from lear.metrics import span_scores


PARAGRAPH_SIZE = 5


def as_spans(entities: list[dict]) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["entity_group"]) for e in entities]


def gold_spans(row: dict) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["label"]) for e in row["entities"]]


def paragraphs(rows: list[dict]) -> tuple[list[str], list[list[tuple[int, int, str]]]]:
    """Sentences joined by one space, PARAGRAPH_SIZE at a time, with their gold spans shifted."""
    texts, golds = [], []
    for first in range(0, len(rows), PARAGRAPH_SIZE):
        text, gold = "", []
        for row in rows[first : first + PARAGRAPH_SIZE]:
            offset = len(text) + (1 if text else 0)
            text = f"{text} {row['text']}" if text else row["text"]
            gold += [(start + offset, end + offset, label) for start, end, label in gold_spans(row)]
        texts.append(text)
        golds.append(gold)
    return texts, golds


def inside_a_word(text: str, span: tuple[int, int, str]) -> bool:
    """A span edge between two word characters ("Cupert|ino", "U.|S" is not: "." is punctuation)."""
    start, end, _ = span
    word = re.compile(r"\w")
    return bool(
        (start > 0 and word.match(text[start - 1]) and word.match(text[start]))
        or (end < len(text) and word.match(text[end - 1]) and word.match(text[end]))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO_ROOT / "outputs" / "demo"), help="a trained LEAR checkpoint")
    parser.add_argument("--dataset_dir", default=str(REPO_ROOT / "outputs" / "data" / "conll2003"))
    parser.add_argument("--sentences", type=int, default=400, help="the first N validation sentences")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "raw-text-conll2003.json")
    args = parser.parse_args()
    check_result_name_free(args.output, "another --output")
    rows = list(datasets.load_from_disk(args.dataset_dir)["validation"].select(range(args.sentences)))
    extractor = pipeline("span-extraction", model=args.model, device="cpu")
    texts = [row["text"] for row in rows]
    gold = [gold_spans(row) for row in rows]
    started = time.perf_counter()
    raw = [as_spans(entities) for entities in extractor(texts)]
    pre_split = [as_spans(entities) for entities in extractor([list(row["tokens"]) for row in rows])]
    paragraph_texts, paragraph_gold = paragraphs(rows)
    joined = [as_spans(entities) for entities in extractor(paragraph_texts)]
    seconds = time.perf_counter() - started
    scores = {
        "raw": span_scores(gold, raw),
        "pre_split": span_scores(gold, pre_split),
        "paragraphs": span_scores(paragraph_gold, joined),
    }
    raw_spans = [(text, span) for text, spans in zip(texts, raw) for span in spans]
    longest_gold = max(len(text[s:e]) for text, spans in zip(texts, gold) for s, e, _ in spans)
    result = {
        "model": args.model,
        "sentences": args.sentences,
        "raw_f1": scores["raw"]["f1"],
        "pre_split_f1": scores["pre_split"]["f1"],
        "paragraph_f1": scores["paragraphs"]["f1"],
        "scores": scores,
        "identical_raw_and_pre_split": raw == pre_split,
        "raw_spans_inside_a_word": sum(inside_a_word(text, span) for text, span in raw_spans),
        "raw_spans": len(raw_spans),
        "longest_paragraph_span_chars": max((e - s for spans in joined for s, e, _ in spans), default=0),
        "longest_gold_span_chars": longest_gold,
        "max_span_length_tokens": extractor.model.config.max_span_length,
        "seconds": seconds,
        "command": "python -m bench.raw_text " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "output"),
        "commit": git_commit(),
        "machine": metadata_line(run_metadata()),
    }
    write_result(args.output, result, "another --output")
    for name, value in result.items():
        if name != "scores":
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
