"""What the generalisation work added: scores on mentions seen / unseen in training, settings removed after their
experiments, and threshold policies chosen on one split and applied to another."""

from __future__ import annotations

import inspect
import json

import pytest
import torch
from huggingface_hub.errors import StrictDataclassError
from toy_batches import predicted_char_spans, toy_batch, training_targets

import run_lear
from bench import seed_rows
from bench.threshold_policies import (
    DecodedSplits,
    chosen_thresholds,
    dataset_mentions,
    scores_by_policy,
    small_dev_scores,
)
from lear import LearConfig
from lear.evaluation import DEFAULT_CALIBRATION_POLICY, choose_thresholds, predictions_at
from lear.metrics import mention_key, seen_unseen_scores, span_scores, training_mentions
from lear.trainer import LearTrainer
from lear.training import optimizer_param_groups
from lear.windowing import CharSpan


# -- seen / unseen ------------------------------------------------------------------------------------------------


def test_mentions_are_matched_lower_cased_with_whitespace_collapsed():
    assert mention_key("New  York\n") == mention_key("new york") == "new york"
    seen = training_mentions(["Bob met ALICE"], [[{"start": 8, "end": 13, "label": "PER"}]])
    assert seen == {"alice"}


def test_seen_unseen_scores_split_gold_by_surface_and_predictions_by_the_same_rule():
    texts = ["Alice met Zed in Paris", "Bob saw Yann"]
    gold = [[(0, 5, "PER"), (10, 13, "PER"), (17, 22, "LOC")], [(0, 3, "PER"), (8, 12, "PER")]]
    predicted = [
        [(0, 5, "PER"), (10, 13, "LOC"), (17, 22, "LOC")],  # Zed found with the wrong label
        [(0, 7, "PER"), (8, 12, "PER")],  # "Bob saw" is an unseen false positive
    ]
    seen = {"alice", "paris", "bob"}
    scores = seen_unseen_scores(texts, gold, predicted, seen)
    assert scores["n_gold_seen"] == 3 and scores["n_gold_unseen"] == 2
    assert scores["unseen_share"] == pytest.approx(2 / 5)
    assert scores["recall_seen"] == pytest.approx(2 / 3)  # Bob missed (predicted as "Bob saw")
    assert scores["recall_unseen"] == pytest.approx(1 / 2)  # Yann found, Zed not
    # unseen predictions: Zed/LOC (wrong), "Bob saw" (wrong), Yann (right)
    assert scores["precision_unseen"] == pytest.approx(1 / 3)
    assert scores["f1_unseen"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert scores["precision_seen"] == 1.0
    # Bob is overlapped by "Bob saw" and Zed by Zed/LOC: no gold mention went unnoticed, although two were missed
    assert scores["untouched_seen"] == scores["untouched_unseen"] == 0.0
    # the two groups add up to the overall recall
    overall = span_scores(gold, predicted)
    assert overall["n_correct"] == round(scores["recall_seen"] * 3 + scores["recall_unseen"] * 2)


def test_untouched_share_counts_the_gold_mentions_no_prediction_overlaps():
    texts = ["Zed and Yann met Ann"]
    gold = [[(0, 3, "PER"), (8, 12, "PER"), (17, 20, "PER")]]
    predicted = [[(9, 16, "LOC")]]  # overlaps Yann only (wrong label and boundaries)
    scores = seen_unseen_scores(texts, gold, predicted, seen_mentions={"ann"})
    assert scores["untouched_unseen"] == pytest.approx(1 / 2)  # Zed untouched, Yann touched
    assert scores["untouched_seen"] == 1.0  # Ann: nothing predicted there
    assert scores["recall_unseen"] == 0.0


def test_seen_unseen_scores_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="texts"):
        seen_unseen_scores(["a"], [[]], [[], []], set())


def test_seed_rows_reads_the_generalisation_split_from_a_runs_predictions(tmp_path):
    import datasets

    train = datasets.Dataset.from_list(
        [
            {
                "text": "Alice is here",
                "tokens": ["Alice", "is", "here"],
                "entities": [{"start": 0, "end": 5, "label": "PER"}],
            }
        ]
    )
    dataset_dir = tmp_path / "corpus"
    datasets.DatasetDict({"train": train}).save_to_disk(str(dataset_dir))
    record = {
        "text": "Alice and Zoe",
        "gold": [{"start": 0, "end": 5, "label": "PER"}, {"start": 10, "end": 13, "label": "PER"}],
        "predicted": [{"start": 0, "end": 5, "label": "PER", "score": 0.9}],
    }
    (tmp_path / "predictions.jsonl").write_text(json.dumps(record) + "\n")
    scores = seed_rows.generalisation_scores(tmp_path, dataset_mentions(str(dataset_dir)))
    assert scores["unseen_share"] == 0.5
    assert scores["test_recall_seen"] == 1.0 and scores["test_recall_unseen"] == 0.0 and scores["test_f1_unseen"] == 0.0


def test_make_demo_prints_the_split_against_the_training_sentences_it_used(tmp_path, monkeypatch, capsys):
    import importlib.util

    import datasets

    spec = importlib.util.spec_from_file_location("demo", seed_rows.REPO_ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    rows = [("Alice is here", 0, 5), ("Zoe is here", 0, 3)]
    train = datasets.Dataset.from_list(
        [{"text": t, "tokens": t.split(), "entities": [{"start": s, "end": e, "label": "PER"}]} for t, s, e in rows]
    )
    datasets.DatasetDict({"train": train}).save_to_disk(str(tmp_path / "corpus"))
    record = {
        "text": "Alice and Zoe",
        "gold": [{"start": 0, "end": 5, "label": "PER"}, {"start": 10, "end": 13, "label": "PER"}],
        "predicted": [{"start": 10, "end": 13, "label": "PER", "score": 0.9}],
    }
    (tmp_path / "predictions.jsonl").write_text(json.dumps(record) + "\n")
    monkeypatch.setattr(demo, "OUTPUT_DIR", tmp_path)
    demo.print_seen_unseen(tmp_path / "corpus", train_samples=1)  # the demo trained on "Alice is here" only
    lines = capsys.readouterr().out.splitlines()
    assert "unseen in those 1 training sentences: 50%" in lines[0]
    assert lines[1].split() == ["seen", "0.0000", "0.0000", "0.0000", "1"]  # Alice missed
    assert lines[2].split() == ["unseen", "1.0000", "1.0000", "1.0000", "1"]  # Zoe found


def test_the_comparison_table_says_where_lear_meets_the_tagger_under_the_default_recipe():
    from bench.generalisation_table import RECIPE_TAG, comparison_table

    def run(seed, f1, unseen):
        return {"seed": seed, "test_f1": f1, "test_f1_unseen": unseen, "unseen_share": 0.5}

    rows = {
        ("a", 1.0, "lear", RECIPE_TAG): [run(0, 0.70, 0.50), run(1, 0.72, 0.52)],
        ("a", 1.0, "tagger", RECIPE_TAG): [run(0, 0.69, 0.55), run(1, 0.70, 0.56)],
        ("a", 1.0, "gliner", RECIPE_TAG): [run(0, 0.40, 0.30)],
        ("a", 1.0, "lear", "softmax"): [run(0, 0.99, 0.99)],  # an ablation: not the default recipe, not compared
        ("b", 0.05, "lear", RECIPE_TAG): [run(0, 0.60, 0.40)],
    }
    header, _, a, b, c = comparison_table(rows | default_policy_rows()).splitlines()
    assert a.split(" | ")[1:] == [
        "100",
        "2 / 2 / 1",
        "71.0 ± 1.4",
        "69.5 ± 0.7",
        "40.0",
        "51.0 ± 1.4",
        "55.5 ± 0.7",
        "30.0",
        "yes, no |",
    ]
    assert b.endswith("| no tagger run |") and "| 5 |" in b
    # LEAR at the default policy, as its runs recorded it; † where a run's unseen F1 is only known as it was calibrated
    assert c.split(" | ")[3:] == ["80.0", "60.0", "", "50.0 †", "55.0", "", "yes, no |"]


def test_a_seed_run_under_both_default_recipe_tags_counts_once_with_the_newest():
    from bench.generalisation_table import default_recipe_runs

    rows = {
        ("a", 1.0, "lear", "steps200"): [{"seed": 0, "test_f1": 0.1}, {"seed": 1, "test_f1": 0.2}],
        ("a", 1.0, "lear", "global"): [{"seed": 0, "test_f1": 0.3}],
        ("a", 1.0, "lear", "shared"): [{"seed": 2, "test_f1": 0.9}],  # an ablation
    }
    assert [r["test_f1"] for r in default_recipe_runs(rows, "a", 1.0, "lear")] == [0.3, 0.2]


def default_policy_rows() -> dict:
    from bench.generalisation_table import RECIPE_TAG

    calibrated_otherwise = {"seed": 0, "test_f1": 0.5, "test_f1_unseen": 0.5, "unseen_share": 0.5}
    calibrated_otherwise["label_thresholds"] = {"A": 0.1, "B": 0.5}
    calibrated_otherwise["threshold_policies"] = {
        "global": {"test_f1": 0.8, "thresholds": {"A": 0.3, "B": 0.3}},
        "per_label": {"test_f1": 0.5, "thresholds": {"A": 0.1, "B": 0.5}},
    }
    tagger = {"seed": 0, "test_f1": 0.6, "test_f1_unseen": 0.55, "unseen_share": 0.5}
    return {("c", 1.0, "lear", RECIPE_TAG): [calibrated_otherwise], ("c", 1.0, "tagger", RECIPE_TAG): [tagger]}


def test_a_run_whose_thresholds_are_the_defaults_needs_no_fallback_mark():
    from bench.generalisation_table import at_default_policy

    one_label = {"test_f1_unseen": 0.4, "label_thresholds": {"EVENT": 0.3}}
    one_label["threshold_policies"] = {"global": {"thresholds": {"EVENT": 0.3}, "test_f1": 0.6}}
    assert at_default_policy(one_label, "test_f1_unseen") == (0.4, False)
    one_label["label_thresholds"] = {"EVENT": 0.1}
    assert at_default_policy(one_label, "test_f1_unseen") == (0.4, True)
    assert at_default_policy({"test_f1_unseen": 0.2}, "test_f1_unseen") == (0.2, False)  # a baseline


# -- removed settings; the description head ---------------------------------------------------------------------------


def test_a_removed_setting_loads_at_its_former_default_and_is_refused_otherwise():
    assert not hasattr(LearConfig(id2label={0: "A"}, boundary_activation="sigmoid"), "boundary_activation")
    with pytest.raises(ValueError, match=r"boundary_activation='softmax' was an experiment, removed after lear 0\.1"):
        LearConfig(id2label={0: "A"}, boundary_activation="softmax")
    with pytest.raises(ValueError, match=r"fusion_type='cosine' was an experiment"):
        LearConfig(id2label={0: "A"}, fusion_type="cosine")
    assert (
        LearConfig(id2label={0: "A"}, fusion_type="attention", boundary_pos_weight=1.0)
        .to_dict()
        .keys()
        .isdisjoint({"fusion_type", "boundary_pos_weight"})
    )
    for removed_value in ("tied", "shared"):  # the shared classifier was measured and removed
        with pytest.raises(StrictDataclassError, match=r"boundary_classifier.*\('per_label', 'description'\)"):
            LearConfig(id2label={0: "A"}, boundary_classifier=removed_value)


@pytest.mark.parametrize("settings", [{"boundary_classifier": "description"}], ids=["description"])
def test_variants_overfit_the_toy_sentences(make_tiny_model, toy_tokenizer, settings):
    model = make_tiny_model(initializer_range=0.2, **settings)
    batch = toy_batch(toy_tokenizer)
    targets = training_targets(batch, nested=False)
    optimizer = torch.optim.AdamW(optimizer_param_groups(model, 1e-3, task_layer_lr=5.0, weight_decay=0.01))
    predicted = None
    for step in range(1, 401):
        model.train()
        loss = model(**batch.inputs, **targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            predicted = predicted_char_spans(model, batch)
            if predicted == batch.gold:
                break
    assert predicted == batch.gold, f"not overfitted after 400 steps (last loss {loss.item():.4f})"


@pytest.mark.parametrize("settings", [{"boundary_classifier": "description"}])
def test_variants_round_trip_through_save_and_load(make_tiny_model, toy_tokenizer, tmp_path, settings):
    from lear import LearForSpanExtraction

    model = make_tiny_model(**settings).eval()
    model.save_pretrained(tmp_path)
    loaded = LearForSpanExtraction.from_pretrained(tmp_path).eval()
    inputs = toy_tokenizer(["Alice lives in Paris"], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(model(**inputs).start_logits, loaded(**inputs).start_logits, atol=1e-6)
    assert all(getattr(loaded.config, key) == value for key, value in settings.items())


# -- threshold policies ----------------------------------------------------------------------------------------------


def spans(*items) -> list[CharSpan]:
    return [CharSpan(start, end, label, 0.5) for start, end, label in items]


# one text; label 0's gold is (0, 1) and label 1's gold is (4, 5) and (6, 7)
GOLD = [[(0, 1, 0), (4, 5, 1), (6, 7, 1)]]
TABLE = {
    0.5: [spans((0, 1, 0))],  # high threshold: label 0 right, label 1 silent
    0.1: [spans((0, 1, 0), (2, 3, 0), (4, 5, 1), (6, 7, 1))],  # low: label 0 adds a false span, label 1 complete
}


def test_per_label_thresholds_take_each_labels_best_and_global_the_best_micro_f1():
    assert choose_thresholds(TABLE, GOLD, ["A", "B"], "per_label") == [0.5, 0.1]
    assert choose_thresholds(TABLE, GOLD, ["A", "B"], "global") == [0.1, 0.1]  # micro F1 6/7 against 1/2
    with pytest.raises(ValueError, match="policy"):
        choose_thresholds(TABLE, GOLD, ["A", "B"], "median")


def test_the_default_policy_is_one_threshold_for_all_labels_everywhere_it_is_used():
    # the function default, the Trainer's and run_lear.py's --calibration_policy all read one constant
    assert DEFAULT_CALIBRATION_POLICY == "global"
    assert choose_thresholds(TABLE, GOLD, ["A", "B"]) == [0.1, 0.1]
    assert inspect.signature(LearTrainer.calibrate_thresholds).parameters["policy"].default == "global"
    assert run_lear.ModelArguments.__dataclass_fields__["calibration_policy"].default == "global"


def decoded(dev, dev_gold, test, test_gold, test_texts) -> DecodedSplits:
    return DecodedSplits(["A", "B"], None, dev, dev_gold, test, test_gold, test_texts)


def test_each_policy_is_scored_on_test_mentions_seen_and_unseen_in_training():
    # test text "ab cd ef": label A's (0, 2) "ab" was seen in training; label B's "cd" and "ef" were not
    splits = decoded(TABLE, GOLD, TABLE, GOLD, ["ab cd ef"])
    splits.test = {0.5: [spans((0, 2, 0))], 0.1: [spans((0, 2, 0), (3, 5, 1), (6, 8, 1))]}
    splits.test_gold = [[(0, 2, 0), (3, 5, 1), (6, 8, 1)]]
    scores = scores_by_policy(splits, seen_mentions={"ab"})
    assert scores["per_label"]["thresholds"] == {"A": 0.5, "B": 0.1}
    assert scores["0.5"]["test_recall_seen"] == 1.0 and scores["0.5"]["test_recall_unseen"] == 0.0
    assert scores["global"]["test_f1_unseen"] == 1.0 and scores["global"]["test_f1"] == 1.0
    assert "test_f1_unseen" not in scores_by_policy(splits)["global"]


def test_small_dev_parts_keep_each_texts_predictions_with_its_own_gold():
    # 10 dev texts, each with its own gold span, found exactly at 0.5 and with a false extra span at 0.1: a part of
    # the split whose predictions were shuffled against its gold would choose 0.1 or score nothing
    dev_gold = [[(index, index + 1, 0)] for index in range(10)]
    dev = {0.5: [spans(gold[0]) for gold in dev_gold], 0.1: [spans(gold[0], (20, 21, 0)) for gold in dev_gold]}
    splits = decoded(dev, dev_gold, dev, dev_gold, ["x" * 30] * 10)
    result = small_dev_scores(splits, dev_texts=3, draws=5)
    assert set(result) == {"0.5", "per_label", "global", "per_label_1se", "global_1se"}
    for scores in result.values():
        assert scores["test_f1"] == [1.0] * 5 and scores["test_f1_std"] == 0.0
    with pytest.raises(ValueError, match="dev_texts"):
        small_dev_scores(splits, dev_texts=10, draws=1)


def test_one_standard_error_rule_keeps_0_5_on_a_flat_curve_and_moves_on_a_clear_gain():
    # 40 texts. Label 0: 30 of 40 mentions found at 0.5, 31 below it (a gain of one mention, well within the
    # bootstrap's noise); label 1: nothing found above 0.1, every mention at 0.1 (a gain no resample undoes).
    gold = [[(0, 1, 0), (4, 5, 1)] for _ in range(40)]
    found_at_half = [spans((0, 1, 0)) if index < 30 else [] for index in range(40)]
    found_below = [spans((0, 1, 0)) if index < 31 else [] for index in range(40)]
    table = {
        0.5: found_at_half,
        0.3: found_below,
        0.1: [found + spans((4, 5, 1)) for found in found_below],
    }
    chosen = chosen_thresholds(["A", "B"], table, gold)
    assert chosen["per_label"] == [0.3, 0.1]
    assert chosen["per_label_1se"] == [0.5, 0.1]
    # anchored at the global choice (0.1: label B is found nowhere else) label A's flat curve stays there too
    assert chosen["global"] == [0.1, 0.1]
    assert chosen["global_1se"] == [0.1, 0.1]


def test_global_1se_lets_a_label_leave_the_shared_threshold_only_on_a_clear_gain():
    # 40 texts: label A (one mention each) is perfect at 0.5 and doubles its spans with false ones at 0.1; label B
    # (10 mentions) is found only at 0.1. Micro F1 picks 0.5 for all; B's gain at 0.1 is far beyond the noise.
    gold = [[(0, 1, 0)] + ([(4, 5, 1)] if index < 10 else []) for index in range(40)]
    table = {
        0.5: [spans((0, 1, 0)) for _ in range(40)],
        0.1: [spans((0, 1, 0), (2, 3, 0)) + (spans((4, 5, 1)) if index < 10 else []) for index in range(40)],
    }
    chosen = chosen_thresholds(["A", "B"], table, gold)
    assert chosen["global"] == [0.5, 0.5]
    assert chosen["global_1se"] == [0.5, 0.1]


def test_predictions_at_assembles_each_labels_spans_from_its_threshold():
    assert predictions_at(TABLE, [0.5, 0.1]) == [spans((0, 1, 0), (4, 5, 1), (6, 7, 1))]
    assert span_scores(GOLD, predictions_at(TABLE, [0.5, 0.1]))["f1"] == 1.0


# -- the span head on flat corpora -----------------------------------------------------------------------------------


def test_drop_overlapping_spans_keeps_the_most_probable_spans_that_share_no_token():
    from lear.decoding_lear import Span, drop_overlapping_spans

    spans = [Span(0, 2, 0, 0.9), Span(1, 1, 1, 0.95), Span(3, 4, 0, 0.5), Span(2, 3, 1, 0.6), Span(6, 6, 0, 0.1)]
    assert drop_overlapping_spans(spans) == [Span(1, 1, 1, 0.95), Span(2, 3, 1, 0.6), Span(6, 6, 0, 0.1)]


def test_a_span_head_without_overlaps_decodes_flat_spans(make_tiny_model, toy_tokenizer):
    overlapping = make_tiny_model(nested=True, seed=3).eval()
    flat = make_tiny_model(nested=True, seed=3, allow_overlaps=False).eval()
    with torch.no_grad():
        for model in (overlapping, flat):
            for layer in model._labelwise_layers():
                layer.bias.add_(3.0)  # a random model that fires everywhere: many overlapping candidates
    inputs = toy_tokenizer(
        ["Bob works for Acme in Berlin", "Dave met Erin at Oxford"], return_tensors="pt", padding=True
    )
    with torch.no_grad():
        nested_spans = overlapping.decode(overlapping(**inputs))
        flat_spans = flat.decode(flat(**inputs))
    assert any(a.start <= b.end and b.start <= a.end for spans in nested_spans for a in spans for b in spans if a != b)
    for spans, candidates in zip(flat_spans, nested_spans):
        assert set(spans) <= set(candidates) and spans
        assert all(a.end < b.start for a, b in zip(spans, spans[1:]))  # sorted and disjoint


def test_the_policy_table_weighs_each_corpus_once_and_skips_ablations():
    from bench.generalisation_table import RECIPE_TAG, policy_by_corpus_table

    def run(seed, half, per_label, global_):
        policies = {"0.5": half, "per_label": per_label, "global": global_}
        return {"seed": seed, "threshold_policies": {name: {"test_f1": f1} for name, f1 in policies.items()}}

    rows = {
        ("a", 1.0, "lear", RECIPE_TAG): [run(0, 0.5, 0.6, 0.7), run(1, 0.5, 0.8, 0.7)],  # per_label 0.70, global 0.70
        ("b", 0.05, "lear", RECIPE_TAG): [run(0, 0.4, 0.4, 0.5)],
        ("b", 0.05, "lear", "softmax"): [run(0, 0.0, 0.0, 0.0)],  # an ablation: not the default recipe
        ("b", 0.05, "tagger", RECIPE_TAG): [{"seed": 0, "test_f1": 0.9}],
    }
    rows[("b", 0.05, "lear", RECIPE_TAG)][0]["threshold_policies"]["global_1se"] = {"test_f1": 0.55}
    lines = policy_by_corpus_table(rows).splitlines()
    assert len(lines) == 5
    assert lines[2].split(" | ")[1:] == ["100", "2", "50.00", "70.00", "70.00", "", " |"]
    assert lines[3].split(" | ")[1:] == ["5", "1", "40.00", "40.00", "50.00", "", "55.00 |"]
    # the mean weighs each setting once, and leaves out a policy that a setting lacks
    assert lines[4].split(" | ")[3:] == ["**45.00**", "**55.00**", "**60.00**", "", " |"]


def test_the_small_dev_table_reads_each_saved_runs_draws_and_its_whole_split(tmp_path, monkeypatch):
    from bench import generalisation_table

    policies = ("0.5", "per_label", "global", "per_label_1se", "global_1se")
    result = {
        "policies": {policy: {"test_f1": 0.7} for policy in policies},
        "small_dev": {"100": {policy: {"test_f1_mean": 0.6, "test_f1_std": 0.01} for policy in policies}},
        "dev_texts": 500,
    }
    (tmp_path / "thresholds-run.json").write_text(json.dumps(result))
    (tmp_path / "thresholds-old.json").write_text(json.dumps({"policies": result["policies"]}))  # no draws: left out
    monkeypatch.setattr(generalisation_table, "RESULTS_DIR", tmp_path)
    lines = generalisation_table.small_dev_table().splitlines()
    assert lines[2].split(" | ")[:3] == ["| run", "100", "60.00 ± 1.00"]
    assert lines[3].split(" | ")[:3] == ["| run", "all 500", "70.00"]
    assert lines[4].split(" | ")[:3] == ["| **mean of 1 runs**", "100", "**60.00**"]
    assert len(lines) == 6


def test_the_paired_table_compares_each_policy_with_the_default_on_the_same_models(tmp_path, monkeypatch):
    from bench import generalisation_table

    def run(seed, per_label):
        policies = {"global": {"test_f1": 0.70}, "per_label": {"test_f1": per_label}}
        return {"seed": seed, "threshold_policies": policies}

    rows = {("a", 1.0, "lear", "global"): [run(0, 0.72), run(1, 0.70), run(2, 0.65)]}
    draws = {policy: {"test_f1_mean": 0.5, "test_f1_std": 0.0} for policy in generalisation_table.SETTING_POLICIES}
    draws["per_label_1se"]["test_f1_mean"] = 0.51
    (tmp_path / "thresholds-a.json").write_text(json.dumps({"policies": {}, "small_dev": {"100": draws}}))
    monkeypatch.setattr(generalisation_table, "RESULTS_DIR", tmp_path)
    lines = generalisation_table.paired_policy_table(rows).splitlines()[2:]
    assert "| per_label | all | 3 | -1.00 | 1 / 1 / 1 |" in lines  # +2, 0, -5 points
    assert "| per_label_1se | 100 | 1 | +1.00 | 1 / 0 / 0 |" in lines
    assert not any(line.startswith("| global |") for line in lines)
