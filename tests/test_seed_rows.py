"""bench/seed_rows.py's pieces that need no training: the recipes, the tagger's refusal of nested corpora, and the
result fields read from a finished run's files."""

from __future__ import annotations

import json

import pytest

from bench import seed_rows


def test_every_recipe_names_a_known_encoder():
    assert {recipe.encoder_name for recipe in seed_rows.RECIPES.values()} <= {seed_rows.MINILM, seed_rows.ME5}
    assert all(seed_rows.RECIPES[corpus].nested for corpus in ("ace2004", "ace2005", "genia"))


def test_the_tagger_refuses_a_nested_corpus(tmp_path):
    with pytest.raises(SystemExit, match="nested"):
        seed_rows.tagger_command("genia", seed_rows.RECIPES["genia"], tmp_path, 0, tmp_path / "run")


def test_tagger_result_records_how_lone_markers_were_fed(tmp_path):
    scores = {"predict_precision": 0.5, "predict_recall": 0.25, "predict_f1": 1 / 3, "predict_n_gold": 8,
              "predict_PER_f1": 0.4, "predict_n_predicted": 4, "best_dev_f1": 0.3, "train_seconds": 12.0}  # fmt: skip
    (tmp_path / "tagger_results.json").write_text(json.dumps({**scores, "lone_markers": "drop"}))
    result = seed_rows.tagger_result(tmp_path)
    assert result["test_f1"] == pytest.approx(1 / 3) and result["test_entities"] == 8
    assert result["per_label"] == {"f1": pytest.approx(1 / 3), "precision": 0.5, "recall": 0.25, "PER_f1": 0.4}
    assert result["lone_markers"] == "drop" and result["best_dev_f1"] == 0.3
    (tmp_path / "tagger_results.json").write_text(json.dumps(scores))  # a run from before the option
    assert seed_rows.tagger_result(tmp_path)["lone_markers"] == "keep"


def test_baselines_get_lears_step_floor_and_recipe(tmp_path):
    """The tagger and GLiNER train under run_lear.py's defaults: the same step floor, learning rates and batch."""
    from lear.training_args import LearTrainingArguments

    for build in (seed_rows.tagger_command, seed_rows.gliner_command):
        command = build("conll2003", seed_rows.RECIPES["conll2003"], tmp_path, 0, tmp_path / "run")
        given = dict(zip(command, command[1:]))
        assert given["--min_train_steps"] == str(LearTrainingArguments.min_train_steps)
        assert given["--learning_rate"] == str(LearTrainingArguments.learning_rate)
        assert given["--batch_size"] == str(LearTrainingArguments.per_device_train_batch_size)
        assert "--select_on_dev" in command
