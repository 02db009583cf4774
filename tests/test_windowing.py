"""`lear.windowing`: long texts are cut into overlapping windows that own every token exactly once, token character
spans index the original text, word-mode boundaries survive window cuts, and entities near window edges are whole
in the window that owns their start."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from conftest import build_sentencepiece_style_tokenizer
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from lear.decoding_lear import Span
from lear.windowing import (
    NO_SPAN,
    CharSpan,
    align_entities,
    char_boundaries,
    default_stride,
    encode_windows,
    lone_marker_share,
    merge_char_spans,
    window_spans_to_char_spans,
    word_char_offsets,
)


# Known words are one token each; unknown words ("xylophones", "zqx") split into one token per character, so a
# small window cuts them. Irregular spacing and punctuation exercise the offsets.
MIXED_TEXT = (
    "Alice  lives in xylophones, Paris!  zqx works for Acme in Berlin; the river Nile is long "
    "and qwertyuiop met Erin at Oxford. Tokyo and Kyoto are cities"
)
CJK_TEXT = " ".join(chr(0x4E00 + i) for i in range(0, 120, 3))  # Chinese style: characters joined by spaces
TEXTS = [MIXED_TEXT, "", "Bob", CJK_TEXT, "  hello\tthere  Google hired Carol  "]


def content(window):
    return [k for k, span in enumerate(window.token_spans) if span != NO_SPAN]


def windows_of(windows, text_index):
    return [w for w in windows if w.text_index == text_index]


def reference_token_spans(tokenizer, text, words):
    """The text's token character spans from one window big enough to hold it all (no overlap logic involved)."""
    (window,) = encode_windows(tokenizer, [text], words=None if words is None else [words], max_length=512)
    return [window.token_spans[k] for k in content(window)]


WINDOW_SETTINGS = [(8, None), (8, 0), (8, 5), (12, 1), (12, None), (32, None), (32, 7)]


@pytest.mark.parametrize("word_mode", [False, True], ids=["raw", "words"])
@pytest.mark.parametrize("max_length, stride", WINDOW_SETTINGS)
def test_every_content_token_is_owned_by_exactly_one_window(toy_tokenizer, word_mode, max_length, stride):
    words = [text.split() for text in TEXTS] if word_mode else None
    windows = encode_windows(toy_tokenizer, TEXTS, words=words, max_length=max_length, stride=stride)
    assert [w.text_index for w in windows] == sorted(w.text_index for w in windows)
    assert len(windows_of(windows, 0)) > 1  # the long text really is windowed
    for text_index, text in enumerate(TEXTS):
        own = windows_of(windows, text_index)
        assert [w.window_index for w in own] == list(range(len(own)))
        owned = [w.token_spans[k] for w in own for k in content(w) if w.owned[k]]
        expected = reference_token_spans(toy_tokenizer, text, words[text_index] if word_mode else None)
        assert owned == expected  # each token once, in order
        for window in own:
            assert all(len(window.input_ids) <= max_length for window in own)
            assert not any(window.owned[k] for k, span in enumerate(window.token_spans) if span == NO_SPAN)


@pytest.mark.parametrize("word_mode", [False, True], ids=["raw", "words"])
def test_token_character_spans_index_the_original_text(toy_tokenizer, word_mode):
    words = [text.split() for text in TEXTS] if word_mode else None
    windows = encode_windows(toy_tokenizer, TEXTS, words=words, max_length=10)
    checked = 0
    for window in windows:
        text = TEXTS[window.text_index]
        tokens = toy_tokenizer.convert_ids_to_tokens(window.input_ids)
        for k in content(window):
            start, end = window.token_spans[k]
            assert 0 <= start < end <= len(text)
            assert text[start:end].lower() == tokens[k].removeprefix("##")
            checked += 1
    assert checked > 100


def units(text: str) -> list[tuple[int, int]]:
    """The units of an ASCII text as BERT's pre-tokenizer splits it: runs of letters/digits, each punctuation mark."""
    return [match.span() for match in re.finditer(r"[A-Za-z0-9]+|[^A-Za-z0-9\s]", text)]


@pytest.mark.parametrize("word_mode", [False, True], ids=["raw", "words"])
def test_starts_and_ends_only_at_unit_boundaries_even_when_a_window_cuts_a_word(toy_tokenizer, word_mode):
    text = "xylophones and qwertyuiop zqx, Paris U.S.-based"
    words = text.split()
    unit_starts = {start for start, _ in units(text)}
    unit_ends = {end for _, end in units(text)}
    windows = encode_windows(toy_tokenizer, [text], words=[words] if word_mode else None, max_length=6, stride=1)
    first_tokens = [window.token_spans[content(window)[0]][0] for window in windows]
    last_tokens = [window.token_spans[content(window)[-1]][1] for window in windows]
    assert any(start not in unit_starts for start in first_tokens), "no window begins inside a word"
    assert any(end not in unit_ends for end in last_tokens), "no window ends inside a word"
    for window in windows:
        for k in content(window):
            start, end = window.token_spans[k]
            assert window.start_allowed[k] == (start in unit_starts), (window.window_index, k)
            assert window.end_allowed[k] == (end in unit_ends), (window.window_index, k)
        assert not any(window.start_allowed[k] or window.end_allowed[k] for k in (0, len(window.input_ids) - 1))


def test_pre_split_words_add_their_own_edges_where_no_unit_edge_is():
    # Chinese corpora pre-split letters and digits one character at a time; each such word may start and end a span.
    text = "ABC公司2024"
    boundaries = char_boundaries(text, word_char_offsets(text, list(text)))
    assert all(boundaries.starts) and all(boundaries.ends)
    raw = char_boundaries(text)
    assert raw.starts == [True, False, False, True, True, True, False, False, False]
    assert raw.ends == [False, False, True, True, True, False, False, False, True]


@pytest.mark.parametrize("max_length, stride", [(512, None), (8, 2), (16, 5)])
def test_raw_text_and_the_same_text_pre_split_give_identical_windows(toy_tokenizer, max_length, stride):
    texts = [MIXED_TEXT, "  hello\tthere  Google hired Carol  ", "U.S. President met G. Bush in Cupertino , Calif ."]
    raw = encode_windows(toy_tokenizer, texts, max_length=max_length, stride=stride)
    pre_split = encode_windows(toy_tokenizer, texts, words=[t.split() for t in texts], max_length=max_length,
                               stride=stride)  # fmt: skip
    assert len(raw) == len(pre_split)
    for a, b in zip(raw, pre_split):
        assert (a.input_ids, a.token_spans, a.start_allowed, a.end_allowed, a.owned) == (
            b.input_ids, b.token_spans, b.start_allowed, b.end_allowed, b.owned
        )  # fmt: skip


def test_word_mode_gives_each_character_one_start_and_one_end_when_sentencepiece_splits_off_a_lone_marker():
    tokenizer = build_sentencepiece_style_tokenizer()
    text = "".join(chr(0x4E00 + i) for i in range(6))
    (window,) = encode_windows(tokenizer, [text], words=[list(text)], max_length=64)
    tokens = tokenizer.convert_ids_to_tokens(window.input_ids)
    assert tokens[1:3] == ["▁", text[0]], "the tokenizer must split the marker off for this test to mean anything"
    for char_index in range(len(text)):
        pieces = [k for k in content(window) if window.token_spans[k] == (char_index, char_index + 1)]
        assert len(pieces) == 2
        assert [window.start_allowed[k] for k in pieces] == [True, False]  # the first piece starts the character
        assert [window.end_allowed[k] for k in pieces] == [False, True]  # the last piece ends it
    (entity,) = align_entities(window, [(1, 3, 0)])
    assert window.start_allowed[entity.start] and window.end_allowed[entity.end]


def test_lone_marker_share_counts_words_whose_first_piece_is_a_bare_marker(toy_tokenizer):
    characters = [chr(0x4E00 + i) for i in range(6)]
    assert lone_marker_share(build_sentencepiece_style_tokenizer(), characters) == 1.0
    assert lone_marker_share(toy_tokenizer, characters) == 0.0  # WordPiece has no word-start marker
    assert lone_marker_share(toy_tokenizer, []) == 0.0


# -- entities and window edges --------------------------------------------------------------------------------------


def middle_window(tokenizer):
    text = " ".join(["Alice", "lives", "in", "Paris", "Bob", "works", "for", "Acme", "in", "Berlin"] * 3)
    windows = encode_windows(tokenizer, [text], words=[text.split()], max_length=8, stride=2)
    return text, windows[1]


def test_align_entities_at_the_edges_of_a_window(toy_tokenizer):
    text, window = middle_window(toy_tokenizer)
    positions = content(window)
    first, last = positions[0], positions[-1]
    first_start, first_end = window.token_spans[first]
    last_start, last_end = window.token_spans[last]
    before = window.token_spans[first][0] - 6  # start of the word before the window ("Paris " is 6 characters)
    entities = [
        (first_start, first_end, 0),  # exactly the first token
        (last_start, last_end, 1),  # exactly the last token
        (first_start, last_end, 2),  # the whole window
        (before, first_end, 3),  # crosses the left edge
        (last_start, last_end + 4, 4),  # crosses the right edge
        (0, 5, 5),  # wholly before the window
        (last_end + 1, last_end + 5, 6),  # wholly after
        (first_start + 1, first_end, 7),  # starts inside a token
    ]
    assert text[before : before + 5] == "Paris" and before + 6 == first_start
    aligned = {entity.label: entity for entity in align_entities(window, entities)}
    assert set(aligned) == {0, 1, 2, 3, 4, 7}
    assert aligned[0][:2] == (first, first) and aligned[0].complete and aligned[0].exact
    assert aligned[1][:2] == (last, last) and aligned[1].complete and aligned[1].exact
    assert aligned[2][:2] == (first, last) and aligned[2].complete and aligned[2].exact
    assert aligned[3].start is None and aligned[3].end == first and not aligned[3].complete
    assert aligned[4].start == last and aligned[4].end is None and not aligned[4].complete
    assert aligned[7][:2] == (first, first) and aligned[7].complete and not aligned[7].exact


def test_align_entities_picks_tokens_by_character_overlap_between_adjacent_tokens(toy_tokenizer):
    text = "Paris!Berlin"  # three tokens with no space between them: paris (0, 5), ! (5, 6), berlin (6, 12)
    (window,) = encode_windows(toy_tokenizer, [text], max_length=16)
    assert window.token_spans[1:4] == [(0, 5), (5, 6), (6, 12)]
    aligned = align_entities(window, [(0, 5, 0), (5, 6, 1), (6, 12, 2), (0, 12, 3)])
    assert [entity[:3] for entity in aligned] == [(1, 1, 0), (2, 2, 1), (3, 3, 2), (1, 3, 3)]
    assert all(entity.complete and entity.exact for entity in aligned)


@pytest.mark.parametrize("max_length, stride", [(16, None), (32, 7), (24, 10)])
def test_long_text_keeps_entities_at_window_edges_whole_in_the_window_that_owns_their_start(
    toy_tokenizer, max_length, stride
):
    stride = default_stride(max_length) if stride is None else stride
    vocabulary = ["alice", "lives", "in", "paris", "bob", "works", "for", "acme", "berlin", "nile", "tokyo"]
    words = [vocabulary[i % len(vocabulary)] for i in range(3 * max_length)]  # one token per word
    text = " ".join(words)
    word_spans = word_char_offsets(text, words)
    windows = encode_windows(toy_tokenizer, [text], words=[words], max_length=max_length, stride=stride)
    assert len(windows) >= 3
    longest = stride // 2 + 1  # the module's promise: entities up to about half the stride are never cut
    entities = [
        (word_spans[first][0], word_spans[first + size - 1][1], size)
        for first in range(len(words))
        for size in range(1, longest + 1)
        if first + size <= len(words)
    ]
    cut_by_an_edge = [
        entity
        for entity in entities
        if any(not aligned.complete for w in windows for aligned in align_entities(w, [entity]))
    ]
    assert len(cut_by_an_edge) > 10, "too few entities cross a window edge: the test would prove little"

    for char_start, char_end, size in entities:
        owners = [
            window
            for window in windows
            for k in content(window)
            if window.owned[k] and window.token_spans[k][0] == char_start
        ]
        assert len(owners) == 1, (char_start, char_end)
        (entity,) = align_entities(owners[0], [(char_start, char_end, size)])
        assert entity.complete and entity.exact, (char_start, char_end, owners[0].window_index)
        # and a decoded span on those tokens maps back to exactly the entity
        spans = window_spans_to_char_spans(owners[0], [Span(entity.start, entity.end, size, 0.9)])
        assert spans == [CharSpan(char_start, char_end, size, 0.9)]


# -- back to characters ---------------------------------------------------------------------------------------------


def test_window_spans_map_back_only_from_the_window_that_owns_their_start(toy_tokenizer):
    text = " ".join(["alice", "lives", "in", "paris"] * 6)
    windows = encode_windows(toy_tokenizer, [text], max_length=8, stride=3)
    kept = []
    for window in windows:
        positions = content(window)
        # every window proposes a one-token span on each of its content tokens, and one on [CLS]
        proposals = [Span(k, k, 0, 0.8) for k in positions] + [Span(0, 0, 0, 0.8)]
        kept += window_spans_to_char_spans(window, proposals)
    words = word_char_offsets(text, text.split())
    assert sorted((span.start, span.end) for span in kept) == words  # each token once, [CLS] never


def test_merge_char_spans_deduplicates_keeping_the_best_score():
    spans = [CharSpan(5, 9, 1, 0.6), CharSpan(0, 3, 0, 0.7), CharSpan(5, 9, 1, 0.9), CharSpan(5, 9, 0, 0.5)]
    assert merge_char_spans(spans) == [CharSpan(0, 3, 0, 0.7), CharSpan(5, 9, 0, 0.5), CharSpan(5, 9, 1, 0.9)]


# -- argument checks ------------------------------------------------------------------------------------------------


def test_encode_windows_rejects_bad_arguments(toy_tokenizer):
    with pytest.raises(ValueError, match="stride"):
        encode_windows(toy_tokenizer, ["a b c"], max_length=8, stride=6)
    with pytest.raises(ValueError, match="word lists"):
        encode_windows(toy_tokenizer, ["a b", "c"], words=[["a", "b"]], max_length=8)
    with pytest.raises(ValueError, match="fast tokenizer"):
        encode_windows(SimpleNamespace(is_fast=False), ["a"], max_length=8)
    assert encode_windows(toy_tokenizer, [], max_length=8) == []


def test_word_char_offsets_names_a_word_missing_from_the_text():
    assert word_char_offsets("a  bb a", ["a", "bb", "a"]) == [(0, 1), (3, 5), (6, 7)]
    with pytest.raises(ValueError, match="'cc'"):
        word_char_offsets("a bb", ["a", "cc"])


def build_tiny_tokenizer(kind: str):
    """A byte-level BPE (GPT-2 / RoBERTa conventions) or a Metaspace unigram (SentencePiece / XLM-R conventions)
    trained in code on a few sentences, so that words split into several pieces."""
    corpus = [MIXED_TEXT, "U.S. President met G. Bush in Cupertino , Calif .", "the river Nile is long"] * 5
    if kind == "byte-level":
        backend = Tokenizer(models.BPE())
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<pad>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
        backend.train_from_iterator(corpus, trainer)
        backend.post_processor = processors.RobertaProcessing(("</s>", 1), ("<s>", 0), trim_offsets=True)
    else:
        backend = Tokenizer(models.Unigram())
        backend.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=120, special_tokens=["<s>", "</s>", "<pad>", "<unk>"],
                                          unk_token="<unk>")  # fmt: skip
        backend.train_from_iterator(corpus, trainer)
        backend.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]
        )
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>" if kind != "byte-level" else None)  # fmt: skip


@pytest.mark.parametrize("kind", ["byte-level", "sentencepiece"])
def test_span_edges_follow_the_units_with_byte_level_and_sentencepiece_tokenizers(kind):
    tokenizer = build_tiny_tokenizer(kind)
    text = "U.S. President met G. Bush in Cupertino , Calif ."
    starts = {start for start, _ in units(text)}
    ends = {end for _, end in units(text)}
    (window,) = encode_windows(tokenizer, [text], max_length=128)
    pieces_inside_words = 0
    for k in content(window):
        start, end = window.token_spans[k]
        assert text[start:end] == text[start:end].strip()  # no "Ġ"/"▁" space inside a token's span
        assert not window.start_allowed[k] or start in starts, (k, text[start:end])
        assert not window.end_allowed[k] or end in ends, (k, text[start:end])
        pieces_inside_words += start not in starts
    assert pieces_inside_words > 0, "the tokenizer must split some word for the test to mean anything"
    allowed_starts = {window.token_spans[k][0] for k in content(window) if window.start_allowed[k]}
    assert allowed_starts == {
        start for start in starts if any(window.token_spans[k][0] == start for k in content(window))
    }
