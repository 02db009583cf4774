"""The few-shot table is built from the result files: the recipe's default rows, seeds averaged, the abstention
share shown where the runs measured it."""

from __future__ import annotations

import json

from bench.few_shot_table import few_shot_table, zero_shot_kept


def write(folder, name: str, **fields) -> None:
    (folder / f"{name}.json").write_text(json.dumps(fields))


def row(seed: int, f1: float, **extra) -> dict:
    return {"seed": seed, "test_f1": f1, "test_f1_unseen": f1 / 2, "unseen_share": 0.5, **extra}


def test_rows_average_the_seeds_and_prefer_the_current_defaults(tmp_path):
    write(tmp_path, "mit_movie-lear-first100-seed0-from-names50", **row(0, 0.6, test_untouched_unseen=0.1))
    write(tmp_path, "mit_movie-lear-first100-seed1-from-names50", **row(1, 0.8, test_untouched_unseen=0.3))
    write(tmp_path, "conll2003-lear-0.01-seed0-steps200", **row(0, 0.7))
    write(tmp_path, "conll2003-lear-0.01-seed0", **row(0, 0.1))  # an older recipe's row: not the default
    table = few_shot_table(tmp_path).splitlines()
    assert "| MIT movie, first 100 sentences | LEAR from the multi-corpus model (`make zero-shot-model`) | 0,1 | " \
           "70.0 ± 14.1 | 35.0 ± 7.1 | 20.0 ± 14.1 | 50.0 ± 0.0 |" in table  # fmt: skip
    assert "| CoNLL-2003, 1 % (140 sentences) | LEAR from the encoder | 0 | 70.0 | 35.0 | – | 50.0 |" in table
    assert len(table) == 4  # header, rule, two rows: systems without results are left out


def test_zero_shot_kept_pairs_a_fine_tuned_model_with_the_multi_corpus_one(tmp_path):
    write(tmp_path, "zeroshot-mit_restaurant-lear-mix4-make", corpus="mit_restaurant", predict_f1=0.125)
    write(tmp_path, "zeroshot-mit_restaurant-lear-after-mit_movie-first100-seed0", corpus="mit_restaurant",
          predict_f1=0.05)  # fmt: skip
    assert zero_shot_kept(tmp_path).splitlines()[-1] == "| mit_movie-first100-seed0 | mit_restaurant | 12.5 | 5.0 |"
