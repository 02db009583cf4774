# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""LEAR configuration.

This module imports only `transformers`, so that it can be copied next to a checkpoint and loaded with
`trust_remote_code=True` in a process where the `lear` package is not installed (as remote code inside a pipeline
call it also imports its sibling `pipeline_lear`, to register the task: see the end of the file). That relative
import is also what makes transformers copy `pipeline_lear.py` (and the `windowing.py` it imports) next to every
saved config, and `to_dict` names the pipeline in config.json (`custom_pipelines`), so every LEAR checkpoint (the
Trainer's included) runs with `pipeline(model=dir, trust_remote_code=True)`.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, get_args

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec


DecodeStrategy = Literal["v5", "v1"]
SpanLossNormalization = Literal["original", "mean"]
BoundaryClassifier = Literal["per_label", "shared", "description"]
DECODE_STRATEGIES = get_args(DecodeStrategy)
SPAN_LOSS_NORMALIZATIONS = get_args(SpanLossNormalization)
BOUNDARY_CLASSIFIERS = get_args(BoundaryClassifier)
REMOTE_CODE_KEYS = ("auto_map", "trust_remote_code")
# The task name under which a saved checkpoint's config.json (`custom_pipelines`) names the pipeline for remote code.
# It differs from the in-process task, "span-extraction", on purpose: `pipeline(task, model=dir)` asks for
# `trust_remote_code=True` whenever `task` is a key of the checkpoint's `custom_pipelines`, even when the `lear` package
# has registered `task` in this process. With distinct names, `import lear; pipeline("span-extraction", model=dir)`
# runs the installed code, and `pipeline(model=dir, trust_remote_code=True)` (no task: the config names it) runs the
# code saved with the weights.
REMOTE_TASK = "lear-span-extraction"


# Settings of experiments that were measured and removed (bench/benchmarks.md keeps what they showed): a checkpoint saved
# with its default loads as before, one trained with another value needs the lear version that had it.
REMOVED_SETTINGS = {
    "boundary_activation": ("sigmoid", "0.1"),
    "fusion_type": ("attention", "0.1"),
    "boundary_pos_weight": (1.0, "0.1"),
}


def reject_removed_settings(kwargs: dict[str, Any]) -> None:
    """Drop a removed setting that holds its former default from `kwargs`; raise a `ValueError` for any other
    value, which this version cannot reproduce."""
    for name, (default, last_version) in REMOVED_SETTINGS.items():
        value = kwargs.pop(name, default)
        if value != default:
            raise ValueError(
                f"LearConfig.{name}={value!r} was an experiment, removed after lear {last_version}: this checkpoint "
                f"needs lear {last_version} (bench/benchmarks.md has what it measured)"
            )


def _probability(value: Any) -> bool:
    return isinstance(value, (int, float)) and 0.0 < value < 1.0


def _optional(check):
    return lambda value: value is None or check(value)


def _int_at_least(low: int):
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= low


# What each of LEAR's settings must be: a check of its value and the words of the error (`validate_lear_settings`).
FIELD_CHECKS = {
    "decode_strategy": (DECODE_STRATEGIES.__contains__, f"one of {DECODE_STRATEGIES}"),
    "span_loss_normalization": (SPAN_LOSS_NORMALIZATIONS.__contains__, f"one of {SPAN_LOSS_NORMALIZATIONS}"),
    "boundary_classifier": (BOUNDARY_CLASSIFIERS.__contains__, f"one of {BOUNDARY_CLASSIFIERS}"),
    **{
        name: (_probability, "strictly between 0 and 1")
        for name in ("start_threshold", "end_threshold", "span_threshold")
    },
    "unseen_label_threshold": (_optional(_probability), "None or strictly between 0 and 1"),
    "label_thresholds": (_optional(lambda values: all(map(_probability, values))), "None or thresholds in (0, 1)"),
    **{name: (lambda value: 0.0 <= value < 1.0, "in [0, 1)") for name in ("hidden_dropout_prob", "span_dropout_prob")},
    "max_span_length": (_optional(_int_at_least(1)), "a positive int or None"),
    "max_label_length": (_optional(_int_at_least(3)), "an int >= 3 ([CLS] word [SEP]) or None"),
    "character_pieces": (_optional(lambda value: isinstance(value, bool)), "a bool or None"),
}


@strict
class LearConfig(PretrainedConfig):
    r"""
    Configuration of a [`LearForSpanExtraction`] model: the encoder's own config, the labels with their
    natural-language descriptions ("label annotations"), and the fusion, head and decoding settings.

    Args:
        encoder_config (`PretrainedConfig` or `dict`, *optional*):
            Config of the BERT-family encoder shared by text and label descriptions (anything `AutoModel` builds:
            BERT, RoBERTa, XLM-R, ELECTRA, DeBERTa-v2...). A dict must carry `model_type`. Defaults to `BertConfig()`.
        id2label (`dict[int, str]`, *optional*):
            Label names by id. `label2id` is derived from it by `PretrainedConfig`.
        label_descriptions (`list[str]`, *optional*):
            One description per label, in id order. This is LEAR's label knowledge.
        label_input_ids (`list[list[int]]`, *optional*):
            The descriptions tokenized by the encoder's tokenizer (special tokens included, unpadded, in id order),
            so that a checkpoint predicts without a tokenizer. `from_encoder` and `set_labels` fill it in.
        max_label_length (`int`, *optional*):
            Longest tokenized description (special tokens included); longer ones are truncated. `None` (the default)
            truncates only at the tokenizer's `model_max_length`, as the original never truncates descriptions
            (one of ACE 2005's event-type descriptions is over 64 word pieces).
        nested (`bool`, *optional*, defaults to `False`):
            Add the span head that scores (start, end) pairs, so that spans may nest and overlap.
        decode_strategy (`str`, *optional*, defaults to `"v5"`):
            Flat decoding rule: `"v5"` (the original's default, most probable start and end per group) or `"v1"`
            (each start pairs with the nearest end at or after it).
        start_threshold, end_threshold, span_threshold (`float`, *optional*, defaults to 0.5):
            Probability thresholds for start, end and (nested) span decisions.
        hidden_dropout_prob (`float`, *optional*, defaults to 0.1):
            Dropout on the text hidden states before fusion (labels get none, as in the original).
        span_dropout_prob (`float`, *optional*, defaults to 0.1):
            Dropout inside the nested span head.
        initializer_range (`float`, *optional*):
            Std of the normal init of the task layers (fusion and heads); defaults to `1/sqrt(hidden_size)`, which
            keeps their outputs at unit scale (the original keeps PyTorch's `nn.Linear` defaults).
        fusion_residual (`bool`, *optional*, defaults to `True`):
            Add the encoder's own token states to every label's fused states (`F = h + tanh(...)`), so the boundary
            classifiers read the pretrained features directly, as a tagger does. `False` is the paper's fusion.
        attention_scale (`bool`, *optional*, defaults to `True`):
            Divide the token-label attention scores by `sqrt(hidden_size)`, as Transformer attention does. `False`
            is the paper's (unscaled) fusion.
        span_loss_normalization (`str`, *optional*, defaults to `"mean"`):
            Nested models: `"mean"` averages the span BCE over the scored cells; `"original"` divides its sum by
            (cells / C), i.e. C times the mean, as the authors' code does.
        boundary_classifier (`str`, *optional*, defaults to `"per_label"`):
            `"per_label"`: a start (and end) weight vector per label, as the paper. `"shared"`: one vector for all
            labels plus a per-label offset starting at zero. `"description"`: each label's vectors generated from its
            description's states, so that a label never seen is scored from its description alone: the head of the
            multi-corpus zero-shot model (docs/zero-shot.md).
        allow_overlaps (`bool`, *optional*, defaults to `True`):
            Nested models: return overlapping spans (nested NER). `False` keeps the span head's scoring but returns
            flat output, the most probable spans that share no token: a span classifier for flat corpora.
        max_span_length (`int`, *optional*):
            Longest span (in tokens) the decoders return; `run_lear.py` sets it to the longest training entity.
        label_thresholds (`list[float]`, *optional*):
            One decoding threshold per label (start and end alike) for flat decoding, overriding
            `start_threshold`/`end_threshold`; `run_lear.py` calibrates them on the validation split.
        unseen_label_threshold (`float`, *optional*):
            The decoding threshold of a label the model was not trained on, calibrated on labels held out of a
            training mix (`run_lear.py --hold_out_labels`); `None`: the median of `label_thresholds`.
        character_pieces (`bool`, *optional*):
            Feed every CJK character as one piece of its own (training, evaluation, pipeline and ONNX alike), for
            vocabularies that merge Chinese characters into words (XLM-R, multilingual-e5), where an entity edge
            inside a merged piece could not be predicted. Set by the tokenizer for a new model; `None`: off.

    The defaults of `fusion_residual`, `attention_scale` and `span_loss_normalization` depart from the paper and the
    original code because they measure better (docs/model.md, bench/benchmarks.md); set them to `False`, `False`,
    `"original"` for the paper's model.

    Example:

    ```python
    >>> from transformers import BertConfig
    >>> from lear import LearConfig
    >>> config = LearConfig(
    ...     encoder_config=BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
    ...     id2label={0: "LOC", 1: "PER"},
    ...     label_descriptions=["places such as cities and countries", "names of people"],
    ... )
    >>> config.num_labels
    2
    ```
    """

    model_type = "lear"
    # Fields are typed as transformers 5 configs' are (`@strict`); `validate_lear_settings` checks values and how they
    # fit together. Declaring the encoder's config as a sub-config is what lets `from_pretrained(dtype=...,
    # attn_implementation=...)` reach the encoder: transformers sets both on every sub-config before it builds the
    # model.
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: dict | PretrainedConfig | None = None
    label_descriptions: list[str] | None = None
    label_input_ids: list[list[int]] | None = None
    max_label_length: int | None = None
    nested: bool = False
    decode_strategy: DecodeStrategy = "v5"
    start_threshold: float = 0.5
    end_threshold: float = 0.5
    span_threshold: float = 0.5
    hidden_dropout_prob: float | int = 0.1
    span_dropout_prob: float | int = 0.1
    initializer_range: float | None = None
    fusion_residual: bool = True
    attention_scale: bool = True
    span_loss_normalization: SpanLossNormalization = "mean"
    boundary_classifier: BoundaryClassifier = "per_label"
    allow_overlaps: bool = True
    max_span_length: int | None = None
    label_thresholds: list[float] | None = None
    unseen_label_threshold: float | None = None
    character_pieces: bool | None = None

    def __post_init__(self, **kwargs):
        reject_removed_settings(kwargs)
        self.encoder_config = _without_remote_code(self.encoder_config)
        super().__post_init__(**kwargs)
        self.label_descriptions = list(self.label_descriptions or [])
        self.label_input_ids = [list(map(int, ids)) for ids in (self.label_input_ids or [])]
        if self.label_thresholds is not None:
            self.label_thresholds = [float(value) for value in self.label_thresholds]
        if self.initializer_range is None:
            self.initializer_range = round(self.encoder_config.hidden_size**-0.5, 4)
        if self.id2label is not None and self.label2id is None:
            # transformers 5 no longer derives label2id from an explicit id2label
            self.label2id = {name: label_id for label_id, name in self.id2label.items()}

    @property
    def hidden_size(self) -> int:
        return self.encoder_config.hidden_size

    @property
    def label_names(self) -> list[str]:
        """Label names in id order."""
        return [self.id2label[i] for i in range(self.num_labels)]

    def validate_lear_settings(self) -> None:
        """Raise a `ValueError` naming the field when LEAR's settings do not fit together (`@strict` runs every
        `validate_*` method after `__init__` and wraps the error in a `StrictDataclassClassValidationError`)."""
        for name, (is_valid, expected) in FIELD_CHECKS.items():
            value = getattr(self, name)
            if not is_valid(value):
                raise ValueError(f"LearConfig.{name} must be {expected}, got {value!r}")
        names = [self.id2label[label_id] for label_id in sorted(self.id2label)]
        if sorted(self.id2label) != list(range(self.num_labels)) or len(set(names)) != len(names):
            raise ValueError(
                f"LearConfig.id2label must map 0..{self.num_labels - 1} to distinct names: {self.id2label}"
            )
        if {name: int(label_id) for name, label_id in (self.label2id or {}).items()} != dict(
            zip(names, range(len(names)))
        ):
            raise ValueError(f"LearConfig.label2id {self.label2id} is not the inverse of id2label {self.id2label}")
        for name in ("label_thresholds", "label_descriptions", "label_input_ids"):
            values = getattr(self, name)
            if values and len(values) != self.num_labels:
                raise ValueError(
                    f"LearConfig.{name} has {len(values)} entries for {self.num_labels} labels: one per label, in id order"
                )

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        output["encoder_config"] = self.encoder_config.to_dict()
        # Always LEAR's own pipeline, under REMOTE_TASK: `Pipeline.save_pretrained` sets the attribute to the
        # in-process task name, which would make `pipeline("span-extraction", model=dir)` ask for remote code.
        output["custom_pipelines"] = custom_pipelines_config()
        return output

    def to_diff_dict(self) -> dict[str, Any]:
        """What config.json holds: without the encoder's `_name_or_path` (as transformers leaves out the top-level
        one), which would carry a local path of the training machine to every copy; the card names the encoder."""
        output = super().to_diff_dict()
        if isinstance(output.get("encoder_config"), dict):
            output["encoder_config"].pop("_name_or_path", None)
        return output


def custom_pipelines_config() -> dict[str, dict[str, Any]]:
    """The `custom_pipelines` entry of a LEAR checkpoint's config.json: the span-extraction pipeline saved with it."""
    return {REMOTE_TASK: {"impl": "pipeline_lear.SpanExtractionPipeline", "pt": ["AutoModel"], "type": "text"}}


def _without_remote_code(encoder_config: PretrainedConfig | dict[str, Any] | None):
    """A checkpoint's config must not be able to make the encoder remote code: the encoder is always a class
    transformers ships (SpanMarker 1.8.1 strips `trust_remote_code` from its configs for the same reason)."""
    if isinstance(encoder_config, dict):
        if "model_type" not in encoder_config:
            raise ValueError("LearConfig.encoder_config must carry a 'model_type' (e.g. 'bert')")
        return {key: value for key, value in encoder_config.items() if key not in REMOTE_CODE_KEYS}
    if encoder_config is not None and not isinstance(encoder_config, PretrainedConfig):
        raise TypeError(f"LearConfig.encoder_config must be a PretrainedConfig or a dict, got {type(encoder_config)}")
    return encoder_config


def _register_the_pipeline_task_for_remote_code() -> None:
    """Make `pipeline("span-extraction", model=dir, trust_remote_code=True)` work without the `lear` package.

    That call loads this module from the checkpoint (its config comes first) and only then looks the task up, among
    the tasks registered in the process and the checkpoint's `custom_pipelines`, which names the pipeline
    "lear-span-extraction" (`REMOTE_TASK` says why). So the copy of this module that runs as remote code
    registers the checkpoint's own pipeline under "span-extraction", as `import lear` does, unless the task is
    already registered (then the installed package's stays). The installed module does nothing here (`lear`'s
    `__init__` registers the task), nor does remote code loaded outside a pipeline (no pipelines imported)."""
    if __name__.split(".")[0] == "lear" or "transformers.pipelines" not in sys.modules:
        return
    from transformers import AutoModel
    from transformers.pipelines import PIPELINE_REGISTRY

    # relative, so that transformers copies the pipeline's files with this module
    from .pipeline_lear import TASK, SpanExtractionPipeline

    if TASK not in PIPELINE_REGISTRY.supported_tasks:
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=SpanExtractionPipeline, pt_model=AutoModel, type="text"
        )


_register_the_pipeline_task_for_remote_code()

__all__ = ["LearConfig", "REMOTE_TASK", "custom_pipelines_config"]
