"""The CSV-level classifier: TF-IDF plus report-derived lexicon features, one logistic
regression per level, per-level thresholds, and an evidence gate for ``uncertain``.

Why this shape (27 training cases, 21 of them ``products_markets``, 4 ``value_chain``):

- **Prototype documents.** The report's own descriptions of each level (sections 2 and 6)
  join the training set as extra positives of their level, and their TF-IDF centroids give
  one "similarity to the level's definition" feature per level.
- **Lexicon features.** Keyword density for each level's lexicon (``levels.py``), beside the
  TF-IDF features; the logistic regression learns their weights, nobody hand-sets them.
- **Prior correction.** ``class_weight="balanced"``: a level is predicted because the text
  shows it, not because 21 of 27 cases carry it.
- **No layout learning.** Field labels ("Cluster Partners:", "Funding:") are removed before
  featurising, and numbers are not tokens, so the INNOSUP template cannot stand in for a level.
- **Per-level thresholds** chosen on out-of-fold probabilities (the levels' scores are not on
  one scale), and an **evidence gate**: a text that is too short, or names too few
  shared-value / cluster / programme terms *and* resembles no training text, is ``uncertain``
  whatever its probabilities.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from csvnlp.levels import DEFINITIONS, LEVEL_KEYS, UNCERTAIN, lexicon_counts
from csvnlp.report_source import FIELD_LABELS

_FIELD_LABEL_LINE = re.compile(
    r"(?im)^[ \t]*(?:" + "|".join(sorted((re.escape(k) for k in FIELD_LABELS), key=len, reverse=True)) + r")[ \t]*:[ \t]*"
)
_WORD = re.compile(r"\w+")
# Letters only: amounts, years and grant numbers say nothing about the level.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
LEXICON_FEATURES = tuple(
    [f"[similar to the definition of {key}]" for key in LEVEL_KEYS]
    + [f"[{key} keywords]" for key in LEVEL_KEYS]
)


def strip_field_labels(text: str) -> str:
    """Remove the case template's field labels ("Funding:", "Cluster Partners:") at line starts."""
    return _FIELD_LABEL_LINE.sub("", text)


@dataclass(frozen=True)
class Hyperparameters:
    C: float = 1.0
    lexicon_weight: float = 1.0
    ngram_max: int = 2
    seed: int = 13

    def as_dict(self) -> dict[str, Any]:
        return {"C": self.C, "lexicon_weight": self.lexicon_weight, "ngram_max": self.ngram_max, "seed": self.seed}


@dataclass
class EvidenceGate:
    """When a text is too far from the subject to judge, the answer is ``uncertain``."""

    min_words: int = 12
    min_domain_terms: int = 2  # distinct shared-value / cluster / firm terms (levels.DOMAIN_KEYWORDS)
    min_similarity: float = 0.35  # cosine to the nearest training text: a near-copy of a case

    def passes(self, evidence: dict[str, float]) -> bool:
        if evidence["words"] < self.min_words:
            return False
        return evidence["domain_terms"] >= self.min_domain_terms or evidence["similarity"] >= self.min_similarity


@dataclass
class LevelClassifier:
    """Multi-label classifier over the three CSV levels (one binary model per level)."""

    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    thresholds: dict[str, float] = field(default_factory=lambda: {key: 0.5 for key in LEVEL_KEYS})
    gate: EvidenceGate = field(default_factory=EvidenceGate)
    vectorizer: TfidfVectorizer | None = None
    centroids: Any = None  # sparse (3, vocabulary) matrix, one L2-normalised row per level
    training_matrix: Any = None  # sparse TF-IDF rows of the training texts, for similarity
    models: dict[str, LogisticRegression] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        # scikit-learn caches id(stop_words) on the vectorizer: a memory address that differs
        # between runs and would make two trainings' pickles differ. It is recomputed on use.
        if self.vectorizer is not None:
            self.vectorizer.__dict__.pop("_stop_words_id", None)
        return dict(self.__dict__)

    # ------------------------------------------------------------------ fitting

    def fit(self, texts: Sequence[str], labels: np.ndarray, prototypes: dict[str, list[str]]) -> "LevelClassifier":
        """Fit on ``texts`` with a (n, 3) 0/1 ``labels`` matrix; ``prototypes`` per level key."""
        hp = self.hyperparameters
        proto_texts = [text for key in LEVEL_KEYS for text in _prototype_texts(key, prototypes)]
        proto_labels = np.array(
            [[1 if k == key else 0 for k in LEVEL_KEYS] for key in LEVEL_KEYS for _ in _prototype_texts(key, prototypes)]
        ).reshape(-1, len(LEVEL_KEYS))
        docs = [strip_field_labels(t) for t in texts] + proto_texts
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, hp.ngram_max), sublinear_tf=True, stop_words="english",
            token_pattern=TOKEN_PATTERN, lowercase=True, dtype=np.float64,
        )
        tfidf = self.vectorizer.fit_transform(docs)
        centroid_rows = []
        for key in LEVEL_KEYS:
            vector = self.vectorizer.transform([" ".join(_prototype_texts(key, prototypes))])
            centroid_rows.append(vector / max(sparse.linalg.norm(vector), 1e-12))
        self.centroids = sparse.vstack(centroid_rows).tocsr()
        self.training_matrix = tfidf[: len(texts)].tocsr()
        features = self._features(tfidf, [text_stats(doc) for doc in docs])
        targets = np.vstack([np.asarray(labels), proto_labels])
        self.models = {}
        for j, key in enumerate(LEVEL_KEYS):
            model = LogisticRegression(
                C=hp.C, class_weight="balanced", solver="liblinear", random_state=hp.seed, max_iter=1000
            )
            model.fit(features, targets[:, j])
            self.models[key] = model
        return self

    # ------------------------------------------------------------------ features

    def _lexicon(self, tfidf: Any, stats: list[TextStats]) -> np.ndarray:
        similarity = (tfidf @ self.centroids.T).toarray()
        densities = np.zeros((len(stats), len(LEVEL_KEYS)))
        for i, stat in enumerate(stats):
            words = max(stat.words, 1)
            for j, hits in enumerate(stat.level_hits):
                # hits per 100 words, squashed: the 10th keyword says less than the 1st
                densities[i, j] = math.log1p(100.0 * hits / words) / math.log(101.0)
        return np.hstack([similarity, densities])

    def _features(self, tfidf: Any, stats: list[TextStats]) -> Any:
        lexicon = self._lexicon(tfidf, stats) * self.hyperparameters.lexicon_weight
        return sparse.hstack([tfidf, sparse.csr_matrix(lexicon)]).tocsr()

    def feature_names(self) -> list[str]:
        assert self.vectorizer is not None
        return list(self.vectorizer.get_feature_names_out()) + list(LEXICON_FEATURES)

    # ------------------------------------------------------------------ predicting

    def _transform(self, texts: Sequence[str]) -> tuple[Any, Any, list[TextStats]]:
        if self.vectorizer is None:
            raise RuntimeError("the classifier is not fitted")
        docs = [strip_field_labels(t) for t in texts]
        tfidf = self.vectorizer.transform(docs)
        stats = [text_stats(doc) for doc in docs]
        return tfidf, self._features(tfidf, stats), stats

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities, columns in ``LEVEL_KEYS`` order."""
        _, features, _ = self._transform(texts)
        return self._proba(features)

    def _proba(self, features: Any) -> np.ndarray:
        return np.column_stack([self.models[key].predict_proba(features)[:, 1] for key in LEVEL_KEYS])

    def evidence(self, tfidf: Any, stats: list[TextStats]) -> list[dict[str, float]]:
        """How much each text gives to judge by: words, domain terms, nearest-case similarity."""
        similarity = (tfidf @ self.training_matrix.T).max(axis=1).toarray().ravel() if tfidf.shape[0] else []
        return [
            {"words": stat.words, "domain_terms": stat.domain_terms, "similarity": round(float(sim), 4)}
            for stat, sim in zip(stats, similarity)
        ]

    def decide(self, probabilities: np.ndarray, evidence: dict[str, float]) -> tuple[str, list[str]]:
        """(status, predicted level keys) for one text."""
        if not self.gate.passes(evidence):
            return UNCERTAIN, []
        predicted = [key for key, p in zip(LEVEL_KEYS, probabilities) if p >= self.thresholds[key]]
        return ("ok", predicted) if predicted else (UNCERTAIN, [])

    def classify(self, texts: Sequence[str], explain: int = 0) -> list[dict[str, Any]]:
        """Probabilities, status, predicted levels, evidence and (optionally) top terms per text."""
        tfidf, features, stats = self._transform(texts)
        probabilities = self._proba(features)
        evidence = self.evidence(tfidf, stats)
        names = self.feature_names() if explain else []  # once per call, not once per text
        results = []
        for i in range(len(stats)):
            status, predicted = self.decide(probabilities[i], evidence[i])
            result: dict[str, Any] = {
                "probabilities": {key: float(p) for key, p in zip(LEVEL_KEYS, probabilities[i])},
                "status": status,
                "predicted": predicted,
                "evidence": evidence[i],
            }
            if explain:
                result["explanation"] = {
                    key: self._top_terms(features[i], key, explain, names) for key in (predicted or LEVEL_KEYS)
                }
            results.append(result)
        return results

    def _top_terms(self, row: Any, key: str, k: int, names: list[str]) -> list[dict[str, Any]]:
        """The terms of this text that pushed ``key`` up most (coefficient x feature value)."""
        coefficients = self.models[key].coef_.ravel()
        row = row.tocsr()
        contributions = [(coefficients[j] * v, j) for j, v in zip(row.indices, row.data) if coefficients[j] * v > 0]
        contributions.sort(reverse=True)
        return [{"term": names[j], "weight": round(float(c), 4)} for c, j in contributions[:k]]


@dataclass(frozen=True)
class TextStats:
    words: int
    level_hits: list[int]
    domain_terms: int


def text_stats(doc: str) -> TextStats:
    hits, domain_terms = lexicon_counts(doc)
    return TextStats(words=len(_WORD.findall(doc)), level_hits=hits, domain_terms=domain_terms)


def _prototype_texts(key: str, prototypes: dict[str, list[str]]) -> list[str]:
    """The report's descriptions of a level, plus its definition and keyword list."""
    definition = DEFINITIONS[key]
    return list(prototypes.get(key, [])) + [f"{definition.name}. {definition.definition}", " ".join(definition.keywords)]


def label_matrix(records: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([[1 if key in record["levels"] else 0 for key in LEVEL_KEYS] for record in records], dtype=int)


def choose_thresholds(labels: np.ndarray, probabilities: np.ndarray, floor: float = 0.35) -> dict[str, float]:
    """Per level, the threshold that maximises F1 on out-of-fold probabilities.

    Ties go to the higher threshold (fewer, surer labels); never below ``floor``, so an
    unrelated text whose probabilities hover near the prior is not labelled.
    """
    thresholds = {}
    grid = np.round(np.arange(floor, 0.951, 0.025), 3)
    for j, key in enumerate(LEVEL_KEYS):
        best, best_f1 = 0.5, -1.0
        for t in grid:
            predicted = probabilities[:, j] >= t
            tp = int(np.sum(predicted & (labels[:, j] == 1)))
            fp = int(np.sum(predicted & (labels[:, j] == 0)))
            fn = int(np.sum(~predicted & (labels[:, j] == 1)))
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 >= best_f1:
                best, best_f1 = float(t), f1
        thresholds[key] = best
    return thresholds
