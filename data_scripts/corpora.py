"""The corpus registry: how each named corpus and each generic format is read.

Named corpora take ``RAW_DIR`` = the data root (``/work/shared/data``, holding one folder per
corpus) or the corpus's own folder; ``zh_msra`` needs both ``zh_msra/`` and ``msra_bio/`` and
so is best given the data root (see :func:`read_zh_msra`).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_scripts import label_descriptions as descriptions
from data_scripts.errors import CorpusFormatError, IssueLog
from data_scripts.readers import (
    SPLIT_ALIASES,
    WIDENED_TRIGGER,
    ReadOptions,
    find_split_files,
    load_labels_file,
    read_column_file,
    read_jsonl,
    read_lear_event_json,
    read_lear_json,
    read_phee,
)
from data_scripts.schema import SPLITS, Record
from data_scripts.tags import ORPHAN_INSIDE, UNCLOSED


#: A reader of one split file (see :mod:`data_scripts.readers`).
FileReader = Callable[[Path, str, ReadOptions, IssueLog], list[Record]]

#: Token separator in ``text`` per language.
SEPARATORS = {"en": " ", "zh": ""}


@dataclass
class Settings:
    """The command-line options a reader may use."""

    labels_file: Path | None = None
    lenient: bool = False
    lang: str | None = None


@dataclass
class Corpus:
    """A corpus read into the shared schema, with what the dataset card needs to say about it."""

    name: str
    pretty_name: str
    language: str
    splits: dict[str, list[Record]]
    labels: dict[str, str]
    issues: IssueLog
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CorpusSpec:
    """A registry entry: ``read(raw_dir, settings)`` returns the :class:`Corpus`.

    ``lenient``: whether ``--lenient`` can repair or skip this corpus's bad input.
    """

    name: str
    read: Callable[[Path, Settings], Corpus]
    generic: bool = False
    summary: str = ""
    lenient: bool = True


# ------------------------------------------------------------------------------------ helpers


def corpus_dir(raw_dir: Path, folder: str) -> Path:
    """``raw_dir/folder`` when ``raw_dir`` is the data root, else ``raw_dir`` itself."""
    return raw_dir / folder if (raw_dir / folder).is_dir() else raw_dir


def read_split_files(
    folder: Path, files: dict[str, str], reader: FileReader, options: ReadOptions, issues: IssueLog
) -> dict[str, list[Record]]:
    """Read ``files`` (split -> file name in ``folder``); every file must exist."""
    paths = {split: folder / name for split, name in files.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"missing corpus files: {', '.join(missing)}")
    return {split: reader(path, split, options, issues) for split, path in paths.items()}


def choose_descriptions(default: dict[str, str], settings: Settings) -> dict[str, str]:
    """The corpus's own descriptions, or those of ``--labels`` (which must name the same labels)."""
    if settings.labels_file is None:
        return default
    chosen = load_labels_file(settings.labels_file)
    if set(chosen) != set(default):
        raise ValueError(f"{settings.labels_file} names labels {sorted(chosen)}, the corpus has {sorted(default)}")
    # Keep the corpus's id order.
    return {label: chosen[label] for label in default}


def labels_from_names(splits: dict[str, list[Record]]) -> dict[str, str]:
    """Labels seen in ``splits``, sorted, each described by its own name (the no-``--labels`` case)."""
    seen = {entity["label"] for records in splits.values() for r in records for entity in r["entities"]}
    return {label: label for label in sorted(seen)}


NAMES_AS_DESCRIPTIONS = (
    "no label descriptions were given, so each label is described by its own name; "
    "LEAR works much better with real descriptions (--labels FILE)"
)


def warn(message: str) -> None:
    """Print a warning to stderr."""
    print(f"WARNING: {message}", file=sys.stderr)


# ----------------------------------------------------------------------------- named corpora


def _fixed_files(
    name: str,
    pretty_name: str,
    language: str,
    folder: str,
    files: dict[str, str],
    reader: FileReader,
    labels: dict[str, str],
    notes: tuple[str, ...] = (),
    **options,
) -> Callable[[Path, Settings], Corpus]:
    """A reader for a corpus whose split files and label descriptions are fixed.

    ``notes`` go to the dataset card; ``options`` are further :class:`ReadOptions` fields.
    """

    def read(raw_dir: Path, settings: Settings) -> Corpus:
        source = corpus_dir(raw_dir, folder)
        issues = IssueLog(lenient=settings.lenient)
        chosen = choose_descriptions(labels, settings)
        read_options = ReadOptions(separator=SEPARATORS[language], labels=set(chosen), **options)
        splits = read_split_files(source, files, reader, read_options, issues)
        sources = [str(source / file) for file in files.values()]
        return Corpus(name, pretty_name, language, splits, chosen, issues, sources, list(notes))

    return read


def strip_segmentation_digits(token: str, path: Path, line: int) -> str:
    """Weibo tokens are a character plus its position in its word (``科0``, ``p10``): drop the digits.

    The shortest prefix followed by only digits is kept, so a digit character keeps itself
    (``310`` -> ``3``).  Some tokens are two U+FFFD (an emoji lost upstream); they are kept as is.
    """
    match = re.fullmatch(r"(.+?)(\d+)", token)
    if match is None:
        raise CorpusFormatError(path, line, f"token {token!r} lacks its segmentation digit")
    return match.group(1)


def _lear_corpus(name: str, pretty_name: str, language: str, folder: str) -> Callable[[Path, Settings], Corpus]:
    """A reader for one of LEAR's processed corpora ({train,dev,test}.json + label files)."""

    def read(raw_dir: Path, settings: Settings) -> Corpus:
        source = corpus_dir(raw_dir, folder)
        issues = IssueLog(lenient=settings.lenient)
        lear_labels, notes = lear_descriptions(source)
        chosen = choose_descriptions(lear_labels, settings) if lear_labels else None
        read_options = ReadOptions(separator=SEPARATORS[language], labels=set(chosen) if chosen else None)
        files = {"train": "train.json", "validation": "dev.json", "test": "test.json"}
        splits = read_split_files(source, files, read_lear_json, read_options, issues)
        if chosen is None:
            chosen = choose_descriptions(labels_from_names(splits), settings)
        sources = [str(source / file) for file in files.values()]
        return Corpus(name, pretty_name, language, splits, chosen, issues, sources, notes)

    return read


def lear_descriptions(source: Path) -> tuple[dict[str, str] | None, list[str]]:
    """LEAR's label descriptions from ``source`` and notes for the card (a warning if absent)."""
    labels = descriptions.read_lear_annotations(source)
    if labels is None:
        warn(f"{source} lacks {descriptions.LABEL_ANNOTATION_FILE}; {NAMES_AS_DESCRIPTIONS}")
        return None, [NAMES_AS_DESCRIPTIONS]
    note = f"label descriptions: LEAR's {descriptions.LABEL_ANNOTATION_FILE}"
    return labels, [note]


#: LEAR's MSRA labels for the SIGHAN tags of msra_bio.
MSRA_RENAME = {"PER": "NR", "LOC": "NS", "ORG": "NT"}


def read_zh_msra(raw_dir: Path, settings: Settings) -> Corpus:
    """MSRA as in LEAR: dev/test from ``zh_msra/{dev,test}.json``, train rebuilt from ``msra_bio``.

    LEAR's ``train.json`` is not available, and its dev set is the tail of the SIGHAN train file
    (``msra_train_bio``), partly re-split into shorter sentences and cleaned of markup.  The train
    split is therefore ``msra_train_bio`` minus the contiguous block of sentences from the first to
    the last one that occurs verbatim in dev.json, with PER/LOC/ORG renamed NR/NS/NT.
    ``raw_dir`` is the data root, or a folder holding dev.json, test.json and msra_train_bio (or
    a sibling ``msra_bio/`` folder).
    """
    source = corpus_dir(raw_dir, "zh_msra")
    issues = IssueLog(lenient=settings.lenient)
    lear_labels, notes = lear_descriptions(source)
    chosen = choose_descriptions(lear_labels or {v: v for v in sorted(MSRA_RENAME.values())}, settings)
    files = {"validation": "dev.json", "test": "test.json"}
    options = ReadOptions(separator="", labels=set(chosen))
    splits = read_split_files(source, files, read_lear_json, options, issues)
    train_path = find_msra_train(raw_dir, source)
    bio_options = ReadOptions(separator="", labels=set(chosen), rename=MSRA_RENAME)
    full_train = read_column_file(train_path, "train", bio_options, issues)
    train, note = drop_dev_block(full_train, splits["validation"], train_path)
    splits = {"train": train, **splits}
    sources = [str(train_path)] + [str(source / file) for file in files.values()]
    return Corpus("zh_msra", "MSRA (LEAR splits)", "zh", splits, chosen, issues, sources, notes + [note])


def find_msra_train(raw_dir: Path, source: Path) -> Path:
    """Locate ``msra_train_bio`` next to the LEAR files or in a ``msra_bio`` folder."""
    candidates = [
        source / "msra_train_bio",
        raw_dir / "msra_bio" / "msra_train_bio",
        source.parent / "msra_bio" / "msra_train_bio",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"msra_train_bio not found; looked at {', '.join(map(str, candidates))}")


def drop_dev_block(train: list[Record], dev: list[Record], train_path: Path) -> tuple[list[Record], str]:
    """Remove from ``train`` the block of sentences LEAR's dev set was made from.

    The block runs from the first to the last train sentence whose text is a dev sentence.  As a
    guard against a different file, its size in characters must be within 1% of the dev set's.
    """
    dev_texts = {record["text"] for record in dev}
    hits = [i for i, record in enumerate(train) if record["text"] in dev_texts]
    if not hits:
        raise ValueError(f"no sentence of {train_path} occurs in the dev set: not LEAR's MSRA")
    first, last = hits[0], hits[-1]
    block_chars = sum(len(record["text"]) for record in train[first : last + 1])
    dev_chars = sum(len(record["text"]) for record in dev)
    if abs(block_chars - dev_chars) > 0.01 * dev_chars:
        raise ValueError(
            f"the dev block of {train_path} (sentences {first}..{last}, {block_chars} chars) does not "
            f"match the dev set ({dev_chars} chars)"
        )
    note = (
        f"train = {train_path.name} minus sentences {first}..{last} ({last - first + 1} sentences, "
        f"{len(hits)} of them verbatim in dev.json, the rest re-split there), "
        "with PER/LOC/ORG renamed NR/NS/NT"
    )
    return train[:first] + train[last + 1 :], note


def read_genia(raw_dir: Path, settings: Settings) -> Corpus:
    """GENIA through ``data_scripts.genia`` (imported only when asked for: it is maintained apart)."""
    try:
        genia = importlib.import_module("data_scripts.genia")
    except ModuleNotFoundError as error:
        if error.name != "data_scripts.genia":
            raise
        raise RuntimeError("data_scripts/genia.py is not installed; GENIA cannot be converted") from None
    source = corpus_dir(raw_dir, "genia")
    issues = IssueLog(lenient=settings.lenient)
    labels = choose_descriptions(dict(genia.GENIA_LABELS), settings)
    raw_splits = genia.read_genia(source)
    splits = {SPLIT_ALIASES.get(split, split): list(records) for split, records in raw_splits.items()}
    notes = [
        "converted by data_scripts/genia.py (GENIA 3.02 XML, yhcc document split; see docs/genia.md)",
        "label descriptions: data_scripts.genia.GENIA_LABELS",
    ]
    return Corpus("genia", "GENIA", "en", splits, labels, issues, [str(source)], notes)


#: LitBank's split lists (one tsv file name per line) and where the tsv files are.
LITBANK_SPLIT_FILES = {"train": "splits/train.txt", "validation": "splits/dev.txt", "test": "splits/test.txt"}


def read_litbank_events(raw_dir: Path, settings: Settings) -> Corpus:
    """LitBank literary events: the official 60/10/30-book split, ``token<TAB>EVENT|O`` files, one trigger per
    ``EVENT`` token (two adjacent ``EVENT`` tokens are two triggers). Ids are ``<book>-<n>``, n the sentence's
    position in its book."""
    source = corpus_dir(raw_dir, "litbank_events")
    issues = IssueLog(lenient=settings.lenient)
    labels = choose_descriptions(descriptions.LITBANK_EVENT_LABELS, settings)
    options = ReadOptions(separator=" ", scheme="single", labels=set(labels))
    splits: dict[str, list[Record]] = {}
    sources = []
    for split, list_file in LITBANK_SPLIT_FILES.items():
        list_path = source / list_file
        if not list_path.is_file():
            raise FileNotFoundError(f"missing corpus file: {list_path}")
        names = [line.strip() for line in list_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        records = []
        for name in names:
            path = source / "tsv" / name
            if not path.is_file():
                raise FileNotFoundError(f"{list_path} names {name}, which is not in {source / 'tsv'}")
            book = name.removesuffix(".tsv")
            for record in read_column_file(path, split, options, issues):
                record["id"] = f"{book}-{record['id'].rsplit('-', 1)[1]}"
                records.append(record)
        splits[split] = records
        sources.append(str(list_path))
    notes = list(LABELS_HERE) + ["each EVENT token is one trigger: adjacent EVENT tokens stay separate triggers"]
    return Corpus("litbank_events", "LitBank events", "en", splits, labels, issues, sources, notes)


# ----------------------------------------------------------------------------- generic formats


#: Generic format -> (file reader, tag scheme, default language).
GENERIC_FORMATS: dict[str, tuple[FileReader, str, str]] = {
    "conll-bio": (read_column_file, "bio", "en"),
    "bmes": (read_column_file, "bmes", "zh"),
    "lear-json": (read_lear_json, "bio", "zh"),
    "jsonl": (read_jsonl, "bio", "en"),
    "lear-event-json": (read_lear_event_json, "bio", "en"),
}


def _generic(format_name: str) -> Callable[[Path, Settings], Corpus]:
    """A reader for user data in ``format_name``: split files found by :func:`find_split_files`."""
    reader, scheme, default_language = GENERIC_FORMATS[format_name]

    def read(raw_dir: Path, settings: Settings) -> Corpus:
        issues = IssueLog(lenient=settings.lenient)
        language = settings.lang or default_language
        given = load_labels_file(settings.labels_file) if settings.labels_file else None
        options = ReadOptions(separator=SEPARATORS[language], scheme=scheme, labels=set(given) if given else None)
        paths = find_split_files(raw_dir)
        splits = {split: reader(path, split, options, issues) for split, path in paths.items()}
        if format_name == "jsonl" and settings.lang is None:
            # jsonl keeps its own text, so the language only labels the dataset card.
            language = detect_language(splits)
        notes = [f"label descriptions: {settings.labels_file.name}"] if given else []
        if given is None and format_name == "lear-event-json":
            given = descriptions.read_lear_annotations(
                raw_dir, descriptions.TRIGGER_MAP_FILE, descriptions.TRIGGER_ANNOTATION_FILE
            )
            notes += [f"label descriptions: the authors' {descriptions.TRIGGER_ANNOTATION_FILE}"] if given else []
        if given is None:
            warn(NAMES_AS_DESCRIPTIONS)
            notes.append(NAMES_AS_DESCRIPTIONS)
        labels = given or labels_from_names(splits)
        sources = [str(path) for path in paths.values()]
        name = raw_dir.resolve().name
        return Corpus(name, f"{name} ({format_name})", language, splits, labels, issues, sources, notes)

    return read


def detect_language(splits: dict[str, list[Record]]) -> str:
    """``"zh"`` when the first 100 texts of any split contain a CJK ideograph, else ``"en"``."""
    cjk = re.compile(r"[\u3400-\u9fff]")
    texts = (r["text"] for records in splits.values() for r in records[:100])
    return "zh" if any(cjk.search(text) for text in texts) else "en"


# ----------------------------------------------------------------------------------- registry

LABELS_HERE = ("label descriptions: data_scripts/label_descriptions.py (written for lear)",)

# Known defects of the named corpora, repaired the standard (conlleval) way even in strict mode so
# that the published counts are reproduced; each repair is still counted in the card.
RESUME_NOTES = LABELS_HERE + (
    "known quirk: two ORG names in train are cut by a sentence break (train.char.bmes lines "
    "62390 and 64412); each half is kept as an entity, as in the published counts (13,440)",
)
WEIBO_NOTES = LABELS_HERE + (
    "tokens are the character without its trailing word-segmentation digits; a few tokens are two "
    "U+FFFD characters (an emoji lost upstream) and are kept as they are",
    "known quirk: 14 I- tags (10 train, 4 test) do not continue an entity of their type; each "
    "starts a new entity, as conlleval does and as in the published counts (1,895 / 389 / 418)",
)


def _registry() -> dict[str, CorpusSpec]:
    bio_files = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
    bmes_files = {s: f"{n}.char.bmes" for s, n in zip(SPLITS, ("train", "dev", "test"))}
    weibo_files = {s: f"weiboNER_2nd_conll.{n}" for s, n in zip(SPLITS, ("train", "dev", "test"))}
    specs = [
        CorpusSpec(
            "conll2003",
            _fixed_files(
                "conll2003",
                "CoNLL-2003 English",
                "en",
                "conll2003",
                bio_files,
                read_column_file,
                descriptions.CONLL2003_LABELS,
                LABELS_HERE,
            ),
            summary="CoNLL-2003 English, IOB2 column files {train,valid,test}.txt",
        ),
        CorpusSpec("zh_msra", read_zh_msra, summary="MSRA, LEAR dev/test + train from msra_bio"),
        CorpusSpec(
            "zh_onto4",
            _lear_corpus("zh_onto4", "Chinese OntoNotes 4.0 (LEAR splits)", "zh", "zh_onto4"),
            summary="Chinese OntoNotes 4.0, LEAR JSON",
        ),
        CorpusSpec(
            "resume_zh",
            _fixed_files(
                "resume_zh",
                "Chinese Resume NER",
                "zh",
                "resume_zh",
                bmes_files,
                read_column_file,
                descriptions.RESUME_LABELS,
                RESUME_NOTES,
                scheme="bmes",
                quirks=frozenset({UNCLOSED, ORPHAN_INSIDE}),
            ),
            summary="Chinese Resume NER, BMES {train,dev,test}.char.bmes",
        ),
        CorpusSpec(
            "weibo_zh",
            _fixed_files(
                "weibo_zh",
                "Weibo NER (2nd version)",
                "zh",
                "weibo_zh",
                weibo_files,
                read_column_file,
                descriptions.WEIBO_LABELS,
                WEIBO_NOTES,
                token_fn=strip_segmentation_digits,
                quirks=frozenset({ORPHAN_INSIDE}),
            ),
            summary="Weibo NER 2nd version, all 8 labels",
        ),
        CorpusSpec(
            "ace2004",
            _lear_corpus("ace2004", "ACE 2004 (LEAR splits)", "en", "ace2004"),
            summary="ACE 2004 nested, LEAR JSON",
        ),
        CorpusSpec(
            "ace2005",
            _lear_corpus("ace2005", "ACE 2005 (LEAR splits)", "en", "ace2005"),
            summary="ACE 2005 nested, LEAR JSON",
        ),
        CorpusSpec("genia", read_genia, summary="GENIA nested (data_scripts.genia)", lenient=False),
        CorpusSpec(
            "litbank_events",
            read_litbank_events,
            summary="LitBank literary event triggers (one type), official book split",
        ),
        CorpusSpec(
            "phee",
            _fixed_files(
                "phee",
                "PHEE pharmacovigilance event triggers",
                "en",
                "phee",
                {"train": "train.json", "validation": "dev.json", "test": "test.json"},
                read_phee,
                descriptions.PHEE_LABELS,
                LABELS_HERE
                + (
                    "each event's trigger is an entity of the event type; a trigger shared by two events is kept "
                    "once (24 in the corpus)",
                    "known quirk: 3 triggers start or end inside a word (train 2, test 1); each is widened to the "
                    "whole word",
                ),
                quirks=frozenset({WIDENED_TRIGGER}),
            ),
            summary="PHEE pharmacovigilance event triggers (2 types), authors' split",
        ),
    ]
    specs += [
        CorpusSpec(name, _generic(name), generic=True, summary=f"generic format: {name}") for name in GENERIC_FORMATS
    ]
    return {spec.name: spec for spec in specs}


#: Corpus or format name -> how to read it.
REGISTRY: dict[str, CorpusSpec] = _registry()


def read_corpus(name: str, raw_dir: str | Path, settings: Settings | None = None) -> Corpus:
    """Read corpus (or generic format) ``name`` from ``raw_dir`` into the shared schema."""
    if name not in REGISTRY:
        raise KeyError(f"unknown corpus {name!r}; choose from {', '.join(REGISTRY)}")
    return REGISTRY[name].read(Path(raw_dir), settings or Settings())
