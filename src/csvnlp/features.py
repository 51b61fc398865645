"""What the level model sees of a text: TF-IDF terms, lexicon density and similarity to the
report's definition of each level.

Why one transformer (``LevelFeatures``) and not a ``FeatureUnion`` of three: the similarity
to a level's definition is measured in the TF-IDF space fitted in the same step; a
FeatureUnion fits each part on its own, so it would fit the same vectorizer twice.

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
from typing import Any, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from csvnlp.levels import DEFINITIONS, LEVEL_KEYS, lexicon_counts
from csvnlp.report_source import FIELD_LABELS

_FIELD_LABEL_LINE = re.compile(
    r"(?im)^[ \t]*(?:" + "|".join(sorted((re.escape(k) for k in FIELD_LABELS), key=len, reverse=True)) + r")[ \t]*:[ \t]*"
)
_WORD = re.compile(r"\w+")
# Letters only: amounts, years and grant numbers say nothing about the level.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
# Written into each model: scikit-learn may change its built-in list, a saved model must not.
STOP_WORDS = tuple(sorted(ENGLISH_STOP_WORDS))
LEXICON_FEATURES = tuple(
    [f"[similar to the definition of {key}]" for key in LEVEL_KEYS]
    + [f"[{key} keywords]" for key in LEVEL_KEYS]
)


def strip_field_labels(text: str) -> str:
    """Remove the case template's field labels ("Funding:", "Cluster Partners:") at line starts."""
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
    return _PROGRAMME_MASK.sub(lambda m: " " * len(m.group(0)), text)


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
    return TextStats(words=len(_WORD.findall(doc)), level_hits=hits, domain_terms=domain_terms)


def lexicon_densities(stats: Sequence[TextStats]) -> np.ndarray:
    """(n, 3) keyword hits per 100 words, squashed: the 10th keyword says less than the 1st."""
    densities = np.zeros((len(stats), len(LEVEL_KEYS)))
    for i, stat in enumerate(stats):
        words = max(stat.words, 1)
        for j, hits in enumerate(stat.level_hits):
            densities[i, j] = math.log1p(100.0 * hits / words) / math.log(101.0)
    return densities


def prototype_texts(key: str, prototypes: dict[str, list[str]] | None) -> list[str]:
    """The report's descriptions of a level, plus its definition and keyword list."""
    definition = DEFINITIONS[key]
    return list((prototypes or {}).get(key, [])) + [f"{definition.name}. {definition.definition}", " ".join(definition.keywords)]


def make_vectorizer(ngram_max: int, vocabulary: Sequence[str] | None = None) -> TfidfVectorizer:
    """The TF-IDF vectorizer every csvnlp model uses (fitted, or rebuilt from a saved vocabulary)."""
    return TfidfVectorizer(
        ngram_range=(1, ngram_max), sublinear_tf=True, stop_words=list(STOP_WORDS),
        token_pattern=TOKEN_PATTERN, lowercase=True, dtype=np.float64,
        vocabulary=list(vocabulary) if vocabulary is not None else None,
    )


def l2_rows(matrix: Any) -> Any:
    """Each row divided by its L2 norm (rows of zeros stay zero)."""
    from scipy.sparse.linalg import norm

    rows = [matrix[i] / max(norm(matrix[i]), 1e-12) for i in range(matrix.shape[0])]
    return sparse.vstack(rows).tocsr()


class LevelFeatures:
    """Texts -> [TF-IDF | similarity to each level's definition | keyword density per level].

    Not fitted on its own: ``LevelModel.fit`` computes the vocabulary, IDF weights and one
    L2-normalised centroid per level once per fold (``TermCounts.fold``) and hands them over
    (``set_fitted``); a saved model hands over the same parts (``set_parts``).
    """

    def __init__(self, prototypes: dict[str, list[str]] | None = None, ngram_max: int = 2, lexicon_weight: float = 1.0):
        self.prototypes = prototypes
        self.ngram_max = ngram_max
        self.lexicon_weight = lexicon_weight

    def set_fitted(self, fold: "FoldFeatures") -> "LevelFeatures":
        """Become the features a fold's training rows define (vocabulary, IDF, centroids)."""
        return self.set_parts(fold.terms, fold.idf, fold.centroids)

    def set_parts(self, terms: Sequence[str], idf: np.ndarray, centroids: Any) -> "LevelFeatures":
        """Fitted state from its parts: what a fold's training rows define, or what a saved model holds."""
        self.vectorizer_ = make_vectorizer(self.ngram_max, vocabulary=terms)
        self.vectorizer_.idf_ = np.asarray(idf, dtype=np.float64)
        self.centroids_ = sparse.csr_matrix(centroids)
        self.n_features_out_ = len(terms) + len(LEXICON_FEATURES)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "vectorizer_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("LevelFeatures has no vocabulary yet: it is set by LevelModel.fit or a saved model")

    def tfidf(self, X: Sequence[str]) -> Any:
        """The TF-IDF rows alone (for similarity to training texts)."""
        self._check_fitted()
        return self.vectorizer_.transform([model_text(t) for t in X])

    def transform(self, X: Sequence[str]) -> Any:
        docs = [model_text(t) for t in X]
        self._check_fitted()
        tfidf = self.vectorizer_.transform(docs)
        return self.combine(tfidf, lexicon_densities([text_stats(d) for d in docs]))

    def combine(self, tfidf: Any, densities: np.ndarray) -> Any:
        """[tfidf | weight x (similarity, densities)] as one sparse matrix."""
        similarity = (tfidf @ self.centroids_.T).toarray()
        lexicon = np.hstack([similarity, densities]) * self.lexicon_weight
        return sparse.hstack([tfidf, sparse.csr_matrix(lexicon)]).tocsr()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(list(self.vectorizer_.get_feature_names_out()) + list(LEXICON_FEATURES), dtype=object)



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
        """(training rows, held-out rows) as ``LevelFeatures`` with this lexicon weight gives them."""
        fit = sparse.hstack([self.fit_tfidf, sparse.csr_matrix(self.fit_lexicon * lexicon_weight)]).tocsr()
        test = sparse.hstack([self.test_tfidf, sparse.csr_matrix(self.test_lexicon * lexicon_weight)]).tocsr()
        return fit, test
