"""`run_lear.py` end to end on tiny random encoders: outputs, distributed runs, resuming, the metric code against
seqeval, long texts keeping every gold entity, and early failures on bad arguments."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import random
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import datasets
import pytest
import torch
from conftest import REPO_ROOT, TOY_LABELS, TOY_SENTENCES, build_sentencepiece_style_tokenizer, tiny_encoder_config
from huggingface_hub.errors import StrictDataclassError
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from transformers import AutoTokenizer, BertModel

import run_lear_outputs as run_outputs
import run_lear_setup as run_setup
from data_scripts.schema import FEATURES
from lear import LearConfig, LearForSpanExtraction, evaluation, tokenize_label_descriptions
from lear.evaluation import THRESHOLD_CANDIDATES, EvaluationSplit, evaluate_spans, predict_text_spans
from lear.metrics import bio_to_spans, span_scores
from lear.modeling_lear import LearSpanExtractionOutput
from lear.trainer import LearTrainer, optimizer_cls_and_kwargs
from lear.training import LearDataCollator, LearFeatureBuilder, feature_code_digest
from lear.training_args import LearTrainingArguments


def _load_run_lear():
    # run_lear.py is a script at the repository root, not part of the installed package
    spec = importlib.util.spec_from_file_location("run_lear", REPO_ROOT / "run_lear.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_lear"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


run_lear = _load_run_lear()


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread():
    """Tiny models run far faster on one thread on a shared 2-core machine (no OpenMP contention)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# ---------------------------------------------------------------------------------------------------------------------
# Tiny encoders, checkpoints and corpora on disk
# ---------------------------------------------------------------------------------------------------------------------


def toy_rows(count: int, prefix: str) -> list[dict]:
    """`count` rows in the data_scripts schema, cycling through the toy sentences."""
    rows = []
    for index in range(count):
        text, entities = TOY_SENTENCES[index % len(TOY_SENTENCES)]
        rows.append(
            {
                "id": f"{prefix}-{index}",
                "text": text,
                "tokens": text.split(),
                "entities": [{"start": start, "end": end, "label": label} for start, end, label in entities],
            }
        )
    return rows


def long_rows(count: int, sentences_per_text: int, prefix: str) -> list[dict]:
    """Texts made of several toy sentences joined by spaces: far longer than a 24-token window."""
    rows = []
    for index in range(count):
        words, entities, offset = [], [], 0
        for k in range(sentences_per_text):
            text, sentence_entities = TOY_SENTENCES[(index + k) % len(TOY_SENTENCES)]
            entities += [{"start": offset + s, "end": offset + e, "label": label} for s, e, label in sentence_entities]
            words += text.split()
            offset += len(text) + 1
        text = " ".join(words)
        rows.append({"id": f"{prefix}-{index}", "text": text, "tokens": words, "entities": entities})
    return rows


def window_features(examples: datasets.Dataset, builder: LearFeatureBuilder) -> datasets.Dataset:
    return examples.map(
        builder, batched=True, with_indices=True, remove_columns=examples.column_names, features=builder.features
    )


def save_corpus(path: Path, splits: dict[str, list[dict]], labels: dict[str, str] | None = TOY_LABELS) -> Path:
    dataset = datasets.DatasetDict(
        {name: datasets.Dataset.from_list(rows, features=FEATURES) for name, rows in splits.items()}
    )
    dataset.save_to_disk(str(path))
    if labels is not None:
        (path / "labels.json").write_text(json.dumps(labels))
    return path


def save_checkpoint(path: Path, tokenizer, labels: dict[str, str] = TOY_LABELS, **config_kwargs) -> Path:
    """A tiny random LEAR checkpoint. Low thresholds make the untrained model predict many spans."""
    torch.manual_seed(0)
    config = LearConfig(
        encoder_config=tiny_encoder_config(len(tokenizer)),
        id2label=dict(enumerate(labels)),
        label_descriptions=list(labels.values()),
        label_input_ids=tokenize_label_descriptions(tokenizer, list(labels.values()), 64),
        **config_kwargs,
    )
    LearForSpanExtraction(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def busy_checkpoint_dir(tmp_path_factory, toy_tokenizer) -> Path:
    return save_checkpoint(
        tmp_path_factory.mktemp("busy_checkpoint"), toy_tokenizer, start_threshold=0.45, end_threshold=0.45
    )


@pytest.fixture(scope="module")
def toy_corpus_dir(tmp_path_factory) -> Path:
    """64 sentences per split, in the schema data_scripts writes."""
    splits = {name: toy_rows(64, name) for name in ("train", "validation", "test")}
    return save_corpus(tmp_path_factory.mktemp("toy_corpus"), splits)


def common_arguments(output_dir: Path) -> list[str]:
    return [
        "--output_dir", str(output_dir),
        "--use_cpu",
        "--report_to", "none",
        "--dataloader_num_workers", "0",
        "--disable_tqdm", "true",
        "--per_device_train_batch_size", "8",
        "--per_device_eval_batch_size", "8",
        "--log_level", "warning",
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------------
# A full run, from a single JSON file of arguments
# ---------------------------------------------------------------------------------------------------------------------


def test_train_eval_predict_writes_all_outputs(tiny_encoder_dir, toy_corpus_dir, tmp_path):
    output_dir = tmp_path / "run"
    arguments = {
        "model_name_or_path": str(tiny_encoder_dir),
        "dataset_dir": str(toy_corpus_dir),
        "output_dir": str(output_dir),
        "do_train": True,
        "do_eval": True,
        "do_predict": True,
        "max_steps": 6,
        "learning_rate": 1e-3,
        "warmup_steps": 0.1,
        "eval_strategy": "steps",
        "eval_steps": 3,
        "save_steps": 3,
        "logging_steps": 1,
        "use_cpu": True,
        "report_to": "none",
        "dataloader_num_workers": 0,
        "disable_tqdm": True,
        "per_device_train_batch_size": 8,
        "log_level": "warning",
    }
    (tmp_path / "args.json").write_text(json.dumps(arguments))
    results = run_lear.main([str(tmp_path / "args.json")])

    written = ["all_results.json", "train_results.json", "eval_results.json", "predict_results.json"]
    written += ["trainer_state.json", "predictions.jsonl", "eval_predictions.jsonl", "README.md"]
    written += ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    for name in written:
        assert (output_dir / name).is_file(), name
    assert not list(output_dir.glob("checkpoint-*"))  # a finished run keeps its model, not its checkpoints
    eval_results = json.loads((output_dir / "eval_results.json").read_text())
    predict_results = json.loads((output_dir / "predict_results.json").read_text())
    all_results = json.loads((output_dir / "all_results.json").read_text())
    for prefix, scores in (("eval", eval_results), ("predict", predict_results)):
        for key in ("f1", "precision", "recall", "n_gold", "n_predicted", "n_correct", "loss", "samples"):
            assert f"{prefix}_{key}" in scores and f"{prefix}_{key}" in all_results
        for label in TOY_LABELS:
            for key in ("precision", "recall", "f1", "n_gold"):
                assert f"{prefix}_{label}_{key}" in scores
        assert scores[f"{prefix}_n_gold"] == sum(len(entities) for _, entities in TOY_SENTENCES) * 8
    assert results["eval"]["eval_f1"] == eval_results["eval_f1"]

    records = [json.loads(line) for line in (output_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 64
    assert records[1]["text"] == TOY_SENTENCES[1][0]
    assert records[1]["gold"][0] == {"start": 0, "end": 3, "label": "PER", "text": "Bob"}
    for record in records:
        assert set(record) == {"id", "text", "gold", "predicted"}
        for span in record["predicted"]:
            assert set(span) == {"start", "end", "label", "text", "score"} and span["label"] in TOY_LABELS

    card = (output_dir / "README.md").read_text()
    assert TOY_LABELS["LOC"] in card and "| Validation |" in card and "| Test |" in card
    model = LearForSpanExtraction.from_pretrained(output_dir)
    assert model.config.label_names == list(TOY_LABELS)
    # trained with a validation split: thresholds calibrated there (by default one for all labels), span length from
    # the training entities
    assert len(model.config.label_thresholds) == 3 and set(model.config.label_thresholds) <= set(THRESHOLD_CANDIDATES)
    assert len(set(model.config.label_thresholds)) == 1
    assert model.config.max_span_length >= 9  # headroom over the longest entity (a warning: only 192 of them)
    assert AutoTokenizer.from_pretrained(output_dir).is_fast
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 6


def test_max_span_length_has_headroom_and_can_be_set(make_tiny_model, caplog):
    features = datasets.Dataset.from_dict({"gold_spans": [[[0, 3, 0]], [[2, 2, 1]]]})  # the longest: 4 tokens
    model = make_tiny_model()
    with caplog.at_level(logging.INFO, logger=run_setup.logger.name):
        run_setup.set_max_span_length(model, features, 999, "auto")
    assert model.config.max_span_length == 12  # max(2 x 4, 4 + 8), said loudly: few entities back it
    (warning,) = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "max_span_length = 12 tokens from only 999 training entities" in warning.getMessage()
    assert "--max_span_length" in warning.getMessage()
    caplog.clear()
    model.config.max_span_length = None
    with caplog.at_level(logging.INFO, logger=run_setup.logger.name):
        run_setup.set_max_span_length(model, features, 1000, "auto")
    assert model.config.max_span_length == 12 and not [r for r in caplog.records if r.levelno == logging.WARNING]
    long_features = datasets.Dataset.from_dict({"gold_spans": [[[0, 19, 0]]]})
    run_setup.set_max_span_length(model, long_features, 5000, "auto")
    assert model.config.max_span_length == 40  # max(2 x 20, 20 + 8)
    for requested, expected in (("6", 6), ("none", None), ("0", None), ("30", 30)):
        run_setup.set_max_span_length(model, features, 5000, requested)
        assert model.config.max_span_length == expected, requested
    for bad in ("-3", "long", "2.5"):
        with pytest.raises(ValueError, match="--max_span_length must be"):
            run_lear.ModelArguments(model_name_or_path="unused", max_span_length=bad)


def test_one_position_limit_serves_the_script_and_the_pipeline():
    """`windowing.encoder_position_limit`: run_lear.py's --max_seq_length check and the pipeline's default window."""
    from transformers import BertConfig, RobertaConfig

    from lear.windowing import encoder_position_limit

    assert encoder_position_limit(BertConfig(max_position_embeddings=512)) == 512
    assert encoder_position_limit(RobertaConfig(max_position_embeddings=514)) == 512  # positions after padding_idx
    assert encoder_position_limit(BertConfig(position_embedding_type="relative_key")) is None


def test_config_overrides_are_typed_and_reach_a_new_model():
    overrides = run_setup.parse_config_overrides("fusion_residual=false,start_threshold=0.4,decode_strategy=v1")
    assert overrides == {"fusion_residual": False, "start_threshold": 0.4, "decode_strategy": "v1"}
    assert run_setup.parse_config_overrides(None) == {}
    with pytest.raises(ValueError, match="no_such_field"):
        run_setup.parse_config_overrides("no_such_field=1")


def test_a_model_that_predicts_nothing_is_reported_loudly(caplog):
    with caplog.at_level(logging.WARNING, logger=run_outputs.logger.name):
        run_outputs.warn_if_nothing_predicted({"eval_n_predicted": 5, "eval_n_gold": 9}, "eval", trained=True)
        assert not caplog.records
        run_outputs.warn_if_nothing_predicted({"eval_n_predicted": 0, "eval_n_gold": 0}, "eval", trained=True)
        assert not caplog.records  # nothing to find, nothing found
        run_outputs.warn_if_nothing_predicted({"predict_n_predicted": 0, "predict_n_gold": 9}, "predict", trained=True)
    (record,) = caplog.records
    assert "NO span on the test split (9 gold entities)" in record.getMessage()
    assert "all-negative prior" in record.getMessage()


def test_trainer_optimizer_trains_task_layers_at_task_layer_lr(make_tiny_model, tmp_path):
    model = make_tiny_model()
    training_args = LearTrainingArguments(
        output_dir=str(tmp_path), learning_rate=2e-4, task_layer_lr=10.0, use_cpu=True, eval_strategy="no"
    )
    trainer = LearTrainer(
        model=model, args=training_args, optimizer_cls_and_kwargs=optimizer_cls_and_kwargs(model, training_args)
    )
    optimizer = trainer.create_optimizer()
    rates = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert len(rates) == sum(1 for p in model.parameters() if p.requires_grad)
    for name, parameter in model.named_parameters():
        assert rates[id(parameter)] == pytest.approx(2e-4 if name.startswith("encoder.") else 2e-3), name


def test_evaluation_refuses_a_sharded_model_with_the_way_out(make_tiny_model, toy_tokenizer, tmp_path):
    """Under FSDP (or ZeRO-3) evaluation would run the model's methods on parameter shards: it refuses instead. FSDP
    itself cannot run on CPU processes (accelerate sets up DDP there), so the Trainer's flag is set by hand."""
    model = make_tiny_model()
    args = LearTrainingArguments(output_dir=str(tmp_path), use_cpu=True, eval_strategy="no", report_to="none")
    trainer = LearTrainer(
        model=model, args=args, data_collator=LearDataCollator(toy_tokenizer, model.config.num_labels)
    )
    examples = datasets.Dataset.from_list(toy_rows(4, "validation"), features=FEATURES)
    split = EvaluationSplit.from_examples(examples, LearFeatureBuilder(toy_tokenizer, model.config.label2id, 24, 8))
    trainer.evaluate(split)  # unsharded: scores
    trainer.is_fsdp_enabled = True
    with pytest.raises(NotImplementedError, match="sharded model .* --eval_strategy no"):
        trainer.evaluate(split)
    with pytest.raises(NotImplementedError, match="sharded"):
        trainer.calibrate_thresholds(split)


# ---------------------------------------------------------------------------------------------------------------------
# Distributed: torchrun with two CPU processes
# ---------------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LAUNCHERS = {
    "torchrun": lambda: [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
    # two CPU processes without an accelerate config file: --multi_gpu picks the DDP launcher, --use_cpu the device
    "accelerate": lambda: [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "launcher, use_cpu",
    # the README's `torchrun --nproc_per_node 2 run_lear.py ...`, without --use_cpu, must be DDP on a CPU-only machine
    [("torchrun", True), ("accelerate", True), pytest.param("torchrun", False, id="torchrun-as-the-README-writes-it")],
)
def test_two_processes_report_the_same_metrics_as_one(launcher, use_cpu, busy_checkpoint_dir, toy_corpus_dir, tmp_path):
    if not use_cpu and torch.accelerator.is_available():
        pytest.skip("without --use_cpu this machine's accelerator would be used")
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available in this torch build")
    data = [
        "--model_name_or_path", str(busy_checkpoint_dir),
        "--dataset_dir", str(toy_corpus_dir),
        "--max_eval_samples", "37",
        "--max_predict_samples", "21",
        "--per_device_eval_batch_size", "3",
        "--do_eval", "--do_predict",
    ]  # fmt: skip
    # A learning rate of 0 trains (DDP forward, backward, all-reduce, optimizer step) without changing the weights,
    # so the two processes must then score exactly what one process does with the same arguments (training also sets
    # max_span_length and calibrates the thresholds on the validation split, in each process over the whole split).
    training = ["--do_train", "--max_steps", "2", "--learning_rate", "0", "--save_strategy", "no"]
    single = run_lear.main([*common_arguments(tmp_path / "single"), *data, *training])
    # 37 texts in batches of 3 do not split evenly over two processes (the gather must drop the padding duplicates), and group_by_length shuffles the
    # evaluation order too (predictions must still find their windows).
    ddp_arguments = [argument for argument in common_arguments(tmp_path / "ddp") if use_cpu or argument != "--use_cpu"]
    command = [
        *LAUNCHERS[launcher](), str(REPO_ROOT / "run_lear.py"), *ddp_arguments, *data,
        *training, "--train_sampling_strategy", "group_by_length",
    ]  # fmt: skip
    completed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert completed.stdout.count("distributed training: True") == 2
    assert "Process rank: 1," in completed.stdout
    for stage in ("train", "eval", "predict"):  # printed by the main process only
        assert completed.stdout.count(f"***** {stage} metrics *****") == 1, stage
    # a warning both processes would give comes once (issue 33: the max_span_length warning came once per rank)
    assert (completed.stdout + completed.stderr).count("training entities (the longest") == 1

    for stage in ("eval", "predict"):
        ddp = json.loads((tmp_path / "ddp" / f"{stage}_results.json").read_text())
        scores = {key for key in single[stage] if key.endswith(("precision", "recall", "f1")) or "_n_" in key}
        assert {f"{stage}_f1", f"{stage}_LOC_f1", f"{stage}_n_gold", f"{stage}_loss"} <= set(ddp)
        assert scores <= set(ddp)
        assert ddp[f"{stage}_n_predicted"] > 0
        for key in scores:
            assert ddp[key] == pytest.approx(single[stage][key]), key
    assert json.loads((tmp_path / "ddp" / "train_results.json").read_text())["train_samples"] == 64
    assert len((tmp_path / "ddp" / "predictions.jsonl").read_text().splitlines()) == 21


# ---------------------------------------------------------------------------------------------------------------------
# Resuming
# ---------------------------------------------------------------------------------------------------------------------


class TrainerLogMessages(logging.Handler):
    """Collects the Trainer's log messages (transformers' loggers do not propagate to pytest's capture)."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def take(self) -> str:
        text, self.messages = "\n".join(self.messages), []
        return text


@contextlib.contextmanager
def caplog_at_warning():
    """Collect the warnings of run_lear.py and its steps (`run_lear.STEP_LOGGERS`): their loggers do not propagate
    to pytest's caplog once configured."""
    handler = TrainerLogMessages()
    handler.setLevel(logging.WARNING)
    loggers = (run_lear.logger, *map(logging.getLogger, run_lear.STEP_LOGGERS))
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        handler.text = handler.take()
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.fixture
def trainer_log():
    handler = TrainerLogMessages()
    trainer_logger = logging.getLogger("transformers.trainer")
    trainer_logger.addHandler(handler)
    yield handler
    trainer_logger.removeHandler(handler)


def test_resume_from_checkpoint_continues_from_its_global_step(tiny_encoder_dir, toy_corpus_dir, tmp_path, trainer_log):
    output_dir = tmp_path / "run"

    def train(max_steps: int, *extra: str) -> dict:
        arguments = [
            "--model_name_or_path", str(tiny_encoder_dir),
            "--dataset_dir", str(toy_corpus_dir),
            "--do_train",
            "--max_steps", str(max_steps),
            "--save_strategy", "steps", "--save_steps", "2", "--eval_strategy", "no",
            "--keep_checkpoints", "--save_total_limit", "10",  # a finished run's checkpoints, resumed from below
            "--logging_steps", "1",
            "--learning_rate", "1e-3",
            *common_arguments(output_dir),
            "--log_level", "info",
            *extra,
        ]  # fmt: skip
        run_lear.main(arguments)
        return json.loads((output_dir / "trainer_state.json").read_text())

    assert train(4)["global_step"] == 4
    assert "Resuming training" not in trainer_log.take()
    # an explicit checkpoint: training restarts from its step 2, not from 0 and not from the last one (4)
    state = train(6, "--resume_from_checkpoint", str(output_dir / "checkpoint-2"))
    assert "Resuming training from checkpoint with epoch 0 and global step 2" in trainer_log.take()
    assert state["global_step"] == 6
    assert [entry["step"] for entry in state["log_history"] if "loss" in entry] == [1, 2, 3, 4, 5, 6]
    # a finished run is not resumed silently: its model would change under its recorded scores
    with pytest.raises(ValueError, match="holds a finished run"):
        train(8)
    # an interrupted run (checkpoints, no train_results.json): the last checkpoint (checkpoint-6) is resumed, loudly
    for name in ("train_results.json", "all_results.json"):
        (output_dir / name).unlink()
    with caplog_at_warning() as warnings_seen:
        state = train(8)
    assert "global step 6" in trainer_log.take()
    assert f"Resuming the interrupted run in {output_dir} from {output_dir / 'checkpoint-6'}" in warnings_seen.text
    assert state["global_step"] == 8 and (output_dir / "checkpoint-8").is_dir()
    # --overwrite_output_dir trains from scratch and drops the previous run's results first
    (output_dir / "eval_results.json").write_text('{"eval_f1": 0.99}')
    state = train(2, "--overwrite_output_dir")
    assert state["global_step"] == 2 and not (output_dir / "eval_results.json").exists()
    assert "eval_f1" not in json.loads((output_dir / "all_results.json").read_text())


# ---------------------------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------------------------


def random_tags(rng: random.Random, length: int, labels: list[str]) -> list[str]:
    """Random IOB2 tags, well-formed or not (stray I- tags, type changes inside a chunk)."""
    return [rng.choice(["O", "O", "O"] + [f"{p}-{label}" for p in "BI" for label in labels]) for _ in range(length)]


def test_span_scores_equal_seqeval_on_flat_data():
    rng = random.Random(0)
    labels = ["LOC", "MISC", "ORG", "PER"]
    for trial in range(60):
        gold_tags = [random_tags(rng, rng.randint(0, 25), labels) for _ in range(rng.randint(1, 12))]
        predicted_tags = [
            [tag if rng.random() < 0.7 else rng.choice(["O", "B-LOC", "I-LOC", "B-PER", "I-ORG"]) for tag in tags]
            for tags in gold_tags
        ]
        ours = span_scores([bio_to_spans(t) for t in gold_tags], [bio_to_spans(t) for t in predicted_tags])
        assert ours["precision"] == pytest.approx(precision_score(gold_tags, predicted_tags)), trial
        assert ours["recall"] == pytest.approx(recall_score(gold_tags, predicted_tags)), trial
        assert ours["f1"] == pytest.approx(f1_score(gold_tags, predicted_tags)), trial
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns about labels with no predictions
            report = classification_report(gold_tags, predicted_tags, output_dict=True, zero_division=0)
        per_label = {key: value for key, value in report.items() if not key.endswith(" avg")}
        assert {key[: -len("_f1")] for key in ours if key.endswith("_f1") and key != "f1"} == set(per_label)
        for label, scores in per_label.items():
            assert ours[f"{label}_precision"] == pytest.approx(scores["precision"]), (trial, label)
            assert ours[f"{label}_recall"] == pytest.approx(scores["recall"]), (trial, label)
            assert ours[f"{label}_f1"] == pytest.approx(scores["f1-score"]), (trial, label)
            assert ours[f"{label}_n_gold"] == scores["support"], (trial, label)


def test_span_scores_count_nested_spans_and_label_ids():
    gold = [[(0, 10, 0), (0, 4, 1), (5, 10, 1)], []]
    predicted = [[(0, 10, 0, 0.9), (0, 4, 1, 0.8), (0, 4, 0, 0.7)], [(1, 2, 1, 0.6)]]
    scores = span_scores(gold, predicted, label_names=["ORG", "PER"])
    assert (scores["n_gold"], scores["n_predicted"], scores["n_correct"]) == (3, 4, 2)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(2 / 3)
    assert scores["ORG_precision"] == 0.5 and scores["ORG_recall"] == 1.0
    assert scores["PER_precision"] == 0.5 and scores["PER_recall"] == 0.5


# ---------------------------------------------------------------------------------------------------------------------
# Long texts: windows for training, every gold entity in evaluation
# ---------------------------------------------------------------------------------------------------------------------


class PerfectModel(torch.nn.Module):
    """A model whose logits are +10 exactly at the gold boundaries (and gold spans) of the collator's targets, -10
    elsewhere: what a perfect model gives the evaluation, through the collator, decoding and the window mapping."""

    def __init__(self, config: LearConfig):
        super().__init__()
        self.config = config
        self.device_anchor = torch.nn.Parameter(torch.zeros(1))  # where the evaluation puts the batches

    def compute_label_states(self, label_ids=None):
        return None

    def forward(self, start_labels, end_labels, span_labels=None, label_states=None, **inputs):
        start, end, *span = (
            torch.where(labels == 1, 10.0, -10.0) for labels in (start_labels, end_labels, span_labels)
            if labels is not None
        )  # fmt: skip
        return LearSpanExtractionOutput(start_logits=start, end_logits=end, span_logits=span[0] if span else None)


def perfect_evaluation(examples: datasets.Dataset, builder: LearFeatureBuilder, model, batch_size: int = 4):
    """`evaluate_spans` of a perfect model (`PerfectModel`) with `model`'s config: the split and the result."""
    split = EvaluationSplit.from_examples(examples, builder)
    collator = LearDataCollator(builder.tokenizer, model.config.num_labels, nested=model.config.nested)
    return split, evaluate_spans(PerfectModel(model.config), split, collator, batch_size)


def test_the_collator_passes_the_decoding_masks_as_named_keys(toy_tokenizer):
    rows = [{"input_ids": [2, 7, 8, 3][: 2 + k], "start_allowed": [False] + [True] * k + [False]} for k in range(3)]
    for row in rows:
        row.update(end_allowed=row["start_allowed"], start_positives=[], end_positives=[], start_ignored=[])
        row.update(end_ignored=[], gold_spans=[])
    rows[2]["end_allowed"] = [False, False, True, False]
    batch = LearDataCollator(toy_tokenizer, 2)(rows)
    assert batch["start_mask"].dtype == torch.bool and batch["start_mask"].tolist()[2] == [False, True, True, False]
    assert batch["end_mask"].tolist() == [
        [False, False, False, False],
        [False, True, False, False],
        [False, False, True, False],
    ]
    assert batch["start_labels"].dtype == torch.int8 and batch["attention_mask"].tolist()[0] == [1, 1, 0, 0]
    # the loss ignores (-100) what the masks forbid; nothing else rides in the labels
    assert ((batch["start_labels"] != -100) == batch["start_mask"].unsqueeze(-1)).all()
    assert ((batch["end_labels"] != -100) == batch["end_mask"].unsqueeze(-1)).all()


def test_each_process_scores_a_share_of_the_texts_and_the_shares_make_the_whole(
    toy_tokenizer, make_tiny_model, monkeypatch
):
    examples = datasets.Dataset.from_list(long_rows(5, sentences_per_text=6, prefix="validation"), features=FEATURES)
    builder = LearFeatureBuilder(toy_tokenizer, {name: i for i, name in enumerate(TOY_LABELS)}, 24, 8)
    split = EvaluationSplit.from_examples(examples, builder)
    model = make_tiny_model(start_threshold=0.45, end_threshold=0.45)  # a random model that predicts spans
    collator = LearDataCollator(toy_tokenizer, model.config.num_labels)
    whole = predict_text_spans(model, split, collator, 3, thresholds=(None, 0.3))
    monkeypatch.setattr(evaluation, "gather_objects", lambda local, num_processes: [local])  # no process group
    shares = [predict_text_spans(model, split, collator, 3, (None, 0.3), rank, 2) for rank in (0, 1)]
    for threshold in (None, 0.3):
        assert any(whole.by_threshold[threshold])
        for text, spans in enumerate(whole.by_threshold[threshold]):
            mine, other = (
                shares[text % 2].by_threshold[threshold][text],
                shares[1 - text % 2].by_threshold[threshold][text],
            )
            assert [tuple(span[:3]) for span in mine] == [tuple(span[:3]) for span in spans] and other == []
            assert [span.score for span in mine] == pytest.approx([span.score for span in spans])


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_long_texts_keep_every_gold_entity(toy_tokenizer, make_tiny_model, nested):
    rows = long_rows(6, sentences_per_text=12, prefix="validation")
    if nested:  # an entity around each text's first entity: its first two words, as LOC
        for row in rows:
            end = len(row["tokens"][0]) + 1 + len(row["tokens"][1])
            row["entities"].append({"start": 0, "end": end, "label": "LOC"})
    examples = datasets.Dataset.from_list(rows, features=FEATURES)
    model = make_tiny_model(nested=nested)
    label2id = {name: index for index, name in enumerate(TOY_LABELS)}
    builder = LearFeatureBuilder(toy_tokenizer, label2id, max_length=24, stride=8)
    split, (scores, predictions) = perfect_evaluation(examples, builder, model)
    assert len(split.windows) > 3 * len(examples)  # every text spans several windows
    total = sum(len(row["entities"]) for row in rows)
    assert scores["n_gold"] == total and scores["n_unreachable"] == 0
    assert scores["f1"] == 1.0 and scores["n_predicted"] == total
    assert split.records(predictions)[0]["predicted"][0]["start"] == 0


def test_entities_no_window_can_hold_still_count_as_gold(toy_tokenizer, make_tiny_model):
    rows = long_rows(2, sentences_per_text=10, prefix="validation")
    rows[0]["entities"].append({"start": 0, "end": len(rows[0]["text"]), "label": "ORG"})  # the whole long text
    examples = datasets.Dataset.from_list(rows, features=FEATURES)
    builder = LearFeatureBuilder(toy_tokenizer, {name: i for i, name in enumerate(TOY_LABELS)}, 24, 8)
    _, (scores, _) = perfect_evaluation(examples, builder, make_tiny_model())
    total = sum(len(row["entities"]) for row in rows)
    assert scores["n_gold"] == total and scores["n_unreachable"] == 1
    assert scores["n_correct"] == total - 1 and scores["recall"] == pytest.approx((total - 1) / total)


def test_run_on_long_texts_counts_every_gold_entity(tiny_encoder_dir, tmp_path):
    splits = {"train": long_rows(8, 8, "train"), "validation": long_rows(5, 12, "validation")}
    corpus = save_corpus(tmp_path / "long", splits)
    results = run_lear.main([
        "--model_name_or_path", str(tiny_encoder_dir),
        "--dataset_dir", str(corpus),
        "--do_train", "--do_eval",
        "--max_steps", "2",
        "--max_seq_length", "24",
        "--doc_stride", "8",
        "--save_strategy", "no",
        *common_arguments(tmp_path / "run"),
    ])  # fmt: skip
    assert results["train"]["train_windows"] > results["train"]["train_samples"] == 8
    assert results["eval"]["eval_n_gold"] == sum(len(row["entities"]) for row in splits["validation"])
    # The original code's scoring, beside ours: each text cut after 24 tokens, the gold entities past the cut dropped.
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    kept = 0
    for row in splits["validation"]:
        offsets = tokenizer(row["text"], truncation=True, max_length=24, return_offsets_mapping=True)["offset_mapping"]
        cut = max(end for _, end in offsets)
        kept += sum(entity["end"] <= cut for entity in row["entities"])
    assert 0 < results["eval"]["eval_n_gold_truncated"] == kept < results["eval"]["eval_n_gold"]
    assert {"eval_precision_truncated", "eval_recall_truncated", "eval_f1_truncated"} <= set(results["eval"])


def test_training_targets_ignore_the_in_window_boundaries_of_cut_entities(toy_tokenizer):
    rows = long_rows(1, sentences_per_text=10, prefix="train")
    rows[0]["entities"].append({"start": 0, "end": len(rows[0]["text"]), "label": "ORG"})  # cut by every window
    examples = datasets.Dataset.from_list(rows, features=FEATURES)
    label2id = {name: i for i, name in enumerate(TOY_LABELS)}
    builder = LearFeatureBuilder(toy_tokenizer, label2id, 24, 8)
    features = window_features(examples, builder)
    assert len(features) >= 3
    batch = LearDataCollator(toy_tokenizer, len(label2id), nested=True)([features[k] for k in range(len(features))])
    start, end, span = batch["start_labels"], batch["end_labels"], batch["span_labels"]
    org, per = label2id["ORG"], label2id["PER"]
    assert start.dtype == end.dtype == span.dtype == torch.int8
    assert start[0, 0].tolist() == [-100, -100, -100]  # [CLS] can start nothing
    # The long ORG entity starts in the first window and ends in the last: in each, its one visible boundary is
    # ignored (neither a positive the decoder could pair, nor a false negative), and so are its span cells.
    assert start[0, 1, org] == -100 and start[0, 1, per] == 1  # "Alice" (PER) starts the text too
    assert (span[0, 1, :, org] == -100).all()
    last_end = len(features[len(features) - 1]["input_ids"]) - 2
    assert end[-1, last_end, org] == -100 and (span[-1, :, last_end, org] == -100).all()


def test_cached_features_are_rebuilt_when_the_feature_code_changes(toy_tokenizer, tmp_path):
    """`datasets` pickles the builder's class by reference, so without the code digest a new lear version would reuse
    features an older windowing built (this happened: a windowing fix left a benchmark's cached features stale)."""
    rows = [{"id": "t-0", "text": "Alice met Bob", "tokens": ["Alice", "met", "Bob"], "entities": []}]
    datasets.Dataset.from_list(rows, features=FEATURES).save_to_disk(tmp_path / "data")
    examples = datasets.load_from_disk(tmp_path / "data")  # on disk, as run_lear.py loads it: map results are cached
    label2id = {name: i for i, name in enumerate(TOY_LABELS)}
    current = LearFeatureBuilder(toy_tokenizer, label2id, 32, 8)
    assert current.code_digest == feature_code_digest()
    first = window_features(examples, current)
    assert (
        window_features(examples, LearFeatureBuilder(toy_tokenizer, label2id, 32, 8)).cache_files == first.cache_files
    )
    edited = LearFeatureBuilder(toy_tokenizer, label2id, 32, 8, code_digest="another lear version")
    assert window_features(examples, edited).cache_files != first.cache_files


@pytest.mark.parametrize(
    "pre_split, sentencepiece, keeps_words",
    [("auto", True, False), ("auto", False, True), ("always", True, True)],
    ids=["auto-sentencepiece", "auto-wordpiece", "always"],
)
def test_pre_split_auto_tokenizes_raw_text_when_sentencepiece_splits_markers_off_characters(
    toy_tokenizer, pre_split, sentencepiece, keeps_words
):
    tokenizer = build_sentencepiece_style_tokenizer() if sentencepiece else toy_tokenizer
    text = "".join(chr(0x4E00 + i) for i in range(8))
    rows = [{"id": "t-0", "text": text, "tokens": list(text), "entities": []}]
    splits = {"train": datasets.Dataset.from_list(rows, features=FEATURES)}
    data_args = run_lear.DataTrainingArguments(dataset_dir="unused", pre_split=pre_split)
    run_setup.resolve_pre_split(data_args, tokenizer, splits)
    assert data_args.tokens_column == ("tokens" if keeps_words else None)


def test_entities_start_and_end_only_on_word_boundaries(toy_tokenizer):
    entities = [{"start": 0, "end": 4, "label": "PER"}, {"start": 9, "end": 12, "label": "PER"}]
    rows = [{"id": "t-0", "text": "Zyxw met Bob", "tokens": ["Zyxw", "met", "Bob"], "entities": entities}]
    examples = datasets.Dataset.from_list(rows, features=FEATURES)
    builder = LearFeatureBuilder(toy_tokenizer, {name: i for i, name in enumerate(TOY_LABELS)}, 32, 8)
    features = window_features(examples, builder)
    pieces = toy_tokenizer.convert_ids_to_tokens(features[0]["input_ids"])
    assert pieces == ["[CLS]", "z", "##y", "##x", "##w", "met", "bob", "[SEP]"]
    batch = LearDataCollator(toy_tokenizer, len(TOY_LABELS))([features[0]])
    per = list(TOY_LABELS).index("PER")
    assert batch["start_labels"][0, :, per].tolist() == [-100, 1, -100, -100, -100, 0, 1, -100]
    assert batch["end_labels"][0, :, per].tolist() == [-100, -100, -100, -100, 1, 0, 1, -100]
    assert features[0]["n_gold"] == 2 and features[0]["n_inexact"] == features[0]["n_cut"] == 0


def test_character_level_corpus_windows_long_chinese_texts(toy_tokenizer, make_tiny_model):
    # Chinese corpora are converted with one token per character and no spaces in the text
    text = "".join(chr(0x4E00 + k) for k in range(60))
    entities = [{"start": 3, "end": 6, "label": "PER"}, {"start": 40, "end": 44, "label": "LOC"}]
    examples = datasets.Dataset.from_list(
        [{"id": "zh-0", "text": text, "tokens": list(text), "entities": entities}], features=FEATURES
    )
    builder = LearFeatureBuilder(toy_tokenizer, {name: i for i, name in enumerate(TOY_LABELS)}, 24, 8)
    features = window_features(examples, builder)
    assert len(features) > 3 and features[0]["token_spans"][1:4] == [[0, 1], [1, 2], [2, 3]]
    _, (scores, _) = perfect_evaluation(examples, builder, make_tiny_model())
    assert scores["f1"] == 1.0 and scores["n_gold"] == 2


def test_nested_model_trains_and_scores_overlapping_entities(tiny_encoder_dir, nested_corpus_dir, tmp_path):
    results = run_lear.main([
        *common_arguments(tmp_path / "run"),
        "--model_name_or_path", str(tiny_encoder_dir),
        "--dataset_dir", str(nested_corpus_dir),
        "--nested",
        "--do_train", "--do_eval",
        "--max_steps", "2",
        "--save_strategy", "no",
    ])  # fmt: skip
    assert results["eval"]["eval_n_gold"] == sum(len(entities) for _, entities in TOY_SENTENCES) + 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["nested"] is True


# ---------------------------------------------------------------------------------------------------------------------
# Bad arguments fail early, with a clear message
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nested_corpus_dir(tmp_path_factory) -> Path:
    rows = toy_rows(8, "train")
    rows[1]["entities"].append({"start": 0, "end": 18, "label": "ORG"})  # "Bob works for Acme" around "Bob", "Acme"
    return save_corpus(tmp_path_factory.mktemp("nested"), {"train": rows, "validation": rows})


@pytest.fixture(scope="module")
def unlabelled_corpus_dir(tmp_path_factory) -> Path:
    return save_corpus(tmp_path_factory.mktemp("unlabelled"), {"train": toy_rows(8, "train")}, labels=None)


@pytest.fixture(scope="module")
def label_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "labels.json"
    path.write_text(json.dumps({"PER": "people", "LOC": "places", "ORG": "organisations", "MISC": "other names"}))
    return path


BAD_ARGUMENTS = {
    "missing dataset dir": (["--dataset_dir", "{tmp}/nowhere", "--do_train"], "does not exist"),
    "unknown pre-split mode": (
        ["--dataset_dir", "{toy}", "--do_train", "--pre_split", "sometimes"],
        "--pre_split must be one of",
    ),
    "missing split": (
        ["--dataset_dir", "{unlabelled}", "--label_descriptions", "{labels}", "--do_predict"],
        "needs a 'test' split",
    ),
    "missing split for evaluation": (
        ["--dataset_dir", "{unlabelled}", "--label_descriptions", "{labels}", "--do_train", "--do_eval"],
        "needs a 'validation' split",
    ),
    "no dataset": (["--do_train"], "exactly one of --dataset_dir"),
    "no labels for a new model": (["--dataset_dir", "{unlabelled}", "--do_train"], "--label_descriptions"),
    "unknown entity label": (
        ["--dataset_dir", "{toy}", "--label_descriptions", "{few_labels}", "--do_train"],
        "labels the model does not know",
    ),
    "nested data, flat model": (["--dataset_dir", "{nested}", "--do_train"], "overlapping \\(nested\\) entities"),
    "nested data, flat checkpoint": (
        ["--model_name_or_path", "{checkpoint}", "--dataset_dir", "{nested}", "--do_eval"],
        "overlapping \\(nested\\) entities",
    ),
    "label set mismatch": (
        ["--model_name_or_path", "{checkpoint}", "--dataset_dir", "{mismatch}", "--do_eval"],
        "label set mismatch",
    ),
    "window too long": (["--dataset_dir", "{toy}", "--do_train", "--max_seq_length", "512"], "exceeds"),
    "stride too long": (
        ["--dataset_dir", "{toy}", "--do_train", "--max_seq_length", "16", "--doc_stride", "14"],
        "--doc_stride 14 must be smaller",
    ),
    "bad decode strategy": (
        ["--dataset_dir", "{toy}", "--do_train", "--decode_strategy", "v9"],
        r"decode_strategy' expected one of \('v5', 'v1'\), got v9",
    ),
    "flat checkpoint, --nested": (
        ["--model_name_or_path", "{checkpoint}", "--dataset_dir", "{toy}", "--do_eval", "--nested"],
        "checkpoint .* is flat",
    ),
    "output dir not empty": (["--dataset_dir", "{toy}", "--do_train", "--output_dir", "{toy}"], "not empty"),
    "unknown config override": (
        ["--dataset_dir", "{toy}", "--do_train", "--config_overrides", "fusion_residual=false,no_such_field=1"],
        "--config_overrides .*no_such_field",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_fail_early_with_a_clear_message(
    case,
    tiny_encoder_dir,
    busy_checkpoint_dir,
    toy_corpus_dir,
    nested_corpus_dir,
    unlabelled_corpus_dir,
    label_file,
    tmp_path,
):
    few_labels = tmp_path / "few.json"
    few_labels.write_text(json.dumps({"PER": "people"}))
    four_labels = {**TOY_LABELS, "MISC": "other names"}
    mismatch = save_corpus(tmp_path / "mismatch", {"validation": toy_rows(8, "validation")}, labels=four_labels)
    places = dict(tmp=tmp_path, toy=toy_corpus_dir, nested=nested_corpus_dir, unlabelled=unlabelled_corpus_dir)
    places.update(labels=label_file, few_labels=few_labels, checkpoint=busy_checkpoint_dir, mismatch=mismatch)
    arguments, message = BAD_ARGUMENTS[case]
    arguments = [argument.format(**{k: str(v) for k, v in places.items()}) for argument in arguments]
    if "--model_name_or_path" not in arguments:
        arguments = ["--model_name_or_path", str(tiny_encoder_dir), *arguments]
    arguments = [*common_arguments(tmp_path / "out"), *arguments]  # later --output_dir wins
    with pytest.raises((ValueError, StrictDataclassError), match=message):  # a config's @strict validation wraps it
        run_lear.main(arguments)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_label_descriptions_relabel_a_checkpoint(busy_checkpoint_dir, tmp_path, label_file):
    four_labels = {**TOY_LABELS, "MISC": "other names"}
    corpus = save_corpus(tmp_path / "four", {"validation": toy_rows(8, "validation")}, labels=four_labels)
    results = run_lear.main([
        "--model_name_or_path", str(busy_checkpoint_dir),
        "--dataset_dir", str(corpus),
        "--label_descriptions", str(label_file),
        "--do_eval",
        *common_arguments(tmp_path / "run"),
    ])  # fmt: skip
    assert "eval_MISC_f1" in results["eval"]
    card = (tmp_path / "run" / "README.md").read_text()
    assert "| 3 | MISC | other names |" in card


# ---------------------------------------------------------------------------------------------------------------------
# The command line: quiet by default, one line per bad argument
# ---------------------------------------------------------------------------------------------------------------------


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_lear.py"), *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_cli_run_prints_progress_not_noise(toy_tokenizer, tmp_path):
    """A default run on an encoder saved with its pooler, with one text longer than the encoder takes, stderr not a
    terminal, on a machine with no accelerator but without --use_cpu: no 100-line TrainingArguments dump, no
    tokenizer 'indexing errors' warning from the pre-split probe, no load report for the pooler LEAR leaves out, no
    special-token realignment warning, no progress bars, no pin_memory warning."""
    encoder = tmp_path / "encoder"
    torch.manual_seed(0)
    BertModel(tiny_encoder_config(len(toy_tokenizer))).save_pretrained(encoder)  # with its pooler
    toy_tokenizer.save_pretrained(encoder)
    train = toy_rows(16, "train")
    long_words = ["paris"] * 3 * toy_tokenizer.model_max_length
    train[0] = {**train[0], "text": " ".join(long_words), "tokens": long_words, "entities": []}
    corpus = save_corpus(tmp_path / "corpus", {"train": train, "validation": toy_rows(8, "validation")})
    result = run_cli(
        "--model_name_or_path", str(encoder), "--dataset_dir", str(corpus), "--output_dir", str(tmp_path / "out"),
        "--do_train", "--do_eval", "--max_steps", "2", "--report_to", "none", cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    noises = ["Training/evaluation parameters", "Token indices sequence length", "LOAD REPORT", "PAD/BOS/EOS"]
    noises += ["\x1b[A", "it/s]", "pin_memory"]  # progress bars (datasets, weights, Trainer) and torch's warning
    for noise in noises:
        assert noise not in output, noise
    assert "windows;" in output and "eval_f1" in output  # the progress lines and the scores are still there
    assert len(output.splitlines()) < 100
    # the end-of-stage summary prints the micro scores; the per-label ones are in eval_results.json (issue 33)
    summary = output.split("***** eval metrics *****", 1)[1]
    assert "eval_f1" in summary and not any(f"eval_{label}_" in summary for label in TOY_LABELS)
    assert "eval_PER_f1" in json.loads((tmp_path / "out" / "eval_results.json").read_text())


def test_a_missing_dataset_dir_is_one_line_that_names_it(tiny_encoder_dir, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_lear.py"), "--model_name_or_path", str(tiny_encoder_dir),
         "--dataset_dir", "no/such/corpus", "--output_dir", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("run_lear.py: error: " + run_lear.dataset_dir_missing_message("no/such/corpus")), (
        result.stderr
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--decode_strategy", "v9"], "Field 'decode_strategy' expected one of ('v5', 'v1'), got v9"),
        (["--no_such_option", "1"], "not used by the HfArgumentParser: ['--no_such_option', '1']"),
        (["--model_name_or_path", "runs/missing/encoder"], "--model_name_or_path runs/missing/encoder: no such folder"),
        (["--max_span_length", "-3"], "--max_span_length must be 'auto', a positive int"),
        (["--push_to_hub", "--hub_model_id", "me/toy"], "--push_to_hub needs the Hub, but HF_HUB_OFFLINE is set"),
    ],
)
def test_cli_bad_argument_is_one_line_not_a_traceback(arguments, message, tiny_encoder_dir, toy_corpus_dir, tmp_path):
    defaults = ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(toy_corpus_dir)]
    result = run_cli(*defaults, "--output_dir", str(tmp_path / "out"), "--do_train", *arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error (and argparse's one-line usage)
    assert not (tmp_path / "out").exists()


def test_without_stage_flags_every_stage_with_a_split_runs_under_the_lear_recipe(
    tiny_encoder_dir, toy_corpus_dir, tmp_path
):
    # no --do_*: train, evaluate and predict (the toy corpus has all three splits), evaluation every epoch, the best
    # epoch kept, thresholds calibrated, checkpoints removed at the end
    output_dir = tmp_path / "run"
    arguments = ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(toy_corpus_dir),
                 "--num_train_epochs", "2", "--min_train_steps", "0", *common_arguments(output_dir)]  # fmt: skip
    results = run_lear.main(arguments)
    assert set(results) == {"train", "eval", "predict"}
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert [round(entry["epoch"]) for entry in state["log_history"] if "eval_f1" in entry] == [1, 2]
    assert state["best_metric"] is not None and not list(output_dir.glob("checkpoint-*"))
    assert LearForSpanExtraction.from_pretrained(output_dir).config.label_thresholds is not None
    args = torch.load(output_dir / "training_args.bin", weights_only=False)
    assert (args.learning_rate, args.per_device_train_batch_size, args.warmup_steps) == (2e-4, 8, 0.1)  # 8: passed
    assert args.load_best_model_at_end and args.metric_for_best_model == "f1"


def test_a_small_training_split_trains_min_train_steps_evaluating_along_the_way(
    tiny_encoder_dir, toy_corpus_dir, tmp_path
):
    # 64 training texts at batch 8: 2 epochs are 16 steps, fewer than --min_train_steps 24, so the run trains 24
    # steps and evaluates (and saves) every 6, keeping the best of the four
    output_dir = tmp_path / "run"
    arguments = ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(toy_corpus_dir),
                 "--num_train_epochs", "2", "--min_train_steps", "24", *common_arguments(output_dir)]  # fmt: skip
    run_lear.main(arguments)
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 24
    assert [entry["step"] for entry in state["log_history"] if "eval_f1" in entry] == [6, 12, 18, 24]
    assert state["best_metric"] is not None and not list(output_dir.glob("checkpoint-*"))
    # enough data for the epochs: the epochs stand
    arguments[arguments.index("24")] = "16"
    run_lear.main([*arguments, "--overwrite_output_dir"])
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 16 and [e["epoch"] for e in state["log_history"] if "eval_f1" in e] == [1.0, 2.0]


def test_a_quick_run_trains_the_epochs_asked_for_and_logs_its_loss(tiny_encoder_dir, toy_corpus_dir, tmp_path):
    # issue 33: `--max_train_samples 64 --num_train_epochs 1` silently became 200 steps, with no loss line logged
    output_dir = tmp_path / "run"
    arguments = ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(toy_corpus_dir),
                 "--max_train_samples", "16", "--max_eval_samples", "8", "--max_predict_samples", "8",
                 "--num_train_epochs", "1", *common_arguments(output_dir)]  # fmt: skip
    run_lear.main(arguments)
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 2  # 16 texts at batch 8: one epoch, not the 200-step floor
    assert [entry["step"] for entry in state["log_history"] if "loss" in entry] == [1, 2]  # a loss line per 5 %


def test_without_stage_flags_a_corpus_without_validation_split_trains_to_its_last_step(
    tiny_encoder_dir, unlabelled_corpus_dir, label_file, tmp_path
):
    output_dir = tmp_path / "run"
    arguments = ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", str(unlabelled_corpus_dir),
                 "--label_descriptions", str(label_file), "--min_train_steps", "4", *common_arguments(output_dir)]  # fmt: skip
    results = run_lear.main(arguments)
    assert set(results) == {"train"}  # the corpus has a training split only
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and not [entry for entry in state["log_history"] if "eval_f1" in entry]


def test_the_trainers_predictions_equal_the_pipelines_on_the_same_texts(busy_checkpoint_dir, toy_corpus_dir, tmp_path):
    # issue 34: evaluation (LearTrainer.predict) and the pipeline must find the same spans for the same texts
    from transformers import pipeline

    output_dir = tmp_path / "predict"
    arguments = ["--model_name_or_path", str(busy_checkpoint_dir), "--dataset_dir", str(toy_corpus_dir),
                 "--do_predict", "--max_predict_samples", "24", *common_arguments(output_dir)]  # fmt: skip
    run_lear.main(arguments)
    texts, _, trainer_spans = evaluation.read_prediction_spans(output_dir / "predictions.jsonl")
    extractor = pipeline("span-extraction", model=str(busy_checkpoint_dir), device="cpu")
    pipeline_spans = [
        [(entity["start"], entity["end"], entity["entity_group"]) for entity in entities]
        for entities in extractor(texts, batch_size=8)
    ]
    assert sum(map(len, trainer_spans)) > 10  # the untrained model at low thresholds finds plenty to compare
    assert [sorted(spans) for spans in trainer_spans] == [sorted(spans) for spans in pipeline_spans]
