# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""ONNX export of a LEAR model (flat or nested), and an ONNX Runtime-backed model the span-extraction pipeline runs.

    lear-export-onnx --model my-lear --output my-lear-onnx [--quantize]
    lear-predict --model my-lear-onnx --onnx --input texts.txt --output predictions.jsonl   # --onnx int8: quantised

or in Python:

    from lear.onnx_export import export_onnx, onnx_pipeline
    export_onnx("my-lear", "my-lear-onnx", quantize=True)
    extractor = onnx_pipeline("my-lear-onnx")             # quantized=True for the int8 file
    extractor("Alice lives in Paris")

The graph takes `input_ids`, `attention_mask` (and `token_type_ids` where the encoder has them), with dynamic batch
and length, and returns `start_logits` and `end_logits` `[B, L, C]` (and `span_logits` for a nested model). The label descriptions' states do not depend on
the text, so they are computed once at export and stored in the graph as constants: the exported model reads no
label input, and changing labels means exporting again. Decoding (thresholds, span rules) stays in Python, shared
with the torch model (`LearPreTrainedModel.decode`), so both return the same spans from the same logits.

The exported folder holds `model.onnx` (`model_int8.onnx` with `--quantize`: int8 dynamic quantisation of the linear
weights by `onnxruntime.quantization`), `config.json` and the tokenizer. A nested model's graph also returns its span
logits `[B, L, L, C]`: the candidate (start, end) cells are selected inside it, as the torch model selects them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .configuration_lear import LearConfig
from .modeling_lear import LearForSpanExtraction, LearLabelStates, LearPreTrainedModel, LearSpanExtractionOutput


ONNX_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
OUTPUT_NAMES = ("start_logits", "end_logits")
PARITY_TEXTS = [  # texts of several lengths: the check covers padding and dynamic shapes
    "Alice Smith lives in Paris and works for Acme .",
    "Peter",
    "The river Nile , the Tokyo office of Google , and Berlin were named in a long sentence about places and people .",
]


class LearOnnxGraph(nn.Module):
    """What the ONNX file computes: LEAR's forward pass at inference with the label states fixed (stored as buffers,
    so the exporter writes them as constants). A nested model also returns its dense span logits; the candidate
    cells are chosen inside the graph (ONNX `NonZero`), with the config's start/end thresholds, as in torch."""

    def __init__(self, model: LearForSpanExtraction):
        super().__init__()
        self.model = model
        model.eval()
        with torch.no_grad():
            states = model.compute_label_states()
        self.register_buffer("label_keys", states.keys)
        self.register_buffer("label_values", states.projected_values, persistent=False)
        self.register_buffer("label_mask_bias", states.mask_bias, persistent=False)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, ...]:
        text_hidden = self.model.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state  # [B, L, H]
        labels = LearLabelStates(self.label_keys, self.label_values, self.label_mask_bias)
        start_logits, end_logits, fused = self.model.boundary_logits(text_hidden, labels)  # [B, L, C] each
        if self.model.nested_head is None:
            return start_logits, end_logits
        _, _, span_logits = self.model.score_spans(fused, start_logits, end_logits, attention_mask)
        return start_logits, end_logits, span_logits  # span: [B, L, L, C]


def export_onnx(
    model_dir: str | Path, output_dir: str | Path, quantize: bool = False, check: bool = True
) -> dict[str, Any]:
    """Export a saved LEAR model (with its tokenizer) to `output_dir`; returns what was written and the parity
    check: the largest absolute difference between torch's and ONNX Runtime's logits on `PARITY_TEXTS`."""
    from transformers import AutoTokenizer

    model_dir, output_dir = Path(model_dir), Path(output_dir)
    model = LearForSpanExtraction.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(PARITY_TEXTS, padding=True, return_tensors="pt")
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    with torch.no_grad(), warnings.catch_warnings():
        # the inputs share their batch and length axes by design; the exporter notes it once per input
        warnings.filterwarnings("ignore", message="# The axis name")
        # torch's own exporter uses a pytree API that torch itself deprecates (raised from torch, not from our code,
        # on every export; nothing a user can change)
        warnings.filterwarnings(
            "ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning
        )
        torch.onnx.export(
            LearOnnxGraph(model).eval(),
            tuple(sample[name] for name in input_names),
            output_dir / ONNX_FILE,
            input_names=input_names,
            output_names=list(OUTPUT_NAMES) + (["span_logits"] if model.config.nested else []),
            dynamic_shapes=tuple({0: batch, 1: length} for _ in input_names),
            dynamo=True,
            optimize=True,
            verbose=False,
        )
    model.config.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    written = {"onnx": str(output_dir / ONNX_FILE)}
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _without_preprocessing_advice():
            quantize_dynamic(output_dir / ONNX_FILE, output_dir / INT8_FILE, weight_type=QuantType.QInt8)
        written["onnx_int8"] = str(output_dir / INT8_FILE)
    if check:
        written["max_abs_diff"] = parity(model, LearOnnxForSpanExtraction.from_exported(output_dir), tokenizer)
    return written


class _PreprocessingAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _without_preprocessing_advice():
    """onnxruntime's quantizer advises, on the root logger and on every call, to run its pre-processing first (shape
    inference and graph optimisation, meant for static quantisation of vision models); the exported graph is already
    optimised by torch's exporter (`optimize=True`) and is quantised dynamically, so the advice only adds noise."""
    root, advice = logging.getLogger(), _PreprocessingAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def parity(model: LearPreTrainedModel, onnx_model: LearPreTrainedModel, tokenizer, texts=PARITY_TEXTS) -> float:
    """Largest absolute difference of two models' logits on `texts` (padded batch): start/end on real tokens, and for
    nested models the span logits on every cell the first model scored."""
    inputs = tokenizer(list(texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        expected, actual = model(**inputs), onnx_model(**inputs)
    mask = inputs["attention_mask"].bool()
    differences = [
        (getattr(actual, name)[mask] - getattr(expected, name)[mask]).abs().max().item() for name in OUTPUT_NAMES
    ]
    if expected.span_logits is not None:
        scored = expected.span_logits > torch.finfo(expected.span_logits.dtype).min
        if scored.any():
            differences.append((actual.span_logits[scored] - expected.span_logits[scored]).abs().max().item())
    return max(differences)


class LearOnnxForSpanExtraction(LearPreTrainedModel):
    """A LEAR model whose forward pass runs an exported ONNX graph with ONNX Runtime: same config, same outputs
    (`start_logits`, `end_logits` as torch tensors), same `decode`, so the span-extraction pipeline and `lear-predict`
    run it as they run the torch model. Inference only; CPU by default (`providers` picks others)."""

    def __init__(self, config: LearConfig, session=None):
        super().__init__(config)
        self.session = session
        # No weights of its own: this empty parameter answers `device` and `dtype`, which transformers reads off the
        # parameters (the pipeline asks for them).
        self.device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)

    @classmethod
    def from_exported(
        cls, exported_dir: str | Path, quantized: bool = False, providers: list[str] | None = None, threads: int = 0
    ) -> LearOnnxForSpanExtraction:
        """Load `export_onnx`'s folder: its config and `model.onnx` (`model_int8.onnx` when `quantized`).
        `threads` sets ONNX Runtime's intra-op threads (0: its default, one per core)."""
        import onnxruntime

        exported_dir = Path(exported_dir)
        path = exported_dir / (INT8_FILE if quantized else ONNX_FILE)
        if not path.is_file():
            hint = " (export with --quantize)" if quantized else ""
            raise FileNotFoundError(f"{path} not found: export the model with lear-export-onnx first{hint}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(
            str(path), options, providers=providers or ["CPUExecutionProvider"]
        )  # fmt: skip
        return cls(LearConfig.from_pretrained(exported_dir), session)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **unused: Any,
    ) -> LearSpanExtractionOutput:
        provided = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feed = {}
        for graph_input in self.session.get_inputs():
            value = provided.get(graph_input.name)
            if value is None:  # e.g. token_type_ids the tokenizer did not return: BERT's default, zeros
                value = (
                    torch.ones_like(input_ids) if graph_input.name == "attention_mask" else torch.zeros_like(input_ids)
                )
            feed[graph_input.name] = value.detach().cpu().numpy().astype(np.int64)
        names = [output.name for output in self.session.get_outputs()]
        outputs = dict(zip(names, self.session.run(names, feed)))
        return LearSpanExtractionOutput(**{name: torch.from_numpy(value) for name, value in outputs.items()})


def onnx_pipeline(exported_dir: str | Path, quantized: bool = False, **pipeline_kwargs: Any):
    """The span-extraction pipeline over an exported model (ONNX Runtime on CPU)."""
    from transformers import AutoTokenizer

    from .pipeline_lear import SpanExtractionPipeline

    model = LearOnnxForSpanExtraction.from_exported(exported_dir, quantized=quantized)
    tokenizer = AutoTokenizer.from_pretrained(exported_dir)
    return SpanExtractionPipeline(model=model, tokenizer=tokenizer, device="cpu", **pipeline_kwargs)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lear-export-onnx`."""
    parser = argparse.ArgumentParser(prog="lear-export-onnx", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="folder of a saved LEAR model, with its tokenizer")
    parser.add_argument("--output", required=True, help="folder to write model.onnx, config and tokenizer to")
    parser.add_argument("--quantize", action="store_true", help="also write model_int8.onnx (int8 dynamic)")
    args = parser.parse_args(argv)
    if not (Path(args.model) / "config.json").is_file():
        parser.error(f"--model {args.model}: no config.json there (a folder written by save_pretrained)")
    if Path(args.output).resolve() == Path(args.model).resolve():
        parser.error("--output must be another folder than --model (the config and tokenizer are written there)")
    try:
        written = export_onnx(args.model, args.output, quantize=args.quantize)
    except ValueError as error:
        print(f"lear-export-onnx: error: {error}", file=sys.stderr)
        return 1
    for name, value in written.items():
        print(f"{name}: {value}")
    return 0


__all__ = ["LearOnnxForSpanExtraction", "LearOnnxGraph", "export_onnx", "onnx_pipeline", "parity"]


if __name__ == "__main__":
    sys.exit(main())
