"""Label knowledge at inference: the cached label representations, what invalidates them, and replacing the label
set with `set_labels`."""

from __future__ import annotations

import pytest
import torch
from conftest import TOY_LABELS, tokenize_label_descriptions
from toy_batches import toy_batch


def count_label_encodings(model) -> list[int]:
    """Wrap `model.compute_label_states` so that each call (a fresh encoding of the descriptions) is counted."""
    calls = []
    compute = model.compute_label_states

    def counted():
        calls.append(1)
        return compute()

    model.compute_label_states = counted
    return calls


def cached_logits(model, inputs) -> torch.Tensor:
    """Inference as the pipeline runs it: eval mode (set once, by the caller), no grad: label states may be cached."""
    assert not model.training
    with torch.no_grad():
        outputs = model(**inputs)
    return torch.cat([outputs.start_logits, outputs.end_logits], dim=-1)


def uncached_logits(model, inputs) -> torch.Tensor:
    """The same no-grad inference (so the same kernels, bit for bit) after dropping the cache by hand: the label states
    are encoded afresh."""
    model.clear_label_cache()
    return cached_logits(model, inputs)


def grad_enabled_logits(model, inputs) -> torch.Tensor:
    """Eval mode with gradients enabled: the label states are always recomputed, never cached."""
    assert not model.training
    with torch.enable_grad():
        outputs = model(**inputs)
    return torch.cat([outputs.start_logits, outputs.end_logits], dim=-1).detach()


# -- the label cache ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_cached_and_uncached_label_states_give_identical_logits(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested).eval()
    inputs = toy_batch(toy_tokenizer).inputs
    calls = count_label_encodings(model)
    first = cached_logits(model, inputs)
    second = cached_logits(model, inputs)
    assert len(calls) == 1, "the second no-grad eval forward re-encoded the labels"
    assert torch.equal(first, second)
    assert torch.equal(second, uncached_logits(model, inputs))
    assert len(calls) == 2
    # with autograd on, the fusion's tanh runs its plain kernel instead of the no-grad CPU form: equal to rounding
    torch.testing.assert_close(grad_enabled_logits(model, inputs), second, rtol=1e-5, atol=1e-6)
    assert len(calls) == 3


def test_label_states_are_not_cached_while_training(make_tiny_model, toy_tokenizer):
    model = make_tiny_model()
    inputs = toy_batch(toy_tokenizer).inputs
    calls = count_label_encodings(model)
    model.train()
    with torch.no_grad():
        model(**inputs)
        model(**inputs)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "event",
    ["train()", "load_state_dict", "set_labels", "in-place encoder edit", "in-place fusion edit", "fused AdamW step"],
)
def test_label_cache_is_invalidated_by(make_tiny_model, toy_tokenizer, event):
    model = make_tiny_model(seed=0).eval()
    other = make_tiny_model(seed=1).eval()
    inputs = toy_batch(toy_tokenizer).inputs
    calls = count_label_encodings(model)
    before = cached_logits(model, inputs)
    cached_logits(model, inputs)
    assert len(calls) == 1

    if event == "train()":
        model.train()
        with torch.no_grad():  # an edit the version counters do not see (.data): only train() can drop the cache
            model.fusion.label_proj.weight.data.add_(1)
        model.eval()
    elif event == "load_state_dict":
        model.load_state_dict(other.state_dict())
    elif event == "set_labels":
        model.set_labels(dict(TOY_LABELS, LOC="cities and countries"), toy_tokenizer)
    elif event == "in-place encoder edit":
        with torch.no_grad():
            model.encoder.embeddings.word_embeddings.weight.add_(1)
    elif event == "in-place fusion edit":
        with torch.no_grad():
            model.fusion.label_proj.weight.add_(1)
    elif event == "fused AdamW step":
        # training in eval mode (no dropout) with a fused optimiser, which does not bump the version counters
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, fused=True)
        model(**inputs).start_logits.sum().backward()
        optimizer.step()

    after = cached_logits(model, inputs)
    assert len(calls) >= 2, "the labels were not re-encoded"
    assert torch.equal(after, uncached_logits(model, inputs))
    assert not torch.equal(after, before)
    if event == "load_state_dict":
        assert torch.equal(after, cached_logits(other, inputs))


# -- set_labels -----------------------------------------------------------------------------------------------------


NEW_LABELS = {
    "PER": TOY_LABELS["PER"],
    "MISC": "names of events, nationalities and products",
    "LOC": TOY_LABELS["LOC"],
}  # PER and LOC kept (reordered), ORG removed, MISC added


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_set_labels_keeps_rows_by_name_starts_new_labels_from_the_mean_and_drops_removed_ones(
    make_tiny_model, toy_tokenizer, nested
):
    model = make_tiny_model(nested=nested)
    layers = {"start": model.span_head.start_classifier, "end": model.span_head.end_classifier}
    if nested:
        layers["span"] = model.nested_head.span_classifier
    old = {name: (layer.weight.detach().clone(), layer.bias.detach().clone()) for name, layer in layers.items()}
    old_id = {name: i for i, name in model.config.id2label.items()}

    model.set_labels(NEW_LABELS, toy_tokenizer)

    for name, layer in layers.items():
        weight, bias = old[name]
        assert layer.weight.shape == (3, weight.shape[1])
        for new_id, label in enumerate(NEW_LABELS):
            if label in old_id:
                assert torch.equal(layer.weight[new_id], weight[old_id[label]]), (name, label)
                assert torch.equal(layer.bias[new_id], bias[old_id[label]]), (name, label)
            else:
                torch.testing.assert_close(layer.weight[new_id], weight.mean(0))
                torch.testing.assert_close(layer.bias[new_id], bias.mean(0))
        assert all(not torch.equal(row, weight[old_id["ORG"]]) for row in layer.weight)
        assert layer.weight.requires_grad and layer.bias.requires_grad


def test_set_labels_updates_the_config(make_tiny_model, toy_tokenizer):
    model = make_tiny_model()
    model.set_labels(NEW_LABELS, toy_tokenizer)
    config = model.config
    assert config.id2label == {0: "PER", 1: "MISC", 2: "LOC"}
    assert config.label2id == {"PER": 0, "MISC": 1, "LOC": 2}
    assert config.num_labels == 3
    assert config.label_descriptions == list(NEW_LABELS.values())
    assert config.label_input_ids == tokenize_label_descriptions(
        toy_tokenizer, list(NEW_LABELS.values()), config.max_label_length
    )
    assert model.label_batch()[0].shape[0] == 3


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_adding_a_label_leaves_predictions_for_kept_labels_unchanged(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested, initializer_range=0.2).eval()
    batch = toy_batch(toy_tokenizer)
    with torch.no_grad():
        before = model(**batch.inputs)
    # a description longer than every other one: the kept labels get more padding in the label batch
    added = dict(TOY_LABELS, MISC="names of events, nationalities, products, works of art and other things " * 3)
    model.set_labels(added, toy_tokenizer)
    with torch.no_grad():
        after = model(**batch.inputs)
    kept = len(TOY_LABELS)
    for name in ("start_logits", "end_logits"):
        assert after[name].shape[-1] == kept + 1
        torch.testing.assert_close(after[name][..., :kept], before[name], rtol=1e-5, atol=1e-5)
    spans_before = model.decode(before, batch.start_mask, batch.end_mask)
    spans_after = model.decode(after, batch.start_mask, batch.end_mask)
    for old, new in zip(spans_before, spans_after):
        assert [span[:3] for span in old] == [span[:3] for span in new if span.label < kept]


def test_set_labels_rejects_an_empty_label_set_and_empty_descriptions(make_tiny_model, toy_tokenizer):
    model = make_tiny_model()
    with pytest.raises(ValueError, match="at least one label"):
        model.set_labels({}, toy_tokenizer)
    with pytest.raises(ValueError, match="non-empty"):
        model.set_labels({"LOC": "  "}, toy_tokenizer)
    assert model.config.label_names == list(TOY_LABELS)  # a failed call changes nothing
