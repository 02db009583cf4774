"""The default encoder learning rate follows the encoder's size (`encoder_learning_rate`), is logged at the start of a
run and recorded in its arguments, `--learning_rate` wins, the baselines get the same rule, and a run whose
evaluations find no span says so while it trains."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from conftest import tiny_encoder_config
from test_run_lear import run_lear, save_corpus, toy_rows
from transformers import BertModel, TrainerControl, TrainerState, TrainingArguments

from lear.trainer import CollapseWarning
from lear.training_args import REFERENCE_LEARNING_RATE, encoder_learning_rate


@pytest.fixture(scope="module")
def toy_corpus_dir(tmp_path_factory) -> Path:
    return save_corpus(
        tmp_path_factory.mktemp("corpus"), {name: toy_rows(16, name) for name in ("train", "validation")}
    )


def test_deeper_or_wider_encoders_get_a_lower_rate_and_small_ones_the_measured_one():
    minilm_sized = tiny_encoder_config(100, num_hidden_layers=6, hidden_size=384)
    base_sized = tiny_encoder_config(100, num_hidden_layers=12, hidden_size=768)
    large_sized = tiny_encoder_config(100, num_hidden_layers=24, hidden_size=1024)
    assert encoder_learning_rate(minilm_sized)[0] == REFERENCE_LEARNING_RATE == 2e-4
    assert encoder_learning_rate(tiny_encoder_config(100, num_hidden_layers=12, hidden_size=384))[0] == 1e-4
    assert encoder_learning_rate(base_sized)[0] == 5e-5
    assert encoder_learning_rate(large_sized)[0] == pytest.approx(1.9e-5)
    assert encoder_learning_rate(tiny_encoder_config(100))[0] == 2e-4  # 2 x 32: never above the measured rate
    rate, reason = encoder_learning_rate(object())  # a config without the two sizes
    assert rate == 2e-4 and "no size" in reason


@pytest.fixture(scope="module")
def encoders_by_size(tmp_path_factory, toy_tokenizer) -> dict[str, Path]:
    """Random encoders of MiniLM's and BERT-base's depth and width (tiny otherwise: a toy vocabulary, narrow
    feed-forward layers), saved with the toy tokenizer."""
    folders = {}
    for name, (layers, width) in {"6x384": (6, 384), "12x768": (12, 768)}.items():
        folder = tmp_path_factory.mktemp(f"encoder_{name}")
        config = tiny_encoder_config(
            len(toy_tokenizer), num_hidden_layers=layers, hidden_size=width, num_attention_heads=4,
            intermediate_size=32,
        )  # fmt: skip
        torch.manual_seed(0)
        BertModel(config, add_pooling_layer=False).save_pretrained(folder)
        toy_tokenizer.save_pretrained(folder)
        folders[name] = folder
    return folders


def train_one_step(encoder: Path, corpus: Path, output_dir: Path, *extra: str) -> float:
    """Train one step with run_lear.py; the encoder learning rate the run used (its saved arguments)."""
    run_lear.main([
        "--model_name_or_path", str(encoder), "--dataset_dir", str(corpus), "--output_dir", str(output_dir),
        "--do_train", "--max_steps", "1", "--save_strategy", "no", "--use_cpu", "--report_to", "none",
        "--per_device_train_batch_size", "2", "--max_train_samples", "4", "--log_level", "info",
        "--disable_tqdm", "true", *extra,
    ])  # fmt: skip
    return torch.load(output_dir / "training_args.bin", weights_only=False).learning_rate


def test_a_run_logs_the_default_rate_of_its_encoder_and_learning_rate_overrides_it(
    encoders_by_size, toy_corpus_dir, tmp_path, caplog
):
    with caplog.at_level(logging.INFO):
        small = train_one_step(encoders_by_size["6x384"], toy_corpus_dir, tmp_path / "small")
        base = train_one_step(encoders_by_size["12x768"], toy_corpus_dir, tmp_path / "base")
    assert (small, base) == (2e-4, 5e-5)
    logged = [record.getMessage() for record in caplog.records if "Encoder learning rate" in record.getMessage()]
    assert logged[0].startswith("Encoder learning rate 0.0002 for a 6-layer 384-wide encoder")
    assert logged[1].startswith("Encoder learning rate 5e-05 for a 12-layer 768-wide encoder")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        given = train_one_step(
            encoders_by_size["12x768"], toy_corpus_dir, tmp_path / "given", "--learning_rate", "3e-4"
        )
    assert given == 3e-4
    assert "Encoder learning rate 0.0003 (--learning_rate)" in caplog.text


def test_the_baselines_get_the_same_default_rate(encoders_by_size):
    from bench import gliner, tagger

    common = ["--dataset_dir", "data", "--output_dir", "out"]
    for parse in (tagger.parse_args, gliner.parse_args):
        assert parse(["--encoder", str(encoders_by_size["12x768"]), *common]).learning_rate == 5e-5
        assert parse(["--encoder", str(encoders_by_size["6x384"]), *common]).learning_rate == 2e-4
        given = ["--encoder", str(encoders_by_size["12x768"]), *common, "--learning_rate", "1e-3"]
        assert parse(given).learning_rate == 1e-3


def evaluation_state(losses: list[float]) -> TrainerState:
    state = TrainerState(global_step=50, max_steps=200)
    state.log_history = [{"loss": loss, "step": 10 * (index + 1)} for index, loss in enumerate(losses)]
    return state


def test_an_evaluation_that_finds_nothing_during_training_warns_with_the_fix(tmp_path, caplog):
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=2e-4, report_to="none", use_cpu=True)
    with caplog.at_level(logging.WARNING, logger="lear.trainer"):
        CollapseWarning().on_evaluate(
            args,
            evaluation_state([0.9, 0.05]),
            TrainerControl(),
            metrics={"eval_n_predicted": 0, "eval_n_gold": 12, "eval_PER_n_predicted": 0, "eval_PER_n_gold": 7},
        )
    (warning,) = [record for record in caplog.records if record.name == "lear.trainer"]
    message = warning.getMessage()
    assert message.startswith("Step 50 of 200: the model predicts NO span on the validation split (12 gold entities)")
    assert "from 0.9 to 0.05" in message and "--learning_rate" in message and "5e-05" in message
    caplog.clear()
    for metrics in ({"eval_n_predicted": 3, "eval_n_gold": 12}, {"eval_n_predicted": 0, "eval_n_gold": 0}):
        CollapseWarning().on_evaluate(args, evaluation_state([0.9]), TrainerControl(), metrics=metrics)
    assert not [record for record in caplog.records if record.name == "lear.trainer"]


def test_a_run_that_learns_nothing_is_told_at_its_first_evaluation(tiny_encoder_dir, toy_corpus_dir, tmp_path, caplog):
    # at learning rate 0, with thresholds no boundary probability reaches, the model finds no span at any evaluation
    with caplog.at_level(logging.WARNING, logger="lear.trainer"):
        run_lear.main([
            "--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(toy_corpus_dir),
            "--output_dir", str(tmp_path / "run"), "--do_train", "--do_eval", "--max_steps", "4",
            "--eval_strategy", "steps", "--eval_steps", "2", "--save_strategy", "no", "--learning_rate", "0",
            "--config_overrides", "start_threshold=0.99999,end_threshold=0.99999",
            "--use_cpu", "--report_to", "none", "--per_device_train_batch_size", "4", "--max_train_samples", "16",
            "--max_eval_samples", "8", "--log_level", "warning", "--disable_tqdm", "true",
        ])  # fmt: skip
    steps = [record.getMessage()[:12] for record in caplog.records if "predicts NO span" in record.getMessage()]
    assert steps == ["Step 2 of 4:", "Step 4 of 4:"]
