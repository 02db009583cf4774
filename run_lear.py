#!/usr/bin/env python
# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Fine-tune and evaluate LEAR (flat or nested span extraction) with the stock `transformers.Trainer`.

Shaped like transformers' `examples/pytorch/token-classification/run_ner.py`. Data is a corpus converted by
`data_scripts` (a `DatasetDict` saved with `save_to_disk`, with `labels.json` = {label: description}), or a Hub
dataset in the same schema. Scores are micro/per-label P/R/F1 over exact character spans of whole texts: long
texts are split into overlapping windows and merged back, and every gold entity counts. See docs/training.md.

    python run_lear.py --model_name_or_path bert-base-cased --dataset_dir outputs/data/conll2003 \
        --output_dir outputs/lear-conll     # train, evaluate, predict: LEAR's recipe (lear/training_args.py)

    torchrun --nproc_per_node 2 run_lear.py ...     # or: accelerate launch run_lear.py ...
    python run_lear.py args.json                    # every argument from one JSON file
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


def dataset_dir_missing_message(dataset_dir: str) -> str:
    return (
        f"--dataset_dir {dataset_dir} does not exist. Convert a corpus first, e.g. "
        f"`python -m data_scripts.convert conll2003 ../shared/data {dataset_dir}` (see docs/data.md)."
    )


def given_argument(argv: list[str], name: str) -> str | None:
    """What a command line gives for --NAME (`--NAME VALUE`, `--NAME=VALUE`, "" for a bare flag, or a single JSON
    file's "NAME"), read without argparse; None when it is not given or cannot be read cheaply (the parser then
    reports what is wrong)."""
    if len(argv) == 1 and argv[0].endswith(".json"):
        try:
            value = json.loads(Path(argv[0]).read_text(encoding="utf-8")).get(name)
        except (OSError, ValueError, AttributeError):
            return None
        return None if value is None else str(value)
    given = None  # the last one, as argparse takes
    for index, argument in enumerate(argv):
        if argument.startswith(f"--{name}="):
            given = argument.split("=", 1)[1]
        elif argument == f"--{name}":
            following = argv[index + 1] if index + 1 < len(argv) else ""
            given = "" if following.startswith("--") else following
    return given


if __name__ == "__main__":
    # Before the imports below, which take 10-20 s: a mistyped --dataset_dir is the commonest first error, and it
    # can be answered at once (load_raw_datasets checks it again, with the same message, for main() and the tests).
    _dataset_dir = given_argument(sys.argv[1:], "dataset_dir")
    if _dataset_dir and not Path(_dataset_dir).is_dir():
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {dataset_dir_missing_message(_dataset_dir)}\n")
        sys.exit(2)

# ruff: noqa: E402  (the imports follow the early check above on purpose)
import datasets
import huggingface_hub
import torch
import transformers
from huggingface_hub import DatasetCard
from transformers import (
    AutoConfig,
    AutoTokenizer,
    HfArgumentParser,
    PretrainedConfig,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from lear import LearConfig, LearForSpanExtraction
from lear.configuration_lear import DECODE_STRATEGIES, FUSION_TYPES
from lear.locations import check_model_location, hub_id
from lear.model_card import TrainingSummary, build_model_card
from lear.pipeline_lear import SpanExtractionPipeline
from lear.training import (
    CALIBRATION_POLICIES,
    LABEL_NAMES,
    LearDataCollator,
    LearFeatureBuilder,
    SpanEvaluator,
    add_feature_index,
    alignment_summary,
    calibrate_label_thresholds,
    count_overlapping,
    longest_gold_span,
    make_preprocess_logits_for_metrics,
)
from lear.training_args import LearTrainingArguments
from lear.windowing import LONE_MARKER_LIMIT, LONE_MARKER_SAMPLE_TEXTS, default_stride, lone_marker_share


logger = logging.getLogger(__name__)

# Byte-level BPE tokenizers need a prefix space to take pre-split words (as in run_ner.py).
PREFIX_SPACE_MODEL_TYPES = {"bloom", "gpt2", "roberta", "deberta", "longformer"}
# Encoders whose position ids start after the padding index, so two positions are unusable.
OFFSET_POSITION_MODEL_TYPES = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer", "data2vec-text"}
SPLIT_OF_STAGE = {"train": "train", "eval": "validation", "predict": "test"}
PRE_SPLIT_CHOICES = ("auto", "always", "never")
SPAN_CAP_MIN_ENTITIES = 1000  # training entities below which --max_span_length auto warns that its cap is a guess
USAGE = (
    "%(prog)s --model_name_or_path MODEL (--dataset_dir DIR | --dataset_name NAME) --output_dir DIR "
    "[--do_train] [--do_eval] [--do_predict] [OPTIONS]  (every option: %(prog)s --help), or %(prog)s ARGS.json"
)


@dataclass
class ModelArguments:
    """Which model to start from, and LEAR's own settings."""

    model_name_or_path: str = field(
        metadata={
            "help": "An encoder (local folder or Hub id, e.g. bert-base-cased): a new LEAR model is built on it. Or a "
            "LEAR checkpoint (config model_type 'lear'): it is loaded as is."
        }
    )
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's own."})
    cache_dir: str | None = field(default=None, metadata={"help": "Where to cache models from the Hub."})
    model_revision: str = field(default="main", metadata={"help": "Model version (branch, tag or commit id)."})
    token: str | None = field(default=None, metadata={"help": "Hub token for private models or pushing."})
    nested: bool = field(
        default=False,
        metadata={"help": "Build a nested model (span head over start/end pairs). Needed for overlapping entities."},
    )
    fusion_type: str | None = field(
        default=None,
        metadata={"help": f"Label-knowledge fusion of a new model: one of {FUSION_TYPES} (default: attention)."},
    )
    decode_strategy: str | None = field(
        default=None,
        metadata={"help": f"Flat decoding rule, one of {DECODE_STRATEGIES} (default: v5, or the checkpoint's)."},
    )
    max_label_length: int | None = field(
        default=None,
        metadata={
            "help": "Longest tokenized label description; default: no truncation below the tokenizer's "
            "model_max_length (the original never truncates; ACE event descriptions exceed 64 tokens)."
        },
    )
    initializer_range: float | None = field(
        default=None,
        metadata={
            "help": "Std of the normal init of a new model's task layers (fusion and heads); default: "
            "1/sqrt(hidden size), which keeps their signal at unit scale (0.02, BERT's, learns far more slowly)."
        },
    )
    config_overrides: str | None = field(
        default=None,
        metadata={
            "help": "Override LearConfig settings of a new model, as 'key=value,key=value' (as run_clm.py's "
            "--config_overrides), e.g. 'fusion_residual=true,boundary_pos_weight=2'."
        },
    )
    calibrate_thresholds: bool = field(
        default=True,
        metadata={
            "help": "After training a flat model with a validation split (--do_eval), choose each label's decoding "
            "threshold on it (best F1 per label among 0.05..0.5) and save them in the model's config "
            "(docs/model.md). Skipped, with a note, without a validation split or for nested models."
        },
    )
    calibration_policy: str = field(
        default="per_label",
        metadata={
            "help": f"How --calibrate_thresholds chooses: one of {CALIBRATION_POLICIES} ('per_label': each label its "
            "best threshold on the validation split; 'global': one threshold for all labels)."
        },
    )
    base_model_id: str | None = field(
        default=None,
        metadata={
            "help": "The encoder's Hub id, written as base_model in the model card when --model_name_or_path is a "
            "local folder (a local path is never written there)."
        },
    )
    license: str | None = field(
        default=None,
        metadata={
            "help": "The model's licence for its card, a Hub licence id (e.g. apache-2.0, mit). Default: 'unknown', "
            "since the encoder's and the data's terms, which the weights inherit, are not known to this script."
        },
    )
    max_span_length: str = field(
        default="auto",
        metadata={
            "help": "Longest span (in tokens) the trained model returns, saved in its config. 'auto': with "
            "twice the longest training entity, at least 8 tokens more (a warning says so when fewer than "
            f"{SPAN_CAP_MIN_ENTITIES:,} entities back it). An int sets it; 0 or 'none': no limit."
        },
    )

    def __post_init__(self) -> None:
        if self.fusion_type is not None and self.fusion_type not in FUSION_TYPES:
            raise ValueError(f"--fusion_type must be one of {FUSION_TYPES}, got {self.fusion_type!r}")
        if self.decode_strategy is not None and self.decode_strategy not in DECODE_STRATEGIES:
            raise ValueError(f"--decode_strategy must be one of {DECODE_STRATEGIES}, got {self.decode_strategy!r}")
        if self.calibration_policy not in CALIBRATION_POLICIES:
            raise ValueError(
                f"--calibration_policy must be one of {CALIBRATION_POLICIES}, got {self.calibration_policy!r}"
            )
        parse_config_overrides(self.config_overrides)  # fails here, before any data is read, on a bad key or value
        parse_max_span_length(self.max_span_length)


@dataclass
class DataTrainingArguments:
    """Which data to train and evaluate on, and how to window it."""

    dataset_dir: str | None = field(
        default=None,
        metadata={
            "help": "A corpus converted by data_scripts (python -m data_scripts.convert ...): a DatasetDict saved "
            "with save_to_disk, splits train/validation/test, and labels.json."
        },
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "A Hub dataset in the same schema (text, tokens, entities columns)."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Configuration of the Hub dataset."})
    label_descriptions: str | None = field(
        default=None,
        metadata={
            "help": "JSON file {label: description}, in id order. Overrides labels.json; required with "
            "--dataset_name and a new model; with a LEAR checkpoint it re-labels the model (set_labels)."
        },
    )
    text_column: str = field(default="text", metadata={"help": "Column holding the texts."})
    tokens_column: str | None = field(
        default="tokens",
        metadata={
            "help": "Column holding each text's words (characters for Chinese), so that entities start and end on "
            "word boundaries. Pass an empty string to tokenize the raw text instead."
        },
    )
    pre_split: str = field(
        default="auto",
        metadata={
            "help": "Feed the tokens column's words pre-split ('always'), tokenize the raw text ('never', as "
            "--tokens_column ''), or 'auto': pre-split unless the tokenizer splits a lone SentencePiece '▁' off most "
            "words (XLM-R-style tokenizers on Chinese characters), where raw text trains far better (docs/training.md)."
        },
    )
    entities_column: str = field(
        default="entities", metadata={"help": "Column of {start, end, label} character-offset entities."}
    )
    max_seq_length: int = field(
        default=128,
        metadata={"help": "Tokens per window, special tokens included. Longer texts are split into windows."},
    )
    doc_stride: int | None = field(
        default=None,
        metadata={"help": "Tokens shared by neighbouring windows of a long text (default: max_seq_length // 4)."},
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training texts."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N validation texts."})
    max_predict_samples: int | None = field(default=None, metadata={"help": "Use only the first N test texts."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for preprocessing."})
    overwrite_cache: bool = field(default=False, metadata={"help": "Recompute cached features."})
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train from scratch even if output_dir holds checkpoints (otherwise training resumes from the "
            "last one). TrainingArguments no longer has this flag in transformers 5."
        },
    )

    def __post_init__(self) -> None:
        if (self.dataset_dir is None) == (self.dataset_name is None):
            raise ValueError("give exactly one of --dataset_dir (a converted corpus) or --dataset_name (a Hub dataset)")
        if self.pre_split not in PRE_SPLIT_CHOICES:
            raise ValueError(f"--pre_split must be one of {PRE_SPLIT_CHOICES}, got {self.pre_split!r}")
        if self.tokens_column == "" or self.pre_split == "never":
            self.tokens_column = None
        if self.max_seq_length < 8:
            raise ValueError(f"--max_seq_length must be at least 8, got {self.max_seq_length}")


def parse_arguments(
    argv: list[str] | None = None,
) -> tuple[ModelArguments, DataTrainingArguments, LearTrainingArguments]:
    """Arguments from the command line, or from a single JSON file argument. The training arguments' defaults are
    LEAR's recipe (`lear.training_args.LearTrainingArguments`)."""
    # A short usage line: argparse prints it with every argument error, and the full one lists 150 options.
    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, LearTrainingArguments), usage=USAGE)
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(json_file=os.path.abspath(argv[0]))
    return parser.parse_args_into_dataclasses(args=argv)


def setup_logging(training_args: TrainingArguments) -> None:
    """This script's progress lines at info; transformers' and datasets' own at warning, since at info they print
    every config and file they load. `--log_level` sets all three (e.g. `info` for everything, `warning` for
    warnings only); replicas log at `--log_level_replica`."""
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%m/%d/%Y %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    chosen = training_args.log_level if training_args.should_log else training_args.log_level_replica
    if chosen == "passive":
        own_level, library_level = (
            (logging.INFO, logging.WARNING) if training_args.should_log else (logging.WARNING,) * 2
        )
    else:
        own_level = library_level = training_args.get_process_log_level()
    logger.setLevel(own_level)
    datasets.utils.logging.set_verbosity(library_level)
    transformers.utils.logging.set_verbosity(library_level)
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()
    logger.warning(  # one line per process, at every level: it says what runs where
        f"Process rank: {training_args.process_index}, device: {training_args.device}, n_gpu: {training_args.n_gpu}, "
        f"distributed training: {training_args.parallel_mode.value == 'distributed'}"
    )


def train_on_cpu_when_launched_without_accelerator() -> bool:
    """Under `torchrun`/`accelerate launch` with several processes on a machine without an accelerator, make the
    processes one DDP job on the CPU (gloo), as `--use_cpu` does; returns whether it did.

    Without it `TrainingArguments` sets up no DDP there (its default device search finds no GPU and falls back to a
    single CPU process): every process trains alone on all the data and all of them write --output_dir. The switch
    is `ACCELERATE_USE_CPU`, the variable `accelerate launch --cpu` sets and both `TrainingArguments` and the
    Trainer's `Accelerator` read; it must be set before the arguments are parsed, since they set up the devices then.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or torch.accelerator.is_available():
        return False
    os.environ.setdefault("ACCELERATE_USE_CPU", "true")
    return True


def quiet_when_not_a_terminal(training_args: TrainingArguments, argv: list[str]) -> None:
    """No progress bars when stderr is not a terminal (a log file, a pipe, CI): redrawn bars fill redirected logs with
    carriage returns and `\x1b[A` escapes. Covers the datasets `map` bars, weight loading and the Trainer's own
    (whose loss lines are then printed as plain lines); an explicit `--disable_tqdm false` keeps the Trainer's."""
    if sys.stderr.isatty():
        return
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
    if given_argument(argv, "disable_tqdm") is None:
        training_args.disable_tqdm = True


def fit_dataloader_to_device(training_args: TrainingArguments) -> None:
    """Pinned memory only helps copies to an accelerator: on the CPU torch warns about it on every DataLoader.
    (`TrainingArguments` turns it off for `--use_cpu` only, not when the CPU is all there is.)"""
    if training_args.device.type == "cpu":
        training_args.dataloader_pin_memory = False


def check_hub_access(training_args: TrainingArguments) -> None:
    """With --push_to_hub, fail before any data is read, in one line that says why, where the Hub cannot be used
    (offline mode, no network, no login): the Trainer would otherwise stop with a client traceback when it creates
    the repo."""
    if not training_args.push_to_hub:
        return
    if huggingface_hub.constants.HF_HUB_OFFLINE:
        raise ValueError("--push_to_hub needs the Hub, but HF_HUB_OFFLINE is set; unset it, or push later")
    try:
        huggingface_hub.whoami(token=training_args.hub_token)
    except Exception as error:  # offline, DNS, proxy, HTTP and login errors all come as different classes
        cause = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"--push_to_hub: the Hub cannot be used ({type(error).__name__}: {cause})") from error


RUN_RESULT_FILES = (  # what a finished run leaves beside its model; a retrained model must not inherit them
    "all_results.json", "train_results.json", "eval_results.json", "predict_results.json",
    "predictions.jsonl", "eval_predictions.jsonl", "README.md",
)  # fmt: skip


def detect_last_checkpoint(training_args: TrainingArguments, data_args: DataTrainingArguments) -> str | None:
    """The checkpoint to resume from when training into an output_dir that holds an interrupted run's checkpoints.

    A finished run (train_results.json) is not resumed silently: training again would replace its model while
    all_results.json and the card kept the old model's scores. `--overwrite_output_dir` trains from scratch and
    removes those result files first."""
    output_dir = Path(training_args.output_dir)
    if not training_args.do_train or not output_dir.is_dir():
        return None
    if data_args.overwrite_output_dir:
        remove_previous_results(output_dir)
        return None
    last_checkpoint = get_last_checkpoint(str(output_dir))
    finished = (output_dir / "train_results.json").is_file()
    if finished and training_args.resume_from_checkpoint is None:
        raise ValueError(
            f"--output_dir {output_dir} holds a finished run (train_results.json): training again there would "
            "replace its model while its scores stayed in all_results.json. Use another --output_dir, or "
            "--overwrite_output_dir to train from scratch (its result files are removed first)."
        )
    if last_checkpoint is None and any(output_dir.iterdir()):
        raise ValueError(
            f"Output directory ({output_dir}) already exists and is not empty. Use --overwrite_output_dir to "
            "overwrite it."
        )
    if last_checkpoint is not None and training_args.resume_from_checkpoint is None:
        logger.warning(
            f"Resuming the interrupted run in {output_dir} from {last_checkpoint}. Use another --output_dir, or "
            "--overwrite_output_dir to train from scratch."
        )
    return last_checkpoint


def remove_checkpoints(output_dir: Path) -> None:
    """A finished run's checkpoint-N folders (the best model is saved in output_dir itself); --keep_checkpoints
    keeps them."""
    checkpoints = sorted(output_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*"))
    for checkpoint in checkpoints:
        shutil.rmtree(checkpoint)
    if checkpoints:
        logger.info(
            f"Removed {len(checkpoints)} checkpoint folder(s) of the finished run (--keep_checkpoints keeps them)"
        )


def remove_previous_results(output_dir: Path) -> None:
    stale = [output_dir / name for name in RUN_RESULT_FILES if (output_dir / name).is_file()]
    if stale:
        logger.warning(f"--overwrite_output_dir: removing the previous run's {', '.join(p.name for p in stale)}")
    for path in stale:
        path.unlink()


# ---------------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------------


def read_label_file(path: str) -> dict[str, str]:
    """A JSON object {label: description}, in id order."""
    try:
        labels = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ValueError(f"label descriptions file {path} not found") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"label descriptions file {path} is not valid JSON: {error}") from error
    if not isinstance(labels, dict) or not labels or not all(isinstance(v, str) and v.strip() for v in labels.values()):
        raise ValueError(f"{path} must hold a non-empty JSON object {{label: description}} with non-empty descriptions")
    return labels


def load_raw_datasets(
    data_args: DataTrainingArguments, model_args: ModelArguments
) -> tuple[datasets.DatasetDict, dict[str, str] | None]:
    """The corpus and its labels ({label: description} from --label_descriptions or labels.json; None if neither)."""
    labels = read_label_file(data_args.label_descriptions) if data_args.label_descriptions else None
    if data_args.dataset_name is not None:
        raw_datasets = datasets.load_dataset(
            data_args.dataset_name,
            data_args.dataset_config_name,
            cache_dir=model_args.cache_dir,
            token=model_args.token,
        )
        return raw_datasets, labels
    dataset_dir = Path(data_args.dataset_dir)
    if not dataset_dir.is_dir():
        raise ValueError(dataset_dir_missing_message(str(dataset_dir)))
    try:
        raw_datasets = datasets.load_from_disk(str(dataset_dir))
    except FileNotFoundError as error:
        raise ValueError(f"--dataset_dir {dataset_dir} is not a dataset saved with save_to_disk: {error}") from error
    if not isinstance(raw_datasets, datasets.DatasetDict):
        raise ValueError(f"--dataset_dir {dataset_dir} holds a single Dataset, not a DatasetDict of splits")
    labels_file = dataset_dir / "labels.json"
    if labels is None and labels_file.is_file():
        labels = read_label_file(str(labels_file))
    return raw_datasets, labels


def fit_stages_to_splits(raw_datasets: datasets.DatasetDict, training_args: LearTrainingArguments) -> None:
    """Stages run by default (no --do_* given) are those the data has splits for; without a validation split
    nothing is evaluated during training (the last epoch is kept). Explicitly requested stages stay, and fail in
    `check_and_select_splits` when their split is missing."""
    if training_args.stages_defaulted:
        training_args.do_train = "train" in raw_datasets
        training_args.do_predict = "test" in raw_datasets
        training_args.do_eval = "validation" in raw_datasets
        logger.info(
            f"No --do_* given: running {[s for s in ('train', 'eval', 'predict') if getattr(training_args, f'do_{s}')]}"
        )
    if not (training_args.stages_defaulted or training_args.eval_requested or training_args.do_train):
        training_args.do_eval = False  # TrainingArguments turns do_eval on for the (default) evaluation strategy
    if "validation" not in raw_datasets and not training_args.eval_requested and training_args.eval_strategy != "no":
        logger.info("No validation split: training runs to its last epoch, with no evaluation or best-epoch choice.")
        training_args.without_evaluation_during_training()


def check_and_select_splits(
    raw_datasets: datasets.DatasetDict, data_args: DataTrainingArguments, training_args: TrainingArguments
) -> dict[str, datasets.Dataset]:
    """The splits this run needs ("train", "eval", "predict" -> dataset), cut to --max_*_samples; fails early when a
    split or a column is missing."""
    stages = {
        "train": training_args.do_train,
        "eval": training_args.do_eval or (training_args.do_train and training_args.eval_strategy != "no"),
        "predict": training_args.do_predict,
    }
    if not any(stages.values()):
        raise ValueError("nothing to do: pass at least one of --do_train, --do_eval, --do_predict")
    limits = {
        "train": data_args.max_train_samples,
        "eval": data_args.max_eval_samples,
        "predict": data_args.max_predict_samples,
    }
    splits = {}
    for stage, wanted in stages.items():
        if not wanted:
            continue
        split = SPLIT_OF_STAGE[stage]
        if split not in raw_datasets:
            raise ValueError(
                f"--do_{stage} needs a '{split}' split, but the dataset has only {sorted(raw_datasets)}"
                + (" (evaluation during training needs it too)" if stage == "eval" else "")
            )
        dataset = raw_datasets[split]
        required = [data_args.text_column, data_args.entities_column] + (
            [data_args.tokens_column] if data_args.tokens_column else []
        )
        missing = [column for column in required if column not in dataset.column_names]
        if missing:
            raise ValueError(
                f"the '{split}' split lacks the column(s) {missing}; it has {dataset.column_names}. Convert the "
                "corpus with data_scripts, or name the columns with --text_column/--tokens_column/--entities_column "
                "(--tokens_column '' to tokenize raw text)."
            )
        if limits[stage] is not None:
            dataset = dataset.select(range(min(len(dataset), limits[stage])))
        splits[stage] = dataset
    return splits


def check_data_labels_and_nesting(
    splits: dict[str, datasets.Dataset], label_names: list[str], nested: bool, entities_column: str
) -> None:
    """Every entity label must be a model label; overlapping (nested) entities need a nested model."""
    unknown: Counter[str] = Counter()
    overlapping = {}
    for stage, dataset in splits.items():
        rows = dataset[entities_column]
        unknown.update(entity["label"] for row in rows for entity in row if entity["label"] not in label_names)
        overlapping[SPLIT_OF_STAGE[stage]] = sum(count_overlapping(row) for row in rows)
    if unknown:
        raise ValueError(
            f"the data has entity labels the model does not know: {dict(unknown)}; model labels are {label_names}. "
            "Pass --label_descriptions FILE with every label."
        )
    if not nested and any(overlapping.values()):
        counts = ", ".join(f"{count} in {split}" for split, count in overlapping.items() if count)
        raise ValueError(
            f"the data has overlapping (nested) entities ({counts}) but the model is flat and cannot predict them: "
            "pass --nested to build a nested model (or start from a nested LEAR checkpoint)."
        )


# ---------------------------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------------------------


def load_model_config(model_args: ModelArguments) -> PretrainedConfig:
    check_model_location(model_args.model_name_or_path, "--model_name_or_path")
    return AutoConfig.from_pretrained(
        model_args.model_name_or_path,
        cache_dir=model_args.cache_dir,
        revision=model_args.model_revision,
        token=model_args.token,
    )


def encoder_position_limit(encoder_config: PretrainedConfig) -> int | None:
    """Longest input the encoder's position embeddings allow (None when it has no such limit)."""
    limit = getattr(encoder_config, "max_position_embeddings", None)
    if limit is None or getattr(encoder_config, "position_embedding_type", "absolute") != "absolute":
        return None
    return limit - 2 if encoder_config.model_type in OFFSET_POSITION_MODEL_TYPES else limit


def check_model_settings(
    config: PretrainedConfig,
    model_args: ModelArguments,
    data_args: DataTrainingArguments,
    labels: dict[str, str] | None,
) -> None:
    """Fail before loading any weights when the model cannot take these settings or this data."""
    is_lear = isinstance(config, LearConfig)
    encoder_config = config.encoder_config if is_lear else config
    limit = encoder_position_limit(encoder_config)
    if limit is not None and data_args.max_seq_length > limit:
        raise ValueError(
            f"--max_seq_length {data_args.max_seq_length} exceeds what the {encoder_config.model_type} encoder can "
            f"take ({limit} positions); use at most {limit} (long texts are windowed anyway)."
        )
    if not is_lear:
        if labels is None:
            raise ValueError(
                "a new LEAR model needs its labels with their descriptions: pass --label_descriptions FILE (a JSON "
                "object {label: description}) or use a --dataset_dir with labels.json"
            )
        return
    if model_args.nested and not config.nested:
        raise ValueError(
            f"--nested was given but the LEAR checkpoint {model_args.model_name_or_path} is flat; start from an "
            "encoder to build a nested model"
        )
    if model_args.fusion_type is not None and model_args.fusion_type != config.fusion_type:
        raise ValueError(
            f"--fusion_type {model_args.fusion_type} differs from the checkpoint's ({config.fusion_type}); the fusion "
            "of a trained model cannot be changed"
        )
    if labels is not None and not data_args.label_descriptions and set(labels) != set(config.label_names):
        raise ValueError(
            f"label set mismatch: the LEAR checkpoint has {config.label_names} but the data has {list(labels)}. "
            "Pass --label_descriptions FILE to re-label the model (known labels keep their trained classifiers)."
        )


def calibration_wanted(model_args: ModelArguments, training_args: TrainingArguments, splits, nested: bool) -> bool:
    """Whether to calibrate the decoding thresholds after training (a flat model with a validation split)."""
    if not (model_args.calibrate_thresholds and training_args.do_train):
        return False
    if nested:
        logger.info("Nested model: its start, end and span thresholds stay at the config's (no calibration).")
        return False
    if "eval" not in splits:
        logger.warning(
            "No validation split is evaluated (--do_eval): the decoding thresholds stay at 0.5 instead of being "
            "calibrated per label, which usually costs recall (--calibrate_thresholds false silences this)."
        )
        return False
    return True


def load_tokenizer(model_args: ModelArguments, data_args: DataTrainingArguments, config: PretrainedConfig):
    encoder_type = (config.encoder_config if isinstance(config, LearConfig) else config).model_type
    extra = {"add_prefix_space": True} if data_args.tokens_column and encoder_type in PREFIX_SPACE_MODEL_TYPES else {}
    tokenizer = AutoTokenizer.from_pretrained(
        model_args.tokenizer_name or model_args.model_name_or_path,
        cache_dir=model_args.cache_dir,
        revision=model_args.model_revision,
        token=model_args.token,
        **extra,
    )
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("run_lear.py needs a fast tokenizer (offset mappings align entities to tokens)")
    return tokenizer


def check_windowing(tokenizer, data_args: DataTrainingArguments) -> int:
    """The stride between windows; fails when windows would hold no text or the stride would not fit in them."""
    capacity = data_args.max_seq_length - tokenizer.num_special_tokens_to_add(pair=False)
    stride = data_args.doc_stride if data_args.doc_stride is not None else default_stride(data_args.max_seq_length)
    if capacity < 1:
        raise ValueError(f"--max_seq_length {data_args.max_seq_length} leaves no room for text next to special tokens")
    if not 0 <= stride < capacity:
        raise ValueError(
            f"--doc_stride {stride} must be smaller than the {capacity} text tokens of a window "
            f"(--max_seq_length {data_args.max_seq_length} minus special tokens), and not negative"
        )
    return stride


def parse_config_overrides(overrides: str | None) -> dict:
    """'key=value,...' -> LearConfig keyword arguments, each value cast to the type of the field's default (the
    parsing of `PretrainedConfig.update_from_string`)."""
    if not overrides:
        return {}
    defaults = LearConfig()
    try:
        defaults.update_from_string(overrides)
    except ValueError as error:  # an unknown key, a value of the wrong type, or no "="
        raise ValueError(f"--config_overrides {overrides!r}: {error}") from error
    return {pair.split("=", 1)[0]: getattr(defaults, pair.split("=", 1)[0]) for pair in overrides.split(",")}


def load_model(
    config: PretrainedConfig, model_args: ModelArguments, labels: dict[str, str] | None, relabel: bool, tokenizer
) -> LearForSpanExtraction:
    """A new LEAR model on an encoder, or a LEAR checkpoint (re-labelled when --label_descriptions is given)."""
    if not isinstance(config, LearConfig):
        config_kwargs = {"nested": model_args.nested, "max_label_length": model_args.max_label_length}
        if model_args.initializer_range is not None:
            config_kwargs["initializer_range"] = model_args.initializer_range
        if model_args.fusion_type is not None:
            config_kwargs["fusion_type"] = model_args.fusion_type
        if model_args.decode_strategy is not None:
            config_kwargs["decode_strategy"] = model_args.decode_strategy
        config_kwargs.update(parse_config_overrides(model_args.config_overrides))
        logger.info(f"Building a new LEAR model on the encoder {model_args.model_name_or_path}")
        return LearForSpanExtraction.from_encoder(
            model_args.model_name_or_path, labels=labels, tokenizer=tokenizer, **config_kwargs
        )
    model = LearForSpanExtraction.from_pretrained(
        model_args.model_name_or_path,
        cache_dir=model_args.cache_dir,
        revision=model_args.model_revision,
        token=model_args.token,
    )
    if relabel:
        logger.info(f"Re-labelling the checkpoint from {model.config.label_names} to {list(labels)}")
        model.set_labels(labels, tokenizer=tokenizer)
    if model_args.decode_strategy is not None:
        model.config.decode_strategy = model_args.decode_strategy
    return model


# ---------------------------------------------------------------------------------------------------------------------
# Features, training, evaluation
# ---------------------------------------------------------------------------------------------------------------------


def resolve_pre_split(data_args: DataTrainingArguments, tokenizer, splits: dict[str, datasets.Dataset]) -> None:
    """`--pre_split auto`: keep the words, unless the tokenizer splits a lone "▁" off most of them (sampled from the
    first texts of the first split), in which case the raw texts are tokenized instead (`tokens_column = None`)."""
    if data_args.tokens_column is None or data_args.pre_split != "auto" or not splits:
        return
    sample = next(iter(splits.values()))[:LONE_MARKER_SAMPLE_TEXTS][data_args.tokens_column]
    words = [word for text_words in sample for word in text_words]
    share = lone_marker_share(tokenizer, words)
    if share > LONE_MARKER_LIMIT:
        logger.warning(
            f"The tokenizer splits a lone '▁' off {share:.0%} of the pre-split words (SentencePiece on characters): "
            "tokenizing the raw texts instead (--pre_split always to keep the words)."
        )
        data_args.tokens_column = None


def build_features(
    splits: dict[str, datasets.Dataset],
    tokenizer,
    model: LearForSpanExtraction,
    stride: int,
    data_args: DataTrainingArguments,
    training_args: TrainingArguments,
) -> dict[str, datasets.Dataset]:
    """One feature per token window, for each split; logs the entities no prediction can reproduce exactly."""
    features = {}
    for stage, dataset in splits.items():
        builder = LearFeatureBuilder(
            tokenizer=tokenizer,
            # config.label2id is not always filled in (transformers 5 no longer derives it from id2label)
            label2id={name: index for index, name in enumerate(model.config.label_names)},
            max_length=data_args.max_seq_length,
            stride=stride,
            text_column=data_args.text_column,
            tokens_column=data_args.tokens_column,
            entities_column=data_args.entities_column,
        )
        with training_args.main_process_first(desc=f"{stage} dataset map pre-processing"):
            features[stage] = dataset.map(
                builder,
                batched=True,
                with_indices=True,
                remove_columns=dataset.column_names,
                features=builder.features,
                num_proc=data_args.preprocessing_num_workers,
                load_from_cache_file=not data_args.overwrite_cache,
                desc=f"Windowing the {SPLIT_OF_STAGE[stage]} split",
            )
        log_alignment(SPLIT_OF_STAGE[stage], alignment_summary(features[stage]))
        if stage != "train":
            features[stage] = add_feature_index(features[stage])
    return features


def parse_max_span_length(value: str) -> int | str | None:
    """--max_span_length: "auto", a positive int, or None for no limit ("0" or "none")."""
    text = str(value).strip().lower()
    if text in ("auto", "none", "0"):
        return None if text != "auto" else "auto"
    if not text.isdigit():
        raise ValueError(f"--max_span_length must be 'auto', a positive int, or 0/'none' for no limit, got {value!r}")
    return int(text)


def span_length_cap(longest: int) -> int:
    """--max_span_length auto: room over the longest training entity (twice it, at least 8 tokens more), since test
    entities longer than any in the training split do occur, while a flat model must not pair a start with an end
    sentences later."""
    return max(2 * longest, longest + 8)


def train_long_enough(training_args: LearTrainingArguments, train_windows: int) -> None:
    """--min_train_steps: a small training split trains by steps (`LearTrainingArguments.train_at_least_min_steps`)."""
    batch = training_args.train_batch_size * training_args.gradient_accumulation_steps * training_args.world_size
    steps_per_epoch = math.ceil(train_windows / batch)
    if training_args.train_at_least_min_steps(steps_per_epoch):
        logger.info(
            f"{training_args.num_train_epochs:g} epochs of {steps_per_epoch} steps are fewer than --min_train_steps "
            f"{training_args.min_train_steps}: training {training_args.max_steps} steps"
            + (f", evaluating every {training_args.eval_steps}" if training_args.eval_strategy == "steps" else "")
        )


def set_max_span_length(
    model: LearForSpanExtraction, train_features: datasets.Dataset, train_entities: int, requested: str
) -> None:
    """The longest span the model decodes (config.max_span_length, saved with it): --max_span_length, or for
    "auto" `span_length_cap` (never below a checkpoint's own limit). Decoding drops longer spans in every later use
    of the checkpoint, so the choice is logged, as a warning where it cannot be read from enough data."""
    cap = parse_max_span_length(requested)
    longest = longest_gold_span(train_features)
    if cap != "auto":
        model.config.max_span_length = cap
        if cap is not None and longest is not None and cap < longest:
            logger.warning(
                f"--max_span_length {cap} is shorter than the longest training entity ({longest} tokens): such "
                "entities can never be returned"
            )
        logger.info(f"max_span_length = {cap} tokens (--max_span_length)")
        return
    if longest is None:
        return
    current = model.config.max_span_length
    cap = span_length_cap(longest)
    if train_entities < SPAN_CAP_MIN_ENTITIES:
        logger.warning(
            f"max_span_length = {cap if current is None else max(current, cap)} tokens from only {train_entities} "
            f"training entities (the longest {longest} tokens): longer entities can never be returned. "
            "--max_span_length N sets another, 0 none (a flat model may then pair a start with a far-away end)."
        )
    model.config.max_span_length = cap if current is None else max(current, cap)
    logger.info(
        f"max_span_length = {model.config.max_span_length} tokens (the longest of {train_entities} training "
        f"entities is {longest}; --max_span_length sets another)"
    )


def log_alignment(split: str, summary: dict[str, int]) -> None:
    logger.info(
        f"{split}: {summary['texts']} texts -> {summary['windows']} windows; {summary['gold']} gold entities, all "
        "of them scored"
    )
    unreachable = summary["inexact"] + summary["cut"]
    if unreachable:
        logger.warning(
            f"{split}: {unreachable} of {summary['gold']} gold entities cannot be predicted exactly "
            f"({summary['inexact']} with a boundary inside a token or word, {summary['cut']} longer than a window "
            "allows); they count as misses. Raise --max_seq_length or --doc_stride for the latter."
        )


def optimizer_cls_and_kwargs(model: LearForSpanExtraction, training_args: LearTrainingArguments) -> tuple[type, dict]:
    """The optimizer TrainingArguments ask for (AdamW by default, its betas/eps), over LEAR's parameter groups: the
    encoder at `learning_rate`, fusion and heads at `learning_rate * task_layer_lr`, no decay on biases and norms.

    Handed to the stock Trainer through `optimizer_cls_and_kwargs` (its `params` replace the default groups), so
    the Trainer still builds the optimizer itself after placing the model, and the scheduler (warm-up, linear decay)
    from TrainingArguments."""
    optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, model)
    if "params" in optimizer_kwargs or "model" in optimizer_kwargs:
        logger.warning(f"--optim {training_args.optim} builds its own parameter groups: --task_layer_lr is ignored")
        return optimizer_cls, optimizer_kwargs
    optimizer_kwargs["params"] = model.optimizer_param_groups(
        training_args.learning_rate, training_args.task_layer_lr, training_args.weight_decay
    )
    return optimizer_cls, optimizer_kwargs


def write_predictions(trainer: Trainer, evaluator: SpanEvaluator, ids: list[str] | None, path: Path) -> None:
    """Text-level predictions as JSON lines: text, gold and predicted spans (character offsets, labels, scores)."""
    if not trainer.is_world_process_zero():
        return
    with path.open("w", encoding="utf-8") as writer:
        for record in evaluator.records(ids):
            writer.write(json.dumps(record, ensure_ascii=False) + "\n")
    logger.info(f"Wrote {path}")


def calibrate_thresholds(model, features, evaluators, trainer: Trainer, training_args, policy: str) -> None:
    """Decoding thresholds chosen on the validation split (`calibrate_label_thresholds`), saved with the model:
    evaluation, prediction and the pipeline then decode with them."""
    thresholds = calibrate_label_thresholds(
        model,
        features["eval"],
        evaluators["eval"],
        trainer.data_collator,
        training_args.per_device_eval_batch_size,
        policy=policy,
    )
    logger.info(f"Decoding thresholds calibrated on the validation split: {thresholds}")


def warn_if_nothing_predicted(metrics: dict[str, float], prefix: str, trained: bool) -> None:
    """Say so loudly when the model predicts no span at all on a split that has entities: it sits at its all-negative
    prior (every boundary probability below the threshold), which an F1 of 0 alone does not explain."""
    if metrics.get(f"{prefix}_n_predicted", 1) > 0 or not metrics.get(f"{prefix}_n_gold"):
        return
    advice = (
        "Training did not leave it: try more epochs or another --learning_rate (the Weibo tagger in "
        "docs/benchmarks.md learned at 5e-5 for 10 epochs, not at 2e-4 for 3), or check the data."
        if trained
        else "Check that this checkpoint was trained on this label set."
    )
    logger.warning(
        "\n" + "!" * 100 + f"\nThe model predicted NO span on the {SPLIT_OF_STAGE[prefix]} split "
        f"({metrics[f'{prefix}_n_gold']} gold entities): its boundary classifiers are at their all-negative prior. "
        f"{advice}\n" + "!" * 100
    )


def strip_prefix(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    return {key[len(prefix) + 1 :]: value for key, value in metrics.items() if key.startswith(prefix + "_")}


def _ids(dataset: datasets.Dataset) -> list[str] | None:
    return dataset["id"] if "id" in dataset.column_names else None


def training_summary(
    model_args: ModelArguments,
    data_args: DataTrainingArguments,
    training_args: TrainingArguments,
    splits: dict[str, datasets.Dataset],
    example: tuple[str, list[dict]] | None,
) -> TrainingSummary:
    """What the model card says about this run: encoder, data, language, recipe."""
    if data_args.dataset_name is not None:
        dataset_id, dataset_name, language = data_args.dataset_name, data_args.dataset_name, None
    else:
        dataset_id, (dataset_name, language) = None, converted_corpus_card(Path(data_args.dataset_dir))
    batch = training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
    recipe = {
        "encoder learning rate": training_args.learning_rate,
        "task-layer learning rate": f"{training_args.learning_rate * training_args.task_layer_lr:g} (x{training_args.task_layer_lr:g})",
        "epochs": training_args.num_train_epochs if training_args.max_steps <= 0 else None,
        "steps": training_args.max_steps if training_args.max_steps > 0 else None,
        "batch size (per device x accumulation)": batch,
        "warm-up": training_args.warmup_steps or None,
        "weight decay": training_args.weight_decay,
        "window (tokens)": data_args.max_seq_length,
        "seed": training_args.seed,
        "precision": "bf16" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32",
    }
    return TrainingSummary(
        base_model=model_args.base_model_id or hub_id(model_args.model_name_or_path),
        license=model_args.license,
        dataset_id=dataset_id,
        dataset_name=dataset_name,
        language=language,
        train_size=len(splits["train"]) if "train" in splits else None,
        hyperparameters=recipe if training_args.do_train else {},
        example=example,
    )


def converted_corpus_card(dataset_dir: Path) -> tuple[str, list[str] | None]:
    """The readable name and language of a corpus data_scripts converted (from the dataset card it writes)."""
    card_path = dataset_dir / "README.md"
    if not card_path.is_file():
        return dataset_dir.name, None
    card = DatasetCard.load(card_path)
    language = card.data.language
    return card.data.pretty_name or dataset_dir.name, [language] if isinstance(language, str) else language


def example_prediction(
    model: LearForSpanExtraction, tokenizer, splits: dict[str, datasets.Dataset], data_args: DataTrainingArguments
) -> tuple[str, list[dict]] | None:
    """The model's own output on a short test (else validation) text with entities, for the card's usage snippet."""
    for stage in ("predict", "eval"):
        rows = splits[stage].select(range(min(50, len(splits[stage])))) if stage in splits else []
        texts = [row[data_args.text_column] for row in rows if row[data_args.entities_column]]
        short = [text for text in texts if len(text) <= 300]
        if short:
            extractor = SpanExtractionPipeline(model=model, tokenizer=tokenizer, device=model.device)
            return short[0], extractor(short[0])
    return None


def write_model_card(
    trainer: Trainer,
    summary: TrainingSummary,
    results: dict[str, dict[str, float]],
) -> None:
    """LEAR's model card (lear.model_card) with this run's scores and recipe; pushed with --push_to_hub."""
    if not trainer.is_world_process_zero():
        return
    scores = {
        SPLIT_OF_STAGE[stage]: strip_prefix(results[stage], stage) for stage in ("eval", "predict") if stage in results
    }
    output_dir = Path(trainer.args.output_dir)
    repo_id = trainer.hub_model_id if trainer.args.push_to_hub else None
    card = build_model_card(
        trainer.model.config, scores, summary, model_name=output_dir.resolve().name, repo_id=repo_id
    )
    if trainer.args.push_to_hub:
        # Trainer.push_to_hub writes the Trainer's own card and uploads the folder; ours replaces it right after. This
        # keeps the stock Trainer (and its push logic) at the cost of one extra commit on the Hub.
        trainer.push_to_hub()
        card.save(output_dir / "README.md")
        card.push_to_hub(trainer.hub_model_id, token=trainer.args.hub_token, commit_message="LEAR model card")
    else:
        card.save(output_dir / "README.md")


@dataclass
class PreparedJob:
    """Everything a run needs once its inputs have been checked: arguments, data, tokenizer, model, features."""

    model_args: ModelArguments
    data_args: DataTrainingArguments
    training_args: TrainingArguments
    splits: dict[str, datasets.Dataset]
    tokenizer: object
    model: LearForSpanExtraction
    features: dict[str, datasets.Dataset]
    evaluators: dict[str, SpanEvaluator]
    calibrate: bool
    last_checkpoint: str | None


def prepare_job(argv: list[str] | None = None) -> PreparedJob:
    """Parse and check the arguments, the data and the model, build the features: every error about the inputs is
    raised here (a `ValueError` naming the argument, file or field), before any training."""
    cpu_ddp = train_on_cpu_when_launched_without_accelerator()
    model_args, data_args, training_args = parse_arguments(argv)
    setup_logging(training_args)
    if cpu_ddp:
        logger.info(f"{training_args.world_size} processes and no accelerator: DDP on the CPU (as with --use_cpu)")
    quiet_when_not_a_terminal(training_args, sys.argv[1:] if argv is None else argv)
    fit_dataloader_to_device(training_args)
    check_hub_access(training_args)
    logger.debug(f"Training/evaluation parameters {training_args}")  # 100+ lines; training_args.bin keeps them

    last_checkpoint = detect_last_checkpoint(training_args, data_args)
    set_seed(training_args.seed)

    # Data and labels, then everything that can be checked without weights.
    raw_datasets, labels = load_raw_datasets(data_args, model_args)
    fit_stages_to_splits(raw_datasets, training_args)
    splits = check_and_select_splits(raw_datasets, data_args, training_args)
    config = load_model_config(model_args)
    check_model_settings(config, model_args, data_args, labels)
    if isinstance(config, LearConfig):
        model_labels = list(labels) if data_args.label_descriptions else config.label_names
        nested = config.nested
    else:
        model_labels, nested = list(labels), model_args.nested
    check_data_labels_and_nesting(splits, model_labels, nested, data_args.entities_column)
    calibrate = calibration_wanted(model_args, training_args, splits, nested)

    tokenizer = load_tokenizer(model_args, data_args, config)
    resolve_pre_split(data_args, tokenizer, splits)
    stride = check_windowing(tokenizer, data_args)
    relabel = isinstance(config, LearConfig) and data_args.label_descriptions is not None
    model = load_model(config, model_args, labels, relabel, tokenizer)

    features = build_features(splits, tokenizer, model, stride, data_args, training_args)
    if "train" in features:
        entities = sum(len(row) for row in splits["train"][data_args.entities_column])
        set_max_span_length(model, features["train"], entities, model_args.max_span_length)
        train_long_enough(training_args, len(features["train"]))
    evaluators = {
        stage: SpanEvaluator(
            splits[stage], features[stage], model.config.label_names, data_args.text_column, data_args.entities_column
        )
        for stage in ("eval", "predict")
        if stage in features
    }
    return PreparedJob(
        model_args, data_args, training_args, splits, tokenizer, model, features, evaluators, calibrate, last_checkpoint
    )


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Run the job; returns the metrics of each stage run ("train", "eval", "predict")."""
    return run_job(prepare_job(argv))


def cli() -> None:
    """The command line: a bad argument or input ends with one line that names it (exit status 2) rather than a
    traceback; `LEAR_TRACEBACK=1` shows the traceback. Errors while training are not caught."""
    try:
        job = prepare_job()
    except (ValueError, OSError) as error:
        if os.environ.get("LEAR_TRACEBACK"):
            raise
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {error}\n")
        sys.exit(2)
    run_job(job)


def run_job(job: PreparedJob) -> dict[str, dict[str, float]]:
    """Train, evaluate and predict as the arguments ask; write metrics, predictions and the model card."""
    model_args, data_args, training_args = job.model_args, job.data_args, job.training_args
    splits, tokenizer, model, features, evaluators = job.splits, job.tokenizer, job.model, job.features, job.evaluators
    calibrate, last_checkpoint = job.calibrate, job.last_checkpoint

    # The collator reads columns that are not model arguments (window metadata, compact targets), and the labels the
    # Trainer hands to preprocess_logits_for_metrics must be start/end_labels: they carry the decoding masks and the
    # window indices.
    training_args.remove_unused_columns = False
    training_args.label_names = LABEL_NAMES
    if training_args.ddp_find_unused_parameters is None:
        # Every LEAR parameter gets a gradient at every step (the encoder is built without its pooler), so DDP need
        # not search the graph for unused ones (the Trainer's default for PreTrainedModels is to search).
        training_args.ddp_find_unused_parameters = False
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=features.get("train"),
        eval_dataset=features.get("eval"),
        processing_class=tokenizer,
        data_collator=LearDataCollator(tokenizer, model.config.num_labels, nested=model.config.nested),
        compute_metrics=evaluators.get("eval"),
        preprocess_logits_for_metrics=make_preprocess_logits_for_metrics(model),
        optimizer_cls_and_kwargs=optimizer_cls_and_kwargs(model, training_args),
    )

    results: dict[str, dict[str, float]] = {}
    if training_args.do_train:
        checkpoint = training_args.resume_from_checkpoint or last_checkpoint
        train_result = trainer.train(resume_from_checkpoint=checkpoint)
        if calibrate:
            calibrate_thresholds(model, features, evaluators, trainer, training_args, model_args.calibration_policy)
        trainer.save_model()  # saves the tokenizer too
        if not training_args.keep_checkpoints and trainer.is_world_process_zero():
            remove_checkpoints(Path(training_args.output_dir))
        metrics = train_result.metrics
        metrics["train_samples"] = len(splits["train"])
        metrics["train_windows"] = len(features["train"])
        trainer.log_metrics("train", metrics)
        trainer.save_metrics("train", metrics)
        trainer.save_state()
        results["train"] = metrics

    output_dir = Path(training_args.output_dir)
    if training_args.do_eval:
        logger.info("*** Evaluate ***")
        metrics = trainer.evaluate()
        metrics["eval_samples"] = len(splits["eval"])
        warn_if_nothing_predicted(metrics, "eval", trained=training_args.do_train)
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
        write_predictions(trainer, evaluators["eval"], _ids(splits["eval"]), output_dir / "eval_predictions.jsonl")
        results["eval"] = metrics

    if training_args.do_predict:
        logger.info("*** Predict ***")
        trainer.compute_metrics = evaluators["predict"]
        metrics = trainer.predict(features["predict"], metric_key_prefix="predict").metrics
        metrics["predict_samples"] = len(splits["predict"])
        warn_if_nothing_predicted(metrics, "predict", trained=training_args.do_train)
        trainer.log_metrics("predict", metrics)
        trainer.save_metrics("predict", metrics)
        write_predictions(trainer, evaluators["predict"], _ids(splits["predict"]), output_dir / "predictions.jsonl")
        results["predict"] = metrics

    example = example_prediction(model, tokenizer, splits, data_args) if trainer.is_world_process_zero() else None
    write_model_card(trainer, training_summary(model_args, data_args, training_args, splits, example), results)
    return results


if __name__ == "__main__":
    cli()
