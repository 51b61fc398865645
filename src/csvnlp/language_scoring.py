"""py3langid's language scores with its byte walk done by NumPy, for many texts at once: the
same numbers, several times cheaper.

py3langid scores a text from the byte n-grams its model knows, found by walking an
Aho-Corasick automaton over the text one byte at a time in Python: about 0.3 ms for the 300
characters csvnlp samples, more than the rest of a tagging row. The automaton's state after a
byte is the longest known n-gram prefix ending there, so it depends only on the last bytes, no
more than the longest n-gram (``automaton_depth``; ``WINDOW`` is at least that, a test checks):
walking that window from the start state gives the same state. So every position of every text
in a batch is walked at once, ``WINDOW`` NumPy steps in all, and the counts go to py3langid's
own scoring (``_sparse_score``'s sum on the same arrays, then ``_decide``) in the order its walk would have met them,
so the scores are the same numbers (a test compares the two on real texts).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

WINDOW = 8  # >= the automaton's depth (6 for py3langid 0.3's model)


def automaton_depth(nextmove: np.ndarray, rowbase: np.ndarray) -> int:
    """The length of the longest byte string the automaton tracks: the largest breadth-first
    distance of a state from the start state (a few seconds; for tests)."""
    distance = np.full(len(rowbase), -1, dtype=np.int64)
    distance[0] = 0
    frontier, depth = np.array([0]), 0
    while frontier.size:
        targets = np.unique(nextmove[(rowbase[frontier][:, None] + np.arange(256)).ravel()])
        targets = targets[distance[targets] < 0]
        if not targets.size:
            break
        depth += 1
        distance[targets] = depth
        frontier = targets
    return depth


class BatchScorer:
    """Wraps a py3langid ``LanguageIdentifier``: ``rank_many`` ranks many texts with one
    vectorised walk; each text's ranking equals ``identifier.rank(text)``."""

    def __init__(self, identifier: Any):
        self.identifier = _with_lookup(identifier)
        self.nextmove = np.frombuffer(identifier.tk_nextmove, dtype=identifier.tk_nextmove.typecode).astype(np.int32)
        self.rowbase = np.asarray(identifier._rowbase, dtype=np.int32)
        self.output = np.asarray(identifier.tk_output, dtype=np.int32)

    def visits(self, encoded: Sequence[bytes]) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per encoded text, (feature indices, their counts as float32) in the order a
        byte-by-byte walk meets them (the keys and values of py3langid's visit dict), or None."""
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        if not lengths.sum():
            return [None] * len(encoded)
        codes = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.int32)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.arange(len(codes))
        state = np.zeros(len(codes), dtype=np.int32)
        for back in range(WINDOW - 1, -1, -1):  # the window's oldest byte first
            source = positions - back
            inside = source >= starts  # a window never reaches into the previous text
            moved = self.nextmove[self.rowbase[state] + codes[np.maximum(source, 0)]]
            state = np.where(inside, moved, state)
        found = self.output[state]
        hit = found >= 0
        text_of = np.repeat(np.arange(len(encoded)), lengths)[hit]
        found, where = found[hit].astype(np.int64), positions[hit]
        width = int(found.max()) + 1 if found.size else 1
        keys, first, counts = np.unique(text_of * width + found, return_index=True, return_counts=True)
        texts, features, first_at = keys // width, keys % width, where[first]
        order = np.lexsort((first_at, texts))  # per text, by first occurrence
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(encoded)
        bounds = np.searchsorted(texts[order], np.arange(len(encoded) + 1))
        features, counts = features[order].astype(np.intp), counts[order].astype(np.float32)
        for i in range(len(encoded)):
            if bounds[i + 1] > bounds[i]:
                out[i] = (features[bounds[i]:bounds[i + 1]], counts[bounds[i]:bounds[i + 1]])
        return out

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        identifier = self.identifier
        encoded = [identifier._encode(text) for text in texts]
        identifier.walked = dict(zip(encoded, self.visits(encoded)))
        try:  # py3langid's own decision (rank, _decide), with the walk's result looked up
            return [identifier.rank(text) for text in texts]
        finally:
            identifier.walked = {}

    def scores_many(self, texts: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        """(labels, each text's score per label): the numbers ``rank`` sorts (its first column
        of each label), unsorted, for a caller that needs only the best and a few others."""
        identifier = self.identifier
        encoded = [identifier._encode(text) for text in texts]
        identifier.walked = dict(zip(encoded, self.visits(encoded)))
        columns = [identifier.nb_classes.index(label) for label in identifier.labels]  # each label's first column
        try:
            return identifier.labels, [[row[j] for j in columns] for row in (identifier._decide(text).tolist() for text in texts)]
        finally:
            identifier.walked = {}


def _with_lookup(identifier: Any) -> Any:
    """A copy of ``identifier`` whose ``_raw_score`` takes the feature counts of an encoded text
    from ``walked`` (filled by ``BatchScorer``) instead of walking it byte by byte."""
    from py3langid.langid import RAW_FLOOR, LanguageIdentifier

    class LookedUp(LanguageIdentifier):
        __slots__ = ("walked",)

        def _raw_score(self, text):  # type: ignore[no-untyped-def]
            visits = self.walked[text]
            if visits is not None:  # _sparse_score's sum, on the arrays its two fromiter calls would make
                indices, counts = visits
                return np.log1p(counts) @ self.nb_ptc[indices] + self.nb_pc
            fill = 0.0 if self._norm_probs else RAW_FLOOR
            return np.full(len(self.nb_classes), fill, dtype=np.float32)

    copy = object.__new__(LookedUp)
    for name in LanguageIdentifier.__slots__:
        setattr(copy, name, getattr(identifier, name))
    copy.walked = {}
    return copy
