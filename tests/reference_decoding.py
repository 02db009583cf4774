"""Literal, obviously-correct decoding loops transcribed from docs lear-reference.md sections 4 and 5.

These are the oracles the vectorised decoders in `lear.modeling_lear` are tested against. They work on plain Python
lists of probabilities (not logits), one position at a time, and are deliberately slow and simple: do not optimise.

Every function returns, per example, a sorted list of `(start, end, label, score)` tuples over token positions
(both ends inclusive). A position whose mask is False can neither start nor end a span.
"""

from __future__ import annotations


def _allowed(mask, b, t):
    return mask is None or bool(mask[b][t])


def reference_v5_row(start_p, end_p, start_ok, end_ok, start_threshold=0.5, end_threshold=0.5):
    """One (example, label) row of the original's "v5" rule, exactly as written in lear-reference.md section 5:

    ```
    best_start_p = best_end_p = -1; si = ei = -1
    for t in positions:
        if P_start[t] >= 0.5:
            if ei != -1: emit (si, ei); reset best_start_p, best_end_p, si, ei
            if P_start[t] > best_start_p: best_start_p, si = P_start[t], t
        if P_end[t] > 0.5 and best_start_p > 0.5:
            if P_end[t] > best_end_p: best_end_p, ei = P_end[t], t
    if ei != -1: emit (si, ei)
    ```
    (the 0.5s are the start threshold, the end threshold, and the start threshold again). The score is the mean of
    the chosen start's and end's probabilities.
    """
    spans = []
    best_start_p = -1.0
    best_end_p = -1.0
    si = -1
    ei = -1
    for t in range(len(start_p)):
        if start_ok[t] and start_p[t] >= start_threshold:
            if ei != -1:
                spans.append((si, ei, (best_start_p + best_end_p) / 2))
                best_start_p = -1.0
                best_end_p = -1.0
                si = -1
                ei = -1
            if start_p[t] > best_start_p:
                best_start_p = start_p[t]
                si = t
        if end_ok[t] and end_p[t] > end_threshold and best_start_p > start_threshold:
            if end_p[t] > best_end_p:
                best_end_p = end_p[t]
                ei = t
    if ei != -1:
        spans.append((si, ei, (best_start_p + best_end_p) / 2))
    return spans


def reference_v1_row(start_p, end_p, start_ok, end_ok, start_threshold=0.5, end_threshold=0.5):
    """One row of the "v1" rule: each start (p > threshold) pairs with the nearest end (p > threshold) at or after
    it; a start with no end after it emits nothing."""
    spans = []
    for i in range(len(start_p)):
        if not (start_ok[i] and start_p[i] > start_threshold):
            continue
        for j in range(i, len(end_p)):
            if end_ok[j] and end_p[j] > end_threshold:
                spans.append((i, j, (start_p[i] + end_p[j]) / 2))
                break
    return spans


def reference_flat(start_probs, end_probs, start_mask=None, end_mask=None, strategy="v5", threshold=(0.5, 0.5)):
    """Flat decoding of `[B][L][C]` nested lists of probabilities with `[B][L]` masks (or None)."""
    row_rule = {"v5": reference_v5_row, "v1": reference_v1_row}[strategy]
    start_threshold, end_threshold = threshold
    results = []
    for b in range(len(start_probs)):
        length = len(start_probs[b])
        num_labels = len(start_probs[b][0]) if length else 0
        start_ok = [_allowed(start_mask, b, t) for t in range(length)]
        end_ok = [_allowed(end_mask, b, t) for t in range(length)]
        example = []
        for c in range(num_labels):
            start_p = [start_probs[b][t][c] for t in range(length)]
            end_p = [end_probs[b][t][c] for t in range(length)]
            for start, end, score in row_rule(start_p, end_p, start_ok, end_ok, start_threshold, end_threshold):
                example.append((start, end, c, score))
        results.append(sorted(example))
    return results


def reference_nested(start_probs, end_probs, span_probs, start_mask=None, end_mask=None, threshold=(0.5, 0.5, 0.5)):
    """Nested decoding (lear-reference.md section 4): every (i, j, c) with P_span > t, P_start[i] > t,
    P_end[j] > t and i <= j; no overlap filtering. The score is P_span. `span_probs` is `[B][L][L][C]`."""
    start_threshold, end_threshold, span_threshold = threshold
    results = []
    for b in range(len(start_probs)):
        length = len(start_probs[b])
        num_labels = len(start_probs[b][0]) if length else 0
        example = []
        for i in range(length):
            for j in range(length):
                for c in range(num_labels):
                    if (
                        i <= j
                        and _allowed(start_mask, b, i)
                        and _allowed(end_mask, b, j)
                        and start_probs[b][i][c] > start_threshold
                        and end_probs[b][j][c] > end_threshold
                        and span_probs[b][i][j][c] > span_threshold
                    ):
                        example.append((i, j, c, span_probs[b][i][j][c]))
        results.append(sorted(example))
    return results
