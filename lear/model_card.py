# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Model card of a trained LEAR model: the Trainer's stock card plus what is specific to LEAR, the label
descriptions the model reads and its text-level scores."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .configuration_lear import LearConfig


CARD_MARKER = "<!-- lear: labels and text-level scores -->"


def lear_card_section(config: LearConfig, results: Mapping[str, Mapping[str, float]]) -> str:
    """Markdown: the labels with their descriptions, the text-level scores per split, and a usage snippet.

    Args:
        config: the trained model's config (labels, descriptions, fusion, nested, decoding).
        results: split name (e.g. "validation", "test") -> metrics without prefix (`f1`, `LOC_f1`, ...), as
            returned by `lear.metrics.span_scores`.
    """
    lines = [
        CARD_MARKER,
        "## LEAR",
        "",
        f"LEAR span extractor ({config.fusion_type} fusion, {'nested' if config.nested else 'flat'}, decoding "
        f"`{'nested' if config.nested else config.decode_strategy}`) on a "
        f"`{config.encoder_config.model_type}` encoder. Each label is read from its description:",
        "",
        "| id | label | description |",
        "|---|---|---|",
    ]
    descriptions = config.label_descriptions or [""] * config.num_labels
    for index, (name, description) in enumerate(zip(config.label_names, descriptions)):
        lines.append(f"| {index} | {name} | {description.replace('|', '/')} |")
    if results:
        lines += [
            "",
            "### Scores",
            "",
            "Micro precision/recall/F1 over exact (character start, character end, label) matches on whole texts "
            "(long texts are windowed and merged back; every gold entity counts).",
            "",
            "| split | precision | recall | F1 | gold entities |",
            "|---|---|---|---|---|",
        ]
        for split, scores in results.items():
            lines.append(
                f"| {split} | {scores['precision']:.4f} | {scores['recall']:.4f} | {scores['f1']:.4f} | "
                f"{int(scores['n_gold'])} |"
            )
        for split, scores in results.items():
            lines += [
                "",
                f"Per label ({split}):",
                "",
                "| label | precision | recall | F1 | gold |",
                "|---|---|---|---|---|",
            ]
            for name in config.label_names:
                if f"{name}_f1" in scores:
                    lines.append(
                        f"| {name} | {scores[f'{name}_precision']:.4f} | {scores[f'{name}_recall']:.4f} | "
                        f"{scores[f'{name}_f1']:.4f} | {int(scores[f'{name}_n_gold'])} |"
                    )
    lines += [
        "",
        "### Usage",
        "",
        "```python",
        "from transformers import AutoModel, AutoTokenizer",
        "",
        'model = AutoModel.from_pretrained("path/to/this/model", trust_remote_code=True)  # or `import lear` first',
        'tokenizer = AutoTokenizer.from_pretrained("path/to/this/model")',
        'outputs = model(**tokenizer(["Some text"], return_tensors="pt"))',
        "spans = model.decode(outputs)  # token spans (start, end, label id, score)",
        "```",
        "",
    ]
    return "\n".join(lines)


def append_lear_section(card_path: str | Path, config: LearConfig, results: Mapping[str, Mapping[str, float]]) -> None:
    """Add (or replace) the LEAR section at the end of an existing model card."""
    path = Path(card_path)
    card = path.read_text(encoding="utf-8") if path.exists() else ""
    card = card.split(CARD_MARKER)[0].rstrip() + "\n\n"
    path.write_text(card + lear_card_section(config, results), encoding="utf-8")


__all__ = ["lear_card_section", "append_lear_section"]
