"""Readers for the file formats: column files (BIO / BMES), LEAR JSON lines, our JSON lines.

Every reader returns records in the shared schema (:mod:`data_scripts.schema`) and reports each
problem as a :class:`CorpusFormatError` naming the file and line, through an :class:`IssueLog`
that raises it (strict) or counts the repair / skip (lenient).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from data_scripts.errors import CorpusFormatError, IssueLog
from data_scripts.schema import Entity, Record, joined_token_offsets, token_char_offsets
from data_scripts.tags import DECODERS, DecodingState, TokenSpan


#: ``token_fn(token, path, line)`` rewrites a token column value (e.g. Weibo's segmentation digit).
TokenFn = Callable[[str, Path, int], str]

#: The first dot-separated part of a file name -> the split it holds (generic formats).
SPLIT_ALIASES: dict[str, str] = {
    "train": "train",
    "dev": "validation",
    "valid": "validation",
    "validation": "validation",
    "test": "test",
}


@dataclass(frozen=True)
class ReadOptions:
    """How to read one corpus's files.

    ``separator`` joins tokens into ``text`` (``" "`` English, ``""`` Chinese); ``scheme`` is the
    tag scheme of column files; ``labels`` the known label set (``None``: accept any);
    ``rename`` maps source labels to output labels before checking; ``token_fn`` rewrites column
    tokens; ``quirks`` names the tag repairs a named corpus always applies (see ``tags``).
    """

    separator: str = " "
    scheme: str = "bio"
    labels: Collection[str] | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    token_fn: TokenFn | None = None
    quirks: frozenset[str] = frozenset()


# --------------------------------------------------------------------------------------- lines


def read_utf8(path: Path) -> str:
    """The whole file decoded as UTF-8 (fast); a bad byte is reported with the line it is on."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CorpusFormatError(path, line, f"not UTF-8: {error.reason} at byte {error.start}") from error


def parse_json(path: Path, content: str) -> Any:
    """``content`` (the text of ``path``) parsed as JSON; invalid JSON is reported with its line."""
    try:
        return json.loads(content)
    except json.JSONDecodeError as error:
        raise CorpusFormatError(path, error.lineno, f"invalid JSON: {error.msg}") from error


def load_json(path: Path) -> Any:
    """A whole UTF-8 JSON file (a leading BOM is ignored), errors naming the file and line."""
    return parse_json(path, read_utf8(path).lstrip("\ufeff"))


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line)`` of a UTF-8 file without line ends and BOMs, with a progress bar.

    The file is decoded at once (fast); a bad byte is reported with the line it is on.
    """
    lines = read_utf8(path).split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline does not start a line
    for number, line in enumerate(tqdm(lines, desc=path.name, unit=" lines", leave=False, disable=None), 1):
        # A BOM may start the file, or a line where files were concatenated; one that is a whole first column
        # (followed by a tab or space) is a token and is kept (Pile-NER has four U+FEFF tokens).
        line = line.rstrip("\r")
        stripped = line.lstrip("\ufeff")
        yield number, line if stripped[:1] in ("\t", " ") else stripped


def record_from_token_spans(record_id: str, tokens: list[str], spans: list[TokenSpan], separator: str) -> Record:
    """Build a record whose text is ``separator.join(tokens)`` from token-index entity spans."""
    offsets = joined_token_offsets(tokens, separator)
    entities = [Entity(start=offsets[start][0], end=offsets[end - 1][1], label=label) for start, end, label in spans]
    return make_record(record_id, separator.join(tokens), tokens, entities)


def record_from_offsets(
    record_id: str, text: str, tokens: list[str], offsets: list[tuple[int, int]], spans: list[TokenSpan]
) -> Record:
    """Build a record whose ``text`` is kept as given, from token-index spans and the tokens' ``offsets`` in it."""
    entities = [Entity(start=offsets[start][0], end=offsets[end - 1][1], label=label) for start, end, label in spans]
    return make_record(record_id, text, tokens, entities)


def make_record(record_id: str, text: str, tokens: list[str], entities: list[Entity]) -> Record:
    """A record with its entities in canonical order (start, end, label)."""
    entities = sorted(entities, key=lambda e: (e["start"], e["end"], e["label"]))
    return Record(id=record_id, text=text, tokens=tokens, entities=entities)


def _check_label(label: str, options: ReadOptions, issues: IssueLog, path: Path, line: int | str) -> str | None:
    """The output label, or ``None`` when the entity is skipped for an unknown label (lenient)."""
    label = options.rename.get(label, label)
    if options.labels is not None and label not in options.labels:
        known = ", ".join(sorted(options.labels))
        issues.skip(CorpusFormatError(path, line, f"unknown label {label!r} (known: {known})"), "entity")
        return None
    return label


# ------------------------------------------------------------------------------- column files


def iter_blocks(path: Path) -> Iterator[list[tuple[int, str]]]:
    """Yield the sentences of a column file as lists of ``(line number, line)``.

    Blank lines separate sentences; ``-DOCSTART-`` lines are document separators, not tokens.
    """
    block: list[tuple[int, str]] = []
    for number, line in iter_lines(path):
        if not line.strip() or line.startswith("-DOCSTART-"):
            if block:
                yield block
                block = []
            continue
        block.append((number, line))
    if block:
        yield block


def split_columns(line: str) -> list[str]:
    """Columns of a line: tab-separated if it has a tab, else space-separated (runs collapse).

    Only tabs and ASCII spaces separate, so a token that is another whitespace character (an
    ideographic space in Chinese text) survives.
    """
    separator = "\t" if "\t" in line else " "
    parts = line.split(separator)
    if "" in parts or (separator == "\t" and " " in line):
        # Slow path only for runs of separators or spaces around tab-separated columns.
        parts = [part.strip(" ") for part in parts if part.strip(" ")]
    return parts


def parse_block(
    block: list[tuple[int, str]], path: Path, options: ReadOptions
) -> tuple[list[str], list[str], list[int]]:
    """Tokens (first column), tags (last column) and line numbers of one sentence block."""
    tokens, tags, lines = [], [], []
    for number, line in block:
        columns = split_columns(line)
        if len(columns) < 2:
            raise CorpusFormatError(path, number, f"expected 'TOKEN ... TAG' columns, got {line!r}")
        token = columns[0]
        if options.token_fn is not None:
            token = options.token_fn(token, path, number)
        tokens.append(token)
        tags.append(columns[-1])
        lines.append(number)
    return tokens, tags, lines


def read_column_file(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read a ``TOKEN ... TAG`` file (BIO or BMES per ``options.scheme``) into records.

    A malformed line or an unknown tag makes the whole sentence bad (skipped when lenient);
    tag-sequence errors are repaired when lenient (see :mod:`data_scripts.tags`).
    """
    decode = DECODERS[options.scheme]
    records: list[Record] = []
    for index, block in enumerate(iter_blocks(path)):
        try:
            tokens, tags, lines = parse_block(block, path, options)
            spans = decode(tags, lines, DecodingState(path, issues, options.quirks))
        except CorpusFormatError as error:
            issues.skip(error, "sentence")
            continue
        kept: list[TokenSpan] = []
        for start, end, label in spans:
            output_label = _check_label(label, options, issues, path, lines[start])
            if output_label is not None:
                kept.append((start, end, output_label))
        records.append(record_from_token_spans(f"{split}-{index}", tokens, kept, options.separator))
    return records


# --------------------------------------------------------------------------------- JSON lines


def iter_json_lines(path: Path, issues: IssueLog) -> Iterator[tuple[int, int, dict]]:
    """Yield ``(record index, line number, object)`` of a JSON-lines file; blank lines are ignored.

    A line that is not a JSON object is skipped (lenient) but still takes a record index, so ids
    stay aligned with the source lines.
    """
    index = 0
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        index += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            issues.skip(CorpusFormatError(path, number, f"invalid JSON: {error}"), "record")
            continue
        if not isinstance(value, dict):
            issues.skip(CorpusFormatError(path, number, "a line must hold a JSON object"), "record")
            continue
        yield index - 1, number, value


def _get(obj: dict, key: str, kind: type | tuple[type, ...], path: Path, line: int | str, what: str) -> Any:
    """``obj[key]`` checked to be of ``kind``, else a :class:`CorpusFormatError`."""
    value = obj.get(key)
    # bool is an int subclass; an offset of ``true`` is still malformed.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CorpusFormatError(path, line, f"{what} needs {key!r} of type {_type_name(kind)}: {obj}")
    return value


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _entity_span(
    entity: object,
    keys: tuple[str, str],
    text: str,
    starts: Mapping[int, int],
    ends: Mapping[int, int],
    path: Path,
    line: int | str,
) -> tuple[int, int, str]:
    """Validate one JSON entity; return its token start index, token end index (excl.), label.

    ``starts``/``ends`` map token start/end character offsets to token indices; an entity whose
    offsets are not among them crosses a token boundary.
    """
    if not isinstance(entity, dict):
        raise CorpusFormatError(path, line, f"an entity must be a JSON object: {entity!r}")
    label = _get(entity, "label", str, path, line, "an entity")
    start = _get(entity, keys[0], int, path, line, "an entity")
    end = _get(entity, keys[1], int, path, line, "an entity")
    if not 0 <= start < end <= len(text):
        raise CorpusFormatError(path, line, f"entity [{start}, {end}) is empty or out of range")
    if "text" in entity and text[start:end] != entity["text"]:
        message = f"entity text {entity['text']!r} != text[{start}:{end}] = {text[start:end]!r}"
        raise CorpusFormatError(path, line, message)
    if start not in starts or end not in ends:
        message = f"entity [{start}, {end}) {text[start:end]!r} crosses a token boundary"
        raise CorpusFormatError(path, line, message)
    return starts[start], ends[end] + 1, label


def _token_spans(
    entities: object,
    keys: tuple[str, str],
    text: str,
    offsets: list[tuple[int, int]],
    options: ReadOptions,
    issues: IssueLog,
    path: Path,
    line: int | str,
) -> list[TokenSpan]:
    """Token spans of a JSON record's valid entities; bad ones are skipped (lenient) and counted."""
    if not isinstance(entities, list):
        raise CorpusFormatError(path, line, "'entities' must be a list")
    starts = {start: i for i, (start, _) in enumerate(offsets)}
    ends = {end: i for i, (_, end) in enumerate(offsets)}
    spans: list[TokenSpan] = []
    for entity in entities:
        try:
            start, end, label = _entity_span(entity, keys, text, starts, ends, path, line)
        except CorpusFormatError as error:
            issues.skip(error, "entity")
            continue
        output_label = _check_label(label, options, issues, path, line)
        if output_label is not None:
            spans.append((start, end, output_label))
    return spans


def read_lear_json(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read LEAR's JSON lines ``{"text", "entities": [{label, text, start_offset, end_offset}]}``.

    ``text`` is tokens joined by single spaces (for Chinese the spaces are artificial); offsets
    index that string.  The output text is ``options.separator.join(tokens)``, so with
    ``separator=""`` the artificial spaces disappear and offsets are recomputed.
    """
    return _read_spaced_json(path, split, options, issues, lambda obj, line: obj.get("entities"), unique=False)


def _read_spaced_json(path: Path, split: str, options: ReadOptions, issues: IssueLog, entities_of, unique: bool):
    """The LEAR authors' JSON lines: ``text`` is tokens joined by single spaces, and ``entities_of(obj, line)``
    gives the record's entity-like dicts ``{label, text?, start_offset, end_offset}`` (character offsets into
    ``text``). ``unique`` drops repeated spans (one trigger annotated for two events)."""
    records: list[Record] = []
    for index, number, obj in iter_json_lines(path, issues):
        try:
            source = _get(obj, "text", str, path, number, "a record")
            tokens = source.split(" ")
            if "" in tokens:
                raise CorpusFormatError(path, number, "empty token (text empty, or two spaces in a row)")
            offsets = joined_token_offsets(tokens, " ")
            keys = ("start_offset", "end_offset")
            spans = _token_spans(entities_of(obj, number), keys, source, offsets, options, issues, path, number)
        except CorpusFormatError as error:
            issues.skip(error, "record")
            continue
        spans = unique_spans(spans) if unique else spans
        records.append(record_from_token_spans(f"{split}-{index}", tokens, spans, options.separator))
    return records


#: Default tokenisation for ``jsonl`` records without ``tokens``: one token per CJK character,
#: runs of other letters/digits, and any other non-space character alone.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
DEFAULT_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|\S")


def default_tokenize(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Tokens of ``text`` by :data:`DEFAULT_TOKEN_RE` and their character spans."""
    matches = list(DEFAULT_TOKEN_RE.finditer(text))
    return [m.group() for m in matches], [m.span() for m in matches]


def read_jsonl(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read our JSON lines ``{"text", "entities": [{start, end, label}], "tokens"?, "id"?}``.

    Offsets are character offsets into ``text`` (end exclusive), kept as they are; ``text`` is
    kept verbatim.  Without ``tokens`` the text is tokenised by :func:`default_tokenize`.  An
    entity may carry ``text``, which is then checked against its offsets.
    """
    records: list[Record] = []
    seen_ids: set[str] = set()
    for index, number, obj in iter_json_lines(path, issues):
        try:
            record = _jsonl_record(obj, f"{split}-{index}", options, issues, path, number)
            if record["id"] in seen_ids:
                raise CorpusFormatError(path, number, f"duplicate id {record['id']!r}")
        except CorpusFormatError as error:
            issues.skip(error, "record")
            continue
        seen_ids.add(record["id"])
        records.append(record)
    return records


def _jsonl_record(obj: dict, default_id: str, options: ReadOptions, issues: IssueLog, path: Path, line: int) -> Record:
    text = _get(obj, "text", str, path, line, "a record")
    if "tokens" in obj:
        tokens = obj["tokens"]
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise CorpusFormatError(path, line, "'tokens' must be a list of strings")
        try:
            offsets = token_char_offsets(text, tokens)
        except ValueError as error:
            raise CorpusFormatError(path, line, f"tokens do not match the text: {error}") from error
    else:
        tokens, offsets = default_tokenize(text)
    if not tokens:
        raise CorpusFormatError(path, line, "the record has no tokens")
    record_id = str(obj["id"]) if "id" in obj else default_id
    spans = _token_spans(obj.get("entities"), ("start", "end"), text, offsets, options, issues, path, line)
    return record_from_offsets(record_id, text, list(tokens), offsets, spans)


# ------------------------------------------------------------------------- generic file layout


def find_split_files(raw_dir: Path) -> dict[str, Path]:
    """Map split name -> file for a generic-format folder.

    A file belongs to a split when the part of its name before the first dot is (case-insensitive)
    ``train``, ``dev``/``valid``/``validation`` or ``test``: ``train.txt``, ``dev.char.bmes``,
    ``valid.jsonl``, ``test`` all qualify.  Hidden files and sub-folders are ignored; two files
    for one split are an error.
    """
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(raw_dir.iterdir()):
        split = SPLIT_ALIASES.get(path.name.split(".")[0].lower())
        if split is None or path.name.startswith(".") or not path.is_file():
            continue
        if split in found:
            raise ValueError(f"two files for split {split!r} in {raw_dir}: {found[split].name}, {path.name}")
        found[split] = path
    if not found:
        aliases = ", ".join(sorted(SPLIT_ALIASES))
        raise FileNotFoundError(f"no split files in {raw_dir} (file names must start with one of: {aliases})")
    return found


def load_labels_file(path: Path) -> dict[str, str]:
    """Label descriptions from ``--labels FILE``, in label-id (sorted name) order.

    The file is a JSON object ``{label: description}`` (any ``.json`` file is read as JSON), or text with one
    ``LABEL<TAB>description`` per line (blank lines and lines starting with ``#`` ignored).
    """
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"--labels {path}: no such file") from None
    if path.suffix.lower() == ".json" or content.lstrip().startswith("{"):
        labels = parse_json(path, content)
        if not all(isinstance(k, str) and isinstance(v, str) and k for k, v in labels.items()):
            raise CorpusFormatError(path, 1, "labels must map label names to description strings")
    else:
        labels = {}
        for number, line in enumerate(content.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            label, tab, description = line.partition("\t")
            if not tab or not label.strip() or not description.strip():
                raise CorpusFormatError(path, number, f"expected 'LABEL<TAB>description', got {line!r}")
            if label.strip() in labels:
                raise CorpusFormatError(path, number, f"label {label.strip()!r} listed twice")
            labels[label.strip()] = description.strip()
    if not labels:
        raise CorpusFormatError(path, 1, "no labels in the file")
    return {label: labels[label] for label in sorted(labels)}


def load_label_list(path: Path) -> list[str]:
    """The label names of a JSON array of strings (GLiNER's ``labels.json``), in file order."""
    labels = load_json(path)
    if not isinstance(labels, list) or not all(isinstance(label, str) and label.strip() for label in labels):
        raise CorpusFormatError(path, 1, "expected a JSON array of label names (non-empty strings)")
    if len(set(labels)) != len(labels):
        raise CorpusFormatError(path, 1, f"a label is listed twice: {labels}")
    return labels


# ---------------------------------------------------------------------------------------- event triggers

#: Repair kind (and PHEE quirk): a trigger whose edge falls inside a word is widened to the whole word.
WIDENED_TRIGGER = "trigger boundary inside a word, widened to the word"


def unique_spans(spans: list[TokenSpan]) -> list[TokenSpan]:
    """The spans without repeats: corpora may annotate one trigger twice (two events, one trigger word)."""
    return list(dict.fromkeys(spans))


def read_lear_event_json(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read the LEAR authors' event JSON lines (their ``data/event/ace05/build_data.py`` output):
    ``{"text": tokens joined by spaces, "events": [{"trigger": {"text", "label", "segments": {"start_offset",
    "end_offset"}}, "arguments": [...]}]}``, character offsets into ``text``, end exclusive. Each trigger becomes an
    entity labelled with its event type (arguments are not read); a trigger shared by two events is kept once."""

    def triggers(obj: dict, line: int) -> list[dict]:
        return [_lear_trigger(event, path, line) for event in _get(obj, "events", list, path, line, "a record")]

    return _read_spaced_json(path, split, options, issues, triggers, unique=True)


def _lear_trigger(event: object, path: Path, line: int) -> dict:
    """One event's trigger as an entity-like dict ``{label, text, start_offset, end_offset}``."""
    if not isinstance(event, dict):
        raise CorpusFormatError(path, line, f"an event must be a JSON object: {event!r}")
    trigger = _get(event, "trigger", dict, path, line, "an event")
    segments = _get(trigger, "segments", dict, path, line, "a trigger")
    return {**{k: v for k, v in trigger.items() if k in ("label", "text")}, **segments}


def read_phee(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read PHEE's JSON lines (``{"id", "context", "annotations": [{"events": [{"event_type", "Trigger":
    {"text": [[...]], "start": [[...]]}, ...}]}]}``): each event's trigger becomes an entity of its event type.

    PHEE gives no tokens: the context is tokenised by :func:`default_tokenize`. Three source triggers end or start
    inside a word (``potentia``, ``nduced``); they are widened to the whole word, a known quirk repaired and counted
    even in strict mode. A trigger annotated for two events is kept once (24 in the corpus).
    """
    records: list[Record] = []
    for index, number, obj in iter_json_lines(path, issues):
        try:
            text = _get(obj, "context", str, path, number, "a record")
            tokens, offsets = default_tokenize(text)
            annotations = _get(obj, "annotations", list, path, number, "a record")
            events = [event for annotation in annotations for event in annotation.get("events", [])]
            triggers = [_phee_trigger(event, text, offsets, options, issues, path, number) for event in events]
            spans = _token_spans(triggers, ("start", "end"), text, offsets, options, issues, path, number)
        except (CorpusFormatError, AttributeError) as error:
            if isinstance(error, AttributeError):
                error = CorpusFormatError(path, number, f"'annotations' must be a list of objects: {error}")
            issues.skip(error, "record")
            continue
        record_id = str(obj.get("id", f"{split}-{index}"))
        records.append(record_from_offsets(record_id, text, tokens, offsets, unique_spans(spans)))
    return records


def _phee_trigger(event: object, text: str, offsets, options: ReadOptions, issues: IssueLog, path: Path, line: int):
    """One PHEE event's trigger as an entity-like dict ``{label, text, start, end}``, widened to whole words."""
    if not isinstance(event, dict):
        raise CorpusFormatError(path, line, f"an event must be a JSON object: {event!r}")
    label = _get(event, "event_type", str, path, line, "an event")
    trigger = _get(event, "Trigger", dict, path, line, "an event")
    try:
        (piece,), (start,) = trigger["text"], trigger["start"]
        (piece,), (start,) = piece, start
    except (KeyError, TypeError, ValueError) as error:
        raise CorpusFormatError(path, line, f"a trigger needs one 'text' and one 'start': {trigger}") from error
    if not isinstance(piece, str) or not isinstance(start, int) or text[start : start + len(piece)] != piece:
        raise CorpusFormatError(path, line, f"trigger {piece!r} is not text[{start}:...]")
    end = start + len(piece)
    word_start = max((s for s, _ in offsets if s <= start), default=start)
    word_end = min((e for _, e in offsets if e >= end), default=end)
    if (word_start, word_end) != (start, end):
        message = f"trigger {piece!r} [{start}, {end}) widened to {text[word_start:word_end]!r}"
        issues.repair(CorpusFormatError(path, line, message), WIDENED_TRIGGER, quirk=WIDENED_TRIGGER in options.quirks)
    return {"label": label, "start": word_start, "end": word_end}


# ---------------------------------------------------------------------------------- JSON arrays


#: Repair kind (and MIT Movie quirk): an entity whose offsets fall inside a word, while its name occurs exactly once
#: as whole tokens of the sentence, is moved there (e.g. rating ``r`` put on the ``r`` of ``rated``).
RELOCATED_ENTITY = "entity offsets inside a word, moved to the name's only whole-token occurrence"


def iter_json_array(path: Path, issues: IssueLog) -> Iterator[tuple[int, str, dict]]:
    """Yield ``(record index, location, object)`` of a file holding one JSON array of objects.

    The location (``record 12``, 0-based) takes the place of a line number in errors: such files are often one
    line. An element that is not an object is skipped (lenient) but keeps its index, so ids stay aligned.
    """
    value = load_json(path)
    if not isinstance(value, list):
        raise CorpusFormatError(path, 1, f"expected a JSON array of records, got a JSON {type(value).__name__}")
    for index, obj in enumerate(value):
        location = f"record {index}"
        if not isinstance(obj, dict):
            issues.skip(CorpusFormatError(path, location, f"a record must be a JSON object: {obj!r}"), "record")
            continue
        yield index, location, obj


def read_mit_json(path: Path, split: str, options: ReadOptions, issues: IssueLog) -> list[Record]:
    """Read GLiNER's MIT Movie / MIT Restaurant files: a JSON array of ``{"sentence", "entities": [{"name", "type",
    "pos": [start, end]}]}``, character offsets into ``sentence``, end exclusive.

    The sentence is kept as given and its tokens are its whitespace split. An entity must lie on token
    boundaries; one inside a word whose name occurs exactly once as whole tokens is moved there
    (:data:`RELOCATED_ENTITY`, a quirk of MIT Movie); any other is reported like every JSON entity.
    """
    records: list[Record] = []
    for index, location, obj in iter_json_array(path, issues):
        try:
            text = _get(obj, "sentence", str, path, location, "a record")
            tokens = text.split()
            if not tokens:
                raise CorpusFormatError(path, location, "the sentence has no tokens")
            offsets = token_char_offsets(text, tokens)
            raw = _get(obj, "entities", list, path, location, "a record")
            entities = [_mit_entity(entity, text, offsets, options, issues, path, location) for entity in raw]
            spans = _token_spans(entities, ("start", "end"), text, offsets, options, issues, path, location)
        except CorpusFormatError as error:
            issues.skip(error, "record")
            continue
        records.append(record_from_offsets(f"{split}-{index}", text, tokens, offsets, spans))
    return records


def _mit_entity(
    entity: object,
    text: str,
    offsets: list[tuple[int, int]],
    options: ReadOptions,
    issues: IssueLog,
    path: Path,
    location: str,
) -> dict:
    """One MIT entity as an entity-like dict ``{label, text, start, end}``, relocated if it lies inside a word."""
    if not isinstance(entity, dict):
        raise CorpusFormatError(path, location, f"an entity must be a JSON object: {entity!r}")
    name = _get(entity, "name", str, path, location, "an entity")
    label = _get(entity, "type", str, path, location, "an entity")
    pos = entity.get("pos")
    if not (isinstance(pos, list) and len(pos) == 2 and all(type(p) is int for p in pos)):
        raise CorpusFormatError(path, location, f"an entity needs 'pos' = [start, end] (two integers): {entity}")
    start, end = pos
    starts = {s for s, _ in offsets}
    ends = {e for _, e in offsets}
    inside_word = 0 <= start < end <= len(text) and not (start in starts and end in ends)
    if inside_word and text[start:end] == name:
        whole = [s for s, _ in offsets if text.startswith(name, s) and s + len(name) in ends]
        if len(whole) == 1:
            message = (
                f"entity {name!r} [{start}, {end}) lies inside a word; moved to [{whole[0]}, {whole[0] + len(name)})"
            )
            issues.repair(
                CorpusFormatError(path, location, message), RELOCATED_ENTITY, quirk=RELOCATED_ENTITY in options.quirks
            )
            start, end = whole[0], whole[0] + len(name)
    return {"label": label, "text": name, "start": start, "end": end}
