# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Training on several converted corpora at once, each with its own label set (`run_lear.py --dataset_dir A B C`).

A mix is what teaches LEAR label knowledge in general rather than one corpus's labels: hundreds of label types, each
given by its description, so that a label never seen in training can be found from its description alone
(docs/zero-shot.md). The rules, in one place:

- Labels are the union of the corpora's `labels.json`, in the order given. A name two corpora share with the same
  description is one label; with different descriptions, the later corpus's label is renamed `NAME (FOLDER)` (and
  its entities with it), since its annotators meant something else by it.
- Each row gets a `label_set` column: the index of its corpus. A text is a negative only for its own corpus's labels
  (`LearDataCollator` marks another corpus's labels -100 on it; evaluation scores each text on its corpus's labels).
- Labels held out of training (`hold_out`, run_lear's `--hold_out_labels`): a share of the labels of every corpus
  with at least `HOLD_OUT_MIN_LABELS` labels, chosen by a hash of the name (the same labels on every machine and
  seed). Their entities are removed from the training texts and they are never sampled as negatives, but the
  validation texts keep them: the decoding threshold of a label the model never saw
  (`LearConfig.unseen_label_threshold`) is calibrated on them, so a zero-shot model gets its threshold from the
  training mix, never from a target corpus.
- `--max_train_samples N` / `--max_eval_samples` / `--max_predict_samples` keep at most N texts **of each corpus**,
  drawn at random with a fixed seed (0), so that a large corpus is sub-sampled and every seed of a run sees the
  same data. Within the mix, batches are drawn at random from all corpora together (the Trainer's sampler).
"""

from __future__ import annotations

import json
import logging
import random
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import datasets


logger = logging.getLogger(__name__)

LABEL_SET_COLUMN = "label_set"
HOLD_OUT_MIN_LABELS = 50  # corpora with fewer labels keep them all (a one-label corpus cannot lose its label)
SUBSAMPLE_SEED = 0  # fixed: every training seed of a mix sees the same texts
RENAMED_SUFFIX = re.compile(r" \([^()]*\)$")  # the " (FOLDER)" of a label renamed in a mix (merge_labels)


@dataclass
class CorpusMix:
    """The mixed splits (with `label_set`), every label with its description, each corpus's label ids (what its
    validation and test texts are scored on), those its training texts are scored on (without the held-out labels),
    and the held-out label ids."""

    splits: datasets.DatasetDict
    labels: dict[str, str]
    label_sets: list[list[int]]
    corpus_names: list[str]
    train_label_sets: list[list[int]]
    held_out: list[int]


def read_label_file(path: str, option: str = "--label_descriptions") -> dict[str, str]:
    """A JSON object {label: description}, in id order (a corpus's labels.json, --label_descriptions, lear-predict's
    --label-file); a `ValueError` naming `option` and the file otherwise."""
    try:
        labels = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{option} {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{option} {path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(labels, dict) or not labels or not all(isinstance(v, str) and v.strip() for v in labels.values()):
        raise ValueError(f'{option} {path} must hold a JSON object {{"LABEL": "description", ...}}, none empty')
    return labels


def load_converted_corpus(
    dataset_dir: Path, with_labels: bool = True
) -> tuple[datasets.DatasetDict, dict[str, str] | None]:
    """A corpus converted by data_scripts: its `DatasetDict` and, with `with_labels`, its labels.json (None when the
    folder has none)."""
    try:
        corpus = datasets.load_from_disk(str(dataset_dir))
    except FileNotFoundError as error:
        raise ValueError(f"--dataset_dir {dataset_dir} is not a dataset saved with save_to_disk: {error}") from error
    if not isinstance(corpus, datasets.DatasetDict):
        raise ValueError(f"--dataset_dir {dataset_dir} holds a single Dataset, not a DatasetDict of splits")
    labels_file = dataset_dir / "labels.json"
    labels = read_label_file(str(labels_file), "--dataset_dir's") if with_labels and labels_file.is_file() else None
    return corpus, labels


def merge_labels(corpus_labels: list[tuple[str, dict[str, str]]]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The union of the corpora's labels, and per corpus the renaming of its labels into it (see the module doc)."""
    merged: dict[str, str] = {}
    renamings = []
    for corpus, labels in corpus_labels:
        renaming = {}
        for name, description in labels.items():
            merged_name = name
            if name in merged and merged[name] != description:
                merged_name = f"{name} ({corpus})"
                logger.warning(
                    f"Label {name!r} of {corpus} has another description than an earlier corpus's: "
                    f"it is {merged_name!r} in the mix"
                )
            merged.setdefault(merged_name, description)
            renaming[name] = merged_name
        renamings.append(renaming)
    return merged, renamings


def label_name_text(label: str) -> str:
    """A label's name as text to read: spaces for underscores, without the " (FOLDER)" a mix adds to a renamed one."""
    return RENAMED_SUFFIX.sub("", label).replace("_", " ")


def held_out_labels(names: list[str], share: float) -> set[str]:
    """About `share` of `names`, chosen by a hash of each name (stable across machines, runs and label orders)."""
    if share <= 0 or len(names) < HOLD_OUT_MIN_LABELS:
        return set()
    return {name for name in names if zlib.crc32(name.encode("utf-8")) % 1000 < share * 1000}


def load_corpus_mix(dataset_dirs: list[str], hold_out: float = 0.0) -> CorpusMix:
    """Read converted corpora (`save_to_disk` folders with labels.json) into one `DatasetDict` of mixed splits,
    holding `hold_out` of the labels of many-label corpora out of training (see the module doc)."""
    corpora, corpus_labels = [], []
    for dataset_dir in map(Path, dataset_dirs):
        corpus, labels = load_converted_corpus(dataset_dir)
        if labels is None:
            raise ValueError(f"--dataset_dir {dataset_dir}: a corpus in a mix needs its labels.json")
        corpora.append(corpus)
        corpus_labels.append((dataset_dir.name, labels))
    labels, renamings = merge_labels(corpus_labels)
    label_ids = {name: index for index, name in enumerate(labels)}
    label_sets = [sorted(label_ids[name] for name in renaming.values()) for renaming in renamings]
    names_by_id = list(labels)
    held = set().union(*(held_out_labels(list(renaming.values()), hold_out) for renaming in renamings))
    train_label_sets = [[label for label in label_set if names_by_id[label] not in held] for label_set in label_sets]

    names = [name for name, _ in corpus_labels]
    mixed: dict[str, list[datasets.Dataset]] = {}
    for index, (corpus, renaming) in enumerate(zip(corpora, renamings)):
        for split, dataset in corpus.items():
            if any(old != new for old, new in renaming.items()):
                dataset = dataset.map(
                    rename_entities, fn_kwargs={"renaming": renaming}, desc=f"Renaming {names[index]}'s labels"
                )
            if split == "train" and held:
                dataset = dataset.map(
                    drop_entities, fn_kwargs={"labels": held}, desc=f"Holding labels of {names[index]} out"
                )
            column = [index] * len(dataset)
            mixed.setdefault(split, []).append(dataset.add_column(LABEL_SET_COLUMN, column))
    splits = datasets.DatasetDict({split: datasets.concatenate_datasets(parts) for split, parts in mixed.items()})
    for split, dataset in splits.items():
        counts = ", ".join(f"{name} {count}" for name, count in zip(names, texts_per_label_set(dataset, len(names))))
        logger.info(f"Mix {split}: {len(dataset)} texts ({counts}); {len(labels)} labels")
    if held:
        logger.info(f"Held out of training, to calibrate the threshold of unseen labels: {sorted(held)}")
    held_ids = sorted(label_ids[name] for name in held)
    return CorpusMix(splits, labels, label_sets, names, train_label_sets, held_ids)


def rename_entities(row: dict, renaming: dict[str, str]) -> dict:
    return {
        "entities": [{**entity, "label": renaming.get(entity["label"], entity["label"])} for entity in row["entities"]]
    }


def drop_entities(row: dict, labels: set[str]) -> dict:
    return {"entities": [entity for entity in row["entities"] if entity["label"] not in labels]}


def texts_per_label_set(dataset: datasets.Dataset, num_sets: int) -> list[int]:
    counts = [0] * num_sets
    for label_set in dataset[LABEL_SET_COLUMN]:
        counts[label_set] += 1
    return counts


def sample_per_corpus(dataset: datasets.Dataset, limit: int) -> datasets.Dataset:
    """At most `limit` texts of each corpus of a mixed split, drawn at random with `SUBSAMPLE_SEED`, in their order."""
    by_set: dict[int, list[int]] = {}
    for row, label_set in enumerate(dataset[LABEL_SET_COLUMN]):
        by_set.setdefault(label_set, []).append(row)
    rng = random.Random(SUBSAMPLE_SEED)
    kept = []
    for rows in by_set.values():
        kept.extend(sorted(rng.sample(rows, limit)) if len(rows) > limit else rows)
    return dataset.select(sorted(kept))


__all__ = [
    "LABEL_SET_COLUMN",
    "CorpusMix",
    "load_converted_corpus",
    "load_corpus_mix",
    "read_label_file",
    "sample_per_corpus",
]
