"""End to end on a tiny random model: it must be able to learn, and what it learns must decode back to exactly the
gold character spans of the toy sentences (windowing -> targets -> loss -> AdamW -> decode -> characters)."""

from __future__ import annotations

import pytest
import torch
from toy_batches import predicted_char_spans, toy_batch, training_targets

from lear.training import optimizer_param_groups


MAX_STEPS = 400
CHECK_EVERY = 10


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_tiny_model_overfits_the_toy_sentences_to_their_exact_gold_spans(make_tiny_model, toy_tokenizer, nested):
    # initializer_range 0.2 gives the hidden-size-32 task layers unit gain (0.02 suits H ~ 1000, not H = 32)
    model = make_tiny_model(nested=nested, initializer_range=0.2)
    batch = toy_batch(toy_tokenizer)
    targets = training_targets(batch, nested)
    optimizer = torch.optim.AdamW(optimizer_param_groups(model, 1e-3, task_layer_lr=5.0, weight_decay=0.01))
    predicted = None
    for step in range(1, MAX_STEPS + 1):
        model.train()
        loss = model(**batch.inputs, **targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % CHECK_EVERY == 0:
            predicted = predicted_char_spans(model, batch)
            if predicted == batch.gold:
                break
    assert predicted == batch.gold, f"not overfitted after {MAX_STEPS} steps (last loss {loss.item():.4f})"
