"""The encoder-recipe table of docs/training.md ("Learning rate"): run_lear.py's default recipe on encoders of
different depth and width, against the other learning rates tried on each, from `bench.seed_rows` results.

Rows are the result files of one corpus and training part whose tag names an encoder and a learning rate
(`<encoder>-lr<rate>`, e.g. `mpnet-lr2e-5`) or the encoder under the default rule (`<encoder>-default`; for MiniLM,
whose measured rate the rule keeps, the default recipe's `steps200` rows): per encoder, learning rate and model, the
seeds found, test F1 mean ± std and the lowest seed. Below each encoder: whether LEAR under the default is within 1
F1 of the best rate tried for it (each rate compared with the default on the seeds both ran), and whether any seed
collapsed (test F1 under 0.3).

    python -m bench.encoder_recipe_table                      # CoNLL-2003 5 %
    python -m bench.encoder_recipe_table --corpus phee --part 1.0

The runs:

    python -m bench.seed_rows conll2003 --fraction 0.05 --encoder all-mpnet-base-v2 --tag mpnet-default --seed 0
    python -m bench.seed_rows conll2003 --fraction 0.05 --encoder all-mpnet-base-v2 --learning_rate 2e-5 \
        --tag mpnet-lr2e-5
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from bench.common import RESULTS_DIR
from bench.seed_rows import ME5, MINILM, MPNET
from lear.training_args import REFERENCE_LEARNING_RATE, encoder_learning_rate


# tag prefix -> (encoder, layers, width); the default rule's rate follows from the two sizes
ENCODERS = {"minilm": (MINILM, 6, 384), "me5": (ME5, 12, 384), "mpnet": (MPNET, 12, 768)}
DEFAULT_ROW_TAGS = {"minilm": ("minilm-default", "steps200")}  # MiniLM's default recipe rows predate the rule
COLLAPSE_F1 = 0.3
WITHIN_F1 = 0.01


def row_key(tag: str | None) -> tuple[str, str] | None:
    """(encoder prefix, "default" or the rate as tagged) of a result's tag, or None for another experiment."""
    for prefix in ENCODERS:
        if tag in DEFAULT_ROW_TAGS.get(prefix, (f"{prefix}-default",)):
            return prefix, "default"
        if tag and tag.startswith(f"{prefix}-lr"):
            return prefix, tag.removeprefix(f"{prefix}-lr")
    return None


def default_rate(prefix: str) -> float:
    """The rate run_lear.py's rule gives the encoder (`lear.training_args.encoder_learning_rate`)."""
    _, layers, width = ENCODERS[prefix]
    return encoder_learning_rate(SimpleNamespace(num_hidden_layers=layers, hidden_size=width))[0]


def load_rows(corpus: str, part: str, results_dir: Path = RESULTS_DIR) -> dict[tuple, list[dict]]:
    """Results by (encoder prefix, rate or "default", model), one per seed (the first file found for a seed)."""
    rows: dict[tuple, dict[int, dict]] = defaultdict(dict)
    for path in sorted(results_dir.glob(f"{corpus}-*-{part}-seed*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        key = row_key(result.get("tag"))
        encoder = (result.get("recipe") or {}).get("encoder_name")
        if key is not None and "test_f1" in result and encoder in (None, ENCODERS[key[0]][0]):
            rows[(*key, result["model"])].setdefault(result["seed"], result)
    return {key: [by_seed[seed] for seed in sorted(by_seed)] for key, by_seed in rows.items()}


def f1s(results: list[dict]) -> list[float]:
    return [result["test_f1"] for result in results]


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


def verdict(prefix: str, rows: dict[tuple, list[dict]]) -> str:
    """LEAR under the default against the best other rate tried, each pair compared on the seeds both have."""
    default = {r["seed"]: r["test_f1"] for r in rows.get((prefix, "default", "lear"), [])}
    if not default:
        return "no default-rule LEAR run yet"
    tried = {rate: results for (p, rate, model), results in rows.items() if p == prefix and model == "lear"}
    pairs = []  # (gap, rate, seeds, default mean, rate mean)
    for rate, results in tried.items():
        f1 = {r["seed"]: r["test_f1"] for r in results}
        seeds = sorted(set(default) & set(f1))
        if seeds:
            at_default, at_rate = (statistics.mean(values[s] for s in seeds) for values in (default, f1))
            pairs.append((at_rate - at_default, rate, seeds, at_default, at_rate))
    gap, best_rate, seeds, at_default, best = max(pairs, key=lambda pair: pair[0])
    collapsed = [r["seed"] for results in tried.values() for r in results if r["test_f1"] < COLLAPSE_F1]
    return (
        f"seeds {','.join(map(str, seeds))}: default {100 * at_default:.1f}, best {100 * best:.1f} (lr {best_rate}); "
        + (f"within 1 F1 of the best ({100 * gap:.1f} behind)" if gap <= WITHIN_F1 else f"{100 * gap:.1f} F1 behind")
        + ("; collapsed: seeds " + ", ".join(map(str, collapsed)) if collapsed else "; no collapse")
    )


def encoder_table(corpus: str = "conll2003", part: str = "0.05", results_dir: Path = RESULTS_DIR) -> str:
    rows = load_rows(corpus, part, results_dir)
    lines = [
        "| encoder (layers x width) | encoder lr | model | seeds | test F1 | lowest seed |",
        "|---|---|---|---|---|---|",
    ]
    verdicts = []
    for prefix, (name, layers, width) in ENCODERS.items():
        keys = sorted((key for key in rows if key[0] == prefix), key=lambda key: (key[1] != "default", key[1], key[2]))
        for _, rate, model in keys:
            results = rows[(prefix, rate, model)]
            shown = f"**{default_rate(prefix):g} (default)**" if rate == "default" else rate
            lines.append(
                f"| {name} ({layers} x {width}) | {shown} | {model} | {','.join(str(r['seed']) for r in results)} | "
                f"{mean_std(f1s(results))} | {100 * min(f1s(results)):.1f} |"
            )
        if keys:
            verdicts.append(f"- {name}: {verdict(prefix, rows)}")
    return "\n".join(lines) + ("\n\n" + "\n".join(verdicts) if verdicts else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="conll2003")
    parser.add_argument("--part", default="0.05", help="the training part as result names write it: 0.05, 1.0")
    args = parser.parse_args()
    print(f"{args.corpus}, training part {args.part}; the rule: {REFERENCE_LEARNING_RATE:g} x min(1, 6 x 384 / "
          "(layers x width))\n")  # fmt: skip
    print(encoder_table(args.corpus, args.part))


if __name__ == "__main__":
    main()
