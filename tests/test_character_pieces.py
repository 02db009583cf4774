"""One piece per character (`LearConfig.character_pieces`, `windowing.character_chunks`), on a SentencePiece tokenizer
trained here whose vocabulary merges Chinese characters into words, as multilingual-e5's does ("在北京" is one piece):
every character edge is a possible span edge, training labels sit on characters, the pipeline (torch, `lear-predict`
and ONNX alike) finds an entity whose edge falls inside a merged piece, raw and pre-split text give the same spans, and
a config from before the field reads the raw pieces as before."""

from __future__ import annotations

import json

import datasets
import pytest
import torch
from conftest import build_tiny_model, tiny_encoder_config
from huggingface_hub.errors import StrictDataclassError
from test_run_lear import FEATURES, common_arguments, save_corpus
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertModel, PreTrainedTokenizerFast, pipeline

import run_lear
from lear import LearConfig, LearForSpanExtraction, cli
from lear.pipeline_lear import SpanExtractionPipeline
from lear.training import LearDataCollator, LearFeatureBuilder
from lear.windowing import (
    character_chunks,
    character_pieces_wanted,
    encode_windows,
    is_lone_marker,
    merges_characters,
    window_row,
)
from run_lear_setup import parse_config_overrides


SENTENCES = [
    "北京大学在北京", "我在北京大学学习中文", "上海是中国的城市", "他去上海工作", "中华人民共和国的首都是北京",
    "我们在上海的大学学习中文", "北京大学的学生去上海", "中国人民在北京工作", "李明在上海工作", "王芳去北京大学学习",
]  # fmt: skip
LABELS = {"LOC": "地名", "ORG": "机构", "PER": "人名"}
# The raw tokenization merges "在北京" and "大学学习": both entities start inside a piece, "北京" also ends inside one.
TEXT = "他在北京大学学习"
LOC, ORG = (2, 4), (2, 6)


def train_sentencepiece_tokenizer() -> PreTrainedTokenizerFast:
    """A Unigram tokenizer with XLM-R's conventions (NFKC, "▁" metaspace, `<s> $A </s>`), trained on SENTENCES."""
    backend = Tokenizer(models.Unigram())
    backend.normalizer = normalizers.NFKC()
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=80,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        initial_alphabet=sorted(set("".join(SENTENCES + list(LABELS.values())))),
        max_piece_length=4,
    )
    backend.train_from_iterator(SENTENCES * 20, trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        cls_token="<s>", sep_token="</s>", model_max_length=128,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    tokenizer = train_sentencepiece_tokenizer()
    raw = tokenizer(TEXT, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert (1, 4) in raw and (4, 8) in raw, (
        "the vocabulary must merge 在北京 and 大学学习 for these tests to mean anything"
    )
    return tokenizer


def content(window):
    return [k for k, span in enumerate(window.token_spans) if span != (-1, -1)]


def rig(model: LearForSpanExtraction, tokenizer, first: str = "北", last: str = "京", label: str = "LOC"):
    """Make the model's head fire exactly where it should: `label` starts on the piece `first` and ends on `last`."""
    original, label_id = model.forward, model.config.label_names.index(label)
    first_id, last_id = tokenizer.convert_tokens_to_ids([first, last])

    def forward(input_ids=None, **kwargs):
        outputs = original(input_ids=input_ids, **kwargs)
        for logits, piece in ((outputs.start_logits, first_id), (outputs.end_logits, last_id)):
            logits.fill_(-10.0)
            logits[..., label_id] = torch.where(input_ids == piece, 10.0, -10.0)
        return outputs

    model.forward = forward
    return model


def extractor(model, tokenizer) -> SpanExtractionPipeline:
    return SpanExtractionPipeline(model=model.eval(), tokenizer=tokenizer, device="cpu")


# ---------------------------------------------------------------------------------------------------------------------
# The rule and the windows
# ---------------------------------------------------------------------------------------------------------------------


def test_the_rule_is_chosen_from_the_tokenizer(tokenizer, toy_tokenizer):
    assert merges_characters(tokenizer) and character_pieces_wanted(tokenizer)
    assert not character_pieces_wanted(toy_tokenizer)  # WordPiece splits CJK characters already
    assert LearConfig().character_pieces is None  # configs from before the field: the raw pieces
    assert parse_config_overrides("character_pieces=false") == {"character_pieces": False}
    with pytest.raises(StrictDataclassError, match="character_pieces"):
        LearConfig(character_pieces="yes")


def test_every_character_edge_is_a_span_edge(tokenizer):
    raw = encode_windows(tokenizer, [TEXT], max_length=32)[0]
    assert not all(raw.start_allowed[k] for k in content(raw))  # "北" starts inside the raw piece "在北京"
    window = encode_windows(tokenizer, [TEXT], max_length=32, character_pieces=True)[0]
    positions = content(window)
    assert [window.token_spans[k] for k in positions] == [(i, i + 1) for i in range(len(TEXT))]
    assert [window.input_ids[k] for k in positions] == tokenizer.convert_tokens_to_ids(list(TEXT))  # no lone "▁"
    assert all(window.start_allowed[k] and window.end_allowed[k] for k in positions)
    assert window.input_ids[0] == tokenizer.bos_token_id and window.input_ids[-1] == tokenizer.eos_token_id


def test_chunks_cut_out_every_cjk_character_and_keep_other_runs_whole():
    text = "我在Apple公司 iPhone 15，好"
    assert [text[s:e] for s, e in character_chunks(text)] == ["我", "在", "Apple", "公", "司", "iPhone", "15，", "好"]
    words = ["我在", "Apple", "公司", "iPhone", "15", "，", "好"]
    offsets = [(0, 2), (2, 7), (7, 9), (10, 16), (17, 19), (19, 20), (20, 21)]
    assert [text[s:e] for s, e in character_chunks(text, offsets)] == [
        "我",
        "在",
        "Apple",
        "公",
        "司",
        "iPhone",
    ] + words[4:]
    assert is_lone_marker([5, 6], [0, 0], 0, 5) and not is_lone_marker([5], [0], 0, 5)


@pytest.mark.parametrize("max_length, stride", [(12, 3), (16, 8), (24, 0), (64, 16)])
def test_long_texts_are_windowed_as_the_tokenizers_own_overflow_windows_them(toy_tokenizer, max_length, stride):
    """With nothing to leave out (WordPiece gives each character one piece), character pieces give exactly the windows
    the tokenizer's overflow cuts over the pre-split characters."""
    text = "".join(chr(0x4E00 + k % 150) for k in range(90))
    expected = encode_windows(
        toy_tokenizer, [text, text[:5]], words=[list(text), list(text[:5])], max_length=max_length, stride=stride
    )
    actual = encode_windows(
        toy_tokenizer, [text, text[:5]], max_length=max_length, stride=stride, character_pieces=True
    )
    assert actual == expected and len(actual) >= 3  # the long text in two windows or more


def test_long_texts_give_each_character_to_exactly_one_window(tokenizer):
    text = "".join(SENTENCES)
    windows = encode_windows(tokenizer, [text], max_length=16, stride=4, character_pieces=True)
    owned = [window.token_spans[k] for window in windows for k in content(window) if window.owned[k]]
    assert len(windows) > 4 and owned == [(i, i + 1) for i in range(len(text))]
    assert all(len(window.input_ids) <= 16 for window in windows)
    assert encode_windows(tokenizer, [""], max_length=16, character_pieces=True)[0].input_ids == [0, 2]


# ---------------------------------------------------------------------------------------------------------------------
# Training labels
# ---------------------------------------------------------------------------------------------------------------------


def rows(texts_and_entities, with_tokens: bool = True) -> datasets.Dataset:
    return datasets.Dataset.from_list(
        [
            {
                "id": f"zh-{index}",
                "text": text,
                "tokens": list(text) if with_tokens else [],
                "entities": [{"start": s, "end": e, "label": label} for s, e, label in entities],
            }
            for index, (text, entities) in enumerate(texts_and_entities)
        ],
        features=FEATURES,
    )


def test_training_labels_sit_on_the_characters(tokenizer):
    examples = rows([(TEXT, [(*LOC, "LOC"), (*ORG, "ORG")])])
    label2id = {name: index for index, name in enumerate(LABELS)}
    raw_builder = LearFeatureBuilder(tokenizer, label2id, 32, 8, tokens_column=None)
    ((_, raw_targets),) = raw_builder.encode(examples[:1])
    assert raw_targets["n_inexact"] == 2  # both start inside "在北京": no prediction could match them
    builder = LearFeatureBuilder(tokenizer, label2id, 32, 8, tokens_column=None, character_pieces=True)
    ((window, targets),) = builder.encode(examples[:1])
    assert targets["n_gold"] == 2 and targets["n_inexact"] == targets["n_cut"] == 0
    # <s> 他 在 北 京 大 学 学 习 </s>: LOC 北..京 = positions 3..4, ORG 北..学 = 3..6
    assert sorted(targets["start_positives"]) == [[3, 0], [3, 1]]
    assert sorted(targets["end_positives"]) == [[4, 0], [6, 1]]
    batch = LearDataCollator(tokenizer, len(LABELS))([{**window_row(window), **targets}])
    assert batch["start_labels"][0, 1:9, 0].tolist() == [0, 0, 1, 0, 0, 0, 0, 0]  # every character trained
    pre_split = LearFeatureBuilder(tokenizer, label2id, 32, 8, character_pieces=True).encode(examples[:1])
    assert pre_split == [(window, targets)]  # the words (characters) change nothing


def test_the_step_time_benchmark_steps_the_same_texts_both_ways(tokenizer):
    """`bench.character_pieces --step_time` compares like with like: each round's two batches hold the same texts
    and the same gold entities; only the lengths differ."""
    from bench.character_pieces import training_batches

    examples = rows([(TEXT, [(*LOC, "LOC"), (*ORG, "ORG")]), ("李明在上海工作", [(0, 2, "PER"), (3, 5, "LOC")])] * 3)
    label2id = {name: index for index, name in enumerate(LABELS)}
    raw, characters = (training_batches(tokenizer, examples, label2id, on, batch_size=4) for on in (False, True))
    assert [len(batch["input_ids"]) for batch in raw] == [len(batch["input_ids"]) for batch in characters] == [4, 2]
    assert all(c["input_ids"].shape[1] > r["input_ids"].shape[1] for r, c in zip(raw, characters))
    for way in (raw, characters):  # two entities in each of the first batch's four texts, two in the second's
        assert [int((batch["start_labels"] == 1).sum()) for batch in way] == [8, 4]


@pytest.mark.parametrize("overrides, unreachable", [([], 0), (["--config_overrides", "character_pieces=false"], 8)])
def test_run_lear_states_the_rule_in_the_config_and_reaches_every_entity(tokenizer, tmp_path, overrides, unreachable):
    encoder_dir = tmp_path / "encoder"
    torch.manual_seed(0)
    BertModel(tiny_encoder_config(len(tokenizer)), add_pooling_layer=False).save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    # flat: ORG "北京大学" and LOC "上海" start inside the raw pieces "在北京" and "在上海"
    data = [(TEXT, [(*ORG, "ORG")]), ("李明在上海工作", [(0, 2, "PER"), (3, 5, "LOC")])] * 4
    corpus = save_corpus(
        tmp_path / "corpus", {"train": rows(data).to_list(), "validation": rows(data).to_list()}, labels=LABELS
    )
    results = run_lear.main([
        *common_arguments(tmp_path / "run"),
        "--model_name_or_path", str(encoder_dir), "--dataset_dir", str(corpus),
        "--do_train", "--do_eval", "--max_steps", "2", "--save_strategy", "no", "--max_seq_length", "32", *overrides,
    ])  # fmt: skip
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["character_pieces"] is (not overrides)
    assert results["eval"]["eval_n_gold"] == 12 and results["eval"]["eval_n_unreachable"] == unreachable


# ---------------------------------------------------------------------------------------------------------------------
# The pipeline, lear-predict and ONNX
# ---------------------------------------------------------------------------------------------------------------------


def test_pipeline_finds_an_entity_whose_edge_falls_inside_a_merged_piece(tokenizer):
    pipe = extractor(rig(build_tiny_model(tokenizer, LABELS, character_pieces=True), tokenizer), tokenizer)
    (entity,) = pipe(TEXT)
    assert (entity["entity_group"], entity["word"], entity["start"], entity["end"]) == ("LOC", "北京", *LOC)
    assert entity["score"] > 0.99
    raw_pipe = extractor(rig(build_tiny_model(tokenizer, LABELS, character_pieces=False), tokenizer), tokenizer)
    assert raw_pipe(TEXT) == []  # raw pieces: "北" is inside "在北京", no piece of its own


def test_a_raw_string_and_its_pre_split_form_give_the_same_spans(tokenizer):
    pipe = extractor(rig(build_tiny_model(tokenizer, LABELS, character_pieces=True), tokenizer), tokenizer)
    texts = [TEXT, "北京大学的学生去北京", "".join(SENTENCES)]
    raw = pipe(texts, max_length=12, stride=3)
    assert [[e["word"] for e in entities] for entities in raw] == [["北京"] * text.count("北京") for text in texts]
    assert pipe([list(text) for text in texts], delimiter="", max_length=12, stride=3) == raw
    (spaced,) = pipe(list(TEXT), is_split_into_words=True)  # offsets index "他 在 北 京 ..."
    assert (spaced["word"], spaced["start"], spaced["end"]) == ("北 京", 4, 7)
    text = "我在Apple公司 iPhone 15，好"  # and the units of other scripts, pre-split as the chunks are
    words = [text[s:e] for s, e in character_chunks(text)]
    assert encode_windows(tokenizer, [text], words=[words], character_pieces=True) == encode_windows(
        tokenizer, [text], character_pieces=True
    )


def test_a_saved_model_predicts_as_it_was_trained_and_an_old_config_as_before(tokenizer, tmp_path):
    torch.manual_seed(0)
    model = build_tiny_model(tokenizer, LABELS, character_pieces=True)
    model.save_pretrained(tmp_path / "new")
    tokenizer.save_pretrained(tmp_path / "new")
    assert json.loads((tmp_path / "new" / "config.json").read_text())["character_pieces"] is True
    loaded = LearForSpanExtraction.from_pretrained(tmp_path / "new")
    assert loaded.config.character_pieces is True
    pipe = extractor(rig(loaded, tokenizer), tokenizer)
    assert [e["word"] for e in pipe(TEXT)] == ["北京"]

    config = json.loads((tmp_path / "new" / "config.json").read_text())
    del config["character_pieces"]  # a checkpoint saved before the field
    (tmp_path / "new" / "config.json").write_text(json.dumps(config))
    old = LearForSpanExtraction.from_pretrained(tmp_path / "new")
    assert old.config.character_pieces is None
    old_pipe = extractor(rig(old, tokenizer), tokenizer)
    (window,) = [item["window"] for item in old_pipe.preprocess(TEXT)]
    assert window == encode_windows(tokenizer, [TEXT], max_length=old_pipe.model_max_length())[0]  # raw pieces
    assert old_pipe(TEXT) == []  # as such a model predicted before: "北" is inside the raw piece "在北京"


def test_lear_predict_and_onnx_read_characters_as_the_torch_pipeline(tokenizer, tmp_path):
    model = build_tiny_model(tokenizer, LABELS, character_pieces=True)
    with torch.no_grad():
        for layer in model._labelwise_layers():
            layer.bias.add_(2.0)  # a random model that fires often
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    texts = [TEXT, *SENTENCES]
    expected = pipeline("span-extraction", model=str(tmp_path / "model"), device="cpu")(texts)
    assert any(entities for entities in expected)
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    output = tmp_path / "out.jsonl"
    assert (
        cli.main(["--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.txt"), "--output", str(output)])
        == 0
    )
    predicted = [json.loads(line)["predictions"] for line in output.read_text().splitlines()]
    assert [[(e["start"], e["end"], e["entity_group"]) for e in row] for row in predicted] == [
        [(e["start"], e["end"], e["entity_group"]) for e in row] for row in expected
    ]
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from lear.onnx_export import export_onnx, onnx_pipeline

    export_onnx(tmp_path / "model", tmp_path / "onnx")
    assert json.loads((tmp_path / "onnx" / "config.json").read_text())["character_pieces"] is True
    actual = onnx_pipeline(tmp_path / "onnx")(texts)
    assert [[(e["start"], e["end"], e["entity_group"]) for e in row] for row in actual] == [
        [(e["start"], e["end"], e["entity_group"]) for e in row] for row in expected
    ]
