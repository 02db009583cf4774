"""Strict BIO (IOB2) and BMES (BIOES) tag decoders that report FILE:LINE on every problem.

seqeval's decoders silently accept any sequence, so they cannot tell a corrupt file apart from a
good one; these decoders raise (or, when the :class:`IssueLog` is lenient, repair and count).
"""

from __future__ import annotations

from pathlib import Path

from data_scripts.errors import CorpusFormatError, IssueLog


#: A decoded entity: token start, token end (exclusive), label.
TokenSpan = tuple[int, int, str]

#: Tag prefixes each scheme accepts; for BMES, ``I`` is accepted as a synonym of ``M`` (BIOES).
PREFIXES = {"bio": frozenset("BI"), "bmes": frozenset("BMESI")}

#: Repair kinds, also the names of the corpus quirks a named corpus may allow.
ORPHAN_INSIDE = "I-/M- tag without a preceding B- of the same type"
ORPHAN_END = "E- tag without a preceding B- of the same type"
UNCLOSED = "entity not closed by an E- tag"
#: A BIO quirk (Pile-NER): nested entities were flattened by writing the inner one's tags over the outer one's, so
#: the outer entity's B- is lost and only its trailing I- tags remain (``refractory/B-characteristic
#: symptoms/I-symptom``). Its start is unknown, so such I- tags are read as ``O`` instead of starting an entity.
NESTED_REMNANT = "I- tag left of an overwritten nested entity, read as O"


def parse_tag(tag: str, scheme: str, path: str | Path, line: int) -> tuple[str, str]:
    """Split ``tag`` into ``(prefix, label)``; ``O`` gives ``("O", "")``.

    Raises :class:`CorpusFormatError` for an unknown prefix or a missing label.
    """
    if tag == "O":
        return "O", ""
    prefix, dash, label = tag.partition("-")
    if not dash or not label or prefix not in PREFIXES[scheme]:
        expected = "/".join(sorted(PREFIXES[scheme]))
        raise CorpusFormatError(path, line, f"unknown tag {tag!r} (expected O or {expected}-TYPE)")
    return prefix, label


class DecodingState:
    """State of one sentence's decoding: where its tags come from (for errors), how problems are handled, the open
    entity and the spans found so far. Every decoder of :data:`DECODERS` takes a fresh one per sentence."""

    def __init__(self, path: str | Path, issues: IssueLog, quirks: frozenset[str] = frozenset()) -> None:
        self.path = path
        self.issues = issues
        self.quirks = quirks
        self.spans: list[TokenSpan] = []
        self.open_start: int | None = None
        self.open_label = ""

    def open(self, index: int, label: str) -> None:
        self.open_start, self.open_label = index, label

    def close(self, end: int) -> None:
        if self.open_start is not None:
            self.spans.append((self.open_start, end, self.open_label))
            self.open_start, self.open_label = None, ""

    def repair(self, line: int, message: str, kind: str) -> None:
        error = CorpusFormatError(self.path, line, message)
        self.issues.repair(error, kind, quirk=kind in self.quirks)


def decode_bio(tags: list[str], lines: list[int], state: DecodingState) -> list[TokenSpan]:
    """Decode IOB2 tags (every entity starts with ``B-``) into token spans.

    ``lines`` gives each tag's line number for error messages.  Repair (lenient mode, or the quirk
    :data:`ORPHAN_INSIDE`): an ``I-X`` that does not continue an ``X`` entity starts a new one, as
    conlleval does.  Under the quirk :data:`NESTED_REMNANT` such a tag is read as ``O`` instead.
    """
    for index, (tag, line) in enumerate(zip(tags, lines)):
        prefix, label = parse_tag(tag, "bio", state.path, line)
        if prefix == "I" and state.open_start is not None and state.open_label == label:
            continue
        state.close(index)
        if prefix == "I" and NESTED_REMNANT in state.quirks:
            state.repair(line, f"{tag} does not continue a B-{label}/I-{label} entity: read as O", NESTED_REMNANT)
            continue
        if prefix == "I":
            state.repair(line, f"{tag} does not continue a B-{label}/I-{label} entity", ORPHAN_INSIDE)
        if prefix != "O":
            state.open(index, label)
    state.close(len(tags))
    return state.spans


def decode_bmes(tags: list[str], lines: list[int], state: DecodingState) -> list[TokenSpan]:
    """Decode BMES tags (``B-``/``M-``/``E-``/``S-``/``O``; ``I-`` = ``M-``) into token spans.

    Repairs in lenient mode: an entity left open (``B- M-`` followed by ``O``, ``B-``, ``S-``, another
    type, or the sentence end) is closed after its last tag; an ``M-X``/``E-X`` that does not continue
    an ``X`` entity starts a new one (an orphan ``E-X`` becomes a one-token entity).
    """
    for index, (tag, line) in enumerate(zip(tags, lines)):
        prefix, label = parse_tag(tag, "bmes", state.path, line)
        continues = state.open_start is not None and state.open_label == label
        if prefix in "MIE" and continues:
            if prefix == "E":
                state.close(index + 1)
            continue
        if state.open_start is not None:
            state.repair(line, f"{tag} follows an entity not closed by E-{state.open_label}", UNCLOSED)
            state.close(index)
        if prefix in "MI":
            state.repair(line, f"{tag} does not continue a B-{label} entity", ORPHAN_INSIDE)
            state.open(index, label)
        elif prefix == "E":
            state.repair(line, f"{tag} does not close a B-{label} entity", ORPHAN_END)
            state.spans.append((index, index + 1, label))
        elif prefix == "B":
            state.open(index, label)
        elif prefix == "S":
            state.spans.append((index, index + 1, label))
    if state.open_start is not None:
        message = f"sentence ends inside an entity not closed by E-{state.open_label}"
        state.repair(lines[-1], message, UNCLOSED)
        state.close(len(tags))
    return state.spans


def decode_single(tags: list[str], lines: list[int], state: DecodingState) -> list[TokenSpan]:
    """Decode prefix-less tags where every tagged token is its own span (``EVENT``/``O``, as LitBank's event
    triggers): two adjacent ``EVENT`` tokens are two triggers, never one. A tag with a BIO-style prefix is an error
    (the file is not in this scheme)."""
    spans: list[TokenSpan] = []
    for index, (tag, line) in enumerate(zip(tags, lines)):
        if tag == "O":
            continue
        if not tag or (len(tag) > 2 and tag[1] == "-" and tag[0] in "BIMES"):
            raise CorpusFormatError(state.path, line, f"unknown tag {tag!r} (expected O or a bare TYPE, one per token)")
        spans.append((index, index + 1, tag))
    return spans


DECODERS = {"bio": decode_bio, "bmes": decode_bmes, "single": decode_single}
