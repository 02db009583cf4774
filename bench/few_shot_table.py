"""The few-shot table of docs/zero-shot.md, from the result files of `bench.seed_rows` and `bench.zero_shot`.

One row per training setting and system: LEAR fine-tuned from the multi-corpus model (`--init ... --tag from-names50`;
`from-mix`: the earlier model of the same recipe that read descriptions only),
LEAR from the bare encoder, the BIO tagger under the same recipe (run_lear.py's defaults) and GLiNER fine-tuned
from its own multi-corpus model (`bench.seed_rows --model gliner --init ... --tag from-mix`), each with mean ± std
over seeds of test F1 and F1 on test mentions unseen in the training sentences (LEAR's under the default calibration
policy, as `bench.generalisation_table` reads them; † where a run had only its own), and the share of those unseen
mentions that no prediction touches at all (`untouched_unseen`: the model abstained). Then, for each MIT corpus the
multi-corpus model was fine-tuned on, its zero-shot F1 on the other MIT corpus before and after.

    python -m bench.few_shot_table
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from bench import generalisation_table
from bench.common import RESULTS_DIR


# (corpus, training part as in the result names, what it is)
SETTINGS = (
    ("mit_movie", "first100", "MIT movie, first 100 sentences"),
    ("mit_restaurant", "first100", "MIT restaurant, first 100 sentences"),
    ("conll2003", "0.01", "CoNLL-2003, 1 % (140 sentences)"),
    ("phee", "1.0", "PHEE, all 2,898 sentences"),
)
# (system, model, tag); a tag of None is the recipe's default rows (`DEFAULT_TAGS`)
SYSTEMS = (
    ("LEAR from the multi-corpus model (`make zero-shot-model`)", "lear", "from-names50"),
    ("LEAR from the multi-corpus model trained on descriptions only", "lear", "from-mix"),
    ("LEAR from the encoder", "lear", None),
    ("BIO tagger", "tagger", None),
    ("GLiNER from its multi-corpus model (500 steps)", "gliner", "from-mix"),  # bench.gliner_zero_shot's model
    ("LEAR from its multi-corpus model at 500 steps", "lear", "from-mix500"),  # GLiNER's budget
)
# the default recipe's tags, newest first (`bench.generalisation_table`), then untagged: an untagged CoNLL or PHEE row
# predates those defaults, a few-shot MIT row is the default itself
DEFAULT_TAGS = (*generalisation_table.RECIPE_TAGS, "")
SEEDS = (0, 1, 2)


def find_result(results_dir: Path, corpus: str, part: str, model: str, tag: str | None, seed: int) -> dict | None:
    for candidate in DEFAULT_TAGS if tag is None else (tag,):
        path = results_dir / (f"{corpus}-{model}-{part}-seed{seed}" + (f"-{candidate}" if candidate else "") + ".json")
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def mean_std(values: Sequence[float]) -> str:
    if not values:
        return "–"
    percents = [100 * value for value in values]
    if len(percents) == 1:
        return f"{percents[0]:.1f}"
    return f"{statistics.mean(percents):.1f} ± {statistics.stdev(percents):.1f}"


def few_shot_table(results_dir: Path = RESULTS_DIR) -> str:
    lines = [
        "| training data | system | seeds | test F1 | F1 on unseen mentions | unseen mentions untouched | unseen share |",
        "|---|---|---|---|---|---|---|",
    ]
    for corpus, part, setting in SETTINGS:
        for system, model, tag in SYSTEMS:
            runs = [r for seed in SEEDS if (r := find_result(results_dir, corpus, part, model, tag, seed)) is not None]
            if not runs:
                continue
            untouched = [run["test_untouched_unseen"] for run in runs if "test_untouched_unseen" in run]
            lines.append(
                f"| {setting} | {system} | {','.join(str(run['seed']) for run in runs)} | "
                f"{generalisation_table.cell(runs, 'test_f1')} | {generalisation_table.cell(runs, 'test_f1_unseen')} | "
                f"{mean_std(untouched)} | {mean_std([run['unseen_share'] for run in runs])} |"
            )
    return "\n".join(lines)


def zero_shot_kept(results_dir: Path = RESULTS_DIR, base_tag: str = "mix4-make") -> str:
    """Zero-shot F1 on the other MIT corpus of the multi-corpus model, and of the same model fine-tuned on one."""
    lines = ["| fine-tuned on | scored zero-shot on | F1 before | F1 after |", "|---|---|---|---|"]
    for path in sorted(results_dir.glob("zeroshot-*-lear-after-*.json")):
        after = json.loads(path.read_text(encoding="utf-8"))
        before_path = results_dir / f"zeroshot-{after['corpus']}-lear-{base_tag}.json"
        if not before_path.is_file():
            continue
        before = json.loads(before_path.read_text(encoding="utf-8"))
        tuned_on = path.stem.split("-lear-after-", 1)[1]
        lines.append(
            f"| {tuned_on} | {after['corpus']} | {100 * before['predict_f1']:.1f} | {100 * after['predict_f1']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    print(few_shot_table())
    print()
    print(zero_shot_kept())


if __name__ == "__main__":
    main()


__all__ = ["few_shot_table", "find_result", "zero_shot_kept"]
