"""Label descriptions (LEAR's "label knowledge"): where each corpus's come from.

* MSRA, OntoNotes 4, ACE04, ACE05: the LEAR authors' ``label_annotation.txt`` (one description per
  line, in the label-id order of ``label_map.json``), read from the raw folder at conversion time
  by :func:`read_lear_annotations`; they are deliberately not copied here.
* CoNLL-2003, Resume, Weibo, OntoNotes 5.0 English, BioNLP13CG, BC5CDR, NCBI-disease: LEAR ships none, so they
  are written below, in the corpus's language and in the style of LEAR's own (what the type covers, with examples).
* Pile-NER, MIT Movie, MIT Restaurant: SLIMER's GPT-written definitions (``definitions_*.json`` beside the data),
  the "Definition" of each label as given (not its "Guidelines"), read at conversion time by
  :func:`slimer_definitions`.
* GENIA: ``data_scripts.genia.GENIA_LABELS``.
* Event triggers: LitBank and PHEE below, written from their annotation guidelines (Sims et al. 2019; Sun et al.
  2022); ACE 2005 from the authors' ``trigger_annotation.txt`` / ``trigger_label_map.json`` (``lear-event-json``).
* User data: ``--labels FILE`` (:func:`data_scripts.readers.load_labels_file`).

Label-id order is the sorted label names everywhere (as in LEAR's ``label_map.json``); each dict
below is written in that order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from data_scripts.errors import CorpusFormatError
from data_scripts.readers import load_json


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

ONTONOTES5_LABELS: dict[str, str] = {
    "CARDINAL": "cardinal entities are numerals that are not a date, time, percentage, money, quantity or ordinal, "
    "such as three, 1,000, dozens, hundreds or one of them.",
    "DATE": "date entities are absolute or relative dates and periods of a day or longer, such as June 5, 1999, "
    "Monday, last year, the 1990s, two weeks or the past three months.",
    "EVENT": "event entities are names of hurricanes, battles, wars, sports events and other named happenings, "
    "such as World War II, the Olympics, Hurricane Katrina or the Super Bowl.",
    "FAC": "facility entities are names of buildings, airports, highways, bridges and other man-made structures, "
    "such as the Golden Gate Bridge, Kennedy Airport, the White House or Route 66.",
    "GPE": "geopolitical entities are names of countries, cities, states and provinces, places with a government, "
    "such as China, New York, Texas, Taiwan or Hong Kong.",
    "LANGUAGE": "language entities are names of languages, such as English, Chinese, Arabic or Spanish.",
    "LAW": "law entities are names of documents made into law, such as treaties, acts, constitutions and bills: "
    "the Constitution, the Clean Air Act or the Kyoto Protocol.",
    "LOC": "location entities are names of places that are not countries, cities or states: mountains, rivers, "
    "seas, continents and regions, such as the Alps, the Pacific, Asia or the Middle East.",
    "MONEY": "money entities are monetary values with their unit, such as $10 million, 500 yuan, 20 cents or "
    "billions of dollars.",
    "NORP": "nationality, religious or political group entities are names of nationalities, religions and political "
    "groups, nouns or adjectives, such as American, Chinese, Muslim, Christian, Republicans or Democrats.",
    "ORDINAL": "ordinal entities are ordinal numbers, such as first, second, 3rd, tenth or last.",
    "ORG": "organization entities are names of companies, agencies, institutions, government bodies, political "
    "parties, sports teams and other organized groups, such as Microsoft, the UN, Congress or Xinhua.",
    "PERCENT": "percentage entities are percentages, such as 5%, 12.5 percent or fifty percent.",
    "PERSON": "person entities are names of people, real or fictional, including first names, surnames and "
    "nicknames, such as Bill Clinton, Chen Shui-bian or Harry Potter.",
    "PRODUCT": "product entities are names of vehicles, weapons, foods, software and other man-made objects, "
    "such as the Boeing 747, Windows, the Titanic or the Patriot missile.",
    "QUANTITY": "quantity entities are measurements of weight, distance, area, volume, speed or temperature with "
    "their unit, such as 10 kilometers, 50 pounds, 3 tons or 100 degrees.",
    "TIME": "time entities are times of day and periods shorter than a day, such as 3 p.m., this morning, tonight, "
    "noon or two hours.",
    "WORK_OF_ART": "work of art entities are titles of books, songs, films, paintings, television programs and "
    "other creative works, such as Hamlet, the Mona Lisa, 60 Minutes or Star Wars.",
}

BIONLP13CG_LABELS: dict[str, str] = {
    "Amino_acid": "amino acid entities are names of amino acids and amino acid residues, such as tyrosine, serine, "
    "glutamine or lysine 48.",
    "Anatomical_system": "anatomical system entities are body systems made of several organs and tissues that work "
    "together, such as the immune system, the central nervous system (CNS) or the endocrine system.",
    "Cancer": "cancer entities are names of cancers and tumours, such as breast cancer, glioma, melanoma, leukemia, "
    "carcinoma or tumors in general.",
    "Cell": "cell entities are cells, cell types and cell lines, such as lymphocytes, endothelial cells, "
    "macrophages, tumor cells, HeLa or MCF-7.",
    "Cellular_component": "cellular component entities are parts of a cell and structures within it, such as the "
    "nucleus, mitochondria, the plasma membrane, cytoplasm, chromosomes or the extracellular matrix.",
    "Developing_anatomical_structure": "developing anatomical structure entities are embryos and anatomical "
    "structures at an early stage of development, such as embryos, an embryonic bud or the neural tube.",
    "Gene_or_gene_product": "gene or gene product entities are names of genes and of the proteins and RNAs they "
    "encode, such as p53, VEGF, EGFR, Bcl-2, cyclin D1 or microRNA-21.",
    "Immaterial_anatomical_entity": "immaterial anatomical entities are anatomical spaces, cavities and "
    "compartments rather than matter, such as the lumen, the intracellular or extracellular space, the peritoneal "
    "cavity, or intravenous and intraperitoneal as places of injection.",
    "Multi-tissue_structure": "multi-tissue structure entities are anatomical structures made of several tissues, "
    "such as blood vessels, capillaries, the vasculature, the retina, glands or ducts.",
    "Organ": "organ entities are organs of the body, such as the liver, lung, heart, kidney, brain, skin or breast.",
    "Organism": "organism entities are names of species and other living organisms, including humans and patients, "
    "animals, bacteria and viruses, such as mice, rats, Escherichia coli or HIV.",
    "Organism_subdivision": "organism subdivision entities are regions or parts of the body that are not single "
    "organs, such as the head, a limb, the hindlimb, the abdomen or the oral cavity.",
    "Organism_substance": "organism substance entities are substances produced by or found in an organism, such as "
    "blood, serum, plasma, urine, milk, bile or ascites.",
    "Pathological_formation": "pathological formation entities are abnormal structures formed by disease or injury "
    "other than cancers, such as wounds, lesions, thrombi, cerebral cavernous malformations, dysplasia or edema.",
    "Simple_chemical": "simple chemical entities are names of chemicals, drugs, ions and small molecules, such as "
    "glucose, oxygen, calcium, cisplatin, nitric oxide or ATP.",
    "Tissue": "tissue entities are tissues, collections of similar cells with a common function, such as "
    "epithelium, endothelium, stroma, connective tissue or bone marrow.",
}

BC5CDR_LABELS: dict[str, str] = {
    "Chemical": "chemical entities are names of chemicals and drugs, including generic and brand names, "
    "abbreviations and chemical classes, such as lithium, cisplatin, haloperidol, nicotine or corticosteroids.",
    "Disease": "disease entities are names of diseases, disorders, syndromes and symptoms, including adverse effects "
    "of drugs, such as hepatotoxicity, hypertension, seizures, pain, Parkinson's disease or renal failure.",
}

NCBI_DISEASE_LABELS: dict[str, str] = {
    "Disease": "disease entities are names of diseases and disorders, specific ones or whole classes, including "
    "inherited conditions, such as breast cancer, cystic fibrosis, Duchenne muscular dystrophy, hereditary "
    "nonpolyposis colorectal cancer or autosomal recessive disorders.",
}

#: MIT Movie labels (``labels.json``) whose SLIMER definition goes by another name (its ``real_name``).
MIT_MOVIE_DEFINITION_NAMES: dict[str, str] = {"average ratings": "ratings average"}


def read_slimer_definitions(path: Path) -> dict[str, str]:
    """SLIMER's GPT-written label definitions: name -> the "Definition" text, as given.

    Two layouts: Pile-NER's ``{name: entry}`` and the MIT corpora's ``[entry]``, whose name is the entry's
    ``real_name``. Each entry's ``gpt_answer`` is a string holding the JSON ``{"Definition", "Guidelines"}``; only the
    Definition is kept. A malformed entry raises :class:`CorpusFormatError` naming the entry.
    """
    value = load_json(path)
    if isinstance(value, dict):
        entries = [(f"entry {name!r}", name, entry) for name, entry in value.items()]
    elif isinstance(value, list):
        entries = [(f"entry {index}", None, entry) for index, entry in enumerate(value)]
    else:
        raise CorpusFormatError(path, 1, f"expected a JSON object or array of definitions, got {type(value).__name__}")
    definitions: dict[str, str] = {}
    for location, key, entry in entries:
        if not isinstance(entry, dict):
            raise CorpusFormatError(path, location, "a definition entry must be a JSON object")
        name = key if key is not None else entry.get("real_name")
        if not isinstance(name, str) or not name.strip():
            raise CorpusFormatError(path, location, "an entry of a definitions array needs 'real_name' (the label)")
        answer = entry.get("gpt_answer")
        try:
            definition = json.loads(answer)["Definition"] if isinstance(answer, str) else None
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise CorpusFormatError(path, location, f"'gpt_answer' is not JSON with a 'Definition': {error}") from error
        if not isinstance(definition, str) or not definition.strip():
            raise CorpusFormatError(path, location, "'gpt_answer' needs a non-empty 'Definition' string")
        if name in definitions:
            raise CorpusFormatError(path, location, f"a second definition of {name!r}")
        definitions[name] = definition.strip()
    return definitions


def slimer_definitions(labels: Iterable[str], path: Path, aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """label -> its SLIMER definition from ``path``, for each of ``labels`` (in their order).

    A label takes the definition of the same name, else of the name ``aliases`` gives it, else of the one name that
    equals it ignoring case (SLIMER writes ``restaurant name`` for MIT's ``Restaurant Name``). Definitions of other
    names are ignored; a label without a definition raises :class:`CorpusFormatError` (as a LEAR label map and
    annotation file that disagree do).
    """
    definitions = read_slimer_definitions(path)
    folded: dict[str, list[str]] = {}
    for name in definitions:
        folded.setdefault(name.casefold(), []).append(name)
    described, missing = {}, []
    for label in labels:
        name = (aliases or {}).get(label, label)
        if name not in definitions and len(folded.get(name.casefold(), [])) == 1:
            name = folded[name.casefold()][0]
        if name in definitions:
            described[label] = definitions[name]
        else:
            missing.append(label)
    if missing:
        raise CorpusFormatError(
            path, 1, f"no definition for {len(missing)} label(s) of the corpus: {', '.join(map(repr, missing))}"
        )
    return described


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
