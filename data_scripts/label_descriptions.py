"""Label descriptions (LEAR's "label knowledge"): where each corpus's come from.

* MSRA, OntoNotes 4, ACE04, ACE05: the LEAR authors' ``label_annotation.txt`` (one description per
  line, in the label-id order of ``label_map.json``), read from the raw folder at conversion time
  by :func:`read_lear_annotations`; they are deliberately not copied here.
* CoNLL-2003, Resume, Weibo: LEAR ships none, so they are written below, in the corpus's language
  and in the style of LEAR's own (what the type covers, with examples).
* GENIA: ``data_scripts.genia.GENIA_LABELS``.
* Event triggers: LitBank and PHEE below, written from their annotation guidelines (Sims et al. 2019; Sun et al.
  2022); ACE 2005 from the authors' ``trigger_annotation.txt`` / ``trigger_label_map.json`` (``lear-event-json``).
* User data: ``--labels FILE`` (:func:`data_scripts.readers.load_labels_file`).

Label-id order is the sorted label names everywhere (as in LEAR's ``label_map.json``); each dict
below is written in that order.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_scripts.errors import CorpusFormatError


CONLL2003_LABELS: dict[str, str] = {
    "LOC": "location entities are names of geographically or politically defined places such as "
    "countries, cities, states, regions, continents, mountains, rivers and seas.",
    "MISC": "miscellaneous entities are names that are not persons, locations or organizations, "
    "such as nationalities, religions, events, languages, titles of works, products and adjectives "
    "derived from proper names.",
    "ORG": "organization entities are names of companies, institutions, government bodies, "
    "political parties, sports teams, newspapers and other organized groups of people.",
    "PER": "person entities are names of people, including first names, surnames and nicknames of "
    "real or fictional persons.",
}

RESUME_LABELS: dict[str, str] = {
    "CONT": "国籍，指人所属的国家，例如中国国籍、美国国籍、无境外居留权中的国家",
    "EDU": "学历和学位，例如本科、大专、硕士、博士、研究生学历、MBA",
    "LOC": "地名和籍贯，例如省份、城市、县区等地理位置",
    "NAME": "人名，简历中人物的姓名",
    "ORG": "组织机构，包括公司、政府部门、学校、银行、协会、委员会等机构的名称",
    "PRO": "专业，指所学的学科或专业，例如经济学、会计、法律、计算机科学",
    "RACE": "民族，例如汉族、回族、满族、蒙古族",
    "TITLE": "职称和职务，例如董事长、总经理、高级工程师、教授、独立董事、会计师",
}

WEIBO_LABELS: dict[str, str] = {
    "GPE.NAM": "地缘政治实体的具体名称，例如国家、省份、城市、县镇的名字",
    "GPE.NOM": "地缘政治实体的泛指称谓，例如国家、祖国、城市、家乡、省、市等普通名词",
    "LOC.NAM": "地点的具体名称，例如山脉、河流、景点、街道、建筑的名字",
    "LOC.NOM": "地点的泛指称谓，例如公园、海边、商场、路边等普通名词",
    "ORG.NAM": "组织机构的具体名称，例如公司、政府部门、学校、媒体、球队、乐队的名字",
    "ORG.NOM": "组织机构的泛指称谓，例如公司、政府、学校、医院、球队等普通名词",
    "PER.NAM": "人名，包括真实人物和虚构人物的姓名、昵称和网名",
    "PER.NOM": "人物的泛指称谓，例如朋友、妈妈、老师、男人、粉丝、亲们等普通名词",
}

LITBANK_EVENT_LABELS: dict[str, str] = {
    "EVENT": "an event trigger is the single word, a verb, noun or adjective, that names an action, process or "
    "change of state that actually happens in the story, such as walked, said, arrival, war or dead; events that "
    "are only hypothetical, negated, future, habitual or generic are not triggers.",
}

PHEE_LABELS: dict[str, str] = {
    "Adverse_event": "an adverse event trigger is the word or phrase, such as induced, developed, caused or "
    "associated with, that signals a harmful, unintended reaction of a patient to a drug or treatment.",
    "Potential_therapeutic_event": "a potential therapeutic event trigger is the word or phrase, such as "
    "treated, therapy, effective or response, that signals a drug or treatment given to a patient for its "
    "intended, beneficial effect.",
}

#: File names of LEAR's label files in a processed corpus folder (named entities, then event triggers).
LABEL_MAP_FILE = "label_map.json"
LABEL_ANNOTATION_FILE = "label_annotation.txt"
TRIGGER_MAP_FILE = "trigger_label_map.json"
TRIGGER_ANNOTATION_FILE = "trigger_annotation.txt"


def read_lear_annotations(
    corpus_dir: Path, map_file: str = LABEL_MAP_FILE, annotation_file: str = LABEL_ANNOTATION_FILE
) -> dict[str, str] | None:
    """Read LEAR's label descriptions from ``corpus_dir``, in label-id order.

    ``label_map.json`` (``trigger_label_map.json`` for events) is ``[{id: label}, {label: id}]``; line ``i`` of
    ``label_annotation.txt`` (``trigger_annotation.txt``) describes label id ``i``.  Returns ``None`` when either
    file is missing; raises :class:`CorpusFormatError` when they disagree.
    """
    map_path = corpus_dir / map_file
    annotation_path = corpus_dir / annotation_file
    if not (map_path.is_file() and annotation_path.is_file()):
        return None
    try:
        id_to_label = json.loads(map_path.read_text(encoding="utf-8-sig"))[0]
        labels = [id_to_label[key] for key in sorted(id_to_label, key=int)]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise CorpusFormatError(map_path, 1, f"not a LEAR label map: {error}") from error
    lines = annotation_path.read_text(encoding="utf-8-sig").splitlines()
    descriptions = [line.strip() for line in lines if line.strip()]
    if len(descriptions) != len(labels):
        raise CorpusFormatError(
            annotation_path,
            len(lines),
            f"{len(descriptions)} descriptions for {len(labels)} labels in {map_path.name}",
        )
    return dict(zip(labels, descriptions))
