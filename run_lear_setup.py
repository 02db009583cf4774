# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""What `run_lear.py` does before training: check the arguments against the data and the model, load them, and
build the features. Every error about the inputs is a `ValueError` that names the argument, file or field.

The functions take `run_lear.py`'s argument dataclasses (`ModelArguments`, `DataTrainingArguments`, read by field
name) and `TrainingArguments`, in the order `run_lear.prepare_job` calls them:

- the process: `train_on_cpu_when_launched_without_accelerator`, `quiet_when_not_a_terminal`,
  `fit_dataloader_to_device`, `check_hub_access`;
- the data: `load_raw_datasets` (with `read_label_file`), `fit_stages_to_splits`, `check_and_select_splits`,
  `check_data_labels_and_nesting`;
- the model: `load_model_config`, `check_model_settings`, `calibration_wanted`, `load_tokenizer`,
  `resolve_pre_split`, `check_windowing`, `load_model` (with `parse_config_overrides`);
- the features: `build_features` (training features and `EvaluationSplit`s), `set_max_span_length`,
  `train_long_enough`.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
import huggingface_hub
import torch
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig, TrainingArguments

from data_scripts.stats import count_overlapping
from lear.configuration_lear import LearConfig
from lear.console import no_progress_bars_unless_terminal
from lear.corpus_mix import (
    LABEL_SET_COLUMN,
    CorpusMix,
    load_converted_corpus,
    load_corpus_mix,
    read_label_file,
    sample_per_corpus,
)
from lear.evaluation import EvaluationSplit
from lear.locations import check_model_location
from lear.modeling_lear import LearForSpanExtraction
from lear.training import LearFeatureBuilder, alignment_summary, longest_gold_span
from lear.training_args import LearTrainingArguments
from lear.windowing import (
    LONE_MARKER_LIMIT,
    LONE_MARKER_SAMPLE_TEXTS,
    character_pieces_wanted,
    default_stride,
    encoder_position_limit,
    lone_marker_share,
    stride_fits,
    window_capacity,
)


logger = logging.getLogger(__name__)

PREFIX_SPACE_MODEL_TYPES = {"bloom", "gpt2", "roberta", "deberta", "longformer"}


SPLIT_OF_STAGE = {"train": "train", "eval": "validation", "predict": "test"}


SPAN_CAP_MIN_ENTITIES = 1000  # training entities below which --max_span_length auto warns that its cap is a guess


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


def quiet_when_not_a_terminal(training_args: TrainingArguments, trainer_bars_asked_for: bool = False) -> None:
    """No progress bars when stderr is not a terminal (a log file, a pipe, CI): redrawn bars fill redirected logs with
    carriage returns and `\x1b[A` escapes. Covers the datasets `map` bars, weight loading and the Trainer's own
    (whose loss lines are then printed as plain lines); `trainer_bars_asked_for` (an explicit `--disable_tqdm`) keeps
    the Trainer's as asked."""
    if no_progress_bars_unless_terminal() and not trainer_bars_asked_for:
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


def load_raw_datasets(
    data_args: Any, model_args: Any
) -> tuple[datasets.DatasetDict, dict[str, str] | None, CorpusMix | None]:
    """The corpus and its labels ({label: description} from --label_descriptions or labels.json; None if neither),
    and for a mix of corpora (several --dataset_dir) the mix's label sets (`lear.corpus_mix`; None otherwise)."""
    if data_args.dataset_dir is not None and len(data_args.dataset_dir) > 1:
        if data_args.label_descriptions:
            raise ValueError("--label_descriptions cannot re-label a mix of corpora: each brings its labels.json")
        mix = load_corpus_mix(data_args.dataset_dir, data_args.hold_out_labels)
        return mix.splits, mix.labels, mix
    labels = read_label_file(data_args.label_descriptions) if data_args.label_descriptions else None
    if data_args.dataset_name is not None:
        raw_datasets = datasets.load_dataset(
            data_args.dataset_name,
            data_args.dataset_config_name,
            cache_dir=model_args.cache_dir,
            token=model_args.token,
        )
        return raw_datasets, labels, None
    # run_lear.py has checked that the folder exists
    raw_datasets, corpus_labels = load_converted_corpus(Path(data_args.dataset_dir[0]), with_labels=labels is None)
    return raw_datasets, labels or corpus_labels, None


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
    raw_datasets: datasets.DatasetDict, data_args: Any, training_args: TrainingArguments
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
        if limits[stage] is not None and LABEL_SET_COLUMN in dataset.column_names:
            dataset = sample_per_corpus(dataset, limits[stage])  # a mix: N texts of each corpus
        elif limits[stage] is not None:
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


def load_model_config(model_args: Any) -> PretrainedConfig:
    check_model_location(model_args.model_name_or_path, "--model_name_or_path")
    return AutoConfig.from_pretrained(
        model_args.model_name_or_path,
        cache_dir=model_args.cache_dir,
        revision=model_args.model_revision,
        token=model_args.token,
    )


def check_model_settings(
    config: PretrainedConfig,
    model_args: Any,
    data_args: Any,
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
    if labels is not None and not data_args.label_descriptions and set(labels) != set(config.label_names):
        raise ValueError(
            f"label set mismatch: the LEAR checkpoint has {config.label_names} but the data has {list(labels)}. "
            "Pass --label_descriptions FILE to re-label the model (known labels keep their trained classifiers)."
        )


def calibration_wanted(model_args: Any, training_args: TrainingArguments, splits, nested: bool) -> bool:
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


def load_tokenizer(model_args: Any, data_args: Any, config: PretrainedConfig):
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


def check_windowing(tokenizer, data_args: Any) -> int:
    """The stride between windows; fails when windows would hold no text or the stride would not fit in them."""
    capacity = window_capacity(tokenizer, data_args.max_seq_length)
    stride = data_args.doc_stride if data_args.doc_stride is not None else default_stride(data_args.max_seq_length)
    if capacity < 1:
        raise ValueError(f"--max_seq_length {data_args.max_seq_length} leaves no room for text next to special tokens")
    if not stride_fits(stride, capacity):
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
    defaults = LearConfig(character_pieces=False)  # a bool, so that "character_pieces=true" parses as one
    try:
        defaults.update_from_string(overrides)
    except ValueError as error:  # an unknown key, a value of the wrong type, or no "="
        raise ValueError(f"--config_overrides {overrides!r}: {error}") from error
    return {pair.split("=", 1)[0]: getattr(defaults, pair.split("=", 1)[0]) for pair in overrides.split(",")}


def load_model(
    config: PretrainedConfig, model_args: Any, labels: dict[str, str] | None, relabel: bool, tokenizer
) -> LearForSpanExtraction:
    """A new LEAR model on an encoder, or a LEAR checkpoint (re-labelled when --label_descriptions is given)."""
    if not isinstance(config, LearConfig):
        config_kwargs = {"nested": model_args.nested, "max_label_length": model_args.max_label_length}
        if model_args.initializer_range is not None:
            config_kwargs["initializer_range"] = model_args.initializer_range
        if model_args.decode_strategy is not None:
            config_kwargs["decode_strategy"] = model_args.decode_strategy
        config_kwargs.update(parse_config_overrides(model_args.config_overrides))
        if config_kwargs.get("character_pieces") is None:
            config_kwargs["character_pieces"] = character_pieces_wanted(tokenizer)
        if config_kwargs["character_pieces"]:
            logger.info(
                "The tokenizer merges Chinese characters into multi-character pieces: every CJK character is fed as "
                "one piece (config.character_pieces; --config_overrides character_pieces=false for the raw pieces)"
            )
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


def resolve_pre_split(data_args: Any, tokenizer, splits: dict[str, datasets.Dataset]) -> None:
    """`--pre_split auto`: keep the words, unless the tokenizer splits a lone "▁" off most of them (sampled from the
    first texts of the first split), in which case the raw texts are tokenized instead (`tokens_column = None`). A
    model with `config.character_pieces` still gets one piece per CJK character from them (`load_model`), as the
    pipeline does from raw text."""
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
    data_args: Any,
    training_args: TrainingArguments,
    mix: CorpusMix | None = None,
) -> tuple[datasets.Dataset | None, dict[str, EvaluationSplit]]:
    """The training features (one per token window, a cached `datasets` map) and the evaluation splits (texts, gold
    entities and the same windows, `EvaluationSplit`); logs the entities no prediction can reproduce exactly. For a
    mix of corpora (`mix`), features and evaluation texts carry their corpus (`lear.corpus_mix`)."""
    builder = LearFeatureBuilder(
        tokenizer=tokenizer,
        # config.label2id is not always filled in (transformers 5 no longer derives it from id2label)
        label2id={name: index for index, name in enumerate(model.config.label_names)},
        max_length=data_args.max_seq_length,
        stride=stride,
        text_column=data_args.text_column,
        tokens_column=data_args.tokens_column,
        entities_column=data_args.entities_column,
        character_pieces=bool(model.config.character_pieces),
    )
    train_features, evaluation = None, {}
    for stage, dataset in splits.items():
        if stage != "train":
            evaluation[stage] = EvaluationSplit.from_examples(dataset, builder)
            if mix is not None:  # a mix: each text is scored on its own corpus's labels
                evaluation[stage].label_sets = mix.label_sets
                evaluation[stage].text_label_sets = list(dataset[LABEL_SET_COLUMN])
            log_alignment(SPLIT_OF_STAGE[stage], evaluation[stage].alignment())
            continue
        with training_args.main_process_first(desc="train dataset map pre-processing"):
            train_features = dataset.map(
                builder,
                batched=True,
                with_indices=True,
                remove_columns=dataset.column_names,
                features=builder.features,
                num_proc=data_args.preprocessing_num_workers,
                load_from_cache_file=not data_args.overwrite_cache,
                desc="Windowing the train split",
            )
        if mix is not None:
            corpus_of_text = dataset[LABEL_SET_COLUMN]
            column = [corpus_of_text[index] for index in train_features["example_index"]]
            train_features = train_features.add_column(LABEL_SET_COLUMN, column)
        log_alignment("train", alignment_summary(train_features))
    return train_features, evaluation


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
    model: LearForSpanExtraction,
    train_features: datasets.Dataset,
    train_entities: int,
    requested: str,
    warn: bool = True,
) -> None:
    """The longest span the model decodes (config.max_span_length, saved with it): --max_span_length, or for
    "auto" `span_length_cap` (never below a checkpoint's own limit). Decoding drops longer spans in every later use
    of the checkpoint, so the choice is logged, as a warning (`warn`: the one process that reports) where it cannot
    be read from enough data."""
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
        (logger.warning if warn else logger.info)(
            f"max_span_length = {cap if current is None else max(current, cap)} tokens from only {train_entities} "
            f"training entities (the longest {longest} tokens): longer entities can never be returned. "
            "--max_span_length N sets another, 0 none (a flat model may then pair a start with a far-away end)."
        )
    model.config.max_span_length = cap if current is None else max(current, cap)
    logger.info(
        f"max_span_length = {model.config.max_span_length} tokens (the longest of {train_entities} training "
        f"entities is {longest}; --max_span_length sets another)"
    )


__all__ = [
    "SPLIT_OF_STAGE",
    "build_features",
    "calibration_wanted",
    "check_and_select_splits",
    "check_data_labels_and_nesting",
    "check_hub_access",
    "check_model_settings",
    "check_windowing",
    "fit_dataloader_to_device",
    "fit_stages_to_splits",
    "load_model",
    "load_model_config",
    "load_raw_datasets",
    "load_tokenizer",
    "parse_config_overrides",
    "parse_max_span_length",
    "quiet_when_not_a_terminal",
    "read_label_file",
    "resolve_pre_split",
    "set_max_span_length",
    "train_long_enough",
    "train_on_cpu_when_launched_without_accelerator",
]
