"""The MRC baseline: one encoder pass per label over `[CLS] query [SEP] text [SEP]`, with start/end heads.

This is the formulation LEAR's paper compares against (BERT-MRC, Li et al. 2020): every label becomes a question
(here: the label's description, as BERT-MRC does), and the encoder reads the question and the text together, once
per label. It is kept small and deliberately *cheaper* than BERT-MRC: BERT-MRC also scores every (start, end) pair
with an `O(L^2)` span-matching classifier, which we leave out, so any speed-up LEAR shows against it is a lower
bound.

The BIO tagger baseline needs no code of its own: it is `AutoModelForTokenClassification` with `2C + 1` classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoModel, PreTrainedModel

from lear.modeling_lear import tokenize_label_descriptions


class MrcForSpanExtraction(nn.Module):
    """Encoder + start/end pointer heads, applied to `[CLS] query_c [SEP] text [SEP]` once per label c.

    Text inputs are the ordinary single-sequence encoding `[CLS] text [SEP]` `[B, L]`; the model prepends each
    label's query itself, so LEAR, the tagger and this baseline are fed exactly the same batches. Outputs are
    `[B, L, C]` start/end logits over the text positions (position 0, the text's `[CLS]`, maps to the query's
    `[CLS]`), the same layout as LEAR's, so the same decoder serves both.
    """

    def __init__(self, encoder: PreTrainedModel, query_input_ids: list[list[int]]):
        super().__init__()
        self.encoder = encoder
        hidden_size = encoder.config.hidden_size
        self.start_head = nn.Linear(hidden_size, 1)
        self.end_head = nn.Linear(hidden_size, 1)
        # queries are `[CLS] description [SEP]`; kept as buffers so they follow the model's device
        for label, ids in enumerate(query_input_ids):
            self.register_buffer(f"query_{label}", torch.tensor(ids, dtype=torch.long), persistent=False)
        self.num_labels = len(query_input_ids)

    @classmethod
    def from_encoder(cls, encoder_path: str, labels: Mapping[str, str], tokenizer, max_query_length: int = 64):
        """Pretrained encoder weights from `encoder_path`, one query per label (its description)."""
        encoder = AutoModel.from_pretrained(encoder_path, add_pooling_layer=False)
        queries = tokenize_label_descriptions(tokenizer, list(labels.values()), max_query_length)
        return cls(encoder, queries)

    def query(self, label: int) -> torch.Tensor:
        return getattr(self, f"query_{label}")

    def label_pass(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One encoder pass for one label: `[B, L]` text -> start, end logits `[B, L]` on the text positions."""
        batch_size = input_ids.shape[0]
        query = self.query(label).expand(batch_size, -1)  # [B, Lq]
        query_length = query.shape[1]
        # drop the text's own [CLS]: the pair is [CLS] query [SEP] text [SEP]
        pair_ids = torch.cat([query, input_ids[:, 1:]], dim=1)
        pair_mask = torch.cat([torch.ones_like(query), attention_mask[:, 1:]], dim=1)
        token_types = torch.cat([torch.zeros_like(query), torch.ones_like(input_ids[:, 1:])], dim=1)
        hidden = self.encoder(
            input_ids=pair_ids, attention_mask=pair_mask, token_type_ids=token_types
        ).last_hidden_state  # [B, Lq + L - 1, H]
        # text position k >= 1 sits at pair position query_length - 1 + k; position 0 reads the query's [CLS]
        text_hidden = torch.cat([hidden[:, :1], hidden[:, query_length:]], dim=1)  # [B, L, H]
        return self.start_head(text_hidden).squeeze(-1), self.end_head(text_hidden).squeeze(-1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All labels, one encoder pass each (batch B per pass): start, end logits `[B, L, C]`."""
        logits = [self.label_pass(input_ids, attention_mask, label) for label in range(self.num_labels)]
        start = torch.stack([pair[0] for pair in logits], dim=-1)
        end = torch.stack([pair[1] for pair in logits], dim=-1)
        return start, end

    def label_loss(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        start_labels: torch.Tensor,
        end_labels: torch.Tensor,
        label: int,
    ) -> torch.Tensor:
        """Start + end binary cross-entropy of one label's pass, averaged over valid text tokens (as LEAR's loss,
        restricted to one label). Gold tensors are LEAR's `[B, L, C]` 0/1 targets."""
        start, end = self.label_pass(input_ids, attention_mask, label)
        valid = attention_mask.bool()
        start_loss = F.binary_cross_entropy_with_logits(start[valid], start_labels[..., label][valid].float())
        end_loss = F.binary_cross_entropy_with_logits(end[valid], end_labels[..., label][valid].float())
        return start_loss + end_loss

    def train_step(self, optimizer: torch.optim.Optimizer, batch: Mapping[str, torch.Tensor]) -> float:
        """One optimiser step over a batch of B texts: C passes (one per label) with gradient accumulation, so
        every encoder call sees a batch of B sequences, like LEAR's and the tagger's."""
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for label in range(self.num_labels):
            loss = self.label_loss(
                batch["input_ids"], batch["attention_mask"], batch["start_labels"], batch["end_labels"], label
            )
            loss.backward()
            total += loss.item()
        optimizer.step()
        return total
