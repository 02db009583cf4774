"""The generalisation table: LEAR variants and the baselines on test mentions seen / unseen in training, from the
result JSONs in bench/results/ that carry the split (`bench/seed_rows.py` writes them).

One row per corpus, training fraction, model and tag (the ablation's name), averaged over the seeds found: test F1,
F1 and recall on unseen mentions, recall on seen ones, the unseen share, the dev -> test drop, and for LEAR the test
F1 under each threshold policy chosen on dev (`bench/threshold_policies.py`), each row as its runs were calibrated.

    python -m bench.generalisation_table              # markdown, to paste into bench/benchmarks.md

A second table compares the threshold policies on every saved run scored by `bench.threshold_policies`
(`bench/results/thresholds-*.json`): test F1 per policy, and the mean over the runs. A third puts LEAR, the tagger
and GLiNER side by side under run_lear.py's default recipe (tag `steps200`) per corpus and training fraction, LEAR
under the default calibration policy, and says whether LEAR's mean test F1 and mean unseen F1 are at least the
tagger's. A fourth gives the default recipe's test F1 per corpus under each threshold policy, and a fifth each policy chosen
on small parts of the validation split (`bench.threshold_policies --small_dev`), and a sixth each policy paired
with the default on the same models: the evidence for the default calibration policy.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict

from bench.common import RESULTS_DIR
from lear.evaluation import DEFAULT_CALIBRATION_POLICY


COLUMNS = (
    ("test F1", "test_f1"),
    ("unseen F1", "test_f1_unseen"),
    ("unseen R", "test_recall_unseen"),
    ("seen R", "test_recall_seen"),
    ("dev-test drop", "dev_test_drop"),
)
POLICIES = ("0.5", "per_label", "global")


def load_rows() -> dict[tuple, list[dict]]:
    rows = defaultdict(list)
    for path in sorted(RESULTS_DIR.glob("*.json")):
        result = json.loads(path.read_text())
        if "unseen_share" not in result or result.get("first"):  # few-shot rows are `bench.few_shot_table`'s
            continue
        key = (result["corpus"], result["fraction"], result["model"], result.get("tag") or "default")
        rows[key].append(result)
    return rows


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


def load_threshold_results() -> dict[str, dict]:
    """The saved runs' `bench/results/thresholds-<run>.json` (`bench.threshold_policies`), by run name."""
    paths = sorted(RESULTS_DIR.glob("thresholds-*.json"))
    return {path.stem.removeprefix("thresholds-"): json.loads(path.read_text()) for path in paths}


def table(rows: dict[tuple, list[dict]] | None = None) -> str:
    header = ["corpus", "train %", "model", "variant", "seeds", "unseen share"] + [name for name, _ in COLUMNS]
    header += [f"test F1 @ {policy}" for policy in POLICIES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = load_rows() if rows is None else rows
    for (corpus, fraction, model, tag), results in sorted(rows.items()):
        cells = [corpus, f"{100 * fraction:g}", model, tag, ",".join(str(r["seed"]) for r in results)]
        cells.append(f"{100 * results[0]['unseen_share']:.0f} %")
        cells += [mean_std([r[key] for r in results]) for _, key in COLUMNS]
        for policy in POLICIES:
            scores = [r["threshold_policies"][policy]["test_f1"] for r in results if r.get("threshold_policies")]
            cells.append(mean_std(scores) if len(scores) == len(results) else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


POLICY_COLUMNS = ("0.5", "per_label", "global", "per_label_1se", "test_oracle_global")


def policy_table(thresholds: dict[str, dict] | None = None) -> str:
    header = ["run"] + [f"test F1 @ {policy}" for policy in POLICY_COLUMNS] + ["thresholds (per_label → 1se)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    columns = defaultdict(list)
    thresholds = load_threshold_results() if thresholds is None else thresholds
    for run, result in thresholds.items():
        policies = result["policies"]
        cells = [run]
        for policy in POLICY_COLUMNS:
            columns[policy].append(policies[policy]["test_f1"])
            cells.append(f"{100 * policies[policy]['test_f1']:.2f}")
        per_label, one_se = (policies[p]["thresholds"].values() for p in ("per_label", "per_label_1se"))
        cells.append(" ".join(f"{a:g}→{b:g}" for a, b in zip(per_label, one_se)))
        lines.append("| " + " | ".join(cells) + " |")
    if columns:
        means = [f"**{100 * statistics.mean(columns[policy]):.2f}**" for policy in POLICY_COLUMNS]
        lines.append("| " + " | ".join([f"mean of {len(columns['0.5'])} runs", *means, ""]) + " |")
    return "\n".join(lines)


#: The tags of runs under run_lear.py's default recipe (bench/results/README.md), newest first: `global` rows are
#: `steps200` training with the current default calibration (every policy is recorded in both, from the same logits).
RECIPE_TAGS = ("global", "steps200")
RECIPE_TAG = RECIPE_TAGS[-1]  # the tag every default-recipe row has or had; older scripts name it


def default_recipe_runs(rows: dict[tuple, list[dict]], corpus: str, fraction: float, model: str) -> list[dict]:
    """One run per seed of `model` on the setting under the default recipe: the newest tag's where a seed has two."""
    by_seed = {}
    for tag in reversed(RECIPE_TAGS):
        by_seed.update({run["seed"]: run for run in rows.get((corpus, fraction, model, tag), [])})
    return [by_seed[seed] for seed in sorted(by_seed)]


def default_recipe_settings(rows: dict[tuple, list[dict]]) -> list[tuple[str, float]]:
    return sorted({(c, f) for c, f, model, tag in rows if model == "lear" and tag in RECIPE_TAGS})


COMPARED = ("lear", "tagger", "gliner")


def at_default_policy(result: dict, key: str) -> tuple[float, bool]:
    """A LEAR run's score `key` under run_lear.py's default calibration policy, read from the run's
    `threshold_policies` (every policy decoded from the same logits), and whether it had to fall back to the run's
    own calibration instead (runs older than the per-policy seen / unseen scores, unless their thresholds are the
    default policy's). A baseline's own score, as is."""
    policy = result.get("threshold_policies", {}).get(DEFAULT_CALIBRATION_POLICY, {})
    if key in policy:
        return policy[key], False
    # a run calibrated otherwise whose thresholds equal the default's (one label: per_label is global) decoded alike
    same_thresholds = policy.get("thresholds") is not None and policy["thresholds"] == result.get("label_thresholds")
    return result[key], bool(policy) and not same_thresholds


def scores(results: list[dict], key: str) -> tuple[list[float], bool]:
    read = [at_default_policy(result, key) for result in results]
    return [value for value, _ in read], any(fallback for _, fallback in read)


def cell(results: list[dict], key: str) -> str:
    if not results:
        return ""
    values, fallback = scores(results, key)
    return mean_std(values) + (" †" if fallback else "")


def mean(results: list[dict], key: str) -> float:
    return statistics.mean(scores(results, key)[0])


def comparison_table(rows: dict[tuple, list[dict]] | None = None) -> str:
    """LEAR against the baselines under the default recipe, one line per corpus and training fraction; LEAR's
    scores under the default calibration policy (`at_default_policy`; † where some run's unseen F1 is only known
    under the calibration it ran with)."""
    rows = load_rows() if rows is None else rows
    header = ["corpus", "train %", "seeds (LEAR / tagger / GLiNER)"]
    header += [f"{name} {model}" for name in ("test F1", "unseen F1") for model in ("LEAR", "tagger", "GLiNER")]
    header.append("LEAR >= tagger (test F1, unseen F1)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for corpus, fraction in default_recipe_settings(rows):
        runs = {model: default_recipe_runs(rows, corpus, fraction, model) for model in COMPARED}
        cells = [corpus, f"{100 * fraction:g}", " / ".join(str(len(runs[model])) for model in COMPARED)]
        for key in ("test_f1", "test_f1_unseen"):
            cells += [cell(runs[model], key) for model in COMPARED]
        if runs["tagger"]:
            met = [mean(runs["lear"], key) >= mean(runs["tagger"], key) for key in ("test_f1", "test_f1_unseen")]
            cells.append(", ".join("yes" if ok else "no" for ok in met))
        else:
            cells.append("no tagger run")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SETTING_POLICIES = ("0.5", "per_label", "global", "per_label_1se", "global_1se")


def policy_by_corpus_table(rows: dict[tuple, list[dict]] | None = None) -> str:
    """Test F1 of LEAR's default-recipe runs under each threshold policy chosen on dev, per corpus and training
    fraction (mean over seeds), then the mean over those settings, each weighing one: the evidence behind
    `DEFAULT_CALIBRATION_POLICY` (a policy must carry across corpora, not win on one). A policy that some run of a
    setting did not record (runs older than the policy) is left blank there, and out of the mean."""
    rows = load_rows() if rows is None else rows
    header = ["corpus", "train %", "seeds"] + [f"test F1 @ {policy}" for policy in SETTING_POLICIES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    per_setting = []
    for corpus, fraction in default_recipe_settings(rows):
        results = [r for r in default_recipe_runs(rows, corpus, fraction, "lear") if r.get("threshold_policies")]
        if not results:
            continue
        means = {
            policy: statistics.mean(r["threshold_policies"][policy]["test_f1"] for r in results)
            for policy in SETTING_POLICIES
            if all(policy in r["threshold_policies"] for r in results)
        }
        per_setting.append(means)
        cells = [corpus, f"{100 * fraction:g}", str(len(results))]
        lines.append("| " + " | ".join(cells + [percent(means.get(policy)) for policy in SETTING_POLICIES]) + " |")
    complete = [policy for policy in SETTING_POLICIES if per_setting and all(policy in m for m in per_setting)]
    if complete:
        cells = [f"**mean of {len(per_setting)} settings**", "", ""]
        cells += [
            f"**{percent(statistics.mean(m[p] for m in per_setting))}**" if p in complete else ""
            for p in SETTING_POLICIES
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def small_dev_table(thresholds: dict[str, dict] | None = None) -> str:
    """Each policy chosen on small random parts of the validation split (`bench.threshold_policies --small_dev`),
    scored on the whole test split: mean ± std over the draws per saved run and part size, then the mean over runs
    per part size (and on the whole validation split)."""
    header = ["run", "validation texts"] + [f"test F1 @ {policy}" for policy in SETTING_POLICIES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_size = defaultdict(lambda: defaultdict(list))
    thresholds = load_threshold_results() if thresholds is None else thresholds
    for run, result in thresholds.items():
        if "small_dev" not in result:
            continue
        whole = {
            policy: {"test_f1_mean": scores["test_f1"], "test_f1_std": 0.0}
            for policy, scores in result["policies"].items()
        }
        for size, scores in [*result["small_dev"].items(), (f"all {result['dev_texts']}", whole)]:
            size_key = "all" if size.startswith("all") else size
            cells = [run, size]
            for policy in SETTING_POLICIES:
                mean_f1, std = scores[policy]["test_f1_mean"], scores[policy]["test_f1_std"]
                by_size[size_key][policy].append(mean_f1)
                cells.append(f"{100 * mean_f1:.2f}" + (f" ± {100 * std:.2f}" if std else ""))
            lines.append("| " + " | ".join(cells) + " |")
    for size, policies in sorted(by_size.items(), key=lambda item: (item[0] == "all", item[0].zfill(9))):
        runs = len(policies["0.5"])
        cells = [f"**mean of {runs} runs**", size] + [
            f"**{percent(statistics.mean(policies[p]))}**" for p in SETTING_POLICIES
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired_policy_table(rows: dict[tuple, list[dict]] | None = None, thresholds: dict[str, dict] | None = None) -> str:
    """Each policy against `DEFAULT_CALIBRATION_POLICY`, paired on the same trained model: every default-recipe LEAR
    run that recorded both (whole validation split), and every small-validation-split size of the saved runs'
    draws (`thresholds-*.json` with `small_dev`, mean over the draws): mean test F1 difference, and runs better /
    level (within 0.05) / worse."""
    rows = load_rows() if rows is None else rows
    thresholds = load_threshold_results() if thresholds is None else thresholds
    pairs = defaultdict(list)  # (policy, validation texts) -> [test F1 of the policy - the default's]
    for corpus, fraction in default_recipe_settings(rows):
        for run in default_recipe_runs(rows, corpus, fraction, "lear"):
            policies = run.get("threshold_policies", {})
            for policy in SETTING_POLICIES:
                if policy in policies and DEFAULT_CALIBRATION_POLICY in policies:
                    difference = policies[policy]["test_f1"] - policies[DEFAULT_CALIBRATION_POLICY]["test_f1"]
                    pairs[(policy, "all")].append(difference)
    for result in thresholds.values():
        for size, scores in result.get("small_dev", {}).items():
            for policy in SETTING_POLICIES:
                difference = scores[policy]["test_f1_mean"] - scores[DEFAULT_CALIBRATION_POLICY]["test_f1_mean"]
                pairs[(policy, size)].append(difference)
    header = [
        "policy",
        "validation texts",
        "runs",
        f"mean test F1 - {DEFAULT_CALIBRATION_POLICY}'s",
        "better / level / worse",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (policy, size), differences in sorted(pairs.items(), key=lambda item: (item[0][0], item[0][1].zfill(9))):
        if policy == DEFAULT_CALIBRATION_POLICY:
            continue
        counts = [sum(d > 0.0005 for d in differences), sum(abs(d) <= 0.0005 for d in differences)]
        counts.append(len(differences) - sum(counts))
        cells = [policy, size, str(len(differences)), f"{100 * statistics.mean(differences):+.2f}"]
        lines.append("| " + " | ".join(cells + [" / ".join(map(str, counts))]) + " |")
    return "\n".join(lines)


def main() -> None:
    rows, thresholds = load_rows(), load_threshold_results()  # each file read once, for all six tables
    tables = [
        table(rows),
        policy_table(thresholds),
        comparison_table(rows),
        policy_by_corpus_table(rows),
        small_dev_table(thresholds),
        paired_policy_table(rows, thresholds),
    ]
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
