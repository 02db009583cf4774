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
with the torch model (`decoding_lear.decode_spans`, which reads them from the config), so both return the same spans
from the same logits.

The exported folder holds `model.onnx`, `config.json` and the tokenizer; with `--quantize` also `model_int8.onnx` (int8
weights by `onnxruntime.quantization`, `quantize_onnx`) and `quantization.json`, which records how. A nested model's graph also returns its span logits `[B, L, L, C]`: the
candidate (start, end) cells are selected inside it, as the torch model selects them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .configuration_lear import LearConfig
from .console import no_progress_bars_unless_terminal
from .modeling_lear import LearForSpanExtraction, LearLabelStates, LearPreTrainedModel, LearSpanExtractionOutput


ONNX_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
QUANTIZATION_FILE = "quantization.json"  # the scheme model_int8.onnx was written with
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
        self.register_buffer("label_pooled", states.pooled, persistent=False)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, ...]:
        text_hidden = self.model.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state  # [B, L, H]
        labels = LearLabelStates(self.label_keys, self.label_values, self.label_mask_bias, self.label_pooled)
        start_logits, end_logits, fused = self.model.boundary_logits(text_hidden, labels)  # [B, L, C] each
        if self.model.nested_head is None:
            return start_logits, end_logits
        _, _, span_logits = self.model.score_spans(fused, start_logits, end_logits, attention_mask, labels=labels)
        return start_logits, end_logits, span_logits  # span: [B, L, L, C]


def export_onnx(
    model_dir: str | Path, output_dir: str | Path, quantize: bool = False, check: bool = True
) -> dict[str, Any]:
    """Export a saved LEAR model (with its tokenizer) to `output_dir`; returns what was written and the parity
    check: the largest absolute difference between torch's and ONNX Runtime's logits on `PARITY_TEXTS` (and the
    int8 graph's, `int8_max_abs_diff`). `quantize`: also write `model_int8.onnx` (`quantize_onnx`)."""
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
    for stale in (INT8_FILE, QUANTIZATION_FILE):  # an earlier export's int8 graph is not this model's
        (output_dir / stale).unlink(missing_ok=True)
    if quantize:
        record = quantize_onnx(output_dir / ONNX_FILE, output_dir / INT8_FILE)
        (output_dir / QUANTIZATION_FILE).write_text(json.dumps({"file": INT8_FILE, **record}, indent=2) + "\n")
        written["onnx_int8"] = str(output_dir / INT8_FILE)
        written["quantization"] = record["scheme"]
    if check:
        written["max_abs_diff"] = parity(model, LearOnnxForSpanExtraction.from_exported(output_dir), tokenizer)
        if quantize:  # how far int8 moves the logits (no bound: that is what bench/onnx_speed.py measures)
            int8 = LearOnnxForSpanExtraction.from_exported(output_dir, quantized=True)
            written["int8_max_abs_diff"] = parity(model, int8, tokenizer)
    return written


# bench/onnx_speed.py compares onnxruntime's int8 schemes on CoNLL-2003 dev (bench/results/onnx-conll2003.json): this
# one, dynamic activations with per-column weight scales, was the fastest within 0.5 F1 of fp32 (per-tensor scales
# lost 1.2 F1, static calibrated activations 2.9 and were slower, leaving the fusion and heads float changed nothing).
QUANTIZATION_SCHEME = "dynamic-per-channel"


def _batched_weight_nodes(graph, excluded: Sequence[str]) -> list[str]:
    """MatMul nodes (not in `excluded`) whose second input is a constant of more than two dimensions."""
    ranks = {tensor.name: len(tensor.dims) for tensor in graph.graph.initializer}
    return [
        node.name
        for node in graph.graph.node
        if node.op_type == "MatMul" and node.name not in excluded and ranks.get(node.input[1], 2) > 2
    ]


def float_matmul_nodes(graph, float_nodes: Sequence[str]) -> list[str]:
    """The MatMul and Gemm nodes among `float_nodes` (the layers a record lists as left float), sorted."""
    kept = set(float_nodes)
    return sorted(node.name for node in graph.graph.node if node.name in kept and node.op_type in ("MatMul", "Gemm"))


def quantize_onnx(
    source: str | Path, target: str | Path, per_channel: bool = True, float_nodes: Sequence[str] = ()
) -> dict[str, Any]:
    """Write an int8 copy of the ONNX graph `source` to `target` (onnxruntime's dynamic quantisation: int8 weights,
    one scale per output column with `per_channel`, activations quantised per batch at run time; `float_nodes` stay
    float). Returns what `quantization.json` records."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = Path(source), Path(target)
    graph = onnx.load(str(source), load_external_data=False)
    record: dict[str, Any] = {"scheme": QUANTIZATION_SCHEME if per_channel else "dynamic", "per_channel": per_channel}
    if float_nodes:
        record["float_nodes"] = float_matmul_nodes(graph, float_nodes)
    # ONNX Runtime's per-column zero points fit 2-D weights only: MatMuls with a batched (3-D) constant (the fusion's
    # label values) are quantised per tensor, in a second pass
    batched = _batched_weight_nodes(graph, float_nodes) if per_channel else []
    first = target.with_name(target.stem + ".per-channel.onnx") if batched else target
    with _without_preprocessing_advice():
        quantize_dynamic(source, first, per_channel=per_channel, weight_type=QuantType.QInt8,
                         nodes_to_exclude=list(float_nodes) + batched)  # fmt: skip
        if batched:
            try:
                quantize_dynamic(first, target, weight_type=QuantType.QInt8, nodes_to_quantize=batched)
            finally:
                first.unlink(missing_ok=True)
            record["per_tensor_nodes"] = sorted(batched)
    return record


class _PreprocessingAdvice(logging.Filter):
    NOISE = ("pre-processing before quantization", "check if the model is already quantized")

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(noise in record.getMessage() for noise in self.NOISE)


@contextmanager
def _without_preprocessing_advice():
    """onnxruntime's quantizer advises, on the root logger and on every call, to run its pre-processing first (shape
    inference and graph optimisation, meant for static quantisation of vision models); the exported graph is already
    optimised by torch's exporter (`optimize=True`) and is quantised dynamically, so the advice only adds noise.
    Likewise its warning that a model "may already be quantized", raised by the per-channel scheme's second pass."""
    root, advice = logging.getLogger(), _PreprocessingAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def parity(model: LearPreTrainedModel, onnx_model: LearOnnxForSpanExtraction, tokenizer, texts=PARITY_TEXTS) -> float:
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


class LearOnnxForSpanExtraction(nn.Module):
    """An exported LEAR graph run with ONNX Runtime behind the torch model's call: its `config` (the LEAR config saved
    with the export) and `forward(input_ids, attention_mask, token_type_ids)` returning `LearSpanExtractionOutput`
    (torch tensors). The span-extraction pipeline decodes from `config` (`decoding_lear.decode_spans`), so it and
    `lear-predict` run this as they run the torch model. Inference only; CPU by default (`providers` picks others).

    A plain module, not a `PreTrainedModel`: it has no weights, and what it lacks (`save_pretrained`, `set_labels`,
    `compute_label_states`) belongs to the torch model, whose label states the graph holds as constants."""

    # What transformers' `Pipeline.__init__` reads off a model besides `config`: `device` (the model is moved with
    # `.to()`, a no-op here, where it differs from the pipeline's) and `dtype` (`Pipeline.dtype`). ONNX Runtime takes
    # and returns CPU arrays whatever provider runs the graph.
    device = torch.device("cpu")
    dtype = torch.float32

    def __init__(self, config: LearConfig, session=None):
        super().__init__()
        self.config = config
        self.session = session
        self.quantization: dict[str, Any] | None = None

    @classmethod
    def from_exported(
        cls,
        exported_dir: str | Path,
        quantized: bool = False,
        providers: list[str] | None = None,
        threads: int = 0,
        file: str | None = None,
    ) -> LearOnnxForSpanExtraction:
        """Load `export_onnx`'s folder: its config and `model.onnx` (`model_int8.onnx` when `quantized`; `file`: another
        graph file of the folder). `threads` sets ONNX Runtime's intra-op threads (0: its default, one per core).
        `quantization` on the model is the int8 file's record (`quantization.json`: its scheme), or None."""
        import onnxruntime

        exported_dir = Path(exported_dir)
        path = exported_dir / (file or (INT8_FILE if quantized else ONNX_FILE))
        if not path.is_file():
            hint = " (export with --quantize)" if quantized else ""
            raise FileNotFoundError(f"{path} not found: export the model with lear-export-onnx first{hint}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(
            str(path), options, providers=providers or ["CPUExecutionProvider"]
        )  # fmt: skip
        model = cls(LearConfig.from_pretrained(exported_dir), session)
        record = exported_dir / QUANTIZATION_FILE
        if path.name == INT8_FILE and record.is_file():
            model.quantization = json.loads(record.read_text())
        return model

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
    parser.add_argument(
        "--quantize", action="store_true",
        help=f"also write model_int8.onnx: int8 weights ({QUANTIZATION_SCHEME}: one scale per output column, "
        "activations quantised per batch at run time)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not (Path(args.model) / "config.json").is_file():
        parser.error(f"--model {args.model}: no config.json there (a folder written by save_pretrained)")
    if Path(args.output).resolve() == Path(args.model).resolve():
        parser.error("--output must be another folder than --model (the config and tokenizer are written there)")
    no_progress_bars_unless_terminal()
    try:
        written = export_onnx(args.model, args.output, quantize=args.quantize)
    except ValueError as error:
        print(f"lear-export-onnx: error: {error}", file=sys.stderr)
        return 1
    for name, value in written.items():
        print(f"{name}: {value}")
    return 0


__all__ = [
    "QUANTIZATION_SCHEME",
    "LearOnnxForSpanExtraction",
    "LearOnnxGraph",
    "export_onnx",
    "onnx_pipeline",
    "parity",
    "quantize_onnx",
]


if __name__ == "__main__":
    sys.exit(main())
