"""The one record schema shared by every converted corpus.

A converted corpus is a ``datasets.DatasetDict`` with the splits ``train``, ``validation`` and
``test`` (any subset), saved with ``save_to_disk``, plus ``labels.json`` (label -> description, in
label-id order) and a dataset card ``README.md`` in the same folder.

Each row:

* ``id`` -- string, ``"<split>-<n>"`` where ``n`` is the sentence's 0-based position in the source
  split (so skipped sentences leave gaps and ids can be traced back to the source), unless the
  source supplies its own ids (``jsonl``).
* ``text`` -- the real text.  For corpora distributed as tokens it is the tokens joined by one
  space (English) or by nothing (Chinese: the artificial spaces of LEAR's files are removed).
* ``tokens`` -- the corpus's own units (words for English, characters for Chinese).  Every token
  occurs in ``text`` in order, separated only by whitespace (see :func:`token_char_offsets`).
* ``entities`` -- ``{start, end, label}`` character offsets into ``text``, ``end`` exclusive; every
  boundary falls on a token boundary.  Entities may nest or overlap (ACE, GENIA).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import datasets

from lear.windowing import word_char_offsets


#: Split names, in the order they are written.
SPLITS: tuple[str, ...] = ("train", "validation", "test")

#: File name of the label -> description map written next to the dataset.
LABELS_FILE = "labels.json"

ENTITY_FEATURE = {
    "start": datasets.Value("int32"),
    "end": datasets.Value("int32"),
    "label": datasets.Value("string"),
}

#: The dataset features of every converted corpus.
FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "tokens": datasets.List(datasets.Value("string")),
        "entities": datasets.List(ENTITY_FEATURE),
    }
)


class Entity(TypedDict):
    """One entity mention: character span ``[start, end)`` of the record's text."""

    start: int
    end: int
    label: str


class Record(TypedDict):
    """One sentence in the shared schema (a row of :data:`FEATURES`)."""

    id: str
    text: str
    tokens: list[str]
    entities: list[Entity]


def token_char_offsets(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character span of each token in ``text``.

    Tokens are found in order by :func:`lear.windowing.word_char_offsets`; on top of that, no token
    may be empty and the text between two tokens (and before the first / after the last) must be
    whitespace only, so a token list that does not spell out ``text`` is caught instead of silently
    misaligned.  Raises ``ValueError`` on an empty token or a mismatch.
    """
    for index, token in enumerate(tokens):
        if not token:
            raise ValueError(f"token {index} is empty")
    spans = word_char_offsets(text, tokens)
    pos = 0
    for index, (token, (start, end)) in enumerate(zip(tokens, spans, strict=True)):
        if start > pos and not text[pos:start].isspace():
            raise ValueError(f"token {index} {token!r} not found at character {pos} of the text")
        pos = end
    if pos < len(text) and not text[pos:].isspace():
        raise ValueError(f"text after the last token is not whitespace: {text[pos : pos + 20]!r}")
    return spans


def joined_token_offsets(tokens: list[str], separator: str) -> list[tuple[int, int]]:
    """Character spans of ``tokens`` in ``separator.join(tokens)`` (faster than searching)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    step = len(separator)
    for token in tokens:
        spans.append((pos, pos + len(token)))
        pos += len(token) + step
    return spans


def validate_record(record: Record, labels: dict[str, str] | None = None) -> None:
    """Check one record against the schema; raise ``ValueError`` describing the first problem.

    Checks: there is at least one token, the tokens spell out the text, every entity is a
    non-empty in-range span whose both ends fall on token boundaries, and (when ``labels`` is
    given) every label is known.
    """
    if not record["tokens"]:
        raise ValueError("the record has no tokens")
    spans = token_char_offsets(record["text"], record["tokens"])
    starts = {start for start, _ in spans}
    ends = {end for _, end in spans}
    for entity in record["entities"]:
        start, end, label = entity["start"], entity["end"], entity["label"]
        if not 0 <= start < end <= len(record["text"]):
            raise ValueError(f"entity {entity} is empty or out of range")
        if start not in starts or end not in ends:
            raise ValueError(f"entity {entity} does not fall on token boundaries")
        if labels is not None and label not in labels:
            raise ValueError(f"entity {entity} has a label not in the label set")


def load_converted(out_dir: str | Path) -> tuple[datasets.DatasetDict, dict[str, str]]:
    """Load a converted corpus: the ``DatasetDict`` and its labels (label -> description, id order)."""
    out_dir = Path(out_dir)
    dataset = datasets.load_from_disk(str(out_dir))
    if not isinstance(dataset, datasets.DatasetDict):
        raise ValueError(f"{out_dir} holds a single Dataset, not a converted DatasetDict")
    labels = json.loads((out_dir / LABELS_FILE).read_text(encoding="utf-8"))
    return dataset, labels
