"""`bench/boundary_confidence.py`: LEAR's and the tagger's confidence at gold boundaries, split by mentions seen and
unseen in training. Models whose outputs are fixed by their biases give known answers."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TOY_LABELS, TOY_SENTENCES, build_tiny_model, tiny_encoder_config
from test_run_lear import save_corpus, toy_rows
from transformers import BertForTokenClassification

from bench.boundary_confidence import miss_kind, miss_kinds, probe
from bench.tagger import bio_tag_names


def constant_models(tmp_path, toy_tokenizer):
    """A LEAR model sure that every token starts and ends every label, and a tagger sure that every word is O."""
    lear = build_tiny_model(toy_tokenizer)
    with torch.no_grad():
        lear.span_head.start_classifier.bias.fill_(30.0)
        lear.span_head.end_classifier.bias.fill_(30.0)
    lear.save_pretrained(tmp_path / "lear")
    toy_tokenizer.save_pretrained(tmp_path / "lear")
    tags = bio_tag_names(list(TOY_LABELS))
    tagger = BertForTokenClassification(
        tiny_encoder_config(
            len(toy_tokenizer),
            num_labels=len(tags),
            id2label=dict(enumerate(tags)),
            label2id={tag: k for k, tag in enumerate(tags)},
        )  # fmt: skip
    )
    with torch.no_grad():
        tagger.classifier.weight.zero_()
        tagger.classifier.bias.fill_(-30.0)
        tagger.classifier.bias[tags.index("O")] = 30.0
    tagger.save_pretrained(tmp_path / "tagger")
    toy_tokenizer.save_pretrained(tmp_path / "tagger")
    return tmp_path / "lear", tmp_path / "tagger"


def test_detection_and_ranking_of_models_with_known_outputs(tmp_path, toy_tokenizer):
    lear_dir, tagger_dir = constant_models(tmp_path, toy_tokenizer)
    # the first four toy sentences are the training split: test mentions from the last four are unseen
    corpus = save_corpus(tmp_path / "corpus", {"train": toy_rows(4, "train"), "test": toy_rows(8, "test")})
    result = probe(lear_dir, tagger_dir, corpus, max_length=64)

    gold = sum(len(entities) for _, entities in TOY_SENTENCES)
    seen_in_train = sum(len(entities) for _, entities in TOY_SENTENCES[:4])
    assert result["lear"]["seen"]["mentions"] == seen_in_train
    assert result["lear"]["seen"]["mentions"] + result["lear"]["unseen"]["mentions"] == gold
    for group in ("seen", "unseen"):
        lear, tagger = result["lear"][group], result["tagger"][group]
        assert lear["detected"] == 1.0 and lear["start_median"] == pytest.approx(1.0)
        assert lear["start_ranking"]["roc_auc"] == pytest.approx(0.5)  # every pair tied: no ranking at all
        assert tagger["detected"] == 0.0 and tagger["start_median"] < 1e-6
        assert lear["both_at_least"]["0.5"] == 1.0 and tagger["both_at_least"]["0.05"] == 0.0
    assert result["lear_thresholds"] == {label: 0.5 for label in TOY_LABELS}
    assert result["lear_any_label_both_at_least"]["unseen"]["0.7"] == 1.0
    assert result["miss_kinds"] == {}  # neither folder holds a scored run's predictions.jsonl


def test_miss_kinds_name_what_the_predictions_made_of_each_gold_mention(tmp_path):
    gold = (10, 15, "PER")
    assert miss_kind(gold, [(10, 15, "PER"), (10, 15, "ORG")]) == "correct"
    assert miss_kind(gold, [(10, 15, "ORG")]) == "wrong label"
    assert miss_kind(gold, [(12, 20, "PER")]) == "boundary overlap"
    assert miss_kind(gold, [(0, 10, "PER"), (15, 18, "PER")]) == "nothing"  # touching, not overlapping

    record = {
        "text": "Alice met Bob",
        "gold": [{"start": 0, "end": 5, "label": "PER"}, {"start": 10, "end": 13, "label": "PER"}],
        "predicted": [{"start": 0, "end": 5, "label": "PER"}],
    }
    (tmp_path / "predictions.jsonl").write_text(json.dumps(record) + "\n")
    shares = miss_kinds(tmp_path, seen={"alice"})
    assert shares["seen"] == {"correct": 1.0, "wrong label": 0.0, "boundary overlap": 0.0, "nothing": 0.0}
    assert shares["unseen"]["nothing"] == 1.0
