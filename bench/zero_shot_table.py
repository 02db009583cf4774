"""The zero-shot table of docs/zero-shot.md, from the result files (`bench/results/zeroshot-<corpus>-<model>-<tag>.json`,
written by `bench.zero_shot` and `bench.gliner_zero_shot`): one row per model and tag, test F1 (precision / recall)
per target corpus and their mean, then each corpus's per-label F1.

    python -m bench.zero_shot_table
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.common import RESULTS_DIR


CORPORA = ("mit_movie", "mit_restaurant", "bionlp13cg")


def load_results(results_dir: Path = RESULTS_DIR) -> dict[tuple[str, str], dict[str, Mapping]]:
    """`{(model, tag): {corpus: result}}` for every zero-shot result file."""
    rows: dict[tuple[str, str], dict[str, Mapping]] = defaultdict(dict)
    for path in sorted(results_dir.glob("zeroshot-*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        tag = path.stem.split(f"-{result['model']}-", 1)[1]
        rows[(result["model"], tag)][result["corpus"]] = result
    return rows


def percent(value: float) -> str:
    return f"{100 * value:.1f}"


def summary_table(rows: Mapping[tuple[str, str], Mapping[str, Mapping]], corpora: Sequence[str] = CORPORA) -> str:
    lines = [
        "| model | tag | threshold | " + " | ".join(corpora) + " | mean |",
        "|---|---|---|" + "---|" * (len(corpora) + 1),
    ]
    for (model, tag), results in rows.items():
        cells, scores = [], []
        for corpus in corpora:
            result = results.get(corpus)
            if result is None:
                cells.append("–")
                continue
            scores.append(result["predict_f1"])
            cells.append(
                f"{percent(result['predict_f1'])} ({percent(result['predict_precision'])} / "
                f"{percent(result['predict_recall'])})"
            )
        mean = percent(sum(scores) / len(scores)) if len(scores) == len(corpora) else "–"
        threshold = next(iter(results.values()))["threshold"]
        lines.append(f"| {model} | {tag} | {threshold} | " + " | ".join(cells) + f" | {mean} |")
    return "\n".join(lines)


def per_label_table(rows: Mapping[tuple[str, str], Mapping[str, Mapping]], corpus: str) -> str:
    columns = [key for key, results in rows.items() if corpus in results]
    labels = list(rows[columns[0]][corpus]["per_label_f1"]) if columns else []
    lines = [
        f"| {corpus} label | gold | " + " | ".join(f"{model} {tag}" for model, tag in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for label in labels:
        gold = rows[columns[0]][corpus]["metrics"].get(f"{label}_n_gold", "")
        cells = [percent(rows[key][corpus]["per_label_f1"].get(label, 0.0)) for key in columns]
        lines.append(f"| {label} | {gold} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    rows = load_results()
    print(summary_table(rows))
    for corpus in CORPORA:
        print()
        print(per_label_table(rows, corpus))


if __name__ == "__main__":
    main()
