"""bench.encoder_recipe_table: rows by encoder, learning rate and model from result files, and the verdict."""

from __future__ import annotations

import json

from bench.encoder_recipe_table import encoder_table, row_key


def write(results_dir, name: str, f1: float, encoder: str = "all-mpnet-base-v2") -> None:
    corpus, model, part, seed, tag = name.split("|")
    result = {"corpus": corpus, "model": model, "seed": int(seed), "tag": tag, "test_f1": f1,
              "recipe": {"encoder_name": encoder}}  # fmt: skip
    (results_dir / f"{corpus}-{model}-{part}-seed{seed}-{tag}.json").write_text(json.dumps(result))


def test_tags_name_the_encoder_and_rate_and_other_experiments_are_left_out():
    assert row_key("mpnet-lr2e-5") == ("mpnet", "2e-5")
    assert row_key("me5-default") == ("me5", "default")
    assert row_key("steps200") == ("minilm", "default") == row_key("minilm-default")
    assert row_key("from-mix") is None and row_key(None) is None


def test_the_table_averages_seeds_and_says_whether_the_default_is_within_one_f1(tmp_path):
    for seed, f1 in enumerate((0.80, 0.82, 0.81)):
        write(tmp_path, f"conll2003|lear|0.05|{seed}|mpnet-default", f1)
    write(tmp_path, "conll2003|lear|0.05|0|mpnet-lr2e-5", 0.805)
    write(tmp_path, "conll2003|lear|0.05|0|mpnet-lr2e-4", 0.05)  # collapsed
    write(tmp_path, "conll2003|tagger|0.05|0|mpnet-default", 0.75)
    write(tmp_path, "conll2003|lear|0.05|0|steps200", 0.9, encoder="multilingual-e5-small")  # not MiniLM: left out
    table = encoder_table("conll2003", "0.05", tmp_path)
    assert "| all-mpnet-base-v2 (12 x 768) | **5e-05 (default)** | lear | 0,1,2 | 81.0 ± 1.0 | 80.0 |" in table
    assert "| all-mpnet-base-v2 (12 x 768) | 2e-5 | lear | 0 | 80.5 | 80.5 |" in table
    assert "all-MiniLM" not in table
    assert (
        "- all-mpnet-base-v2: seeds 0: default 80.0, best 80.5 (lr 2e-5); within 1 F1 of the best (0.5 behind)" in table
    )
    assert "collapsed: seeds 0" in table
    write(tmp_path, "conll2003|lear|0.05|0|mpnet-lr1e-4", 0.83)
    assert "3.0 F1 behind" in encoder_table("conll2003", "0.05", tmp_path)
    for seed, f1 in ((1, 0.825), (2, 0.815)):  # with more seeds the pair is compared on all it shares
        write(tmp_path, f"conll2003|lear|0.05|{seed}|mpnet-lr1e-4", f1)
    assert "seeds 0,1,2: default 81.0, best 82.3 (lr 1e-4); 1.3 F1 behind" in encoder_table(
        "conll2003", "0.05", tmp_path
    )
