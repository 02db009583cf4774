"""The "span-extraction" pipeline: registration and remote code, input forms, offsets (property-based), long texts
and window edges, batching and the label states, edge inputs, label options."""

from __future__ import annotations

import itertools
import json
import os
import re
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import pytest
import torch
from conftest import TOY_LABELS, TOY_SENTENCES, build_tiny_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy_batches import toy_batch
from transformers import Trainer, TrainingArguments, pipeline

from lear import LearForSpanExtraction, SpanExtractionPipeline
from lear.configuration_lear import REMOTE_TASK, custom_pipelines_config
from lear.training import optimizer_param_groups
from lear.windowing import encode_windows


ENTITY_KEYS = {"entity_group", "score", "word", "start", "end"}
FILLERS = ["the", "river", "is", "long", "nothing", "to", "see", "here", "and", "are", "cities", "met", "at"]


# ---------------------------------------------------------------------------------------------------------------------
# Models and pipelines
# ---------------------------------------------------------------------------------------------------------------------


def build_model(tokenizer, seed: int = 0, boundary_bias: float = 0.0, **config_kwargs) -> LearForSpanExtraction:
    """A tiny random LEAR model over the toy tokenizer. `boundary_bias` shifts the start/end (and span) classifier
    biases, so that a random model fires often enough for spans to come out at middling thresholds."""
    model = build_tiny_model(tokenizer, seed=seed, **config_kwargs).eval()
    with torch.no_grad():
        for layer in model._labelwise_layers():
            (layer.shared_bias if layer.kind == "description" else layer.bias).add_(boundary_bias)
    return model


def build_keyword_model(tokenizer) -> LearForSpanExtraction:
    """A LEAR model whose weights are set by hand so that it finds exactly the planted keywords, whatever the context:
    LOC = the token "paris"; PER = from the token "alice" to the next "bob"; ORG never fires.

    The encoder passes each token's own embedding through (attention and feed-forward outputs are zeroed, positions
    and token types too), marker tokens own one hidden dimension each (every other token is zero there), the fusion
    reduces to `tanh(h)` (the paper's fusion, without the residual), and each label's start/end classifier reads its
    marker's dimension.
    """
    model = build_model(tokenizer, fusion_residual=False)
    markers = {"paris": 0, "alice": 1, "bob": 2}  # token -> hidden dimension it owns
    free = len(markers)  # a dimension that takes the markers' counterweight, so every row has mean 0
    vocab = tokenizer.get_vocab()
    with torch.no_grad():
        embeddings = model.encoder.embeddings
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        words = embeddings.word_embeddings.weight
        words[:, : free + 1] = 0.0
        words[:, free] = -words.sum(-1)  # mean-0 rows: after LayerNorm the marker dimensions are exactly 0
        for token, dimension in markers.items():
            words[vocab[token]] = 0.0
            words[vocab[token], dimension] = 10.0
            words[vocab[token], free] = -10.0  # LayerNorm makes the marker dimension 4.0
        for layer in model.encoder.encoder.layer:
            for dense in (layer.attention.output.dense, layer.output.dense):
                dense.weight.zero_()
                dense.bias.zero_()
        fusion = model.fusion
        fusion.text_proj.weight.copy_(torch.eye(fusion.text_proj.weight.shape[0]))
        fusion.label_proj.weight.zero_()
        fusion.output_proj.weight.copy_(torch.eye(fusion.output_proj.weight.shape[0]))
        fusion.output_proj.bias.zero_()
        label_id = {name: index for index, name in enumerate(model.config.label_names)}
        start, end = model.span_head.start_classifier, model.span_head.end_classifier
        for classifier in (start, end):
            classifier.weight.zero_()
            classifier.bias.fill_(-5.0)
        start.weight[label_id["LOC"], markers["paris"]] = 10.0
        end.weight[label_id["LOC"], markers["paris"]] = 10.0
        start.weight[label_id["PER"], markers["alice"]] = 10.0
        end.weight[label_id["PER"], markers["bob"]] = 10.0
    return model


def save_checkpoint(model, tokenizer, path: Path) -> Path:
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def flat_dir(toy_tokenizer, tmp_path_factory) -> Path:
    return save_checkpoint(
        build_model(toy_tokenizer, boundary_bias=2.0), toy_tokenizer, tmp_path_factory.mktemp("flat")
    )


@pytest.fixture(scope="module")
def nested_dir(toy_tokenizer, tmp_path_factory) -> Path:
    model = build_model(toy_tokenizer, seed=1, boundary_bias=2.0, nested=True)
    return save_checkpoint(model, toy_tokenizer, tmp_path_factory.mktemp("nested"))


@pytest.fixture(scope="module")
def flat_pipe(flat_dir):
    return pipeline("span-extraction", model=str(flat_dir), device="cpu")


@pytest.fixture(scope="module")
def nested_pipe(nested_dir):
    return pipeline("span-extraction", model=str(nested_dir), device="cpu")


@pytest.fixture(scope="module")
def keyword_pipe(toy_tokenizer):
    return pipeline("span-extraction", model=build_keyword_model(toy_tokenizer), tokenizer=toy_tokenizer, device="cpu")


def assert_valid_entities(entities, text: str, label_names) -> None:
    """Every entity indexes `text` exactly, and the list is sorted by position without duplicates."""
    assert isinstance(entities, list)
    keys = []
    for entity in entities:
        assert set(entity) == ENTITY_KEYS
        start, end = entity["start"], entity["end"]
        assert isinstance(start, int) and isinstance(end, int)
        assert 0 <= start < end <= len(text)
        assert text[start:end] == entity["word"]
        assert entity["entity_group"] in label_names
        assert 0.0 < entity["score"] <= 1.0
        keys.append((start, end, entity["entity_group"]))
    assert [key[:2] for key in keys] == sorted(key[:2] for key in keys)
    assert len(set(keys)) == len(keys)


# ---------------------------------------------------------------------------------------------------------------------
# Registration, saving, remote code
# ---------------------------------------------------------------------------------------------------------------------


def test_task_is_registered_and_loads_a_saved_checkpoint(flat_pipe, flat_dir):
    assert isinstance(flat_pipe, SpanExtractionPipeline)
    assert flat_pipe.task == "span-extraction"
    assert not flat_pipe.model.training  # eval mode: no dropout
    config = json.loads((flat_dir / "config.json").read_text())
    assert config["custom_pipelines"] == custom_pipelines_config()
    assert config["auto_map"]["AutoModel"] == "modeling_lear.LearForSpanExtraction"


def _assert_carries_pipeline(path: Path) -> None:
    config = json.loads((path / "config.json").read_text())
    assert config["custom_pipelines"] == custom_pipelines_config()
    for name in ("pipeline_lear.py", "windowing.py", "modeling_lear.py", "configuration_lear.py"):
        assert (path / name).is_file(), name


def test_every_way_of_saving_carries_the_pipeline(toy_tokenizer, tmp_path):
    model = build_model(toy_tokenizer)
    model.save_pretrained(tmp_path / "model")
    _assert_carries_pipeline(tmp_path / "model")

    trainer = Trainer(model=model, args=TrainingArguments(output_dir=str(tmp_path / "run"), use_cpu=True, report_to=[]))
    trainer.save_model(str(tmp_path / "trainer"))
    _assert_carries_pipeline(tmp_path / "trainer")

    pipe = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
    pipe.save_pretrained(tmp_path / "pipe")
    _assert_carries_pipeline(tmp_path / "pipe")
    reloaded = pipeline("span-extraction", model=str(tmp_path / "pipe"), device="cpu")
    assert reloaded("Alice lives in Paris") == pipe("Alice lives in Paris")


REMOTE_SCRIPT = """
import json, sys
sys.modules["lear"] = None  # `import lear` now fails: only the code saved with the checkpoint can run
from transformers import pipeline
pipe = pipeline(model=sys.argv[1], trust_remote_code=True, device="cpu")
assert "lear" not in sys.modules or sys.modules["lear"] is None
request = json.loads(sys.argv[2])
print(json.dumps({
    "pipeline_module": type(pipe).__module__,
    "model_module": type(pipe.model).__module__,
    "task": pipe.task,
    "texts": pipe(request["texts"], max_length=16),
    "words": pipe(request["words"], is_split_into_words=True),
}))
"""


def test_remote_code_pipeline_without_lear_matches_in_process(flat_pipe, flat_dir, tmp_path):
    request = {
        "texts": ["Alice lives in Paris", "中文文本没有空格 and 😀 emoji", "Bob works for Acme in Berlin " * 6, ""],
        "words": ["Dave", "met", "Erin", "at", "Oxford"],
    }
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), PYTHONPATH="", OMP_NUM_THREADS="1"
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(REMOTE_SCRIPT), str(flat_dir), json.dumps(request)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    assert remote["pipeline_module"].startswith("transformers_modules.")
    assert remote["model_module"].startswith("transformers_modules.")
    assert remote["task"] == REMOTE_TASK
    assert remote["texts"] == flat_pipe(request["texts"], max_length=16)
    assert remote["words"] == flat_pipe(request["words"], is_split_into_words=True)
    assert any(remote["texts"])  # the comparison is not between empty lists


# ---------------------------------------------------------------------------------------------------------------------
# Offsets: property-based
# ---------------------------------------------------------------------------------------------------------------------

LATIN = st.text(alphabet=string.ascii_letters + "àéîõüßÆ", min_size=1, max_size=8)
CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E00 + 260), min_size=1, max_size=6)
EMOJI = st.sampled_from(["😀", "👍🏽", "👩‍💻", "🇫🇷", "❤️", "🧑‍🤝‍🧑", "1️⃣", "🏳️‍🌈"])
COMBINING = st.text(alphabet=st.characters(min_codepoint=0x300, max_codepoint=0x36F), min_size=1, max_size=3)
WHITESPACE = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000\u2028\u200b\ufeff", min_size=1, max_size=6)
PUNCTUATION = st.sampled_from(list(",.;:!?()-'\"、。「」"))
KNOWN = st.sampled_from(["Paris", "alice", "BOB", "Acme", "Berlin"])
SEGMENT = st.one_of(LATIN, CJK, EMOJI, COMBINING, WHITESPACE, PUNCTUATION, KNOWN)
TEXTS = st.lists(SEGMENT, max_size=40).map("".join)
WORDS = st.lists(
    st.one_of(LATIN, CJK, EMOJI, KNOWN, st.tuples(LATIN, COMBINING).map("".join), PUNCTUATION), max_size=25
)


def _check_offsets(flat_pipe, nested_pipe, data) -> None:
    pipe = data.draw(st.sampled_from([flat_pipe, nested_pipe]), label="pipe")
    threshold = data.draw(st.floats(0.05, 0.95), label="threshold")
    max_length = data.draw(st.sampled_from([8, 12, 32, 128]), label="max_length")
    stride = data.draw(st.sampled_from([None, 0, 1, 3]), label="stride")
    flat_ner = data.draw(st.sampled_from([None, True]), label="flat_ner")
    options = dict(threshold=threshold, max_length=max_length, stride=stride, flat_ner=flat_ner)
    if data.draw(st.booleans(), label="pre-split"):
        words = data.draw(WORDS, label="words")
        text = " ".join(words)
        entities = pipe(words, is_split_into_words=True, **options)
    else:
        text = data.draw(TEXTS, label="text")
        entities = pipe(text, **options)
    assert_valid_entities(entities, text, pipe.model.config.label_names)
    word_starts, word_ends = wordpiece_word_edges(pipe.tokenizer, text)
    for entity in entities:  # never inside a WordPiece word ("Cupert|ino"), whether the text came raw or pre-split
        assert entity["start"] in word_starts and entity["end"] in word_ends, (entity, text)


def wordpiece_word_edges(tokenizer, text: str) -> tuple[set[int], set[int]]:
    """Character offsets where the tokenizer's words begin and end in `text`: a "##" piece continues the word of the
    piece before it."""
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    offsets = encoding["offset_mapping"]
    starts = {offsets[k][0] for k, token in enumerate(tokens) if not token.startswith("##")}
    ends = {offsets[k][1] for k in range(len(tokens)) if k + 1 == len(tokens) or not tokens[k + 1].startswith("##")}
    return starts, ends


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_spans_index_the_input_text(flat_pipe, nested_pipe, data):
    _check_offsets(flat_pipe, nested_pipe, data)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_spans_index_the_input_text_many_cases(flat_pipe, nested_pipe, data):
    _check_offsets(flat_pipe, nested_pipe, data)


def test_random_texts_do_produce_spans(flat_pipe, nested_pipe):
    """Guard for the property test: with the raised biases, middling thresholds return spans, so the offsets checked
    there are real ones."""
    text = "Alice lives in Paris, 中文 😀 e\u0301te\u0301  \u3000 Berlin"
    for pipe in (flat_pipe, nested_pipe):
        entities = pipe(text, threshold=0.5)
        assert len(entities) >= 5
        assert_valid_entities(entities, text, pipe.model.config.label_names)


# ---------------------------------------------------------------------------------------------------------------------
# Long texts and window edges
# ---------------------------------------------------------------------------------------------------------------------


def _filler(count: int, seed: int = 0) -> list[str]:
    return [FILLERS[(seed + 7 * k) % len(FILLERS)] for k in range(count)]


def _expected(words: list[str]) -> list[dict]:
    """The keyword model's exact answer on space-joined words: every "paris" (LOC), and "alice" .. the next "bob" (PER)."""
    offsets, cursor = [], 0
    for word in words:
        offsets.append((cursor, cursor + len(word)))
        cursor += len(word) + 1
    found = [("LOC", k, k) for k, word in enumerate(words) if word == "paris"]
    group_start = group_end = None  # the "v5" rule: a start after an end opens a new span; first start, first end
    for k, word in enumerate(words):
        if word == "alice":
            if group_end is not None:
                found.append(("PER", group_start, group_end))
                group_start = group_end = None
            if group_start is None:
                group_start = k
        elif word == "bob" and group_start is not None and group_end is None:
            group_end = k
    if group_end is not None:
        found.append(("PER", group_start, group_end))
    text = " ".join(words)
    entities = [
        {
            "entity_group": label,
            "word": text[offsets[i][0] : offsets[j][1]],
            "start": offsets[i][0],
            "end": offsets[j][1],
        }
        for label, i, j in found
    ]
    return sorted(entities, key=lambda entity: (entity["start"], entity["end"]))


def _word_index(words: list[str], char_start: int) -> int:
    cursor = 0
    for index, word in enumerate(words):
        if cursor == char_start:
            return index
        cursor += len(word) + 1
    raise AssertionError(f"no word starts at character {char_start}")


def _without_scores(entities: list[dict]) -> list[dict]:
    return [{key: value for key, value in entity.items() if key != "score"} for entity in entities]


def assert_same_predictions(actual: list[list[dict]], expected: list[list[dict]]) -> None:
    """The same entities text by text; scores equal up to the last float bits, which padding to a different batch
    length may change."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert _without_scores(got) == _without_scores(want)
        assert [e["score"] for e in got] == pytest.approx([e["score"] for e in want], abs=1e-5)


def test_keyword_model_finds_exactly_the_planted_entities(keyword_pipe):
    words = "alice bob lives in paris and the river is long".split()
    assert _without_scores(keyword_pipe(" ".join(words))) == _expected(words)
    assert all(entity["score"] > 0.95 for entity in keyword_pipe(" ".join(words)))


@pytest.mark.parametrize("stride", [1, 2, 4, 7])
def test_long_text_keeps_entities_at_window_edges(keyword_pipe, stride):
    """A 48-token text in 16-token windows (over three times the window), with an entity planted at every position in
    turn, so that some sit on every window's first and last token and on every ownership cut: each is found once."""
    length, max_length = 48, 16
    texts, expected = [], []
    for position in range(length):
        words = _filler(length, seed=position)
        words[position] = "paris"
        if position + 1 < length:  # a two-token PER entity right after it (straddling an edge somewhere)
            words[position] = "alice"
            words[position + 1] = "bob"
            if position + 3 < length:
                words[position + 3] = "paris"
        texts.append(" ".join(words))
        expected.append(_expected(words))
    windows = encode_windows(keyword_pipe.tokenizer, texts[:1], max_length=max_length, stride=stride)
    assert len(windows) >= 3
    predicted = keyword_pipe(texts, max_length=max_length, stride=stride, batch_size=32)
    assert [_without_scores(entities) for entities in predicted] == expected


def test_text_three_times_the_model_length_keeps_entities_at_window_edges(keyword_pipe):
    """Default windows (the model's 128 tokens) over a 3.5x-long text: entities planted on and around every window's
    first and last token and every ownership cut are all found, once."""
    max_length = keyword_pipe.model_max_length()
    assert max_length == 128
    words = _filler(int(3.5 * max_length))
    windows = encode_windows(keyword_pipe.tokenizer, [" ".join(words)], max_length=max_length)
    assert len(windows) >= 4
    edges = set()
    for window in windows:
        content = [k for k, span in enumerate(window.token_spans) if span != (-1, -1)]
        owned = [k for k in content if window.owned[k]]
        first = _word_index(words, window.token_spans[content[0]][0])  # one token per filler word
        edges.update({first, first + len(content) - 1, first + owned[0] - content[0], first + owned[-1] - content[0]})
    texts = []
    single = list(words)  # one-token entities on every edge and both its neighbours
    for edge in edges:
        for position in (edge - 1, edge, edge + 1):
            if 0 <= position < len(single):
                single[position] = "paris"
    texts.append(single)
    for edge in sorted(edges):  # a two-token entity across each edge, from either side, one text each
        for first in (edge - 1, edge):
            if 0 <= first and first + 1 < len(words):
                pair = list(words)
                pair[first], pair[first + 1] = "alice", "bob"
                texts.append(pair)
    predicted = keyword_pipe([" ".join(text) for text in texts], batch_size=16)
    assert [_without_scores(entities) for entities in predicted] == [_expected(text) for text in texts]
    assert len(predicted[0]) >= 3 * len(windows)


# ---------------------------------------------------------------------------------------------------------------------
# Batching and the label states
# ---------------------------------------------------------------------------------------------------------------------

BATCH_TEXTS = [
    "Alice lives in Paris",
    "",
    "Bob works for Acme in Berlin and " * 12,
    "中文文本没有空格",
    "the UN sent Frank",
    "   ",
    "Tokyo and Kyoto are cities 😀 " * 5,
    "Dave met Erin at Oxford",
]


@pytest.mark.parametrize("which", ["flat", "nested"])
def test_batched_and_one_by_one_predictions_are_identical(flat_pipe, nested_pipe, which):
    pipe = flat_pipe if which == "flat" else nested_pipe
    one_by_one = [pipe(text, batch_size=1, max_length=24) for text in BATCH_TEXTS]
    batched = pipe(BATCH_TEXTS, batch_size=5, max_length=24)
    listed_one_at_a_time = pipe(BATCH_TEXTS, batch_size=1, max_length=24)
    assert sum(map(len, one_by_one)) > 20
    assert_same_predictions(batched, one_by_one)
    assert_same_predictions(listed_one_at_a_time, one_by_one)


def test_label_states_are_computed_once_and_predict_as_states_computed_every_batch(flat_pipe, monkeypatch):
    model = flat_pipe.model
    calls = []
    compute = model.compute_label_states

    def counting_compute(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(model, "compute_label_states", counting_compute)
    flat_pipe.reset_label_states()
    once = flat_pipe(BATCH_TEXTS, batch_size=2, max_length=24)
    assert len(calls) == 1  # one label encoding for the whole call, over all its batches of windows
    assert_same_predictions(flat_pipe(BATCH_TEXTS, batch_size=3, max_length=24), once)
    assert len(calls) == 1  # and none for a second call with the same labels

    monkeypatch.setattr(flat_pipe, "_label_state_inputs", dict)  # no states passed: the model encodes every batch
    every_batch = flat_pipe(BATCH_TEXTS, batch_size=2, max_length=24)
    assert len(calls) > 3
    assert every_batch == once


def test_after_set_labels_the_pipeline_predicts_with_the_new_labels(toy_tokenizer):
    """Whichever `set_labels` is called, the pipeline's or the model's own, the next call encodes the new labels: it
    predicts as a pipeline built afresh on the relabelled model."""
    text = "Alice lives in Paris and Bob works for Acme"
    relabelled = {"PER": TOY_LABELS["PER"], "LOC": "rivers, mountains and seas", "TEAM": "names of sports teams"}
    for whose in ("pipeline", "model"):
        model = build_model(toy_tokenizer, boundary_bias=2.0)
        pipe = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
        before = pipe(text)
        if whose == "pipeline":
            pipe.set_labels(relabelled)
        else:
            model.set_labels(relabelled, toy_tokenizer)
        after = pipe(text)
        fresh = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")(text)
        assert after == fresh and after != before, whose
        assert {entity["entity_group"] for entity in after} <= set(relabelled), whose


def test_reset_label_states_takes_in_weights_changed_in_place(toy_tokenizer):
    model = build_model(toy_tokenizer, boundary_bias=2.0)
    pipe = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
    text = "Alice lives in Paris and Bob works for Acme"
    pipe(text)
    with torch.no_grad():
        model.fusion.label_proj.weight.mul_(3)  # only the label states change
    pipe.reset_label_states()
    fresh = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
    assert pipe(text, threshold=0.3) == fresh(text, threshold=0.3)


# ---------------------------------------------------------------------------------------------------------------------
# Input forms and edge inputs
# ---------------------------------------------------------------------------------------------------------------------


def test_input_forms(flat_pipe):
    text = "Alice lives in Paris"
    single = flat_pipe(text)
    assert_valid_entities(single, text, flat_pipe.model.config.label_names)
    assert_same_predictions(flat_pipe([text, text]), [single, single])  # a batch of two may round differently
    assert flat_pipe((text,)) == [single]
    assert_same_predictions(list(flat_pipe(t for t in [text, "", text])), [single, [], single])
    assert list(flat_pipe(iter([text]))) == [single]
    assert flat_pipe([]) == []


def test_pre_split_words_index_the_space_joined_text(flat_pipe, keyword_pipe):
    words = ["Alice", "lives", "in", "Paris"]
    one = flat_pipe(words, is_split_into_words=True)
    assert_valid_entities(one, " ".join(words), flat_pipe.model.config.label_names)
    assert_same_predictions(flat_pipe([words, words[:2]]), [one, flat_pipe(words[:2], is_split_into_words=True)])
    chars = list("中文文本没有空格")  # Chinese pre-split into characters: offsets index "中 文 文 ..."
    assert_valid_entities(
        flat_pipe(chars, is_split_into_words=True), " ".join(chars), flat_pipe.model.config.label_names
    )
    planted = ["the", "alice", "bob", "met", "paris"]
    assert _without_scores(keyword_pipe(planted, is_split_into_words=True)) == _expected(planted)
    joined = keyword_pipe(planted, is_split_into_words=True, delimiter="  ")
    assert [(e["start"], e["end"], e["word"]) for e in joined] == [(5, 15, "alice  bob"), (22, 27, "paris")]
    assert flat_pipe([], is_split_into_words=True) == []


def test_a_datasets_column_is_taken_as_a_list_of_texts(flat_pipe):
    texts = [text for text, _ in TOY_SENTENCES]
    column = datasets.Dataset.from_dict({"text": texts})["text"]  # a `datasets.Column`, not a list
    assert not isinstance(column, list)
    assert_same_predictions(flat_pipe(column), flat_pipe(texts))
    assert_same_predictions(flat_pipe(column, batch_size=1), flat_pipe(texts))


def test_aggregation_strategy_is_answered_with_what_lear_returns(flat_pipe):
    text = "Alice lives in Paris"
    with pytest.warns(UserWarning, match="already whole entities"):
        aggregated = flat_pipe(text, aggregation_strategy="simple")
    assert aggregated == flat_pipe(text)
    with pytest.raises(ValueError, match="no per-token tags"):
        flat_pipe(text, aggregation_strategy="none")
    with pytest.raises(ValueError, match="aggregation_strategy"):
        flat_pipe(text, aggregation_strategy="loudest")


def test_pipeline_in_half_precision_finds_the_planted_entities(toy_tokenizer, tmp_path):
    """`pipeline(..., dtype=torch.bfloat16)` loads every weight in bf16 and predicts as the fp32 model does."""
    save_checkpoint(build_keyword_model(toy_tokenizer), toy_tokenizer, tmp_path)
    pipe = pipeline("span-extraction", model=str(tmp_path), device="cpu", dtype=torch.bfloat16)
    assert {parameter.dtype for parameter in pipe.model.parameters()} == {torch.bfloat16}
    planted = ["the", "alice", "bob", "met", "paris"]
    assert _without_scores(pipe(planted, is_split_into_words=True)) == _expected(planted)
    text = "alice and bob went to paris"
    assert [(e["word"], e["entity_group"]) for e in pipe(text)] == [("alice and bob", "PER"), ("paris", "LOC")]


RAW_AND_PRE_SPLIT_TEXTS = [text for text, _ in TOY_SENTENCES] + [
    "Alice , who lives in Paris , met Bob ( Acme ) in Berlin .",
    "the U.N. sent Frank to Kyoto-based Acme ; Carol's river Nile is long !",
    "Google hired Carol and Dave met Erin at Oxford and Tokyo and Kyoto are cities " * 3,
]


@pytest.fixture(scope="module")
def trained_pipe(toy_tokenizer):
    """A tiny model trained on the toy sentences until it finds their entities (as the overfitting test does)."""
    batch = toy_batch(toy_tokenizer)
    model = build_tiny_model(toy_tokenizer, initializer_range=0.2)
    optimizer = torch.optim.AdamW(optimizer_param_groups(model, 1e-3, task_layer_lr=5.0, weight_decay=0.01))
    for _ in range(150):
        model.train()
        targets = {name: batch.targets[name] for name in ("start_labels", "end_labels")}
        loss = model(**batch.inputs, **targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return pipeline("span-extraction", model=model.eval(), tokenizer=toy_tokenizer)


def test_raw_text_and_its_pre_split_form_give_identical_spans_on_a_trained_model(trained_pipe):
    found = 0
    for text in RAW_AND_PRE_SPLIT_TEXTS:
        for max_length in (128, 12):  # one window, and many overlapping ones
            raw = trained_pipe(text, max_length=max_length)
            pre_split = trained_pipe(text.split(), is_split_into_words=True, max_length=max_length)
            assert raw == pre_split, (text, max_length)
            found += len(raw)
    assert found > 20  # the trained model does find entities, so the comparison is not between empty lists


def test_chinese_text_without_spaces(keyword_pipe, flat_pipe):
    text = "中文文本没有空格"
    entities = flat_pipe(text, threshold=0.5)
    assert_valid_entities(entities, text, flat_pipe.model.config.label_names)
    assert {(e["start"], e["end"]) for e in entities} >= {(k, k + 1) for k in range(len(text))}


@pytest.mark.parametrize("text", ["", " ", "   \n\t\u3000 ", "\u200b\ufeff"])
def test_empty_and_whitespace_texts_give_no_entities(flat_pipe, nested_pipe, text):
    assert flat_pipe(text, threshold=0.05) == []
    assert nested_pipe(text, threshold=0.05) == []
    assert flat_pipe([text, text], threshold=0.05) == [[], []]


def test_one_megabyte_text(keyword_pipe):
    sentence = "Alice lives in Paris with Bob. "
    text = sentence * (1_000_000 // len(sentence) + 1)
    assert len(text) >= 1_000_000
    entities = keyword_pipe(text, batch_size=64)
    # one LOC (Paris) and one PER (Alice .. Bob) per sentence, at the right offsets
    assert [e["start"] for e in entities if e["entity_group"] == "LOC"] == [
        m.start() for m in re.finditer("Paris", text)
    ]
    assert [e["start"] for e in entities if e["entity_group"] == "PER"] == [
        m.start() for m in re.finditer("Alice", text)
    ]
    assert {entity["word"] for entity in entities} == {"Paris", "Alice lives in Paris with Bob"}


@pytest.mark.parametrize(
    "bad, where",
    [
        (123, "int"),
        (None, "NoneType"),
        (b"Alice lives in Paris", "bytes"),
        ({"text": "Alice"}, "dict"),
        (["Alice", 5], "inputs[1]"),
        ([["Alice", "lives"], ["in", 3]], "word 1 is a int"),
        (torch.tensor([1, 2]), "Tensor"),
    ],
)
def test_non_string_inputs_raise_a_clear_type_error(flat_pipe, bad, where):
    with pytest.raises(TypeError, match="span-extraction") as error:
        flat_pipe(bad)
    assert where in str(error.value)


def test_pre_split_words_with_non_strings_raise(flat_pipe):
    with pytest.raises(TypeError, match="word 2 is a float"):
        flat_pipe(["Alice", "lives", 1.5], is_split_into_words=True)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "high"}, "threshold"),
        ({"max_length": 4096}, "max_length"),
        ({"max_length": 2}, "max_length"),
        ({"stride": -1}, "stride"),
        ({"max_length": 16, "stride": 14}, "stride"),
        ({"labels": ["PER", "DRUG"]}, "unknown labels \\['DRUG'\\]"),
        ({"labels": "PER"}, "labels must be"),
        ({"labels": []}, "at least one"),
        ({"flat_ner": False}, "nested"),
    ],
)
def test_bad_options_raise_a_clear_error(flat_pipe, options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        flat_pipe("Alice lives in Paris", **options)


# ---------------------------------------------------------------------------------------------------------------------
# Options: thresholds, labels, flat decoding of a nested model
# ---------------------------------------------------------------------------------------------------------------------


def test_threshold_trades_recall_for_precision(flat_pipe):
    text = "Bob works for Acme in Berlin"
    low, high = flat_pipe(text, threshold=0.3), flat_pipe(text, threshold=0.95)
    assert len(high) < len(low)
    assert all(entity["score"] > 0.95 for entity in high)


def test_labels_option_keeps_only_the_named_labels(flat_pipe):
    text = "Bob works for Acme in Berlin"
    everything = flat_pipe(text)
    only_per = flat_pipe(text, labels=["PER"])  # scores PER alone: the same spans, scores up to float rounding
    expected = [entity for entity in everything if entity["entity_group"] == "PER"]
    assert _without_scores(only_per) == _without_scores(expected)
    assert [e["score"] for e in only_per] == pytest.approx([e["score"] for e in expected], abs=1e-5)
    assert only_per


def test_flat_ner_decodes_a_nested_model_without_overlaps_within_a_label(nested_pipe):
    text = "Bob works for Acme in Berlin and Alice lives in Paris"
    nested = nested_pipe(text, threshold=0.5)
    flat = nested_pipe(text, threshold=0.5, flat_ner=True)
    assert nested and flat and nested != flat
    for label in {entity["entity_group"] for entity in flat}:
        spans = sorted((e["start"], e["end"]) for e in flat if e["entity_group"] == label)
        assert all(previous[1] <= current[0] for previous, current in zip(spans, spans[1:]))


def test_new_labels_at_inference_apply_to_the_call_and_leave_the_model_unchanged(toy_tokenizer):
    model = build_model(toy_tokenizer, boundary_bias=2.0)
    pipe = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
    text = "Alice lives in Paris"
    before = pipe(text)
    config_before = model.config.to_dict()
    new = {"TEAM": "names of teams"}
    only_team = pipe(text, labels=new)
    assert model.config.to_dict() == config_before  # a call argument changes no model (save_pretrained saves it)
    assert only_team and {entity["entity_group"] for entity in only_team} == {"TEAM"}
    assert pipe(text) == before  # the model's own labels, as before the call
    calls = []
    compute = model.compute_label_states
    model.compute_label_states = lambda *args, **kwargs: calls.append(1) or compute(*args, **kwargs)
    pipe(text, labels=new)  # same descriptions: no re-encoding, the pipeline keeps the states of recent label sets
    assert calls == []
    mixed = pipe(text, labels={"TEAM": "sports teams and clubs", "PER": None})  # a new description: encoded once
    assert calls == [1] and {entity["entity_group"] for entity in mixed} <= {"TEAM", "PER"}
    assert model.config.label_descriptions == list(TOY_LABELS.values())
    with pytest.raises(ValueError, match="unknown labels"):
        pipe(text, labels={"DRUG": None})
    pipe.set_labels({"PER": TOY_LABELS["PER"], "DRUG": "names of medicines"})  # the explicit way to change the model
    assert model.config.label_names == ["PER", "DRUG"]
    assert {e["entity_group"] for e in pipe(text)} <= {"PER", "DRUG"}


def test_a_call_with_new_labels_decodes_them_at_the_calibrated_threshold(toy_tokenizer):
    model = build_model(toy_tokenizer, boundary_bias=2.0)
    model.config.label_thresholds = [0.2, 0.3, 0.9]  # a new label takes their median
    pipe = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer, device="cpu")
    text = "Alice lives in Paris and Bob works for Acme in Berlin"
    new = {"TEAM": "names of teams"}
    assert pipe(text, labels=new) == pipe(text, labels=new, threshold=0.3)
    assert pipe(text, labels=new) != pipe(text, labels=new, threshold=0.9)
    # known labels keep their own calibrated thresholds when a call scores them among new ones
    among_new = [e for e in pipe(text, labels={**new, "PER": None}) if e["entity_group"] == "PER"]
    assert among_new and _without_scores(among_new) == _without_scores(pipe(text, labels=["PER"]))


# ---------------------------------------------------------------------------------------------------------------------
# Event triggers: one-word spans, adjacent triggers kept apart
# ---------------------------------------------------------------------------------------------------------------------

EVENT_LABELS = {"EVENT": "an event trigger is the word that names an action that happens"}
# LitBank-style: every trigger is one word, and two adjacent words may be two triggers ("met sent").
EVENT_SENTENCES = [
    ("Alice lives in Paris", [(6, 11, "EVENT")]),
    ("Bob works for Acme in Berlin", [(4, 9, "EVENT")]),
    ("Google hired Carol", [(7, 12, "EVENT")]),
    ("Dave met sent Erin at Oxford", [(5, 8, "EVENT"), (9, 13, "EVENT")]),
    ("the UN sent Frank", [(7, 11, "EVENT")]),
    ("nothing to see here", []),
    ("Carol hired met Bob", [(6, 11, "EVENT"), (12, 15, "EVENT")]),
    ("Tokyo and Kyoto are cities", []),
]


def test_trained_trigger_model_returns_exact_offsets_and_keeps_adjacent_triggers_apart(toy_tokenizer):
    batch = toy_batch(toy_tokenizer, sentences=EVENT_SENTENCES, label_names=list(EVENT_LABELS))
    model = build_tiny_model(toy_tokenizer, labels=EVENT_LABELS, initializer_range=0.2)
    optimizer = torch.optim.AdamW(optimizer_param_groups(model, 1e-3, task_layer_lr=5.0, weight_decay=0.01))
    targets = {name: batch.targets[name] for name in ("start_labels", "end_labels")}
    extractor = pipeline("span-extraction", model=model, tokenizer=toy_tokenizer)
    for step in range(400):
        model.train()
        loss = model(**batch.inputs, **targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 20 == 19:
            predicted = [[(e["start"], e["end"], e["entity_group"]) for e in extractor(text)] for text, _ in
                         EVENT_SENTENCES]  # fmt: skip
            if predicted == [gold for _, gold in EVENT_SENTENCES]:
                break
    assert predicted == [gold for _, gold in EVENT_SENTENCES], f"not learned (last loss {loss.item():.4f})"
    entities = extractor("Dave met sent Erin at Oxford")
    assert [(e["word"], e["start"], e["end"]) for e in entities] == [("met", 5, 8), ("sent", 9, 13)]


# ---------------------------------------------------------------------------------------------------------------------
# One label per span, and the progress bar
# ---------------------------------------------------------------------------------------------------------------------


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_overlap_best_label_keeps_the_best_scoring_of_overlapping_spans(flat_pipe):
    text = "Alice lives in Paris, and Bob met Berlin at the river"
    everything = flat_pipe(text, threshold=0.5)  # overlap="keep", the default: labels are decoded independently
    assert any(_overlap(a, b) for a, b in itertools.combinations(everything, 2))  # the case the option is for
    best = flat_pipe(text, threshold=0.5, overlap="best_label")
    assert best and not any(_overlap(a, b) for a, b in itertools.combinations(best, 2))
    assert all(entity in everything for entity in best)
    for dropped in (entity for entity in everything if entity not in best):  # each lost to a better overlapping span
        assert any(_overlap(dropped, kept) and kept["score"] >= dropped["score"] for kept in best)
    assert best == sorted(best, key=lambda e: (e["start"], e["end"]))
    with pytest.raises(ValueError, match="overlap must be one of"):
        flat_pipe(text, overlap="first")


def test_progress_bar_counts_the_windows_of_a_call(keyword_pipe, capsys):
    text = " ".join(["paris", *_filler(3 * keyword_pipe.model_max_length()), "alice"])  # several windows
    assert keyword_pipe(text, progress_bar=True) == keyword_pipe(text)
    bar = capsys.readouterr().err
    windows = sum(1 for _ in keyword_pipe.preprocess(text))
    assert f"{windows}/{windows}" in bar and "window" in bar
    keyword_pipe(text)
    assert not capsys.readouterr().err  # no bar unless asked


def test_the_token_classification_pipeline_points_to_span_extraction(tmp_path, toy_tokenizer):
    # issue 33: the card files LEAR under token-classification, and pipeline("token-classification", model=dir) gave
    # transformers' "Could not load model" with no word of span-extraction
    from transformers import AutoModelForTokenClassification

    checkpoint = save_checkpoint(build_keyword_model(toy_tokenizer), toy_tokenizer, tmp_path / "model")
    with pytest.raises(ValueError, match='pipeline\\("span-extraction", model=...\\)'):
        pipeline("token-classification", model=str(checkpoint))
    with pytest.raises(ValueError, match="a LEAR span-extraction model, not a token classifier"):
        AutoModelForTokenClassification.from_pretrained(checkpoint)
