"""Label knowledge at inference and in training: the label descriptions' states passed to `forward` (or computed
in it), and replacing the label set with `set_labels`."""

from __future__ import annotations

import pytest
import torch
from conftest import TOY_LABELS, tokenize_label_descriptions
from toy_batches import toy_batch, training_targets


def count_label_encodings(model) -> list[int]:
    """Wrap `model.compute_label_states` so that each call (a fresh encoding of the descriptions) is counted."""
    calls = []
    compute = model.compute_label_states

    def counted(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    model.compute_label_states = counted
    return calls


def all_logits(outputs) -> list[torch.Tensor]:
    return [logits for logits in (outputs.start_logits, outputs.end_logits, outputs.span_logits) if logits is not None]


# -- label states ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_given_label_states_give_the_logits_of_states_computed_in_forward(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested, initializer_range=0.2).eval()
    inputs = toy_batch(toy_tokenizer).inputs
    with torch.no_grad():  # the same no-grad kernels both ways, so the logits agree bit for bit
        computed = model(**inputs)
        given = model(**inputs, label_states=model.compute_label_states())
    assert len(all_logits(given)) == (3 if nested else 2)
    for expected, actual in zip(all_logits(computed), all_logits(given)):
        assert torch.equal(actual, expected)


def test_forward_encodes_the_labels_in_every_call_unless_given_their_states(make_tiny_model, toy_tokenizer):
    model = make_tiny_model().eval()
    inputs = toy_batch(toy_tokenizer).inputs
    calls = count_label_encodings(model)
    with torch.no_grad():
        model(**inputs)
        model(**inputs)
        assert len(calls) == 2  # no copy kept inside the model
        states = model.compute_label_states()
        model(**inputs, label_states=states)
        model(**inputs, label_states=states)
    assert len(calls) == 3


def test_eval_forward_without_label_states_follows_weights_changed_in_place(make_tiny_model, toy_tokenizer):
    """What the removed cache had to track (`.data` edits, fused AdamW steps bump no version counter) cannot go stale:
    states computed in the call are always those of the current weights."""
    model = make_tiny_model(initializer_range=0.2).eval()
    inputs = toy_batch(toy_tokenizer).inputs
    with torch.no_grad():
        before = model(**inputs).start_logits
        model.fusion.label_proj.weight.data.add_(1)  # changes the label states only
        after = model(**inputs).start_logits
        assert not torch.equal(after, before)
        assert torch.equal(after, model(**inputs, label_states=model.compute_label_states()).start_logits)


def test_label_states_for_another_number_of_labels_are_refused(make_tiny_model, toy_tokenizer):
    model = make_tiny_model().eval()
    inputs = toy_batch(toy_tokenizer).inputs
    with torch.no_grad():
        stale = model.compute_label_states()
        model.set_labels(dict(TOY_LABELS, MISC="names of events"), toy_tokenizer)
        with pytest.raises(ValueError, match="compute them again"):
            model(**inputs, label_states=stale)
        assert model(**inputs, label_states=model.compute_label_states()).start_logits.shape[-1] == 4


def description_only_token(model, inputs) -> int:
    """A token id that some label description holds and no text of the batch does."""
    in_text = set(inputs["input_ids"].flatten().tolist())
    candidates = sorted({token for row in model.config.label_input_ids for token in row} - in_text)
    assert candidates, "the toy descriptions share every token with the toy texts"
    return candidates[0]


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_training_step_backpropagates_through_the_label_descriptions(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested).train()
    batch = toy_batch(toy_tokenizer)
    token = description_only_token(model, batch.inputs)
    embeddings = model.encoder.get_input_embeddings().weight

    targets = training_targets(batch, nested)
    model(**batch.inputs, **targets).loss.backward()
    assert embeddings.grad[token].abs().sum() > 0  # reached the encoder through a description alone
    assert model.fusion.label_proj.weight.grad.abs().sum() > 0

    # states computed without gradients and passed in cut that path: the encoder learns from the texts alone
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        frozen = model.compute_label_states()
    model(**batch.inputs, **targets, label_states=frozen).loss.backward()
    assert embeddings.grad[token].abs().sum() == 0
    assert model.fusion.label_proj.weight.grad is None


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
