"""A saved LEAR checkpoint is self-contained: safetensors weights, the config with the tokenized label descriptions,
and the same logits after `AutoModel.from_pretrained` (in-process here; without the package in
test_remote_code.py)."""

from __future__ import annotations

import json

import pytest
import torch
from toy_batches import toy_batch
from transformers import AutoModel

from lear import LearForSpanExtraction


def eval_logits(model, inputs) -> dict[str, torch.Tensor]:
    model.eval()
    with torch.no_grad():
        outputs = model(**inputs)
    return {name: value for name, value in outputs.items() if value is not None}


@pytest.mark.parametrize(
    "nested, fusion_type",
    [(False, "attention"), (True, "attention"), (False, "cosine")],
    ids=["flat-attention", "nested-attention", "flat-cosine"],
)
def test_save_and_load_give_identical_logits(make_tiny_model, toy_tokenizer, tmp_path, nested, fusion_type):
    model = make_tiny_model(nested=nested, fusion_type=fusion_type, initializer_range=0.2)
    inputs = toy_batch(toy_tokenizer).inputs
    expected = eval_logits(model, inputs)
    model.save_pretrained(tmp_path)

    assert (tmp_path / "model.safetensors").is_file()
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "lear"
    assert saved["auto_map"]["AutoModel"].endswith("modeling_lear.LearForSpanExtraction")
    assert saved["label_input_ids"] == model.config.label_input_ids
    assert (tmp_path / "modeling_lear.py").is_file() and (tmp_path / "configuration_lear.py").is_file()

    loaded = AutoModel.from_pretrained(tmp_path)
    assert type(loaded) is LearForSpanExtraction
    assert loaded.config.label_names == model.config.label_names
    actual = eval_logits(loaded, inputs)
    assert actual.keys() == expected.keys()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name
