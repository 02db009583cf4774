"""A saved LEAR checkpoint is self-contained: safetensors weights, the config with the tokenized label descriptions,
and the same logits after `AutoModel.from_pretrained` (in-process here; without the package in
test_remote_code.py)."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TOY_LABELS
from toy_batches import toy_batch
from transformers import AutoModel

from lear import LearForSpanExtraction


def eval_logits(model, inputs) -> dict[str, torch.Tensor]:
    model.eval()
    with torch.no_grad():
        outputs = model(**inputs)
    return {name: value for name, value in outputs.items() if value is not None}


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_save_and_load_give_identical_logits(make_tiny_model, toy_tokenizer, tmp_path, nested):
    model = make_tiny_model(nested=nested, initializer_range=0.2)
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


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_from_pretrained_with_dtype_casts_every_weight_and_runs(tiny_encoder_dir, toy_tokenizer, tmp_path, dtype):
    """`from_pretrained(dir, dtype=...)` as for any transformers model: the nested encoder too, not only the heads
    (a model built on a pretrained encoder, whose saved config says float32)."""
    model = LearForSpanExtraction.from_encoder(tiny_encoder_dir, TOY_LABELS, nested=True, initializer_range=0.2)
    inputs = toy_batch(toy_tokenizer).inputs
    expected = eval_logits(model, inputs)
    model.save_pretrained(tmp_path)

    loaded = AutoModel.from_pretrained(tmp_path, dtype=dtype)
    assert loaded.dtype == dtype
    assert {parameter.dtype for parameter in loaded.parameters()} == {dtype}
    assert loaded.config.encoder_config.dtype == dtype
    actual = eval_logits(loaded, inputs)
    assert actual["start_logits"].dtype == dtype
    mask = inputs["attention_mask"].bool()
    for name in ("start_logits", "end_logits"):
        torch.testing.assert_close(actual[name][mask].float(), expected[name][mask], atol=0.15, rtol=0.05)
    with torch.no_grad():
        spans = loaded.decode(loaded(**inputs))  # decoding takes half-precision logits as they come
    assert len(spans) == inputs["input_ids"].shape[0]


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_attn_implementation_reaches_the_encoder(make_tiny_model, tmp_path, implementation):
    make_tiny_model().save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path, attn_implementation=implementation)
    assert loaded.config._attn_implementation == implementation
    assert loaded.encoder.config._attn_implementation == implementation


def test_a_checkpoint_config_cannot_make_the_encoder_remote_code(make_tiny_model, tmp_path):
    """`auto_map`/`trust_remote_code` planted in config.json's encoder_config are dropped: the encoder stays the class
    transformers ships and the planted module never runs."""
    make_tiny_model().save_pretrained(tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / "planted_encoder.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertModel\n\nclass Planted(BertModel):\n    pass\n"
    )
    config = json.loads((tmp_path / "config.json").read_text())
    config["encoder_config"].update(
        auto_map={"AutoModel": "planted_encoder.Planted"}, trust_remote_code=True, _name_or_path=str(tmp_path)
    )
    config["trust_remote_code"] = True
    (tmp_path / "config.json").write_text(json.dumps(config))

    loaded = AutoModel.from_pretrained(tmp_path)
    assert type(loaded.encoder).__name__ == "BertModel"
    encoder_config = loaded.config.encoder_config.to_dict()
    assert "auto_map" not in encoder_config and "trust_remote_code" not in encoder_config
    assert not marker.exists()


def test_from_encoder_builds_the_encoder_once_with_its_weights_and_attention(tiny_encoder_dir, monkeypatch):
    """The pretrained encoder is the model's encoder (built and loaded once, as `EncoderDecoderModel` takes its
    parts), with the attention implementation it was loaded with, or the one asked for."""
    import functools

    from transformers import BertModel

    built = []
    original_init = BertModel.__init__

    @functools.wraps(original_init)  # keeps the signature, which tells from_encoder to leave the pooler out
    def counting_init(self, *args, **kwargs):
        built.append(type(self).__name__)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(BertModel, "__init__", counting_init)
    model = LearForSpanExtraction.from_encoder(tiny_encoder_dir, TOY_LABELS)
    assert len(built) == 1
    pretrained = BertModel.from_pretrained(tiny_encoder_dir, add_pooling_layer=False).state_dict()
    assert all(torch.equal(value, pretrained[name]) for name, value in model.encoder.state_dict().items())
    assert model.encoder.config is model.config.encoder_config
    assert model.encoder.config._attn_implementation == model.config._attn_implementation == "sdpa"
    eager = LearForSpanExtraction.from_encoder(tiny_encoder_dir, TOY_LABELS, attn_implementation="eager")
    assert eager.encoder.config._attn_implementation == "eager"
