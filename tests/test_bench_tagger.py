"""The BIO tagger baseline of the benchmarks (`bench/tagger.py`): it trains, scores the test split with LEAR's scorer,
selects its checkpoint on the validation split when asked, and resumes an interrupted run."""

from __future__ import annotations

import json

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
