"""What one piece per character costs and buys on Chinese corpora, from tokenization alone (no model).

Per corpus and split: pieces per sentence (mean, p95, max, over 254) of the raw-text tokenization, of one piece per
character (`windowing.character_piece_ids`, LearConfig.character_pieces), and of pre-split characters with the
tokenizer's lone "▁" markers kept (what `--pre_split always` fed before); and the gold entities no window can
represent (`alignment_summary`: `inexact` boundaries inside a piece, `cut` by the window) under raw pieces, one piece
per character on raw text (what the pipeline sees), and one piece per character from the corpus's own words. Windows
of 256 with stride 64, as in the Chinese recipes of bench/seed_rows.py.

    python -m bench.character_pieces zh_onto4 zh_msra weibo_zh resume_zh --tokenizer outputs/me5-small
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import datasets
import numpy as np
from transformers import AutoTokenizer

from bench.common import RESULTS_DIR, provenance, write_result
from bench.quality import ME5_DIR, converted_corpus
from lear.training import LearFeatureBuilder, alignment_summary
from lear.windowing import character_chunks, character_piece_ids


MAX_LENGTH, STRIDE = 256, 64
# how LearFeatureBuilder reads the split under each mode: raw pieces, characters of the raw text, characters of the
# corpus's words
UNREACHABLE_MODES = {
    "raw": {"tokens_column": None},
    "char_pieces_raw_text": {"tokens_column": None, "character_pieces": True},
    "char_pieces_words": {"tokens_column": "tokens", "character_pieces": True},
}


def length_summary(lengths: list[int]) -> dict[str, float]:
    values = np.array(lengths)
    return {
        "mean": round(float(values.mean()), 1),
        "p95": int(np.percentile(values, 95)),
        "max": int(values.max()),
        "over_254": int((values > MAX_LENGTH - 2).sum()),
    }


def piece_lengths(tokenizer, texts: list[str]) -> dict[str, list[int]]:
    raw = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    markers_kept = tokenizer(
        [list(t) for t in texts], is_split_into_words=True, add_special_tokens=False, verbose=False
    )
    per_character = character_piece_ids(tokenizer, texts, [character_chunks(text) for text in texts])
    return {
        "chars": [len(text) for text in texts],
        "raw": [len(ids) for ids in raw],
        "char_pieces": [len(ids) for ids, _ in per_character],
        "pre_split_markers_kept": [len(ids) for ids in markers_kept["input_ids"]],
    }


def unreachable(tokenizer, split: datasets.Dataset, label2id: dict[str, int], **builder_kwargs) -> dict[str, int]:
    builder = LearFeatureBuilder(tokenizer, label2id, MAX_LENGTH, STRIDE, **builder_kwargs)
    targets = [
        {**window_targets, "example_index": first + window.text_index}
        for first in range(0, len(split), 1000)
        for window, window_targets in builder.encode(split[first : first + 1000])
    ]
    summary = alignment_summary(targets)
    return {key: summary[key] for key in ("gold", "inexact", "cut", "windows")}


def measure(tokenizer, corpus: str, split_name: str) -> dict:
    corpus_dir = converted_corpus(corpus)
    split = datasets.load_from_disk(str(corpus_dir))[split_name]
    labels = json.loads((corpus_dir / "labels.json").read_text())
    label2id = {name: index for index, name in enumerate(labels)}
    started = time.time()
    row = {name: length_summary(lengths) for name, lengths in piece_lengths(tokenizer, list(split["text"])).items()}
    for mode, builder_kwargs in UNREACHABLE_MODES.items():
        row[f"unreachable_{mode}"] = unreachable(tokenizer, split, label2id, **builder_kwargs)
    row["seconds"] = round(time.time() - started, 1)
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--tokenizer", default=str(ME5_DIR), help="default: outputs/me5-small (multilingual-e5-small)")
    parser.add_argument("--splits", nargs="+", default=["test", "train"])
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "character-pieces-me5.json")
    args = parser.parse_args(argv)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    result = {"counts": {}}
    for corpus in args.corpora:
        for split_name in args.splits:
            result["counts"][f"{corpus}/{split_name}"] = row = measure(tokenizer, corpus, split_name)
            print(corpus, split_name, json.dumps(row), flush=True)
    result.update(
        **provenance("bench.character_pieces", argv),
    )  # fmt: skip
    write_result(args.output, result, rename="--output")


if __name__ == "__main__":
    main()
