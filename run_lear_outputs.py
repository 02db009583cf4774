# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""What a `run_lear.py` run leaves in `--output_dir` besides the Trainer's files, and how it treats what is there:

- checkpoints and result files: `detect_last_checkpoint` (resume an interrupted run, refuse to overwrite a finished
  one), `remove_previous_results` (`--overwrite_output_dir`), `remove_checkpoints` (after a finished run);
- predictions: `write_predictions` (JSON lines per text; `lear.evaluation.read_prediction_spans` reads them),
  `warn_if_nothing_predicted`;
- the model card: `training_summary`, `converted_corpus_card`, `example_prediction`, `write_model_card` (the card
  itself is `lear.model_card`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import datasets
from huggingface_hub import DatasetCard
from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from lear.evaluation import EvaluationSplit, predicted_no_span
from lear.locations import hub_id
from lear.modeling_lear import LearForSpanExtraction
from lear.pipeline_lear import SpanExtractionPipeline
from run_lear_card import TrainingSummary, build_model_card
from run_lear_setup import SPLIT_OF_STAGE


logger = logging.getLogger(__name__)

RUN_RESULT_FILES = (  # what a finished run leaves beside its model; a retrained model must not inherit them
    "all_results.json", "train_results.json", "eval_results.json", "predict_results.json",
    "predictions.jsonl", "eval_predictions.jsonl", "README.md",
)  # fmt: skip


def detect_last_checkpoint(training_args: TrainingArguments, data_args: Any) -> str | None:
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


def write_predictions(trainer: Trainer, split: EvaluationSplit, predictions, path: Path) -> None:
    """Text-level predictions as JSON lines: text, gold and predicted spans (character offsets, labels, scores)."""
    if not trainer.is_world_process_zero():
        return
    with path.open("w", encoding="utf-8") as writer:
        for record in split.records(predictions):
            writer.write(json.dumps(record, ensure_ascii=False) + "\n")
    logger.info(f"Wrote {path}")


def warn_if_nothing_predicted(metrics: dict[str, float], prefix: str, trained: bool) -> None:
    """Say so loudly when the model predicts no span at all on a split that has entities: it sits at its all-negative
    prior (every boundary probability below the threshold), which an F1 of 0 alone does not explain."""
    if not predicted_no_span(metrics, prefix):
        return
    advice = (
        "Training did not leave it: try a lower --learning_rate or more epochs (docs/training.md, "
        '"Learning rate"), or check the data.'
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


def training_summary(
    model_args: Any,
    data_args: Any,
    training_args: TrainingArguments,
    splits: dict[str, datasets.Dataset],
    example: tuple[str, list[dict]] | None,
) -> TrainingSummary:
    """What the model card says about this run: encoder, data, language, recipe."""
    if data_args.dataset_name is not None:
        dataset_id, dataset_name, language = data_args.dataset_name, data_args.dataset_name, None
    else:
        cards = [converted_corpus_card(Path(dataset_dir)) for dataset_dir in data_args.dataset_dir]
        languages = sorted({code for _, codes in cards for code in codes or []}) or None
        dataset_id, dataset_name, language = None, " + ".join(name for name, _ in cards), languages
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
    model: LearForSpanExtraction, tokenizer, splits: dict[str, datasets.Dataset], data_args: Any
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


__all__ = [
    "RUN_RESULT_FILES",
    "converted_corpus_card",
    "detect_last_checkpoint",
    "example_prediction",
    "remove_checkpoints",
    "remove_previous_results",
    "training_summary",
    "warn_if_nothing_predicted",
    "write_model_card",
    "write_predictions",
]
