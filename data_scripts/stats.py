"""Per-split statistics, the stdout summary and the dataset card (``README.md``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import yaml

from data_scripts.corpora import Corpus
from data_scripts.errors import IssueLog
from data_scripts.schema import FEATURES, LABELS_FILE, Record


@dataclass
class SplitStats:
    """Counts of one split (``overlapping``: see :func:`count_overlapping`)."""

    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    per_label: Counter[str] = field(default_factory=Counter)
    overlapping: int = 0
    longest: int = 0


def count_overlapping(entities: Iterable[Mapping[str, Any]]) -> int:
    """Number of the ``entities`` (``{start, end, label}`` dicts of one text) whose span overlaps a *different* span
    (nested, containing or crossing).  The same span under two labels is multi-labelling, not overlap (as
    SOURCES.md).  ``run_lear.py`` counts with it too, to refuse overlapping entities for a flat model.
    """
    multiplicity = Counter((e["start"], e["end"]) for e in entities)
    spans = sorted(multiplicity)
    marked = [False] * len(spans)
    for i, (_, end) in enumerate(spans):
        j = i + 1
        # Sorted by start: every later span starting before ``end`` overlaps span i.
        while j < len(spans) and spans[j][0] < end:
            marked[i] = marked[j] = True
            j += 1
    return sum(multiplicity[span] for span, overlaps in zip(spans, marked) if overlaps)


def split_stats(records: list[Record]) -> SplitStats:
    """Statistics of one split."""
    stats = SplitStats(sentences=len(records))
    for record in records:
        stats.tokens += len(record["tokens"])
        stats.entities += len(record["entities"])
        stats.per_label.update(entity["label"] for entity in record["entities"])
        stats.overlapping += count_overlapping(record["entities"])
        stats.longest = max(stats.longest, len(record["tokens"]))
    return stats


def corpus_stats(corpus: Corpus) -> dict[str, SplitStats]:
    """Statistics of every split of ``corpus``."""
    return {split: split_stats(records) for split, records in corpus.splits.items()}


def stats_table(stats: dict[str, SplitStats], labels: list[str]) -> str:
    """A Markdown table: one row per split, one column per count and per label."""
    header = ["split", "sentences", "tokens", "entities", "overlapping", "longest (tokens)", *labels]
    rows = [
        [split, s.sentences, s.tokens, s.entities, s.overlapping, s.longest] + [s.per_label[label] for label in labels]
        for split, s in stats.items()
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(f"{v:,}" if isinstance(v, int) else v for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_text(corpus: Corpus, stats: dict[str, SplitStats]) -> str:
    """The summary printed after a conversion."""
    lines = [f"{corpus.pretty_name}: {len(corpus.labels)} labels", stats_table(stats, list(corpus.labels))]
    repairs = [f"repaired {n} x {kind}" for kind, n in sorted(corpus.issues.repaired.items())]
    skips = [f"skipped {n} x {unit}" for unit, n in sorted(corpus.issues.skipped.items())]
    lines += repairs + skips
    return "\n".join(lines)


def _size_category(total: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if total < limit:
            return name
    return "100K<n<1M"


def card_metadata(corpus: Corpus, stats: dict[str, SplitStats], data_files: dict[str, list[str]]) -> dict:
    """The YAML header of the dataset card (Hub dataset-card metadata)."""
    splits = datasets.SplitDict()
    for split, s in stats.items():
        splits.add(datasets.SplitInfo(name=split, num_examples=s.sentences))
    info = datasets.DatasetInfo(features=FEATURES, splits=splits)._to_yaml_dict()
    for split_info in info["splits"]:
        # Sizes are not measured here; 0 would read as "empty".
        split_info.pop("num_bytes", None)
    nested = any(s.overlapping for s in stats.values())
    return {
        "pretty_name": corpus.pretty_name,
        "language": [corpus.language],
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition"],
        "tags": ["ner", "lear"] + (["nested-ner"] if nested else []),
        "size_categories": [_size_category(sum(s.sentences for s in stats.values()))],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": split, "path": paths} for split, paths in data_files.items()],
            }
        ],
        "dataset_info": info,
    }


def issues_section(issues: IssueLog) -> str:
    """Markdown of what was repaired or skipped (counts, then the first messages)."""
    if issues.empty:
        return "None: every sentence and entity of the source was converted as is."
    lines = [f"- repaired {n} x {kind}" for kind, n in sorted(issues.repaired.items())]
    lines += [f"- skipped {n} x {unit}" for unit, n in sorted(issues.skipped.items())]
    lines += ["", f"First {len(issues.examples)} messages:", "", "```", *issues.examples, "```"]
    return "\n".join(lines)


def render_card(corpus: Corpus, stats: dict[str, SplitStats], data_files: dict[str, list[str]]) -> str:
    """The dataset card: YAML header, schema, labels, statistics, sources and repairs/skips."""
    header = yaml.safe_dump(card_metadata(corpus, stats, data_files), sort_keys=False, allow_unicode=True)
    label_lines = [f"| {i} | `{label}` | {text} |" for i, (label, text) in enumerate(corpus.labels.items())]
    parts = [
        f"---\n{header}---",
        f"# {corpus.pretty_name}",
        f"Converted with `python -m data_scripts.convert {corpus.name}` into the `lear` schema.",
        "## Schema\n"
        "- `id`: string, `<split>-<n>` (n = position in the source split)\n"
        "- `text`: the sentence text (English: tokens joined by one space; Chinese: no spaces)\n"
        "- `tokens`: the corpus's units (words for English, characters for Chinese)\n"
        "- `entities`: list of `{start, end, label}`, character offsets into `text`, end exclusive; "
        "boundaries fall on token boundaries; entities may nest or overlap\n\n"
        "Load with `datasets.load_from_disk(PATH)` or `data_scripts.schema.load_converted(PATH)`.",
        f"## Labels\nIn label-id order (also in `{LABELS_FILE}`):\n\n| id | label | description |\n|---|---|---|\n"
        + "\n".join(label_lines),
        "## Statistics\n`overlapping` counts entities whose span shares a character with a "
        "different entity span of the same sentence (nested, containing or crossing).\n\n"
        + stats_table(stats, list(corpus.labels)),
        "## Source\n"
        + "\n".join(f"- `{source}`" for source in corpus.sources)
        + "".join(f"\n- {note}" for note in corpus.notes),
        "## Repaired and skipped input\n" + issues_section(corpus.issues),
    ]
    return "\n\n".join(parts) + "\n"
