"""lear: LEAR (label-knowledge span extraction) for Hugging Face Transformers.

Importing the package registers, in one place:
- `LearConfig` with `AutoConfig` (model type "lear") and `LearForSpanExtraction` with `AutoModel`, in-process;
- both classes for `auto_map`, so `save_pretrained` writes `auto_map` into config.json and copies the modeling files
  next to the weights, for `AutoModel.from_pretrained(dir, trust_remote_code=True)` without this package;
- `SpanExtractionPipeline` as the pipeline task "span-extraction", so `pipeline("span-extraction", model=dir)` works
  (a saved checkpoint's config.json also names it under `custom_pipelines`, and the checkpoint carries its code, for
  `pipeline(model=dir, trust_remote_code=True)`: see `configuration_lear`).
"""

from transformers import AutoConfig, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_lear import LearConfig
from .decoding_lear import Span, decode_flat_spans, decode_nested_spans, decode_spans
from .modeling_lear import (
    LearForSpanExtraction,
    LearLabelStates,
    LearPreTrainedModel,
    LearSpanExtractionOutput,
    tokenize_label_descriptions,
)
from .pipeline_lear import TASK as SPAN_EXTRACTION_TASK
from .pipeline_lear import SpanExtractionPipeline


__version__ = "0.2.0"

AutoConfig.register(LearConfig.model_type, LearConfig, exist_ok=True)
AutoModel.register(LearConfig, LearForSpanExtraction, exist_ok=True)
LearConfig.register_for_auto_class()
LearForSpanExtraction.register_for_auto_class("AutoModel")
PIPELINE_REGISTRY.register_pipeline(
    SPAN_EXTRACTION_TASK, pipeline_class=SpanExtractionPipeline, pt_model=AutoModel, type="text"
)

__all__ = [
    "LearConfig",
    "LearForSpanExtraction",
    "LearLabelStates",
    "LearPreTrainedModel",
    "LearSpanExtractionOutput",
    "Span",
    "SpanExtractionPipeline",
    "decode_flat_spans",
    "decode_nested_spans",
    "decode_spans",
    "tokenize_label_descriptions",
]
