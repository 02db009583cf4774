# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""ONNX export of a LEAR model (flat or nested), and an ONNX Runtime-backed model the span-extraction pipeline runs.

    lear-export-onnx --model my-lear --output my-lear-onnx [--quantize [SCHEME]] [--calibration-data DATA]
    lear-predict --model my-lear-onnx --onnx --input texts.txt --output predictions.jsonl   # --onnx int8: quantised

or in Python:

    from lear.onnx_export import export_onnx, onnx_pipeline
    export_onnx("my-lear", "my-lear-onnx", quantize=True)  # or a scheme name: quantize="encoder-only"
    extractor = onnx_pipeline("my-lear-onnx")             # quantized=True for the int8 file
    extractor("Alice lives in Paris")

The graph takes `input_ids`, `attention_mask` (and `token_type_ids` where the encoder has them), with dynamic batch
and length, and returns `start_logits` and `end_logits` `[B, L, C]` (and `span_logits` for a nested model). The label descriptions' states do not depend on
the text, so they are computed once at export and stored in the graph as constants: the exported model reads no
label input, and changing labels means exporting again. Decoding (thresholds, span rules) stays in Python, shared
with the torch model (`decoding_lear.decode_spans`, which reads them from the config), so both return the same spans
from the same logits.

The exported folder holds `model.onnx`, `config.json` and the tokenizer; with `--quantize` also `model_int8.onnx` (int8
weights by `onnxruntime.quantization`, in one of `QUANTIZATION_SCHEMES`; `DEFAULT_SCHEME` for a bare `--quantize`) and
`quantization.json`, which records the scheme. A nested model's graph also returns its span logits `[B, L, L, C]`: the
candidate (start, end) cells are selected inside it, as the torch model selects them.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import random
import sys
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
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
    model_dir: str | Path,
    output_dir: str | Path,
    quantize: bool | str = False,
    check: bool = True,
    calibration_data: str | Path | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Export a saved LEAR model (with its tokenizer) to `output_dir`; returns what was written and the parity
    check: the largest absolute difference between torch's and ONNX Runtime's logits on `PARITY_TEXTS` (and the
    int8 graph's, `int8_max_abs_diff`).

    `quantize`: also write `model_int8.onnx`, with a scheme of `QUANTIZATION_SCHEMES` (`True`: `DEFAULT_SCHEME`).
    `calibration_data` (the "static" scheme's calibration sentences): a converted dataset folder (its train split),
    a text file (one sentence a line) or a list of texts."""
    from transformers import AutoTokenizer

    scheme = resolve_scheme(quantize)
    if scheme is not None and scheme.static and calibration_data is None:
        raise ValueError(missing_calibration_message(scheme.name))
    calibration = None if calibration_data is None else calibration_texts(calibration_data)
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
    if scheme is not None:
        record = quantize_onnx(output_dir / ONNX_FILE, output_dir / INT8_FILE, scheme, calibration, tokenizer)
        (output_dir / QUANTIZATION_FILE).write_text(json.dumps({"file": INT8_FILE, **record}, indent=2) + "\n")
        written["onnx_int8"] = str(output_dir / INT8_FILE)
        written["quantization"] = scheme.name
    if check:
        written["max_abs_diff"] = parity(model, LearOnnxForSpanExtraction.from_exported(output_dir), tokenizer)
        if scheme is not None:  # how far int8 moves the logits (no bound: that is what bench/onnx_speed.py measures)
            int8 = LearOnnxForSpanExtraction.from_exported(output_dir, quantized=True)
            written["int8_max_abs_diff"] = parity(model, int8, tokenizer)
    return written


@dataclass(frozen=True)
class QuantizationScheme:
    """How `model_int8.onnx` is made from `model.onnx` (int8 weights, `onnxruntime.quantization`).

    `static`: activations quantised with ranges calibrated on sentences (QDQ format), else per batch at run time
    (dynamic). `per_channel`: one weight scale per output column, else one per matrix. `encoder_only`: only the
    encoder's nodes are quantised; the fusion, the boundary classifiers and the heads (and the label states, which
    are constants of the graph) stay float."""

    name: str
    static: bool = False
    per_channel: bool = False
    encoder_only: bool = False
    description: str = ""


QUANTIZATION_SCHEMES = {
    scheme.name: scheme
    for scheme in (
        QuantizationScheme(
            "dynamic", description="every MatMul and the embeddings, weights per tensor, activations per batch"
        ),
        QuantizationScheme("dynamic-per-channel", per_channel=True, description="the same, weights per column"),
        QuantizationScheme(
            "encoder-only",
            per_channel=True,
            encoder_only=True,
            description="the encoder (MatMuls, embeddings), weights per column; fusion and heads float",
        ),
        QuantizationScheme(
            "static",
            static=True,
            per_channel=True,
            encoder_only=True,
            description="QDQ, activation ranges calibrated on training sentences; the encoder's MatMuls",
        ),
    )
}
DEFAULT_SCHEME = "dynamic-per-channel"  # bench/onnx_speed.py: the fastest scheme within 0.5 F1 of fp32 on CoNLL dev
CALIBRATION_SENTENCES = 300  # calibration sentences the static scheme samples from its data
ENCODER_SCOPE = "model.encoder"  # the encoder's module path inside LearOnnxGraph


def resolve_scheme(quantize: bool | str | QuantizationScheme | None) -> QuantizationScheme | None:
    """`export_onnx`'s `quantize` as a scheme: False/None none, True the default, a name its scheme."""
    if isinstance(quantize, QuantizationScheme):
        return quantize
    if quantize is None or quantize is False:
        return None
    if quantize is True:
        return QUANTIZATION_SCHEMES[DEFAULT_SCHEME]
    if isinstance(quantize, str) and quantize in QUANTIZATION_SCHEMES:
        return QUANTIZATION_SCHEMES[quantize]
    raise ValueError(
        f"unknown quantisation scheme {quantize!r}: choose one of {', '.join(QUANTIZATION_SCHEMES)} "
        f"(True: {DEFAULT_SCHEME})"
    )


def missing_calibration_message(scheme: str) -> str:
    return (
        f"quantisation scheme {scheme!r} calibrates on sentences: give calibration_data (lear-export-onnx "
        "--calibration-data: a converted dataset folder or a text file, one sentence a line)"
    )


def calibration_texts(
    source: str | Path | Sequence[str], limit: int = CALIBRATION_SENTENCES, seed: int = 0
) -> list[str]:
    """Up to `limit` non-empty calibration sentences (a seeded sample when there are more): from a list of texts, a
    text file (one a line) or a dataset folder written by `data_scripts` (`datasets.save_to_disk`; its train split,
    column `text`)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            import datasets

            data = datasets.load_from_disk(str(path))
            if isinstance(data, datasets.DatasetDict):
                if "train" not in data:
                    raise ValueError(f"calibration data {path}: no train split (splits: {', '.join(data)})")
                data = data["train"]
            if "text" not in data.column_names:
                raise ValueError(f"calibration data {path}: no 'text' column (columns: {data.column_names})")
            texts = list(data["text"])
        elif path.is_file():
            texts = path.read_text(encoding="utf-8").splitlines()
        else:
            raise ValueError(f"calibration data {path}: no such file or folder")
    else:
        texts = list(source)
    texts = [text for text in texts if text and text.strip()]
    if not texts:
        raise ValueError(f"calibration data {source}: no sentences")
    if len(texts) > limit:
        texts = random.Random(seed).sample(texts, limit)
    return texts


def node_scopes(model) -> dict[str, list[str]]:
    """Each node's module path in the exported graph (node name -> scopes, outermost first): torch's dynamo exporter
    records it in the node's `pkg.torch.onnx.name_scopes` metadata (node names themselves are generic,
    `node_MatMul_91`)."""
    scopes = {}
    for node in model.graph.node:
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.name_scopes":
                scopes[node.name] = list(ast.literal_eval(prop.value))
    return scopes


def non_encoder_nodes(model) -> list[str]:
    """Names of the nodes outside the encoder: the fusion, the classifiers and heads, and the graph's own glue."""
    scopes = node_scopes(model)
    if not scopes:
        raise ValueError("the ONNX graph records no module scopes: encoder-only quantisation needs a graph exported by "
                         "lear-export-onnx (torch's dynamo exporter)")  # fmt: skip
    inside = (ENCODER_SCOPE, ENCODER_SCOPE + ".")
    return [
        node.name
        for node in model.graph.node
        if not any(scope == inside[0] or scope.startswith(inside[1]) for scope in scopes.get(node.name, []))
    ]


def _batched_weight_nodes(graph, excluded: Sequence[str]) -> list[str]:
    """MatMul nodes (not in `excluded`) whose second input is a constant of more than two dimensions."""
    ranks = {tensor.name: len(tensor.dims) for tensor in graph.graph.initializer}
    return [
        node.name
        for node in graph.graph.node
        if node.op_type == "MatMul" and node.name not in excluded and ranks.get(node.input[1], 2) > 2
    ]


class _TokenizedCalibration:
    """`onnxruntime.quantization.CalibrationDataReader` over tokenized sentences (batches of `batch_size`, padded,
    truncated to the tokenizer's window), fed as the graph's inputs."""

    def __init__(self, tokenizer, texts: Sequence[str], input_names: Iterable[str], batch_size: int = 8):
        self.batches = []
        names = list(input_names)
        max_length = min(tokenizer.model_max_length, 512)
        for begin in range(0, len(texts), batch_size):
            encoded = tokenizer(
                list(texts[begin : begin + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="np",
            )
            feed = {}
            for name in names:
                value = encoded.get(name)
                feed[name] = (np.zeros_like(encoded["input_ids"]) if value is None else value).astype(np.int64)
            self.batches.append(feed)
        self.position = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.position >= len(self.batches):
            return None
        self.position += 1
        return self.batches[self.position - 1]

    def rewind(self) -> None:
        self.position = 0


def quantize_onnx(
    source: str | Path,
    target: str | Path,
    scheme: str | QuantizationScheme = DEFAULT_SCHEME,
    calibration: Sequence[str] | None = None,
    tokenizer=None,
) -> dict[str, Any]:
    """Write an int8 copy of the ONNX graph `source` to `target` with `scheme`; returns what to record (the scheme's
    settings, the nodes left float, the calibration size). The static scheme needs `calibration` texts and the
    `tokenizer`."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    scheme = resolve_scheme(scheme)
    if scheme is None:
        raise ValueError("quantize_onnx needs a scheme")
    source, target = Path(source), Path(target)
    graph = onnx.load(str(source), load_external_data=False)
    excluded = non_encoder_nodes(graph) if scheme.encoder_only else []
    record: dict[str, Any] = {**asdict(scheme), "scheme": scheme.name}
    record.pop("name")
    record["float_nodes"] = sorted(
        name for name in excluded if any(n.name == name and n.op_type in ("MatMul", "Gemm") for n in graph.graph.node)
    )
    with _without_preprocessing_advice():
        if not scheme.static:
            # ONNX Runtime's per-column zero points fit 2-D weights only: MatMuls with a batched (3-D) constant (the
            # fusion's label values) are quantised per tensor, in a second pass
            batched = _batched_weight_nodes(graph, excluded) if scheme.per_channel else []
            first = target.with_name(target.stem + ".per-channel.onnx") if batched else target
            quantize_dynamic(source, first, per_channel=scheme.per_channel, weight_type=QuantType.QInt8,
                             nodes_to_exclude=excluded + batched)  # fmt: skip
            if batched:
                try:
                    quantize_dynamic(first, target, weight_type=QuantType.QInt8, nodes_to_quantize=batched)
                finally:
                    first.unlink(missing_ok=True)
                record["per_tensor_nodes"] = sorted(batched)
            return record
        if not calibration or tokenizer is None:
            raise ValueError(missing_calibration_message(scheme.name))
        reader = _TokenizedCalibration(tokenizer, calibration, [value.name for value in graph.graph.input])
        quantize_static(
            source,
            target,
            reader,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            per_channel=scheme.per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
    record["calibration_sentences"] = len(calibration)
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
        "--quantize", nargs="?", const=DEFAULT_SCHEME, choices=list(QUANTIZATION_SCHEMES), metavar="SCHEME",
        help=f"also write model_int8.onnx, int8 with SCHEME (bare --quantize: {DEFAULT_SCHEME}): "
        + "; ".join(f"{name}: {scheme.description}" for name, scheme in QUANTIZATION_SCHEMES.items()),
    )  # fmt: skip
    parser.add_argument(
        "--calibration-data", "--calibration_data", dest="calibration_data", metavar="DATA",
        help=f"the static scheme's calibration sentences ({CALIBRATION_SENTENCES} sampled): a converted dataset "
        "folder (its train split) or a text file, one sentence a line",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not (Path(args.model) / "config.json").is_file():
        parser.error(f"--model {args.model}: no config.json there (a folder written by save_pretrained)")
    if Path(args.output).resolve() == Path(args.model).resolve():
        parser.error("--output must be another folder than --model (the config and tokenizer are written there)")
    if args.quantize and QUANTIZATION_SCHEMES[args.quantize].static and not args.calibration_data:
        parser.error(f"--quantize {args.quantize} calibrates on sentences: give --calibration-data (a converted "
                     "dataset folder or a text file, one sentence a line)")  # fmt: skip
    if args.calibration_data and not Path(args.calibration_data).exists():
        parser.error(f"--calibration-data {args.calibration_data}: no such file or folder")
    no_progress_bars_unless_terminal()
    try:
        written = export_onnx(args.model, args.output, quantize=args.quantize or False,
                              calibration_data=args.calibration_data)  # fmt: skip
    except ValueError as error:
        print(f"lear-export-onnx: error: {error}", file=sys.stderr)
        return 1
    for name, value in written.items():
        print(f"{name}: {value}")
    return 0


__all__ = [
    "DEFAULT_SCHEME",
    "QUANTIZATION_SCHEMES",
    "LearOnnxForSpanExtraction",
    "LearOnnxGraph",
    "QuantizationScheme",
    "export_onnx",
    "onnx_pipeline",
    "parity",
    "quantize_onnx",
]


if __name__ == "__main__":
    sys.exit(main())
