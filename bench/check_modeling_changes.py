"""Check the two speed changes bench/ made to `lear/modeling_lear.py` against the forms they replaced, in values
and gradients, on random models (flat and nested, 1/4/18 labels):

1. `LearSpanHead.forward`: start and end classifiers fused into one einsum (was: two `LearLabelwiseLinear` calls).
2. `LearAttentionFusion.forward`: `attended.add_(W3 T).tanh_()` in place (was: `torch.tanh(W3 T + attended)`).

    python -m bench.check_modeling_changes
"""

from __future__ import annotations

import argparse

import torch
from transformers import BertConfig

from lear import LearConfig, LearForSpanExtraction, modeling_lear


TOLERANCE = 1e-6


def random_model(nested: bool, num_labels: int, seed: int) -> LearForSpanExtraction:
    torch.manual_seed(seed)
    encoder = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    label_ids = [[2] + [5 + (i + k) % 90 for k in range(3 + i % 4)] + [3] for i in range(num_labels)]
    config = LearConfig(
        encoder_config=encoder,
        id2label={i: f"L{i}" for i in range(num_labels)},
        label_descriptions=[f"label {i}" for i in range(num_labels)],
        label_input_ids=label_ids,
        nested=nested,
    )
    model = LearForSpanExtraction(config)
    # random (non-zero) biases, so that the bias path is checked too
    with torch.no_grad():
        model.span_head.start_classifier.bias.normal_()
        model.span_head.end_classifier.bias.normal_()
    return model


def separate_heads(model: LearForSpanExtraction, fused: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference: each `LearLabelwiseLinear` applied on its own (the form before the fusion)."""
    return model.span_head.start_classifier(fused), model.span_head.end_classifier(fused)


def relative_gradient_difference(grads_a: list[torch.Tensor], grads_b: list[torch.Tensor]) -> float:
    """Largest gradient difference over all parameters, relative to the largest gradient of the model: a scale of
    its own would blow up rounding noise on gradients that are zero in exact arithmetic (attention key biases)."""
    scale = max(grad.abs().max().item() for grad in grads_b)
    return max((a - b).abs().max().item() for a, b in zip(grads_a, grads_b)) / max(scale, 1e-12)


def differences(model: LearForSpanExtraction, seed: int) -> tuple[float, float]:
    """(largest absolute logit difference, largest relative gradient difference) between the fused head and the
    separate classifiers."""
    generator = torch.Generator().manual_seed(seed)
    fused = torch.randn(3, model.config.num_labels, 11, model.config.hidden_size, generator=generator)
    results = []
    for heads in (model.span_head, lambda x: separate_heads(model, x)):
        model.zero_grad(set_to_none=True)
        start, end = heads(fused)
        weights = torch.randn(start.shape, generator=torch.Generator().manual_seed(seed + 1))
        ((start * weights).sum() + (end * weights.flip(-1)).sum()).backward()
        grads = [p.grad.clone() for p in model.span_head.parameters()]
        results.append((start.detach(), end.detach(), grads))
    (start_a, end_a, grads_a), (start_b, end_b, grads_b) = results
    logits = max((start_a - start_b).abs().max().item(), (end_a - end_b).abs().max().item())
    return logits, relative_gradient_difference(grads_a, grads_b)


def reference_fusion_forward(self, text_hidden: torch.Tensor, labels) -> torch.Tensor:
    """`LearAttentionFusion.forward` as it was before the in-place change."""
    text = self.text_proj(text_hidden)
    scores = torch.einsum("bih,cjh->bcij", text, labels.keys)
    scores = scores.masked_fill(~labels.mask[None, :, None, :], torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)
    attended = torch.einsum("bcij,cjh->bcih", weights, labels.projected_values)
    return torch.tanh(self.output_proj(text).unsqueeze(1) + attended)


def fusion_differences(model: LearForSpanExtraction, seed: int) -> tuple[float, float]:
    """(largest absolute logit difference, largest relative gradient difference) of the whole model's forward and
    loss gradient, current fusion vs `reference_fusion_forward` (eval mode, so no dropout mask differs)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, 100, (3, 13), generator=generator)
    input_ids[:, 0] = 2
    targets = (torch.rand(3, 13, model.config.num_labels, generator=generator) < 0.1).long()
    spans = torch.zeros(3, 13, 13, model.config.num_labels, dtype=torch.long) if model.config.nested else None
    results = []
    current = modeling_lear.LearAttentionFusion.forward
    for forward in (current, reference_fusion_forward):
        modeling_lear.LearAttentionFusion.forward = forward
        try:
            model.zero_grad(set_to_none=True)
            outputs = model(input_ids=input_ids, start_labels=targets, end_labels=targets, span_labels=spans)
            outputs.loss.backward()
        finally:
            modeling_lear.LearAttentionFusion.forward = current
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append((outputs.start_logits.detach(), outputs.end_logits.detach(), grads))
    (start_a, end_a, grads_a), (start_b, end_b, grads_b) = results
    logits = max((start_a - start_b).abs().max().item(), (end_a - end_b).abs().max().item())
    return logits, relative_gradient_difference(grads_a, grads_b)


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    failed = False
    for name, check in (("fused start/end head", differences), ("in-place fusion", fusion_differences)):
        worst_logits = worst_gradients = 0.0
        for nested in (False, True):
            for num_labels in (1, 4, 18):
                for seed in range(3):
                    logits, gradients = check(random_model(nested, num_labels, seed), seed)
                    worst_logits, worst_gradients = max(worst_logits, logits), max(worst_gradients, gradients)
        print(
            f"{name}: max |logit difference| = {worst_logits:.2e}, max relative gradient difference = "
            f"{worst_gradients:.2e} (tolerance {TOLERANCE:.0e} for both)"
        )
        failed |= worst_logits > TOLERANCE or worst_gradients > TOLERANCE
    if failed:
        raise SystemExit("a changed form differs from the one it replaced")


if __name__ == "__main__":
    main()
