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
    RELOCATED_ENTITY,
    SPLIT_ALIASES,
    WIDENED_TRIGGER,
    ReadOptions,
    find_split_files,
    load_label_list,
    load_labels_file,
    read_column_file,
    read_jsonl,
    read_lear_event_json,
    read_lear_json,
    read_mit_json,
    read_phee,
)
from data_scripts.schema import SPLITS, Record
from data_scripts.tags import NESTED_REMNANT, ORPHAN_INSIDE, UNCLOSED


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


#: Pile-NER (SLIMER's slice): the BIO file and the definitions, in ``pile_ner_slice/``.
PILE_NER_FILE = "pile_ner_391types.bio.txt"
PILE_NER_DEFINITIONS = "definitions_top391.json"

#: Pile-NER has no official split: passage n (0-based, file order) goes to ``PILE_NER_SPLIT_RULE[n % 20]``, else train.
PILE_NER_SPLIT_RULE = {0: "test", 1: "validation"}
PILE_NER_NOTES = (
    "split: Pile-NER has no official split; passage n (0-based, in file order) is test when n % 20 == 0, validation "
    "when n % 20 == 1, train otherwise; ids are `<split>-<n>`",
    "each passage (about 208 tokens) is one text; the training code windows long texts",
    "labels: the label types used in the file (368 of SLIMER's 391), sorted; descriptions: the 'Definition' of "
    f"SLIMER's GPT-written {PILE_NER_DEFINITIONS}, as given (not the 'Guidelines')",
    "licence: Pile-NER (Zhou et al., UniversalNER, 2023) is CC BY-NC 4.0: research and non-commercial use only",
    "silver annotation (made by ChatGPT), and generic: the same span may be a `concept` in one passage and nothing in "
    "the next",
    "known quirk: nested entities were flattened upstream by writing the inner entity's tags over the outer's, so "
    "156 runs of I- tags (240 tags) follow a B- of another type; the outer entity's start is lost, so they are read "
    "as O (the counts equal SOURCES.md's 30,822 entities)",
)


def pile_ner_split(index: int) -> str:
    """The split of Pile-NER passage ``index`` (0-based, file order): see :data:`PILE_NER_SPLIT_RULE`."""
    return PILE_NER_SPLIT_RULE.get(index % 20, "train")


def read_pile_ner(raw_dir: Path, settings: Settings) -> Corpus:
    """SLIMER's slice of Pile-NER: one BIO file of passages (labels lower case, may contain spaces), split by
    :func:`pile_ner_split`; labels = the types used, described by SLIMER's definitions (a used label without one is an
    error)."""
    source = corpus_dir(raw_dir, "pile_ner_slice")
    issues = IssueLog(lenient=settings.lenient)
    options = ReadOptions(separator=" ", quirks=frozenset({NESTED_REMNANT}))
    passages = read_split_files(source, {"passage": PILE_NER_FILE}, read_column_file, options, issues)["passage"]
    splits: dict[str, list[Record]] = {split: [] for split in SPLITS}
    for record in passages:
        index = int(record["id"].rsplit("-", 1)[1])
        split = pile_ner_split(index)
        record["id"] = f"{split}-{index}"
        splits[split].append(record)
    used = labels_from_names(splits)
    labels = choose_descriptions(descriptions.slimer_definitions(used, source / PILE_NER_DEFINITIONS), settings)
    sources = [str(source / PILE_NER_FILE), str(source / PILE_NER_DEFINITIONS)]
    return Corpus("pile_ner", "Pile-NER (SLIMER slice)", "en", splits, labels, issues, sources, list(PILE_NER_NOTES))


#: The MIT corpora's files (GLiNER's release): splits, label names, SLIMER's definitions.
MIT_FILES = {"train": "train.json", "test": "test.json"}
MIT_LABELS_FILE = "labels.json"
MIT_DEFINITIONS = "definitions_slimer.json"
MIT_NOTES = (
    "zero-shot test set: never train on it, except in few-shot runs; only train and test (GLiNER's dev.json is "
    "test.json again), no validation split is made",
    "text: the query as given (lower case, unpunctuated); tokens: its whitespace split",
    f"labels: the names of {MIT_LABELS_FILE}, sorted; descriptions: the 'Definition' of SLIMER's GPT-written "
    f"{MIT_DEFINITIONS} for the label (its `real_name`, matched ignoring case), as given (not the 'Guidelines')",
    "licence: none stated upstream; the MIT corpora are distributed by MIT CSAIL for research",
)


def _mit_corpus(
    name: str,
    pretty_name: str,
    folder: str,
    notes: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
    quirks: frozenset[str] = frozenset(),
) -> Callable[[Path, Settings], Corpus]:
    """A reader for MIT Movie / MIT Restaurant (GLiNER's JSON): train and test, labels of ``labels.json`` described
    by SLIMER's definitions (``aliases``: label -> the definition's name where they differ)."""

    def read(raw_dir: Path, settings: Settings) -> Corpus:
        source = corpus_dir(raw_dir, folder)
        issues = IssueLog(lenient=settings.lenient)
        names = sorted(load_label_list(source / MIT_LABELS_FILE))
        described = descriptions.slimer_definitions(names, source / MIT_DEFINITIONS, aliases)
        labels = choose_descriptions(described, settings)
        options = ReadOptions(separator=" ", labels=set(labels), quirks=quirks)
        splits = read_split_files(source, MIT_FILES, read_mit_json, options, issues)
        sources = [str(source / file) for file in (*MIT_FILES.values(), MIT_LABELS_FILE, MIT_DEFINITIONS)]
        return Corpus(name, pretty_name, "en", splits, labels, issues, sources, list(MIT_NOTES + notes))

    return read


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
    specs += _many_label_specs()
    specs += [
        CorpusSpec(name, _generic(name), generic=True, summary=f"generic format: {name}") for name in GENERIC_FORMATS
    ]
    return {spec.name: spec for spec in specs}


def _many_label_specs() -> list[CorpusSpec]:
    """The corpora added for training on many labels at once and for zero-shot tests (SOURCES.md, "Many-label
    corpora")."""
    mtl_files = {"train": "train.tsv", "validation": "devel.tsv", "test": "test.tsv"}
    mtl_note = (
        "source: MTL-Bioinformatics-2016 (Crichton et al. 2017) IOB2 files `{train,devel,test}.tsv`, the usual "
        "splits; licence: CC BY 4.0 (the repository's licence file, copied beside BioNLP13CG)",
    )
    mtl = [
        ("bionlp13cg", "BioNLP 2013 Cancer Genetics", descriptions.BIONLP13CG_LABELS),
        ("bc5cdr", "BC5CDR (chemicals and diseases)", descriptions.BC5CDR_LABELS),
        ("ncbi_disease", "NCBI-disease", descriptions.NCBI_DISEASE_LABELS),
    ]
    ontonotes_files = {"train": "train.txt", "validation": "development.txt", "test": "test.txt"}
    ontonotes_notes = LABELS_HERE + (
        "source: BIO files derived from the CoNLL-2012 `*.gold_conll` files (Pradhan et al. 2013 split) by the "
        "script beside them; documents of the six sources without named-entity annotation were dropped there",
        "`-DOCSTART-<TAB>genre/source/nn/doc` lines separate documents and are not read as sentences",
        "licence: LDC (LDC2013T19), research use",
    )
    movie_notes = (
        "`average ratings` takes SLIMER's definition of `ratings average` (its name there)",
        "known quirk: 434 entities (train 339, test 95; nearly all the rating `r`, also `g`, `ok`, `f`) have offsets "
        "inside a word (the `r` of `rated`) while the name occurs once as whole tokens; each is moved there",
    )
    return [
        CorpusSpec(
            "ontonotes5_en",
            _fixed_files(
                "ontonotes5_en",
                "OntoNotes 5.0 English",
                "en",
                "ontonotes5_en",
                ontonotes_files,
                read_column_file,
                descriptions.ONTONOTES5_LABELS,
                ontonotes_notes,
            ),
            summary="OntoNotes 5.0 English, 18 types, BIO {train,development,test}.txt",
        ),
        *(
            CorpusSpec(
                name,
                _fixed_files(name, pretty, "en", name, mtl_files, read_column_file, labels, LABELS_HERE + mtl_note),
                summary=f"{pretty}, IOB2 {{train,devel,test}}.tsv ({len(labels)} types)",
            )
            for name, pretty, labels in mtl
        ),
        CorpusSpec(
            "pile_ner",
            read_pile_ner,
            summary="Pile-NER slice (368 types, SLIMER definitions), split by passage index",
        ),
        CorpusSpec(
            "mit_movie",
            _mit_corpus(
                "mit_movie",
                "MIT Movie",
                "mit_movie",
                movie_notes,
                descriptions.MIT_MOVIE_DEFINITION_NAMES,
                frozenset({RELOCATED_ENTITY}),
            ),
            summary="MIT Movie (zero-shot test set), train/test",
        ),
        CorpusSpec(
            "mit_restaurant",
            _mit_corpus("mit_restaurant", "MIT Restaurant", "mit_restaurant"),
            summary="MIT Restaurant (zero-shot test set), train/test",
        ),
    ]


#: Corpus or format name -> how to read it.
REGISTRY: dict[str, CorpusSpec] = _registry()


def read_corpus(name: str, raw_dir: str | Path, settings: Settings | None = None) -> Corpus:
    """Read corpus (or generic format) ``name`` from ``raw_dir`` into the shared schema."""
    if name not in REGISTRY:
        raise KeyError(f"unknown corpus {name!r}; choose from {', '.join(REGISTRY)}")
    return REGISTRY[name].read(Path(raw_dir), settings or Settings())
