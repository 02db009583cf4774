"""Throughput and memory of LEAR against a BIO tagger and an MRC baseline, side by side in one run.

For each encoder, label count C and text length L, the three variants (see `bench/models.py`) get the same batch
(B sentences of exactly L tokens) and are timed interleaved: inference (forward + decode) and one training step.
Ratios are medians over rounds of per-round ratios (the variants of one round run back to back), since absolute
numbers move with the (shared) machine's load; times and sentences/s are per-variant medians. Peak memory is
measured per variant in a fresh subprocess (peak RSS above the RSS of the loaded model; see `measure_memory`).
`--nested` measures the nested LEAR model's time and memory as L grows, against the `[B, L, L, C, 2H]` tensor the
original implementation builds.

Examples::

    python -m bench.throughput --quick                      # 1-2 minute smoke run
    python -m bench.throughput --encoders minilm tiny       # full grid (long: run it with nohup)
    python -m bench.throughput --nested-only                # nested scaling only
    python -m bench.throughput --profile minilm 18 128      # torch.profiler tables for LEAR at one point
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from transformers import AutoTokenizer
from transformers.utils import logging as hf_logging

from bench.common import (
    IMG_DIR,
    LABEL_SETS,
    MALLOC_ENV,
    OUTPUT_DIR,
    REPO_ROOT,
    check_result_name_free,
    current_rss_mb,
    encoder_dir,
    interleaved_times,
    median,
    metadata_line,
    now,
    paired_ratio,
    paired_ratio_quartiles,
    peak_rss_mb,
    pyplot,
    release_free_memory,
    reset_peak_rss,
    run_metadata,
    save_figure,
    synthetic_batch,
    write_result,
)
from bench.models import VARIANTS, build_model, inference_timer, training_timer


INFERENCE_SPEED_TARGET = 0.85  # LEAR sentences/s >= 0.85 x the tagger's
MRC_SPEED_TARGET = 0.8  # LEAR sentences/s >= 0.8 x C x the MRC baseline's
TRAINING_TIME_TARGET = 1.5  # LEAR training step <= 1.5 x the tagger's


# ---------------------------------------------------------------------------------------------------------------------
# Speed: the three variants in one process, interleaved
# ---------------------------------------------------------------------------------------------------------------------


def measure_speed(encoder: str, num_labels: int, lengths: Sequence[int], args: argparse.Namespace) -> list[dict]:
    """Inference and training times of every variant for one (encoder, C), at every length."""
    path = encoder_dir(encoder)
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = LABEL_SETS[num_labels]
    models = {variant: build_model(variant, path, labels, tokenizer) for variant in args.variants}
    caps = {"mrc": args.mrc_repeats}
    records = []
    for length in lengths:
        batch = synthetic_batch(tokenizer, args.batch_size, length, num_labels)
        boundary_rate = None
        if "lear" in models and args.boundary_rate > 0:
            boundary_rate = calibrate_boundary_rate(models["lear"], batch, args.boundary_rate)
        inference = interleaved_times(
            {v: inference_timer(v, m, batch) for v, m in models.items()}, args.repeats, max_repeats=caps
        )
        training = {}
        if not args.skip_training:
            trained = {v: m for v, m in models.items() if train_mrc(v, num_labels, args)}
            training = interleaved_times(
                {v: training_timer(v, m, batch) for v, m in trained.items()}, args.repeats, max_repeats=caps
            )
        record = {"encoder": encoder, "num_labels": num_labels, "length": length, "batch_size": args.batch_size}
        record["boundary_rate"] = boundary_rate
        for variant in models:
            record[f"{variant}_infer_samples"] = inference[variant]["total"]
            record[f"{variant}_infer_s"] = median(inference[variant]["total"])
            record[f"{variant}_decode_s"] = median(inference[variant]["decode"])
            record[f"{variant}_infer_rounds"] = len(inference[variant]["total"])
            if variant in training:
                record[f"{variant}_train_samples"] = training[variant]["total"]
                record[f"{variant}_train_s"] = median(training[variant]["total"])
                record[f"{variant}_train_rounds"] = len(training[variant]["total"])
        for other in ("tagger", "mrc"):
            if other in models and "lear" in models:
                # speed ratio LEAR/other = other's time / LEAR's time, paired by round
                record[f"lear_vs_{other}_infer_speed"] = paired_ratio(
                    inference[other]["total"], inference["lear"]["total"]
                )
                if other in training:
                    record[f"lear_vs_{other}_train_time"] = paired_ratio(
                        training["lear"]["total"], training[other]["total"]
                    )
        records.append(record)
        print(f"  speed {encoder} C={num_labels} L={length}: " + _speed_summary(record), flush=True)
    return records


def train_mrc(variant: str, num_labels: int, args: argparse.Namespace) -> bool:
    """Whether to time this variant's training step: the MRC baseline's step is C encoder passes with gradients,
    so at large C it is skipped (`--mrc-train-max-labels`) to keep the grid's wall time bounded."""
    return variant != "mrc" or num_labels <= args.mrc_train_max_labels


def _speed_summary(record: Mapping) -> str:
    parts = [f"{k}={v:.4f}" for k, v in record.items() if k.endswith(("_infer_s", "_train_s"))]
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------------------------------
# Memory: one fresh subprocess per variant
# ---------------------------------------------------------------------------------------------------------------------


def memory_worker(spec: Mapping) -> dict:
    """Runs inside the subprocess: load the model, then peak RSS over inference, then over training steps.

    The peak-RSS mark is reset after loading and one tiny warm-up call (`reset_peak_rss`), so each peak is that of
    the phase alone; we report it minus the RSS before the phase ("working memory": activations, decode buffers,
    and for training also gradients and AdamW states). The subprocess runs with a fixed glibc mmap threshold
    (`MALLOC_ENV`), so freed tensors leave the resident set at once. Inference runs first: memory it freed but the allocator kept counts as
    resident during training too, which can only overstate the training peak, never understate it.
    """
    torch.manual_seed(0)
    path = encoder_dir(spec["encoder"])
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = LABEL_SETS[spec["num_labels"]]
    lear_kwargs = {"nested": True} if spec.get("nested") else {}
    model = build_model(spec["variant"], path, labels, tokenizer, **lear_kwargs)
    batch = synthetic_batch(
        tokenizer, spec["batch_size"], spec["length"], spec["num_labels"], with_spans=bool(spec.get("nested"))
    )
    result = {"variant": spec["variant"]}
    if spec["variant"] == "lear" and spec.get("boundary_rate"):
        result["boundary_rate"] = calibrate_boundary_rate(model, batch, spec["boundary_rate"])
    # one tiny call first, so that one-time runtime set-up (thread pools, kernel caches; for LEAR the label states,
    # a [C, Lq, H] tensor) is not counted as the batch's working memory
    tiny = {k: v[:1, : min(16, spec["length"])].clone() for k, v in batch.items() if k != "span_labels"}
    tiny["input_ids"][:, -1] = batch["input_ids"][0, -1]
    inference_timer(spec["variant"], model, tiny)()
    gc.collect()
    release_free_memory()
    result["model_rss_mb"] = current_rss_mb()
    result["peak_reset"] = reset_peak_rss()
    infer = inference_timer(spec["variant"], model, batch)
    times = [infer()["total"] for _ in range(spec.get("inference_calls", 2))]
    result["infer_peak_mb"] = peak_rss_mb() - result["model_rss_mb"]
    result["infer_s"] = min(times)
    if spec.get("nested"):
        result["cells"] = count_nested_cells(model, batch)
    if spec.get("train_calls", 1) > 0:
        gc.collect()
        release_free_memory()
        reset_peak_rss()
        train = training_timer(spec["variant"], model, batch)
        times = [train()["total"] for _ in range(spec.get("train_calls", 1))]
        result["train_peak_mb"] = peak_rss_mb() - result["model_rss_mb"]
        result["train_s"] = min(times)
    return result


def run_worker(spec: Mapping, threads: int) -> dict:
    """Run `memory_worker(spec)` in a fresh Python process and return its JSON result."""
    command = [sys.executable, "-m", "bench.throughput", "--threads", str(threads), "--worker", json.dumps(spec)]
    env = {**os.environ, **MALLOC_ENV, "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        tail = completed.stderr.strip().splitlines()[-5:]
        return {"variant": spec["variant"], "error": f"exit {completed.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


def measure_memory(encoder: str, num_labels: int, length: int, args: argparse.Namespace) -> dict:
    record = {}
    for variant in args.variants:
        spec = {
            "encoder": encoder,
            "num_labels": num_labels,
            "length": length,
            "batch_size": args.batch_size,
            "variant": variant,
            # one call reaches the peak; the slow MRC baseline gets one of each, the others two inference calls
            "inference_calls": 1 if variant == "mrc" else 2,
            "train_calls": 0 if args.skip_training or not train_mrc(variant, num_labels, args) else 1,
            "boundary_rate": args.boundary_rate,
        }
        result = run_worker(spec, args.threads)
        record[f"{variant}_infer_peak_mb"] = result.get("infer_peak_mb")
        record[f"{variant}_train_peak_mb"] = result.get("train_peak_mb")
        record[f"{variant}_model_rss_mb"] = result.get("model_rss_mb")
        if "error" in result:
            record[f"{variant}_memory_error"] = result["error"]
    print(f"  memory {encoder} C={num_labels} L={length}: {record}", flush=True)
    return record


# ---------------------------------------------------------------------------------------------------------------------
# Nested LEAR: time and memory as the length grows
# ---------------------------------------------------------------------------------------------------------------------


@torch.no_grad()
def calibrate_boundary_rate(model, batch: Mapping[str, torch.Tensor], rate: float) -> float:
    """Shift the start/end classifier biases so that a fraction `rate` of tokens are predicted boundaries, per
    label, as in a trained model (an untrained one predicts about half the tokens, so its candidate (start, end)
    cells, and with them the nested head's work, would be those of no real model). Returns the rate reached."""
    model.eval()
    outputs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    for logits, classifier in (
        (outputs.start_logits, model.span_head.start_classifier),
        (outputs.end_logits, model.span_head.end_classifier),
    ):
        flat = logits.reshape(-1, logits.shape[-1]).float()  # [B*L, C]
        cut = torch.quantile(flat, 1.0 - rate, dim=0)
        classifier.bias -= cut
    outputs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    return float((outputs.start_logits > 0).float().mean())


@torch.no_grad()
def count_nested_cells(model, batch: Mapping[str, torch.Tensor]) -> int:
    """Number of (batch, start, end, label) cells the nested head scores at inference."""
    model.eval()
    outputs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    cells = model._span_cells(outputs.start_logits, outputs.end_logits, batch["attention_mask"], None, None)
    return int(cells.shape[0])


def measure_nested(encoder: str, lengths: Sequence[int], args: argparse.Namespace) -> list[dict]:
    """Nested LEAR at each length, in fresh subprocesses (peak memory) with time per batch."""
    path = encoder_dir(encoder)
    encoder_config = json.loads((Path(path) / "config.json").read_text())
    hidden = encoder_config["hidden_size"]
    records = []
    for length in lengths:
        if length > encoder_config["max_position_embeddings"]:
            print(f"  nested {encoder} L={length}: skipped (the encoder has fewer positions)", flush=True)
            continue
        spec = {
            "encoder": encoder,
            "num_labels": args.nested_labels,
            "length": length,
            "batch_size": args.batch_size,
            "variant": "lear",
            "nested": True,
            "boundary_rate": args.boundary_rate,
            "inference_calls": 3,
            "train_calls": 2 if length <= args.nested_train_max_length and not args.skip_training else 0,
        }
        result = run_worker(spec, args.threads)
        # the flat model on the same batch, right after: what the nested head adds
        flat = run_worker({**spec, "nested": False}, args.threads)
        # what the original's [B, L, L, C, 2H] fp32 span tensor alone would take
        dense_mb = args.batch_size * length * length * args.nested_labels * 2 * hidden * 4 / 2**20
        record = {"encoder": encoder, "length": length, "num_labels": args.nested_labels, "hidden": hidden}
        record.update({k: v for k, v in result.items() if k != "variant"})
        record.update({f"flat_{k}": v for k, v in flat.items() if k.endswith(("_mb", "_s"))})
        record["dense_span_tensor_mb"] = dense_mb
        records.append(record)
        print(f"  nested {encoder} L={length}: {record}", flush=True)
    return records


# ---------------------------------------------------------------------------------------------------------------------
# Profiling
# ---------------------------------------------------------------------------------------------------------------------


def profile_lear(encoder: str, num_labels: int, length: int, batch_size: int, rows: int = 25) -> None:
    """Print torch.profiler tables (self CPU time) of LEAR's inference and training step at one point, next to the
    tagger's, to see what LEAR adds."""
    from torch.profiler import ProfilerActivity, profile

    path = encoder_dir(encoder)
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = LABEL_SETS[num_labels]
    batch = synthetic_batch(tokenizer, batch_size, length, num_labels)
    for variant in ("lear", "tagger"):
        model = build_model(variant, path, labels, tokenizer)
        for phase, make_timer in (("inference", inference_timer), ("training", training_timer)):
            timer = make_timer(variant, model, batch)
            timer(), timer()  # warm-up
            with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
                for _ in range(3):
                    timer()
            print(f"\n=== {variant} {phase}: {encoder} C={num_labels} L={length} B={batch_size} (3 calls) ===")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


# ---------------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None or value != value else format(value, spec)


def _percent(fraction: float | None) -> str:
    return _fmt(fraction) if fraction is None else f"{100 * fraction:.0f}%"


def _spread(record: Mapping, numerator: str, denominator: str) -> str:
    """ " (q1–q3)" of the per-round ratio numerator/denominator, from the samples kept in the record."""
    if f"{numerator}_samples" not in record or f"{denominator}_samples" not in record:
        return ""
    first, _, third = paired_ratio_quartiles(record[f"{numerator}_samples"], record[f"{denominator}_samples"])
    return f" ({first:.2f}–{third:.2f})"


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], keep: Sequence[bool]) -> str:
    """A markdown table of the columns whose `keep` flag is set."""
    cells = [[cell for cell, wanted in zip(row, keep) if wanted] for row in [header, *rows]]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


def inference_table(records: Sequence[Mapping]) -> str:
    """Sentences/s, LEAR's speed ratios to the tagger and to MRC (with targets), decode share; MRC columns only
    when MRC was measured."""
    header = ["encoder", "C", "L", "LEAR sent/s", "tagger sent/s", "MRC sent/s", "LEAR/tagger (≥0.85; IQR)",
              "LEAR/MRC", "0.8·C", "time saved vs MRC", "decode share of LEAR", "targets met"]  # fmt: skip
    is_mrc = [name in ("MRC sent/s", "LEAR/MRC", "0.8·C", "time saved vs MRC") for name in header]
    with_mrc = any("mrc_infer_s" in r for r in records)
    rows = []
    for r in records:
        batch = r["batch_size"]
        lear, tagger, mrc = r["lear_infer_s"], r.get("tagger_infer_s"), r.get("mrc_infer_s")
        vs_tagger = r.get("lear_vs_tagger_infer_speed")
        vs_mrc = r.get("lear_vs_mrc_infer_speed")
        ok = (vs_tagger is None or vs_tagger >= INFERENCE_SPEED_TARGET) and (
            vs_mrc is None or vs_mrc >= MRC_SPEED_TARGET * r["num_labels"]
        )
        rows.append([
            r["encoder"], str(r["num_labels"]), str(r["length"]), f"{batch / lear:.1f}",
            _fmt(batch / tagger if tagger else None, ".1f"), _fmt(batch / mrc if mrc else None, ".2f"),
            f"{_fmt(vs_tagger)}{_spread(r, 'tagger_infer', 'lear_infer')}", _fmt(vs_mrc, ".1f"),
            f"{MRC_SPEED_TARGET * r['num_labels']:.1f}", _percent(1 - 1 / vs_mrc if vs_mrc else None),
            f"{100 * r['lear_decode_s'] / lear:.1f}% ({1000 * r['lear_decode_s']:.1f} ms)", _mark(ok),
        ])  # fmt: skip
    return _table(header, rows, [with_mrc or not flag for flag in is_mrc])


def training_table(records: Sequence[Mapping]) -> str:
    """Step times and LEAR's step-time ratios to the tagger (with target) and to MRC."""
    header = ["encoder", "C", "L", "LEAR step (s)", "tagger step (s)", "MRC step (s)",
              "LEAR/tagger step time (≤1.5; IQR)", "MRC/LEAR step time", "time saved vs MRC", "target met"]  # fmt: skip
    is_mrc = [name in ("MRC step (s)", "MRC/LEAR step time", "time saved vs MRC") for name in header]
    with_mrc = any("mrc_train_s" in r for r in records)
    rows = []
    for r in records:
        if "lear_train_s" not in r:
            continue
        lear, tagger, mrc = r["lear_train_s"], r.get("tagger_train_s"), r.get("mrc_train_s")
        vs_tagger = r.get("lear_vs_tagger_train_time")
        vs_mrc = r.get("lear_vs_mrc_train_time")
        rows.append([
            r["encoder"], str(r["num_labels"]), str(r["length"]), f"{lear:.3f}", _fmt(tagger, ".3f"),
            _fmt(mrc, ".3f"), f"{_fmt(vs_tagger)}{_spread(r, 'lear_train', 'tagger_train')}",
            _fmt(1 / vs_mrc if vs_mrc else None, ".1f"), _percent(1 - vs_mrc if vs_mrc else None),
            _mark(vs_tagger is None or vs_tagger <= TRAINING_TIME_TARGET),
        ])  # fmt: skip
    return _table(header, rows, [with_mrc or not flag for flag in is_mrc])


def memory_table(records: Sequence[Mapping], variants: Sequence[str]) -> str:
    header = " | ".join(f"{v} infer" for v in variants) + " | " + " | ".join(f"{v} train" for v in variants)
    lines = [
        f"| encoder | C | L | {header} |",
        "|---|---|---|" + "---|" * (2 * len(variants)),
    ]
    for r in records:
        if not any(f"{v}_infer_peak_mb" in r for v in variants):
            continue
        cells = [_fmt(r.get(f"{v}_infer_peak_mb"), ".0f") for v in variants]
        cells += [_fmt(r.get(f"{v}_train_peak_mb"), ".0f") for v in variants]
        lines.append(f"| {r['encoder']} | {r['num_labels']} | {r['length']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def nested_table(records: Sequence[Mapping]) -> str:
    """Nested LEAR's time and peak working memory, next to the flat model's on the same batch (nested / flat)."""
    lines = [
        "| encoder | C | L | boundary rate | scored cells N | infer s/batch (flat) | infer peak MB (flat) | "
        "train s/step (flat) | train peak MB (flat) | [B,L,L,C,2H] fp32 would need (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def pair(r: Mapping, key: str, spec: str) -> str:
        return f"{_fmt(r.get(key), spec)} ({_fmt(r.get('flat_' + key), spec)})"

    for r in records:
        lines.append(
            f"| {r['encoder']} | {r['num_labels']} | {r['length']} | {_fmt(r.get('boundary_rate'), '.3f')} | "
            f"{r.get('cells', 'n/a')} | {pair(r, 'infer_s', '.3f')} | {pair(r, 'infer_peak_mb', '.0f')} | "
            f"{pair(r, 'train_s', '.3f')} | {pair(r, 'train_peak_mb', '.0f')} | {r['dense_span_tensor_mb']:,.0f} |"
        )
    return "\n".join(lines)


def plot_throughput(records: Sequence[Mapping], path: Path) -> None:
    """Inference throughput relative to the BIO tagger against length, one panel per encoder, one colour per C:
    LEAR (solid) and MRC (dotted), as medians of per-round ratios, which the machine's load does not move (the
    absolute sentences/s it does)."""
    plt = pyplot()
    encoders = sorted({r["encoder"] for r in records})
    fig, axes = plt.subplots(1, len(encoders), figsize=(6.4 * len(encoders), 3.8), squeeze=False)
    for ax, encoder in zip(axes[0], encoders):
        for index, num_labels in enumerate(sorted({r["num_labels"] for r in records if r["encoder"] == encoder})):
            points = sorted((r for r in records if (r["encoder"], r["num_labels"]) == (encoder, num_labels)),
                            key=lambda r: r["length"])  # fmt: skip
            colour = f"C{index}"
            xs = [r["length"] for r in points]
            ax.plot(xs, [r["lear_vs_tagger_infer_speed"] for r in points], "o-", color=colour,
                    label=f"LEAR, C={num_labels}")  # fmt: skip
            if any("mrc_infer_samples" in r for r in points):
                mrc = [paired_ratio(r["tagger_infer_samples"], r["mrc_infer_samples"]) if "mrc_infer_samples" in r
                       else float("nan") for r in points]  # fmt: skip
                ax.plot(xs, mrc, "^:", color=colour, label=f"MRC, C={num_labels}")
        ax.axhline(INFERENCE_SPEED_TARGET, color="grey", lw=0.8, ls="--", label="target 0.85")
        ax.axhline(1.0, color="black", lw=0.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{encoder}: inference speed relative to the BIO tagger")
        ax.set_xlabel("text length L (tokens)")
        ax.set_ylabel("sentences/s ÷ tagger's")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)


def plot_nested(records: Sequence[Mapping], path: Path) -> None:
    """Nested LEAR's measured peak memory against what the dense `[B, L, L, C, 2H]` tensor alone would need."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for encoder in sorted({r["encoder"] for r in records}):
        points = sorted((r for r in records if r["encoder"] == encoder), key=lambda r: r["length"])
        xs = [r["length"] for r in points]
        ax.plot(xs, [r.get("infer_peak_mb") or float("nan") for r in points], "o-", label=f"{encoder}: measured infer")
        ax.plot(xs, [r.get("train_peak_mb") or float("nan") for r in points], "s-", label=f"{encoder}: measured train")
        ax.plot(xs, [r.get("flat_infer_peak_mb") or float("nan") for r in points], "x--", alpha=0.7,
                label=f"{encoder}: flat LEAR infer")  # fmt: skip
        ax.plot(xs, [r["dense_span_tensor_mb"] for r in points], "k:", alpha=0.6, label=f"{encoder}: [B,L,L,C,2H] fp32")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("text length L (tokens)")
    ax.set_ylabel("MB above the loaded model")
    ax.set_title("nested LEAR: peak working memory")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------


def draw_plots(results: Mapping, plot_dir: Path) -> None:
    if results["speed"]:
        plot_throughput(results["speed"], plot_dir / "throughput_vs_length.png")
    if results["nested"]:
        plot_nested(results["nested"], plot_dir / "nested_memory_vs_length.png")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", nargs="+", default=["minilm", "tiny"], choices=["minilm", "tiny", "base"],
                        help="minilm: real all-MiniLM-L6-v2 (offline, PyPI); tiny: random 2-layer H=32 BERT; "
                        "base: random BERT-base shape (H=768, 12 layers)")  # fmt: skip
    parser.add_argument("--num-labels", nargs="+", type=int, default=[4, 7, 18], choices=sorted(LABEL_SETS),
                        help="label counts C (CoNLL-, ACE- and OntoNotes-style descriptions)")  # fmt: skip
    parser.add_argument("--lengths", nargs="+", type=int, default=[64, 128, 256], help="text lengths L (tokens)")
    parser.add_argument("--batch-size", type=int, default=8, help="sentences per batch, the same for all variants")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per measurement (median taken)")
    parser.add_argument("--mrc-repeats", type=int, default=2, help="rounds for the slow MRC baseline")
    parser.add_argument("--mrc-train-max-labels", type=int, default=7,
                        help="time the MRC training step only up to this many labels (it costs C passes)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core machine, 2 threads mostly measure contention)")  # fmt: skip
    parser.add_argument("--skip-training", action="store_true", help="inference only")
    parser.add_argument("--skip-memory", action="store_true", help="no per-variant memory subprocesses")
    parser.add_argument("--nested", action="store_true", help="also run the nested-LEAR scaling measurement")
    parser.add_argument("--nested-only", action="store_true", help="only the nested-LEAR scaling measurement")
    parser.add_argument("--nested-lengths", nargs="+", type=int, default=[64, 128, 256, 512, 1024])
    parser.add_argument("--nested-labels", type=int, default=4, choices=sorted(LABEL_SETS))
    parser.add_argument("--boundary-rate", type=float, default=0.05,
                        help="fraction of tokens LEAR predicts as start (and as end) per label, set by shifting the "
                        "untrained heads' biases as in a trained model; 0 leaves the random heads as they are "
                        "(about half the tokens predicted, the decoder's worst case)")  # fmt: skip
    parser.add_argument("--nested-train-max-length", type=int, default=512, help="longest L for nested training")
    parser.add_argument("--quick", action="store_true", help="smoke run: minilm, C=4, L=64, 3 rounds")
    parser.add_argument("--output", type=Path, help="results JSON (default outputs/bench/throughput[_quick].json)")
    parser.add_argument(
        "--plot-dir", type=Path, help="where the PNG plots go (default docs/img; --quick: outputs/bench)"
    )
    parser.add_argument("--profile", nargs=3, metavar=("ENCODER", "C", "L"), help="profile LEAR at one point")
    parser.add_argument("--report-from", type=Path, help="re-print the tables and redraw the plots of a results JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: memory measurement in a subprocess
    args = parser.parse_args(argv)
    if args.quick:
        args.encoders, args.num_labels, args.lengths = ["minilm"], [4], [64]
        args.repeats, args.mrc_repeats, args.nested_lengths = 3, 2, [64, 128]
        args.nested_train_max_length = 128
    suffix = "_quick" if args.quick else ""
    args.output = args.output or OUTPUT_DIR / f"throughput{suffix}.json"
    args.plot_dir = args.plot_dir or (OUTPUT_DIR / "quick" if args.quick else IMG_DIR)
    return args


def run_grid(args: argparse.Namespace) -> dict:
    results = {"speed": [], "nested": []}
    if not args.nested_only:
        for encoder in args.encoders:
            for num_labels in args.num_labels:
                records = measure_speed(encoder, num_labels, args.lengths, args)
                for record in records:
                    if not args.skip_memory:
                        record.update(measure_memory(encoder, num_labels, record["length"], args))
                results["speed"].extend(records)
    if args.nested or args.nested_only:
        for encoder in args.encoders:
            results["nested"].extend(measure_nested(encoder, args.nested_lengths, args))
    return results


def report(results: Mapping, args: argparse.Namespace, meta: Mapping, command: str) -> str:
    parts = [f"Command: `{command}`", f"Run: {metadata_line(meta)}, batch size {args.batch_size}."]
    if results["speed"]:
        parts += [
            "### Inference (forward + decode; sentences/s: medians; ratios: medians of per-round ratios)",
            inference_table(results["speed"]),
        ]
        parts += ["### Training step (forward + backward + AdamW)", training_table(results["speed"])]
        if not args.skip_memory:
            parts += ["### Peak working memory (MB above the loaded model; fresh process per variant)",
                      memory_table(results["speed"], args.variants)]  # fmt: skip
    if results["nested"]:
        parts += ["### Nested LEAR as L grows", nested_table(results["nested"])]
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    if args.worker:
        print(json.dumps(memory_worker(json.loads(args.worker))))
        return
    if args.profile:
        encoder, num_labels, length = args.profile
        profile_lear(encoder, int(num_labels), int(length), args.batch_size)
        return
    if args.report_from:
        results = json.loads(args.report_from.read_text())
        saved = argparse.Namespace(**{**vars(args), **results["meta"]["args"]})
        draw_plots(results, args.plot_dir)
        print(report(results, saved, results["meta"], results["meta"]["command"]))
        return
    check_result_name_free(args.output, "another --output")
    meta = run_metadata()
    command = "python -m bench.throughput " + " ".join(sys.argv[1:] if argv is None else argv)
    started = now()
    results = run_grid(args)
    arguments = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    results["meta"] = {**meta, "command": command, "wall_s": now() - started, "args": arguments}
    write_result(args.output, results, "another --output")
    draw_plots(results, args.plot_dir)
    print()
    print(report(results, args, meta, command))
    print(f"\n(wall {now() - started:.0f} s; results in {args.output})")


if __name__ == "__main__":
    main()
