"""CPU inference of one trained LEAR model side by side: torch, ONNX Runtime (fp32) and ONNX Runtime on an int8 copy
of the graph in each of `VARIANTS`: onnxruntime's dynamic quantisation with weight scales per matrix or per output
column, the encoder alone (fusion and heads float), and static activation ranges calibrated on sentences. The
package ships the one this picked (`lear.onnx_export.QUANTIZATION_SCHEME`, `lear-export-onnx --quantize`).
Reports sentences per second through the span-extraction pipeline (the same windowing, batching and decoding for all:
only the forward pass differs) and the F1 each reaches on the CoNLL-2003 validation split (raw text, exact character
spans), then names the scheme the rule picks: the fastest int8 scheme within `--max-f1-drop` points of fp32 (the
closest in F1 when none is).

Speed: every round times each backend on the same sentences, in rotating order (`bench.common.interleaved_times`),
so a slow patch of a shared machine hits all of them; ratios are medians of per-round ratios. All backends get the
same thread count. The static scheme calibrates on `CALIBRATION_SENTENCES` sentences sampled from the training split.

    python -m bench.onnx_speed --model outputs/demo --threads 1
"""

from __future__ import annotations

import argparse
import ast
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from transformers import AutoTokenizer

from bench.common import (
    REPO_ROOT,
    RESULTS_DIR,
    check_result_name_free,
    git_commit,
    interleaved_times,
    median,
    metadata_line,
    paired_ratio,
    paired_ratio_quartiles,
    run_metadata,
    write_result,
)
from bench.quality import converted_corpus
from lear import LearForSpanExtraction, SpanExtractionPipeline
from lear.metrics import span_scores
from lear.onnx_export import (
    QUANTIZATION_SCHEME,
    LearOnnxForSpanExtraction,
    export_onnx,
    float_matmul_nodes,
    quantize_onnx,
)


CALIBRATION_SENTENCES = 300  # calibration sentences the static variant samples from the training split
ENCODER_SCOPE = "model.encoder"  # the encoder's module path inside lear.onnx_export.LearOnnxGraph


@dataclass(frozen=True)
class Variant:
    """An int8 copy of the graph. `static`: activations quantised with ranges calibrated on sentences (QDQ format),
    else per batch at run time. `per_channel`: one weight scale per output column, else one per matrix.
    `encoder_only`: only the encoder's nodes are quantised; the fusion, classifiers and heads stay float."""

    name: str
    per_channel: bool = False
    encoder_only: bool = False
    static: bool = False


VARIANTS = {
    variant.name: variant
    for variant in (
        Variant("dynamic"),
        Variant(QUANTIZATION_SCHEME, per_channel=True),
        Variant("encoder-only", per_channel=True, encoder_only=True),
        Variant("static", per_channel=True, encoder_only=True, static=True),
        Variant("encoder-only-per-tensor", encoder_only=True),
    )
}


def calibration_texts(corpus: Path, limit: int = CALIBRATION_SENTENCES, seed: int = 0) -> list[str]:
    """`limit` non-empty sentences sampled (seeded) from a converted corpus's train split."""
    texts = [text for text in datasets.load_from_disk(str(corpus))["train"]["text"] if text.strip()]
    return random.Random(seed).sample(texts, min(limit, len(texts)))


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


def quantize_variant(source: Path, target: Path, variant: Variant, calibration: list[str], tokenizer) -> dict:
    """`variant` of the graph `source` written to `target`; returns its record."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    graph = onnx.load(str(source), load_external_data=False) if variant.encoder_only or variant.static else None
    float_nodes = non_encoder_nodes(graph) if variant.encoder_only else []
    if not variant.static:
        return {**quantize_onnx(source, target, variant.per_channel, float_nodes), "scheme": variant.name}
    reader = _TokenizedCalibration(tokenizer, calibration, [value.name for value in graph.graph.input])
    quantize_static(source, target, reader, quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
                    per_channel=variant.per_channel, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    nodes_to_exclude=float_nodes, extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})  # fmt: skip
    return {
        "scheme": variant.name,
        "float_nodes": float_matmul_nodes(graph, float_nodes),
        "calibration_sentences": len(calibration),
    }


def int8_file(name: str) -> str:
    return f"model_int8-{name}.onnx"


def build_int8_files(exported_dir: Path, names: list[str], tokenizer, calibration: list[str]) -> dict[str, dict]:
    """One int8 graph per variant next to the fp32 one; returns each variant's record and quantisation time."""
    records = {}
    for name in names:
        started = time.perf_counter()
        record = quantize_variant(exported_dir / "model.onnx", exported_dir / int8_file(name), VARIANTS[name],
                                  calibration, tokenizer)  # fmt: skip
        records[name] = {**record, "seconds": time.perf_counter() - started}
    return records


def build_pipelines(model_dir: Path, exported_dir: Path, names: list[str], threads: int, batch_size: int) -> dict:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    models = {
        "torch": LearForSpanExtraction.from_pretrained(model_dir).eval(),
        "onnxruntime": LearOnnxForSpanExtraction.from_exported(exported_dir, threads=threads),
    }
    for name in names:
        models[f"int8 {name}"] = LearOnnxForSpanExtraction.from_exported(
            exported_dir, threads=threads, file=int8_file(name)
        )
    return {
        name: SpanExtractionPipeline(model=model, tokenizer=tokenizer, device="cpu", batch_size=batch_size)
        for name, model in models.items()
    }


def as_spans(entities: list[dict]) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["entity_group"]) for e in entities]


def pick_scheme(f1: dict[str, float], speedup: dict[str, float], max_drop: float) -> tuple[str, str]:
    """The rule: among the variants, the fastest whose F1 is within `max_drop` points of fp32 ONNX; when none is, the
    closest in F1. Returns the variant and the reason in words."""
    baseline = f1["onnxruntime"]
    schemes = [name for name in VARIANTS if f"int8 {name}" in f1]
    within = [name for name in schemes if 100 * (baseline - f1[f"int8 {name}"]) <= max_drop]
    if within:
        best = max(within, key=lambda name: speedup[f"int8 {name}"])
        return best, f"fastest of the schemes within {max_drop} F1 of fp32 ({', '.join(within)})"
    best = max(schemes, key=lambda name: f1[f"int8 {name}"])
    return best, f"no scheme is within {max_drop} F1 of fp32: the closest in F1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "outputs" / "demo", help="a trained flat LEAR model")
    parser.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime intra-op threads")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--timed-sentences", type=int, default=256, help="validation sentences per timed call")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="int8 variants to compare (default: all)")  # fmt: skip
    parser.add_argument("--max-f1-drop", type=float, default=0.5, help="F1 points below fp32 the rule accepts")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "onnx-conll2003.json")
    args = parser.parse_args()
    check_result_name_free(args.output, "another --output")
    torch.set_num_threads(args.threads)

    corpus = converted_corpus("conll2003")
    exported_dir = REPO_ROOT / "outputs" / "bench" / "onnx" / args.model.name
    started = time.perf_counter()
    written = export_onnx(args.model, exported_dir)
    export_seconds = time.perf_counter() - started
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    calibration = calibration_texts(corpus)
    quantization = build_int8_files(exported_dir, args.variants, tokenizer, calibration)
    pipelines = build_pipelines(args.model, exported_dir, args.variants, args.threads, args.batch_size)
    backends = list(pipelines)

    validation = datasets.load_from_disk(str(corpus))["validation"]
    texts = list(validation["text"])
    gold = [[(e["start"], e["end"], e["label"]) for e in entities] for entities in validation["entities"]]
    predictions = {}
    for name, extractor in pipelines.items():
        begin = time.perf_counter()
        predictions[name] = [as_spans(entities) for entities in extractor(texts)]
        print(f"{name}: validation predicted in {time.perf_counter() - begin:.0f} s", flush=True)
    quality = {name: span_scores(gold, predicted) for name, predicted in predictions.items()}
    agreement = {
        name: sum(a == b for a, b in zip(predictions["torch"][:500], predicted[:500])) / 500
        for name, predicted in predictions.items()
    }

    timed = texts[: args.timed_sentences]

    def timer(extractor):
        def run_once() -> dict[str, float]:
            begin = time.perf_counter()
            extractor(timed)
            return {"total": time.perf_counter() - begin}

        return run_once

    samples = interleaved_times({name: timer(p) for name, p in pipelines.items()}, repeats=args.rounds, warmup=1)
    seconds = {name: samples[name]["total"] for name in backends}
    speed = {name: len(timed) / median(values) for name, values in seconds.items()}
    speedup = {name: paired_ratio(seconds["torch"], seconds[name]) for name in backends}
    f1 = {name: scores["f1"] for name, scores in quality.items()}
    chosen, reason = pick_scheme(f1, speedup, args.max_f1_drop)
    megabytes = {
        "onnxruntime": sum(p.stat().st_size for p in exported_dir.glob("model.onnx*")) / 2**20,
        **{f"int8 {name}": (exported_dir / int8_file(name)).stat().st_size / 2**20 for name in args.variants},
    }
    result = {
        "model": str(args.model),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "validation_sentences": len(texts),
        "timed_sentences": len(timed),
        "rounds": args.rounds,
        "backends": backends,
        "sentences_per_second": speed,
        "speedup_vs_torch": speedup,
        "speedup_vs_torch_quartiles": {
            name: paired_ratio_quartiles(seconds["torch"], seconds[name]) for name in backends
        },
        "validation_f1": f1,
        "f1_change_vs_fp32_points": {name: 100 * (f1[name] - f1["onnxruntime"]) for name in backends},
        "validation_scores": quality,
        "same_spans_as_torch_first_500": agreement,
        "chosen_scheme": chosen,
        "chosen_because": reason,
        "default_scheme_in_code": QUANTIZATION_SCHEME,
        "max_f1_drop": args.max_f1_drop,
        "quantization": quantization,
        "calibration_sentences": len(calibration),
        "export_max_abs_diff": written["max_abs_diff"],
        "export_seconds": export_seconds,
        "onnx_megabytes": megabytes,
        "command": f"python -m bench.onnx_speed --model {args.model} --threads {args.threads} --batch-size "
        f"{args.batch_size} --timed-sentences {args.timed_sentences} --rounds {args.rounds}"
        + (f" --variants {' '.join(args.variants)}" if args.variants != list(VARIANTS) else ""),
        "commit": git_commit(),
        "machine": metadata_line(run_metadata()),
    }
    write_result(args.output, result, "another --output")
    print(
        f"{'backend':<30} {'dev F1':>7} {'vs fp32':>8} {'sent/s':>7} {'x torch [quartiles]':>22} {'same':>6} {'MB':>5}"
    )
    for name in backends:
        low, _, high = result["speedup_vs_torch_quartiles"][name]
        print(
            f"{name:<30} {100 * f1[name]:>7.2f} {result['f1_change_vs_fp32_points'][name]:>+8.2f} {speed[name]:>7.1f} "
            f"{speedup[name]:>6.2f} [{low:.2f}, {high:.2f}]{'':>6} {100 * agreement[name]:>5.1f}% "
            f"{megabytes.get(name, float('nan')):>5.0f}"
        )
    print(f"chosen: {chosen} ({reason}); QUANTIZATION_SCHEME in lear/onnx_export.py: {QUANTIZATION_SCHEME}")


if __name__ == "__main__":
    main()
