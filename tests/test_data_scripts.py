"""Tests of the corpus converters (``data_scripts``).

* Real corpora: each named corpus is converted once per session from the shared data folder
  (conftest's ``shared_data_dir``: ``<repo>/../shared/data``, or ``$LEAR_SHARED_DIR/data``) and checked against the counts of
  ``SOURCES.md`` and against the source entity texts; skipped when the folder is absent.
* Generic formats and bad input: small inline fixtures written to tmp files, no shared data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import datasets
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_scripts.convert import convert, main
from data_scripts.corpora import REGISTRY, Settings, drop_dev_block, read_corpus, strip_segmentation_digits
from data_scripts.errors import CorpusFormatError
from data_scripts.readers import RELOCATED_ENTITY, find_split_files, load_labels_file
from data_scripts.schema import FEATURES, load_converted, token_char_offsets, validate_record
from data_scripts.tags import NESTED_REMNANT


# ------------------------------------------------------------------------------ real corpora

#: SOURCES.md: split -> (sentences, tokens, entities).  MSRA train is our rebuild (no published
#: figure: LEAR's train.json is not in the store), see docs/data.md.
EXPECTED = {
    "conll2003": {
        "train": (14_041, 203_621, 23_499),
        "validation": (3_250, 51_362, 5_942),
        "test": (3_453, 46_435, 5_648),
    },
    "zh_msra": {
        "train": (40_520, 1_957_431, 70_765),
        "validation": (4_636, 214_052, 4_257),
        "test": (4_365, 172_601, 6_181),
    },
    "zh_onto4": {
        "train": (15_650, 491_656, 13_367),
        "validation": (4_301, 200_505, 6_950),
        "test": (4_346, 208_066, 7_684),
    },
    "resume_zh": {
        "train": (3_821, 124_099, 13_440),
        "validation": (463, 13_890, 1_497),
        "test": (477, 15_100, 1_630),
    },
    "weibo_zh": {
        "train": (1_350, 73_778, 1_895),
        "validation": (270, 14_509, 389),
        "test": (270, 14_842, 418),
    },
    "ace2004": {
        "train": (6_200, 139_524, 22_201),
        "validation": (745, 17_150, 2_514),
        "test": (812, 18_720, 3_035),
    },
    "ace2005": {
        "train": (7_294, 145_540, 24_703),
        "validation": (971, 19_136, 3_218),
        "test": (1_057, 18_958, 3_029),
    },
    # event triggers: LitBank's EVENT tokens; PHEE's triggers after de-duplication (3,006 / 1,003 / 1,010 events
    # share 15 / 5 / 4 trigger spans) and over our tokenisation of its untokenised sentences
    "litbank_events": {
        "train": (5_263, 126_182, 4_989),
        "validation": (935, 20_725, 696),
        "test": (2_364, 63_625, 2_164),
    },
    "phee": {
        "train": (2_898, 64_028, 2_991),
        "validation": (961, 21_429, 998),
        "test": (968, 21_792, 1_006),
    },
}

#: SOURCES.md: per-label entity counts of some splits.
EXPECTED_LABELS = {
    ("conll2003", "train"): {"PER": 6_600, "LOC": 7_140, "ORG": 6_321, "MISC": 3_438},
    ("conll2003", "test"): {"PER": 1_617, "LOC": 1_668, "ORG": 1_661, "MISC": 702},
    ("zh_msra", "validation"): {"NR": 1_510, "NS": 1_657, "NT": 1_090},
    ("zh_msra", "test"): {"NR": 1_973, "NS": 2_877, "NT": 1_331},
    ("zh_onto4", "test"): {"GPE": 3_452, "LOC": 491, "ORG": 1_877, "PER": 1_864},
    ("resume_zh", "train"): {
        "TITLE": 6_308,
        "ORG": 4_613,
        "NAME": 952,
        "EDU": 858,
        "PRO": 287,
        "CONT": 260,
        "RACE": 115,
        "LOC": 47,
    },
    ("ace2004", "train"): {"PER": 11_290, "GPE": 4_758, "ORG": 4_321, "LOC": 704, "FAC": 695, "VEH": 307, "WEA": 126},
    ("ace2005", "train"): {"PER": 13_252, "GPE": 4_766, "ORG": 3_802, "FAC": 880, "LOC": 758, "WEA": 659, "VEH": 586},
    ("phee", "train"): {"Adverse_event": 2_697, "Potential_therapeutic_event": 294},
    ("phee", "test"): {"Adverse_event": 887, "Potential_therapeutic_event": 119},
    ("ontonotes5_en", "train"): {
        "ORG": 24_163,
        "PERSON": 22_035,
        "GPE": 21_938,
        "DATE": 18_791,
        "CARDINAL": 10_901,
        "NORP": 9_341,
        "MONEY": 5_217,
        "PERCENT": 3_802,
        "ORDINAL": 2_195,
        "LOC": 2_160,
        "TIME": 1_703,
        "WORK_OF_ART": 1_279,
        "QUANTITY": 1_240,
        "FAC": 1_158,
        "EVENT": 1_009,
        "PRODUCT": 992,
        "LAW": 459,
        "LANGUAGE": 355,
    },
}

#: SOURCES.md, "Many-label corpora": corpus -> (label count, split -> (sentences or passages, tokens, entities)).
#: SOURCES.md gives tokens only for OntoNotes (and Pile-NER's total, 461,127); the others are our counts, checked
#: against an independent reading of the files.  Pile-NER's split is ours (passage n % 20 == 0 test, == 1
#: validation): 2,217 passages and 30,822 entities in all.
EXPECTED_MANY_LABEL = {
    "ontonotes5_en": (
        18,
        {
            "train": (85_148, 1_673_943, 128_738),
            "validation": (12_738, 250_404, 20_354),
            "test": (9_204, 174_832, 12_586),
        },
    ),
    "bionlp13cg": (
        16,
        {"train": (3_033, 83_467, 10_826), "validation": (1_003, 27_599, 3_616), "test": (1_906, 52_771, 6_881)},
    ),
    "bc5cdr": (
        2,
        {"train": (4_560, 118_170, 9_385), "validation": (4_581, 117_453, 9_593), "test": (4_797, 124_750, 9_809)},
    ),
    "ncbi_disease": (
        1,
        {"train": (5_424, 135_701, 5_134), "validation": (923, 23_969, 787), "test": (940, 24_497, 960)},
    ),
    "pile_ner": (
        368,
        {"train": (1_995, 415_204, 27_745), "validation": (111, 22_752, 1_551), "test": (111, 23_171, 1_526)},
    ),
    "mit_movie": (12, {"train": (9_774, 99_479, 21_294), "test": (2_442, 24_675, 5_338)}),
    "mit_restaurant": (8, {"train": (7_659, 70_517, 15_363), "test": (1_520, 14_248, 3_150)}),
}

#: SOURCES.md: ACE entities overlapping another (differently bounded) entity.
EXPECTED_OVERLAPPING = {
    "ace2004": {"train": 10_148, "validation": 1_092, "test": 1_417},
    "ace2005": {"train": 9_938, "validation": 1_189, "test": 1_184},
}

#: LEAR JSON corpora: corpus -> (folder, split -> file, whether the spaces are artificial).
LEAR_JSON = {
    "zh_onto4": ("zh_onto4", {"train": "train", "validation": "dev", "test": "test"}, True),
    "zh_msra": ("zh_msra", {"validation": "dev", "test": "test"}, True),
    "ace2004": ("ace2004", {"train": "train", "validation": "dev", "test": "test"}, False),
    "ace2005": ("ace2005", {"train": "train", "validation": "dev", "test": "test"}, False),
}


#: Corpora whose folder under the data root is not named after them.
CORPUS_FOLDERS = {"pile_ner": "pile_ner_slice"}


@pytest.fixture(scope="session")
def converted(shared_data_dir, tmp_path_factory):
    """``converted(name) -> (Corpus, out_dir)``: each corpus is converted once per session; skips when the corpus's
    folder is not in the shared data root."""
    cache = {}

    def get(name: str):
        folder = shared_data_dir / CORPUS_FOLDERS.get(name, name)
        if not folder.is_dir():
            pytest.skip(f"{folder} not found (the shared data lacks {name})")
        if name not in cache:
            out_dir = tmp_path_factory.mktemp(name)
            cache[name] = (convert(name, shared_data_dir, out_dir), out_dir)
        return cache[name]

    return get


@pytest.mark.parametrize("name", list(EXPECTED))
def test_corpus_counts(converted, name):
    corpus, out_dir = converted(name)
    dataset, labels = load_converted(out_dir)
    assert list(dataset) == ["train", "validation", "test"]
    assert labels == corpus.labels and list(labels) == sorted(labels)
    for split, (sentences, tokens, entities) in EXPECTED[name].items():
        records = corpus.splits[split]
        assert len(records) == len(dataset[split]) == sentences, split
        assert sum(len(r["tokens"]) for r in records) == tokens, split
        assert sum(len(r["entities"]) for r in records) == entities, split
    readme = (out_dir / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("---\n") and "token-classification" in readme


@pytest.mark.parametrize(("name", "split"), list(EXPECTED_LABELS))
def test_corpus_label_counts(converted, name, split):
    corpus, _ = converted(name)
    counts = Counter(e["label"] for r in corpus.splits[split] for e in r["entities"])
    assert counts == EXPECTED_LABELS[(name, split)]


@pytest.mark.parametrize("name", list(EXPECTED_OVERLAPPING))
def test_ace_overlapping_counts(converted, name):
    from data_scripts.stats import corpus_stats

    corpus, _ = converted(name)
    stats = corpus_stats(corpus)
    assert {split: s.overlapping for split, s in stats.items()} == EXPECTED_OVERLAPPING[name]


@pytest.mark.parametrize("name", list(LEAR_JSON))
def test_lear_json_entities_match_source(converted, shared_data_dir, name):
    """Every entity's text equals the source entity text (artificial spaces removed)."""
    corpus, _ = converted(name)
    folder, files, artificial_spaces = LEAR_JSON[name]
    for split, stem in files.items():
        lines = (shared_data_dir / folder / f"{stem}.json").read_text(encoding="utf-8").splitlines()
        records = corpus.splits[split]
        assert len(records) == len(lines)
        for index, (line, record) in enumerate(zip(lines, records)):
            source = json.loads(line)
            assert record["id"] == f"{split}-{index}"
            strip = (lambda s: s.replace(" ", "")) if artificial_spaces else (lambda s: s)
            assert record["text"] == strip(source["text"])
            expected = sorted((strip(e["text"]), e["label"]) for e in source["entities"])
            got = sorted((record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"])
            assert got == expected, record["id"]


def _column_sentences(path: Path, sep: str) -> list[list[list[str]]]:
    blocks, block = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("-DOCSTART-"):
            if block:
                blocks.append(block)
                block = []
            continue
        block.append(line.split(sep))
    return blocks + ([block] if block else [])


def _naive_bio_entities(rows: list[list[str]], join: str) -> list[tuple[str, str]]:
    """An independent BIO reading (B- starts, I- continues) for cross-checking."""
    entities, current, label = [], [], None
    for row in rows + [["", "O"]]:
        tag = row[-1]
        if tag.startswith("I-") and label == tag[2:]:
            current.append(row[0])
            continue
        if current:
            entities.append((join.join(current), label))
        current, label = ([row[0]], tag[2:]) if tag != "O" else ([], None)
    return entities


def test_conll_entities_match_source(converted, shared_data_dir):
    corpus, _ = converted("conll2003")
    sentences = _column_sentences(shared_data_dir / "conll2003" / "train.txt", " ")
    for rows, record in zip(sentences, corpus.splits["train"]):
        assert record["tokens"] == [row[0] for row in rows]
        got = [(record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"]]
        assert sorted(got) == sorted(_naive_bio_entities(rows, " "))
    first = corpus.splits["train"][0]
    assert first["text"].startswith("EU rejects German call to boycott British lamb")


def test_weibo_tokens_and_entities(converted, shared_data_dir):
    corpus, _ = converted("weibo_zh")
    rows = _column_sentences(shared_data_dir / "weibo_zh" / "weiboNER_2nd_conll.dev", "\t")
    for sentence, record in zip(rows, corpus.splits["validation"]):
        chars = [strip_segmentation_digits(row[0], Path("x"), 0) for row in sentence]
        assert record["tokens"] == chars
        got = [(record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"]]
        assert sorted(got) == sorted(_naive_bio_entities([[c, r[1]] for c, r in zip(chars, sentence)], ""))
    assert corpus.splits["train"][0]["text"].startswith("科技全方位资讯智能")
    assert len(corpus.labels) == 8
    assert corpus.issues.repaired and not corpus.issues.skipped


def test_msra_train_rebuild(converted, shared_data_dir):
    corpus, _ = converted("zh_msra")
    train, dev = corpus.splits["train"], corpus.splits["validation"]
    assert not {r["text"] for r in train} & {r["text"] for r in dev}
    assert {e["label"] for r in train for e in r["entities"]} == {"NR", "NS", "NT"}
    sentences = _column_sentences(shared_data_dir / "msra_bio" / "msra_train_bio", "\t")
    rename = {"PER": "NR", "LOC": "NS", "ORG": "NT"}
    for rows, record in zip(sentences[:2000], train):
        assert record["text"] == "".join(row[0] for row in rows)
        expected = [(text, rename[label]) for text, label in _naive_bio_entities(rows, "")]
        got = [(record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"]]
        assert sorted(got) == sorted(expected)


def test_resume_quirks_are_reported(converted):
    corpus, out_dir = converted("resume_zh")
    assert sum(corpus.issues.repaired.values()) == 4
    assert "train.char.bmes:62390" in (out_dir / "README.md").read_text(encoding="utf-8")


def test_label_descriptions_from_label_annotation(converted, shared_data_dir):
    corpus, _ = converted("ace2004")
    lines = (shared_data_dir / "ace2004" / "label_annotation.txt").read_text(encoding="utf-8").splitlines()
    assert list(corpus.labels) == ["FAC", "GPE", "LOC", "ORG", "PER", "VEH", "WEA"]
    assert list(corpus.labels.values()) == [line.strip() for line in lines if line.strip()]
    msra, _ = converted("zh_msra")
    assert list(msra.labels) == ["NR", "NS", "NT"] and msra.labels["NR"] == "人名和虚构的人物形象"


@pytest.mark.parametrize("name", list(EXPECTED_MANY_LABEL))
def test_many_label_corpus_counts(converted, name):
    corpus, out_dir = converted(name)
    label_count, expected = EXPECTED_MANY_LABEL[name]
    dataset, labels = load_converted(out_dir)
    assert list(dataset) == list(expected) == list(corpus.splits)
    assert labels == corpus.labels and list(labels) == sorted(labels) and len(labels) == label_count
    assert all(description.strip() and description != label for label, description in labels.items())
    for split, (sentences, tokens, entities) in expected.items():
        records = corpus.splits[split]
        assert len(records) == len(dataset[split]) == sentences, split
        assert sum(len(r["tokens"]) for r in records) == tokens, split
        assert sum(len(r["entities"]) for r in records) == entities, split
    assert {e["label"] for records in corpus.splits.values() for r in records for e in r["entities"]} == set(labels)


def test_ontonotes_documents_are_not_sentences(converted):
    corpus, _ = converted("ontonotes5_en")
    assert not any(
        t.startswith("-DOCSTART-") for records in corpus.splits.values() for r in records for t in r["tokens"]
    )
    assert corpus.splits["train"][0]["text"].startswith("What kind of memory ?")
    assert corpus.issues.empty


def test_pile_ner_split_rule_definitions_and_nested_remnants(converted, shared_data_dir):
    from data_scripts.corpora import pile_ner_split
    from data_scripts.label_descriptions import read_slimer_definitions

    corpus, out_dir = converted("pile_ner")
    indices = []
    for split, records in corpus.splits.items():
        for record in records:
            prefix, index = record["id"].rsplit("-", 1)
            assert prefix == split == pile_ner_split(int(index))
            indices.append(int(index))
    assert sorted(indices) == list(range(2_217))
    totals = Counter(e["label"] for records in corpus.splits.values() for r in records for e in r["entities"])
    assert totals["person"] == 3_631 and totals["organization"] == 3_086 and totals["medical condition"] == 935
    definitions = read_slimer_definitions(shared_data_dir / "pile_ner_slice" / "definitions_top391.json")
    assert len(definitions) == 391 and corpus.labels == {label: definitions[label] for label in corpus.labels}
    assert corpus.labels["person"].startswith("'person' signifies individuals")
    # 156 runs of I- tags (240 tags) left of overwritten nested entities are read as O, and counted
    assert dict(corpus.issues.repaired) == {NESTED_REMNANT: 240} and not corpus.issues.skipped
    assert "\ufeff" in {t for records in corpus.splits.values() for r in records for t in r["tokens"]}
    card = (out_dir / "README.md").read_text(encoding="utf-8")
    assert "CC BY-NC 4.0" in card and "n % 20 == 0" in card


@pytest.mark.parametrize("name", ["mit_movie", "mit_restaurant"])
def test_mit_entities_match_source(converted, shared_data_dir, name):
    corpus, out_dir = converted(name)
    for split, records in corpus.splits.items():
        source = json.loads((shared_data_dir / name / f"{split}.json").read_text(encoding="utf-8"))
        assert [r["text"] for r in records] == [s["sentence"] for s in source]
        for record, item in zip(records, source):
            assert record["tokens"] == item["sentence"].split()
            assert sorted(entity_texts(record)) == sorted((e["name"], e["type"]) for e in item["entities"])
    relocated = {"mit_movie": 434, "mit_restaurant": 0}[name]  # train 339 + test 95 ratings such as 'r' in 'rated'
    assert sum(corpus.issues.repaired.values()) == relocated and not corpus.issues.skipped
    assert "zero-shot test set" in (out_dir / "README.md").read_text(encoding="utf-8")


def test_mit_descriptions_are_slimer_definitions(converted):
    movie, _ = converted("mit_movie")
    assert movie.labels["average ratings"].startswith("'ratings average' refers to the average score")
    restaurant, _ = converted("mit_restaurant")
    assert list(restaurant.labels)[-1] == "Restaurant Name"
    assert restaurant.labels["Restaurant Name"] == (
        "'restaurant name' refers to the specific name of a dining establishment or eatery."
    )


# ----------------------------------------------------------------------------- registry / GENIA


def test_registry_names():
    named = ["conll2003", "zh_msra", "zh_onto4", "resume_zh", "weibo_zh", "ace2004", "ace2005", "genia"]
    named += ["litbank_events", "phee"]
    named += ["ontonotes5_en", "bionlp13cg", "bc5cdr", "ncbi_disease", "pile_ner", "mit_movie", "mit_restaurant"]
    generic = ["conll-bio", "bmes", "lear-json", "jsonl", "lear-event-json"]
    assert set(REGISTRY) == set(named + generic)
    assert all(REGISTRY[name].generic for name in generic)


def test_genia_module_is_registered():
    genia = pytest.importorskip("data_scripts.genia")
    assert callable(genia.read_genia)
    assert list(genia.GENIA_LABELS) and REGISTRY["genia"].name == "genia"


def test_genia_missing_module_is_a_clear_error(tmp_path, monkeypatch):
    # None in sys.modules makes the import fail as if genia.py did not exist.
    monkeypatch.setitem(sys.modules, "data_scripts.genia", None)
    with pytest.raises(RuntimeError, match="genia.py"):
        read_corpus("genia", tmp_path)


# --------------------------------------------------------------------------- inline fixtures


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a fixture file (text as UTF-8) and return its path."""
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


CONLL_TRAIN = """\ufeff-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""

CONLL_DEV = "New B-LOC\r\nYork I-LOC\r\nis O\r\n"
CONLL_TEST = "Acme\tB-ORG\nCorp\tI-ORG\nhired\tO\nBob\tB-PER\n"
LABELS_JSON = {"PER": "people", "ORG": "organizations", "MISC": "other names", "LOC": "places"}


@pytest.fixture
def conll_dir(tmp_path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    write(folder, "train.txt", CONLL_TRAIN)
    write(folder, "dev.txt", CONLL_DEV)
    write(folder, "test.conll", CONLL_TEST)
    return folder


def entity_texts(record) -> list[tuple[str, str]]:
    return [(record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"]]


def test_conll_bio_format(conll_dir, tmp_path):
    labels_file = write(tmp_path, "labels.json", json.dumps(LABELS_JSON))
    corpus = convert("conll-bio", conll_dir, tmp_path / "out", labels_file=labels_file)
    train = corpus.splits["train"]
    assert [r["id"] for r in train] == ["train-0", "train-1"]
    assert train[0]["text"] == "EU rejects German call"
    assert train[0]["tokens"] == ["EU", "rejects", "German", "call"]
    assert entity_texts(train[0]) == [("EU", "ORG"), ("German", "MISC")]
    assert entity_texts(train[1]) == [("Peter Blackburn", "PER")]
    assert entity_texts(corpus.splits["validation"][0]) == [("New York", "LOC")]
    assert entity_texts(corpus.splits["test"][0]) == [("Acme Corp", "ORG"), ("Bob", "PER")]
    assert list(corpus.labels) == ["LOC", "MISC", "ORG", "PER"]
    assert corpus.labels["PER"] == "people" and corpus.issues.empty


def test_without_labels_file_names_are_descriptions_with_warning(conll_dir, tmp_path, capsys):
    corpus = convert("conll-bio", conll_dir, tmp_path / "out")
    assert corpus.labels == {"LOC": "LOC", "MISC": "MISC", "ORG": "ORG", "PER": "PER"}
    assert "WARNING" in capsys.readouterr().err
    assert "no label descriptions were given" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


def test_bmes_format_with_tab_labels_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "train.char.bmes", "张 B-NAME\n三 E-NAME\n是 O\n汉 B-RACE\n族 E-RACE\n\n男 O\n京 S-LOC\n")
    write(raw, "test.char.bmes", "北 B-ORG\n京 I-ORG\n大 M-ORG\n学 E-ORG\n")
    labels_file = write(tmp_path, "labels.txt", "# comment\nNAME\t人名\nRACE\t民族\n\nLOC\t地名\nORG\t机构\n")
    corpus = convert("bmes", raw, tmp_path / "out", labels_file=labels_file)
    assert set(corpus.splits) == {"train", "test"}
    first, second = corpus.splits["train"]
    assert first["text"] == "张三是汉族" and first["tokens"] == list("张三是汉族")
    assert entity_texts(first) == [("张三", "NAME"), ("汉族", "RACE")]
    assert entity_texts(second) == [("京", "LOC")]
    assert entity_texts(corpus.splits["test"][0]) == [("北京大学", "ORG")]
    assert list(corpus.labels) == ["LOC", "NAME", "ORG", "RACE"] and corpus.labels["NAME"] == "人名"


LEAR_LINE = {
    "text": "上 海 浦 东 开 发",
    "entities": [
        {"label": "GPE", "text": "浦 东", "start_offset": 4, "end_offset": 7},
        {"label": "GPE", "text": "上 海", "start_offset": 0, "end_offset": 3},
    ],
}


def test_lear_json_format(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "train.json", json.dumps(LEAR_LINE, ensure_ascii=False) + "\n\n")
    english = {
        "text": "the New York office",
        "entities": [{"label": "LOC", "text": "New York", "start_offset": 4, "end_offset": 12}],
    }
    write(raw, "valid.json", json.dumps(english) + "\n")
    corpus = convert("lear-json", raw, tmp_path / "out", labels_file=write(tmp_path, "l.txt", "GPE\tg\nLOC\tl\n"))
    record = corpus.splits["train"][0]
    assert record["text"] == "上海浦东开发"
    assert record["entities"] == [{"start": 0, "end": 2, "label": "GPE"}, {"start": 2, "end": 4, "label": "GPE"}]
    # Default lang zh removes the spaces; --lang en keeps them (English LEAR JSON such as ACE).
    assert corpus.splits["validation"][0]["text"] == "theNewYorkoffice"
    english_corpus = read_corpus("lear-json", raw, Settings(lang="en"))
    assert english_corpus.splits["validation"][0]["text"] == "the New York office"
    assert entity_texts(english_corpus.splits["validation"][0]) == [("New York", "LOC")]


def test_litbank_adjacent_event_tokens_stay_separate_triggers(converted):
    corpus, _ = converted("litbank_events")
    adjacent = 0
    for records in corpus.splits.values():
        for record in records:
            spans = sorted((e["start"], e["end"]) for e in record["entities"])
            assert all(record["text"][s:e] == record["text"][s:e].strip() and " " not in record["text"][s:e]
                       for s, e in spans)  # fmt: skip
            adjacent += sum(second[0] == first[1] + 1 for first, second in zip(spans, spans[1:]))
    assert adjacent == 80  # SOURCES.md: 80 places with two adjacent EVENT tokens, each its own trigger
    assert corpus.splits["train"][0]["id"].endswith("-0") and corpus.issues.empty


def test_phee_partial_word_triggers_are_widened_and_counted(converted):
    corpus, _ = converted("phee")
    assert sum(corpus.issues.repaired.values()) == 3  # 'potentia', 'nduced', 'potential adverse even'
    texts = {entity_texts(r)[i][0] for r in corpus.splits["train"] for i in range(len(r["entities"]))}
    assert "potential" in texts and "induced" in texts and "potentia" not in texts


def test_phee_bad_trigger_names_file_and_line_and_lenient_skips_the_record(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = {"id": "1_1", "context": "Rash developed after aspirin.", "annotations": [{"events": [
        {"event_type": "Adverse_event", "Trigger": {"text": [["developed"]], "start": [[5]]}}]}]}  # fmt: skip
    bad = json.loads(json.dumps(good))
    bad["annotations"][0]["events"][0]["Trigger"] = {"text": [["developing"]], "start": [[5]]}
    write(raw, "train.json", json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    for split in ("dev", "test"):
        write(raw, f"{split}.json", json.dumps(good) + "\n")
    with pytest.raises(CorpusFormatError, match=r"train.json:2: trigger 'developing' is not text\[5:"):
        convert("phee", raw, tmp_path / "strict")
    corpus = convert("phee", raw, tmp_path / "lenient", lenient=True)
    assert [entity_texts(r) for r in corpus.splits["train"]] == [[("developed", "Adverse_event")]]
    assert dict(corpus.issues.skipped) == {"record": 1}


TRIGGER_LINE = {
    "text": "Police arrested him after the attack on Monday",
    "events": [
        {"trigger": {"text": "arrested", "label": "Justice:Arrest-Jail",
                     "segments": {"start_offset": 7, "end_offset": 15}}, "arguments": []},
        {"trigger": {"text": "attack", "label": "Conflict:Attack",
                     "segments": {"start_offset": 30, "end_offset": 36}},
         "arguments": [{"text": "Monday", "label": "Time", "segments": {"start_offset": 40, "end_offset": 46}}]},
        {"trigger": {"text": "attack", "label": "Conflict:Attack",
                     "segments": {"start_offset": 30, "end_offset": 36}}, "arguments": []},
    ],
}  # fmt: skip


def test_lear_event_json_format_reads_triggers_and_the_authors_descriptions(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(
        raw, "train.json", json.dumps(TRIGGER_LINE) + "\n" + json.dumps({"text": "nothing here", "events": []}) + "\n"
    )
    write(raw, "trigger_label_map.json", json.dumps([{"0": "Conflict:Attack", "1": "Justice:Arrest-Jail"},
                                                      {"Conflict:Attack": 0, "Justice:Arrest-Jail": 1}]))  # fmt: skip
    long_description = "An Arrest-Jail Event occurs whenever the movement of a PERSON is constrained " * 3
    write(raw, "trigger_annotation.txt", "An Attack Event is a violent physical act.\n" + long_description + "\n")
    corpus = convert("lear-event-json", raw, tmp_path / "out")
    record = corpus.splits["train"][0]
    assert entity_texts(record) == [("arrested", "Justice:Arrest-Jail"), ("attack", "Conflict:Attack")]  # one attack
    assert corpus.splits["train"][1]["entities"] == []
    assert corpus.labels == {"Conflict:Attack": "An Attack Event is a violent physical act.",
                             "Justice:Arrest-Jail": long_description.strip()}  # fmt: skip


def test_jsonl_format(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        {
            "id": "doc1",
            "text": "Alice  met Bob.",
            "tokens": ["Alice", "met", "Bob", "."],
            "entities": [
                {"start": 0, "end": 5, "label": "PER"},
                {"start": 11, "end": 14, "label": "PER", "text": "Bob"},
            ],
        },
        {
            "text": "我在北京, Paris.",
            "entities": [{"start": 2, "end": 4, "label": "LOC"}, {"start": 6, "end": 11, "label": "LOC"}],
        },
    ]
    write(raw, "train.jsonl", "\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    corpus = convert("jsonl", raw, tmp_path / "out", labels_file=write(tmp_path, "l.json", '{"PER": "p", "LOC": "l"}'))
    first, second = corpus.splits["train"]
    assert first["id"] == "doc1" and first["text"] == "Alice  met Bob."
    assert entity_texts(first) == [("Alice", "PER"), ("Bob", "PER")]
    assert second["id"] == "train-1"
    assert second["tokens"] == ["我", "在", "北", "京", ",", "Paris", "."]
    assert entity_texts(second) == [("北京", "LOC"), ("Paris", "LOC")]
    assert corpus.language == "zh"


def test_named_corpus_from_inline_folder_and_labels_override(tmp_path):
    """A named corpus accepts its own folder as RAW_DIR; --labels may replace the descriptions."""
    folder = tmp_path / "resume_zh"
    folder.mkdir()
    for stem in ("train", "dev", "test"):
        write(folder, f"{stem}.char.bmes", "高 B-NAME\n勇 E-NAME\n： O\n")
    corpus = read_corpus("resume_zh", folder)
    assert entity_texts(corpus.splits["test"][0]) == [("高勇", "NAME")]
    assert corpus.labels["NAME"].startswith("人名")
    from data_scripts.label_descriptions import RESUME_LABELS

    override = {label: f"描述{label}" for label in RESUME_LABELS}
    labels_file = write(tmp_path, "labels.json", json.dumps(override, ensure_ascii=False))
    assert read_corpus("resume_zh", tmp_path, Settings(labels_file=labels_file)).labels == override
    with pytest.raises(ValueError, match="names labels"):
        read_corpus("resume_zh", tmp_path, Settings(labels_file=write(tmp_path, "l.txt", "NAME\tx\n")))


@pytest.mark.parametrize(
    ("token", "char"), [("科0", "科"), ("p10", "p"), ("310", "3"), ("12", "1"), ("\ufffd\ufffd0", "\ufffd\ufffd")]
)
def test_weibo_segmentation_digit(token, char):
    assert strip_segmentation_digits(token, Path("f"), 1) == char


def test_weibo_token_without_digit_is_an_error():
    with pytest.raises(CorpusFormatError, match="f:7: token '科' lacks its segmentation digit"):
        strip_segmentation_digits("科", Path("f"), 7)


def test_split_file_naming(tmp_path):
    for name in ("train.txt", "Validation.bio", "test", ".hidden", "notes.txt", "labels.json"):
        write(tmp_path, name, "x O\n")
    assert {s: p.name for s, p in find_split_files(tmp_path).items()} == {
        "train": "train.txt",
        "validation": "Validation.bio",
        "test": "test",
    }
    write(tmp_path, "dev.txt", "x O\n")
    with pytest.raises(ValueError, match="two files for split 'validation'"):
        find_split_files(tmp_path)
    with pytest.raises(FileNotFoundError):
        find_split_files(tmp_path / "missing")


def test_labels_file_errors(tmp_path):
    with pytest.raises(CorpusFormatError, match=r"labels.txt:2: expected 'LABEL<TAB>description'"):
        load_labels_file(write(tmp_path, "labels.txt", "PER\tpeople\nLOC places\n"))
    with pytest.raises(CorpusFormatError, match="listed twice"):
        load_labels_file(write(tmp_path, "labels.txt", "PER\tpeople\nPER\tagain\n"))
    assert list(load_labels_file(write(tmp_path, "l.json", '{"b": "x", "a": "y"}'))) == ["a", "b"]
    # issue 33: a .json file is JSON (not read as TSV), and a missing file names the option
    with pytest.raises(CorpusFormatError, match=r"bad.json:1: .*JSON"):
        load_labels_file(write(tmp_path, "bad.json", "PER: people\n"))
    with pytest.raises(ValueError, match=r"^--labels .*nothere.json: no such file$"):
        load_labels_file(tmp_path / "nothere.json")


def test_a_bad_labels_file_is_named_and_not_sent_to_lenient(conll_dir, tmp_path, capsys):
    labels = write(tmp_path, "labels.json", "PER: people\n")
    assert main(["conll2003", str(conll_dir), str(tmp_path / "out"), "--labels", str(labels)]) == 2
    error = capsys.readouterr().err
    assert f"{labels}:1:" in error and "--lenient" not in error  # --lenient changes nothing in a labels file
    assert main(["conll2003", str(conll_dir), str(tmp_path / "out"), "--labels", str(tmp_path / "none.json")]) == 2
    assert "--labels" in capsys.readouterr().err and not (tmp_path / "out").exists()


def slimer_entry(name: str, definition: str | None, real_name: str | None = None) -> dict:
    """A SLIMER definitions entry; ``definition=None`` leaves the Definition out of the GPT answer."""
    answer = {"Guidelines": f"Avoid labeling things that are not {name}."}
    if definition is not None:
        answer = {"Definition": definition, **answer}
    entry = {"named_entity": name.upper().replace(" ", "_"), "gpt_answer": json.dumps(answer), "finish_reason": "stop"}
    return {**entry, "real_name": real_name} if real_name is not None else entry


MIT_DEFINITIONS = [
    slimer_entry("Cuisine", "'cuisine' refers to styles of food.", real_name="cuisine"),
    slimer_entry("Rating", "'rating' refers to a score.", real_name="rating"),
    slimer_entry("Restaurant_Name", "'restaurant name' refers to the name of an eatery.", real_name="restaurant name"),
    slimer_entry("Hours", "'hours' refers to opening times.", real_name="hours"),  # a label the corpus lacks: ignored
]


def mit_folder(root: Path, train: list[dict], test: list[dict] | None = None) -> Path:
    """A GLiNER-style MIT folder: train.json, test.json, labels.json, definitions_slimer.json."""
    root.mkdir()
    write(root, "train.json", json.dumps(train))
    write(root, "test.json", json.dumps(test if test is not None else train[:1]))
    write(root, "labels.json", json.dumps(["Rating", "Restaurant Name", "Cuisine"]))
    write(root, "definitions_slimer.json", json.dumps(MIT_DEFINITIONS))
    return root


def mit_item(sentence: str, *entities: tuple[str, str, int]) -> dict:
    """``{"sentence", "entities"}`` from (name, type, start) triples."""
    return {"sentence": sentence, "entities": [{"name": n, "type": t, "pos": [s, s + len(n)]} for n, t, s in entities]}


def test_mit_json_format_and_definitions(tmp_path):
    train = [
        mit_item("cheap thai food near olive garden", ("thai", "Cuisine", 6), ("olive garden", "Restaurant Name", 21)),
        mit_item("any  5 star places", ("5 star", "Rating", 5)),
        mit_item(
            "anything",
        ),
    ]
    corpus = convert("mit_restaurant", mit_folder(tmp_path / "raw", train), tmp_path / "out")
    assert list(corpus.splits) == ["train", "test"]  # no validation split is invented
    first, second, third = corpus.splits["train"]
    assert first["id"] == "train-0" and first["tokens"] == ["cheap", "thai", "food", "near", "olive", "garden"]
    assert entity_texts(first) == [("thai", "Cuisine"), ("olive garden", "Restaurant Name")]
    assert second["text"] == "any  5 star places" and entity_texts(second) == [("5 star", "Rating")]
    assert third["entities"] == [] and corpus.issues.empty
    assert corpus.labels == {
        "Cuisine": "'cuisine' refers to styles of food.",
        "Rating": "'rating' refers to a score.",
        "Restaurant Name": "'restaurant name' refers to the name of an eatery.",
    }
    assert json.loads((tmp_path / "out" / "labels.json").read_text(encoding="utf-8")) == corpus.labels


def test_mit_entity_inside_a_word_is_moved_only_as_a_quirk(tmp_path):
    inside = mit_item("are there r rated places", ("r", "Rating", 1))  # the 'r' of 'are'; the token 'r' is at 10
    raw = mit_folder(tmp_path / "raw", [inside])
    with pytest.raises(CorpusFormatError, match=r"train.json:record 0: entity 'r' \[1, 2\) lies inside a word"):
        convert("mit_restaurant", raw, tmp_path / "strict")
    for name, lenient in (("mit_restaurant", True), ("mit_movie", False)):  # lenient, or MIT Movie's known quirk
        corpus = convert(name, raw, tmp_path / name, lenient=lenient)
        assert corpus.splits["train"][0]["entities"] == [{"start": 10, "end": 11, "label": "Rating"}]
        assert dict(corpus.issues.repaired) == {RELOCATED_ENTITY: 2}  # train and test
    ambiguous = mit_item("are r or r rated", ("r", "Rating", 1))  # two whole-token 'r': not moved
    raw = mit_folder(tmp_path / "raw2", [ambiguous])
    with pytest.raises(CorpusFormatError, match=r"train.json:record 0: entity \[1, 2\) 'r' crosses a token boundary"):
        convert("mit_movie", raw, tmp_path / "ambiguous")


@pytest.mark.parametrize(
    ("item", "pattern"),
    [
        (mit_item("thai food", ("thai", "Dish", 0)), r"record 1: unknown label 'Dish'"),
        (mit_item("thai food", ("thai", "Cuisine", 5)), r"record 1: entity text 'thai' != text\[5:9\] = 'food'"),
        ({"sentence": "thai food", "entities": [{"name": "thai", "type": "Cuisine", "pos": 0}]}, r"record 1: .*'pos'"),
        ({"sentence": "   ", "entities": []}, r"record 1: the sentence has no tokens"),
        ({"text": "thai food", "entities": []}, r"record 1: a record needs 'sentence'"),
    ],
)
def test_mit_bad_input_names_file_and_record(tmp_path, item, pattern):
    raw = mit_folder(tmp_path / "raw", [mit_item("thai food"), item])
    with pytest.raises(CorpusFormatError, match=r"train\.json:" + pattern):
        convert("mit_restaurant", raw, tmp_path / "out")
    corpus = convert("mit_restaurant", raw, tmp_path / "lenient", lenient=True)
    assert corpus.splits["train"][0]["id"] == "train-0" and sum(corpus.issues.skipped.values()) == 1


def test_slimer_definitions_file(tmp_path):
    from data_scripts.label_descriptions import read_slimer_definitions, slimer_definitions

    pile_style = {
        "person": slimer_entry("person", "  'person' signifies individuals.  "),
        "field of study": slimer_entry("field of study", "'field of study' is an academic discipline."),
    }
    path = write(tmp_path, "definitions.json", json.dumps(pile_style))
    assert read_slimer_definitions(path) == {
        "person": "'person' signifies individuals.",
        "field of study": "'field of study' is an academic discipline.",
    }
    assert list(slimer_definitions(["field of study", "person"], path)) == ["field of study", "person"]
    with pytest.raises(CorpusFormatError, match=r"definitions.json:1: no definition for 1 label\(s\).*'animal'"):
        slimer_definitions(["animal", "person"], path)
    mit_style = write(
        tmp_path, "mit.json", json.dumps([slimer_entry("RATINGS_AVERAGE", "'x' is y.", "ratings average")])
    )
    assert slimer_definitions(["average ratings"], mit_style, {"average ratings": "ratings average"}) == {
        "average ratings": "'x' is y."
    }
    bad = [slimer_entry("A", "'a' is a.", "a"), slimer_entry("B", None, "b")]
    with pytest.raises(CorpusFormatError, match=r"bad.json:entry 1: 'gpt_answer' is not JSON with a 'Definition'"):
        read_slimer_definitions(write(tmp_path, "bad.json", json.dumps(bad)))
    no_name = [{"gpt_answer": json.dumps({"Definition": "d"})}]
    with pytest.raises(CorpusFormatError, match=r"entry 0: .* needs 'real_name'"):
        read_slimer_definitions(write(tmp_path, "no_name.json", json.dumps(no_name)))
    with pytest.raises(CorpusFormatError, match=r"broken.json:2: invalid JSON"):
        read_slimer_definitions(write(tmp_path, "broken.json", '{"a":\n  {"gpt_answer": }}'))


def test_pile_ner_format_split_rule_and_nested_remnants(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    passages = (
        [
            "refractory\tB-characteristic\nsymptoms\tI-symptom\nwere\tO\nseen\tO\n",  # a nested remnant: read as O
            "Ada\tB-person\nstudied\tO\n\ufeff\tO\nlogic\tB-field of study\n",  # a U+FEFF token is kept
        ]
        + ["Bob\tB-person\n"] * 19
        + ["Cy\tB-person\n", "Di\tB-person\n"]
    )
    write(raw, "pile_ner_391types.bio.txt", "\n".join(passages))
    definitions = {name: slimer_entry(name, f"'{name}' is defined.") for name in ("person", "field of study")}
    definitions["characteristic"] = slimer_entry("characteristic", "'characteristic' is a trait.")
    write(raw, "definitions_top391.json", json.dumps(definitions))
    corpus = convert("pile_ner", raw, tmp_path / "out")
    assert [r["id"] for r in corpus.splits["test"]] == ["test-0", "test-20"]
    assert [r["id"] for r in corpus.splits["validation"]] == ["validation-1", "validation-21"]
    assert len(corpus.splits["train"]) == 19 and corpus.splits["train"][0]["id"] == "train-2"
    first = corpus.splits["test"][0]
    assert entity_texts(first) == [("refractory", "characteristic")]
    second = corpus.splits["validation"][0]
    assert second["tokens"] == ["Ada", "studied", "\ufeff", "logic"]
    assert entity_texts(second) == [("Ada", "person"), ("logic", "field of study")]
    assert list(corpus.labels) == ["characteristic", "field of study", "person"]
    assert corpus.labels["field of study"] == "'field of study' is defined."
    assert dict(corpus.issues.repaired) == {NESTED_REMNANT: 1}
    del definitions["field of study"]  # a used label without a definition is an error
    write(raw, "definitions_top391.json", json.dumps(definitions))
    with pytest.raises(CorpusFormatError, match=r"definitions_top391.json:1: no definition .*'field of study'"):
        convert("pile_ner", raw, tmp_path / "out2")


# ------------------------------------------------------------------------------ bad input

#: (format, file name, content, error message pattern with its line, lenient outcome)
BAD_INPUTS = [
    (
        "conll-bio",
        "train.txt",
        "EU B-ORG\nrejects\n\nok O\n",
        r"train.txt:2: expected 'TOKEN \.\.\. TAG'",
        {"skipped": {"sentence": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "conll-bio",
        "train.txt",
        "EU O\nUnion I-ORG\n",
        r"train.txt:2: I-ORG does not continue",
        {"repaired": 1, "sentences": 1, "entities": 1},
    ),
    (
        "conll-bio",
        "train.txt",
        "EU B-ORG\nUnion I-PER\n",
        r"train.txt:2: I-PER does not continue",
        {"repaired": 1, "sentences": 1, "entities": 2},
    ),
    (
        "conll-bio",
        "train.txt",
        "x O\n\nEU X-ORG\n",
        r"train.txt:3: unknown tag 'X-ORG'",
        {"skipped": {"sentence": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "conll-bio",
        "train.txt",
        "EU ORG\n\nok O\n",
        r"train.txt:1: unknown tag 'ORG'",
        {"skipped": {"sentence": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "bmes",
        "train.bmes",
        "a O\nb M-ORG\nc E-ORG\n",
        r"train.bmes:2: M-ORG does not continue",
        {"repaired": 1, "sentences": 1, "entities": 1},
    ),
    (
        "bmes",
        "train.bmes",
        "a O\nb E-ORG\n",
        r"train.bmes:2: E-ORG does not close",
        {"repaired": 1, "sentences": 1, "entities": 1},
    ),
    (
        "bmes",
        "train.bmes",
        "a B-ORG\nb O\n",
        r"train.bmes:2: O follows an entity not closed by E-ORG",
        {"repaired": 1, "sentences": 1, "entities": 1},
    ),
    (
        "bmes",
        "train.bmes",
        "a B-ORG\nb M-ORG\n",
        r"train.bmes:2: sentence ends inside an entity",
        {"repaired": 1, "sentences": 1, "entities": 1},
    ),
    (
        "bmes",
        "train.bmes",
        "a B-ORG\nb E-PER\n",
        r"train.bmes:2: E-PER follows an entity not closed",
        {"repaired": 2, "sentences": 1, "entities": 2},
    ),
    (
        "lear-json",
        "train.json",
        '{"text": "a b", "entities": []}\n{"text": "上 海", "entities": [{"label": "GPE", "text": "上 河", '
        '"start_offset": 0, "end_offset": 3}]}\n',
        r"train.json:2: entity text '上 河' != text\[0:3\]",
        {"skipped": {"entity": 1}, "sentences": 2, "entities": 0},
    ),
    (
        "lear-json",
        "train.json",
        '{"text": "New York City", "entities": [{"label": "LOC", "start_offset": 0, "end_offset": 6}]}\n',
        r"train.json:1: entity \[0, 6\) 'New Yo' crosses a token boundary",
        {"skipped": {"entity": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "lear-json",
        "train.json",
        '{"text": "a b", "entities": []}\n{"text": "a b",\n',
        r"train.json:2: invalid JSON",
        {"skipped": {"record": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "lear-json",
        "train.json",
        '{"text": "a  b", "entities": []}\n{"text": "a b", "entities": []}\n',
        r"train.json:1: empty token",
        {"skipped": {"record": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "jsonl",
        "train.jsonl",
        '{"text": "Alice met Bob", "tokens": ["Alice", "met", "Bob"], '
        '"entities": [{"start": 0, "end": 3, "label": "PER"}, {"start": 10, "end": 13, "label": "PER"}]}\n',
        r"train.jsonl:1: entity \[0, 3\) 'Ali' crosses a token boundary",
        {"skipped": {"entity": 1}, "sentences": 1, "entities": 1},
    ),
    (
        "jsonl",
        "train.jsonl",
        '{"text": "Alice", "entities": [{"start": 0, "end": 9, "label": "PER"}]}\n',
        r"train.jsonl:1: entity \[0, 9\) is empty or out of range",
        {"skipped": {"entity": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "jsonl",
        "train.jsonl",
        '{"text": "Alice", "tokens": ["Bob"], "entities": []}\n{"text": "Bob", "entities": []}\n',
        r"train.jsonl:1: tokens do not match the text",
        {"skipped": {"record": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "jsonl",
        "train.jsonl",
        '{"text": "Alice", "entities": [{"start": 0, "end": 5, "label": "GPE"}]}\n',
        r"train.jsonl:1: unknown label 'GPE'",
        {"skipped": {"entity": 1}, "sentences": 1, "entities": 0},
    ),
    ("conll-bio", "train.txt", b"ok O\n\xff\xfe B-PER\n", r"train.txt:2: not UTF-8", {"fatal": True}),
    (
        "lear-event-json",
        "train.json",
        json.dumps(
            {
                "text": "he was arrested",
                "events": [
                    {"trigger": {"text": "arrest", "label": "PER", "segments": {"start_offset": 7, "end_offset": 13}}}
                ],
            }
        )
        + "\n",  # fmt: skip
        r"train.json:1: entity \[7, 13\) 'arrest' crosses a token boundary",
        {"skipped": {"entity": 1}, "sentences": 1, "entities": 0},
    ),
    (
        "lear-event-json",
        "train.json",
        json.dumps({"text": "he was arrested", "events": {"trigger": "arrested"}})
        + "\n"
        + json.dumps(
            {
                "text": "he left",
                "events": [
                    {"trigger": {"text": "left", "label": "PER", "segments": {"start_offset": 3, "end_offset": 7}}}
                ],
            }
        )
        + "\n",  # fmt: skip
        r"train.json:1: a record needs 'events' of type list",
        {"skipped": {"record": 1}, "sentences": 1, "entities": 1},
    ),
]


@pytest.mark.parametrize(("fmt", "name", "content", "pattern", "lenient"), BAD_INPUTS)
def test_bad_input_strict_and_lenient(tmp_path, fmt, name, content, pattern, lenient):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, name, content)
    labels = write(tmp_path, "labels.txt", "ORG\to\nPER\tp\nLOC\tl\n")
    with pytest.raises(CorpusFormatError, match=pattern) as info:
        convert(fmt, raw, tmp_path / "strict", labels_file=labels)
    assert info.value.path.endswith(name) and info.value.line >= 1
    if lenient.get("fatal"):  # undecodable bytes stay fatal: nothing sensible to repair
        with pytest.raises(CorpusFormatError):
            convert(fmt, raw, tmp_path / "lenient", labels_file=labels, lenient=True)
        return
    corpus = convert(fmt, raw, tmp_path / "lenient", labels_file=labels, lenient=True)
    records = corpus.splits["train"]
    assert len(records) == lenient["sentences"]
    assert sum(len(r["entities"]) for r in records) == lenient["entities"]
    assert dict(corpus.issues.skipped) == lenient.get("skipped", {})
    assert sum(corpus.issues.repaired.values()) == lenient.get("repaired", 0)
    card = (tmp_path / "lenient" / "README.md").read_text(encoding="utf-8")
    assert "## Repaired and skipped input\n- " in card


def test_cli_reports_file_and_line(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "train.txt", "EU O\nUnion I-ORG\n")
    assert main(["conll-bio", str(raw), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "train.txt:2: I-ORG does not continue" in err and "--lenient" in err
    assert main(["conll-bio", str(raw), str(tmp_path / "out"), "--lenient"]) == 0
    captured = capsys.readouterr()
    assert "repaired 1 x I-/M- tag" in captured.out and "WARNING" in captured.err


def test_empty_splits_are_not_written(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "train.txt", "EU B-ORG\n")
    write(raw, "test.txt", "EU X-ORG\n")
    corpus = convert("conll-bio", raw, tmp_path / "out", lenient=True)
    assert list(corpus.splits) == ["train"] and "'test' has no records" in capsys.readouterr().err
    assert list(datasets.load_from_disk(str(tmp_path / "out"))) == ["train"]
    (raw / "train.txt").unlink()
    with pytest.raises(ValueError, match="no records to write"):
        convert("conll-bio", raw, tmp_path / "out2", lenient=True)


def test_cli_unknown_corpus_exits():
    with pytest.raises(SystemExit):
        main(["no-such-corpus", "a", "b"])


def test_drop_dev_block_guards_against_other_files(tmp_path):
    def record(text):
        return {"id": text, "text": text, "tokens": list(text), "entities": []}

    train = [record(t) for t in ("aa", "bb", "cc", "dd")]
    kept, note = drop_dev_block(train, [record("bb"), record("c"), record("c"), record("dd")], tmp_path)
    assert [r["text"] for r in kept] == ["aa"] and "1..3" in note
    with pytest.raises(ValueError, match="does not match"):
        drop_dev_block(train, [record("bb"), record("dd")], tmp_path)
    with pytest.raises(ValueError, match="not LEAR's MSRA"):
        drop_dev_block(train, [record("zz")], tmp_path)


# ------------------------------------------------------------------------------ round trip


def test_round_trip_through_disk(conll_dir, tmp_path):
    out_dir = tmp_path / "out"
    labels_file = write(tmp_path, "labels.json", json.dumps(LABELS_JSON))
    corpus = convert("conll-bio", conll_dir, out_dir, labels_file=labels_file)
    dataset = datasets.load_from_disk(str(out_dir))
    assert list(dataset) == ["train", "validation", "test"]
    for split, records in corpus.splits.items():
        assert dataset[split].features == FEATURES
        assert dataset[split].to_list() == records
    labels_text = (out_dir / "labels.json").read_text(encoding="utf-8")
    assert list(json.loads(labels_text)) == ["LOC", "MISC", "ORG", "PER"]
    loaded, labels = load_converted(out_dir)
    assert labels == corpus.labels and loaded["test"][0]["id"] == "test-0"
    # The card's configs also let load_dataset read the folder.
    assert datasets.load_dataset(str(out_dir))["train"].to_list() == corpus.splits["train"]


# --------------------------------------------------------------------------------- schema


def test_token_char_offsets():
    assert token_char_offsets("New  York\tis", ["New", "York", "is"]) == [(0, 3), (5, 9), (10, 12)]
    assert token_char_offsets("上海", ["上", "海"]) == [(0, 1), (1, 2)]
    with pytest.raises(ValueError, match="not found"):
        token_char_offsets("New York", ["New", "Jersey"])
    with pytest.raises(ValueError, match="not found"):
        token_char_offsets("New-York", ["New", "York"])  # "-" would be silently skipped
    with pytest.raises(ValueError, match="after the last token"):
        token_char_offsets("New York", ["New"])


def test_validate_record():
    record = {
        "id": "x",
        "text": "New York",
        "tokens": ["New", "York"],
        "entities": [{"start": 0, "end": 8, "label": "LOC"}],
    }
    validate_record(record, {"LOC": "places"})
    record["entities"] = [{"start": 0, "end": 5, "label": "LOC"}]
    with pytest.raises(ValueError, match="token boundaries"):
        validate_record(record)
    record["entities"] = [{"start": 0, "end": 3, "label": "PER"}]
    with pytest.raises(ValueError, match="label"):
        validate_record(record, {"LOC": "places"})
    with pytest.raises(ValueError, match="no tokens"):
        validate_record({"id": "y", "text": "", "tokens": [], "entities": []})


def _encode(length: int, spans: list[tuple[int, int, str]], scheme: str) -> list[str]:
    tags = ["O"] * length
    for start, end, label in spans:
        if scheme == "bmes" and end - start == 1:
            tags[start] = f"S-{label}"
            continue
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"{'I' if scheme == 'bio' else 'M'}-{label}"
        if scheme == "bmes":
            tags[end - 1] = f"E-{label}"
    return tags


@st.composite
def tagged_sentences(draw):
    """A sentence length and non-overlapping entity spans."""
    length = draw(st.integers(1, 12))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=8)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if start < end:
            spans.append((start, end, draw(st.sampled_from(["PER", "LOC", "ORG.NAM"]))))
    return length, spans


@settings(max_examples=60, deadline=None)
@given(sentence=tagged_sentences(), scheme=st.sampled_from(["bio", "bmes"]))
def test_decoders_invert_encoding(tmp_path_factory, sentence, scheme):
    length, spans = sentence
    tokens = [f"w{i}" for i in range(length)]
    folder = tmp_path_factory.mktemp("hyp")
    tags = _encode(length, spans, scheme)
    write(folder, "train.txt", "".join(f"{t} {tag}\n" for t, tag in zip(tokens, tags)))
    corpus = read_corpus("conll-bio" if scheme == "bio" else "bmes", folder, Settings(lang="en"))
    record = corpus.splits["train"][0]
    got = [(e["start"], e["end"], e["label"]) for e in record["entities"]]
    offsets = token_char_offsets(record["text"], record["tokens"])
    assert got == [(offsets[s][0], offsets[e - 1][1], label) for s, e, label in spans]


CONVERT_SCRIPT = Path(sys.executable).parent / "lear-convert-data"


@pytest.mark.skipif(not CONVERT_SCRIPT.is_file(), reason="the console script is installed with the package")
def test_the_console_script_names_itself_in_its_usage():
    completed = subprocess.run([str(CONVERT_SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0 and completed.stdout.startswith("usage: lear-convert-data ")


def test_a_redirected_conversion_log_has_no_progress_bars(tmp_path):
    # issue 33: `lear-convert-data ... > log` filled the log with `Saving the dataset` bars redrawn with "\r"
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "train.txt", "EU B-ORG\nrejects O\n\nPeter B-PER\n")
    completed = subprocess.run(
        [sys.executable, "-m", "data_scripts.convert", "conll-bio", str(raw), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "\r" not in completed.stdout + completed.stderr and "\x1b[" not in completed.stderr
    assert completed.stdout.strip().splitlines()[-1].startswith(f"wrote {tmp_path / 'out'} in ")
