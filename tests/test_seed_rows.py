"""bench/seed_rows.py's pieces that need no training: the recipes, the tagger's refusal of nested corpora, and the
result fields read from a finished run's files."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bench import seed_rows


def test_every_recipe_names_a_known_encoder():
    assert {recipe.encoder_name for recipe in seed_rows.RECIPES.values()} <= set(seed_rows.ENCODERS)
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
        assert "--learning_rate" not in given  # the baseline's default: run_lear.py's rule for the encoder
        assert given["--batch_size"] == str(LearTrainingArguments.per_device_train_batch_size)
        assert "--select_on_dev" in command
        own_rate = dataclasses.replace(seed_rows.RECIPES["conll2003"], learning_rate=5e-5)  # as the Chinese recipes
        given = build("conll2003", own_rate, tmp_path, 0, tmp_path / "run")
        assert dict(zip(given, given[1:]))["--learning_rate"] == "5e-05"


def test_a_result_is_never_replaced(tmp_path, monkeypatch):
    """A second write to the same bench/results name fails, naming the file, and leaves the first one as it was; a
    scratch copy outside bench/results is replaced."""
    from bench import common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    first = common.write_result(tmp_path / "results" / "conll2003-lear-1.0-seed0.json", {"test_f1": 0.9})
    with pytest.raises(FileExistsError, match=r"conll2003-lear-1\.0-seed0\.json exists: pass a --tag"):
        common.write_result(first, {"test_f1": 0.1})
    assert json.loads(first.read_text()) == {"test_f1": 0.9}
    scratch = common.write_result(tmp_path / "outputs" / "quality.json", {"run": 1})
    common.write_result(scratch, {"run": 2})
    assert json.loads(scratch.read_text()) == {"run": 2}


def test_a_run_whose_result_exists_stops_before_training(tmp_path, monkeypatch):
    from bench import common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    (tmp_path / "phee-lear-1.0-seed0.json").write_text("{}")
    monkeypatch.setattr(seed_rows, "training_data", lambda *_: pytest.fail("a taken name must fail before the run"))
    with pytest.raises(FileExistsError, match="phee-lear-1.0-seed0.json exists"):
        seed_rows.run("phee", "lear", 0)


def test_the_recorded_commit_ignores_waiting_results_but_not_code(tmp_path, monkeypatch):
    """A result file not yet committed leaves the recorded commit clean; a changed or new source file marks it."""
    import subprocess

    from bench import common

    monkeypatch.delenv("LEAR_COMMIT", raising=False)
    for name, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)

    def git(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "model.py").write_text("x = 1\n")
    git("add", "model.py")
    git("commit", "-q", "-m", "first")
    head = git("rev-parse", "--short", "HEAD")
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "results" / "conll2003-lear-1.0-seed0.json").write_text("{}")
    assert common.git_commit(tmp_path) == head
    (tmp_path / "helper.py").write_text("y = 2\n")
    assert common.git_commit(tmp_path).startswith(head + "+uncommitted:")
    (tmp_path / "helper.py").unlink()
    (tmp_path / "model.py").write_text("x = 2\n")
    (tmp_path / "new.py").write_text("z = 3\n")
    commit = common.git_commit(tmp_path)
    assert commit.startswith(head + "+uncommitted:") and common.git_commit(tmp_path) == commit  # one patch a diff
    # the patch rebuilds the code the result ran with (issue 34: 104 results recorded a bare "+uncommitted")
    patch = tmp_path / "bench" / "results" / "patches" / commit.split(":", 1)[1]
    git("stash", "-q", "--include-untracked", "--", "model.py", "new.py")
    assert (tmp_path / "model.py").read_text() == "x = 1\n" and not (tmp_path / "new.py").exists()
    git("apply", str(patch))
    assert (tmp_path / "model.py").read_text() == "x = 2\n" and (tmp_path / "new.py").read_text() == "z = 3\n"


def test_a_few_shot_subset_keeps_the_first_sentences_and_takes_the_next_as_dev(tmp_path, monkeypatch):
    import datasets

    from bench import quality

    monkeypatch.setattr(quality, "QUALITY_DIR", tmp_path / "quality")
    rows = [{"text": f"sentence {i}", "entities": []} for i in range(7)]
    corpus_dir = tmp_path / "toy"
    datasets.DatasetDict({
        "train": datasets.Dataset.from_list(rows), "test": datasets.Dataset.from_list(rows[:2]),
    }).save_to_disk(str(corpus_dir))  # fmt: skip
    (corpus_dir / "labels.json").write_text(json.dumps({"PER": "people"}))
    subset = datasets.load_from_disk(str(quality.make_first_subset(corpus_dir, 3)))
    assert subset["train"]["text"] == ["sentence 0", "sentence 1", "sentence 2"]
    assert subset["validation"]["text"] == ["sentence 3", "sentence 4", "sentence 5"]
    assert len(subset["test"]) == 2
    with pytest.raises(SystemExit, match="fewer than the 8"):
        quality.make_first_subset(corpus_dir, 4)


def test_a_run_from_a_lear_checkpoint_relabels_it_with_the_corpus_labels(tmp_path, monkeypatch):
    monkeypatch.setattr(seed_rows, "minilm_dir", lambda: "encoder")
    recipe = seed_rows.RECIPES["mit_movie"]
    variant = seed_rows.Variant(tag="from-mix", init="outputs/zero-shot/lear")
    arguments = seed_rows.run_arguments("mit_movie", recipe, tmp_path, 0, tmp_path / "run", variant)
    assert arguments["model_name_or_path"] == "outputs/zero-shot/lear"
    assert arguments["label_descriptions"] == str(tmp_path / "labels.json")
    assert "init" not in arguments  # not a run_lear.py argument
    plain = seed_rows.run_arguments("mit_movie", recipe, tmp_path, 0, tmp_path / "run")
    assert plain["model_name_or_path"] == "encoder" and "label_descriptions" not in plain
    assert (
        seed_rows.run_name("mit_movie", "lear", 1, 1.0, "from-mix", first=100)
        == "mit_movie-lear-first100-seed1-from-mix"
    )
