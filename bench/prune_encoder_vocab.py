"""Shrink a SentencePiece-unigram encoder (multilingual-e5-small here) to the pieces one corpus uses, so that it fits
the 64 MiB a lent GPU machine takes along (the full e5-small is 470 MB, 96 M of its 118 M parameters in the
250k-row embedding).

Kept: the special tokens and every piece that tokenizing the corpora's texts (raw, and pre-split into its words, as
the tagger feeds them) and its label descriptions produces. Unigram segmentation picks the best-scoring path over
the vocabulary, and each kept text's best path uses kept pieces only, so these texts tokenize to the same pieces;
`--check` verifies it on every text. The embedding rows are gathered in the new id order; the other weights are
copied, in fp16 (they are 4-bit-dequantised values already).

    python -m bench.prune_encoder_vocab outputs/me5-small outputs/data/weibo_zh OUT_DIR --check

Several corpora give one encoder that is exact on each of them (the union of their pieces): one copy to carry to a
lent GPU for several corpora.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import datasets
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer


def used_ids(tokenizer, corpus_dir: Path) -> set[int]:
    corpus = datasets.load_from_disk(str(corpus_dir))
    labels = json.loads((corpus_dir / "labels.json").read_text(encoding="utf-8"))
    ids = set(tokenizer.all_special_ids)
    for split in corpus.values():
        for row in tokenizer(list(split["text"]))["input_ids"]:
            ids.update(row)
        for row in tokenizer([list(words) for words in split["tokens"]], is_split_into_words=True)["input_ids"]:
            ids.update(row)
    for row in tokenizer(list(labels.values()))["input_ids"]:
        ids.update(row)
    return ids


def prune(encoder_dir: Path, corpus_dirs: list[Path], out_dir: Path) -> dict[int, int]:
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    keep = sorted(set().union(*(used_ids(tokenizer, corpus_dir) for corpus_dir in corpus_dirs)))
    new_id = {old: new for new, old in enumerate(keep)}
    spec = json.loads((encoder_dir / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    spec["model"]["vocab"] = [vocab[old] for old in keep]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for token in spec["added_tokens"]:
        token["id"] = new_id[token["id"]]
    for token in spec["post_processor"]["special_tokens"].values():
        token["ids"] = [new_id[i] for i in token["ids"]]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    (out_dir / "tokenizer_config.json").write_text((encoder_dir / "tokenizer_config.json").read_text())
    config = json.loads((encoder_dir / "config.json").read_text())
    config["vocab_size"] = len(keep)
    config["pad_token_id"] = new_id[config["pad_token_id"]]
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    weights = load_file(encoder_dir / "model.safetensors")
    for name, tensor in weights.items():
        if name.endswith("word_embeddings.weight"):
            weights[name] = tensor[keep]
    save_file({name: tensor.half().contiguous() for name, tensor in weights.items()}, out_dir / "model.safetensors",
              metadata={"format": "pt"})  # fmt: skip
    return new_id


def check(encoder_dir: Path, out_dir: Path, corpus_dir: Path) -> int:
    """Every text tokenizes to the same pieces with both tokenizers; returns the number of texts checked."""
    original, pruned = AutoTokenizer.from_pretrained(encoder_dir), AutoTokenizer.from_pretrained(out_dir)
    corpus = datasets.load_from_disk(str(corpus_dir))
    checked = 0
    for split in corpus.values():
        for texts, words in ((list(split["text"]), False), ([list(w) for w in split["tokens"]], True)):
            a = original(texts, is_split_into_words=words)["input_ids"]
            b = pruned(texts, is_split_into_words=words)["input_ids"]
            for x, y in zip(a, b):
                if original.convert_ids_to_tokens(x) != pruned.convert_ids_to_tokens(y):
                    raise SystemExit(
                        f"pieces differ: {original.convert_ids_to_tokens(x)} vs {pruned.convert_ids_to_tokens(y)}"
                    )
                checked += 1
    return checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder_dir", type=Path)
    parser.add_argument(
        "corpus_dirs", type=Path, nargs="+", help="corpora converted by data_scripts (with labels.json)"
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--check", action="store_true", help="verify that every text tokenizes to the same pieces")
    args = parser.parse_args()
    new_id = prune(args.encoder_dir, args.corpus_dirs, args.out_dir)
    print(f"kept {len(new_id)} pieces")
    if args.check:
        for corpus_dir in args.corpus_dirs:
            print(f"{corpus_dir}: same pieces on {check(args.encoder_dir, args.out_dir, corpus_dir)} tokenizations")


if __name__ == "__main__":
    main()
