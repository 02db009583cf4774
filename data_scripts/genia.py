"""GENIA term corpus 3.02 -> LEAR span-extraction records (nested NER).

The only GENIA source in the shared store is the original XML
(``genia/raw_xml/GENIAcorpus3.02.tgz``); processed train files exceed the store's
size cap.  This module rebuilds the standard document split of
yhcc/CNN_Nested_NER (1,601 / 199 / 199 MEDLINE abstracts) from the XML and
reproduces that repo's conventions as closely as the raw XML allows:

* entity types: the usual five-way collapse of the GENIA ontology
  (``G#DNA_*`` -> DNA, ``G#RNA_*`` -> RNA, ``G#protein_*`` -> protein,
  ``G#cell_line``, ``G#cell_type``); every other type is dropped;
* coordinated / discontinuous constituents (``sem="(AND ...)"``, ``(OR ...)``,
  ...) are dropped as a whole, and so are their ``lex="*x*"`` fragments, which
  carry no ``sem`` -- but the contiguous typed constituents *inside* a
  coordination are kept (``A`` and ``B`` in ``A and B``).  That is exactly what
  yhcc's ``filter_annotations(remove_disc=True)`` leaves;
* the document ``MEDLINE:97218353`` occurs twice with conflicting annotation;
  the later copy wins (as in yhcc);
* tokenisation: yhcc took its tokens from the POS-tagged GENIA release
  (``<w>`` elements), which is not in the store, so :func:`tokenize_sentence`
  re-derives them with rules fitted to yhcc's processed dev/test.  Every
  constituent boundary is a token boundary (as in the POS release, which split
  words like ``E2-stimulated`` at the constituent edge).  See ``docs/genia.md``
  for the measured agreement.

Records are ``{"id", "text", "tokens", "entities"}`` with ``text`` the tokens
joined by single spaces and entity offsets in characters into ``text`` (end
exclusive, always on token boundaries).
"""

from __future__ import annotations

import bisect
import logging
import re
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from data_scripts.errors import CorpusFormatError
from data_scripts.schema import joined_token_offsets
from data_scripts.schema import validate_record as validate_schema_record
from lear.windowing import strip_whitespace


logger = logging.getLogger(__name__)

#: Label -> natural-language description ("label knowledge" fed to the encoder).
#: Keys are in id order (sorted), exactly the five collapsed GENIA types.
GENIA_LABELS: dict[str, str] = {
    "DNA": (
        "DNA: a DNA molecule, gene, or DNA region named in a biomedical abstract, "
        "such as a gene (IL-2 gene, c-fos), promoter, enhancer, binding site, "
        "motif, long terminal repeat, or cDNA and plasmid construct."
    ),
    "RNA": (
        "RNA: an RNA molecule or transcript, typically a messenger RNA for a "
        "named gene (IL-2 mRNA, c-jun transcripts), or other RNA species and RNA "
        "regions."
    ),
    "cell_line": (
        "cell line: an established, cultured, or transformed cell line or clone "
        "used in experiments, such as Jurkat T cells, HeLa cells, U937, K562, or "
        "a stably transfected clone."
    ),
    "cell_type": (
        "cell type: a natural kind of cell found in the body, such as T "
        "lymphocytes, monocytes, macrophages, B cells, neutrophils, or primary "
        "peripheral blood mononuclear cells."
    ),
    "protein": (
        "protein: a protein, protein family, complex, subunit, or protein domain, "
        "such as a transcription factor (NF-kappa B, AP-1), cytokine "
        "(interleukin-2), receptor, kinase, or antibody named in a MEDLINE "
        "abstract."
    ),
}

#: Our split name -> yhcc split-list file name.
SPLIT_FILES: dict[str, str] = {
    "train": "train.txt",
    "validation": "dev.txt",
    "test": "test.txt",
}

TGZ_RELPATH = Path("raw_xml") / "GENIAcorpus3.02.tgz"
SPLITS_RELPATH = Path("yhcc_cnn_nested_ner") / "splits"
XML_MEMBER_SUFFIX = "GENIAcorpus3.02.xml"

# The five-way collapse: sem prefix -> label.  Checked in order; no prefix is a
# prefix of another, so order does not matter.
_SEM_PREFIXES: tuple[tuple[str, str], ...] = (
    ("G#DNA", "DNA"),
    ("G#RNA", "RNA"),
    ("G#protein", "protein"),
    ("G#cell_line", "cell_line"),
    ("G#cell_type", "cell_type"),
)

# Zero-width cut points that the POS release has inside whitespace-delimited
# words: possessive "'s" (Cushing's -> Cushing 's), "cannot" -> can not,
# "didn't" -> did n't, "--" dashes, "sex-and" -> sex- and, times and ratios
# ("23:00" -> 23 : 00), "L.E.(1986)" -> L.E. ( 1986 ).
_INNER_CUT_RE = re.compile(
    r"(?<=[A-Za-z])(?='s\b)"
    r"|(?<=\bcan)(?=not\b)"
    r"|(?<=[a-z])(?=n't\b)"
    r"|(?=--)|(?<=--)"
    r"|(?<=-)(?=(?:and|or)\b)"
    r"|(?<=\d)(?=:\d)|(?<=\d:)(?=\d)"
    r"|(?<=\.)(?=\()"
)
# Bracketed pieces that the POS release splits off inside a word: powers of
# ten ("10(-9)" -> 10 ( -9 )), optional plurals ("protein(s)"), and journal
# citations ("1993 Mar 12;259(5101):1523").
_INNER_GROUP_RE = re.compile(
    r"\b10(\()-?\d+(\))"
    r"|(?<=[a-z])(\()s(\))"
    r"|\b\d+(;)\d+(\()\d+(\))(:)\d+"
)
# A mid-"sentence" full stop: some GENIA <sentence>s hold two sentences; split
# "word." before a capitalised word, but not abbreviations such as "S." or "al."
_INNER_FULL_STOP_RE = re.compile(r"(?<=[a-z]{3})\.(?=\s+[A-Z])")
_POSSESSIVE_RE = re.compile(r"'s\b")
_WORD_RE = re.compile(r"\S+")
_BRACKETED_WORD_RE = re.compile(r"\S*[)\]}]\S*")
_OPENERS = "([{"
_CLOSER_OF = {"(": ")", "[": "]", "{": "}"}
_OPENER_OF = {v: k for k, v in _CLOSER_OF.items()}
# Characters split off the end of a word (PTB-like); "." only at a sentence
# end, because abbreviations ("et al.", "i.e.", "L. donovani") keep their period.
_TRAILING = ')]},;:"%'
_SENTENCE_FINAL = ".?!"

_ARTICLE_RE = re.compile(rb"<article\b[^>]*>.*?</article>", re.S)
_BIBLIOMISC_RE = re.compile(rb"<bibliomisc>(.*?)</bibliomisc>", re.S)
_SENTENCE_RE = re.compile(rb"<sentence\b[^>]*>.*?</sentence>", re.S)


class GeniaFormatError(CorpusFormatError):
    """The GENIA XML (or the split lists) does not look as expected.

    The message reads ``FILE:LOCATION: problem``: the tar member (or split list) and the document
    or sentence id (``MEDLINE:123-4``) where the XML has no useful line number.
    """


@dataclass(frozen=True)
class Constituent:
    """A ``<cons>`` element: character span in the sentence text and its ``sem``."""

    start: int
    end: int
    sem: str | None


@dataclass(frozen=True)
class RawSentence:
    """A sentence's plain text (markup removed) and all its constituents."""

    text: str
    constituents: tuple[Constituent, ...]


@dataclass
class GeniaStats:
    """Counters gathered during conversion (logged, and checked by the tests)."""

    documents: Counter = field(default_factory=Counter)
    sentences: Counter = field(default_factory=Counter)
    entities: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    #: exact (start, end, label) duplicates removed within a sentence
    duplicate_entities: int = 0
    #: typed (collapsed) constituents seen before dedup, incl. dropped duplicate doc
    collapsed_constituents: int = 0
    #: document ids that occur more than once in the XML (later copy kept)
    duplicate_documents: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Locating and loading the raw data
# ---------------------------------------------------------------------------


def find_genia_dir(raw_dir: str | Path) -> Path:
    """Return the ``genia`` folder given either the shared data root or ``genia`` itself."""
    raw_dir = Path(raw_dir)
    for candidate in (raw_dir / "genia", raw_dir):
        if (candidate / TGZ_RELPATH).is_file():
            return candidate
    raise FileNotFoundError(f"GENIA not found: expected {TGZ_RELPATH} under {raw_dir} or {raw_dir / 'genia'}")


def read_split_ids(genia_dir: Path) -> dict[str, list[str]]:
    """Read the yhcc document-id lists (``MEDLINE:...``), one id per line."""
    splits: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for split, file_name in SPLIT_FILES.items():
        path = genia_dir / SPLITS_RELPATH / file_name
        splits[split] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            doc_id = line.strip()
            if not doc_id:
                continue
            if doc_id in seen:
                raise GeniaFormatError(path, number, f"document {doc_id} is in both {seen[doc_id]} and {split}")
            seen[doc_id] = split
            splits[split].append(doc_id)
    return splits


def load_xml_member(tgz_path: Path) -> tuple[str, bytes]:
    """Read the corpus XML out of the tarball without extracting to disk."""
    with tarfile.open(tgz_path, "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith(XML_MEMBER_SUFFIX):
                handle = archive.extractfile(member)
                assert handle is not None  # isfile() guarantees a file object
                return member.name, handle.read()
    raise GeniaFormatError(tgz_path, f"*{XML_MEMBER_SUFFIX}", "no such member in the archive")


# ---------------------------------------------------------------------------
# XML -> sentences with constituent spans
# ---------------------------------------------------------------------------


def parse_documents(xml: bytes, member: str) -> tuple[dict[str, list[RawSentence]], list[str]]:
    """Parse every ``<article>`` into sentences; return (doc id -> sentences, duplicate ids).

    Articles are parsed one at a time (not the whole file at once) so that a
    parse error can name the document, and then the sentence, it occurred in.
    A repeated document id keeps its first position but the later content,
    mirroring yhcc's ``docs[doc_id] = ...`` dictionary update.
    """
    documents: dict[str, list[RawSentence]] = {}
    duplicates: list[str] = []
    for index, match in enumerate(_ARTICLE_RE.finditer(xml)):
        fragment = match.group(0)
        doc_id = _article_id(fragment, member, index)
        if doc_id in documents:
            duplicates.append(doc_id)
        documents[doc_id] = _parse_article(fragment, member, doc_id)
    if not documents:
        raise GeniaFormatError(member, 1, "no <article> elements found")
    return documents, duplicates


def _article_id(fragment: bytes, member: str, index: int) -> str:
    """The article's ``<bibliomisc>`` (MEDLINE id)."""
    found = _BIBLIOMISC_RE.search(fragment)
    if found is None or not found.group(1).strip():
        raise GeniaFormatError(member, f"article #{index}", "no <bibliomisc> document id")
    return found.group(1).decode("utf-8").strip()


def _parse_article(fragment: bytes, member: str, doc_id: str) -> list[RawSentence]:
    """Parse one article; on malformed XML name the file, document and sentence."""
    try:
        article = ET.fromstring(fragment)
    except ET.ParseError as error:
        raise _locate_parse_error(fragment, member, doc_id, error) from error
    sentences = [_flatten_sentence(element) for element in article.iter("sentence")]
    if not sentences:
        raise GeniaFormatError(member, doc_id, "the document has no <sentence>")
    return sentences


def _locate_parse_error(fragment: bytes, member: str, doc_id: str, error: ET.ParseError) -> GeniaFormatError:
    """Re-parse sentence by sentence to say which sentence is malformed."""
    for sent_index, sentence in enumerate(_SENTENCE_RE.finditer(fragment)):
        try:
            ET.fromstring(sentence.group(0))
        except ET.ParseError as sentence_error:
            return GeniaFormatError(member, f"{doc_id}-{sent_index}", f"malformed XML: {sentence_error}")
    return GeniaFormatError(member, doc_id, f"malformed XML: {error}")


def _flatten_sentence(sentence: ET.Element) -> RawSentence:
    """Concatenate the sentence's text and record every ``<cons>`` character span."""
    pieces: list[str] = []
    constituents: list[Constituent] = []
    length = 0

    def visit(element: ET.Element) -> None:
        nonlocal length
        if element.text:
            pieces.append(element.text)
            length += len(element.text)
        for child in element:
            start = length
            visit(child)
            if child.tag == "cons":
                constituents.append(Constituent(start, length, child.get("sem")))
            if child.tail:
                pieces.append(child.tail)
                length += len(child.tail)

    visit(sentence)
    return RawSentence("".join(pieces), tuple(constituents))


def collapse_label(sem: str | None) -> str | None:
    """Map a GENIA ``sem`` to one of the five labels, or ``None`` to drop it.

    Coordinations (``sem="(AND G#protein_molecule G#protein_molecule)"``) start
    with ``(`` and are therefore dropped, as yhcc does.
    """
    if not sem:
        return None
    for prefix, label in _SEM_PREFIXES:
        if sem.startswith(prefix):
            return label
    return None


# ---------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------


def _matching_bracket(text: str, index: int, stop: int) -> int | None:
    """Index of the bracket matching ``text[index]``, scanning towards ``stop`` (exclusive), if any.

    An opening bracket is matched forwards, a closing one backwards.
    """
    bracket = text[index]
    if bracket in _CLOSER_OF:
        partner, step = _CLOSER_OF[bracket], 1
    else:
        partner, step = _OPENER_OF[bracket], -1
    depth = 0
    for position in range(index, stop, step):
        if text[position] == bracket:
            depth += 1
        elif text[position] == partner:
            depth -= 1
            if depth == 0:
                return position
    return None


def _is_isotope_label(text: str, start: int, close: int) -> bool:
    """``[3H]``, ``[125I]``: square brackets around a digit-initial label stay whole."""
    return text[start] == "[" and close > start + 1 and text[start + 1].isdigit()


def _split_piece(text: str, start: int, end: int, full_stops: set[int]) -> list[tuple[int, int]]:
    """Split off PTB-style punctuation from one piece (no whitespace, no cut inside).

    Brackets that belong to the word are kept (``Ca(2+)``, ``PDGF(B)``,
    ``[3H]calcitriol``, ``(Ca2+)i``); a fully bracketed piece is split
    (``(NF)`` -> ``( NF )``) except isotope labels (``[3H]`` stays whole), and
    ``(IL)-6`` becomes ``( IL ) -6``, matching the GENIA POS release.
    ``full_stops`` are the piece ends whose final ``.`` ends a sentence.
    """
    if start >= end:
        return []
    first = text[start]
    if first == '"' or (first == "'" and not _POSSESSIVE_RE.match(text, start)):
        return [(start, start + 1), *_split_piece(text, start + 1, end, full_stops)]
    if first in _OPENERS:
        close = _matching_bracket(text, start, end)
        if close is None:
            return [(start, start + 1), *_split_piece(text, start + 1, end, full_stops)]
        if close == end - 1 and not _is_isotope_label(text, start, close):
            inner = _split_piece(text, start + 1, close, full_stops)
            return [(start, start + 1), *inner, (close, end)]
        if first == "(" and text[close + 1] == "-":
            head = _split_piece(text, start, close + 1, full_stops)
            return [*head, *_split_piece(text, close + 1, end, full_stops)]
    last = text[end - 1]
    splits_last = (
        last in _TRAILING
        or (end in full_stops and last in _SENTENCE_FINAL)
        # closing single quote after a word ("patients'"), not a prime ("5'")
        or (last == "'" and end - start > 1 and text[end - 2].isalpha())
    )
    if splits_last and not (last in _OPENER_OF and _matching_bracket(text, end - 1, start - 1) is not None):
        return [*_split_piece(text, start, end - 1, full_stops), (end - 1, end)]
    return [(start, end)]


def _unopened_closers(text: str, start: int, end: int) -> set[int]:
    """Cuts around a ``)``/``]`` whose opener is in an earlier word.

    ``concanavalin A (Con A)-induced`` -> ``A ) -induced``: the bracket closes
    a parenthetical, it is not part of the word it is attached to.
    """
    cuts: set[int] = set()
    depth = {closer: 0 for closer in _OPENER_OF}
    for index in range(start, end):
        char = text[index]
        if char in _CLOSER_OF.values():
            if depth[char] == 0:
                cuts.update((index, index + 1))
            else:
                depth[char] -= 1
        elif char in _CLOSER_OF:
            depth[_CLOSER_OF[char]] += 1
    return cuts


def _inner_cut_points(text: str) -> set[int]:
    """Token boundaries inside whitespace-delimited words, from the regex rules."""
    cuts = {match.start() for match in _INNER_CUT_RE.finditer(text)}
    for word in _BRACKETED_WORD_RE.finditer(text):
        cuts.update(_unopened_closers(text, word.start(), word.end()))
    for match in _INNER_GROUP_RE.finditer(text):
        for group in range(1, (match.lastindex or 0) + 1):
            if match.start(group) >= 0:
                cuts.update((match.start(group), match.end(group)))
    return cuts


def tokenize_sentence(text: str, cuts: set[int]) -> list[tuple[int, int]]:
    """Character spans of the tokens of ``text``.

    ``cuts`` are forced token boundaries (constituent edges); words are
    whitespace-delimited, then split at the cuts and the regex rules, and
    punctuation is split off each piece by :func:`_split_piece`.
    """
    cut_points = set(cuts) | _inner_cut_points(text)
    full_stops = {len(text.rstrip())}
    full_stops.update(match.end() for match in _INNER_FULL_STOP_RE.finditer(text))
    ordered_cuts = sorted(cut_points)
    tokens: list[tuple[int, int]] = []
    for word in _WORD_RE.finditer(text):
        first = bisect.bisect_right(ordered_cuts, word.start())
        last = bisect.bisect_left(ordered_cuts, word.end())
        bounds = [word.start(), *ordered_cuts[first:last], word.end()]
        for piece_start, piece_end in zip(bounds, bounds[1:], strict=False):
            tokens.extend(_split_piece(text, piece_start, piece_end, full_stops))
    return tokens


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


def sentence_to_record(sentence: RawSentence, record_id: str, member: str, location: str) -> tuple[dict, int, int]:
    """Build one record; return (record, typed constituents, duplicates removed).

    ``member`` and ``location`` (the sentence id ``MEDLINE:x-i``) locate errors.
    """
    spans = [(*strip_whitespace(sentence.text, cons.start, cons.end), cons.sem) for cons in sentence.constituents]
    cuts = {offset for start, end, _ in spans if start < end for offset in (start, end)}
    token_spans = tokenize_sentence(sentence.text, cuts)
    if not token_spans:
        raise GeniaFormatError(member, location, "empty sentence")
    tokens = [sentence.text[start:end] for start, end in token_spans]
    # Original character offset -> offset in the space-joined text.
    joined = joined_token_offsets(tokens, " ")
    starts = {old[0]: new[0] for old, new in zip(token_spans, joined, strict=True)}
    ends = {old[1]: new[1] for old, new in zip(token_spans, joined, strict=True)}
    entities: list[dict] = []
    seen: set[tuple[int, int, str]] = set()
    typed = 0
    for start, end, sem in spans:
        label = collapse_label(sem)
        if label is None:
            continue
        typed += 1
        if start >= end or start not in starts or end not in ends:
            raise GeniaFormatError(
                member,
                location,
                f"constituent {sentence.text[start:end]!r} ({sem}) is empty or not on token boundaries",
            )
        key = (starts[start], ends[end], label)
        if key in seen:
            continue
        seen.add(key)
        entities.append({"start": key[0], "end": key[1], "label": label})
    entities.sort(key=lambda entity: (entity["start"], -entity["end"], entity["label"]))
    record = {"id": record_id, "text": " ".join(tokens), "tokens": tokens, "entities": entities}
    return record, typed, typed - len(entities)


def validate_record(record: dict, member: str = XML_MEMBER_SUFFIX, sentence: str | None = None) -> None:
    """Check a GENIA record; raise :class:`GeniaFormatError` naming the sentence and the record.

    The shared checks of :func:`data_scripts.schema.validate_record` (with the GENIA labels), plus
    GENIA's own: tokens contain no whitespace, ``text`` is the tokens joined by single spaces, and
    each entity's text is its tokens joined by single spaces.  The error reads
    ``MEMBER:SENTENCE: record ID: problem``; ``sentence`` defaults to the record id.
    """
    try:
        validate_schema_record(record, GENIA_LABELS)
        _check_space_joined(record)
    except ValueError as error:
        raise GeniaFormatError(member, sentence or record["id"], f"record {record['id']}: {error}") from error


def _check_space_joined(record: dict) -> None:
    """GENIA's checks on top of the schema's (which guarantee the entities are on token boundaries)."""
    tokens, text = record["tokens"], record["text"]
    if any(char.isspace() for token in tokens for char in token):
        raise ValueError("token with whitespace")
    if text != " ".join(tokens):
        raise ValueError("text is not the space-joined tokens")
    offsets = joined_token_offsets(tokens, " ")
    first_token = {start: index for index, (start, _) in enumerate(offsets)}
    after_token = {end: index + 1 for index, (_, end) in enumerate(offsets)}
    for entity in record["entities"]:
        start, end = entity["start"], entity["end"]
        if text[start:end] != " ".join(tokens[first_token[start] : after_token[end]]):
            raise ValueError(f"entity {entity} text mismatch")


def read_genia_with_stats(raw_dir: str | Path) -> tuple[dict[str, list[dict]], GeniaStats]:
    """Convert GENIA; return split -> records plus conversion statistics."""
    genia_dir = find_genia_dir(raw_dir)
    split_ids = read_split_ids(genia_dir)
    member, xml = load_xml_member(genia_dir / TGZ_RELPATH)
    documents, duplicates = parse_documents(xml, member)
    stats = GeniaStats(duplicate_documents=duplicates)
    splits: dict[str, list[dict]] = {}
    for split, doc_ids in split_ids.items():
        missing = [doc_id for doc_id in doc_ids if doc_id not in documents]
        if missing:
            raise GeniaFormatError(member, missing[0], f"{split} documents not in the XML: {missing[:5]}")
        records: list[dict] = []
        for doc_id in doc_ids:
            for sent_index, sentence in enumerate(documents[doc_id]):
                location = f"{doc_id}-{sent_index}"
                record, typed, dropped = sentence_to_record(sentence, f"{split}-{len(records)}", member, location)
                validate_record(record, member, location)
                stats.collapsed_constituents += typed
                stats.duplicate_entities += dropped
                stats.labels.update(entity["label"] for entity in record["entities"])
                stats.entities[split] += len(record["entities"])
                records.append(record)
        stats.documents[split] = len(doc_ids)
        stats.sentences[split] = len(records)
        splits[split] = records
    unassigned = len(documents) - sum(stats.documents.values())
    if unassigned:
        logger.warning("GENIA: %d documents of the XML are in no split", unassigned)
    logger.info(
        "GENIA: docs %s, sentences %s, entities %s, %d exact duplicate entities removed, duplicate documents %s",
        dict(stats.documents),
        dict(stats.sentences),
        dict(stats.entities),
        stats.duplicate_entities,
        duplicates,
    )
    return splits, stats


def read_genia(raw_dir: str | Path) -> dict[str, list[dict]]:
    """Convert GENIA 3.02 to ``{"train"|"validation"|"test": [record, ...]}``.

    ``raw_dir`` is the shared data root (containing ``genia/``) or the
    ``genia`` folder itself.
    """
    splits, _ = read_genia_with_stats(raw_dir)
    return splits
