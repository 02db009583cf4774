# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""`LearTrainingArguments`: `TrainingArguments` whose defaults are LEAR's measured recipe.

A user who runs `run_lear.py --model_name_or_path ENCODER --dataset_dir DATA --output_dir OUT` and nothing else gets
the recipe that measured best across corpora (docs/training.md, "The default recipe", and bench/benchmarks.md):
train, evaluate on the validation split every epoch, keep the best epoch, calibrate the decoding thresholds there,
and score the test split. Every field is still a `TrainingArguments` field and any of them can be passed as usual;
this subclass only moves defaults (as `Seq2SeqTrainingArguments` adds its own), so this is the one place where the
recipe's numbers live (`bench/seed_rows.py` passes only what a corpus changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from transformers import TrainingArguments
from transformers.trainer_utils import IntervalStrategy, SaveStrategy


MIN_EVALUATIONS = 4  # evaluations of a run that trains by --min_train_steps (a 3-epoch run evaluates 3 times)

# The encoder learning rate measured best on all-MiniLM-L6-v2 (6 layers, 384 wide), and that encoder's size: the
# default for another encoder is scaled from it (`encoder_learning_rate`; docs/training.md, "Learning rate").
REFERENCE_LEARNING_RATE = 2e-4
REFERENCE_ENCODER = "all-MiniLM-L6-v2"
REFERENCE_LAYERS, REFERENCE_WIDTH = 6, 384


def encoder_learning_rate(encoder_config) -> tuple[float, str]:
    """The default encoder learning rate for an encoder, and the reason, for the log: the rate measured on MiniLM
    scaled by MiniLM's layers x width over the encoder's, never above the measured rate (a smaller encoder keeps it).
    Deeper and wider encoders fine-tune at lower rates (BERT-base recipes use 2e-5 to 5e-5): 2e-4 on a 12-layer
    768-wide encoder is 5e-5, on a 24-layer 1024-wide one 1.9e-5. An encoder config without the two sizes gets the
    measured rate."""
    layers = getattr(encoder_config, "num_hidden_layers", None)
    width = getattr(encoder_config, "hidden_size", None)
    if not layers or not width:
        return REFERENCE_LEARNING_RATE, f"LEAR's rate for {REFERENCE_ENCODER}; the encoder config gives no size"
    scale = min(1.0, (REFERENCE_LAYERS * REFERENCE_WIDTH) / (layers * width))
    rate = float(f"{REFERENCE_LEARNING_RATE * scale:.2g}")
    return rate, (
        f"for a {layers}-layer {width}-wide encoder: {REFERENCE_LEARNING_RATE:g} (measured on {REFERENCE_ENCODER}, "
        f"{REFERENCE_LAYERS} x {REFERENCE_WIDTH}) x min(1, {REFERENCE_LAYERS * REFERENCE_WIDTH} / ({layers} x {width}))"
    )


@dataclass
class LearTrainingArguments(TrainingArguments):
    """`TrainingArguments` with LEAR's recipe as defaults, and LEAR's own fields (`task_layer_lr`, `min_train_steps`,
    `keep_checkpoints`)."""

    learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "Encoder learning rate (the task layers train at this x --task_layer_lr). LEAR: from the encoder's "
            "size, 2e-4 for a 6-layer 384-wide encoder (all-MiniLM-L6-v2) and lower for deeper or wider ones "
            "(5e-5 for a 12-layer 768-wide one; lear.training_args.encoder_learning_rate); the run logs which."
        },
    )
    task_layer_lr: float = field(
        default=10.0,
        metadata={
            "help": "Learning-rate multiplier of the task layers (fusion and heads): they train at "
            "learning_rate * task_layer_lr, the encoder at learning_rate (the original's recipe: 10)."
        },
    )
    per_device_train_batch_size: int = field(default=16, metadata={"help": "Training batch per device. LEAR: 16."})
    per_device_eval_batch_size: int = field(default=32, metadata={"help": "Evaluation batch per device. LEAR: 32."})
    num_train_epochs: float = field(default=3.0, metadata={"help": "Training epochs. LEAR: 3."})
    warmup_steps: float = field(
        default=0.1, metadata={"help": "Linear warm-up: steps, or a fraction of all steps when < 1. LEAR: 0.1."}
    )
    weight_decay: float = field(
        default=0.01, metadata={"help": "AdamW weight decay (not on biases, norms). LEAR: 0.01."}
    )
    eval_strategy: str = field(
        default="epoch",
        metadata={"help": "When to evaluate on the validation split: LEAR every epoch ('no' without one)."},
    )
    save_strategy: str = field(default="epoch", metadata={"help": "When to checkpoint: LEAR every epoch."})
    save_total_limit: int | None = field(default=1, metadata={"help": "Checkpoints kept (plus the best). LEAR: 1."})
    load_best_model_at_end: bool = field(
        default=True,
        metadata={
            "help": "Keep the epoch with the best validation F1 (off when nothing is evaluated during training)."
        },
    )
    metric_for_best_model: str | None = field(default="f1", metadata={"help": "Span F1 on the validation split."})
    min_train_steps: int = field(
        default=200,
        metadata={
            "help": "Train at least this many optimizer steps: on a small training split (fewer than --num_train_epochs"
            " epochs' worth) the run trains by steps instead, evaluating and saving MIN_EVALUATIONS times along the "
            "way, so that a 140-sentence corpus gets 200 steps rather than 27. 0: epochs only. LEAR: 200, unless "
            "--num_train_epochs is given (an explicit number of epochs is the run's budget; give both to keep the "
            "floor)."
        },
    )
    logging_steps: float = field(
        default=0.05,
        metadata={
            "help": "Log the training loss every N steps, or every such fraction of the run's steps when < 1. "
            "LEAR: 0.05 (twenty loss lines, however short or long the run)."
        },
    )
    max_labels_per_batch: int = field(
        default=50,
        metadata={
            "help": "Most labels a training batch scores. With more labels than this (a many-label corpus, or a mix "
            "of corpora: several --dataset_dir), each batch scores its gold labels plus negatives drawn at random "
            "from its corpora's labels, up to this many, as GLiNER samples its types (lear.training.LearDataCollator). "
            "Corpora with at most 50 labels are unaffected."
        },
    )
    label_name_probability: float = field(
        default=0.0,
        metadata={
            "help": "Read each label of a training batch by its name (underscores as spaces) instead of its description "
            "with this probability, so that a zero-shot model learns to read both (lear.training.LearDataCollator). "
            "0: descriptions only, as in the paper."
        },
    )
    keep_checkpoints: bool = field(
        default=False,
        metadata={
            "help": "Keep the checkpoint-N folders after a finished run. By default they are removed once the final "
            "(best) model is saved in --output_dir; an interrupted run keeps them, so it can resume."
        },
    )

    def __post_init__(self):
        if self.max_labels_per_batch < 1:
            raise ValueError(f"--max_labels_per_batch must be at least 1, got {self.max_labels_per_batch}")
        if not 0 <= self.label_name_probability <= 1:
            raise ValueError(f"--label_name_probability must be between 0 and 1, got {self.label_name_probability}")
        if self.task_layer_lr <= 0:
            raise ValueError(f"--task_layer_lr must be positive, got {self.task_layer_lr}")
        # Whether evaluation was asked for (--do_eval), before TrainingArguments turns do_eval on for any evaluation
        # strategy and before the stages default.
        self.eval_requested = self.do_eval
        # No stage named: run every stage the data allows (`run_lear.py` drops those whose split is missing).
        self.stages_defaulted = not (self.do_train or self.do_eval or self.do_predict)
        if self.stages_defaulted:
            self.do_train = self.do_eval = self.do_predict = True
        if not self.do_train:
            # Nothing is trained, so nothing is evaluated during training: with the recipe's per-epoch evaluation the
            # Trainer would refuse to start without a validation split (`--do_predict` alone on a checkpoint).
            self.eval_strategy = IntervalStrategy.NO
        evaluation = IntervalStrategy(self.eval_strategy)
        if evaluation == IntervalStrategy.NO or str(self.save_strategy) == "no":
            # The best epoch cannot be chosen without evaluations, nor loaded without checkpoints: the stock default
            # (the last step's model) then applies.
            self.load_best_model_at_end = False
        elif (
            evaluation == IntervalStrategy.STEPS and self.load_best_model_at_end and str(self.save_strategy) == "epoch"
        ):
            # Evaluating every N steps with the default save strategy: save where it evaluates, so the best
            # evaluation has a checkpoint (TrainingArguments requires the two to match).
            self.save_strategy = "steps"
            self.save_steps = self.eval_steps or self.logging_steps
        super().__post_init__()

    def resolve_learning_rate(self, encoder_config) -> str:
        """Set the encoder learning rate from the encoder's size unless --learning_rate gave one; returns the line
        that says which and why."""
        if self.learning_rate is not None:
            return f"Encoder learning rate {self.learning_rate:g} (--learning_rate)"
        self.learning_rate, reason = encoder_learning_rate(encoder_config)
        return f"Encoder learning rate {self.learning_rate:g} {reason}; --learning_rate to choose another"

    def train_at_least_min_steps(self, steps_per_epoch: int) -> bool:
        """`train_at_least_min_steps(self, self.min_train_steps, steps_per_epoch)`."""
        return train_at_least_min_steps(self, self.min_train_steps, steps_per_epoch)

    def without_evaluation_during_training(self) -> None:
        """For data with no validation split: train to the last epoch, as `TrainingArguments`' defaults do."""
        self.eval_strategy = IntervalStrategy.NO
        self.load_best_model_at_end = False
        self.do_eval = False


def train_at_least_min_steps(args: TrainingArguments, min_train_steps: int, steps_per_epoch: int) -> bool:
    """Switch a run whose epochs give fewer than `min_train_steps` optimizer steps to `max_steps =
    min_train_steps`, evaluating (and saving) every `min_train_steps / MIN_EVALUATIONS` steps where it evaluated
    every epoch. Returns whether it switched. An explicit --max_steps is left alone. A function of any
    `TrainingArguments` (not only LEAR's), so that the baselines of `bench/` get the same step budget."""
    if args.max_steps > 0 or args.num_train_epochs * steps_per_epoch >= min_train_steps:
        return False
    args.max_steps = min_train_steps
    if args.eval_strategy == IntervalStrategy.EPOCH:
        every = math.ceil(min_train_steps / MIN_EVALUATIONS)
        args.eval_strategy, args.eval_steps = IntervalStrategy.STEPS, every
        if args.save_strategy == SaveStrategy.EPOCH:
            args.save_strategy, args.save_steps = SaveStrategy.STEPS, every
    return True


__all__ = ["LearTrainingArguments", "encoder_learning_rate", "train_at_least_min_steps"]
