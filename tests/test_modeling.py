"""The LEAR model core on tiny random encoders: output shapes, losses and their gradients, the fusion and nested-head
rewrites against the direct forms of lear-reference.md, optimiser groups, gradient checkpointing, low precision."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TOY_LABELS
from torch.nn import functional as F
from toy_batches import toy_batch, training_targets

from lear import LearSpanExtractionOutput
from lear.modeling_lear import LearAttentionFusion, LearNestedHead, boundary_loss, span_loss
from lear.training import optimizer_param_groups


MODEL_KINDS = [pytest.param(False, id="flat"), pytest.param(True, id="nested")]


# -- shapes ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", MODEL_KINDS)
def test_forward_returns_per_label_logits_of_the_documented_shapes(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested)
    batch = toy_batch(toy_tokenizer)
    batch_size, length = batch.inputs["input_ids"].shape
    outputs = model(**batch.inputs)
    assert isinstance(outputs, LearSpanExtractionOutput)
    assert outputs.loss is None
    assert outputs.start_logits.shape == (batch_size, length, len(TOY_LABELS))
    assert outputs.end_logits.shape == (batch_size, length, len(TOY_LABELS))
    if nested:
        assert outputs.span_logits.shape == (batch_size, length, length, len(TOY_LABELS))
    else:
        assert outputs.span_logits is None


def test_tuple_output_puts_the_loss_first_when_return_dict_is_false(make_tiny_model, toy_tokenizer):
    model = make_tiny_model()
    batch = toy_batch(toy_tokenizer)
    model.eval()
    as_dict = model(**batch.inputs, **training_targets(batch, nested=False))
    # transformers' tuples keep the fields that are set: a flat model has no span logits
    loss, start_logits, end_logits = model(**batch.inputs, **training_targets(batch, nested=False), return_dict=False)
    assert torch.equal(loss, as_dict.loss)
    assert torch.equal(start_logits, as_dict.start_logits)
    assert torch.equal(end_logits, as_dict.end_logits)


def test_encoder_hidden_states_and_attentions_come_back_when_asked_for(make_tiny_model, toy_tokenizer):
    model = make_tiny_model().eval()
    model.set_attn_implementation("eager")  # sdpa computes no attention weights to return
    batch = toy_batch(toy_tokenizer)
    plain = model(**batch.inputs)
    assert plain.hidden_states is None and plain.attentions is None
    outputs = model(**batch.inputs, output_hidden_states=True, output_attentions=True)
    layers = model.config.encoder_config.num_hidden_layers
    assert len(outputs.hidden_states) == layers + 1 and len(outputs.attentions) == layers
    assert outputs.attentions[0].shape[-1] == batch.inputs["input_ids"].shape[1]
    assert torch.equal(outputs.start_logits, plain.start_logits)


# -- losses and gradients -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", MODEL_KINDS)
def test_loss_is_finite_and_backprop_reaches_encoder_fusion_and_heads(make_tiny_model, toy_tokenizer, nested):
    model = make_tiny_model(nested=nested)
    batch = toy_batch(toy_tokenizer)
    model.train()
    loss = model(**batch.inputs, **training_targets(batch, nested)).loss
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(parameter.grad).all(), name
    modules = [model.encoder, model.fusion, model.span_head] + ([model.nested_head] if nested else [])
    for module in modules:
        norm = sum(p.grad.abs().sum() for p in module.parameters())
        assert norm > 0, f"no gradient reaches {type(module).__name__}"


def test_training_re_encodes_label_descriptions_with_gradients(make_tiny_model, toy_tokenizer):
    model = make_tiny_model()
    batch = toy_batch(toy_tokenizer)
    # a word of the LOC description that no toy sentence contains: its embedding learns only through the label branch
    (token_id,) = toy_tokenizer("mountains", add_special_tokens=False)["input_ids"]
    assert not (batch.inputs["input_ids"] == token_id).any()
    model.train()
    model(**batch.inputs, **training_targets(batch, nested=False)).loss.backward()
    assert model.encoder.get_input_embeddings().weight.grad[token_id].abs().sum() > 0


def test_boundary_loss_sums_labels_and_averages_over_attended_tokens():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 3, generator=generator)
    labels = torch.randint(0, 2, (2, 5, 3), generator=generator)
    labels[0, 1, 2] = -100  # ignored
    attention_mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    expected, tokens = 0.0, 0
    for b in range(2):
        for i in range(5):
            if not attention_mask[b, i]:
                continue
            tokens += 1
            for c in range(3):
                if labels[b, i, c] != -100:
                    expected += F.binary_cross_entropy_with_logits(logits[b, i, c], labels[b, i, c].float()).item()
    assert boundary_loss(logits, labels, attention_mask).item() == pytest.approx(expected / tokens, rel=1e-5)


def test_nested_span_loss_pairs_gold_starts_only_with_gold_ends(make_tiny_model, toy_tokenizer):
    """The original scored gold start x any end (a bug); ours scores predicted pairs plus gold start x gold end."""
    model = make_tiny_model(nested=True)
    with torch.no_grad():  # no predicted starts or ends: only the gold term can nominate cells
        model.span_head.start_classifier.bias.fill_(-1e4)
        model.span_head.end_classifier.bias.fill_(-1e4)
    batch = toy_batch(toy_tokenizer)
    model.eval()
    outputs = model(**batch.inputs, **training_targets(batch, nested=True))
    scored = outputs.span_logits > torch.finfo(outputs.span_logits.dtype).min
    start, end = batch.targets["start_labels"] == 1, batch.targets["end_labels"] == 1
    gold_pairs = (
        start.unsqueeze(2) & end.unsqueeze(1) & torch.ones(scored.shape[1:3], dtype=torch.bool).triu()[..., None]
    )
    assert scored.any()
    assert torch.equal(scored, gold_pairs)
    assert torch.isfinite(outputs.loss)


def test_nested_model_asks_for_span_labels_to_compute_its_loss(make_tiny_model, toy_tokenizer):
    model = make_tiny_model(nested=True)
    batch = toy_batch(toy_tokenizer)
    with pytest.raises(ValueError, match="span_labels"):
        model(**batch.inputs, **training_targets(batch, nested=False))


# -- the rewrites are equal to the direct forms of the reference ----------------------------------------------------


def random_label_states_input(generator, num_labels=3, label_length=6, hidden_size=16):
    label_hidden = torch.randn(num_labels, label_length, hidden_size, generator=generator, dtype=torch.float64)
    label_mask = torch.ones(num_labels, label_length, dtype=torch.long)
    label_mask[0, 4:] = 0  # descriptions of different lengths: padding must be masked
    label_mask[2, 2:] = 0
    return label_hidden, label_mask


def tiny_fusion_config(make_tiny_model, **config_kwargs):
    return make_tiny_model(**config_kwargs).config


@pytest.mark.parametrize("attention_scale", [False, True], ids=["unscaled", "scaled"])
@pytest.mark.parametrize("autograd", [True, False], ids=["autograd", "no_grad"])  # two tanh code paths
def test_attention_fusion_equals_the_direct_form_of_the_reference(make_tiny_model, autograd, attention_scale):
    config = tiny_fusion_config(make_tiny_model, attention_scale=attention_scale)
    generator = torch.Generator().manual_seed(0)
    fusion = LearAttentionFusion(config).double()
    for parameter in fusion.parameters():  # a scale that makes the softmax and tanh non-trivial
        torch.nn.init.normal_(parameter, std=0.3, generator=generator)
    text_hidden = torch.randn(2, 5, config.hidden_size, generator=generator, dtype=torch.float64)
    label_hidden, label_mask = random_label_states_input(generator, hidden_size=config.hidden_size)

    with torch.set_grad_enabled(autograd):
        fused = fusion(text_hidden, fusion.prepare_labels(label_hidden, label_mask))
    assert fused.requires_grad == autograd

    # lear-reference.md section 2, written out: T = W1 h, K = W2 l, S = T.K masked, A = softmax, F = tanh(W3 (T + A K))
    T = text_hidden @ fusion.text_proj.weight.T  # [B, L, H]
    K = label_hidden @ fusion.label_proj.weight.T  # [C, Lq, H]
    expected = torch.empty_like(fused)
    for b in range(2):
        for c in range(3):
            S = T[b] @ K[c].T  # [L, Lq]
            if attention_scale:
                S = S / config.hidden_size**0.5
            S = S.masked_fill(label_mask[c] == 0, -torch.inf)
            A = S.softmax(-1)
            expected[c, b] = torch.tanh((T[b] + A @ K[c]) @ fusion.output_proj.weight.T + fusion.output_proj.bias)
    assert fused.shape == (3, 2, 5, config.hidden_size)  # label-major: [C, B, L, H]
    torch.testing.assert_close(fused, expected, rtol=1e-10, atol=1e-10)


def test_span_head_scores_each_label_with_its_own_weight_vector(make_tiny_model):
    """`start_logit[b, i, c] = F[c, b, i] . Ws[c] + bs[c]` (and the same for ends), lear-reference.md section 3."""
    model = make_tiny_model()
    generator = torch.Generator().manual_seed(3)
    head = model.span_head.double()
    for parameter in head.parameters():
        torch.nn.init.normal_(parameter, generator=generator)
    fused = torch.randn(model.config.num_labels, 2, 5, model.config.hidden_size, generator=generator).double()
    start_logits, end_logits = head(fused)
    for logits, classifier in ((start_logits, head.start_classifier), (end_logits, head.end_classifier)):
        expected = torch.empty(2, 5, model.config.num_labels, dtype=torch.float64)
        for b in range(2):
            for i in range(5):
                for c in range(model.config.num_labels):
                    expected[b, i, c] = fused[c, b, i] @ classifier.weight[c] + classifier.bias[c]
        torch.testing.assert_close(logits, expected, rtol=1e-10, atol=1e-10)


def test_nested_head_split_linear_equals_linear_on_concatenated_pairs(make_tiny_model):
    config = make_tiny_model(nested=True).config
    generator = torch.Generator().manual_seed(2)
    head = LearNestedHead(config).double().eval()  # eval: no dropout
    for parameter in head.parameters():
        torch.nn.init.normal_(parameter, std=0.3, generator=generator)
    batch_size, num_labels, length, hidden_size = 2, config.num_labels, 4, config.hidden_size
    fused = torch.randn(num_labels, batch_size, length, hidden_size, generator=generator, dtype=torch.float64)

    # The original's full [B, L, L, C, 2H] tensor of [F_i ; F_j], then Linear -> GELU -> per-label classifier
    per_token = fused.permute(1, 2, 0, 3)  # [B, L, C, H]
    pairs = torch.cat(
        [
            per_token[:, :, None].expand(batch_size, length, length, num_labels, hidden_size),
            per_token[:, None, :].expand(batch_size, length, length, num_labels, hidden_size),
        ],
        dim=-1,
    )
    hidden = F.gelu(head.span_proj(pairs))  # [B, L, L, C, 2H]
    expected = (hidden * head.span_classifier.weight).sum(-1) + head.span_classifier.bias  # [B, L, L, C]

    cells = torch.cartesian_prod(
        torch.arange(batch_size), torch.arange(length), torch.arange(length), torch.arange(num_labels)
    )  # every (batch, start, end, label) cell, i > j included
    scored = head(fused, cells)
    torch.testing.assert_close(scored, expected[tuple(cells.T)], rtol=1e-10, atol=1e-10)


class LargestTensor:
    """Records the size of the largest tensor any aten op produces inside the `with` block."""

    def __enter__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        probe = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for tensor in out if isinstance(out, (tuple, list)) else [out]:
                    if isinstance(tensor, torch.Tensor):
                        probe.numel = max(probe.numel, tensor.numel())
                return out

        self.numel = 0
        self.mode = Mode()
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        return self.mode.__exit__(*exc)


def test_attention_fusion_never_materialises_a_per_label_token_hidden_tensor(make_tiny_model, toy_tokenizer):
    """The largest intermediate is the [C, B, L, H] output or the [B, L, C, Lq] scores, not [B, L, C, Lq, H]."""
    model = make_tiny_model().eval()
    batch = toy_batch(toy_tokenizer)
    batch_size, length = batch.inputs["input_ids"].shape
    num_labels, hidden_size = model.config.num_labels, model.config.hidden_size
    label_length = model.label_batch()[0].shape[1]
    with torch.no_grad():
        label_states = model.compute_label_states()
        text_hidden = model.encoder(**batch.inputs).last_hidden_state
        with LargestTensor() as probe:
            fused = model.fusion(text_hidden, label_states)
            model.span_head(fused)
    assert fused.shape == (num_labels, batch_size, length, hidden_size)
    assert probe.numel <= batch_size * num_labels * length * max(hidden_size, label_length)


def test_nested_head_memory_grows_with_the_scored_cells_not_with_length_squared(make_tiny_model, toy_tokenizer):
    """Scoring N cells needs O(N H) memory beyond its inputs, never the original's [B, L, L, C, 2H]."""
    model = make_tiny_model(nested=True).eval()
    hidden_size, num_labels = model.config.hidden_size, model.config.num_labels
    batch_size, length = 4, 24
    fused = torch.randn(num_labels, batch_size, length, hidden_size)
    cells = torch.tensor([[b, i, i + 3, b % num_labels] for b in range(batch_size) for i in range(length - 3)])
    with torch.no_grad(), LargestTensor() as probe:
        logits = model.nested_head(fused, cells)
    assert logits.shape == (len(cells),)
    largest_weight = max(p.numel() for p in model.nested_head.parameters())
    assert probe.numel <= max(len(cells) * 2 * hidden_size, largest_weight)


# -- optimiser groups -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_every_trainable_parameter_lands_in_exactly_one_optimizer_group(make_tiny_model, nested):
    model = make_tiny_model(nested=nested)
    frozen = model.encoder.embeddings.position_embeddings.weight
    frozen.requires_grad_(False)
    groups = optimizer_param_groups(model, 2e-5, task_layer_lr=10.0, weight_decay=0.01)

    seen = [id(p) for group in groups for p in group["params"]]
    assert len(seen) == len(set(seen)), "a parameter is in two groups"
    trainable = {id(p): name for name, p in model.named_parameters() if p.requires_grad}
    assert set(seen) == set(trainable), "a trainable parameter is in no group, or a frozen one is in a group"
    assert id(frozen) not in seen

    for group in groups:
        for parameter in group["params"]:
            name = trainable[id(parameter)]
            expected_lr = 2e-5 if name.startswith("encoder.") else 2e-5 * 10.0
            assert group["lr"] == pytest.approx(expected_lr), name
            expected_decay = 0.0 if parameter.ndim == 1 else 0.01
            assert group["weight_decay"] == expected_decay, name
    # biases and norm weights do train, and the optimiser accepts the groups
    assert any(group["weight_decay"] == 0.0 and group["params"] for group in groups)
    torch.optim.AdamW(groups)


# -- gradient checkpointing and low precision -----------------------------------------------------------------------


def no_dropout_model(make_tiny_model, **kwargs):
    model = make_tiny_model(hidden_dropout_prob=0.0, span_dropout_prob=0.0, **kwargs)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


@pytest.mark.filterwarnings("ignore:`gradient_checkpointing_enable` is deprecated:FutureWarning")
def test_gradient_checkpointing_trains_a_step_with_unchanged_gradients(make_tiny_model, toy_tokenizer):
    batch = toy_batch(toy_tokenizer)
    targets = training_targets(batch, nested=True)
    gradients, layer_calls = [], []
    for checkpointing in (False, True):
        model = no_dropout_model(make_tiny_model, nested=True)
        if checkpointing:
            model.gradient_checkpointing_enable()
        calls = []
        model.encoder.encoder.layer[0].intermediate.register_forward_hook(lambda *args, calls=calls: calls.append(1))
        model.train()
        before = {name: p.detach().clone() for name, p in model.named_parameters()}
        optimizer = torch.optim.AdamW(optimizer_param_groups(model, 1e-3, task_layer_lr=10.0))
        loss = model(**batch.inputs, **targets).loss
        loss.backward()
        optimizer.step()
        layer_calls.append(len(calls))
        gradients.append({name: p.grad.clone() for name, p in model.named_parameters()})
        assert all(not torch.equal(before[name], p) for name, p in model.named_parameters() if "encoder.layer" in name)
    # text and labels each pass the layer once; checkpointing runs its inside again during backward
    assert layer_calls == [2, 4]
    for name, gradient in gradients[0].items():
        torch.testing.assert_close(gradients[1][name], gradient, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_low_precision_forward_on_cpu_is_finite_and_close_to_float32(make_tiny_model, toy_tokenizer, dtype, nested):
    model = make_tiny_model(nested=nested).eval()
    batch = toy_batch(toy_tokenizer)
    with torch.no_grad():
        reference = model(**batch.inputs)
        model.to(dtype)
        outputs = model(**batch.inputs, **training_targets(batch, nested))
    assert outputs.start_logits.dtype == dtype
    for name in ("start_logits", "end_logits"):
        assert torch.isfinite(outputs[name]).all(), name
        torch.testing.assert_close(outputs[name].float(), reference[name], rtol=0.05, atol=0.05)
    assert torch.isfinite(outputs.loss)
    if nested:
        assert not torch.isnan(outputs.span_logits).any()
    model.decode(outputs)  # decoding accepts low-precision logits


def test_nested_span_loss_is_normalised_as_the_original_code():
    """utils/losses.py:216-221 of the original: the span BCE summed over the scored cells, divided by (cells / C)."""
    cell_logits = torch.tensor([2.0, -1.0, 0.5, -3.0, 1.5])
    # (batch, start, end, label) of each scored cell; span_labels has C = 3 labels
    cells = torch.tensor([[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 2], [1, 0, 2, 0], [1, 2, 2, 1]])
    span_labels = torch.zeros(2, 3, 3, 3, dtype=torch.long)
    span_labels[0, 0, 0, 0] = span_labels[0, 1, 1, 2] = span_labels[1, 2, 2, 1] = 1
    targets = [1.0, 0.0, 1.0, 0.0, 1.0]
    # BCE with logits by hand: -log(sigmoid(x)) for positives, -log(1 - sigmoid(x)) for negatives
    by_hand = [
        math.log1p(math.exp(-x)) if y else math.log1p(math.exp(x)) for x, y in zip(cell_logits.tolist(), targets)
    ]
    original = sum(by_hand) / (len(by_hand) / 3)
    assert span_loss(cell_logits, cells, span_labels, "original").item() == pytest.approx(original, rel=1e-6)
    assert span_loss(cell_logits, cells, span_labels, "mean").item() == pytest.approx(sum(by_hand) / 5, rel=1e-6)
    assert span_loss(cell_logits, cells, span_labels).item() == pytest.approx(original, rel=1e-6)  # the default


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
@pytest.mark.parametrize("residual", [False, True], ids=["paper", "residual"])
def test_fusion_residual_adds_the_encoder_states_to_every_label(make_tiny_model, toy_tokenizer, residual, nested):
    """The heads read `h + fusion(h)` (a flat model adds the heads' `w . h` to its logits instead: the same up to
    float rounding)."""
    model = make_tiny_model(fusion_residual=residual, nested=nested, initializer_range=0.2).eval()
    inputs = toy_batch(toy_tokenizer).inputs
    with torch.no_grad():
        outputs = model(**inputs)
        text = model.encoder(**inputs).last_hidden_state
        fused = model.fusion(text, model.compute_label_states())
        expected_start, expected_end = model.span_head(fused + text if residual else fused)
    torch.testing.assert_close(outputs.start_logits, expected_start, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(outputs.end_logits, expected_end, atol=1e-5, rtol=1e-5)


def test_label_descriptions_longer_than_64_tokens_are_kept_whole(make_tiny_model, toy_tokenizer):
    """The original never truncates descriptions (an ACE 2005 event-type description is over 64 word pieces)."""
    long_description = " ".join(["names of places such as cities countries rivers and mountains"] * 8)
    model = make_tiny_model()
    model.set_labels({"LOC": long_description, "PER": "names of people"}, toy_tokenizer)
    full = toy_tokenizer(long_description)["input_ids"]
    assert model.config.max_label_length is None and len(full) > 64
    assert model.config.label_input_ids[0] == full
    outputs = model(**toy_batch(toy_tokenizer).inputs)
    assert outputs.start_logits.shape[-1] == 2
