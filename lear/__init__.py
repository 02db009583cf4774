"""lear: LEAR (label-knowledge span extraction) for Hugging Face Transformers.

Importing the package registers, in one place:
- `LearConfig` with `AutoConfig` (model type "lear") and `LearForSpanExtraction` with `AutoModel`, in-process;
- both classes for `auto_map`, so `save_pretrained` writes `auto_map` into config.json and copies the modeling files
  next to the weights, for `AutoModel.from_pretrained(dir, trust_remote_code=True)` without this package;
- `LearIsNotATokenClassifier` with `AutoModelForTokenClassification`, so that `pipeline("token-classification",
  model=dir)` says to call "span-extraction" instead;
- `SpanExtractionPipeline` as the pipeline task "span-extraction", so `pipeline("span-extraction", model=dir)` works
  (a saved checkpoint's config.json also names it under `custom_pipelines`, and the checkpoint carries its code, for
  `pipeline(model=dir, trust_remote_code=True)`: see `configuration_lear`).
"""

from transformers import AutoConfig, AutoModel, AutoModelForTokenClassification

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
from .pipeline_lear import SpanExtractionPipeline, register_span_extraction_task


__version__ = "0.2.0"


class LearIsNotATokenClassifier:
    """What `AutoModelForTokenClassification` finds for a LEAR config: a LEAR checkpoint's card files it under the
    Hub's `token-classification` task (its output has that pipeline's format), so `pipeline("token-classification",
    model=dir)` is a natural first try; transformers would answer it with "Could not load model" and no hint. This
    class's only job is to say which pipeline to call (transformers shows its message among the load errors)."""

    config_class = LearConfig

    @classmethod
    def from_pretrained(cls, name_or_path, *args, **kwargs):
        raise ValueError(
            f"{name_or_path} is a LEAR span-extraction model, not a token classifier: load it with "
            f'pipeline("{SPAN_EXTRACTION_TASK}", model=...) after `import lear`, or pipeline(model=..., '
            "trust_remote_code=True); its entities have token-classification's aggregated format"
        )


AutoConfig.register(LearConfig.model_type, LearConfig, exist_ok=True)
AutoModelForTokenClassification.register(LearConfig, LearIsNotATokenClassifier, exist_ok=True)
AutoModel.register(LearConfig, LearForSpanExtraction, exist_ok=True)
LearConfig.register_for_auto_class()
LearForSpanExtraction.register_for_auto_class("AutoModel")
register_span_extraction_task(replace=True)

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
