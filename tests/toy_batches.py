"""Training batches built from the toy sentences through `lear.windowing`, as training and evaluation build them:
windows with word-boundary masks, gold start/end/span tensors from `align_entities`, and the way back from decoded
token spans to character spans."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from conftest import TOY_LABELS, TOY_SENTENCES

from lear.windowing import TextWindow, align_entities, encode_windows, pad_windows, window_spans_to_char_spans


LABEL_NAMES = list(TOY_LABELS)


@dataclass
class ToyBatch:
    windows: list[TextWindow]
    inputs: dict[str, torch.Tensor]  # input_ids, attention_mask: [B, L]
    targets: dict[str, torch.Tensor]  # start_labels, end_labels: [B, L, C]; span_labels: [B, L, L, C]
    start_mask: torch.Tensor  # [B, L] bool: may start an entity (first sub-token of a word)
    end_mask: torch.Tensor  # [B, L] bool: may end an entity (last sub-token of a word)
    gold: list[set[tuple[int, int, str]]]  # per sentence: (char start, char end, label name)


def toy_batch(tokenizer, sentences=TOY_SENTENCES, label_names=LABEL_NAMES, max_length: int = 32) -> ToyBatch:
    """One window per toy sentence (they are short), padded into one batch."""
    texts = [text for text, _ in sentences]
    windows = encode_windows(tokenizer, texts, words=[text.split() for text in texts], max_length=max_length)
    assert len(windows) == len(texts), "the toy sentences must each fit in one window"
    padded = pad_windows(windows, tokenizer.pad_token_id)
    batch_size, length = padded["input_ids"].shape
    num_labels = len(label_names)
    start_labels = torch.zeros(batch_size, length, num_labels, dtype=torch.long)
    end_labels = torch.zeros_like(start_labels)
    span_labels = torch.zeros(batch_size, length, length, num_labels, dtype=torch.long)
    for b, window in enumerate(windows):
        entities = [(start, end, label_names.index(label)) for start, end, label in sentences[window.text_index][1]]
        for entity in align_entities(window, entities):
            assert entity.complete and entity.exact
            start_labels[b, entity.start, entity.label] = 1
            end_labels[b, entity.end, entity.label] = 1
            span_labels[b, entity.start, entity.end, entity.label] = 1
    return ToyBatch(
        windows=windows,
        inputs={"input_ids": padded["input_ids"], "attention_mask": padded["attention_mask"]},
        targets={"start_labels": start_labels, "end_labels": end_labels, "span_labels": span_labels},
        start_mask=padded["start_mask"],
        end_mask=padded["end_mask"],
        gold=[{(start, end, label) for start, end, label in entities} for _, entities in sentences],
    )


def training_targets(batch: ToyBatch, nested: bool) -> dict[str, torch.Tensor]:
    targets = dict(batch.targets)
    if not nested:
        targets.pop("span_labels")
    return targets


def predicted_char_spans(model, batch: ToyBatch, label_names=LABEL_NAMES) -> list[set[tuple[int, int, str]]]:
    """Eval-mode forward, `model.decode` with the word-boundary masks, and the windows' map back to characters."""
    model.eval()
    with torch.no_grad():
        outputs = model(**batch.inputs)
    decoded = model.decode(outputs, batch.start_mask, batch.end_mask)
    return [
        {(span.start, span.end, label_names[span.label]) for span in window_spans_to_char_spans(window, spans)}
        for window, spans in zip(batch.windows, decoded)
    ]
