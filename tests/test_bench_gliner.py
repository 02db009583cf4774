"""The GLiNER baseline (`bench/gliner.py`): the corpus's character-offset entities become GLiNER's word spans and
its predicted word spans go back to character spans, inputs are cut at max_length pieces, and a tiny random-encoder
GLiNER trains, selects its epoch on validation and writes gliner_results.json and predictions.jsonl. Skipped when
the optional `gliner` package is not installed (setup.cfg's `gliner` extra says how to install it)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import datasets
import pytest
import torch
from conftest import TOY_LABELS, TOY_SENTENCES, tiny_encoder_config
from test_run_lear import save_corpus, toy_rows
from transformers import BertModel, BertTokenizerFast


pytest.importorskip(
    "gliner", reason="the optional gliner package is not installed (pip install --no-deps gliner==0.2.29)"
)

from bench import gliner as baseline  # noqa: E402  (after the skip: it imports gliner)


TEXT = "  Alice  lives in New York ."  # irregular spaces: offsets come from the words, not from split()
WORDS = ["Alice", "lives", "in", "New", "York", "."]
ENTITIES = [{"start": 2, "end": 7, "label": "PER"}, {"start": 18, "end": 26, "label": "LOC"}]


def test_entities_become_word_spans_at_text_start_and_multi_word():
    assert baseline.word_spans(TEXT, WORDS, ENTITIES) == [[0, 0, "PER"], [3, 4, "LOC"]]


def test_entity_at_the_very_end_of_the_text():
    text, words = "I met Bob", ["I", "met", "Bob"]
    assert baseline.word_spans(text, words, [{"start": 6, "end": 9, "label": "PER"}]) == [[2, 2, "PER"]]
    assert baseline.char_spans(text, words, [(2, 2, "PER", 0.9)]) == [(6, 9, "PER", 0.9)]


def test_word_spans_map_back_to_the_same_character_spans():
    spans = [(first, last, label, 1.0) for first, last, label in baseline.word_spans(TEXT, WORDS, ENTITIES)]
    back = baseline.char_spans(TEXT, WORDS, spans)
    assert [(start, end, label) for start, end, label, _ in back] == [(e["start"], e["end"], e["label"]) for e in
                                                                      ENTITIES]  # fmt: skip
    assert [TEXT[start:end] for start, end, _, _ in back] == ["Alice", "New York"]


def test_character_split_text_keeps_its_units():
    text = "张三在北京"  # Weibo-style: one word per character, no spaces for a whitespace splitter to find
    spans = baseline.word_spans(text, list(text), [{"start": 3, "end": 5, "label": "LOC"}])
    assert spans == [[3, 4, "LOC"]]
    assert baseline.char_spans(text, list(text), [(3, 4, "LOC", 0.5)]) == [(3, 5, "LOC", 0.5)]


def bert_dir(tmp_path):
    """A tiny random BERT with a BertTokenizerFast over a small written vocabulary (no network)."""
    words = sorted({word.lower() for text, _ in TOY_SENTENCES for word in text.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "loc", "org", "per", "new", "york", "##s"] + words
    # transformers 5's BertTokenizerFast (an alias of the tokenizers-backed BertTokenizer) takes the vocabulary as
    # `vocab` (a file or a dict); the 4.x keyword `vocab_file` is silently ignored, leaving only the special tokens
    (tmp_path / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"), model_max_length=128)
    assert len(tokenizer) == len(dict.fromkeys(vocab))
    path = tmp_path / "encoder"
    torch.manual_seed(0)
    BertModel(tiny_encoder_config(len(tokenizer)), add_pooling_layer=False).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, tokenizer


def test_inputs_are_cut_at_the_piece_budget(tmp_path):
    _, tokenizer = bert_dir(tmp_path)
    words = ["alice", "lives", "in", "paris"]
    assert baseline.word_budget(tokenizer, words, 10) == 4
    assert baseline.word_budget(tokenizer, words, 3) == 3
    assert baseline.word_budget(tokenizer, ["yorks", "alice"], 1) == 0  # "york ##s": two pieces, cut whole
    assert baseline.word_budget(tokenizer, words, 0) == 0
    rows = datasets.Dataset.from_list([{"text": TEXT, "tokens": WORDS, "entities": ENTITIES}])
    items = baseline.training_items(rows, [3], ["per", "loc"], {"PER": "per", "LOC": "loc"})
    assert items == [{"tokenized_text": WORDS[:3], "ner": [[0, 0, "per"]], "ner_labels": ["per", "loc"]}]


def gliner_arguments(encoder_dir, corpus_dir, output_dir, *extra: str):
    return baseline.parse_args([
        "--encoder", str(encoder_dir), "--dataset_dir", str(corpus_dir), "--output_dir", str(output_dir),
        "--num_train_epochs", "2", "--learning_rate", "1e-3", "--batch_size", "8", "--max_length", "32",
        "--hidden_size", "16", "--max_width", "4", "--threads", "1", *extra,
    ])  # fmt: skip


def test_tiny_gliner_trains_selects_on_dev_and_writes_results(tmp_path):
    encoder_dir, _ = bert_dir(tmp_path)
    splits = {"train": toy_rows(16, "train"), "validation": toy_rows(8, "validation"), "test": toy_rows(12, "test")}
    corpus = save_corpus(tmp_path / "corpus", splits, TOY_LABELS)

    results = baseline.train_and_score(gliner_arguments(encoder_dir, corpus, tmp_path / "run", "--select_on_dev"))
    written = json.loads((tmp_path / "run" / "gliner_results.json").read_text())
    assert written == results
    for key in ("predict_precision", "predict_recall", "predict_f1", "predict_n_gold", "predict_n_predicted",
                "best_dev_f1", "train_seconds", "predict_seconds", "threshold", "learning_rate", "focal_alpha",
                "focal_gamma", "head_lr_multiplier", "num_train_epochs"):  # fmt: skip
        assert key in results, key
    assert results["model"] == "gliner"
    assert results["predict_n_gold"] == sum(len(row["entities"]) for row in splits["test"])
    assert results["threshold"] in baseline.THRESHOLDS and results["train_steps"] == 4
    assert len(results["dev_history"]) == 2  # one validation pass per epoch
    assert results["best_dev_f1"] == max(epoch["f1"] for epoch in results["dev_history"])
    assert results["dev_f1"] == results["dev_f1_by_threshold"][str(results["threshold"])]

    lines = (tmp_path / "run" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(splits["test"])
    first = json.loads(lines[0])
    assert set(first) == {"text", "gold", "predicted"}
    assert first["gold"][0] == {"start": 0, "end": 5, "label": "PER", "text": "Alice"}
    for line in map(json.loads, lines):
        for span in line["predicted"]:
            assert set(span) == {"start", "end", "label", "text", "score"}
            assert line["text"][span["start"] : span["end"]] == span["text"] and span["label"] in TOY_LABELS

    # a second invocation into the same folder resumes from the last checkpoint instead of training again
    checkpoints = sorted(path.name for path in (tmp_path / "run").glob("checkpoint-*"))
    again = baseline.train_and_score(gliner_arguments(encoder_dir, corpus, tmp_path / "run", "--select_on_dev"))
    assert sorted(path.name for path in (tmp_path / "run").glob("checkpoint-*")) == checkpoints
    assert again["predict_f1"] == results["predict_f1"] and again["threshold"] == results["threshold"]
    assert again["best_dev_f1"] == results["best_dev_f1"]

    # --init starts from the trained model (its weights and head settings), not from a fresh head on the encoder
    kept = torch.load(tmp_path / "run" / "pytorch_model.bin", weights_only=True)  # keys without the wrapper's "model."
    fresh = baseline.build_model(gliner_arguments(encoder_dir, corpus, tmp_path / "run")).state_dict()
    started = baseline.build_model(
        gliner_arguments(encoder_dir, corpus, tmp_path / "next", "--init", str(tmp_path / "run"))
    ).state_dict()
    assert (
        {name.removeprefix("model.") for name in started}
        == set(kept)
        == {name.removeprefix("model.") for name in fresh}
    )
    assert all(torch.equal(value, kept[name.removeprefix("model.")]) for name, value in started.items())
    assert not all(torch.equal(value, kept[name.removeprefix("model.")]) for name, value in fresh.items())


def test_fixed_threshold_without_selection(tmp_path):
    encoder_dir, _ = bert_dir(tmp_path)
    splits = {"train": toy_rows(8, "train"), "validation": toy_rows(4, "validation"), "test": toy_rows(4, "test")}
    corpus = save_corpus(tmp_path / "corpus", splits, TOY_LABELS)
    arguments = gliner_arguments(encoder_dir, corpus, tmp_path / "run", "--threshold", "0.35", "--label_sampling",
                                 "gliner", "--label_prompt", "description", "--max_length", "128")  # fmt: skip
    results = baseline.train_and_score(arguments)
    assert results["threshold"] == 0.35 and results["threshold_source"] == "given"
    assert results["dev_history"] == [] and not list((tmp_path / "run").glob("checkpoint-*"))
    assert results["predict_n_gold"] == sum(len(row["entities"]) for row in splits["test"])


def test_min_train_steps_gives_a_small_split_lears_step_budget(tmp_path):
    """16 sentences in batches of 8 for 2 epochs are 4 steps: --min_train_steps 20 trains 20, evaluating (and
    saving, so the best pass has a checkpoint) 4 times along the way, as run_lear.py and the tagger do."""
    arguments = gliner_arguments("encoder", "corpus", tmp_path, "--select_on_dev", "--min_train_steps", "20")
    floored = baseline.training_arguments(arguments, train_samples=16)
    assert floored.max_steps == 20
    assert (floored.eval_strategy, floored.eval_steps) == ("steps", 5)
    assert (floored.save_strategy, floored.save_steps) == ("steps", 5)
    enough = baseline.training_arguments(arguments, train_samples=80)  # 2 epochs of 10 steps: no switch
    assert enough.max_steps == -1 and enough.eval_strategy == "epoch"


# ---- the zero-shot peer: GLiNER trained on a mix of corpora (bench/gliner_zero_shot.py) ------------------------


def test_training_windows_keep_whole_entities_and_prompt_only_the_own_corpus_labels(toy_tokenizer):
    from bench import gliner_zero_shot

    text = "Bob works for Acme in Berlin"
    words = text.split()
    assert gliner_zero_shot.word_windows(toy_tokenizer, words, 3) == [(0, 3), (3, 6)]
    rows = [{"text": text, "tokens": words, "label_set": 0,
             "entities": [{"start": 0, "end": 3, "label": "PER"}, {"start": 14, "end": 18, "label": "ORG"}]}]  # fmt: skip
    names = ["PER", "ORG", "LOC", "DRUG"]
    items = gliner_zero_shot.training_items(rows, toy_tokenizer, [[0, 1, 2]], names, {n: n for n in names}, 3, 2, 0)
    assert [item["tokenized_text"] for item in items] == [["Bob", "works", "for"], ["Acme", "in", "Berlin"]]
    assert items[0]["ner"] == [[0, 0, "PER"]] and items[1]["ner"] == [[0, 0, "ORG"]]
    for item in items:  # gold first, negatives from the text's own corpus only (never DRUG), at most 2 prompts
        assert len(item["ner_labels"]) == 2 and "DRUG" not in item["ner_labels"]
        assert {label for *_, label in item["ner"]} <= set(item["ner_labels"])


def test_spans_of_several_label_chunks_merge_flat_best_first():
    from bench.gliner_zero_shot import flat_union

    spans = [(0, 5, "A", 0.6), (3, 9, "B", 0.9), (10, 12, "A", 0.7), (0, 2, "C", 0.5)]
    assert flat_union(spans) == [(0, 2, "C", 0.5), (3, 9, "B", 0.9), (10, 12, "A", 0.7)]


def test_zero_shot_peer_can_train_on_names_and_read_descriptions():
    from bench import gliner_zero_shot

    required = ["--encoder", "e", "--dataset_dir", "d", "--corpus", "mit=m", "--output_dir", "o", "--tag", "t"]
    assert gliner_zero_shot.parse_args(required).train_label_prompt == "name"
    assert gliner_zero_shot.parse_args([*required, "--label_prompt", "description"]).train_label_prompt == "description"
    mixed = gliner_zero_shot.parse_args([*required, "--label_prompt", "description", "--train_label_prompt", "name"])
    assert (mixed.train_label_prompt, mixed.label_prompt) == ("name", "description")
    descriptions = {"actor": "names of actors", "year": "years and decades"}
    assert gliner_zero_shot.prompts_by_label(descriptions, "name") == {"actor": "actor", "year": "year"}
    assert gliner_zero_shot.prompts_by_label(descriptions, "description") == descriptions


def test_long_label_prompts_are_chunked_to_leave_the_text_its_room(toy_tokenizer):
    """Sixteen descriptions would fill GLiNER's whole input: labels are prompted in chunks that fit the budget."""
    from bench.gliner import prompt_pieces
    from bench.gliner_zero_shot import label_chunks

    config = SimpleNamespace(ent_token="<<ENT>>", sep_token="<<SEP>>")
    names = list("abcdef")  # one piece each: chunks are cut by --max_labels alone
    assert label_chunks(toy_tokenizer, config, names, {n: n for n in names}, 4, 384) == [list("abcd"), list("ef")]
    long = {name: " ".join(["people"] * 10) for name in names}
    long["f"] = " ".join(["people"] * 80)  # over the budget alone: a chunk of its own
    budget = prompt_pieces(toy_tokenizer, [long["a"], long["b"]], "<<ENT>>", "<<SEP>>")  # two long prompts, not three
    assert label_chunks(toy_tokenizer, config, names, long, 4, budget) == [["a", "b"], ["c", "d"], ["e"], ["f"]]
