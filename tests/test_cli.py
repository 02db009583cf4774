"""`lear-predict`: .txt and .jsonl inputs, errors naming the file and line, options, and streaming."""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_pipeline import _expected, _without_scores, build_keyword_model, save_checkpoint
from transformers import pipeline

from lear import cli


TEXTS = [
    "alice met bob in paris",
    "",
    "中文文本没有空格",
    "the river is long and paris is far " * 40,  # several windows
    "   ",
    "paris",
]


@pytest.fixture(scope="module")
def model_dir(toy_tokenizer, tmp_path_factory) -> Path:
    return save_checkpoint(build_keyword_model(toy_tokenizer), toy_tokenizer, tmp_path_factory.mktemp("keyword"))


@pytest.fixture(scope="module")
def pipe(model_dir):
    return pipeline("span-extraction", model=str(model_dir), device="cpu")


def run(model_dir: Path, input_path: Path, output_path: Path, *options: str) -> int:
    return cli.main(
        ["--model", str(model_dir), "--input", str(input_path), "--output", str(output_path), "--quiet", *options]
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_txt_input_gives_one_output_line_per_input_line(model_dir, pipe, tmp_path, capsys):
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    output = str(tmp_path / "out.jsonl")
    assert cli.main(["--model", str(model_dir), "--input", str(source), "--output", output, "--progress"]) == 0
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [row["text"] for row in rows] == TEXTS  # blank lines are texts too: output stays line-aligned
    assert [row["predictions"] for row in rows] == pipe(TEXTS)
    assert rows[0]["predictions"] and rows[3]["predictions"] and rows[1]["predictions"] == []
    assert _without_scores(rows[0]["predictions"]) == _expected(TEXTS[0].lower().split())
    assert "window" in capsys.readouterr().err  # the pipeline's tqdm bar, over windows (asked: stderr is no terminal)
    assert cli.main(["--model", str(model_dir), "--input", str(source), "--output", output]) == 0
    assert not capsys.readouterr().err  # no bar in a log file unless asked


def test_txt_lines_keep_carriage_returns_inside_and_drop_crlf_endings(model_dir, tmp_path):
    source = tmp_path / "texts.txt"
    source.write_bytes(b"paris\r\nalice\rbob\nparis")  # CRLF ending, a lone CR inside a text, no final newline
    assert run(model_dir, source, tmp_path / "out.jsonl") == 0
    assert [row["text"] for row in read_jsonl(tmp_path / "out.jsonl")] == ["paris", "alice\rbob", "paris"]


def test_jsonl_input_keeps_fields_and_adds_predictions(model_dir, pipe, tmp_path):
    records = [
        {"id": 1, "text": "Alice met Bob in Paris", "entities": [{"label": "PER", "start_offset": 0}]},
        {"id": 2, "words": ["the", "alice", "bob", "met", "paris"]},
        {"id": 3, "text": ""},
    ]
    source = tmp_path / "data.jsonl"
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    source.write_text(lines[0] + "\n\n" + lines[1] + "\n   \n" + lines[2] + "\n", encoding="utf-8")  # blank lines
    assert run(model_dir, source, tmp_path / "out.jsonl", "--batch-size", "2") == 0
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [{k: v for k, v in row.items() if k != "predictions"} for row in rows] == records
    assert rows[0]["predictions"] == pipe(records[0]["text"])
    assert rows[1]["predictions"] == pipe(records[1]["words"], is_split_into_words=True)
    assert rows[1]["predictions"][0]["word"] == "alice bob"  # offsets index " ".join(words)
    assert rows[2]["predictions"] == []


def test_options_reach_the_pipeline(model_dir, pipe, tmp_path):
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS), encoding="utf-8")
    assert run(model_dir, source, tmp_path / "loc.jsonl", "--labels", "LOC", "--max-length", "16", "--stride", "3") == 0
    assert [row["predictions"] for row in read_jsonl(tmp_path / "loc.jsonl")] == pipe(
        TEXTS, labels=["LOC"], max_length=16, stride=3
    )
    assert run(model_dir, source, tmp_path / "strict.jsonl", "--threshold", "0.999") == 0
    assert all(row["predictions"] == [] for row in read_jsonl(tmp_path / "strict.jsonl"))  # scores are ~0.993


@pytest.mark.parametrize(
    "content, line, message",
    [
        (b'{"text": "paris"}\n{"text": "paris"\n', 2, "invalid JSON"),
        (b'{"text": "paris"}\n\n["paris"]\n', 3, "expected a JSON object"),
        (b'{"text": "paris"}\n{"body": "paris"}\n', 2, "no 'text' (or 'words') field"),
        (b'{"text": 42}\n', 1, "'text' must be a string"),
        (b'{"words": ["a", 1]}\n', 1, "'words' must be a list of strings"),
        (b'{"text": "paris"}\n{"text": "caf\xe9"}\n', 2, "not valid UTF-8"),
    ],
)
def test_bad_jsonl_lines_are_reported_with_file_and_line(model_dir, tmp_path, capsys, content, line, message):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(content)
    assert run(model_dir, source, tmp_path / "out.jsonl") == 1
    error = capsys.readouterr().err
    assert f"{source}:{line}: " in error and message in error
    assert "Traceback" not in error


def test_bad_txt_line_is_reported_with_file_and_line(model_dir, tmp_path, capsys):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"paris\nalice bob\n\xff\xfe broken\n")
    assert run(model_dir, source, tmp_path / "out.jsonl") == 1
    assert f"{source}:3: not valid UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--input", "missing.txt"], "input file not found"),
        (["--input", "texts.csv"], "cannot tell the format"),
        (["--batch-size", "0"], "--batch-size"),
        (["--model", "outputs/run/no-model"], "--model outputs/run/no-model: no such folder"),
        (["--model", "./no-model"], "no such folder"),
        (["--output", "missing/out.jsonl"], "the folder missing does not exist"),
        (["--model", "."], "has no tokenizer"),
        (["--output", "."], "is a folder"),
        (["--device", "banana"], "is not a torch device"),
        pytest.param(
            ["--device", "cuda"],
            "no cuda device",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
    ],
)
def test_bad_arguments_exit_with_usage_errors(model_dir, tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "texts.txt").write_text("paris\n")
    (tmp_path / "texts.csv").write_text("paris\n")
    defaults = {"--model": str(model_dir), "--input": "texts.txt", "--output": "out.jsonl"}
    defaults.update(dict(zip(arguments[::2], arguments[1::2])))
    with pytest.raises(SystemExit) as exit_info:
        cli.main([item for pair in defaults.items() for item in pair])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_model_or_option_is_a_clear_error(model_dir, tmp_path, capsys):
    source = tmp_path / "texts.txt"
    source.write_text("paris\n")
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "not-a-model" / "tokenizer.json").write_text("{}")
    assert run(tmp_path / "not-a-model", source, tmp_path / "out.jsonl") == 1
    assert "lear-predict: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # could be a Hub id: looked up once (cache, or the unreachable Hub)
        run("no-such-model", source, tmp_path / "out.jsonl")
    assert "--model no-such-model: no such folder here, and " in capsys.readouterr().err


def test_a_bad_line_leaves_no_output_behind_and_keeps_an_earlier_one(model_dir, tmp_path, capsys):
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b'{"text": "paris"}\n{"text": "paris"\n')
    assert run(model_dir, source, tmp_path / "new.jsonl") == 1
    assert not (tmp_path / "new.jsonl").exists()
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text("kept\n")
    assert run(model_dir, source, earlier) == 1
    assert earlier.read_text() == "kept\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.jsonl", "earlier.jsonl"]  # no temporary left
    assert "nothing written" in capsys.readouterr().err


def test_stdin_and_stdout(model_dir, pipe, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "alice met bob"}\n')))
    assert cli.main(["--model", str(model_dir), "--input", "-", "--format", "jsonl", "--output", "-", "--quiet"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"text": "alice met bob", "predictions": pipe("alice met bob")}]


# ---------------------------------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------------------------------

LARGE_LINES = 300_000


@pytest.fixture(scope="module")
def large_input(tmp_path_factory) -> Path:
    """A generated 300,000-line file (about 9 MB): far more than any test could afford to predict in full."""
    path = tmp_path_factory.mktemp("large") / "large.txt"
    line = b"Alice met Bob in Paris and the river is long\n"
    with open(path, "wb") as stream:
        for _ in range(LARGE_LINES // 1000):
            stream.write(line * 1000)
    return path


class CountingReader:
    """Wraps `cli.read_records` and counts the records the caller has pulled."""

    def __init__(self, read_records):
        self.read_records = read_records
        self.pulled = 0

    def __call__(self, *args, **kwargs):
        for record in self.read_records(*args, **kwargs):
            self.pulled += 1
            yield record


def test_predictions_stream_lazily_from_a_large_input(pipe, large_input):
    reader = CountingReader(cli.read_records)
    batch_size = 8
    with open(large_input, "rb") as stream:
        results = cli.predict_records(pipe, reader(stream, str(large_input), "txt"), batch_size=batch_size)
        first = list(itertools.islice(results, 50))
        results.close()
    assert [record.line_number for record, _ in first] == list(range(1, 51))
    assert all(entities == first[0][1] for _, entities in first) and first[0][1]
    assert reader.pulled <= 50 + batch_size + 1  # read only as far as the batches being predicted


def test_cli_reads_and_writes_as_it_goes(model_dir, large_input, tmp_path, monkeypatch):
    """Stop `lear-predict` after 200 predictions on the large input: it has read about as many lines, and written
    them all, so memory cannot grow with the input."""
    reader = CountingReader(cli.read_records)
    monkeypatch.setattr(cli, "read_records", reader)
    predict = cli.predict_records

    def first_200(*args, **kwargs):
        results = predict(*args, **kwargs)
        yield from itertools.islice(results, 200)
        results.close()

    monkeypatch.setattr(cli, "predict_records", first_200)
    output = tmp_path / "out.jsonl"
    assert run(model_dir, large_input, output, "--batch-size", "16") == 0
    assert len(read_jsonl(output)) == 200
    assert reader.pulled <= 200 + 16 + 1


def test_a_mistyped_path_fails_at_once_instead_of_trying_the_hub(model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()  # "runs/conll" reads as a Hub id 'owner/name', but runs/ is a folder here
    (tmp_path / "texts.txt").write_text("paris\n")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--model", "runs/conll", "--input", "texts.txt", "--output", "out.jsonl"])
    assert exit_info.value.code == 2
    assert "--model runs/conll: no such folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, message",
    [
        (["--labels", "FOO"], '--labels FOO: this model knows LOC,ORG,PER; to find a label it does not know, describe it in '
                              'a --label-file: {"FOO": "what FOO means"}'),
        (["--threshold", "1.5"], "--threshold must be strictly between 0 and 1, got 1.5"),
        (["--label-file", "nothere.json"], "--label-file nothere.json: No such file or directory"),
    ],
)  # fmt: skip
def test_label_and_threshold_errors_answer_before_the_model_loads(
    options, message, model_dir, tmp_path, capsys, monkeypatch
):
    # issue 33: these came after the ~6 s model load, and the labels hint was Python (labels={...})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "texts.txt").write_text("paris\n")
    monkeypatch.setattr("transformers.pipeline", lambda *args, **kwargs: pytest.fail("the model was loaded"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--model", str(model_dir), "--input", "texts.txt", "--output", "out.jsonl", *options])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"lear-predict: error: {message}" and "labels={" not in error


def test_a_label_file_gives_new_labels_by_their_description(model_dir, pipe, tmp_path):
    source = tmp_path / "texts.txt"
    source.write_text("alice met bob in paris\n")
    label_file = tmp_path / "labels.json"
    label_file.write_text(json.dumps({"CITY": "names of cities"}))
    assert run(model_dir, source, tmp_path / "out.jsonl", "--labels", "LOC", "--label-file", str(label_file)) == 0
    expected = pipe("alice met bob in paris", labels={"CITY": "names of cities", "LOC": None})
    assert read_jsonl(tmp_path / "out.jsonl")[0]["predictions"] == expected


@pytest.mark.parametrize("offline", ["1", ""])
def test_a_missing_folder_that_reads_as_a_hub_id_fails_in_one_lookup(tmp_path, offline):
    # issue 33: `lear-predict --model outputs/nothere` where there is no outputs/ retried the Hub for ~30 s (six
    # warnings) before its one-line error; now one lookup answers (offline: the cache only; here: no network)
    (tmp_path / "texts.txt").write_text("paris\n")
    environment = {**os.environ, "HF_HUB_OFFLINE": offline}
    completed = subprocess.run(
        [sys.executable, "-m", "lear.cli", "--model", "outputs/nothere", "--input", "texts.txt", "--output", "o.jsonl"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2
    assert (
        completed.stderr.strip()
        .splitlines()[-1]
        .startswith("lear-predict: error: --model outputs/nothere: no such folder here")
    )  # argparse's usage, then this one line: no retry warnings, no traceback
    assert "retry" not in completed.stderr.lower() and "Traceback" not in completed.stderr


def test_an_onnx_export_folder_runs_without_the_onnx_flag(model_dir, pipe, tmp_path, capsys, monkeypatch):
    import lear.onnx_export

    exported = tmp_path / "exported"  # what lear-export-onnx writes: config, tokenizer, model.onnx, no torch weights
    exported.mkdir()
    for path in model_dir.iterdir():
        if path.suffix == ".json" and path.name != "model.safetensors.index.json":
            (exported / path.name).write_bytes(path.read_bytes())
    (exported / "model.onnx").write_bytes(b"")
    calls = []

    def fake_onnx_pipeline(folder, quantized=False, **options):
        calls.append((str(folder), quantized))
        return pipeline("span-extraction", model=str(model_dir), device="cpu", **options)

    monkeypatch.setattr(lear.onnx_export, "onnx_pipeline", fake_onnx_pipeline)
    source = tmp_path / "texts.txt"
    source.write_text("alice met bob in paris\n")
    assert run(exported, source, tmp_path / "out.jsonl") == 0
    assert calls == [(str(exported), False)]
    assert "is an ONNX export" in capsys.readouterr().err
    assert read_jsonl(tmp_path / "out.jsonl")[0]["predictions"] == pipe("alice met bob in paris")


def test_overlap_option_reaches_the_pipeline(model_dir, pipe, tmp_path):
    source = tmp_path / "texts.txt"
    source.write_text("alice met bob in paris\n")
    assert run(model_dir, source, tmp_path / "out.jsonl", "--overlap", "best_label", "--threshold", "0.3") == 0
    expected = pipe("alice met bob in paris", overlap="best_label", threshold=0.3)
    assert read_jsonl(tmp_path / "out.jsonl")[0]["predictions"] == expected
