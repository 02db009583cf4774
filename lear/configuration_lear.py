# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""LEAR configuration. It imports only transformers (and huggingface_hub), so that it runs as remote code next to a
checkpoint where `lear` is not installed; its relative import of `pipeline_lear` (end of the file) makes transformers
copy the pipeline with it, and config.json names that pipeline (`custom_pipelines`)."""

import sys
from typing import Any, Literal, get_args

from huggingface_hub.dataclasses import as_validated_field, strict
from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec


DecodeStrategy = Literal["v5", "v1"]
DECODE_STRATEGIES = get_args(DecodeStrategy)
REMOTE_CODE_KEYS = ("auto_map", "trust_remote_code")
# The task config.json names for remote code; not "span-extraction": `pipeline(task, model=dir)` asks for remote code
# whenever `task` is a key of the checkpoint's `custom_pipelines`, even after `import lear` registered `task`.
REMOTE_TASK = "lear-span-extraction"
# Experiments that were measured and removed (bench/benchmarks.md keeps what they showed): a checkpoint that holds the
# former default loads as before; any other value needs the lear version named. (A removed value of a kept field, such
# as boundary_classifier="shared", is refused by the field's type.)
REMOVED_SETTINGS = {"boundary_activation": "sigmoid", "fusion_type": "attention", "boundary_pos_weight": 1.0}
REMOVED = (
    "was an experiment, removed after lear 0.1: this checkpoint needs lear 0.1 "
    "(bench/benchmarks.md has what it measured)"
)


def reject_removed_settings(kwargs: dict[str, Any]) -> None:
    """Drop a removed setting that holds its former default; refuse any other value, which this version cannot run."""
    for name, default in REMOVED_SETTINGS.items():
        if (value := kwargs.pop(name, default)) != default:
            raise ValueError(f"LearConfig.{name}={value!r} {REMOVED}")


# Field validators (`@strict` runs them, with the type checks, whenever a field is set).
@as_validated_field
def open_probability(value: float | None):
    if value is not None and not 0.0 < value < 1.0:
        raise ValueError(f"must be strictly between 0 and 1, got {value!r}")


@as_validated_field
def dropout_probability(value: float):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"must be in [0, 1), got {value!r}")


def int_at_least(low: int):
    @as_validated_field
    def validator(value: int | None):
        if value is not None and value < low:
            raise ValueError(f"must be None or an int >= {low}, got {value!r}")

    return validator


@strict
class LearConfig(PretrainedConfig):
    r"""
    Configuration of a [`LearForSpanExtraction`] model: the encoder's own config, the labels with their
    natural-language descriptions ("label annotations"), and the fusion, head and decoding settings. docs/model.md
    says what each field does and which defaults depart from the paper, and why.

    Args:
        encoder_config (`PretrainedConfig` or `dict`, *optional*):
            The encoder shared by text and descriptions (any `AutoModel` type); defaults to `BertConfig()`.
        id2label, label_descriptions, label_input_ids (*optional*):
            The labels in id order: names, descriptions (LEAR's label knowledge) and the descriptions tokenized
            (unpadded, special tokens included), so that a checkpoint predicts without a tokenizer.
        max_label_length (`int`, *optional*): longest tokenized description; `None`: the tokenizer's limit.
        nested (`bool`, defaults to `False`): add the span head that scores (start, end) pairs (nested spans).
        decode_strategy (`"v5"` or `"v1"`, defaults to `"v5"`): the original's two flat decoding rules.
        start_threshold, end_threshold, span_threshold (`float`, defaults to 0.5): decision thresholds.
        hidden_dropout_prob, span_dropout_prob (`float`, defaults to 0.1): dropout before fusion; in the span head.
        initializer_range (`float`, *optional*): init std of the task layers; `1/sqrt(hidden_size)` by default.
        fusion_residual, attention_scale (`bool`, default to `True`): `False`, `False` is the paper's fusion.
        span_loss_normalization (`"mean"` or `"original"`, defaults to `"mean"`): the nested span loss's scale.
        boundary_classifier (`"per_label"` or `"description"`, defaults to `"per_label"`): a start and end vector
            per label (the paper), or vectors made from each description, so that unseen labels can be scored.
        allow_overlaps (`bool`, defaults to `True`): `False`: nested models return spans that share no token.
        max_span_length (`int`, *optional*): longest span (tokens) the decoders return.
        label_thresholds (`list[float]`, *optional*): per-label flat thresholds, calibrated by `run_lear.py`.
        unseen_label_threshold (`float`, *optional*): the threshold of a label the model was not trained on.
        character_pieces (`bool`, *optional*): every CJK character a piece of its own (for XLM-R-like vocabularies).

    Example:

    ```python
    >>> from transformers import BertConfig
    >>> from lear import LearConfig
    >>> config = LearConfig(encoder_config=BertConfig(), id2label={0: "LOC"}, label_descriptions=["places"])
    >>> config.num_labels, config.label2id
    (1, {'LOC': 0})
    ```
    """

    model_type = "lear"
    # Declaring the encoder's config as a sub-config lets `from_pretrained(dtype=..., attn_implementation=...)` reach
    # the encoder: transformers sets both on every sub-config before it builds the model.
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: dict | PretrainedConfig | None = None
    label_descriptions: list[str] | None = None
    label_input_ids: list[list[int]] | None = None
    max_label_length: int | None = int_at_least(3)(default=None)  # [CLS] word [SEP]
    nested: bool = False
    decode_strategy: DecodeStrategy = "v5"
    start_threshold: float = open_probability(default=0.5)
    end_threshold: float = open_probability(default=0.5)
    span_threshold: float = open_probability(default=0.5)
    hidden_dropout_prob: float | int = dropout_probability(default=0.1)
    span_dropout_prob: float | int = dropout_probability(default=0.1)
    initializer_range: float | None = None
    fusion_residual: bool = True
    attention_scale: bool = True
    span_loss_normalization: Literal["original", "mean"] = "mean"
    boundary_classifier: Literal["per_label", "description"] = "per_label"
    allow_overlaps: bool = True
    max_span_length: int | None = int_at_least(1)(default=None)
    label_thresholds: list[float] | None = None
    unseen_label_threshold: float | None = open_probability(default=None)
    character_pieces: bool | None = None

    def __post_init__(self, **kwargs):
        reject_removed_settings(kwargs)
        self.encoder_config = _without_remote_code(self.encoder_config)
        super().__post_init__(**kwargs)
        self.label_descriptions = list(self.label_descriptions or [])
        self.label_input_ids = list(self.label_input_ids or [])
        if self.initializer_range is None:
            self.initializer_range = round(self.encoder_config.hidden_size**-0.5, 4)
        if self.id2label is not None and self.label2id is None:
            # transformers 5 no longer derives label2id from an explicit id2label
            self.label2id = {name: label_id for label_id, name in self.id2label.items()}

    @property
    def hidden_size(self) -> int:
        return self.encoder_config.hidden_size

    @property
    def label_names(self) -> list[str]:  # in id order
        return [self.id2label[i] for i in range(self.num_labels)]

    def validate_lear_settings(self) -> None:
        """Raise a `ValueError` naming the field when the label fields do not fit together (`@strict` runs every
        `validate_*` method after `__init__`; the fields' own types and ranges are checked as they are set)."""
        names = [self.id2label[label_id] for label_id in sorted(self.id2label)]
        if sorted(self.id2label) != list(range(self.num_labels)) or len(set(names)) != len(names):
            raise ValueError(f"LearConfig.id2label must map 0..N-1 to distinct names, got {self.id2label}")
        inverse = {name: label_id for label_id, name in enumerate(names)}
        if {name: int(label_id) for name, label_id in (self.label2id or {}).items()} != inverse:
            raise ValueError(f"LearConfig.label2id {self.label2id} is not the inverse of id2label {self.id2label}")
        for name in ("label_thresholds", "label_descriptions", "label_input_ids"):
            values = getattr(self, name)
            if values and len(values) != self.num_labels:
                raise ValueError(f"LearConfig.{name} has {len(values)} entries for {self.num_labels} labels (id order)")
        if not all(0.0 < value < 1.0 for value in self.label_thresholds or []):
            raise ValueError(f"LearConfig.label_thresholds must be in (0, 1), got {self.label_thresholds}")

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        output["encoder_config"] = self.encoder_config.to_dict()
        # always REMOTE_TASK: `Pipeline.save_pretrained` would write the in-process task, which asks for remote code
        output["custom_pipelines"] = custom_pipelines_config()
        return output

    def to_diff_dict(self) -> dict[str, Any]:
        """config.json without the encoder's `_name_or_path` (a path on the training machine; the card names it)."""
        output = super().to_diff_dict()
        if isinstance(output.get("encoder_config"), dict):
            output["encoder_config"].pop("_name_or_path", None)
        return output


def custom_pipelines_config() -> dict[str, dict[str, Any]]:
    """The `custom_pipelines` entry of a LEAR checkpoint's config.json: the span-extraction pipeline saved with it."""
    return {REMOTE_TASK: {"impl": "pipeline_lear.SpanExtractionPipeline", "pt": ["AutoModel"], "type": "text"}}


def _without_remote_code(encoder_config: PretrainedConfig | dict[str, Any] | None):
    """The encoder is always a class transformers ships: a checkpoint's config cannot make it remote code."""
    if isinstance(encoder_config, dict):
        if "model_type" not in encoder_config:
            raise ValueError("LearConfig.encoder_config must carry a 'model_type' (e.g. 'bert')")
        return {key: value for key, value in encoder_config.items() if key not in REMOTE_CODE_KEYS}
    return encoder_config


# As remote code inside a pipeline call (not the installed package), register the checkpoint's own pipeline under
# "span-extraction", which config.json names REMOTE_TASK. The import is relative so that transformers copies the
# pipeline's files with this module.
if __name__.split(".")[0] != "lear" and "transformers.pipelines" in sys.modules:
    from .pipeline_lear import register_span_extraction_task

    register_span_extraction_task()

__all__ = ["LearConfig", "REMOTE_TASK", "custom_pipelines_config"]
