"""Why LEAR learns nothing on Resume with multilingual-e5 in the quality budget: a linear probe of the frozen encoder.

For one small training subset (the quality benchmark's 1 %, seed 0), the encoder's last hidden states are computed
once (frozen), and one logistic-regression start classifier per label is trained on them with Adam (lr 2e-3, the
task-layer lr of the quality runs), on the token positions LEAR trains its start classifier on. Reported after a
number of full-batch steps: the mean probability at gold starts, the share of gold starts above 0.5, the mean at
negatives. Four feature variants: the encoder's states as they are, or standardised per dimension (mean 0, std 1
over the subset's tokens); texts pre-split into words/characters (as `run_lear.py` feeds corpora with a `tokens`
column), or raw text. Anisotropy = norm of the mean token state / mean norm of a token state (1: all tokens point
the same way).

    python -m bench.feature_probe --corpus resume_zh
    python -m bench.feature_probe --corpus conll2003
"""

from __future__ import annotations

import argparse
import json

import datasets
import torch
from transformers import AutoModel, AutoTokenizer

from bench.quality import converted_corpus, corpus_setting, make_subset
from lear.training import LearDataCollator, LearFeatureBuilder


PROBE_LR = 2e-3
REPORT_STEPS = (50, 100, 300)


def start_batch(subset_dir, tokenizer, pre_split: bool) -> dict[str, torch.Tensor]:
    """The subset's training windows as one padded batch with LEAR's start targets."""
    train = datasets.load_from_disk(str(subset_dir))["train"]
    labels = json.loads((subset_dir / "labels.json").read_text(encoding="utf-8"))
    builder = LearFeatureBuilder(
        tokenizer, {name: i for i, name in enumerate(labels)}, 512, 128, tokens_column="tokens" if pre_split else None
    )
    features = train.map(
        builder, batched=True, with_indices=True, remove_columns=train.column_names, features=builder.features
    )
    return LearDataCollator(tokenizer, len(labels))([features[k] for k in range(len(features))])


def probe(hidden: torch.Tensor, targets: torch.Tensor) -> list[dict]:
    """Train per-label logistic start classifiers on fixed features; report separation at `REPORT_STEPS`."""
    weight = torch.zeros(targets.shape[-1], hidden.shape[-1], requires_grad=True)
    bias = torch.zeros(targets.shape[-1], requires_grad=True)
    optimizer = torch.optim.Adam([weight, bias], lr=PROBE_LR)
    scored = targets != -100
    rows = []
    for step in range(1, max(REPORT_STEPS) + 1):
        logits = torch.einsum("blh,ch->blc", hidden, weight) + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[scored], targets[scored].float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in REPORT_STEPS:
            probability = logits.detach().sigmoid()
            positives = probability[targets == 1]
            rows.append({
                "step": step,
                "gold_start_mean": positives.mean().item(),
                "gold_start_above_half": (positives > 0.5).float().mean().item(),
                "negative_mean": probability[targets == 0].mean().item(),
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="resume_zh", help="conll2003 (MiniLM) or resume_zh / weibo_zh (me5)")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(0)
    setting = corpus_setting(args.corpus)
    subset = make_subset(converted_corpus(args.corpus), args.fraction, args.seed)
    tokenizer = AutoTokenizer.from_pretrained(setting.encoder)
    encoder = AutoModel.from_pretrained(setting.encoder).eval()
    print(
        f"{args.corpus}, {args.fraction:g} of train (seed {args.seed}), encoder {setting.encoder}, Adam lr {PROBE_LR}"
    )
    print(
        "| text fed as | features | anisotropy | step | mean P at gold starts | gold starts > 0.5 | mean P at negatives |"
    )
    print("|---|---|---|---|---|---|---|")
    for pre_split in (True, False):
        batch = start_batch(subset, tokenizer, pre_split)
        with torch.no_grad():
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        tokens = hidden[batch["attention_mask"].bool()]  # [N, H]
        anisotropy = (tokens.mean(0).norm() / tokens.norm(dim=-1).mean()).item()
        standardised = (hidden - tokens.mean(0)) / (tokens.std(0) + 1e-6)
        for name, features in (("as they are", hidden), ("standardised", standardised)):
            for row in probe(features, batch["start_labels"].long()):
                print(
                    f"| {'words/characters' if pre_split else 'raw text'} | {name} | {anisotropy:.2f} | {row['step']} | "
                    f"{row['gold_start_mean']:.3f} | {row['gold_start_above_half']:.2f} | {row['negative_mean']:.4f} |"
                )


if __name__ == "__main__":
    main()
