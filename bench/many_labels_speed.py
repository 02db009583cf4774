"""What many labels cost: pipeline-style inference with 10, 50 and 200 labels, LEAR against GLiNER, side by side.

Both models sit on the same encoder (all-MiniLM-L6-v2) and read the same texts (the first `--texts` MIT movie test
queries by default, the zero-shot setting). LEAR scores a call's labels from their descriptions
(`pipeline(..., labels={...})`): the descriptions are encoded once per label set and kept (`--cold` times calls that
encode them every time); the text is encoded once, whatever the number of labels, and only the fusion and the heads
grow with it. GLiNER's uni-encoder reads the labels inside its input (`<<ENT>> label ... <<SEP>> text`), so a label set
longer than its input allows is prompted in chunks of `--gliner_chunk` labels, each a pass of the encoder over the
text (`bench.gliner_zero_shot.predict_with_labels`, how the zero-shot benchmark scores it). Weights do not change the
cost: the models are fresh (LEAR with description classifiers) unless `--lear_model` / `--gliner_model` name trained
ones. Times are medians over interleaved rounds; ratios are per-round ratios' medians (`bench.common`).

    python -m bench.many_labels_speed --tag minilm

writes bench/results/many-labels-speed-<tag>.json.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import datasets
import torch
from transformers import AutoTokenizer, pipeline

import lear  # noqa: F401  (registers the span-extraction pipeline)
from bench.common import (
    RESULTS_DIR,
    check_result_name_free,
    interleaved_times,
    median,
    minilm_dir,
    now,
    paired_ratio,
    provenance,
    write_result,
)
from lear import LearForSpanExtraction


LABEL_COUNTS = (10, 50, 200)


def label_descriptions(pile_ner_dir: Path, count: int) -> dict[str, str]:
    """The first `count` Pile-NER labels with their definitions: a realistic mix of names and description lengths."""
    labels = json.loads((pile_ner_dir / "labels.json").read_text(encoding="utf-8"))
    return dict(list(labels.items())[:count])


def lear_timer(extractor, texts: list[str], labels: dict[str, str], cold: bool, batch_size: int):
    def run() -> dict[str, float]:
        if cold:
            extractor.reset_label_states()
        started = now()
        extractor(texts, labels=labels, batch_size=batch_size)
        return {"total": now() - started}

    return run


def gliner_timer(model, rows: datasets.Dataset, labels: dict[str, str], chunk: int, batch_size: int):
    from bench.gliner_zero_shot import predict_with_labels

    names = list(labels)
    # the zero-shot benchmark's evaluation settings (384-piece inputs, prompts within 384 - 128 pieces)
    settings = SimpleNamespace(max_length=384, window_pieces=128, max_labels=chunk, eval_batch_size=batch_size)

    def run() -> dict[str, float]:
        started = now()
        predict_with_labels(model, rows, names, {name: name for name in names}, settings, (0.5,))
        return {"total": now() - started}

    return run


def build_gliner(encoder: str, trained: str | None):
    from bench.gliner import build_model

    if trained:
        from gliner.model import UniEncoderSpanGLiNER

        return UniEncoderSpanGLiNER.from_pretrained(trained)
    return build_model(argparse.Namespace(encoder=encoder, max_width=12, hidden_size=512, dropout=0.4, max_length=384))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--texts_dir", type=Path, default=Path("outputs/data/mit_movie"), help="a converted corpus")
    parser.add_argument("--pile_ner_dir", type=Path, default=Path("outputs/data/pile_ner"), help="label source")
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--gliner_chunk", type=int, default=16, help="labels per GLiNER prompt")
    parser.add_argument("--lear_model", default=None, help="a trained LEAR checkpoint (default: fresh on MiniLM)")
    parser.add_argument("--gliner_model", default=None, help="a trained GLiNER folder (default: fresh on MiniLM)")
    parser.add_argument("--cold", action="store_true", help="LEAR encodes the descriptions in every call")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    path = check_result_name_free(RESULTS_DIR / f"many-labels-speed-{args.tag}.json")
    encoder = minilm_dir()
    rows = datasets.load_from_disk(str(args.texts_dir))["test"].select(range(args.texts))
    texts = list(rows["text"])
    tokenizer = AutoTokenizer.from_pretrained(args.lear_model or encoder)
    all_labels = label_descriptions(args.pile_ner_dir, max(LABEL_COUNTS))
    if args.lear_model:
        model = LearForSpanExtraction.from_pretrained(args.lear_model)
    else:
        model = LearForSpanExtraction.from_encoder(encoder, labels=dict(list(all_labels.items())[:4]),
                                                   tokenizer=tokenizer, boundary_classifier="description")  # fmt: skip
    extractor = pipeline("span-extraction", model=model.eval(), tokenizer=tokenizer, device="cpu")
    gliner = build_gliner(encoder, args.gliner_model).eval()
    rows_by_count = {}
    with torch.no_grad():
        variants = {}
        for count in LABEL_COUNTS:
            labels = dict(list(all_labels.items())[:count])
            variants[f"lear-{count}"] = lear_timer(extractor, texts, labels, args.cold, args.batch_size)
            variants[f"gliner-{count}"] = gliner_timer(gliner, rows, labels, args.gliner_chunk, args.batch_size)
        samples = interleaved_times(variants, args.repeats, warmup=1, min_seconds=0.0)
    for count in LABEL_COUNTS:
        lear_times, gliner_times = samples[f"lear-{count}"]["total"], samples[f"gliner-{count}"]["total"]
        rows_by_count[str(count)] = {
            "lear_texts_per_second": len(texts) / median(lear_times),
            "gliner_texts_per_second": len(texts) / median(gliner_times),
            "gliner_time_over_lear": paired_ratio(gliner_times, lear_times),
            "lear_seconds": lear_times,
            "gliner_seconds": gliner_times,
        }
        print(f"{count:>4} labels: LEAR {rows_by_count[str(count)]['lear_texts_per_second']:7.1f} texts/s, GLiNER "
              f"{rows_by_count[str(count)]['gliner_texts_per_second']:7.1f} texts/s, GLiNER/LEAR time "
              f"{rows_by_count[str(count)]['gliner_time_over_lear']:.2f}x")  # fmt: skip
    result = {
        "encoder": encoder,
        "texts": len(texts),
        "texts_dir": str(args.texts_dir),
        "batch_size": args.batch_size,
        "gliner_chunk": args.gliner_chunk,
        "lear_label_states": "encoded in every call" if args.cold else "encoded once per label set (cached)",
        "threads": args.threads,
        "by_label_count": rows_by_count,
        **provenance("bench.many_labels_speed", argv),
    }
    write_result(path, result)


if __name__ == "__main__":
    main()
