"""Labels given by their description: the description-driven classifiers, label subsets per batch, training on a mix
of corpora with different label sets (`lear.corpus_mix`), and the zero-shot benchmark's scoring path."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import datasets
import pytest
import torch
from conftest import TOY_LABELS, TOY_SENTENCES
from test_run_lear import common_arguments, run_lear, save_corpus, toy_rows
from transformers import pipeline

import lear.modeling_lear as modeling_lear
from bench import zero_shot
from data_scripts.schema import FEATURES
from lear import evaluation, tokenize_label_descriptions
from lear.corpus_mix import LABEL_SET_COLUMN, held_out_labels, label_name_text, load_corpus_mix, sample_per_corpus
from lear.decoding_lear import columns_thresholds
from lear.evaluation import THRESHOLD_CANDIDATES, EvaluationSplit, predict_text_spans
from lear.training import LearDataCollator, LearFeatureBuilder
from lear.windowing import CharSpan


NEW_LABELS = {"TEAM": "names of sports teams and clubs", "CITY": "names of cities", "DRUG": "names of medicines"}


def toy_inputs(tokenizer):
    return tokenizer([text for text, _ in TOY_SENTENCES[:4]], padding=True, return_tensors="pt")


# ---------------------------------------------------------------------------------------------------------------------
# The model: label subsets and labels given by a description
# ---------------------------------------------------------------------------------------------------------------------


def test_description_classifiers_have_no_label_rows_and_score_any_description(make_tiny_model, toy_tokenizer):
    model = make_tiny_model(boundary_classifier="description", initializer_range=0.2)
    head = model.span_head.start_classifier
    assert head.weight is None and head.generator.shape == (33, 32)  # [in_features + bias, hidden]
    assert not head.generator.any()  # starts as one shared classifier; training moves it
    new_ids = tokenize_label_descriptions(toy_tokenizer, list(NEW_LABELS.values()))
    states = model.compute_label_states(label_input_ids=new_ids)
    assert states.label_ids is None and states.pooled.shape == (3, 32)
    outputs = model(**toy_inputs(toy_tokenizer), label_states=states)
    assert outputs.start_logits.shape[-1] == 3  # three labels the model was never built with
    # the generator is trained through each label's description: a loss on the new labels reaches it
    start = torch.zeros_like(outputs.start_logits)
    start[0, 1, 0] = 1
    loss = model(**toy_inputs(toy_tokenizer), start_labels=start, end_labels=start, label_states=states).loss
    loss.backward()
    assert head.generator.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ["per_label", "description"])
def test_a_label_subset_scores_the_same_as_those_columns_of_all_labels(make_tiny_model, toy_tokenizer, kind):
    model = make_tiny_model(boundary_classifier=kind, initializer_range=0.2).eval()
    inputs = toy_inputs(toy_tokenizer)
    with torch.no_grad():
        everything = model(**inputs).start_logits
        subset = model(**inputs, label_ids=torch.tensor([2, 0])).start_logits
    torch.testing.assert_close(subset, everything[..., [2, 0]], rtol=1e-5, atol=1e-5)


def test_a_label_the_model_has_no_row_for_gets_the_mean_row(make_tiny_model, toy_tokenizer):
    model = make_tiny_model(initializer_range=0.2).eval()
    new_ids = tokenize_label_descriptions(toy_tokenizer, ["names of teams"])
    states = model.compute_label_states(label_input_ids=new_ids)
    assert states.label_ids.tolist() == [-1]
    weight, bias = model.span_head.start_classifier.weights_and_biases(states)
    torch.testing.assert_close(weight[0], model.span_head.start_classifier.weight.mean(0))
    torch.testing.assert_close(bias[0], model.span_head.start_classifier.bias.mean())


def test_many_labels_at_inference_are_fused_a_chunk_at_a_time_with_the_same_logits(
    make_tiny_model, toy_tokenizer, monkeypatch
):
    model = make_tiny_model(boundary_classifier="description", initializer_range=0.2).eval()
    inputs = toy_inputs(toy_tokenizer)
    with torch.no_grad():
        whole = model(**inputs)
        calls = []
        fusion = model.fusion.forward
        model.fusion.forward = lambda text, labels: calls.append(len(labels)) or fusion(text, labels)
        monkeypatch.setattr(modeling_lear, "LABEL_CHUNK", 2)
        chunked = model(**inputs)
    assert calls == [2, 1]
    torch.testing.assert_close(chunked.start_logits, whole.start_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(chunked.end_logits, whole.end_logits, rtol=1e-5, atol=1e-5)


def test_an_unknown_label_decodes_at_the_median_calibrated_threshold():
    assert columns_thresholds([0.2, 0.3, 0.9], None) == [0.2, 0.3, 0.9]
    assert columns_thresholds([0.2, 0.3, 0.9], [2, -1, 0]) == [0.9, 0.3, 0.2]


# ---------------------------------------------------------------------------------------------------------------------
# Batches of a mix: label sets and sampled labels
# ---------------------------------------------------------------------------------------------------------------------


def mix_features(tokenizer, label_sets: list[int]) -> list[dict]:
    """Window rows of the first toy sentences, each tagged with a corpus (`label_set`)."""
    builder = LearFeatureBuilder(tokenizer, {name: i for i, name in enumerate(TOY_LABELS)}, 24, 8)
    rows = datasets.Dataset.from_list(toy_rows(len(label_sets), "train"), features=FEATURES)
    features = [dict(row) for row in rows.map(builder, batched=True, with_indices=True,
                                               remove_columns=rows.column_names, features=builder.features)]  # fmt: skip
    for feature, label_set in zip(features, label_sets):
        feature[LABEL_SET_COLUMN] = label_set
    return features


def test_another_corpus_labels_are_no_negatives_for_a_text(toy_tokenizer):
    # corpus 0 annotates LOC and PER, corpus 1 only ORG (ids: LOC 0, ORG 1, PER 2)
    features = mix_features(toy_tokenizer, [0, 1, 0, 1])
    collator = LearDataCollator(toy_tokenizer, 3, label_sets=[[0, 2], [1]], max_labels_per_batch=3)
    batch = collator(features)
    assert batch["label_ids"].tolist() == [0, 1, 2]
    valid = batch["start_labels"] != -100  # [B, L, C]
    for row, label_set in enumerate([0, 1, 0, 1]):
        own = {0: [0, 2], 1: [1]}[label_set]
        for column in range(3):
            assert valid[row, :, column].any() == (column in own)
    # "Bob works for Acme in Berlin" (row 1, corpus 1): its ORG is a positive, its PER and LOC are not negatives
    assert batch["start_labels"][1, :, 1].max() == 1


def test_each_batch_scores_its_positives_and_sampled_negatives_of_its_corpora(toy_tokenizer):
    features = mix_features(toy_tokenizer, [0, 0])  # "Alice lives in Paris" (PER, LOC), "Bob works ..." (+ ORG)
    collator = LearDataCollator(toy_tokenizer, 3, label_sets=[[0, 1, 2]], max_labels_per_batch=2)
    for seed in range(5):
        torch.manual_seed(seed)
        batch = collator(features)
        assert len(batch["label_ids"]) == 2 and batch["start_labels"].shape[-1] == 2
        assert set(batch["label_ids"].tolist()) <= {0, 1, 2}
    collator = LearDataCollator(toy_tokenizer, 3, label_sets=[[0, 1, 2]], max_labels_per_batch=3)
    first = [features[0]]  # PER and LOC positives, ORG the one negative
    assert collator(first)["label_ids"].tolist() == [0, 1, 2]
    # one corpus with more labels than a batch scores: sampled too, without label_sets
    assert len(LearDataCollator(toy_tokenizer, 3, max_labels_per_batch=2)(features)["label_ids"]) == 2
    assert "label_ids" not in LearDataCollator(toy_tokenizer, 3, max_labels_per_batch=50)(features)


def test_a_training_batch_reads_labels_by_name_or_description_at_the_given_rate(toy_tokenizer):
    features = mix_features(toy_tokenizer, [0, 0])
    descriptions = tokenize_label_descriptions(toy_tokenizer, ["a place on the map", "a company", "a person"])
    names = tokenize_label_descriptions(toy_tokenizer, ["loc", "org", "per"])

    def collator(probability):
        return LearDataCollator(toy_tokenizer, 3, label_input_ids=descriptions, label_name_input_ids=names,
                                label_name_probability=probability, label_sets=[[0, 1, 2]], max_labels_per_batch=2)  # fmt: skip

    def read(batch) -> list[list[int]]:
        return [ids[mask.bool()].tolist() for ids, mask in zip(batch["label_input_ids"], batch["label_attention_mask"])]

    batch = collator(1.0)(features)
    assert read(batch) == [names[label] for label in batch["label_ids"].tolist()]
    batch = collator(0.0)(features)
    assert "label_input_ids" not in batch  # the model reads its own descriptions
    random.seed(0)
    choices = [read(collator(0.5)(features[:1]))[0] for _ in range(200)]
    assert 60 < sum(choice in names for choice in choices) < 140
    # evaluation (given label ids) always reads the descriptions
    assert "label_input_ids" not in collator(1.0)(features, label_ids=[0, 1, 2])
    with pytest.raises(ValueError, match="label_name_input_ids"):
        LearDataCollator(toy_tokenizer, 3, label_name_probability=0.5)


def test_forward_reads_the_label_texts_a_batch_carries(make_tiny_model, toy_tokenizer):
    model = make_tiny_model(boundary_classifier="description", initializer_range=0.2).eval()
    texts = tokenize_label_descriptions(toy_tokenizer, ["loc", "a company with many staff"])
    input_ids, attention_mask = modeling_lear.pad_label_texts(texts, toy_tokenizer.pad_token_id)
    label_ids = torch.tensor([0, 1])
    with torch.no_grad():
        carried = model(**toy_inputs(toy_tokenizer), label_ids=label_ids, label_input_ids=input_ids,
                        label_attention_mask=attention_mask).start_logits  # fmt: skip
        expected_states = model.compute_label_states(label_ids, texts)
        expected = model(**toy_inputs(toy_tokenizer), label_states=expected_states).start_logits
        own = model(**toy_inputs(toy_tokenizer), label_ids=label_ids).start_logits
    torch.testing.assert_close(carried, expected)
    assert not torch.allclose(carried, own)
    with pytest.raises(ValueError, match="label_attention_mask"):
        model(**toy_inputs(toy_tokenizer), label_ids=label_ids, label_input_ids=input_ids)


def test_a_label_name_reads_without_underscores_or_the_mix_renaming():
    assert label_name_text("WORK_OF_ART") == "WORK OF ART"
    assert label_name_text("Disease (ncbi_disease)") == "Disease"
    assert label_name_text("medical condition") == "medical condition"


# ---------------------------------------------------------------------------------------------------------------------
# Corpus mixes on disk, their evaluation, and run_lear on one
# ---------------------------------------------------------------------------------------------------------------------


def rows_with_labels(count: int, prefix: str, keep: set[str]) -> list[dict]:
    rows = toy_rows(count, prefix)
    for row in rows:
        row["entities"] = [entity for entity in row["entities"] if entity["label"] in keep]
    return rows


@pytest.fixture(scope="module")
def two_corpora(tmp_path_factory) -> list[str]:
    """Corpus "people_places" annotates PER and LOC; corpus "orgs" ORG, and a LOC with another description."""
    first = save_corpus(
        tmp_path_factory.mktemp("people_places"),
        {split: rows_with_labels(24, split, {"PER", "LOC"}) for split in ("train", "validation", "test")},
        {"LOC": TOY_LABELS["LOC"], "PER": TOY_LABELS["PER"]},
    )
    second = save_corpus(
        tmp_path_factory.mktemp("orgs"),
        {split: rows_with_labels(16, split, {"ORG", "LOC"}) for split in ("train", "validation", "test")},
        {"LOC": "bodies of water", "ORG": TOY_LABELS["ORG"]},
    )
    return [str(first), str(second)]


def test_a_mix_unites_label_sets_and_renames_a_label_meant_otherwise(two_corpora):
    mix = load_corpus_mix(two_corpora)
    second_name = mix.corpus_names[1]
    assert list(mix.labels) == ["LOC", "PER", f"LOC ({second_name})", "ORG"]
    assert mix.labels[f"LOC ({second_name})"] == "bodies of water"
    assert mix.label_sets == [[0, 1], [2, 3]]
    train = mix.splits["train"]
    assert len(train) == 40 and train[LABEL_SET_COLUMN] == [0] * 24 + [1] * 16
    renamed = {entity["label"] for row in train.select(range(24, 40)) for entity in row["entities"]}
    assert renamed == {f"LOC ({second_name})", "ORG"}
    sampled = sample_per_corpus(train, 10)
    assert sampled[LABEL_SET_COLUMN] == [0] * 10 + [1] * 10
    assert sample_per_corpus(train, 10)["id"] == sampled["id"]  # the same texts every time


def test_evaluation_scores_each_text_on_its_own_corpus_labels(two_corpora, toy_tokenizer, make_tiny_model):
    mix = load_corpus_mix(two_corpora)
    model = make_tiny_model(labels=mix.labels, start_threshold=0.45, end_threshold=0.45).eval()
    builder = LearFeatureBuilder(toy_tokenizer, {name: i for i, name in enumerate(mix.labels)}, 24, 8)
    split = EvaluationSplit.from_examples(mix.splits["validation"], builder)
    split.label_sets, split.text_label_sets = mix.label_sets, list(mix.splits["validation"][LABEL_SET_COLUMN])
    collator = LearDataCollator(toy_tokenizer, 4)
    predicted = predict_text_spans(model, split, collator, 4).by_threshold[None]
    assert any(predicted)
    for text, spans in enumerate(predicted):
        assert {span.label for span in spans} <= set(mix.label_sets[split.text_label_sets[text]])
    # the same spans as scoring each corpus on its labels alone
    split.label_sets, split.text_label_sets = None, None
    everything = predict_text_spans(model, split, collator, 4).by_threshold[None]
    for text, spans in enumerate(everything):
        own = set(mix.label_sets[mix.splits["validation"][text][LABEL_SET_COLUMN]])
        expected = [tuple(span[:3]) for span in spans if span.label in own]
        assert [tuple(span[:3]) for span in predicted[text]] == expected


def test_run_lear_trains_on_a_mix_and_the_model_scores_a_label_given_by_its_description(
    tiny_encoder_dir, two_corpora, tmp_path, toy_tokenizer
):
    output_dir = tmp_path / "mix"
    metrics = run_lear.main(
        ["--model_name_or_path", str(tiny_encoder_dir), "--dataset_dir", *two_corpora,
         "--config_overrides", "boundary_classifier=description", "--max_labels_per_batch", "3",
         "--label_name_probability", "0.5", "--max_train_samples", "12", "--max_steps", "6", "--min_train_steps", "0", "--eval_strategy", "no",
         "--do_train", "--do_eval", "--do_predict", *common_arguments(output_dir)]
    )  # fmt: skip
    assert metrics["eval"]["eval_n_gold"] > 0 and "predict_f1" in metrics["predict"]
    config = json.loads((output_dir / "config.json").read_text())
    assert len(config["id2label"]) == 4 and config["boundary_classifier"] == "description"
    assert len(set(config["label_thresholds"])) == 1  # one threshold, calibrated on the mix's validation texts
    second = datasets.load_from_disk(two_corpora[1])["test"]
    mix = load_corpus_mix(two_corpora)
    second_labels = {name for index, name in enumerate(mix.labels) if index in mix.label_sets[1]}
    records = [json.loads(line) for line in (output_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 24 + 16
    assert any(record["predicted"] for record in records)
    for record in records[24:]:  # a text of the second corpus is scored on its labels only
        assert {span["label"] for span in record["predicted"]} <= second_labels
    assert records[24]["text"] == second[0]["text"]

    extractor = pipeline("span-extraction", model=str(output_dir))
    before = extractor.model.config.to_dict()
    found = extractor("Bob works for Acme in Berlin", labels=NEW_LABELS, threshold=0.05)
    assert {entity["entity_group"] for entity in found} <= set(NEW_LABELS)
    assert extractor.model.config.to_dict() == before


def test_the_zero_shot_benchmark_scores_a_corpus_with_labels_the_model_never_saw(
    two_corpora, toy_tokenizer, tmp_path, make_tiny_model
):
    model = make_tiny_model(labels={"PER": TOY_LABELS["PER"]}, boundary_classifier="description")
    model.config.label_thresholds = [0.45]
    model.save_pretrained(tmp_path / "model")
    toy_tokenizer.save_pretrained(tmp_path / "model")
    zero_shot.main(["--model", str(tmp_path / "model"), "--corpus", f"orgs={two_corpora[1]}", "--tag", "t",
                    "--output_dir", str(tmp_path / "results"), "--batch_size", "4"])  # fmt: skip
    result = json.loads((tmp_path / "results" / "zeroshot-orgs-lear-t.json").read_text())
    assert result["labels_not_in_training"] == ["LOC", "ORG"] and result["threshold"] == [0.45]
    assert set(result["per_label_f1"]) == {"LOC", "ORG"} and result["predict_n_gold"] > 0
    assert result["metrics"]["n_predicted"] > 0  # a random model at 0.45 predicts: the path decoded something
    assert result["command"].startswith("python -m bench.zero_shot")


def test_reading_each_label_by_name_and_description_averages_the_two_readings(make_tiny_model, toy_tokenizer):
    model = make_tiny_model(boundary_classifier="description", initializer_range=0.2).eval()
    inputs = toy_inputs(toy_tokenizer)
    names = tokenize_label_descriptions(toy_tokenizer, ["person", "place", "organisation"])
    with torch.no_grad():
        by_description = model(**inputs).start_logits
        by_name = model(**inputs, label_states=model.compute_label_states(label_input_ids=names)).start_logits
        both = zero_shot.TwoReadings(model, names)
        averaged = both(both.compute_label_states(), **inputs).start_logits
        same_text = zero_shot.TwoReadings(model, model.config.label_input_ids)
        unchanged = same_text(same_text.compute_label_states(), **inputs).start_logits
        subset = both(both.compute_label_states([2, 0]), **inputs).start_logits
    assert not torch.allclose(by_name, by_description)
    torch.testing.assert_close(averaged, (by_description + by_name) / 2)
    torch.testing.assert_close(unchanged, by_description)
    torch.testing.assert_close(subset, averaged[..., [2, 0]], rtol=1e-5, atol=1e-5)


def test_the_zero_shot_benchmark_reads_labels_both_ways(two_corpora, toy_tokenizer, tmp_path, make_tiny_model):
    model = make_tiny_model(labels={"PER": TOY_LABELS["PER"]}, boundary_classifier="description")
    model.config.label_thresholds = [0.45]
    model.save_pretrained(tmp_path / "model")
    toy_tokenizer.save_pretrained(tmp_path / "model")
    zero_shot.main(["--model", str(tmp_path / "model"), "--corpus", f"orgs={two_corpora[1]}", "--tag", "t",
                    "--output_dir", str(tmp_path / "results"), "--batch_size", "4", "--label_text", "both"])  # fmt: skip
    result = json.loads((tmp_path / "results" / "zeroshot-orgs-lear-t.json").read_text())
    assert result["label_text"] == "both" and set(result["per_label_f1"]) == {"LOC", "ORG"}
    assert result["predict_n_gold"] > 0


# ---------------------------------------------------------------------------------------------------------------------
# Labels held out of training calibrate the threshold of unseen labels
# ---------------------------------------------------------------------------------------------------------------------

MANY_LABELS = {f"kind {index}": f"things of kind number {index}" for index in range(60)}


@pytest.fixture(scope="module")
def many_label_corpus(tmp_path_factory) -> str:
    """60 labels (a corpus large enough to hold labels out), each toy entity given one of them in turn."""

    def rows(count: int, prefix: str) -> list[dict]:
        made = toy_rows(count, prefix)
        for number, row in enumerate(made):
            for k, entity in enumerate(row["entities"]):
                entity["label"] = f"kind {(number * 3 + k) % 60}"
        return made

    splits = {split: rows(40, split) for split in ("train", "validation", "test")}
    return str(save_corpus(tmp_path_factory.mktemp("many"), splits, MANY_LABELS))


def test_labels_held_out_of_training_stay_in_validation(many_label_corpus, two_corpora):
    mix = load_corpus_mix([many_label_corpus, two_corpora[0]], hold_out=0.1)
    names = list(mix.labels)
    held = {names[label] for label in mix.held_out}
    assert held == held_out_labels(list(MANY_LABELS), 0.1) and 2 <= len(held) <= 12  # a share of the 60, by hash
    assert not held & {"LOC", "PER"}  # a corpus with few labels keeps them all
    train_labels = {entity["label"] for row in mix.splits["train"] for entity in row["entities"]}
    validation_labels = {entity["label"] for row in mix.splits["validation"] for entity in row["entities"]}
    assert not held & train_labels and held & validation_labels
    assert not set(mix.held_out) & set(mix.train_label_sets[0]) and set(mix.held_out) <= set(mix.label_sets[0])
    assert mix.train_label_sets[1] == mix.label_sets[1]
    assert load_corpus_mix([many_label_corpus], hold_out=0.0).held_out == []


def test_the_threshold_of_unseen_labels_is_calibrated_on_the_held_out_ones(monkeypatch, make_tiny_model):
    model = make_tiny_model(labels={"A": "a", "B": "b", "C": "c"})
    gold = [[(0, 3, 0), (5, 8, 2)]] * 4
    found = {0: CharSpan(0, 3, 0, 0.9), 2: CharSpan(5, 8, 2, 0.9)}
    # label 0 (trained) is found from 0.5 down; label 2 (held out) only at 0.05 and 0.1
    table = {t: [[found[0]] + ([found[2]] if t <= 0.1 else []) for _ in gold] for t in THRESHOLD_CANDIDATES}
    monkeypatch.setattr(evaluation, "predictions_by_threshold", lambda *args, **kwargs: table)
    split = SimpleNamespace(gold=gold)
    thresholds = evaluation.calibrate_label_thresholds(model, split, None, 4, held_out=[2])
    assert model.config.unseen_label_threshold == 0.1  # the highest of the equally good candidates
    assert thresholds == {"A": 0.5, "B": 0.5, "C": 0.1}
    assert columns_thresholds(model.config.label_thresholds, [-1, 0], model.config.unseen_label_threshold) == [0.1, 0.5]


def test_the_zero_shot_table_is_read_from_the_result_files(tmp_path):
    from bench import zero_shot_table

    def write(corpus: str, model: str, tag: str, f1: float) -> None:
        result = {"model": model, "corpus": corpus, "threshold": [0.1], "predict_f1": f1, "predict_precision": f1,
                  "predict_recall": f1, "per_label_f1": {"x": f1}, "metrics": {"x_n_gold": 3}}  # fmt: skip
        (tmp_path / f"zeroshot-{corpus}-{model}-{tag}.json").write_text(json.dumps(result))

    for corpus, f1 in zip(zero_shot_table.CORPORA, (0.1, 0.2, 0.3)):
        write(corpus, "lear", "a-b", f1)
    write("mit_movie", "gliner", "a-b", 0.5)
    rows = zero_shot_table.load_results(tmp_path)
    assert set(rows) == {("lear", "a-b"), ("gliner", "a-b")}
    table = zero_shot_table.summary_table(rows)
    assert "| lear | a-b | [0.1] | 10.0 (10.0 / 10.0) | 20.0 (20.0 / 20.0) | 30.0 (30.0 / 30.0) | 20.0 |" in table
    assert "| gliner | a-b | [0.1] | 50.0 (50.0 / 50.0) | – | – | – |" in table
    assert "| x | 3 | 10.0 | 50.0 |" in zero_shot_table.per_label_table(rows, "mit_movie")


def test_bench_reads_a_label_by_description_name_or_both():
    from bench.zero_shot import label_texts

    descriptions = {"release_year": "the year a film came out"}
    assert label_texts(descriptions, "description") == descriptions
    assert label_texts(descriptions, "name") == {"release_year": "release year"}
    assert label_texts(descriptions, "name_description") == {"release_year": "release year: the year a film came out"}
