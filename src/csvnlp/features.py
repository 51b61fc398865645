"""What the level model sees of a text: TF-IDF terms, lexicon density and similarity to the
report's definition of each level.

Training computes the vocabulary, IDF weights and level centroids once per fold
(``TermCounts.fold``, checked against scikit-learn's ``TfidfVectorizer``); predicting needs no
scikit-learn or SciPy: ``TfidfAnalyzer`` repeats the vectorizer's analysis (lower-case, token
pattern, stop words, n-grams, sublinear TF x IDF, L2) in plain Python and NumPy, and a test
checks it against ``TfidfVectorizer.transform``. Importing scikit-learn alone takes longer
than tokenizing thousands of texts, and a cold ``csvnlp classify`` pays it for one text.

- **Prototype documents.** The report's own descriptions of each level (sections 2 and 6),
  with its definition and keyword list, give one TF-IDF centroid per level; a text's cosine
  to each centroid is a feature.
- **Lexicon features.** Keyword density for each level's lexicon (``levels.py``); the
  logistic regression learns their weight, ``lexicon_weight`` only scales them against the
  TF-IDF block (L2-regularised models care about scale).
- **No layout learning.** Field labels ("Cluster Partners:", "Funding:") are removed before
  featurising, and numbers are not tokens, so the INNOSUP template cannot stand in for a level.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from csvnlp.levels import DEFINITIONS, LEVEL_KEYS, lexicon_counts
from csvnlp.report_source import FIELD_LABELS

_FIELD_LABEL_LINE = re.compile(
    r"(?im)^[ \t]*(?:" + "|".join(sorted((re.escape(k) for k in FIELD_LABELS), key=len, reverse=True)) + r")[ \t]*:[ \t]*"
)
_WORD = re.compile(r"\w+")
# Letters only: amounts, years and grant numbers say nothing about the level.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
# STOP_WORDS (scikit-learn's English list, sorted) is written into each model: scikit-learn may
# change its built-in list, a saved model must not. Read lazily (module ``__getattr__``), so
# predicting from a saved model, which reads its own copy, never imports scikit-learn.


def __getattr__(name: str) -> Any:
    if name == "STOP_WORDS":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return tuple(sorted(ENGLISH_STOP_WORDS))
    raise AttributeError(f"module 'csvnlp.features' has no attribute {name!r}")
LEXICON_FEATURES = tuple(
    [f"[similar to the definition of {key}]" for key in LEVEL_KEYS]
    + [f"[{key} keywords]" for key in LEVEL_KEYS]
)


def strip_field_labels(text: str) -> str:
    """Remove the case template's field labels ("Funding:", "Cluster Partners:") at line starts."""
    if ":" not in text:  # every label ends in a colon
        return text
    return _FIELD_LABEL_LINE.sub("", text)


# Funding programmes the report names outside its cases (sections 1-4.2 and 6; a test checks
# each is there), and the shape of a call identifier (INNOSUP-01-2018-2020,
# COS-CLUSTER-2015-3-02, HORIZON-CL4-2026-04-DIGITAL-18). Who funds a project is not what it
# does: 8 of the report's 10 cluster_development cases name INNOSUP, so without this mask the
# word would stand in for the level.
PROGRAMME_NAMES = ("INNOSUP", "COSME", "INTERREG MED", "INTERREG", "Horizon 2020", "H2020", "VINNOVA", "Panoramed")
_PROGRAMME_MASK = re.compile(
    # call identifiers first (upper case, three or more parts), so "INNOSUP-01-2018-2020" goes whole
    r"(?<![\w-])[A-Z][A-Z0-9+]*(?:-[A-Z0-9+]+){2,}(?![\w-])"
    r"|(?<![\w-])(?i:" + "|".join(re.escape(name) for name in PROGRAMME_NAMES) + r")(?![\w+])"
)


def mask_programme_names(text: str) -> str:
    """Blank out programme names and call identifiers (each character becomes a space, so
    offsets and word counts of the rest stay as they were)."""
    if not _programme_mask_guard().possible(text):  # no "-" and no programme name: nothing to mask
        return text
    return _PROGRAMME_MASK.sub(lambda m: " " * len(m.group(0)), text)


@lru_cache(maxsize=1)
def _programme_mask_guard() -> Any:
    from csvnlp.regex_guard import Guard

    return Guard([_PROGRAMME_MASK])


def model_text(text: str) -> str:
    """What the level model reads of a text: field labels removed, programme names masked."""
    return mask_programme_names(strip_field_labels(text))


@dataclass(frozen=True)
class TextStats:
    words: int
    level_hits: list[int]
    domain_terms: int


def text_stats(doc: str) -> TextStats:
    hits, domain_terms = lexicon_counts(doc)
    return TextStats(words=word_count(doc), level_hits=hits, domain_terms=domain_terms)


# In ASCII, \w is [A-Za-z0-9_]: mapping those bytes to "a" and every other byte to a space
# makes the words the runs str.split finds, at a fraction of a findall's cost.
_ASCII_WORD_BYTES = bytes(ord("a") if (chr(i).isalnum() or chr(i) == "_") and i < 128 else ord(" ") for i in range(256))


def word_count(doc: str) -> int:
    r"""``len(re.findall(r"\w+", doc))``."""
    if doc.isascii():
        return len(doc.encode("ascii").translate(_ASCII_WORD_BYTES).split())
    return len(_WORD.findall(doc))


def lexicon_densities(stats: Sequence[TextStats]) -> np.ndarray:
    """(n, 3) keyword hits per 100 words, squashed: the 10th keyword says less than the 1st."""
    scale = math.log(101.0)
    rows = []
    for stat in stats:  # built as lists, then one array: item assignment into an array is slow
        words = max(stat.words, 1)
        rows.append([math.log1p(100.0 * hits / words) / scale if hits else 0.0 for hits in stat.level_hits])
    return np.array(rows, dtype=np.float64).reshape(len(stats), len(LEVEL_KEYS))


def prototype_texts(key: str, prototypes: dict[str, list[str]] | None) -> list[str]:
    """The report's descriptions of a level, plus its definition and keyword list."""
    definition = DEFINITIONS[key]
    return list((prototypes or {}).get(key, [])) + [f"{definition.name}. {definition.definition}", " ".join(definition.keywords)]


def make_vectorizer(ngram_max: int, vocabulary: Sequence[str] | None = None) -> Any:
    """The TF-IDF vectorizer every csvnlp model is trained with (scikit-learn's ``TfidfVectorizer``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, ngram_max), sublinear_tf=True, stop_words=list(__getattr__("STOP_WORDS")),
        token_pattern=TOKEN_PATTERN, lowercase=True, dtype=np.float64,
        vocabulary=list(vocabulary) if vocabulary is not None else None,
    )


def l2_rows(matrix: Any) -> Any:
    """Each row divided by its L2 norm (rows of zeros stay zero)."""
    from scipy import sparse
    from scipy.sparse.linalg import norm

    rows = [matrix[i] / max(norm(matrix[i]), 1e-12) for i in range(matrix.shape[0])]
    return sparse.vstack(rows).tocsr()


# TOKEN_PATTERN written so that it opens with a character class (which re scans for quickly)
# rather than a word boundary: a letter not preceded by a word character, more letters, no word
# character after. The same tokens (a test compares them); 10-15% less time.
_SAME_TOKENS_FASTER = {TOKEN_PATTERN: r"[^\W\d_](?<!\w[^\W\d_])[^\W\d_]+(?!\w)"}


class TfidfAnalyzer:
    """A text's TF-IDF row as a trained vocabulary gives it, in plain Python and NumPy: what
    ``TfidfVectorizer(lowercase=True, token_pattern, stop_words, ngram_range=(1, ngram_max),
    sublinear_tf=True, norm="l2").transform`` gives (a test checks it, to 1e-12)."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray, ngram_max: int, stop_words: Sequence[str], token_pattern: str):
        self.terms = list(terms)
        self.vocabulary = {term: i for i, term in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.ngram_max = ngram_max
        self.stop_words = frozenset(stop_words)
        self.token_pattern = token_pattern
        self._tokens = re.compile(_SAME_TOKENS_FASTER.get(token_pattern, token_pattern))

    def counts(self, doc: str) -> dict[int, int]:
        """Term index -> count in one text (``model_text`` already applied)."""
        tokens = [t for t in self._tokens.findall(doc.lower()) if t not in self.stop_words]
        grams = tokens
        if self.ngram_max > 1:
            grams = list(tokens)
            for n in range(2, self.ngram_max + 1):
                grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        counts: dict[int, int] = {}
        for index in map(self.vocabulary.get, grams):  # the lookups in C; the tally of those found here
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        return counts

    def rows(self, docs: Sequence[str]) -> "SparseRows":
        """The texts' rows: term indices ascending per row, weights (1 + log tf) x idf, each row
        divided by its L2 norm (a row of zeros stays zero)."""
        ids: list[int] = []
        tf: list[int] = []
        offsets = [0]
        for doc in docs:
            counts = self.counts(doc)
            row = sorted(counts)
            ids += row
            tf += [counts[i] for i in row]
            offsets.append(len(ids))
        index = np.asarray(ids, dtype=np.int64)
        starts = np.asarray(offsets, dtype=np.int64)
        weights = (np.log(np.asarray(tf, dtype=np.float64)) + 1.0) * self.idf[index]
        if len(weights):
            squares = np.add.reduceat(np.append(weights * weights, 0.0), np.minimum(starts[:-1], len(weights)))
            norms = np.sqrt(np.where(starts[:-1] == starts[1:], 0.0, squares))
            lengths = np.diff(starts)
            weights = weights / np.repeat(np.where(norms > 0, norms, 1.0), lengths)
        return SparseRows(index, weights, starts, len(self.terms))


@dataclass
class SparseRows:
    """Rows of a sparse matrix as CSR parts (``ids``, ``weights``, row ``offsets``), with the
    products predicting needs in NumPy alone."""

    ids: np.ndarray
    weights: np.ndarray
    offsets: np.ndarray
    width: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def dot(self, matrix: np.ndarray) -> np.ndarray:
        """(rows, k): each row times the dense (k, width) ``matrix``, transposed."""
        if not len(self.ids):
            return np.zeros((len(self), matrix.shape[0]))
        products = matrix[:, self.ids] * self.weights  # (k, nnz)
        starts = self.offsets[:-1]
        sums = np.add.reduceat(np.hstack([products, np.zeros((matrix.shape[0], 1))]), np.minimum(starts, len(self.ids)), axis=1)
        sums[:, starts == self.offsets[1:]] = 0.0  # an empty row sums to nothing (reduceat would repeat a value)
        return sums.T

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.offsets[i], self.offsets[i + 1]
        return self.ids[start:end], self.weights[start:end]

    def to_csr(self) -> Any:
        from scipy import sparse

        return sparse.csr_matrix((self.weights, self.ids, self.offsets), shape=(len(self), self.width))


def prototype_rows(prototypes: dict[str, list[str]] | None) -> tuple[list[str], np.ndarray]:
    """The prototype texts as extra training rows: (texts, (m, 3) labels, one level each)."""
    texts = [text for key in LEVEL_KEYS for text in prototype_texts(key, prototypes)]
    labels = np.array(
        [[1 if k == key else 0 for k in LEVEL_KEYS] for key in LEVEL_KEYS for _ in prototype_texts(key, prototypes)]
    ).reshape(-1, len(LEVEL_KEYS))
    return texts, labels


class TermCounts:
    """Every text's term counts for one n-gram range, computed once for the whole corpus, so
    cross-validation does not tokenize each text once per fold and setting.

    A fold's vocabulary and IDF weights are the columns and document frequencies of its own
    training rows, which is what fitting ``TfidfVectorizer`` on those rows gives (a test checks
    it against ``TfidfVectorizer``; the shipped model's probabilities match those of the last
    model fitted with ``TfidfVectorizer`` to 1e-9).

    Rows: the corpus texts, then the prototype texts (training rows of every fold), then one
    joined prototype document per level (the centroids)."""

    def __init__(self, texts: Sequence[str], prototypes: dict[str, list[str]] | None, ngram_max: int):
        from sklearn.feature_extraction.text import CountVectorizer

        proto_texts, self.proto_labels = prototype_rows(prototypes)
        joined = [" ".join(prototype_texts(key, prototypes)) for key in LEVEL_KEYS]
        docs = [model_text(t) for t in list(texts) + proto_texts + joined]
        reference = make_vectorizer(ngram_max)
        counter = CountVectorizer(**{k: v for k, v in reference.get_params().items() if k in CountVectorizer().get_params()})
        self.counts = counter.fit_transform(docs).tocsr()
        self.terms = counter.get_feature_names_out()
        self.stats = [text_stats(d) for d in docs]
        self.densities = lexicon_densities(self.stats)
        self.n_texts = len(texts)
        self.proto_rows = np.arange(len(texts), len(texts) + len(proto_texts))
        self.joined_rows = np.arange(len(texts) + len(proto_texts), len(docs))

    def fold(self, train: np.ndarray, test: np.ndarray, labels: np.ndarray) -> "FoldFeatures":
        """TF-IDF and similarity features as a vectorizer fitted on ``train`` (+ prototypes) gives them."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfTransformer

        fit_rows = np.concatenate([train, self.proto_rows])
        fit_counts = self.counts[fit_rows]
        columns = np.flatnonzero(np.bincount(fit_counts.indices, minlength=self.counts.shape[1]) > 0)
        fit_counts = fit_counts[:, columns]
        transformer = TfidfTransformer(sublinear_tf=True).fit(fit_counts)
        fit_tfidf = transformer.transform(fit_counts)
        test_tfidf = (transformer.transform(self.counts[test][:, columns]) if len(test)
                      else sparse.csr_matrix((0, len(columns))))
        centroids = l2_rows(transformer.transform(self.counts[self.joined_rows][:, columns]))
        return FoldFeatures(
            terms=self.terms[columns], idf=transformer.idf_, centroids=centroids,
            fit_tfidf=fit_tfidf, test_tfidf=test_tfidf,
            fit_lexicon=np.hstack([(fit_tfidf @ centroids.T).toarray(), self.densities[fit_rows]]),
            test_lexicon=np.hstack([(test_tfidf @ centroids.T).toarray(), self.densities[test]]),
            fit_targets=np.vstack([labels[train], self.proto_labels]),
        )


@dataclass
class FoldFeatures:
    """One fold's features: its vocabulary (``terms``, ``idf``, ``centroids``), the training
    rows (the fold's texts, then the prototype rows) and the held-out rows."""

    terms: np.ndarray
    idf: np.ndarray
    centroids: Any
    fit_tfidf: Any
    test_tfidf: Any
    fit_lexicon: np.ndarray
    test_lexicon: np.ndarray
    fit_targets: np.ndarray

    def matrices(self, lexicon_weight: float) -> tuple[Any, Any]:
        """(training rows, held-out rows): [TF-IDF | lexicon_weight x (similarity, densities)]."""
        from scipy import sparse

        fit = sparse.hstack([self.fit_tfidf, sparse.csr_matrix(self.fit_lexicon * lexicon_weight)]).tocsr()
        test = sparse.hstack([self.test_tfidf, sparse.csr_matrix(self.test_lexicon * lexicon_weight)]).tocsr()
        return fit, test


NEAREST_CASE_TERMS = 32  # terms per training case kept for the evidence's nearest-case similarity


class NearestCases:
    """A small index of the training cases for the evidence a result reports (its similarity to
    the nearest one): each case's ``NEAREST_CASE_TERMS`` strongest TF-IDF terms (float32), not
    the training matrix. The similarity is the cosine to a case on those terms (at most the
    full cosine)."""

    def __init__(self, offsets: np.ndarray, terms: np.ndarray, weights: np.ndarray):
        self.offsets, self.terms, self.weights = offsets, terms, weights
        cases = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        order = np.argsort(terms, kind="stable")  # by term: the cases each term occurs in
        self._by_term_terms, self._by_term_cases, self._by_term_weights = terms[order], cases[order], weights[order].astype(np.float64)

    @classmethod
    def from_rows(cls, rows: Any, top: int = 0) -> "NearestCases":
        top = top or NEAREST_CASE_TERMS
        offsets, terms, weights = [0], [], []
        for i in range(rows.shape[0]):
            start, end = rows.indptr[i], rows.indptr[i + 1]
            keep = np.argsort(-rows.data[start:end], kind="stable")[:top]
            chosen = np.sort(rows.indices[start:end][keep])
            by_term = dict(zip(rows.indices[start:end], rows.data[start:end]))
            terms += chosen.tolist()
            weights += [by_term[t] for t in chosen]
            offsets.append(len(terms))
        return cls(np.asarray(offsets, dtype=np.int64), np.asarray(terms, dtype=np.int32), np.asarray(weights, dtype=np.float32))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "NearestCases":
        return cls(np.asarray(arrays["cases_offsets"], dtype=np.int64), np.asarray(arrays["cases_terms"], dtype=np.int32),
                   np.asarray(arrays["cases_weights"], dtype=np.float32))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"cases_offsets": self.offsets, "cases_terms": self.terms, "cases_weights": self.weights}

    def similarity(self, ids: np.ndarray, weights: np.ndarray) -> float:
        """The highest similarity of one TF-IDF row to any indexed case (0 when none shares a term)."""
        if not len(ids) or not len(self.terms):
            return 0.0
        starts = np.searchsorted(self._by_term_terms, ids, side="left")
        ends = np.searchsorted(self._by_term_terms, ids, side="right")
        hits = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(ids) else np.zeros(0, int)
        if not len(hits):
            return 0.0
        scale = np.repeat(weights, ends - starts)
        totals = np.bincount(self._by_term_cases[hits], weights=self._by_term_weights[hits] * scale, minlength=len(self.offsets) - 1)
        return float(totals.max())
