"""docs/results.md, the user-facing results page, generated from the result files in bench/results/ (a test checks
that the committed page equals this module's output, so every figure there traces to a file).

    python -m bench.results_page            # print the page
    python -m bench.results_page --write    # write docs/results.md and the README's result tables
"""

from __future__ import annotations

import json
import sys

from bench import encoder_recipe_table, few_shot_table, generalisation_table, zero_shot_table
from bench.common import REPO_ROOT, RESULTS_DIR


SPEED_FILE = "many-labels-speed-minilm-mit-movie.json"
ONNX_FILE = "onnx-conll2003.json"
THROUGHPUT_FILE = "throughput-lear-tagger-minilm-2026-12-03.json"


def quality_table() -> str:
    """The supervised comparison, as the README shows it too (`README_BLOCKS`)."""
    return generalisation_table.comparison_table()


def quality_section() -> str:
    return "\n".join([
        "## Supervised span extraction: LEAR against a tagger and GLiNER",
        "",
        "Test F1 (exact character spans, every gold entity counted), mean ± std over the seeds listed, each model",
        "trained by `run_lear.py`'s default recipe (`bench.seed_rows`, tag `steps200`: lr 2e-4, batch 16, 3 epochs",
        "and at least 200 steps, the best validation epoch kept) on all-MiniLM-L6-v2 (English) or multilingual-e5-small",
        "(Chinese); the BIO tagger and GLiNER on the same encoder under the same recipe. \"unseen F1\": test mentions",
        "never seen in the training split. `python -m bench.generalisation_table` prints this and the ablations.",
        "",
        quality_table(),
    ])  # fmt: skip


#: The zero-shot rows shown: the documented model (with descriptions, and with names as GLiNER reads labels), the
#: same recipe trained on descriptions only, the equal-budget pair with GLiNER, and the two heads that explain the
#: choice (`mix4-holdout` is the same recipe as `mix4-make`, scored at an earlier commit).
ZERO_SHOT_TAGS = (
    "mix4-names50",
    "mix4-names50-names",
    "mix4-names50-rerun",
    "mix4-names50-rerun-names",
    "mix4-names50-name-description",
    "mix4-names50-both",
    "mix4-make",
    "mix4-make-names",
    "mix4-500steps",
    "mix4-500steps-names",
    "mix4-500steps-definitions",
    "mix4-description",
    "mix4-shared",
)


def zero_shot_rows() -> dict:
    rows = zero_shot_table.load_results()
    return {key: rows[key] for tag in ZERO_SHOT_TAGS for key in sorted(rows) if key[1] == tag}


def zero_shot_section() -> str:
    rows = zero_shot_rows()
    return "\n".join([
        "## Labels never seen in training (zero-shot)",
        "",
        "Test F1 (precision / recall) on corpora left out of training, each label given by its description (LEAR) or",
        "its name (GLiNER; LEAR's `-names` rows), the threshold chosen on the training mix's validation texts",
        "(docs/zero-shot.md). LEAR `mix4-names50` is the model `make zero-shot-model` trains (1,000 steps, each training",
        "label read by its name or its description at random), `mix4-make` the same recipe reading descriptions only;",
        "`mix4-names50-rerun` the same command run again (the other rows with that model read each label as \"name:",
        "description\" or twice, by name and by description); `mix4-500steps` rows are LEAR (descriptions only) and",
        "GLiNER trained the same 500 steps on the same texts (GLiNER's `-definitions` row: trained on names, reading the",
        "corpora's definitions).",
        "",
        zero_shot_table.summary_table(rows),
    ])  # fmt: skip


def few_shot_section() -> str:
    return "\n".join([
        "## Few-shot and full fine-tuning from the zero-shot model",
        "",
        "Test F1 under run_lear.py's defaults: LEAR fine-tuned from the multi-corpus model (the documented one, and the",
        "earlier one trained on descriptions only), LEAR from the encoder, the BIO tagger, GLiNER fine-tuned from its own",
        "multi-corpus model (all-MiniLM-L6-v2). \"untouched\": the share of unseen test mentions that no predicted span",
        "overlaps at all.",
        "",
        few_shot_table.few_shot_table(),
        "",
        "Zero-shot F1 on the other MIT corpus, before and after fine-tuning the descriptions-only multi-corpus model on",
        "one:",
        "",
        few_shot_table.zero_shot_kept(),
    ])  # fmt: skip


def encoder_recipe_section() -> str:
    return "\n".join([
        "## The default recipe on other encoders",
        "",
        "CoNLL-2003 5 % (702 sentences), test F1 under run_lear.py's defaults, whose encoder learning rate follows the",
        "encoder's size (2e-4 x min(1, 6 x 384 / (layers x width)); docs/training.md, \"Learning rate\"), against the",
        "other rates tried (`python -m bench.encoder_recipe_table`; result tags `<encoder>-default`, `<encoder>-lr<rate>`).",
        "",
        encoder_recipe_table.encoder_table(),
    ])  # fmt: skip


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def read_result(name: str) -> dict:
    return json.loads((RESULTS_DIR / name).read_text(encoding="utf-8"))


def speed_section() -> str:
    throughput, speed, onnx = read_result(THROUGHPUT_FILE), read_result(SPEED_FILE), read_result(ONNX_FILE)
    lines = [
        "## Speed",
        "",
        f"LEAR against the BIO tagger on all-MiniLM-L6-v2, batch {throughput['meta']['args']['batch_size']}, one thread "
        f"(`{THROUGHPUT_FILE}`): LEAR's",
        "inference speed as a share of the tagger's, and its training step's time over the tagger's.",
        "",
        *markdown_table(
            ["labels", "tokens", "inference speed / tagger's", "training step time / tagger's"],
            [
                [str(row["num_labels"]), str(row["length"]), f"{row['lear_vs_tagger_infer_speed']:.2f}x",
                 f"{row['lear_vs_tagger_train_time']:.2f}x"]
                for row in throughput["speed"]
            ],
        ),
        "",
        f"Many labels: texts per second through each model's prediction path, {speed['texts']} MIT movie queries, "
        f"batch {speed['batch_size']}, {speed['threads']} thread, all-MiniLM-L6-v2 (`{SPEED_FILE}`; label",
        "descriptions cached).",
        "",
        *markdown_table(
            ["labels", "LEAR texts/s", "GLiNER texts/s", "GLiNER time / LEAR's"],
            [
                [count, f"{row['lear_texts_per_second']:.1f}", f"{row['gliner_texts_per_second']:.1f}",
                 f"{row['gliner_time_over_lear']:.1f}x"]
                for count, row in speed["by_label_count"].items()
            ],
        ),
        "",
        f"ONNX Runtime against torch on the CPU, {onnx['threads']} thread, batch {onnx['batch_size']}, the `make demo`",
        f"model on CoNLL-2003 validation sentences (`{ONNX_FILE}`):",
        "",
        *markdown_table(
            ["backend", "sentences/s", "speed-up over torch", "validation F1 change (points)"],
            [
                [backend, f"{onnx['sentences_per_second'][backend]:.1f}", f"{onnx['speedup_vs_torch'][backend]:.2f}x",
                 f"{onnx['f1_change_vs_fp32_points'][backend]:+.2f}" if backend in onnx["f1_change_vs_fp32_points"]
                 else ""]
                for backend in onnx["backends"]
            ],
        ),
    ]  # fmt: skip
    return "\n".join(lines)


#: The README's generated blocks: `<!-- results: NAME -->` ... `<!-- /results -->`, each equal to its function's table
#: (tests/test_results_page.py).
README_BLOCKS = {
    "quality": quality_table,
    "zero-shot": lambda: zero_shot_table.summary_table(zero_shot_rows()),
}


def render() -> str:
    sections = [
        "# Results",
        "",
        "Generated by `python -m bench.results_page` from `bench/results/`; each table names the files or the",
        "command behind it. The history of how the defaults were reached is in `bench/benchmarks.md`.",
        "",
        quality_section(),
        "",
        zero_shot_section(),
        "",
        few_shot_section(),
        "",
        encoder_recipe_section(),
        "",
        speed_section(),
    ]
    return "\n".join(sections) + "\n"


def with_readme_blocks(readme: str) -> str:
    """`readme` with each `<!-- results: NAME -->` block replaced by its table now."""
    for name, table in README_BLOCKS.items():
        head = f"<!-- results: {name} -->\n"
        first = readme.index(head) + len(head)
        readme = readme[:first] + table() + readme[readme.index("\n<!-- /results -->", first) :]
    return readme


def main() -> None:
    """Print the page; `--write`: write docs/results.md and the README's result tables instead."""
    if sys.argv[1:] != ["--write"]:
        print(render(), end="")
        return
    (REPO_ROOT / "docs" / "results.md").write_text(render(), encoding="utf-8")
    readme = REPO_ROOT / "README.md"
    readme.write_text(with_readme_blocks(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()


__all__ = ["README_BLOCKS", "render"]
