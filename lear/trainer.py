# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""`LearTrainer`: the stock `transformers.Trainer`, scoring LEAR on whole texts.

Training is the Trainer's own. `evaluate` and `predict` take an `EvaluationSplit` (texts, gold entities, windows)
instead of a feature dataset and run `lear.evaluation.evaluate_spans`, the pipeline's path from windows to
character spans, then log and return the metrics under the usual prefix, with the `on_evaluate` / `on_predict`
callbacks, so `eval_strategy`, `load_best_model_at_end` with `metric_for_best_model="f1"`, early stopping and the
loggers work as with any Trainer. Under DDP each process scores a share of the texts and the spans are gathered.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import PredictionOutput, speed_metrics

from .evaluation import (
    DEFAULT_CALIBRATION_POLICY,
    EvaluationSplit,
    SpanEvaluation,
    calibrate_label_thresholds,
    evaluate_spans,
    predicted_no_span,
)
from .training import model_inputs, optimizer_param_groups


logger = logging.getLogger(__name__)


def optimizer_cls_and_kwargs(
    model, training_args: TrainingArguments, task_layer_lr: float | None = None
) -> tuple[type, dict]:
    """The optimizer TrainingArguments ask for (AdamW by default, its betas/eps), over LEAR's parameter groups
    (`training.optimizer_param_groups`): the encoder at `learning_rate`, fusion and heads at `learning_rate *
    task_layer_lr`, no decay on biases and norms.

    For the Trainer's `optimizer_cls_and_kwargs` (its `params` replace the default groups), so that the Trainer
    still builds the optimizer itself after placing the model, and the scheduler (warm-up, decay) from the
    arguments. `task_layer_lr` defaults to the arguments' own (`LearTrainingArguments.task_layer_lr`)."""
    if task_layer_lr is None:
        task_layer_lr = getattr(training_args, "task_layer_lr", 1.0)
    optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, model)
    if "params" in optimizer_kwargs or "model" in optimizer_kwargs:
        logger.warning(f"--optim {training_args.optim} builds its own parameter groups: --task_layer_lr is ignored")
        return optimizer_cls, optimizer_kwargs
    optimizer_kwargs["params"] = optimizer_param_groups(
        model, training_args.learning_rate, task_layer_lr, training_args.weight_decay
    )
    return optimizer_cls, optimizer_kwargs


class CollapseWarning(TrainerCallback):
    """Warn at an evaluation during training that finds no span at all on a split that has entities, while the run
    can still be stopped: a model that predicts nothing after its first steps has usually collapsed to the
    all-negative prior, most often because the learning rate is too high for its encoder (docs/training.md,
    "Learning rate"). The log line gives the step, the training loss so far, and the fix."""

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics = metrics or {}
        if not state.global_step or not predicted_no_span(metrics, "eval"):
            return
        losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
        loss = f"the training loss went from {losses[0]:.4g} to {losses[-1]:.4g}" if losses else "no loss logged yet"
        logger.warning(
            f"Step {state.global_step} of {state.max_steps}: the model predicts NO span on the validation split "
            f"({metrics['eval_n_gold']} gold entities); {loss}. A run whose evaluations keep predicting nothing has "
            "collapsed to the all-negative prior: stop it and try a lower --learning_rate "
            f"(this run: {args.learning_rate:g}; e.g. {args.learning_rate / 4:g}), or train longer if the loss is "
            "still falling."
        )


class LearTrainer(Trainer):
    """A `Trainer` whose evaluation scores whole texts (`evaluate_spans`).

    `eval_dataset` and the datasets given to `evaluate`/`predict` are `EvaluationSplit`s (or a dict of them, as
    `Trainer.evaluate` takes); `train_dataset` is a `LearFeatureBuilder` feature dataset with `LearDataCollator` as
    the collator. Two arguments are fixed for LEAR, with a log line when they change: `remove_unused_columns=False`
    (the collator reads window columns that are not `forward` arguments) and `ddp_find_unused_parameters=False`
    unless given (every LEAR parameter gets a gradient at every step: the encoder has no pooler). `last_evaluation`
    holds the latest `SpanEvaluation` (scores and each text's spans), for writing predictions out.
    """

    def __init__(self, model=None, args: TrainingArguments | None = None, *more, **kwargs):
        if args is not None:
            if args.remove_unused_columns:
                logger.debug("remove_unused_columns=False: LEAR's collator reads window columns, not model arguments")
                args.remove_unused_columns = False
            if args.ddp_find_unused_parameters is None:
                args.ddp_find_unused_parameters = False
        super().__init__(model, args, *more, **kwargs)
        self.add_callback(CollapseWarning)
        self.last_evaluation: SpanEvaluation | None = None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        # The decoding masks are for evaluation; the loss reads the -100s of the targets.
        return super().compute_loss(
            model, model_inputs(inputs), return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
        )

    def check_whole_model(self) -> None:
        """Evaluation runs the model's own methods (label states once per split, then forward), which under FSDP or
        DeepSpeed ZeRO-3 would meet parameter shards: refuse with the way out rather than score a shard. (FSDP cannot
        be tried on CPU processes here: accelerate 1.x sets it up for accelerators only and runs DDP instead.)"""
        deepspeed = getattr(self.accelerator.state, "deepspeed_plugin", None)
        if self.is_fsdp_enabled or (deepspeed is not None and getattr(deepspeed, "zero_stage", 0) == 3):
            raise NotImplementedError(
                "LEAR's evaluation does not run on a sharded model (FSDP, DeepSpeed ZeRO-3): train with --eval_strategy "
                "no, then evaluate the saved model without sharding (run_lear.py --model_name_or_path OUTPUT_DIR "
                "--do_eval --do_predict), or shard with DDP / ZeRO-2"
            )

    def score_split(self, split: EvaluationSplit) -> SpanEvaluation:
        """`evaluate_spans` on this Trainer's model, batch size, processes and autocast."""
        self.check_whole_model()
        if not isinstance(split, EvaluationSplit):
            raise TypeError(f"LearTrainer evaluates an EvaluationSplit (lear.evaluation), got {type(split).__name__}")
        self.last_evaluation = evaluate_spans(
            self.model,
            split,
            self.data_collator,
            self.args.per_device_eval_batch_size,
            process_index=self.args.process_index,
            num_processes=self.args.world_size,
            forward_context=self.accelerator.autocast,
        )
        return self.last_evaluation

    def _scored(self, split: EvaluationSplit, prefix: str) -> dict[str, float]:
        start_time = time.time()
        metrics = {f"{prefix}_{key}": value for key, value in self.score_split(split).metrics.items()}
        steps = math.ceil(len(split) / (self.args.per_device_eval_batch_size * self.args.world_size))
        metrics.update(speed_metrics(prefix, start_time, num_samples=len(split), num_steps=steps))
        return metrics

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Score `eval_dataset` (default: the Trainer's), log the metrics and run the `on_evaluate` callbacks."""
        split = eval_dataset if eval_dataset is not None else self.eval_dataset
        if isinstance(split, dict):
            metrics = {}
            for name, named_split in split.items():
                metrics.update(self.evaluate(named_split, ignore_keys, f"{metric_key_prefix}_{name}"))
            return metrics
        metrics = self._scored(split, metric_key_prefix)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test") -> PredictionOutput:
        """Score `test_dataset`; `predictions` are each text's character spans (`CharSpan` lists)."""
        metrics = self._scored(test_dataset, metric_key_prefix)
        self.control = self.callback_handler.on_predict(self.args, self.state, self.control, metrics)
        return PredictionOutput(predictions=self.last_evaluation.predictions, label_ids=None, metrics=metrics)

    def calibrate_thresholds(
        self, split: EvaluationSplit, policy: str = DEFAULT_CALIBRATION_POLICY, held_out: Sequence[int] = ()
    ) -> dict[str, float]:
        """`calibrate_label_thresholds` on this Trainer's model (each process a share of the texts)."""
        self.check_whole_model()
        return calibrate_label_thresholds(
            self.model,
            split,
            self.data_collator,
            self.args.per_device_eval_batch_size,
            policy=policy,
            held_out=held_out,
            process_index=self.args.process_index,
            num_processes=self.args.world_size,
        )


__all__ = ["CollapseWarning", "LearTrainer", "optimizer_cls_and_kwargs"]
