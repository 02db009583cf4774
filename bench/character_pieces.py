"""What one piece per character costs and buys on Chinese corpora, from tokenization alone (no model).

Per corpus and split: pieces per sentence (mean, p95, max, over 254) of the raw-text tokenization, of one piece per
character (`windowing.character_piece_ids`, LearConfig.character_pieces), and of pre-split characters with the
tokenizer's lone "▁" markers kept (what `--pre_split always` fed before); and the gold entities no window can
represent (`alignment_summary`: `inexact` boundaries inside a piece, `cut` by the window) under raw pieces, one piece
per character on raw text (what the pipeline sees), and one piece per character from the corpus's own words. Windows
of 256 with stride 64, as in the Chinese recipes of bench/seed_rows.py.

`--step_time ROUNDS` measures what the longer input costs instead: seconds per LEAR training step (forward, backward,
AdamW; batch 16, the recipe's) on multilingual-e5-small pruned to the corpus (bench/seed_rows.py's encoder), each
round one batch of training texts stepped both ways back to back (the order alternating), so that the per-round
ratio cancels the shared machine's load; the batches are random draws of the training split, padded to their
longest window (real training groups texts by length, which pads less either way).

    python -m bench.character_pieces zh_onto4 zh_msra weibo_zh resume_zh --tokenizer outputs/me5-small
    python -m bench.character_pieces zh_onto4 weibo_zh resume_zh --step_time 12 --output bench/results/X.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import datasets
import numpy as np
import torch
from transformers import AutoTokenizer

from bench.common import RESULTS_DIR, median, now, paired_ratio, provenance, write_result
from bench.models import make_optimizer
from bench.quality import ME5_DIR, converted_corpus
from bench.seed_rows import RECIPES, pruned_me5
from lear import LearForSpanExtraction
from lear.training import LearDataCollator, LearFeatureBuilder, alignment_summary, model_inputs
from lear.windowing import character_chunks, character_piece_ids, window_row


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


def training_batches(
    tokenizer, split: datasets.Dataset, label2id: dict[str, int], character_pieces: bool, batch_size: int
) -> list[dict[str, torch.Tensor]]:
    """The split's texts (raw text, as the pipeline reads it) as collated LEAR training batches."""
    builder = LearFeatureBuilder(tokenizer, label2id, MAX_LENGTH, STRIDE, tokens_column=None,
                                 character_pieces=character_pieces)  # fmt: skip
    collator = LearDataCollator(tokenizer, len(label2id))
    batches = []
    for first in range(0, len(split), batch_size):
        encoded = builder.encode(split[first : first + batch_size])
        features = [window_row(window, builder.with_token_type_ids) | targets for window, targets in encoded]
        batches.append(collator(features[:batch_size]))  # a text cut into two windows gives one more
    return batches


def step_time(corpus: str, rounds: int, seed: int = 0) -> dict:
    """Per way (raw pieces, one piece per character): median seconds per training step and mean padded batch
    length, and the median per-round ratio of the step times (characters / raw)."""
    corpus_dir = converted_corpus(corpus)
    encoder = str(pruned_me5(corpus))
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    labels = json.loads((corpus_dir / "labels.json").read_text())
    label2id = {name: index for index, name in enumerate(labels)}
    batch_size = RECIPES[corpus].batch_size
    texts = datasets.load_from_disk(str(corpus_dir))["train"].shuffle(seed=seed)
    texts = texts.select(range(min(len(texts), (rounds + 1) * batch_size)))
    ways = {"raw": False, "char_pieces": True}
    batches = {way: training_batches(tokenizer, texts, label2id, on, batch_size) for way, on in ways.items()}
    torch.manual_seed(seed)
    model = LearForSpanExtraction.from_encoder(encoder, labels, tokenizer=tokenizer)
    model.train()
    optimizer = make_optimizer("lear", model)

    # not bench.models.training_timer: that binds one batch to a fresh optimiser; here one AdamW steps every batch
    def train_step(batch) -> float:
        started = now()
        optimizer.zero_grad(set_to_none=True)
        model(**model_inputs(batch)).loss.backward()
        optimizer.step()
        return now() - started

    for way in ways:  # batch 0 warms up (AdamW allocates its state on the first step)
        train_step(batches[way][0])
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for round_index in range(1, len(batches["raw"])):
        order = list(ways) if round_index % 2 else list(ways)[::-1]
        for way in order:
            seconds[way].append(train_step(batches[way][round_index]))
    padded = {way: [batch["input_ids"].shape[1] for batch in batches[way][1:]] for way in ways}
    return {
        "rounds": len(seconds["raw"]),
        "batch_size": batch_size,
        **{f"{way}_seconds_per_step": round(median(seconds[way]), 3) for way in ways},
        **{f"{way}_padded_length_mean": round(float(np.mean(padded[way])), 1) for way in ways},
        "char_pieces_over_raw": round(paired_ratio(seconds["char_pieces"], seconds["raw"]), 3),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--tokenizer", default=str(ME5_DIR), help="default: outputs/me5-small (multilingual-e5-small)")
    parser.add_argument("--splits", nargs="+", default=["test", "train"])
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "character-pieces-me5.json")
    parser.add_argument("--step_time", type=int, metavar="ROUNDS", default=0,
                        help="time ROUNDS training steps each way per corpus (e5 pruned to the corpus) instead of "
                        "counting pieces; --tokenizer and --splits are then unused")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="torch threads for --step_time (default 1)")
    args = parser.parse_args(argv)
    if args.step_time:
        torch.set_num_threads(args.threads)
        result = {"step_time": {}}
        for corpus in args.corpora:
            result["step_time"][corpus] = row = step_time(corpus, args.step_time)
            print(corpus, json.dumps(row), flush=True)
        write_result(args.output, result | provenance("bench.character_pieces", argv), rename="--output")
        return
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
