"""The three variants the throughput benchmark compares, each behind the same two calls: one inference batch
(forward + decode to spans) and one training step (forward + backward + AdamW step), on the same batch.

- `lear`: `LearForSpanExtraction`, inference in eval mode under `torch.no_grad()` with the label states computed
  once and passed to every forward, as the pipeline does; training re-encodes the label descriptions every step, with gradients, as the paper does.
- `tagger`: `AutoModelForTokenClassification` with `2C + 1` BIO classes: the one-pass floor. Its "decoding" is
  an argmax to Python lists, cheaper than any real BIO-to-span conversion, so the comparison favours it.
- `mrc`: `bench.baselines.MrcForSpanExtraction`, one encoder pass per label over `[CLS] query [SEP] text [SEP]`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import AutoModelForTokenClassification

from bench.baselines import MrcForSpanExtraction
from bench.common import Timer, now
from lear import LearForSpanExtraction, decode_flat_spans
from lear.training import optimizer_param_groups


VARIANTS = ("lear", "tagger", "mrc")
LEARNING_RATE = 1e-5


def build_model(variant: str, encoder_path: str, labels: Mapping[str, str], tokenizer, **lear_kwargs):
    """One variant on the encoder's pretrained (or saved random) weights."""
    if variant == "lear":
        return LearForSpanExtraction.from_encoder(encoder_path, labels, tokenizer=tokenizer, **lear_kwargs)
    if variant == "tagger":
        return AutoModelForTokenClassification.from_pretrained(encoder_path, num_labels=2 * len(labels) + 1)
    if variant == "mrc":
        return MrcForSpanExtraction.from_encoder(encoder_path, labels, tokenizer)
    raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")


def inference_timer(variant: str, model, batch: Mapping[str, torch.Tensor]) -> Timer:
    """A call that runs one inference batch and returns `{"total", "decode"}` seconds (decode included in total)."""
    model.eval()
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

    if variant == "lear":
        with torch.no_grad():
            label_states = model.compute_label_states()

    def run_lear() -> dict[str, float]:
        started = now()
        with torch.no_grad():
            outputs = model(**inputs, label_states=label_states)
            decoding = now()
            model.decode(outputs)
        finished = now()
        return {"total": finished - started, "decode": finished - decoding}

    def run_tagger() -> dict[str, float]:
        started = now()
        with torch.no_grad():
            logits = model(**inputs).logits
            decoding = now()
            logits.argmax(-1).tolist()
        finished = now()
        return {"total": finished - started, "decode": finished - decoding}

    def run_mrc() -> dict[str, float]:
        started = now()
        with torch.no_grad():
            start_logits, end_logits = model(**inputs)
            decoding = now()
            decode_flat_spans(start_logits, end_logits)  # the same decoder as LEAR's
        finished = now()
        return {"total": finished - started, "decode": finished - decoding}

    return {"lear": run_lear, "tagger": run_tagger, "mrc": run_mrc}[variant]


def make_optimizer(variant: str, model) -> torch.optim.Optimizer:
    params = (
        optimizer_param_groups(model, LEARNING_RATE, task_layer_lr=10.0) if variant == "lear" else model.parameters()
    )
    return torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)


def training_timer(variant: str, model, batch: Mapping[str, torch.Tensor]) -> Timer:
    """A call that runs one optimiser step on the batch (B sentences) and returns `{"total"}` seconds."""
    model.train()
    optimizer = make_optimizer(variant, model)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

    def step() -> None:
        if variant == "mrc":
            model.train_step(optimizer, batch)
            return
        optimizer.zero_grad(set_to_none=True)
        if variant == "lear":
            extra = {"start_labels": batch["start_labels"], "end_labels": batch["end_labels"]}
            if "span_labels" in batch and model.config.nested:
                extra["span_labels"] = batch["span_labels"]
            loss = model(**inputs, **extra).loss
        else:
            loss = model(**inputs, labels=batch["tags"]).loss
        loss.backward()
        optimizer.step()

    def run() -> dict[str, float]:
        started = now()
        step()
        return {"total": now() - started}

    return run
