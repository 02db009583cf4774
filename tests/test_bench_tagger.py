"""The BIO tagger baseline of the benchmarks (`bench/tagger.py`): it trains, scores the test split with LEAR's scorer,
selects its checkpoint on the validation split when asked, and resumes an interrupted run."""

from __future__ import annotations

import json

import datasets
from conftest import build_sentencepiece_style_tokenizer
from test_run_lear import save_corpus, toy_rows

from bench import tagger


def tagger_arguments(encoder_dir, corpus_dir, output_dir, *extra: str):
    return tagger.parse_args([
        "--encoder", str(encoder_dir), "--dataset_dir", str(corpus_dir), "--output_dir", str(output_dir),
        "--num_train_epochs", "2", "--learning_rate", "1e-3", "--batch_size", "8", "--max_length", "32", *extra,
    ])  # fmt: skip


def test_tagger_selects_its_checkpoint_on_the_validation_split(tiny_encoder_dir, tmp_path):
    encoder_dir = tiny_encoder_dir
    # a test split of another size than the validation split: each is scored against its own rows
    test_rows = toy_rows(24, "test")
    test_rows = test_rows[3:] + test_rows[:3]  # row k of test and of validation hold different sentences
    splits = {"train": toy_rows(16, "train"), "validation": toy_rows(16, "validation"), "test": test_rows}
    corpus = save_corpus(tmp_path / "corpus", splits)

    results = tagger.train_and_score(tagger_arguments(encoder_dir, corpus, tmp_path / "run", "--select_on_dev"))
    assert results["predict_n_gold"] == sum(len(row["entities"]) for row in splits["test"])
    assert 0.0 <= results["predict_f1"] <= 1.0 and results["best_dev_f1"] is not None
    checkpoints = sorted(path.name for path in (tmp_path / "run").glob("checkpoint-*"))
    state = json.loads((tmp_path / "run" / checkpoints[-1] / "trainer_state.json").read_text())
    dev_f1 = [entry["eval_f1"] for entry in state["log_history"] if "eval_f1" in entry]
    assert len(dev_f1) == 2  # one validation pass per epoch
    assert results["best_dev_f1"] == max(dev_f1)

    # a second invocation into the same folder resumes from the last checkpoint instead of training again
    again = tagger.train_and_score(tagger_arguments(encoder_dir, corpus, tmp_path / "run", "--select_on_dev"))
    assert sorted(path.name for path in (tmp_path / "run").glob("checkpoint-*")) == checkpoints
    assert again["predict_f1"] == results["predict_f1"]


def chinese_rows(text: str, entities: list[dict]) -> datasets.DatasetDict:
    row = {"text": text, "tokens": list(text), "entities": entities}
    return datasets.DatasetDict({"train": datasets.Dataset.from_list([row] * 3)})


# 一丁 (characters 0-1) is an A entity; the vocabulary has "▁" and the bare characters only
CHINESE_TEXT = "一丁七万丈三上下"
CHINESE_ENTITIES = [{"start": 0, "end": 2, "label": "A", "text": "一丁"}]
TAG2ID = {tag: k for k, tag in enumerate(tagger.bio_tag_names(["A"]))}


def encoded(drop: bool, max_length: int = 64) -> dict:
    tokenizer = build_sentencepiece_style_tokenizer()
    rows = chinese_rows(CHINESE_TEXT, CHINESE_ENTITIES)["train"]
    return tagger.tokenize_split(rows, tokenizer, TAG2ID, max_length, drop_lone_markers=drop)[0], tokenizer


def test_tagger_drops_the_lone_markers_and_tags_the_characters():
    row, tokenizer = encoded(drop=True)
    pieces = tokenizer.convert_ids_to_tokens(row["input_ids"])
    assert pieces == ["<s>", *CHINESE_TEXT, "</s>"]  # one piece per character, no "▁"
    tags = [tagger.bio_tag_names(["A"])[label] if label >= 0 else None for label in row["labels"]]
    assert tags == [None, "B-A", "I-A", "O", "O", "O", "O", "O", "O", None]
    assert row["attention_mask"] == [1] * len(pieces)


def test_tagger_keeping_the_lone_markers_tags_them():
    row, tokenizer = encoded(drop=False)
    pieces = tokenizer.convert_ids_to_tokens(row["input_ids"])
    assert pieces[1:5] == ["▁", "一", "▁", "丁"]
    labelled = [piece for piece, label in zip(pieces, row["labels"]) if label >= 0]
    assert labelled == ["▁"] * len(CHINESE_TEXT)  # the run_ner rule puts every tag on the marker


def test_tagger_cut_keeps_the_closing_token_and_twice_the_characters_without_markers():
    dropped, tokenizer = encoded(drop=True, max_length=6)
    kept, _ = encoded(drop=False, max_length=6)
    assert tokenizer.convert_ids_to_tokens(dropped["input_ids"]) == ["<s>", *CHINESE_TEXT[:4], "</s>"]
    assert tokenizer.convert_ids_to_tokens(kept["input_ids"]) == ["<s>", "▁", "一", "▁", "丁", "</s>"]
    assert sum(label >= 0 for label in dropped["labels"]) == 4 and sum(label >= 0 for label in kept["labels"]) == 2


def test_tagger_auto_drops_markers_only_for_char_split_tokenizers(toy_tokenizer):
    chinese = chinese_rows(CHINESE_TEXT, CHINESE_ENTITIES)
    assert tagger.resolve_lone_markers("auto", build_sentencepiece_style_tokenizer(), chinese) is True
    english = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(
                [{"text": "John lives in Paris", "tokens": ["John", "lives", "in", "Paris"], "entities": []}]
            )
        }
    )
    assert tagger.resolve_lone_markers("auto", toy_tokenizer, english) is False
    assert tagger.resolve_lone_markers("keep", build_sentencepiece_style_tokenizer(), chinese) is False
    assert tagger.resolve_lone_markers("drop", toy_tokenizer, english) is True
