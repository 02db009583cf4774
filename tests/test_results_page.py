"""docs/results.md is what `bench.results_page` generates from bench/results/: every figure there traces to a file,
and a new result file or a changed table shows up as a difference here until the page is generated again."""

from __future__ import annotations

from conftest import REPO_ROOT

from bench import results_page


def test_the_results_page_is_generated_from_the_result_files():
    page = (REPO_ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert page == results_page.render(), "run `python -m bench.results_page --write`"


def test_the_page_holds_each_section_with_a_table():
    page = results_page.render()
    for title in ("## Supervised span extraction", "## Labels never seen in training", "## Few-shot", "## Speed"):
        section = page.split(title, 1)[1].split("\n## ", 1)[0]
        assert "\n|---|" in section, title


def test_the_readmes_tables_equal_the_generated_ones():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert results_page.with_readme_blocks(readme) == readme, "run `python -m bench.results_page --write`"
    for name, table in results_page.README_BLOCKS.items():
        block = readme.split(f"<!-- results: {name} -->\n", 1)[1].split("\n<!-- /results -->", 1)[0]
        assert block == table(), f"README's {name} table differs from bench.results_page's"
