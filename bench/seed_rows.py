"""The seed corpora at full data (issue 11): one command per corpus, the recipe in one place, resumable.

Each run is `run_lear.py` with evaluation and a checkpoint every epoch, the best checkpoint on the validation split
kept (`--load_best_model_at_end --metric_for_best_model f1`), then scored on the test split. Its folder is
`outputs/seed_rows/<corpus>-lear-<fraction>-seed<k>`; run the same command again after an interruption and
`run_lear.py` resumes from the last checkpoint there. The result, without weights, goes to
`bench/results/<corpus>-lear-<fraction>-seed<k>.json` (test P/R/F1 micro and per label, best dev F1, times, machine,
commit, command).

    python -m bench.seed_rows ace2005            # LEAR, all of the training split, seed 0
    python -m bench.seed_rows genia --seed 1

The tagger side (flat corpora) and the original-scoring metric are not here yet (see the issue).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.common import OUTPUT_DIR, REPO_ROOT, git_commit, metadata_line, minilm_dir, run_metadata
from bench.quality import RESULTS_DIR, converted_corpus, subprocess_env


RUNS_DIR = OUTPUT_DIR.parent / "seed_rows"


@dataclass(frozen=True)
class Recipe:
    """How one corpus is trained: the recipe of the accuracy runs (docs/benchmarks.md), MiniLM for English."""

    nested: bool
    epochs: int = 3
    learning_rate: float = 2e-4
    batch_size: int = 16
    max_seq_length: int = 192

    def encoder(self) -> str:
        return minilm_dir()


RECIPES = {
    "ace2004": Recipe(nested=True),
    "ace2005": Recipe(nested=True),
    "genia": Recipe(nested=True),
    "conll2003": Recipe(nested=False),
}


def run_arguments(corpus: str, recipe: Recipe, seed: int, output_dir: Path) -> dict:
    return {
        "model_name_or_path": recipe.encoder(),
        "dataset_dir": str(converted_corpus(corpus)),
        "output_dir": str(output_dir),
        "nested": recipe.nested,
        "do_train": True,
        "do_eval": True,
        "do_predict": True,
        "num_train_epochs": recipe.epochs,
        "learning_rate": recipe.learning_rate,
        "task_layer_lr": 10,
        "per_device_train_batch_size": recipe.batch_size,
        "per_device_eval_batch_size": 32,
        "max_seq_length": recipe.max_seq_length,
        "warmup_steps": 0.1,
        "weight_decay": 0.01,
        "seed": seed,
        "eval_strategy": "epoch",
        "save_strategy": "epoch",
        "save_total_limit": 2,
        "load_best_model_at_end": True,
        "metric_for_best_model": "f1",
        "logging_steps": 100,
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": not torch.cuda.is_available(),
        "log_level": "warning",
    }


def run(corpus: str, seed: int) -> dict:
    recipe = RECIPES[corpus]
    name = f"{corpus}-lear-1.0-seed{seed}"
    output_dir = RUNS_DIR / name  # run_lear.py's own: it resumes from the last checkpoint found there
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    arguments_file = RUNS_DIR / f"{name}.args.json"
    arguments_file.write_text(json.dumps(run_arguments(corpus, recipe, seed, output_dir), indent=2))
    log_file = RUNS_DIR / f"{name}.log"
    started = time.perf_counter()
    with log_file.open("a") as log:  # appended: a resumed run keeps the earlier part
        completed = subprocess.run(
            [sys.executable, "run_lear.py", str(arguments_file)], stdout=log, stderr=subprocess.STDOUT,
            cwd=REPO_ROOT, env=subprocess_env(torch.get_num_threads()),
        )  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed; see {log_file}")
    test = json.loads((output_dir / "predict_results.json").read_text())
    train = json.loads((output_dir / "train_results.json").read_text())
    state = json.loads((output_dir / "trainer_state.json").read_text())
    result = {
        "corpus": corpus,
        "model": "lear",
        "fraction": 1.0,
        "seed": seed,
        "test_precision": test["predict_precision"],
        "test_recall": test["predict_recall"],
        "test_f1": test["predict_f1"],
        "test_entities": test["predict_n_gold"],
        "per_label": {k[len("predict_") :]: v for k, v in test.items() if k.endswith(("_f1", "_precision", "_recall"))},
        "best_dev_f1": state.get("best_metric"),
        "best_checkpoint": state.get("best_model_checkpoint"),
        "train_seconds": train["train_runtime"],
        "wall_seconds_this_invocation": time.perf_counter() - started,
        "recipe": vars(recipe) | {"encoder": "all-MiniLM-L6-v2"},
        "command": f"python -m bench.seed_rows {corpus} --seed {seed}",
        "commit": git_commit(),
        "machine": metadata_line(run_metadata()),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", choices=sorted(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args.corpus, args.seed)
    print(json.dumps({key: result[key] for key in ("corpus", "test_precision", "test_recall", "test_f1")}))


if __name__ == "__main__":
    main()
