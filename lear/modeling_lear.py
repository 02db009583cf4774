# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""PyTorch LEAR: "Enhanced Language Representation with Label Knowledge for Span Extraction" (Yang et al., 2021).

Reading order: label-knowledge fusion modules, per-label heads, `LearPreTrainedModel`, `LearForSpanExtraction`, the
losses. Decoding (logits -> spans) is `decoding_lear`: plain functions on tensors.

This module imports only torch, transformers and its siblings `configuration_lear` and `decoding_lear`, relatively:
transformers copies a custom model's module and its relative imports next to a checkpoint, so that it loads with
`trust_remote_code=True` without the `lear` package.

Shape legend: B batch, L text length, C labels, Lq label-description length, H hidden size, N selected cells.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Unpack

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput, TransformersKwargs
from transformers.utils.generic import can_return_tuple

from .configuration_lear import LearConfig
from .decoding_lear import Span, columns_thresholds, decode_spans, upper_triangle
from .windowing import character_pieces_wanted


# ---------------------------------------------------------------------------------------------------------------------
# Label-knowledge fusion
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class LearLabelStates:
    """Label-side tensors that do not depend on the text: `LearForSpanExtraction.compute_label_states()` makes them,
    and a caller that predicts repeatedly makes them once and passes them to every forward (`label_states=`).

    `keys` is `W2 l` `[C, Lq, H]` (times `1/sqrt(H)` with `config.attention_scale`), the keys the scores use;
    `projected_values` is `(W2 l) @ W3^T` `[C, Lq, H]`, the values already through `W3`; `mask_bias` is `[C, Lq]`: 0
    on description tokens, the dtype's minimum on padding.
    `pooled` `[C, H]` is each description's mean token state, what description-driven classifiers read
    (`boundary_classifier="description"`). `label_ids` `[C]` says which of the model's labels the C rows are (the rows
    of per-label classifiers; -1 for a label the model has no row for); None: all the model's labels, in id order.
    """

    keys: torch.Tensor
    projected_values: torch.Tensor | None = None
    mask_bias: torch.Tensor | None = None
    pooled: torch.Tensor | None = None
    label_ids: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.keys.shape[0]

    def select(self, index: slice) -> LearLabelStates:
        """The states of a slice of the labels (every tensor is label-major)."""
        values = (getattr(self, field.name) for field in dataclasses.fields(self))
        return LearLabelStates(*(None if value is None else value[index] for value in values))


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """`tanh` in place. On CPU without autograd it is computed as `2 sigmoid(2x) - 1`: torch's CPU tanh kernel is
    about 4x slower than its sigmoid (9.0 vs 2.3 ms on a `[18, 8, 64, 384]` fp32 tensor, one thread), and this is
    LEAR's largest elementwise op. With autograd the plain kernel runs, since sigmoid's backward needs its own output,
    which the in-place tail would overwrite. The two forms differ by rounding only (about 1e-7 in fp32)."""
    if x.requires_grad or x.device.type != "cpu":
        return x.tanh_()
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


class LearAttentionFusion(nn.Module):
    """The paper's fusion: every token attends over each label's description tokens.

    `F[c,b,i] = tanh(W3 (T[b,i] + sum_j A[b,i,c,j] K[c,j]))` with `T = W1 h`, `K = W2 l`,
    `A = softmax_j(T[b,i] . K[c,j] / sqrt(H))` (single head; the original has no `1/sqrt(H)`: `attention_scale=False`).
    The model adds `h` to the result when `config.fusion_residual` (the default).

    Computed as `tanh(W3 T + A (K W3^T))`: `W3 T` once per token and `K W3^T` once per label (in the label states),
    so the per-label work is two `[L, Lq]` x `[Lq, H]` matmuls and a tanh rather than a per-label `H x H` layer, and
    no `[B, L, C, Lq, H]` tensor is ever built.

    The output is label-major, `[C, B, L, H]`: each label's block is one contiguous `[B*L, H]` matrix, so the
    attention values and the per-label heads are plain batched matmuls over labels with no transposed copies of the
    largest tensor (on CPU, `einsum` over a `[B, C, L, H]` layout made the heads about 3x slower).
    """

    def __init__(self, config: LearConfig):
        super().__init__()
        hidden_size = config.hidden_size
        self.text_proj = nn.Linear(hidden_size, hidden_size, bias=False)  # W1
        self.label_proj = nn.Linear(hidden_size, hidden_size, bias=False)  # W2
        self.output_proj = nn.Linear(hidden_size, hidden_size)  # W3
        self.score_scale = hidden_size**-0.5 if config.attention_scale else 1.0

    def prepare_labels(self, label_hidden: torch.Tensor, label_mask: torch.Tensor) -> LearLabelStates:
        # label_hidden: [C, Lq, H], label_mask: [C, Lq]
        keys = self.label_proj(label_hidden)
        projected_values = F.linear(keys, self.output_proj.weight)  # bias is added once, on the text side
        padding = ~label_mask.bool()
        mask_bias = torch.zeros(padding.shape, dtype=keys.dtype, device=keys.device)
        mask_bias = mask_bias.masked_fill(padding, torch.finfo(keys.dtype).min)
        # The 1/sqrt(H) score scale rides on the keys, which serve the scores only (the values were taken above), so
        # at inference it is paid once per label set, in the label states.
        scaled_keys = keys * self.score_scale if self.score_scale != 1.0 else keys
        return LearLabelStates(keys=scaled_keys, projected_values=projected_values, mask_bias=mask_bias)

    def forward(self, text_hidden: torch.Tensor, labels: LearLabelStates) -> torch.Tensor:
        # text_hidden: [B, L, H] -> fused: [C, B, L, H]
        batch_size, length, hidden_size = text_hidden.shape
        num_labels, label_length, _ = labels.keys.shape
        text = self.text_proj(text_hidden)
        # One GEMM against every label token; the [B*L, C, Lq] layout keeps each softmax row contiguous.
        scores = (text.reshape(-1, hidden_size) @ labels.keys.reshape(-1, hidden_size).T).view(
            batch_size * length, num_labels, label_length
        )
        weights = scores.add_(labels.mask_bias).softmax(dim=-1)  # [B*L, C, Lq]
        attended = torch.bmm(weights.transpose(0, 1), labels.projected_values)  # A (K W3^T): [C, B*L, H]
        fused = attended.view(num_labels, batch_size, length, hidden_size)
        # In place on fresh matmul outputs (their backward needs only the inputs; tanh_ keeps its result for its
        # own): saves allocating and writing two more [C, B, L, H] tensors, the largest here.
        return _tanh_(fused.add_(self.output_proj(text)))


# ---------------------------------------------------------------------------------------------------------------------
# Heads
# ---------------------------------------------------------------------------------------------------------------------


class LearLabelwiseLinear(nn.Module):
    """A weight vector and bias per label: `logit[c, b, i] = x[c, b, i] . W[c] + b[c]`, in one of two forms
    (`config.boundary_classifier`):

    - `"per_label"`: `W[c]`, `b[c]` are rows of their own, as in the paper.
    - `"description"`: `[W[c]; b[c]] = [w; b] + G q[c] / sqrt(H)`, generated from the label's description (`q[c]`, its
      mean token state, `LearLabelStates.pooled`) by a matrix `G` that starts at zero. No row belongs to a label, so any
      label given by a description is scored as the trained ones are: `x . G q` compares the token's fused state with
      the description's (as GLiNER scores span x label), on top of the fusion's attention over the description.

    `LearSpanHead` applies its start and end classifiers together in one matmul; the nested head scores selected
    cells with `score_selected`."""

    def __init__(self, num_labels: int, in_features: int, kind: str = "per_label", label_size: int | None = None):
        super().__init__()
        self.kind = kind
        if kind == "description":
            self.weight = self.bias = None
            self.shared_weight = nn.Parameter(torch.empty(in_features))  # w
            self.shared_bias = nn.Parameter(torch.zeros(1))  # b
            self.generator = nn.Parameter(torch.empty(in_features + 1, label_size or in_features))  # G
            return
        self.weight = nn.Parameter(torch.empty(num_labels, in_features))  # W
        self.bias = nn.Parameter(torch.zeros(num_labels))

    def label_weights(self, labels: LearLabelStates | None = None) -> torch.Tensor:
        """`[C, in_features]`: the effective weight vector of each label of `labels` (per-label rows: all the model's
        labels when None)."""
        return self.weights_and_biases(labels)[0]

    def weights_and_biases(self, labels: LearLabelStates | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`[C, in_features]` weight vectors and `[C]` biases of the labels of `labels`. Per-label rows of a label the
        model does not know (`label_ids` -1) are the mean of the trained rows."""
        if self.kind == "description":
            if labels is None or labels.pooled is None:
                raise ValueError("a description classifier needs the labels' states (compute_label_states())")
            generated = F.linear(labels.pooled, self.generator) * labels.pooled.shape[-1] ** -0.5  # [C, in + 1]
            return self.shared_weight + generated[:, :-1], self.shared_bias + generated[:, -1]
        weight, bias = self.weight, self.bias
        label_ids = None if labels is None else labels.label_ids
        if label_ids is None:
            return weight, bias
        known = label_ids >= 0
        rows = label_ids.clamp(min=0)
        weight_rows = torch.where(known[:, None], weight[rows], weight.mean(0))
        return weight_rows, torch.where(known, bias[rows], bias.mean())

    def score_selected(
        self, features: torch.Tensor, label_index: torch.Tensor, labels: LearLabelStates | None = None
    ) -> torch.Tensor:
        # features: [N, D], label_index: [N] (into the labels of `labels`) -> logits [N]
        weight, bias = self.weights_and_biases(labels)
        return (features * weight[label_index]).sum(-1) + bias[label_index]

    @torch.no_grad()
    def remap_labels(self, old_index_of_new: list[int | None]) -> None:
        """Rebuild the rows for a new label list: kept labels keep their row, new ones start from the mean row.
        Description classifiers have no rows: nothing to do."""
        if self.kind == "description":
            return
        mean_weight, mean_bias = self.weight.mean(0), self.bias.mean(0)
        weight = [self.weight[i] if i is not None else mean_weight for i in old_index_of_new]
        bias = [self.bias[i] if i is not None else mean_bias for i in old_index_of_new]
        self.weight = nn.Parameter(torch.stack(weight).clone())
        self.bias = nn.Parameter(torch.stack(bias).clone())


class LearSpanHead(nn.Module):
    """Per-label start and end pointers over the fused token representations."""

    def __init__(self, config: LearConfig):
        super().__init__()
        kind, hidden_size = config.boundary_classifier, config.hidden_size
        self.start_classifier = LearLabelwiseLinear(config.num_labels, hidden_size, kind, hidden_size)
        self.end_classifier = LearLabelwiseLinear(config.num_labels, hidden_size, kind, hidden_size)

    def forward(self, fused: torch.Tensor, labels: LearLabelStates | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # fused: [C, B, L, H] -> start_logits, end_logits: [B, L, C]
        # Both classifiers in one batched matmul: `fused` (the largest tensor here) is read once instead of twice;
        # the result equals the two separate classifiers. Written as weight @ tokens^T because a GEMM with 2 output
        # columns is about 4x slower on CPU than the same product with 2 output rows.
        num_labels, batch_size, length, hidden_size = fused.shape
        start_weight, start_bias = self.start_classifier.weights_and_biases(labels)
        end_weight, end_bias = self.end_classifier.weights_and_biases(labels)
        weight = torch.stack([start_weight, end_weight], dim=1)  # [C, 2, H]
        bias = torch.stack([start_bias, end_bias])  # [2, C]
        tokens = fused.reshape(num_labels, -1, hidden_size).transpose(1, 2)  # [C, H, B*L]
        logits = torch.bmm(weight, tokens).view(num_labels, 2, batch_size, length)
        logits = logits.permute(1, 2, 3, 0) + bias[:, None, None, :]  # [2, B, L, C]
        return logits[0], logits[1]  # [B, L, C] each

    def token_logits(
        self, hidden: torch.Tensor, labels: LearLabelStates | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The classifiers' weights applied to label-independent states, without biases: hidden `[B, L, H]` ->
        start, end `[B, L, C]`. The model adds them to `forward`'s logits for the fusion residual."""
        weight = torch.cat(
            [self.start_classifier.label_weights(labels), self.end_classifier.label_weights(labels)]
        )  # [2C, H]
        logits = hidden @ weight.T  # [B, L, 2C]
        return logits.chunk(2, dim=-1)


class LearNestedHead(nn.Module):
    """Scores (start i, end j, label c) cells for nested spans: `[F_i; F_j] -> Linear(2H, 2H) -> GELU -> Dropout ->
    per-label classifier`, as in the original.

    `Linear([F_i; F_j]) = A F_i + B F_j + b`, so the two halves are projected once per token and only the selected
    cells are combined: memory is O(C B L H + N H), never the original's O(B L^2 C H).
    """

    def __init__(self, config: LearConfig):
        super().__init__()
        hidden_size = config.hidden_size
        self.span_proj = nn.Linear(2 * hidden_size, 2 * hidden_size)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(config.span_dropout_prob)
        self.span_classifier = LearLabelwiseLinear(
            config.num_labels, 2 * hidden_size, config.boundary_classifier, hidden_size
        )

    def forward(self, fused: torch.Tensor, cells: torch.Tensor, labels: LearLabelStates | None = None) -> torch.Tensor:
        # fused: [C, B, L, H]; cells: [N, 4] rows of (batch, start, end, label) -> logits [N]
        hidden_size = fused.shape[-1]
        start_weight, end_weight = self.span_proj.weight.split(hidden_size, dim=1)  # [2H, H] each
        batch, start, end, label = cells.unbind(-1)
        start_part = F.linear(fused[label, batch, start], start_weight, self.span_proj.bias)  # [N, 2H]
        end_part = F.linear(fused[label, batch, end], end_weight)  # [N, 2H]
        span_hidden = self.dropout(self.activation(start_part + end_part))
        return self.span_classifier.score_selected(span_hidden, label, labels)


# ---------------------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class LearSpanExtractionOutput(ModelOutput):
    """
    Output of [`LearForSpanExtraction`].

    Args:
        loss (`torch.FloatTensor` of shape `()`, *optional*): start + end (+ span) binary cross-entropy.
        start_logits (`torch.FloatTensor` of shape `(batch_size, sequence_length, num_labels)`).
        end_logits (`torch.FloatTensor` of shape `(batch_size, sequence_length, num_labels)`).
        span_logits (`torch.FloatTensor` of shape `(batch_size, sequence_length, sequence_length, num_labels)`,
            *optional*): nested models only; cells that were not scored (not candidates) hold the dtype's minimum.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*): the text encoder's, with `output_hidden_states=True`.
        attentions (`tuple(torch.FloatTensor)`, *optional*): the text encoder's, with `output_attentions=True`.
    """

    loss: torch.FloatTensor | None = None
    start_logits: torch.FloatTensor | None = None
    end_logits: torch.FloatTensor | None = None
    span_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


SPECIAL_TOKEN_IDS = ("pad_token_id", "bos_token_id", "eos_token_id")
#: Labels whose fused states a flat model builds at once at inference (`boundary_logits`): a [C, B, L, H]
#: tensor grows with the labels asked for, and 200 labels of a 32-window batch would need gigabytes.
LABEL_CHUNK = 64
POOLER_WEIGHTS = r"(^|\.)pooler\."  # the encoder's pooler, which LEAR never uses


def _encoder_class(encoder_config) -> type[PreTrainedModel]:
    """The base model class `AutoModel` builds for this encoder config."""
    return AutoModel._model_mapping[type(encoder_config)]


def _encoder_init_kwargs(encoder_config) -> dict[str, Any]:
    """LEAR never uses a pooler; leaving it out avoids parameters without gradients (which break DDP)."""
    accepts_pooler_flag = "add_pooling_layer" in inspect.signature(_encoder_class(encoder_config).__init__).parameters
    return {"add_pooling_layer": False} if accepts_pooler_flag else {}


def _load_pretrained_encoder(encoder_name_or_path: str, encoder_config) -> PreTrainedModel:
    """The pretrained encoder, built without its pooler where it has one.

    A checkpoint's pooler weights are then expected leftovers. They are declared so through the class attribute
    transformers reads for this (`_keys_to_ignore_on_load_unexpected`), on a throwaway subclass rather than on the
    shared class: the load report stays quiet about them and still reports any other missing or unexpected weight.
    """
    init_kwargs = _encoder_init_kwargs(encoder_config)
    model_class = _encoder_class(encoder_config)
    if init_kwargs:
        ignored = [*(model_class._keys_to_ignore_on_load_unexpected or []), POOLER_WEIGHTS]
        model_class = type(model_class.__name__, (model_class,), {"_keys_to_ignore_on_load_unexpected": ignored})
    return model_class.from_pretrained(encoder_name_or_path, config=encoder_config, **init_kwargs)


def tokenize_label_descriptions(tokenizer, descriptions: list[str], max_length: int | None = None) -> list[list[int]]:
    """Tokenize descriptions as `[CLS] description [SEP]` (the tokenizer's own special tokens), unpadded, truncated at
    `max_length` tokens (`None`: at the tokenizer's `model_max_length`, i.e. what the encoder can take)."""
    if not descriptions:
        raise ValueError("no label descriptions given")
    empty = [i for i, text in enumerate(descriptions) if not isinstance(text, str) or not text.strip()]
    if empty:
        raise ValueError(f"label descriptions must be non-empty strings; got an empty one at label ids {empty}")
    return tokenizer(list(descriptions), truncation=True, max_length=max_length)["input_ids"]


def pad_label_texts(texts: list[list[int]], pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenized label texts right-padded: `input_ids` and `attention_mask`, `[C, Lq]`."""
    longest = max(len(text) for text in texts)
    input_ids = torch.full((len(texts), longest), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(texts), longest), dtype=torch.long)
    for row, text in enumerate(texts):
        input_ids[row, : len(text)] = torch.tensor(text, dtype=torch.long)
        attention_mask[row, : len(text)] = 1
    return input_ids, attention_mask


class LearPreTrainedModel(PreTrainedModel):
    config_class = LearConfig
    config: LearConfig
    base_model_prefix = "lear"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True

    def _init_weights(self, module: nn.Module) -> None:
        # The encoder is a PreTrainedModel: transformers dispatches its own `_init_weights` to it.
        super()._init_weights(module)
        if isinstance(module, LearLabelwiseLinear):
            if module.kind == "description":  # every label starts from the shared vector; G learns to move it
                init.normal_(module.shared_weight, mean=0.0, std=self.config.initializer_range)
                init.zeros_(module.shared_bias)
                init.zeros_(module.generator)
                return
            init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            init.zeros_(module.bias)

    # A convenience for users holding a model and its outputs; the package itself (pipeline, evaluation) calls
    # `decoding_lear.decode_spans` with the config, which is all decoding needs.
    def decode(
        self,
        outputs: LearSpanExtractionOutput,
        start_mask: torch.Tensor | None = None,
        end_mask: torch.Tensor | None = None,
        nested: bool | None = None,
        strategy: str | None = None,
        threshold: float | None = None,
    ) -> list[list[Span]]:
        """Decode model outputs into spans over token positions with the config's settings (`decode_spans`)."""
        return decode_spans(
            self.config, outputs.start_logits, outputs.end_logits, outputs.span_logits, start_mask, end_mask,
            nested=nested, strategy=strategy, threshold=threshold,
        )  # fmt: skip


class LearForSpanExtraction(LearPreTrainedModel):
    """LEAR for span extraction (flat or nested NER, event triggers).

    The text and every label's description are encoded by the same encoder; the fusion module gives one token
    representation per label; per-label start/end classifiers (and, when `config.nested`, a span classifier) mark
    span boundaries. The tokenized label descriptions live in the config, so a saved model predicts with no extra
    input. `forward` encodes them in every call (so training backpropagates through them) unless given their states:
    a caller that predicts repeatedly computes them once with `compute_label_states()` and passes `label_states=`,
    as the span-extraction pipeline does.

    Example:

    ```python
    >>> from lear import LearForSpanExtraction
    >>> model = LearForSpanExtraction.from_encoder(
    ...     "path/to/bert", labels={"PER": "names of people", "LOC": "names of places"}
    ... )  # doctest: +SKIP
    >>> outputs = model(**tokenizer(["Ada Lovelace lived in London"], return_tensors="pt"))  # doctest: +SKIP
    >>> model.decode(outputs)  # doctest: +SKIP
    [[Span(start=1, end=2, label=0, score=0.97), Span(start=5, end=5, label=1, score=0.95)]]
    ```
    """

    def __init__(self, config: LearConfig, encoder: PreTrainedModel | None = None):
        r"""
        encoder (`PreTrainedModel`, *optional*): the text encoder, already built (`from_encoder` passes the pretrained
            one, as `EncoderDecoderModel` takes its encoder); built from `config.encoder_config` when omitted.
        """
        super().__init__(config)
        if encoder is None:
            encoder = AutoModel.from_config(
                config.encoder_config, trust_remote_code=False, **_encoder_init_kwargs(config.encoder_config)
            )
        self.encoder = encoder
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.fusion = LearAttentionFusion(config)
        self.span_head = LearSpanHead(config)
        self.nested_head = LearNestedHead(config) if config.nested else None
        self.post_init()

    # -- construction and labels --------------------------------------------------------------------------------------

    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str,
        labels: Mapping[str, str],
        tokenizer=None,
        **config_kwargs: Any,
    ) -> LearForSpanExtraction:
        """Build a LEAR model on pretrained encoder weights.

        Args:
            encoder_name_or_path: a local folder or Hub id that `AutoModel`/`AutoTokenizer` load.
            labels: label name -> natural-language description, in the id order wanted.
            tokenizer: the encoder's tokenizer (loaded from `encoder_name_or_path` when omitted).
            config_kwargs: any other `LearConfig` field (`nested=True`, `fusion_residual=False`, ...).
        """
        tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(encoder_name_or_path)
        # Encoders are classes transformers ships: one that needs remote code is refused here, by transformers.
        encoder_config = AutoConfig.from_pretrained(encoder_name_or_path, trust_remote_code=False)
        encoder = _load_pretrained_encoder(encoder_name_or_path, encoder_config)
        max_label_length = config_kwargs.pop("max_label_length", LearConfig().max_label_length)
        # The tokenizer's special tokens, as the Trainer expects to find them in the config (it rewrites and warns
        # otherwise).
        for name in SPECIAL_TOKEN_IDS:
            if getattr(tokenizer, name, None) is not None:
                config_kwargs.setdefault(name, getattr(tokenizer, name))
        # one piece per character where the tokenizer merges CJK characters (windowing's rule, as run_lear sets it)
        config_kwargs.setdefault("character_pieces", character_pieces_wanted(tokenizer))
        # the attention implementation the encoder was loaded with: a new config would reset it on its sub-configs
        config_kwargs.setdefault("attn_implementation", encoder.config._attn_implementation)
        config = LearConfig(
            encoder_config=encoder.config,
            id2label=dict(enumerate(labels)),
            label_descriptions=list(labels.values()),
            label_input_ids=tokenize_label_descriptions(tokenizer, list(labels.values()), max_label_length),
            max_label_length=max_label_length,
            **config_kwargs,
        )
        model = cls(config, encoder=encoder)  # the pretrained encoder itself: its weights are loaded once
        model.config.name_or_path = encoder_name_or_path
        return model

    def set_labels(self, labels: Mapping[str, str], tokenizer=None) -> None:
        """Replace the label set: names (in id order) with their descriptions.

        Labels already known keep their trained classifier rows and calibrated thresholds. With per-label classifiers
        a new label's rows start from the mean of the trained rows: it is scored at once, but from its description
        alone it is not found (0 F1 in our held-out-label benchmark): fine-tune on examples of it. A model with
        `boundary_classifier="description"` has no rows: it scores any label from its description (docs/zero-shot.md).
        A new label decodes at `unseen_label_threshold` where calibrated, else at the median calibrated threshold
        (`decoding_lear.columns_thresholds`). The tokenizer defaults to the one saved with the
        model (`name_or_path`). Label states computed before (`compute_label_states()`) must be computed again.
        """
        if not labels:
            raise ValueError("set_labels needs at least one label")
        if tokenizer is None:
            tokenizer = self._load_own_tokenizer()
        descriptions = list(labels.values())
        label_input_ids = tokenize_label_descriptions(tokenizer, descriptions, self.config.max_label_length)
        old_label2id = {name: i for i, name in enumerate(self.config.label_names)} if self.config.id2label else {}
        old_index_of_new = [old_label2id.get(name) for name in labels]
        for head in self._labelwise_layers():
            head.remap_labels(old_index_of_new)
        if self.config.label_thresholds is not None:  # a new label decodes as `decode_spans` decodes an unknown one
            self.config.label_thresholds = columns_thresholds(
                self.config.label_thresholds,
                [-1 if i is None else i for i in old_index_of_new],
                self.config.unseen_label_threshold,
            )
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {name: i for i, name in enumerate(labels)}
        self.config.label_descriptions = descriptions
        self.config.label_input_ids = label_input_ids

    def _labelwise_layers(self) -> list[LearLabelwiseLinear]:
        return [module for module in self.modules() if isinstance(module, LearLabelwiseLinear)]

    def _load_own_tokenizer(self):
        try:
            return AutoTokenizer.from_pretrained(self.config.name_or_path)
        except (OSError, ValueError) as error:
            raise ValueError(
                "set_labels needs the encoder's tokenizer to tokenize the descriptions: pass tokenizer=..., "
                f"none could be loaded from {self.config.name_or_path!r}"
            ) from error

    # -- label representations ----------------------------------------------------------------------------------------

    def label_batch(
        self, label_ids: torch.Tensor | None = None, label_input_ids: list[list[int]] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenized label descriptions as padded `input_ids` and `attention_mask`, both `[C, Lq]`: the model's own
        (`config.label_input_ids`; only the rows `label_ids` when given), or `label_input_ids` when given."""
        ids = label_input_ids if label_input_ids is not None else self.config.label_input_ids
        if not ids:
            raise ValueError(
                "this LEAR model has no tokenized label descriptions: build it with "
                "LearForSpanExtraction.from_encoder(...) or call model.set_labels({...}, tokenizer)"
            )
        if label_input_ids is None and label_ids is not None:
            ids = [ids[label_id] for label_id in label_ids.tolist()]
        input_ids, attention_mask = pad_label_texts(ids, self.config.encoder_config.pad_token_id or 0)
        device = self.encoder.get_input_embeddings().weight.device
        return input_ids.to(device), attention_mask.to(device)

    def compute_label_states(
        self,
        label_ids: torch.Tensor | list[int] | None = None,
        label_input_ids: list[list[int]] | torch.Tensor | None = None,
        label_attention_mask: torch.Tensor | None = None,
    ) -> LearLabelStates:
        """Encode label descriptions and prepare them for fusion.

        By default the model's own labels (`config.label_input_ids`, all of them in id order). `label_ids` (`[C]`)
        keeps only those labels, in that order (training on many labels samples a subset per batch). `label_input_ids`
        (tokenized descriptions, `tokenize_label_descriptions`) scores other labels instead, without changing the model;
        `label_ids` then says which model label each one is (-1: one it does not know), for per-label classifiers:
        with `boundary_classifier="description"` any description is scored as the trained ones are. A padded
        `[C, Lq]` tensor with its `label_attention_mask` is taken as it is (what a training batch carries).

        `forward` calls this when it is not given `label_states`, with gradients when they are enabled (training).
        To predict repeatedly, call it once under `torch.no_grad()` and pass the result to each forward; compute them
        again after anything that changes them: `set_labels`, new weights, a move to another device or dtype."""
        device = self.encoder.get_input_embeddings().weight.device
        if label_ids is not None:
            label_ids = torch.as_tensor(label_ids, dtype=torch.long, device=device)
        elif label_input_ids is not None and self.config.boundary_classifier != "description":
            label_ids = torch.full((len(label_input_ids),), -1, dtype=torch.long, device=device)
        if label_input_ids is not None and label_ids is not None and len(label_ids) != len(label_input_ids):
            raise ValueError(f"{len(label_ids)} label_ids for {len(label_input_ids)} label descriptions")
        if isinstance(label_input_ids, torch.Tensor):
            if label_attention_mask is None:
                raise ValueError("label_input_ids as a padded tensor needs its label_attention_mask")
            input_ids, attention_mask = label_input_ids.to(device), label_attention_mask.to(device)
        else:
            input_ids, attention_mask = self.label_batch(label_ids, label_input_ids)
        label_hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        states = self.fusion.prepare_labels(label_hidden, attention_mask)
        weights = attention_mask.unsqueeze(-1).to(label_hidden.dtype)  # [C, Lq, 1]
        states.pooled = (label_hidden * weights).sum(1) / weights.sum(1)  # [C, H]
        states.label_ids = label_ids
        return states

    # -- forward ------------------------------------------------------------------------------------------------------

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        start_labels: torch.Tensor | None = None,
        end_labels: torch.Tensor | None = None,
        span_labels: torch.Tensor | None = None,
        label_ids: torch.Tensor | None = None,
        label_input_ids: torch.Tensor | None = None,
        label_attention_mask: torch.Tensor | None = None,
        label_states: LearLabelStates | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> LearSpanExtractionOutput:
        r"""
        input_ids, attention_mask, token_type_ids, position_ids: `[B, L]` text inputs, as for the encoder.
        start_labels, end_labels (`[B, L, C]`, 0/1, -100 to ignore a position): gold span boundaries.
        span_labels (`[B, L, L, C]`, 0/1, nested models only): gold spans, `span_labels[b, i, j, c] = 1` for a span
            from token i to token j (inclusive) of label c.
        label_ids (`[C]`, *optional*): score only these of the model's labels (the logits' last axis follows them, and
            so must the targets'): a batch of a many-label training mix carries its positives and sampled negatives.
        label_input_ids, label_attention_mask (`[C, Lq]`, *optional*): the text read for each of these labels in
            place of its description in the config (a training batch may read a label by its name,
            `LearDataCollator.label_name_probability`).
        label_states (`LearLabelStates`, *optional*): the label descriptions' states from `compute_label_states()`,
            for a caller that predicts repeatedly; computed here from `config.label_input_ids` when not given (always
            when training, so that gradients reach the encoder through the descriptions).
        kwargs: passed to the text encoder (`output_hidden_states`, `output_attentions`, ...); `return_dict=False`
            gives the output's non-None fields as a tuple, the loss first.
        """
        if attention_mask is None:
            reference = input_ids if input_ids is not None else inputs_embeds[..., 0]
            attention_mask = torch.ones(reference.shape[:2], dtype=torch.long, device=reference.device)
        encoder_outputs = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            return_dict=True,
            **kwargs,
        )
        text_hidden = self.dropout(encoder_outputs.last_hidden_state)  # [B, L, H]
        if label_states is None:
            label_states = self.compute_label_states(label_ids, label_input_ids, label_attention_mask)
        elif (
            label_states.label_ids is None
            and self.config.boundary_classifier != "description"
            and len(label_states) != self.config.num_labels
        ):
            message = f"label_states hold {len(label_states)} labels, the model {self.config.num_labels}"
            raise ValueError(f"{message}: compute them again (compute_label_states()) after set_labels")
        start_logits, end_logits, fused = self.boundary_logits(text_hidden, label_states)  # [B, L, C] each

        span_logits = None
        if self.nested_head is not None:
            cells, cell_logits, span_logits = self.score_spans(
                fused, start_logits, end_logits, attention_mask, start_labels, end_labels, label_states
            )

        loss = None
        if start_labels is not None and end_labels is not None:
            loss = boundary_loss(start_logits, start_labels, attention_mask)
            loss = loss + boundary_loss(end_logits, end_labels, attention_mask)
            if self.nested_head is not None:
                if span_labels is None:
                    raise ValueError("a nested LEAR model needs span_labels for its loss")
                loss = loss + span_loss(cell_logits, cells, span_labels, self.config.span_loss_normalization)

        return LearSpanExtractionOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            span_logits=span_logits,
            hidden_states=encoder_outputs.hidden_states,
            attentions=encoder_outputs.attentions,
        )

    def boundary_logits(
        self, text_hidden: torch.Tensor, labels: LearLabelStates
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Fusion and per-label start/end classifiers: text_hidden `[B, L, H]` -> start, end logits `[B, L, C]` (their
        sigmoid is each boundary's probability) and the fused states `[C, B, L, H]` the nested head reads (None for a
        flat model with the residual, which never builds them).

        With `config.fusion_residual` the heads read `h + fusion(h)`. They are linear, so a flat model adds `w . h` to
        the logits (a `[B, L, C]` product) instead of adding `h` to every label's fused states: the same logits up to
        float rounding, without writing a second tensor C times the encoder's output (training keeps one less).
        """
        if self.nested_head is None and not torch.is_grad_enabled() and len(labels) > LABEL_CHUNK:
            # Many labels at inference: the [C, B, L, H] fused states a chunk of labels at a time (a flat model's
            # logits need no more), so memory stays that of LABEL_CHUNK labels however many are asked for.
            chunks = [
                self.boundary_logits(text_hidden, labels.select(slice(first, first + LABEL_CHUNK)))
                for first in range(0, len(labels), LABEL_CHUNK)
            ]
            return torch.cat([c[0] for c in chunks], dim=-1), torch.cat([c[1] for c in chunks], dim=-1), None
        fused = self.fusion(text_hidden, labels)  # [C, B, L, H]
        if self.config.fusion_residual and self.nested_head is None:
            start_logits, end_logits = self.span_head(fused, labels)
            start_residual, end_residual = self.span_head.token_logits(text_hidden, labels)
            return start_logits + start_residual, end_logits + end_residual, None
        if self.config.fusion_residual:
            # In place where no autograd graph needs the fusion's output (tanh's backward reads it).
            fused = fused + text_hidden.unsqueeze(0) if fused.requires_grad else fused.add_(text_hidden)
        start_logits, end_logits = self.span_head(fused, labels)
        return start_logits, end_logits, fused

    def score_spans(
        self,
        fused: torch.Tensor,
        start_logits: torch.Tensor,
        end_logits: torch.Tensor,
        attention_mask: torch.Tensor,
        start_labels: torch.Tensor | None = None,
        end_labels: torch.Tensor | None = None,
        labels: LearLabelStates | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The nested head over its candidate cells: cells `[N, 4]`, their logits `[N]`, and the dense span logits
        `[B, L, L, C]` (unscored cells at the dtype's minimum)."""
        cells = self._span_cells(start_logits, end_logits, attention_mask, start_labels, end_labels)
        cell_logits = self.nested_head(fused, cells, labels)
        return cells, cell_logits, _scatter_cells(cell_logits, cells, start_logits.shape)

    def _span_cells(self, start_logits, end_logits, attention_mask, start_labels, end_labels) -> torch.Tensor:
        """(batch, start, end, label) cells the nested head scores: predicted starts x predicted ends, plus, when
        training, gold start x gold end pairs (the original's second term paired a gold start with any end: a bug),
        restricted to i <= j over valid tokens. Returns `[N, 4]`."""
        length = start_logits.shape[1]
        start_cut = _logit(self.config.start_threshold)
        end_cut = _logit(self.config.end_threshold)
        candidates = (start_logits.detach() > start_cut).unsqueeze(2) & (end_logits.detach() > end_cut).unsqueeze(1)
        if start_labels is not None and end_labels is not None:
            candidates = candidates | ((start_labels == 1).unsqueeze(2) & (end_labels == 1).unsqueeze(1))
        valid = attention_mask.bool()
        candidates = (
            candidates
            & (valid[:, :, None] & valid[:, None, :]).unsqueeze(-1)
            & upper_triangle(length, start_logits.device)[None, :, :, None]
        )  # [B, L, L, C]
        return candidates.nonzero()


def _logit(probability: float) -> float:
    return math.log(probability / (1.0 - probability))


def _scatter_cells(cell_logits: torch.Tensor, cells: torch.Tensor, boundary_shape: torch.Size) -> torch.Tensor:
    """Place the scored cells in a dense `[B, L, L, C]` tensor (`boundary_shape` is `[B, L, C]`); unscored cells hold
    the dtype's minimum."""
    batch_size, length, num_labels = boundary_shape
    dense = cell_logits.new_full((batch_size, length, length, num_labels), torch.finfo(cell_logits.dtype).min)
    batch, start, end, label = cells.unbind(-1)
    return dense.index_put((batch, start, end, label), cell_logits)


def boundary_loss(logits: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over `[B, L, C]` boundary logits: summed over labels, divided by the tokens under the
    attention mask. Positions labelled -100 add nothing to the sum but still count in the divisor (so the [CLS]/[SEP]
    that run_lear marks -100 scale the loss as the original's negatives there do)."""
    valid = attention_mask.bool().unsqueeze(-1) & (labels != -100)
    losses = F.binary_cross_entropy_with_logits(logits.float(), labels.clamp(min=0).float(), reduction="none")
    num_tokens = attention_mask.bool().sum().clamp(min=1)
    return (losses * valid).sum() / num_tokens


def span_loss(
    cell_logits: torch.Tensor, cells: torch.Tensor, span_labels: torch.Tensor, normalization: str = "original"
) -> torch.Tensor:
    """Binary cross-entropy over the scored candidate cells (zero when there are none).

    `normalization="original"`: the sum over cells divided by (cells / C), i.e. C times the mean, as the authors'
    code (`utils/losses.py:216-221`, used at `run_ner.py:464-469`); `"mean"`: the plain mean over cells.
    """
    batch, start, end, label = cells.unbind(-1)
    targets = span_labels[batch, start, end, label]
    valid = targets != -100
    if not valid.any():
        return cell_logits.sum() * 0.0
    mean = F.binary_cross_entropy_with_logits(cell_logits[valid].float(), targets[valid].float())
    return mean * span_labels.shape[-1] if normalization == "original" else mean


__all__ = [
    "LearForSpanExtraction",
    "LearLabelStates",
    "LearPreTrainedModel",
    "LearSpanExtractionOutput",
    "tokenize_label_descriptions",
]
