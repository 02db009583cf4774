"""CPU inference of one trained LEAR model three ways, side by side: torch, ONNX Runtime (fp32) and ONNX Runtime with
int8 dynamically quantised weights. Reports sentences per second through the span-extraction pipeline (the same
windowing, batching and decoding for all three: only the forward pass differs) and the F1 each reaches on the
CoNLL-2003 validation split (raw text, exact character spans).

Speed: every round times each backend on the same sentences, in rotating order (`bench.common.interleaved_times`),
so a slow patch of a shared machine hits all three; ratios are medians of per-round ratios. All backends get the same
thread count.

    python -m bench.onnx_speed --model outputs/demo --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import datasets
import torch
from transformers import AutoTokenizer

from bench.common import (
    REPO_ROOT,
    git_commit,
    interleaved_times,
    median,
    metadata_line,
    paired_ratio,
    paired_ratio_quartiles,
    run_metadata,
)
from bench.quality import converted_corpus
from lear import LearForSpanExtraction, SpanExtractionPipeline
from lear.metrics import span_scores
from lear.onnx_export import LearOnnxForSpanExtraction, export_onnx


BACKENDS = ("torch", "onnxruntime", "onnxruntime-int8")


def build_pipelines(model_dir: Path, exported_dir: Path, threads: int, batch_size: int) -> dict:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    models = {
        "torch": LearForSpanExtraction.from_pretrained(model_dir).eval(),
        "onnxruntime": LearOnnxForSpanExtraction.from_exported(exported_dir, threads=threads),
        "onnxruntime-int8": LearOnnxForSpanExtraction.from_exported(exported_dir, quantized=True, threads=threads),
    }
    return {
        name: SpanExtractionPipeline(model=model, tokenizer=tokenizer, device="cpu", batch_size=batch_size)
        for name, model in models.items()
    }


def as_spans(entities: list[dict]) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["entity_group"]) for e in entities]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "outputs" / "demo", help="a trained flat LEAR model")
    parser.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime intra-op threads")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--timed-sentences", type=int, default=256, help="validation sentences per timed call")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "results" / "onnx-conll2003.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    exported_dir = REPO_ROOT / "outputs" / "bench" / "onnx" / args.model.name
    started = time.perf_counter()
    written = export_onnx(args.model, exported_dir, quantize=True)
    export_seconds = time.perf_counter() - started
    pipelines = build_pipelines(args.model, exported_dir, args.threads, args.batch_size)

    validation = datasets.load_from_disk(str(converted_corpus("conll2003")))["validation"]
    texts = list(validation["text"])
    gold = [[(e["start"], e["end"], e["label"]) for e in entities] for entities in validation["entities"]]
    predictions = {name: [as_spans(entities) for entities in extractor(texts)] for name, extractor in pipelines.items()}
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
    seconds = {name: samples[name]["total"] for name in BACKENDS}
    speed = {name: len(timed) / median(values) for name, values in seconds.items()}
    result = {
        "model": str(args.model),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "validation_sentences": len(texts),
        "timed_sentences": len(timed),
        "rounds": args.rounds,
        "sentences_per_second": speed,
        "speedup_vs_torch": {name: paired_ratio(seconds["torch"], seconds[name]) for name in BACKENDS},
        "speedup_vs_torch_quartiles": {
            name: paired_ratio_quartiles(seconds["torch"], seconds[name]) for name in BACKENDS
        },
        "validation_f1": {name: scores["f1"] for name, scores in quality.items()},
        "validation_scores": quality,
        "same_spans_as_torch_first_500": agreement,
        "export_max_abs_diff": written["max_abs_diff"],
        "export_seconds": export_seconds,
        "onnx_megabytes": {
            "fp32": sum(p.stat().st_size for p in exported_dir.glob("model.onnx*")) / 2**20,
            "int8": (exported_dir / "model_int8.onnx").stat().st_size / 2**20,
        },
        "command": f"python -m bench.onnx_speed --model {args.model} --threads {args.threads} --batch-size "
        f"{args.batch_size} --timed-sentences {args.timed_sentences} --rounds {args.rounds}",
        "commit": git_commit(),
        "machine": metadata_line(run_metadata()),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'backend':<18} {'sentences/s':>12} {'x torch':>8} {'dev F1':>8} {'same spans':>11}")
    for name in BACKENDS:
        print(
            f"{name:<18} {speed[name]:>12.1f} {result['speedup_vs_torch'][name]:>8.2f} "
            f"{100 * quality[name]['f1']:>8.2f} {100 * agreement[name]:>10.1f}%"
        )


if __name__ == "__main__":
    main()
