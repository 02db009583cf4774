# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""`lear-predict`: run a saved LEAR model over a file of texts and write one JSON line of entities per text.

```bash
lear-predict --model my-lear --input texts.txt --output predictions.jsonl --batch-size 16 --threshold 0.5
```

Input: `.txt`, one text a line (blank lines are texts too: they get no entities, and output lines stay aligned with
input lines), or `.jsonl`, one JSON object a line with a `"text"` string (or a `"words"` list: entity offsets then
index `" ".join(words)`); blank `.jsonl` lines are skipped. `--format` overrides the suffix; `-` reads stdin.

Output: one JSON object per text, in input order: for `.txt`, `{"text": ..., "predictions": [...]}`; for `.jsonl`, the
input object with `"predictions"` added (other fields, gold `"entities"` included, are kept as they are). Each
prediction is the pipeline's entity dict: `entity_group`, `score`, `word`, `start`, `end`.

`--onnx` runs a model exported by `lear-export-onnx` with ONNX Runtime (`--onnx int8`: its quantised file); the
output is the same. A `--model` folder that holds an export and no torch weights is run that way without `--onnx`.

A progress bar over the windows predicted shows on stderr when it is a terminal (`--progress` shows it anyway,
`--quiet` never).

Everything streams: lines are read, predicted (in batches of windows) and written as they come, so memory stays
constant for any input size. A bad line stops the run with an error naming the file and line number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .corpus_mix import read_label_file
from .locations import check_model_location
from .onnx_export import ONNX_FILE
from .pipeline_lear import OVERLAP_CHOICES


FORMATS = ("txt", "jsonl")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
TORCH_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


class InputError(ValueError):
    """A bad input line, with its file and line number."""

    def __init__(self, path: str, line_number: int, message: str):
        super().__init__(f"{path}:{line_number}: {message}")
        self.path = path
        self.line_number = line_number


@dataclass
class Record:
    """One input text: its line number, what the pipeline reads (a str, or a list of words), and the fields written
    back with the predictions."""

    line_number: int
    inputs: str | list[str]
    fields: dict[str, Any]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lear-predict",
        description="Extract entities with a saved LEAR model from a .txt (one text a line) or .jsonl ('text' "
        "field) file, streaming, into a .jsonl file.",
    )
    parser.add_argument("--model", required=True, help="folder of a saved LEAR model (with its tokenizer)")
    parser.add_argument("--input", required=True, help="input file (.txt or .jsonl), or - for stdin")
    parser.add_argument("--output", required=True, help="output .jsonl file, or - for stdout")
    parser.add_argument("--format", choices=FORMATS, help="input format (default: from the input's suffix)")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per forward pass (default: 16)")
    parser.add_argument("--threshold", type=float, help="decision threshold in (0, 1) (default: the model's)")
    parser.add_argument("--labels", help="comma-separated label names to keep (default: all)")
    parser.add_argument(
        "--label-file",
        help='JSON file {"LABEL": "description", ...}: labels to find by their description (new ones too), '
        "with --labels' names if given (default: the model's labels)",
    )
    parser.add_argument("--flat-ner", action="store_true", help="decode a nested model flat")
    parser.add_argument("--max-length", type=int, help="window length in tokens (default: the model's limit)")
    parser.add_argument("--stride", type=int, help="tokens shared by neighbouring windows (default: max-length/4)")
    parser.add_argument("--device", help='torch device, e.g. "cpu" or "cuda:0" (default: first accelerator)')
    parser.add_argument(
        "--onnx", nargs="?", const="fp32", choices=("fp32", "int8"),
        help="run an exported model (lear-export-onnx's folder) with ONNX Runtime on CPU; 'int8': its quantised file",
    )  # fmt: skip
    parser.add_argument(
        "--overlap", choices=OVERLAP_CHOICES,
        help="'best_label': where spans of different labels overlap, keep the best-scoring one (default: keep all)",
    )  # fmt: skip
    parser.add_argument("--progress", action="store_true", help="a progress bar even when stderr is not a terminal")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def input_format(path: str, requested: str | None) -> str:
    """The input format: `requested`, else the file's suffix."""
    if requested is not None:
        return requested
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format of {path!r} from its suffix: use .txt or .jsonl, or pass --format")
    return suffix


def read_records(stream: IO[bytes], path: str, fmt: str) -> Iterator[Record]:
    """Yield the records of a binary stream lazily, one line at a time.

    Lines are split at `\\n` only (a `\\r` inside a text stays part of it; a trailing `\\r\\n` is removed) and decoded as
    UTF-8 one by one, so a bad line is reported with its number and nothing is read ahead.

    Example:

    ```python
    >>> import io
    >>> [r.inputs for r in read_records(io.BytesIO(b'{"text": "Alice"}\\n\\n{"words": ["a", "b"]}\\n'), "x.jsonl", "jsonl")]
    ['Alice', ['a', 'b']]
    ```
    """
    for line_number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(path, line_number, f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
        line = line.removesuffix("\n").removesuffix("\r")
        if fmt == "txt":
            yield Record(line_number, line, {"text": line})
            continue
        if not line.strip():
            continue
        yield _parse_jsonl_record(line, path, line_number)


def _parse_jsonl_record(line: str, path: str, line_number: int) -> Record:
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(path, line_number, f"invalid JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(fields, dict):
        raise InputError(path, line_number, f"expected a JSON object with a 'text' field, got {type(fields).__name__}")
    if "text" in fields:
        text = fields["text"]
        if not isinstance(text, str):
            raise InputError(path, line_number, f"'text' must be a string, got {type(text).__name__}")
        return Record(line_number, text, fields)
    if "words" in fields:
        words = fields["words"]
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise InputError(path, line_number, "'words' must be a list of strings")
        return Record(line_number, words, fields)
    raise InputError(path, line_number, f"the object has no 'text' (or 'words') field; its keys: {sorted(fields)}")


def predict_records(pipe, records: Iterable[Record], **pipeline_kwargs: Any) -> Iterator[tuple[Record, list[dict]]]:
    """Run the pipeline over records lazily, yielding each record with its entities, in input order.

    The pipeline pulls texts from a generator as it fills batches; the records waiting for their results sit in a
    queue no longer than one batch of windows, so memory does not grow with the input.
    """
    pending: deque[Record] = deque()

    def inputs() -> Iterator[str | list[str]]:
        for record in records:
            pending.append(record)
            yield record.inputs

    for entities in pipe(inputs(), **pipeline_kwargs):
        yield pending.popleft(), entities


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `lear-predict`; returns the exit status (0 ok, 1 bad input or model, 2 bad arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    try:
        fmt = input_format(args.input, args.format)
    except ValueError as error:
        parser.error(str(error))
    if args.input != "-" and not Path(args.input).is_file():
        parser.error(f"input file not found: {args.input}")
    try:
        check_model_location(args.model, "--model")
        check_tokenizer_saved(args.model)
        check_output_location(args.output)
        call_labels = requested_labels(args.labels, args.label_file, saved_label_names(args.model))
    except ValueError as error:
        parser.error(str(error))
    if args.threshold is not None and not 0 < args.threshold < 1:
        parser.error(f"--threshold must be strictly between 0 and 1, got {args.threshold}")

    # Imported here so that `lear-predict --help` and argument errors answer without loading torch.
    from transformers import pipeline
    from transformers.utils import logging as transformers_logging

    import lear  # noqa: F401  (registers the "span-extraction" task)

    if not args.onnx and is_onnx_export(args.model):
        args.onnx = "fp32"
        print(f"lear-predict: {args.model} is an ONNX export: running {ONNX_FILE} (--onnx int8: the quantised file)",
              file=sys.stderr)  # fmt: skip
    if args.onnx and args.device not in (None, "cpu"):
        parser.error("--onnx runs ONNX Runtime on the CPU; leave --device out")
    if args.device is not None:
        try:
            check_device(args.device)
        except ValueError as error:
            parser.error(str(error))

    transformers_logging.disable_progress_bar()  # weight-loading bars would mix with ours
    # Options go to the constructor, which checks them (threshold range, label names...) before any input is read.
    options: dict[str, Any] = {"batch_size": args.batch_size}
    for name in ("threshold", "max_length", "stride"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if call_labels:
        options["labels"] = call_labels
    if args.flat_ner:
        options["flat_ner"] = True
    if args.overlap:
        options["overlap"] = args.overlap
    options["progress_bar"] = not args.quiet and (args.progress or sys.stderr.isatty())
    try:
        if args.onnx:
            from .onnx_export import onnx_pipeline

            pipe = onnx_pipeline(args.model, quantized=args.onnx == "int8", **options)
        else:
            pipe = pipeline("span-extraction", model=args.model, device=args.device, **options)
    except (OSError, ValueError, TypeError) as error:
        where = "" if Path(args.model).exists() else f"--model {args.model} is no local folder; as a Hub id: "
        print(f"lear-predict: error: {where}{error}", file=sys.stderr)
        return 1

    try:
        with _open_input(args.input) as source, _open_output(args.output) as sink:
            records = read_records(source, args.input if args.input != "-" else "<stdin>", fmt)
            _write_predictions(pipe, records, sink)
    except InputError as error:
        kept = "" if args.output == "-" else f" (nothing written to {args.output})"  # stdout has what came before
        print(f"lear-predict: error: {error}{kept}", file=sys.stderr)
        return 1
    return 0


def is_onnx_export(model: str) -> bool:
    """A folder `lear-export-onnx` wrote: an ONNX graph and no torch weights."""
    folder = Path(model)
    return (folder / ONNX_FILE).is_file() and not any((folder / name).is_file() for name in TORCH_WEIGHT_FILES)


def check_tokenizer_saved(model: str) -> None:
    """Raise a `ValueError` when a local model folder has no tokenizer: the pipeline needs the encoder's tokenizer,
    and without one transformers fails with an unrelated message about converting slow tokenizers."""
    folder = Path(model)
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ValueError(
            f"--model {model} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): save the encoder's tokenizer "
            f"beside the model, e.g. AutoTokenizer.from_pretrained(ENCODER).save_pretrained({model!r})"
        )


def saved_label_names(model: str) -> list[str] | None:
    """The label names in a local model folder's config.json (None for a Hub id, or a config without labels): read
    without loading the model, so that a wrong --labels is answered at once."""
    config_file = Path(model) / "config.json"
    if not config_file.is_file():
        return None
    id2label = json.loads(config_file.read_text(encoding="utf-8")).get("id2label") or {}
    return [id2label[key] for key in sorted(id2label, key=int)] or None


def requested_labels(
    names: str | None, label_file: str | None, known: list[str] | None
) -> dict[str, str | None] | None:
    """The labels of `--labels NAME,...` and `--label-file FILE` as the pipeline's `labels=` ({name: description, or
    None for a label the model knows}); None for all of the model's labels. Raises a `ValueError` naming the option
    for a name the model does not know and no description gives, or a bad file."""
    labels: dict[str, str | None] = {}
    if label_file:
        labels |= read_label_file(label_file, "--label-file")
    for name in (part.strip() for part in (names or "").split(",")):
        if name:
            labels.setdefault(name, None)
    unknown = [name for name, text in labels.items() if text is None and known is not None and name not in known]
    if unknown:
        raise ValueError(
            f"--labels {','.join(unknown)}: this model knows {','.join(known)}; to find a label it does not know, "
            f'describe it in a --label-file: {{"{unknown[0]}": "what {unknown[0]} means"}}'
        )
    return labels or None


def check_output_location(path: str) -> None:
    """Raise a `ValueError` when the output cannot be written: its folder is missing or is not a folder, or the path
    is a folder. Checked before the model loads."""
    if path == "-":
        return
    output = Path(path)
    if output.is_dir():
        raise ValueError(f"--output {path} is a folder; give a file name, e.g. {output / 'predictions.jsonl'}")
    if not output.parent.is_dir():
        raise ValueError(f"--output {path}: the folder {output.parent} does not exist; create it first")


def check_device(device: str) -> None:
    """Raise a `ValueError` when `device` is not a torch device this machine has (torch would fail later, with an
    AssertionError about its build)."""
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"--device {device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1'): {error}") from None
    if parsed.type == "cpu":
        return
    backend = getattr(torch, parsed.type, None)
    if backend is None or not backend.is_available():
        raise ValueError(f"--device {device}: this machine has no {parsed.type} device (torch {torch.__version__}); "
                         "use --device cpu, or leave --device out for the first accelerator found")  # fmt: skip
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if parsed.index is not None and parsed.index >= count:
        raise ValueError(f"--device {device}: this machine has {count} {parsed.type} device(s), numbered from 0")


def _write_predictions(pipe, records: Iterable[Record], sink: IO[str]) -> None:
    # The progress bar is the pipeline's (`progress_bar=`): it counts windows, so one long text shows progress too.
    for record, entities in predict_records(pipe, records):
        sink.write(json.dumps({**record.fields, "predictions": entities}, ensure_ascii=False) + "\n")


def _open_input(path: str):
    return nullcontext(sys.stdin.buffer) if path == "-" else open(path, "rb")


@contextmanager
def _open_output(path: str) -> Iterator[IO[str]]:
    """stdout, or a temporary file beside `path` that replaces it only when every line has been written: a run that
    stops on a bad input line leaves no partial or empty output, and an earlier output file stays as it was."""
    if path == "-":
        yield sys.stdout
        return
    output = Path(path)
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with open(handle, "w", encoding="utf-8") as sink:
            yield sink
        os.replace(temporary, output)
    finally:
        Path(temporary).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
