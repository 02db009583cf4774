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
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import transformers
from huggingface_hub.errors import StrictDataclassError
from transformers import HfArgumentParser, TrainingArguments, set_seed

from lear import LearConfig, LearForSpanExtraction, tokenize_label_descriptions
from lear.configuration_lear import DECODE_STRATEGIES
from lear.corpus_mix import CorpusMix, label_name_text
from lear.evaluation import (
    CALIBRATION_POLICIES,
    DEFAULT_CALIBRATION_POLICY,
    EvaluationSplit,
    check_calibration_policy,
)
from lear.trainer import LearTrainer, optimizer_cls_and_kwargs
from lear.training import LearDataCollator
from lear.training_args import LearTrainingArguments
from run_lear_outputs import (
    detect_last_checkpoint,
    example_prediction,
    remove_checkpoints,
    training_summary,
    warn_if_nothing_predicted,
    write_model_card,
    write_predictions,
)
from run_lear_setup import (
    SPAN_CAP_MIN_ENTITIES,
    build_features,
    calibration_wanted,
    check_and_select_splits,
    check_data_labels_and_nesting,
    check_hub_access,
    check_model_settings,
    check_windowing,
    fit_dataloader_to_device,
    fit_stages_to_splits,
    load_model,
    load_model_config,
    load_raw_datasets,
    load_tokenizer,
    parse_config_overrides,
    parse_max_span_length,
    quiet_when_not_a_terminal,
    resolve_pre_split,
    set_max_span_length,
    train_long_enough,
    train_on_cpu_when_launched_without_accelerator,
)


logger = logging.getLogger(__name__)

PRE_SPLIT_CHOICES = ("auto", "always", "never")
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
            "--config_overrides), e.g. 'fusion_residual=false,attention_scale=false'."
        },
    )
    calibrate_thresholds: bool = field(
        default=True,
        metadata={
            "help": "After training a flat model with a validation split (--do_eval), choose the labels' decoding "
            "thresholds on it (among 0.05..0.5, by --calibration_policy) and save them in the model's config "
            "(docs/model.md). Skipped, with a note, without a validation split or for nested models."
        },
    )
    calibration_policy: str = field(
        default=DEFAULT_CALIBRATION_POLICY,
        metadata={
            "help": f"How --calibrate_thresholds chooses: one of {CALIBRATION_POLICIES} ('global': one threshold for "
            "all labels, the best micro F1 on the validation split; 'per_label': each label its best threshold "
            "there). "
            f"Default {DEFAULT_CALIBRATION_POLICY!r}: it measured best across corpora (docs/training.md)."
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
        # Fails here, before any data is read, by the rules that apply later: the LEAR settings given must make a valid
        # config (LearConfig validates itself when built: the choices of each setting), the policy a known one.
        settings = {"decode_strategy": self.decode_strategy} if self.decode_strategy else {}
        LearConfig(**settings | parse_config_overrides(self.config_overrides))  # also fails on a bad key or type
        check_calibration_policy(self.calibration_policy, "--calibration_policy")
        parse_max_span_length(self.max_span_length)


@dataclass
class DataTrainingArguments:
    """Which data to train and evaluate on, and how to window it."""

    dataset_dir: list[str] | None = field(
        default=None,
        metadata={
            "help": "A corpus converted by data_scripts (python -m data_scripts.convert ...): a DatasetDict saved "
            "with save_to_disk, splits train/validation/test, and labels.json. Several: a mix of corpora with "
            "their own label sets, each text a negative only for its corpus's labels, the --max_*_samples limits "
            "applying to each corpus (lear/corpus_mix.py, docs/zero-shot.md)."
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
    hold_out_labels: float = field(
        default=0.1,
        metadata={
            "help": "A mix of corpora: this share of the labels of corpora with at least 50 labels is held out of "
            "training (chosen by a hash of the name) and calibrates, on the validation texts, the threshold of labels "
            "the model never saw (LearConfig.unseen_label_threshold). 0: none."
        },
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
        if isinstance(self.dataset_dir, str):  # one folder, as a JSON argument file gives it
            self.dataset_dir = [self.dataset_dir]
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


# The package's and this script's own steps (run_lear_setup.py, run_lear_outputs.py) log at this script's level.
STEP_LOGGERS = ("lear", "run_lear_setup", "run_lear_outputs")


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
    for name in STEP_LOGGERS:
        logging.getLogger(name).setLevel(own_level)
    datasets.utils.logging.set_verbosity(library_level)
    transformers.utils.logging.set_verbosity(library_level)
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()
    logger.warning(  # one line per process, at every level: it says what runs where
        f"Process rank: {training_args.process_index}, device: {training_args.device}, n_gpu: {training_args.n_gpu}, "
        f"distributed training: {training_args.parallel_mode.value == 'distributed'}"
    )


def dataset_dir_missing_message(dataset_dir: str) -> str:
    return (
        f"--dataset_dir {dataset_dir} does not exist. Convert a corpus first, e.g. "
        f"`python -m data_scripts.convert conll2003 ../shared/data {dataset_dir}` (see docs/data.md)."
    )


def given_argument(argv: list[str], name: str) -> str | None:
    """What a command line gives for --NAME (`--NAME VALUE`, `--NAME=VALUE`, "" for a bare flag, or a single JSON
    file's "NAME"), None when it is not given: whether an option was given at all, which the parsed arguments (with
    their defaults filled in) cannot say."""
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


@dataclass
class PreparedJob:
    """Everything a run needs once its inputs have been checked: arguments, data, tokenizer, model, features."""

    model_args: ModelArguments
    data_args: DataTrainingArguments
    training_args: TrainingArguments
    splits: dict[str, datasets.Dataset]
    tokenizer: object
    model: LearForSpanExtraction
    train_features: datasets.Dataset | None
    evaluation: dict[str, EvaluationSplit]  # "eval", "predict"
    calibrate: bool
    last_checkpoint: str | None
    mix: CorpusMix | None = None  # a mix of corpora: their label sets


def prepare_job(argv: list[str] | None = None) -> PreparedJob:
    """Parse and check the arguments, the data and the model, build the features: every error about the inputs is
    raised here (a `ValueError` naming the argument, file or field), before any training."""
    cpu_ddp = train_on_cpu_when_launched_without_accelerator()
    model_args, data_args, training_args = parse_arguments(argv)
    setup_logging(training_args)
    given = sys.argv[1:] if argv is None else argv
    if given_argument(given, "num_train_epochs") is not None and given_argument(given, "min_train_steps") is None:
        training_args.min_train_steps = 0  # the epochs the user asked for are the budget, not the recipe's floor
    if cpu_ddp:
        logger.info(f"{training_args.world_size} processes and no accelerator: DDP on the CPU (as with --use_cpu)")
    given_disable_tqdm = given_argument(given, "disable_tqdm") is not None
    quiet_when_not_a_terminal(training_args, trainer_bars_asked_for=given_disable_tqdm)
    fit_dataloader_to_device(training_args)
    check_hub_access(training_args)
    logger.debug(f"Training/evaluation parameters {training_args}")  # 100+ lines; training_args.bin keeps them

    last_checkpoint = detect_last_checkpoint(training_args, data_args)
    set_seed(training_args.seed)

    # Data and labels, then everything that can be checked without weights.
    for dataset_dir in data_args.dataset_dir or []:
        if not Path(dataset_dir).is_dir():
            raise ValueError(dataset_dir_missing_message(dataset_dir))
    raw_datasets, labels, mix = load_raw_datasets(data_args, model_args)
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
    learning_rate = training_args.resolve_learning_rate(model.config.encoder_config)
    if training_args.do_train:
        logger.info(learning_rate)

    train_features, evaluation = build_features(splits, tokenizer, model, stride, data_args, training_args, mix)
    if train_features is not None:
        entities = sum(len(row) for row in splits["train"][data_args.entities_column])
        # every process computes the same cap: the first one warns of it
        set_max_span_length(model, train_features, entities, model_args.max_span_length, warn=training_args.should_log)
        train_long_enough(training_args, len(train_features))
    return PreparedJob(
        model_args, data_args, training_args, splits, tokenizer, model, train_features, evaluation, calibrate,
        last_checkpoint, mix,
    )  # fmt: skip


def headline_metrics(metrics: dict[str, float], label_names: list[str]) -> dict[str, float]:
    """The metrics printed at the end of a stage: all but the per-label ones (`eval_LOC_f1`, ...; four per label,
    hundreds for a many-label corpus), which `{split}_results.json` keeps with the rest."""
    per_label = tuple(f"_{label}_" for label in label_names)
    return {key: value for key, value in metrics.items() if not any(part in key for part in per_label)}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Run the job; returns the metrics of each stage run ("train", "eval", "predict")."""
    return run_job(prepare_job(argv))


def cli() -> None:
    """The command line: a bad argument or input ends with one line that names it (exit status 2) rather than a
    traceback; `LEAR_TRACEBACK=1` shows the traceback. Errors while training are not caught."""
    try:
        job = prepare_job()
    except (ValueError, OSError, StrictDataclassError) as error:
        if os.environ.get("LEAR_TRACEBACK"):
            raise
        # a config's `@strict` validation wraps the ValueError that names the field
        cause = error.__cause__ if isinstance(error, StrictDataclassError) and error.__cause__ else error
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {cause}\n")
        sys.exit(2)
    run_job(job)


def tokenized_label_names(config: LearConfig, tokenizer) -> list[list[int]]:
    """The model's label names as texts to read (`LearDataCollator.label_name_probability`), tokenized as
    descriptions are."""
    names = [label_name_text(name) for name in config.label_names]
    return tokenize_label_descriptions(tokenizer, names, config.max_label_length)


def run_job(job: PreparedJob) -> dict[str, dict[str, float]]:
    """Train, evaluate and predict as the arguments ask; write metrics, predictions and the model card."""
    model_args, data_args, training_args = job.model_args, job.data_args, job.training_args
    splits, tokenizer, model, evaluation = job.splits, job.tokenizer, job.model, job.evaluation
    trainer = LearTrainer(
        model=model,
        args=training_args,
        train_dataset=job.train_features,
        eval_dataset=evaluation.get("eval"),
        processing_class=tokenizer,
        data_collator=LearDataCollator(
            tokenizer,
            model.config.num_labels,
            nested=model.config.nested,
            label_sets=job.mix.train_label_sets if job.mix else None,
            max_labels_per_batch=training_args.max_labels_per_batch,
            label_input_ids=model.config.label_input_ids,
            label_name_input_ids=(
                tokenized_label_names(model.config, tokenizer) if training_args.label_name_probability else None
            ),
            label_name_probability=training_args.label_name_probability,
        ),
        optimizer_cls_and_kwargs=optimizer_cls_and_kwargs(model, training_args),
    )

    results: dict[str, dict[str, float]] = {}
    if training_args.do_train:
        checkpoint = training_args.resume_from_checkpoint or job.last_checkpoint
        train_result = trainer.train(resume_from_checkpoint=checkpoint)
        if job.calibrate:
            held_out = job.mix.held_out if job.mix else ()
            thresholds = trainer.calibrate_thresholds(evaluation["eval"], model_args.calibration_policy, held_out)
            logger.info(f"Decoding thresholds calibrated on the validation split: {thresholds}")
            if model.config.unseen_label_threshold is not None:
                logger.info(
                    f"Threshold of labels the model never saw: {model.config.unseen_label_threshold} (calibrated on "
                    f"the {len(held_out)} labels held out of training)"
                )
        trainer.save_model()  # saves the tokenizer too
        if not training_args.keep_checkpoints and trainer.is_world_process_zero():
            remove_checkpoints(Path(training_args.output_dir))
        metrics = train_result.metrics
        metrics["train_samples"] = len(splits["train"])
        metrics["train_windows"] = len(job.train_features)
        trainer.log_metrics("train", headline_metrics(metrics, model.config.label_names))
        trainer.save_metrics("train", metrics)
        trainer.save_state()
        results["train"] = metrics

    output_dir = Path(training_args.output_dir)
    if training_args.do_eval:
        logger.info("*** Evaluate ***")
        metrics = trainer.evaluate()
        metrics["eval_samples"] = len(splits["eval"])
        warn_if_nothing_predicted(metrics, "eval", trained=training_args.do_train)
        trainer.log_metrics("eval", headline_metrics(metrics, model.config.label_names))
        trainer.save_metrics("eval", metrics)
        predictions = trainer.last_evaluation.predictions
        write_predictions(trainer, evaluation["eval"], predictions, output_dir / "eval_predictions.jsonl")
        results["eval"] = metrics

    if training_args.do_predict:
        logger.info("*** Predict ***")
        prediction = trainer.predict(evaluation["predict"], metric_key_prefix="predict")
        metrics = prediction.metrics
        metrics["predict_samples"] = len(splits["predict"])
        warn_if_nothing_predicted(metrics, "predict", trained=training_args.do_train)
        trainer.log_metrics("predict", headline_metrics(metrics, model.config.label_names))
        trainer.save_metrics("predict", metrics)
        write_predictions(trainer, evaluation["predict"], prediction.predictions, output_dir / "predictions.jsonl")
        results["predict"] = metrics

    example = example_prediction(model, tokenizer, splits, data_args) if trainer.is_world_process_zero() else None
    write_model_card(trainer, training_summary(model_args, data_args, training_args, splits, example), results)
    return results


if __name__ == "__main__":
    cli()
