"""Tests for the GENIA 3.02 converter (``data_scripts/genia.py``).

The shared-data tests pin the exact counts measured when the converter was
written (regression anchors, see ``docs/genia.md``); they skip when the shared
store is absent.  The fixture tests build a tiny fake tarball in memory and
run everywhere.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from data_scripts.errors import CorpusFormatError
from data_scripts.genia import (
    GENIA_LABELS,
    GeniaFormatError,
    collapse_label,
    read_genia,
    read_genia_with_stats,
    tokenize_sentence,
    validate_record,
)


# ---------------------------------------------------------------------------
# Labels and tokenizer (no data needed)
# ---------------------------------------------------------------------------


def test_label_set_and_order() -> None:
    assert list(GENIA_LABELS) == ["DNA", "RNA", "cell_line", "cell_type", "protein"]
    assert list(GENIA_LABELS) == sorted(GENIA_LABELS)
    for description in GENIA_LABELS.values():
        assert len(description.split()) >= 10


@pytest.mark.parametrize(
    ("sem", "label"),
    [
        ("G#protein_molecule", "protein"),
        ("G#protein_family_or_group", "protein"),
        ("G#DNA_domain_or_region", "DNA"),
        ("G#RNA_N/A", "RNA"),
        ("G#cell_line", "cell_line"),
        ("G#cell_type", "cell_type"),
        ("G#other_name", None),
        ("G#virus", None),
        ("(AND G#protein_molecule G#protein_molecule)", None),
        (None, None),
    ],
)
def test_collapse_label(sem: str | None, label: str | None) -> None:
    assert collapse_label(sem) == label


def _tokens(text: str, cuts: set[int] | None = None) -> list[str]:
    return [text[start:end] for start, end in tokenize_sentence(text, cuts or set())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cushing's disease cannot be explained.", "Cushing 's disease can not be explained ."),
        ("nuclear factor (NF)-kappa B, i.e., p50.", "nuclear factor ( NF ) -kappa B , i.e. , p50 ."),
        ("[3H]calcitriol and [3H] Dex in Ca(2+)-free medium", "[3H]calcitriol and [3H] Dex in Ca(2+)-free medium"),
        ("at 10(-9) M of protein(s) (P less than 0.05).", "at 10 ( -9 ) M of protein ( s ) ( P less than 0.05 ) ."),
        (
            "Strasser et al. (S. Miyatake), 50% of PDGF(B) mRNA",
            "Strasser et al. ( S. Miyatake ) , 50 % of PDGF(B) mRNA",
        ),
        ("measured by this method. The results", "measured by this method . The results"),
    ],
)
def test_tokenizer_rules(text: str, expected: str) -> None:
    assert " ".join(_tokens(text)) == expected


def test_constituent_boundaries_split_words() -> None:
    text = "E2-stimulated cells"
    assert _tokens(text, {0, 2}) == ["E2", "-stimulated", "cells"]


# ---------------------------------------------------------------------------
# Inline fixture: a tiny fake GENIA tarball
# ---------------------------------------------------------------------------

_DOC1 = """<article><articleinfo><bibliomisc>MEDLINE:1</bibliomisc></articleinfo>
<title><sentence><cons lex="IL-2_gene" sem="G#DNA_domain_or_region"><cons lex="IL-2" sem="G#protein_molecule">IL-2</cons> gene</cons> expression in <cons lex="E2" sem="G#lipid">E2</cons>-stimulated <cons lex="T_cell" sem="G#cell_type">T cells</cons>.</sentence></title>
<abstract><sentence><cons lex="(AND class_I_interferon class_II_interferon)" sem="(AND G#protein_family_or_group G#protein_family_or_group)"><cons lex="class*">class</cons> <cons lex="*I*">I</cons> and <cons lex="*II*">II</cons> <cons lex="*interferon">interferon</cons></cons> bind <cons lex="(AND NF-kappa_B AP-1)" sem="(AND G#protein_molecule G#protein_molecule)"><cons lex="NF-kappa_B" sem="G#protein_molecule">NF-kappa B</cons> and <cons lex="AP-1" sem="G#protein_molecule">AP-1</cons></cons> in <cons lex="Jurkat_cell" sem="G#cell_line"><cons lex="Jurkat_cell" sem="G#cell_line">Jurkat cells</cons></cons>, not <cons lex="c-fos_mRNA" sem="G#RNA_molecule">c-fos mRNA</cons>.</sentence></abstract>
</article>"""
_DOC2_OLD = """<article><articleinfo><bibliomisc>MEDLINE:2</bibliomisc></articleinfo>
<title><sentence>Old <cons lex="copy" sem="G#protein_molecule">copy</cons>.</sentence></title><abstract></abstract>
</article>"""
_DOC2_NEW = """<article><articleinfo><bibliomisc>MEDLINE:2</bibliomisc></articleinfo>
<title><sentence>New <cons lex="copy" sem="G#DNA_molecule">copy</cons>.</sentence></title><abstract></abstract>
</article>"""
_DOC3 = """<article><articleinfo><bibliomisc>MEDLINE:3</bibliomisc></articleinfo>
<title><sentence>No entities here.</sentence></title>
<abstract><sentence>Binding of <cons lex="p50" sem="G#protein_molecule">p50</cons>.</sentence></abstract>
</article>"""
_BROKEN_DOC3 = _DOC3.replace("<sentence>Binding", "<sentence>Binding <cons>")

XML_MEMBER = "GENIA_term_3.02/GENIAcorpus3.02.xml"


def _make_genia(root: Path, articles: list[str]) -> Path:
    """Write ``root/genia`` with a fake tarball (built in memory) and split lists."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE set SYSTEM "gpml.dtd">\n<set>\n'
        '<import resource="GENIAontology.daml" prefix="G"></import>\n' + "\n".join(articles) + "\n</set>\n"
    ).encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(XML_MEMBER)
        info.size = len(xml)
        archive.addfile(info, io.BytesIO(xml))
    genia = root / "genia"
    (genia / "raw_xml").mkdir(parents=True)
    (genia / "raw_xml" / "GENIAcorpus3.02.tgz").write_bytes(buffer.getvalue())
    splits = genia / "yhcc_cnn_nested_ner" / "splits"
    splits.mkdir(parents=True)
    for name, doc_id in (("train", "MEDLINE:1"), ("dev", "MEDLINE:2"), ("test", "MEDLINE:3")):
        (splits / f"{name}.txt").write_text(doc_id + "\n", encoding="utf-8")
    return genia


def _spans(record: dict) -> list[tuple[str, str]]:
    return [(record["text"][e["start"] : e["end"]], e["label"]) for e in record["entities"]]


def test_fixture_nested_cons_and_collapse(tmp_path: Path) -> None:
    _make_genia(tmp_path, [_DOC1, _DOC2_OLD, _DOC3, _DOC2_NEW])
    splits, stats = read_genia_with_stats(tmp_path)
    assert list(splits) == ["train", "validation", "test"]
    first, second = splits["train"]
    assert first["id"] == "train-0" and second["id"] == "train-1"
    assert first["tokens"] == ["IL-2", "gene", "expression", "in", "E2", "-stimulated", "T", "cells", "."]
    assert first["text"] == " ".join(first["tokens"])
    # nested: protein inside DNA; the lipid E2 is dropped
    assert _spans(first) == [("IL-2 gene", "DNA"), ("IL-2", "protein"), ("T cells", "cell_type")]
    # the coordination "(AND ...)" and its "*x*" fragments are dropped, its
    # contiguous typed members are kept; the repeated Jurkat cons is deduplicated
    assert _spans(second) == [
        ("NF-kappa B", "protein"),
        ("AP-1", "protein"),
        ("Jurkat cells", "cell_line"),
        ("c-fos mRNA", "RNA"),
    ]
    assert stats.duplicate_entities == 1
    # the later copy of a duplicated document wins
    assert stats.duplicate_documents == ["MEDLINE:2"]
    assert [(r["text"], _spans(r)) for r in splits["validation"]] == [("New copy .", [("copy", "DNA")])]
    assert [r["id"] for r in splits["test"]] == ["test-0", "test-1"]
    assert splits["test"][0]["entities"] == []
    assert stats.sentences == Counter({"train": 2, "validation": 1, "test": 2})
    assert stats.entities == Counter({"train": 7, "validation": 1, "test": 1})
    for records in splits.values():
        for record in records:
            validate_record(record)


def test_fixture_accepts_genia_dir_itself(tmp_path: Path) -> None:
    genia = _make_genia(tmp_path, [_DOC1, _DOC2_NEW, _DOC3])
    assert read_genia(genia) == read_genia(tmp_path)


def test_fixture_malformed_xml_names_file_and_sentence(tmp_path: Path) -> None:
    _make_genia(tmp_path, [_DOC1, _DOC2_NEW, _BROKEN_DOC3])
    with pytest.raises(GeniaFormatError, match=r"GENIAcorpus3\.02\.xml.*MEDLINE:3-1") as info:
        read_genia(tmp_path)
    # A CorpusFormatError whose "line" is the sentence id: FILE:LOCATION: message.
    assert isinstance(info.value, CorpusFormatError)
    assert (info.value.path, info.value.line) == (XML_MEMBER, "MEDLINE:3-1")
    assert str(info.value).startswith(f"{XML_MEMBER}:MEDLINE:3-1: malformed XML")


def test_fixture_document_in_two_splits_names_list_and_line(tmp_path: Path) -> None:
    genia = _make_genia(tmp_path, [_DOC1, _DOC2_NEW, _DOC3])
    (genia / "yhcc_cnn_nested_ner" / "splits" / "test.txt").write_text("MEDLINE:3\nMEDLINE:1\n", encoding="utf-8")
    with pytest.raises(GeniaFormatError, match=r"test\.txt:2: document MEDLINE:1 is in both train and test"):
        read_genia(tmp_path)


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="GENIAcorpus3.02.tgz"):
        read_genia(tmp_path)


def test_validate_record_rejects_off_boundary_entity() -> None:
    record = {"id": "x-0", "text": "NF-kappa B", "tokens": ["NF-kappa", "B"], "entities": []}
    validate_record(record)
    record["entities"] = [{"start": 0, "end": 2, "label": "protein"}]
    with pytest.raises(GeniaFormatError, match="x-0"):
        validate_record(record)


@pytest.mark.parametrize(
    ("text", "tokens", "entities", "problem"),
    [
        ("NF-kappa  B", ["NF-kappa", "B"], [], "text is not the space-joined tokens"),
        ("NF kappa B", ["NF kappa", "B"], [], "token with whitespace"),
        ("", [], [], "no tokens"),
        ("NF-kappa B", ["NF-kappa", "B"], [{"start": 0, "end": 10, "label": "virus"}], "label"),
    ],
)
def test_validate_record_genia_and_schema_checks(text, tokens, entities, problem) -> None:
    record = {"id": "x-1", "text": text, "tokens": tokens, "entities": entities}
    with pytest.raises(GeniaFormatError, match=f"MEDLINE:9-0: record x-1: .*{problem}"):
        validate_record(record, XML_MEMBER, "MEDLINE:9-0")


# ---------------------------------------------------------------------------
# The real corpus (regression anchors)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def genia_dir(shared_data_dir: Path) -> Path:
    """``<shared data>/genia``; skips when the shared store has no GENIA."""
    path = shared_data_dir / "genia"
    if not (path / "raw_xml" / "GENIAcorpus3.02.tgz").is_file():
        pytest.skip(f"shared GENIA data not found under {shared_data_dir} (set LEAR_SHARED_DIR)")
    return path


@pytest.fixture(scope="module")
def genia(shared_data_dir: Path, genia_dir: Path) -> tuple[dict[str, list[dict]], object]:
    return read_genia_with_stats(shared_data_dir)


def test_split_sizes_and_entity_counts(genia) -> None:
    splits, stats = genia
    assert stats.documents == Counter({"train": 1601, "validation": 199, "test": 199})
    assert {name: len(records) for name, records in splits.items()} == {
        "train": 15038,
        "validation": 1765,
        "test": 1732,
    }
    assert stats.entities == Counter({"train": 46203, "validation": 4714, "test": 5119})
    assert stats.labels == Counter({"protein": 34240, "DNA": 10000, "cell_type": 7008, "cell_line": 3844, "RNA": 944})
    # 56,079 collapsed <cons> in the XML = 56,069 kept-document ones + 10 in the
    # dropped first copy of MEDLINE:97218353; 33 exact duplicates removed.
    assert stats.collapsed_constituents == 56069
    assert stats.duplicate_entities == 33
    assert stats.duplicate_documents == ["MEDLINE:97218353"]


def test_every_record_is_valid(genia) -> None:
    splits, _ = genia
    for split, records in splits.items():
        assert [r["id"] for r in records] == [f"{split}-{i}" for i in range(len(records))]
        for record in records:
            validate_record(record)  # token boundaries, text == joined entity tokens
            starts, ends, position = set(), set(), 0
            for token in record["tokens"]:
                starts.add(position)
                ends.add(position + len(token))
                position += len(token) + 1
            for entity in record["entities"]:
                assert entity["start"] in starts and entity["end"] in ends


def _compact_entities(tokens: list[str], mentions: list[tuple[int, int, str]]) -> set:
    """Entities as (start, end, type) in whitespace-free character offsets.

    Independent of tokenisation, so the yhcc files (tokens from the GENIA POS
    release) and ours can be compared even where the tokens differ.
    """
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token.replace(" ", "")))
    return {(offsets[start], offsets[end], label) for start, end, label in mentions}


def _token_mentions(record: dict) -> list[tuple[int, int, str]]:
    """Our character-offset entities as token-index spans."""
    starts, ends, position = {}, {}, 0
    for index, token in enumerate(record["tokens"]):
        starts[position] = index
        ends[position + len(token)] = index + 1
        position += len(token) + 1
    return [(starts[e["start"]], ends[e["end"]], e["label"]) for e in record["entities"]]


@pytest.mark.parametrize(
    ("split", "file_name", "sentences", "same_tokens", "entities"),
    [("validation", "dev", 1765, 1734, 4714), ("test", "test", 1732, 1692, 5119)],
)
def test_agreement_with_yhcc(genia, genia_dir, split, file_name, sentences, same_tokens, entities) -> None:
    path = genia_dir / "yhcc_cnn_nested_ner" / f"{file_name}.jsonlines"
    gold = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    ours = genia[0][split]
    assert len(gold) == len(ours) == sentences
    token_equal = entity_sets_equal = 0
    for reference, record in zip(gold, ours, strict=True):
        assert "".join(reference["tokens"]).replace(" ", "") == "".join(record["tokens"])
        token_equal += reference["tokens"] == record["tokens"]
        gold_mentions = [(m["start"], m["end"], m["entity_type"]) for m in reference["entity_mentions"]]
        entity_sets_equal += _compact_entities(reference["tokens"], gold_mentions) == (
            _compact_entities(record["tokens"], _token_mentions(record))
        )
    assert token_equal == same_tokens
    assert entity_sets_equal == sentences  # identical entities in every sentence
    assert sum(len(r["entities"]) for r in ours) == entities
