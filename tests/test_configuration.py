"""`LearConfig`: validation that names the offending field, serialisation round trips (BERT and non-BERT encoders),
and registration with the Auto classes at `import lear`."""

from __future__ import annotations

import pytest
from huggingface_hub.errors import StrictDataclassError
from transformers import AutoConfig, AutoModel, BertConfig, ElectraConfig, RobertaConfig

from lear import LearConfig, LearForSpanExtraction


def tiny_bert() -> BertConfig:
    return BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)


def labelled(**overrides) -> dict:
    settings = dict(
        encoder_config=tiny_bert(),
        id2label={0: "LOC", 1: "PER"},
        label_descriptions=["places", "people"],
        label_input_ids=[[2, 10, 3], [2, 11, 12, 3]],
    )
    settings.update(overrides)
    return settings


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(decode_strategy="v3"), "decode_strategy"),
        (dict(start_threshold=0.0), "start_threshold"),
        (dict(end_threshold=1.0), "end_threshold"),
        (dict(span_threshold=1.5), "span_threshold"),
        (dict(hidden_dropout_prob=1.0), "hidden_dropout_prob"),
        (dict(span_dropout_prob=-0.1), "span_dropout_prob"),
        (dict(max_label_length=0), "max_label_length"),
        (dict(label_descriptions=["places"]), "label_descriptions"),
        (dict(label_input_ids=[[2, 3]]), "label_input_ids"),
        (dict(id2label={0: "LOC", 2: "PER"}), "id2label"),
        (dict(id2label={0: "LOC", 1: "LOC"}), "id2label"),
        (dict(label2id={"LOC": 1, "PER": 0}), "label2id"),
        (dict(encoder_config={"hidden_size": 16}), "model_type"),
        (dict(label_thresholds=[0.3]), "label_thresholds"),
        (dict(label_thresholds=[0.3, 1.0]), "label_thresholds"),
        (dict(max_span_length=0), "max_span_length"),
        (dict(span_loss_normalization="sum"), "span_loss_normalization"),
    ],
)
def test_invalid_settings_raise_an_error_naming_the_field(overrides, field):
    """As transformers 5's own configs (`@strict`): a value of the wrong type or outside LEAR's rules is refused."""
    with pytest.raises((ValueError, StrictDataclassError), match=field):
        LearConfig(**labelled(**overrides))


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(encoder_config=16), "encoder_config"),
        (dict(character_pieces="yes"), "character_pieces"),
        (dict(nested="no"), "nested"),
        (dict(max_span_length=2.5), "max_span_length"),
        (dict(label_descriptions="places"), "label_descriptions"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_by_name(overrides, field):
    """`@strict` checks every field's type as it is set (which needs real annotations: no `from __future__`)."""
    with pytest.raises(StrictDataclassError, match=f"field '{field}'"):
        LearConfig(**labelled(**overrides))


def test_label2id_is_derived_from_id2label():
    config = LearConfig(**labelled())
    assert config.label2id == {"LOC": 0, "PER": 1}
    assert config.label_names == ["LOC", "PER"]
    assert config.num_labels == 2


def test_encoder_settings_are_read_through_the_encoder_config():
    config = LearConfig(**labelled(encoder_config=BertConfig(hidden_size=64, initializer_range=0.05)))
    assert config.hidden_size == 64
    # the task layers' default init is 1/sqrt(hidden), not the encoder's own initializer_range
    assert config.initializer_range == 0.125
    assert LearConfig(**labelled(initializer_range=0.3)).initializer_range == 0.3


ENCODERS = [
    pytest.param(tiny_bert, id="bert"),
    # a RoBERTa whose vocabulary size equals BERT's default: nothing may be lost by diffing against BERT defaults
    pytest.param(
        lambda: RobertaConfig(
            vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        ),
        id="roberta",
    ),
    pytest.param(
        lambda: ElectraConfig(
            vocab_size=50,
            embedding_size=8,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        ),  # fmt: skip
        id="electra",
    ),
]

NON_DEFAULT_SETTINGS = dict(
    nested=True,
    decode_strategy="v1",
    start_threshold=0.4,
    end_threshold=0.6,
    span_threshold=0.7,
    max_label_length=32,
    hidden_dropout_prob=0.2,
    span_dropout_prob=0.3,
    initializer_range=0.1,
    attention_scale=True,
    span_loss_normalization="mean",
    max_span_length=12,
    label_thresholds=[0.3, 0.25],
)


def assert_same_config(loaded: LearConfig, original: LearConfig) -> None:
    assert type(loaded) is LearConfig
    assert type(loaded.encoder_config) is type(original.encoder_config)
    assert loaded.encoder_config.to_dict() == original.encoder_config.to_dict()
    for name in [*NON_DEFAULT_SETTINGS, "id2label", "label2id", "label_descriptions", "label_input_ids"]:
        assert getattr(loaded, name) == getattr(original, name), name
    where_from = ("_name_or_path", "transformers_version")  # set by loading and saving
    assert {k: v for k, v in loaded.to_dict().items() if k not in where_from} == {
        k: v for k, v in original.to_dict().items() if k not in where_from
    }


@pytest.mark.parametrize("make_encoder_config", ENCODERS)
def test_config_round_trips_through_to_dict(make_encoder_config):
    config = LearConfig(**labelled(encoder_config=make_encoder_config(), **NON_DEFAULT_SETTINGS))
    assert_same_config(LearConfig.from_dict(config.to_dict()), config)


@pytest.mark.parametrize("make_encoder_config", ENCODERS)
def test_config_round_trips_through_save_and_from_pretrained(make_encoder_config, tmp_path):
    config = LearConfig(**labelled(encoder_config=make_encoder_config(), **NON_DEFAULT_SETTINGS))
    config.save_pretrained(tmp_path)
    assert_same_config(LearConfig.from_pretrained(tmp_path), config)
    assert_same_config(AutoConfig.from_pretrained(tmp_path), config)


def test_auto_classes_build_lear_after_import():
    config = AutoConfig.for_model("lear", **labelled())
    assert isinstance(config, LearConfig)
    assert config.label_names == ["LOC", "PER"]
    model = AutoModel.from_config(LearConfig(**labelled(nested=True)))
    assert type(model) is LearForSpanExtraction
    assert model.nested_head is not None
    assert model.span_head.start_classifier.weight.shape == (2, 16)
