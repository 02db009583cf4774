# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Texts <-> token windows <-> character spans: the one place where LEAR's inputs and outputs are aligned.

Training, evaluation and the pipeline all window long texts, align entities and map predictions back through this
module, so they cannot disagree. It imports only torch, transformers and the standard library, so that it travels
with a checkpoint for `trust_remote_code=True` loading.

Windows are the fast tokenizer's own overflow windows (`return_overflowing_tokens` + `stride`). Ownership splits each
overlap between two neighbouring windows at its midpoint, so every token is owned by exactly one window, the one that
gives it the most context on its shorter side: a span is kept from the window that owns its start token, and no
entity shorter than half the stride is ever cut by a window edge.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch


NO_SPAN = (-1, -1)  # character span of special tokens


class CharSpan(NamedTuple):
    """An entity over characters of the original text, end exclusive."""

    start: int
    end: int
    label: int
    score: float


@dataclass
class TextWindow:
    """One encoder input: a window over one text's tokens, with special tokens.

    `token_spans[k]` is token k's character span in the original text (`NO_SPAN` for special tokens);
    `start_allowed`/`end_allowed` say whether token k may begin/end an entity (only the first / last piece of a unit
    of the text, see `char_boundaries`); `owned[k]` whether this window's prediction for token k is the one kept.
    """

    text_index: int
    window_index: int
    input_ids: list[int]
    token_spans: list[tuple[int, int]]
    start_allowed: list[bool]
    end_allowed: list[bool]
    owned: list[bool]
    token_type_ids: list[int] | None = None
    model_inputs: dict = field(default_factory=dict)


# Encoders whose position ids start after the padding index (RoBERTa's `create_position_ids_from_input_ids`), so two
# of their `max_position_embeddings` positions are never used by a token.
OFFSET_POSITION_MODEL_TYPES = {
    "roberta", "roberta-prelayernorm", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer", "data2vec-text",
    "mpnet", "ibert", "luke", "xmod",
}  # fmt: skip


def encoder_position_limit(encoder_config) -> int | None:
    """Longest input, in tokens, an encoder's absolute position embeddings take; None when its config sets none
    (relative or rotary positions, or no `max_position_embeddings`)."""
    limit = getattr(encoder_config, "max_position_embeddings", None)
    if limit is None or getattr(encoder_config, "position_embedding_type", "absolute") != "absolute":
        return None
    return limit - 2 if getattr(encoder_config, "model_type", None) in OFFSET_POSITION_MODEL_TYPES else limit


def default_stride(max_length: int) -> int:
    """Overlap between neighbouring windows: a quarter of the window, so entities up to max_length/8 tokens long
    are always whole in the window that owns their start."""
    return max(1, max_length // 4)


def window_capacity(tokenizer, max_length: int) -> int:
    """Text tokens a window of `max_length` tokens holds beside the tokenizer's special tokens."""
    return max_length - tokenizer.num_special_tokens_to_add(pair=False)


def stride_fits(stride: int, capacity: int) -> bool:
    """Whether neighbouring windows of `capacity` text tokens can share `stride` of them (each must move on)."""
    return 0 <= stride < capacity


def word_char_offsets(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Character span of each word in `text`, searching left to right. Raises `ValueError` naming the word that
    cannot be found (words must appear in order; whitespace between them is free)."""
    offsets, cursor = [], 0
    for index, word in enumerate(words):
        position = text.find(word, cursor)
        if position < 0:
            raise ValueError(f"word {index} ({word!r}) not found in the text after character {cursor}")
        offsets.append((position, position + len(word)))
        cursor = position + len(word)
    return offsets


class CharBoundaries(NamedTuple):
    """Where spans may begin and end in one text: `starts[p]` (a span may begin with character p) and `ends[p]` (a
    span may end with character p)."""

    starts: list[bool]
    ends: list[bool]


_SPACE, _WORD, _ALONE = 0, 1, 2


def _character_kind(character: str) -> int:
    """Whitespace, a character of a word (letters, digits, marks, symbols), or one that stands alone as a unit:
    punctuation and CJK ideographs (as BERT's pre-tokenizer splits them)."""
    if character.isspace():
        return _SPACE
    code = ord(character)
    if (33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126) or unicodedata.category(
        character
    ).startswith("P"):
        return _ALONE
    if is_cjk_character(character):
        return _ALONE
    return _WORD


# The CJK ideograph blocks of BERT's `_is_chinese_char`.
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip


def char_boundaries(text: str, word_offsets: Sequence[tuple[int, int]] | None = None) -> CharBoundaries:
    """The character positions where an entity may begin or end: the edges of the text's units, as BERT's
    pre-tokenizer splits them (runs of word characters between whitespace and punctuation; each punctuation mark and
    each CJK character alone), plus the edges of the given pre-split words.

    One rule for training and inference, for raw and pre-split text alike: a raw string and the same text pre-split
    at whitespace get the same boundaries, so the pipeline never puts a span edge where training could not have
    (`"Cupert"` of "Cupertino", the "S" of "U.S." when training saw "U.S." as one word: such a piece is trained as a
    negative). Units do not depend on the tokenizer, so WordPiece, SentencePiece and byte-level BPE models share it.
    """
    kinds = [_character_kind(character) for character in text]
    starts = [False] * len(text)
    ends = [False] * len(text)
    for position, kind in enumerate(kinds):
        if kind == _SPACE:
            continue
        previous = kinds[position - 1] if position > 0 else _SPACE
        following = kinds[position + 1] if position + 1 < len(kinds) else _SPACE
        starts[position] = kind == _ALONE or previous != _WORD
        ends[position] = kind == _ALONE or following != _WORD
    for start, end in word_offsets or ():
        if end > start:
            starts[start] = ends[end - 1] = True
    return CharBoundaries(starts, ends)


def encode_windows(
    tokenizer,
    texts: Sequence[str],
    words: Sequence[Sequence[str]] | None = None,
    max_length: int = 512,
    stride: int | None = None,
    character_pieces: bool = False,
) -> list[TextWindow]:
    """Tokenize texts into windows of at most `max_length` tokens (special tokens included).

    Args:
        tokenizer: a fast tokenizer (offsets are needed).
        texts: the original texts; all returned character spans index these strings.
        words: optionally, each text pre-split into words (e.g. a corpus's tokens, or Chinese characters). They are
            fed with `is_split_into_words=True`; their edges are span edges too, beside the units of
            `char_boundaries`.
        max_length: window length including special tokens.
        stride: tokens shared by neighbouring windows (default: `default_stride(max_length)`).
        character_pieces: one piece per CJK character (`character_chunks`, `character_pieces_wanted`): the text is fed
            in chunks, each CJK character alone, and the bare "▁" SentencePiece puts before a chunk is left out. Raw
            Chinese and the same text pre-split into characters then give the same pieces.
    """
    if not getattr(tokenizer, "is_fast", True):
        raise ValueError("LEAR windowing needs a fast tokenizer (for offset mappings)")
    stride = default_stride(max_length) if stride is None else stride
    capacity = window_capacity(tokenizer, max_length)
    if not stride_fits(stride, capacity):
        raise ValueError(f"stride must lie in [0, {capacity}) for max_length={max_length}, got {stride}")
    if words is not None and len(words) != len(texts):
        raise ValueError(f"got {len(texts)} texts but {len(words)} word lists")
    if not texts:
        return []
    word_offsets = (
        [word_char_offsets(text, text_words) for text, text_words in zip(texts, words)] if words is not None else None
    )
    boundaries = [
        char_boundaries(text, word_offsets[index] if word_offsets is not None else None)
        for index, text in enumerate(texts)
    ]
    if character_pieces:
        return _character_windows(tokenizer, texts, word_offsets, boundaries, capacity, stride)
    encoding = tokenizer(
        [list(w) for w in words] if words is not None else list(texts),
        is_split_into_words=words is not None,
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    sample_of_window = encoding["overflow_to_sample_mapping"]
    windows: list[TextWindow] = []
    for first, last in _window_ranges(sample_of_window):
        text_index = sample_of_window[first]
        content_lengths = [
            len(encoding["input_ids"][k]) - sum(encoding["special_tokens_mask"][k]) for k in range(first, last)
        ]
        owned_ranges = _owned_ranges(content_lengths, capacity - stride)
        for window_index, k in enumerate(range(first, last)):
            windows.append(
                _build_window(
                    encoding, k, texts[text_index], text_index, window_index, owned_ranges[window_index],
                    window_index * (capacity - stride),
                    word_offsets[text_index] if word_offsets is not None else None,
                    boundaries[text_index],
                )
            )  # fmt: skip
    return windows


LONE_MARKER_LIMIT = 0.5  # above this share of pre-split words starting with a lone "▁", the tokenizer is "char-split"
LONE_MARKER_SAMPLE_TEXTS = 200  # the first texts whose words that share is measured on


def lone_marker_share(tokenizer, words: Sequence[str]) -> float:
    """Share of `words` that, fed pre-split, begin with a piece that is only SentencePiece's word-start marker "▁".

    XLM-R-style tokenizers do this to every pre-split Chinese character (`["▁", "年"]`): the input gets about twice
    as long as the raw text's tokens and unlike what the encoder was pretrained on. `run_lear.py --pre_split auto`
    tokenizes the raw text instead when most words do this.
    """
    if not words:
        return 0.0
    # verbose=False: the probe tokenizes whole texts, untruncated, and the tokenizer would warn about indexing errors
    # for texts longer than the encoder takes, which the windowing handles.
    encoding = tokenizer([list(words)], is_split_into_words=True, add_special_tokens=False, verbose=False)
    first_pieces = {}
    for token, word in zip(tokenizer.convert_ids_to_tokens(encoding["input_ids"][0]), encoding.word_ids(0)):
        if word is not None:
            first_pieces.setdefault(word, token)
    return sum(piece == "▁" for piece in first_pieces.values()) / len(words)


# --- One piece per character ------------------------------------------------------------------------------------------
#
# SentencePiece vocabularies trained on Chinese (XLM-R, multilingual-e5) merge characters into words: "北京" is one
# piece, so an entity that starts or ends inside a word cannot be predicted. Fed one character at a time, the same
# tokenizers put a bare "▁" before every character (`["▁", "北", "▁", "京"]`): left out, one piece per character remains
# ("北", "京", pieces of the vocabulary), as the BIO tagger baseline feeds them (`bench/tagger.py --lone_markers`).

SENTENCEPIECE_MARKER = "▁"
# The probe of `merges_characters`: common words that a vocabulary built on Chinese text holds whole.
CHARACTER_PROBE_TEXT = "中华人民共和国的首都是北京，我们在上海的大学学习中文。"


def is_cjk_character(character: str) -> bool:
    """A CJK ideograph (the blocks of BERT's `_is_chinese_char`): a unit of the text on its own."""
    code = ord(character)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def character_chunks(text: str, word_offsets: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """The character spans a text is fed to the tokenizer in, with character pieces: its words (the given ones, or
    the runs between whitespace) with every CJK character cut out as a chunk of its own. Raw Chinese and the same
    text pre-split into characters give the same chunks; so do English and its words split at whitespace."""
    chunks = []
    for word_start, word_end in word_offsets if word_offsets is not None else [(0, len(text))]:
        start = None  # first character of the run of other characters being read
        for position in range(word_start, word_end):
            character = text[position]
            if character.isspace() or is_cjk_character(character):
                if start is not None:
                    chunks.append((start, position))
                    start = None
                if not character.isspace():
                    chunks.append((position, position + 1))
            elif start is None:
                start = position
        if start is not None:
            chunks.append((start, word_end))
    return chunks


def sentencepiece_marker_id(tokenizer) -> int | None:
    """Id of SentencePiece's word-start marker "▁" as a piece on its own; None when the vocabulary has none."""
    marker_id = tokenizer.convert_tokens_to_ids(SENTENCEPIECE_MARKER)
    return None if marker_id is None or marker_id == tokenizer.unk_token_id else marker_id


def is_lone_marker(ids: Sequence[int], word_ids: Sequence[int | None], k: int, marker_id: int | None) -> bool:
    """Piece k is a word's lone "▁" with more pieces of the same word after it."""
    return (
        marker_id is not None
        and ids[k] == marker_id
        and word_ids[k] is not None
        and k + 1 < len(ids)
        and word_ids[k + 1] == word_ids[k]
    )


def character_piece_ids(
    tokenizer, texts: Sequence[str], chunks: Sequence[Sequence[tuple[int, int]]]
) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """Each text's pieces (ids, and character spans in the text) when its `chunks` (`character_chunks`) are fed
    pre-split, without special tokens, the lone markers (`is_lone_marker`) left out."""
    marker_id = sentencepiece_marker_id(tokenizer)
    encoding = tokenizer(
        [[text[start:end] for start, end in text_chunks] for text, text_chunks in zip(texts, chunks, strict=True)],
        is_split_into_words=True,
        add_special_tokens=False,
        return_offsets_mapping=True,
        verbose=False,  # whole texts, untruncated: the windows cut them
    )
    pieces = []
    for index, text_chunks in enumerate(chunks):
        ids, word_ids = encoding["input_ids"][index], encoding.word_ids(index)
        kept = [k for k in range(len(ids)) if not is_lone_marker(ids, word_ids, k, marker_id)]
        spans = []
        for k in kept:  # offsets are relative to the chunk
            chunk_start = text_chunks[word_ids[k]][0]
            start, end = encoding["offset_mapping"][index][k]
            spans.append((chunk_start + start, chunk_start + end))
        pieces.append(([ids[k] for k in kept], spans))
    return pieces


def merges_characters(tokenizer, text: str = CHARACTER_PROBE_TEXT) -> bool:
    """Whether the tokenizer's raw tokenization of `text` has a piece spanning more than one CJK character."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return any(sum(map(is_cjk_character, text[start:end])) > 1 for start, end in offsets)


def character_pieces_wanted(tokenizer) -> bool:
    """The rule for `character_pieces` (`LearConfig.character_pieces`): on when the tokenizer merges CJK characters
    into multi-character pieces (`merges_characters`) and is a SentencePiece one (it has a bare "▁" to leave out, so
    each character keeps one piece of the vocabulary). Off for WordPiece tokenizers, which split CJK characters
    already (BERT's Chinese models), and for byte-level BPE."""
    return sentencepiece_marker_id(tokenizer) is not None and merges_characters(tokenizer)


def _special_tokens_around(tokenizer) -> tuple[list[int], list[int], list[int] | None]:
    """The special tokens the tokenizer puts before and after one text's pieces, and the token type ids of a window
    laid out as prefix + one piece + suffix (None when the tokenizer gives none)."""
    encoding = tokenizer("a", return_special_tokens_mask=True)
    ids, special = encoding["input_ids"], encoding["special_tokens_mask"]
    content = [position for position, is_special in enumerate(special) if not is_special]
    first, last = (content[0], content[-1]) if content else (len(ids), len(ids) - 1)
    types = encoding.get("token_type_ids")
    layout = None if types is None else types[:first] + types[first : first + 1] + types[last + 1 :]
    return ids[:first], ids[last + 1 :], layout


def _character_windows(tokenizer, texts, word_offsets, boundaries, capacity: int, stride: int) -> list[TextWindow]:
    """`encode_windows` with character pieces: the windows the tokenizer's overflow would cut (`capacity` pieces each,
    `stride` shared by neighbours), over the pieces of `character_piece_ids`, with the tokenizer's special tokens."""
    chunks = [character_chunks(text, word_offsets[index] if word_offsets else None) for index, text in enumerate(texts)]
    prefix, suffix, layout = _special_tokens_around(tokenizer)
    step = capacity - stride
    windows = []
    for text_index, (ids, spans) in enumerate(character_piece_ids(tokenizer, texts, chunks)):
        starts = [0]
        while starts[-1] + capacity < len(ids):
            starts.append(starts[-1] + step)
        content_lengths = [min(capacity, len(ids) - start) for start in starts]
        owned_ranges = _owned_ranges(content_lengths, step)
        for window_index, (start, length) in enumerate(zip(starts, content_lengths)):
            special = [1] * len(prefix) + [0] * length + [1] * len(suffix)
            token_type_ids = None
            if layout is not None:
                token_type_ids = layout[: len(prefix)] + layout[len(prefix) : len(prefix) + 1] * length
                token_type_ids += layout[len(prefix) + 1 :]
            windows.append(
                _window(
                    texts[text_index], text_index, window_index, prefix + ids[start : start + length] + suffix,
                    special, [NO_SPAN] * len(prefix) + spans[start : start + length] + [NO_SPAN] * len(suffix),
                    token_type_ids, owned_ranges[window_index], start, boundaries[text_index],
                )
            )  # fmt: skip
    return windows


def _window_ranges(sample_of_window: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs of windows that belong to the same text, as [first, last) index pairs."""
    ranges, first = [], 0
    for k in range(1, len(sample_of_window) + 1):
        if k == len(sample_of_window) or sample_of_window[k] != sample_of_window[first]:
            ranges.append((first, k))
            first = k
    return ranges


def _owned_ranges(content_lengths: list[int], step: int) -> list[tuple[int, int]]:
    """Global content-token ranges [lo, hi) owned by each window: overlaps are split at their midpoint."""
    starts = [k * step for k in range(len(content_lengths))]
    ends = [start + length for start, length in zip(starts, content_lengths)]
    cuts = [(starts[k + 1] + ends[k]) // 2 for k in range(len(starts) - 1)]
    return [(cuts[k - 1] if k > 0 else 0, cuts[k] if k < len(cuts) else ends[k]) for k in range(len(starts))]


def _build_window(
    encoding, k, text, text_index, window_index, owned_range, global_offset, word_offsets, boundaries
) -> TextWindow:
    offsets = encoding["offset_mapping"][k]
    word_ids = encoding.word_ids(k)
    spans = []
    for position, is_special in enumerate(encoding["special_tokens_mask"][k]):
        start, end = NO_SPAN if is_special else offsets[position]
        if not is_special and word_offsets is not None:  # offsets are relative to the word when the input is pre-split
            word_start = word_offsets[word_ids[position]][0]
            start, end = word_start + start, word_start + end
        spans.append((start, end))
    token_type_ids = encoding["token_type_ids"][k] if "token_type_ids" in encoding else None
    return _window(
        text, text_index, window_index, encoding["input_ids"][k], encoding["special_tokens_mask"][k], spans,
        token_type_ids, owned_range, global_offset, boundaries,
    )  # fmt: skip


def _window(
    text, text_index, window_index, input_ids, special, spans, token_type_ids, owned_range, global_offset, boundaries
) -> TextWindow:
    """A window from its pieces: ids, special-token mask and each piece's character span in `text`."""
    token_spans, start_allowed, end_allowed, owned = [], [], [], []
    content_position = 0
    for is_special, (start, end) in zip(special, spans, strict=True):
        if is_special:
            token_spans.append(NO_SPAN)
            start_allowed.append(False)
            end_allowed.append(False)
            owned.append(False)
            continue
        start, end = strip_whitespace(text, start, end)
        # Empty pieces (a lone SentencePiece "▁") and pieces inside a unit can neither start nor end a span.
        start_allowed.append(end > start and boundaries.starts[start])
        end_allowed.append(end > start and boundaries.ends[end - 1])
        token_spans.append((start, end))
        global_position = global_offset + content_position
        owned.append(owned_range[0] <= global_position < owned_range[1])
        content_position += 1
    _keep_one_boundary_per_character(token_spans, start_allowed, end_allowed)
    return TextWindow(
        text_index=text_index,
        window_index=window_index,
        input_ids=list(input_ids),
        token_spans=token_spans,
        start_allowed=start_allowed,
        end_allowed=end_allowed,
        owned=owned,
        token_type_ids=list(token_type_ids) if token_type_ids is not None else None,
    )


def strip_whitespace(text: str, start: int, end: int) -> tuple[int, int]:
    """A character span shrunk so that it neither starts nor ends with whitespace (a token's span: some tokenizers
    include the space before a word, SentencePiece's "▁" marks one; a corpus annotation's, in `data_scripts`)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _keep_one_boundary_per_character(token_spans, start_allowed: list[bool], end_allowed: list[bool]) -> None:
    """Leave each boundary character one start token (the first piece starting there) and one end token (the last).

    SentencePiece tokenizers split a lone "▁" off many pre-split words (every Chinese character: `["▁", "年"]`) and
    may give both pieces the character's offsets. Two allowed starts at one character would make the piece after the
    gold start a near-identical negative (and `align_entities` puts gold starts on the first piece, gold ends on the
    last).
    """
    seen_start, last_end = set(), {}
    for position, (start, end) in enumerate(token_spans):
        if start_allowed[position]:
            start_allowed[position] = start not in seen_start
            seen_start.add(start)
        if end_allowed[position]:
            if end in last_end:
                end_allowed[last_end[end]] = False
            last_end[end] = position


def _field(row: TextWindow | Mapping[str, Any], name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name)


def window_row(window: TextWindow, with_token_type_ids: bool = False) -> dict[str, Any]:
    """A window as plain columns (lists of ints and bools): what `pad_windows` reads, and the window part of a
    training feature row (`lear.training.LearFeatureBuilder`). `with_token_type_ids` fills in zeros where the
    tokenizer gave none."""
    row = {"input_ids": list(window.input_ids)}
    if with_token_type_ids:
        row["token_type_ids"] = list(window.token_type_ids or [0] * len(window.input_ids))
    row.update(
        length=len(window.input_ids),
        window_index=window.window_index,
        token_spans=[list(span) for span in window.token_spans],
        start_allowed=list(window.start_allowed),
        end_allowed=list(window.end_allowed),
        owned=list(window.owned),
    )
    return row


def pad_windows(
    rows: Sequence[TextWindow | Mapping[str, Any]], pad_token_id: int, length: int | None = None
) -> dict[str, torch.Tensor]:
    """Right-pad windows into `[B, L]` tensors: `input_ids`, `attention_mask`, `start_mask`, `end_mask` (bool: may
    start / end an entity; False on padding) and `token_type_ids` when every row has them.

    Rows are `TextWindow`s or mappings with the same fields (the dataset features `run_lear.py` builds). `length`
    defaults to the longest row. Right padding whatever the tokenizer's `padding_side`, so that token position k is
    token k of its window's own lists.
    """
    longest = max(len(_field(row, "input_ids")) for row in rows)
    shape = (len(rows), longest if length is None else length)
    batch = {
        "input_ids": torch.full(shape, pad_token_id, dtype=torch.long),
        "attention_mask": torch.zeros(shape, dtype=torch.long),
        "start_mask": torch.zeros(shape, dtype=torch.bool),
        "end_mask": torch.zeros(shape, dtype=torch.bool),
    }
    if all(_field(row, "token_type_ids") is not None for row in rows):
        batch["token_type_ids"] = torch.zeros(shape, dtype=torch.long)
    for index, row in enumerate(rows):
        size = len(_field(row, "input_ids"))
        batch["attention_mask"][index, :size] = 1
        batch["input_ids"][index, :size] = torch.tensor(_field(row, "input_ids"))
        batch["start_mask"][index, :size] = torch.tensor(_field(row, "start_allowed"))
        batch["end_mask"][index, :size] = torch.tensor(_field(row, "end_allowed"))
        if "token_type_ids" in batch:
            batch["token_type_ids"][index, :size] = torch.tensor(_field(row, "token_type_ids"))
    return batch


class AlignedEntity(NamedTuple):
    """An entity on a window's token positions (inclusive). `complete` is False when the window cuts it."""

    start: int | None
    end: int | None
    label: int
    complete: bool
    exact: bool


def align_entities(window: TextWindow, entities: Sequence[tuple[int, int, int]]) -> list[AlignedEntity]:
    """Map `(char_start, char_end, label_id)` entities onto the window's tokens.

    The start token is the first token ending after `char_start`, the end token the last one starting before
    `char_end`. An entity partly outside the window gets `complete=False` and `None` for the missing side (training
    ignores its in-window boundary rather than teaching a wrong negative); `exact` is False when its character
    boundaries fall inside tokens (then no decoded span can reproduce it exactly). Entities wholly outside the
    window are left out.
    """
    content = [(position, span) for position, span in enumerate(window.token_spans) if span != NO_SPAN]
    if not content:
        return []
    first_char, last_char = content[0][1][0], content[-1][1][1]
    aligned = []
    for char_start, char_end, label in entities:
        if char_end <= first_char or char_start >= last_char:
            continue
        start = next((p for p, (s, e) in content if e > char_start), None)
        end = next((p for p, (s, e) in reversed(content) if s < char_end), None)
        starts_inside = char_start >= first_char
        ends_inside = char_end <= last_char
        exact = (
            start is not None
            and end is not None
            and window.token_spans[start][0] == char_start
            and window.token_spans[end][1] == char_end
        )
        aligned.append(
            AlignedEntity(
                start=start if starts_inside else None,
                end=end if ends_inside else None,
                label=label,
                complete=starts_inside and ends_inside and start is not None and end is not None and start <= end,
                exact=exact,
            )
        )
    return aligned


def window_spans_to_char_spans(window: TextWindow, spans) -> list[CharSpan]:
    """Decoded token spans (objects with start, end, label, score) of one window -> character spans, keeping only
    spans whose start token this window owns."""
    kept = []
    for span in spans:
        if not window.owned[span.start]:
            continue
        char_start = window.token_spans[span.start][0]
        char_end = window.token_spans[span.end][1]
        if char_start < 0 or char_end <= char_start:
            continue
        kept.append(CharSpan(char_start, char_end, span.label, float(span.score)))
    return kept


def text_char_spans(
    windows: Sequence[TextWindow], window_spans: Sequence[Sequence], num_texts: int
) -> list[list[CharSpan]]:
    """Each text's character spans from the decoded token spans of its windows (`window_spans[k]` belongs to
    `windows[k]`; any subset of a split's windows, in any order): kept from the window that owns their start token,
    then merged (`merge_char_spans`). Texts with no window given get no span."""
    per_text: list[list[CharSpan]] = [[] for _ in range(num_texts)]
    for window, spans in zip(windows, window_spans, strict=True):
        per_text[window.text_index].extend(window_spans_to_char_spans(window, spans))
    return [merge_char_spans(spans) for spans in per_text]


def merge_char_spans(spans: Sequence[CharSpan]) -> list[CharSpan]:
    """Deduplicate character spans (same start, end, label: keep the best score), sorted by position."""
    best: dict[tuple[int, int, int], CharSpan] = {}
    for span in spans:
        key = (span.start, span.end, span.label)
        if key not in best or span.score > best[key].score:
            best[key] = span
    return sorted(best.values(), key=lambda span: (span.start, span.end, span.label))


__all__ = [
    "CharSpan",
    "TextWindow",
    "AlignedEntity",
    "default_stride",
    "word_char_offsets",
    "encode_windows",
    "align_entities",
    "window_spans_to_char_spans",
    "merge_char_spans",
    "text_char_spans",
    "window_row",
    "encoder_position_limit",
    "stride_fits",
    "window_capacity",
    "strip_whitespace",
    "character_chunks",
    "character_piece_ids",
    "character_pieces_wanted",
    "is_lone_marker",
    "merges_characters",
    "sentencepiece_marker_id",
]
