"""The level model: a scikit-learn estimator over the three CSV levels.

``LevelModel`` follows scikit-learn's protocol: ``__init__`` only stores its parameters
(prototypes included), ``fit(X, Y)`` takes texts and an (n, 3) 0/1 matrix and learns
attributes ending in ``_``, ``clone``, ``get_params`` and ``set_params`` work, and
``predict`` applies the fitted per-level thresholds and the fitted relevance decision (is this a CSV project at all).

Why this shape (27 training cases, 21 of them ``products_markets``, 4 ``value_chain``):

- **Prototype rows.** The report's descriptions of each level join the training rows as
  extra positives of their level (``features.prototype_texts``). A ``Pipeline`` cannot add
  rows, which is why the model composes ``LevelFeatures`` and its logistic regressions
  itself instead of being one.
- **Prior correction.** ``class_weight="balanced"``: a level is predicted because the text
  shows it, not because 21 of 27 cases carry it.
- **Per-level thresholds** chosen on out-of-fold probabilities of the training data (the
  levels' scores are not on one scale), or given.
- **Relevance** (is this a CSV project at all?): a fourth balanced logistic regression on the
  same features, any level against none, trained on the annotated negatives (records labelled
  none: research, fellowships, employability services, public works). Its threshold is
  chosen on out-of-fold probabilities of the training data (the one that best balances
  abstention on none and coverage of CSV records). A text under it is ``uncertain``, whatever
  its level probabilities. It replaces a hand-set evidence gate (minimum words, a domain-term
  list, a similarity floor) whose word list was tuned by eye. A corpus with no negatives (the
  27 report cases alone) learns no relevance decision: then only the level thresholds decide.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from csvnlp.features import LevelFeatures, TermCounts, TextStats, lexicon_densities, model_text, text_stats
from csvnlp.levels import LEVEL_KEYS, UNCERTAIN, level_matrix

THRESHOLD_FLOOR = 0.35
THRESHOLD_GRID = np.round(np.arange(THRESHOLD_FLOOR, 0.951, 0.025), 3)
RELEVANCE_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def choose_relevance_threshold(is_level: np.ndarray, probabilities: np.ndarray) -> float:
    """The threshold of ``RELEVANCE_GRID`` with the best balanced accuracy on out-of-fold
    relevance probabilities: the mean of abstention on none (p < t) and coverage of CSV
    records (p >= t), the two things a user of ``uncertain`` wants. Ties go to the threshold
    nearest 0.5."""
    none, some = is_level == 0, is_level == 1
    best, best_score = 0.5, -1.0
    for t in sorted(RELEVANCE_GRID, key=lambda t: abs(t - 0.5)):
        score = 0.5 * (np.mean(probabilities[none] < t) + np.mean(probabilities[some] >= t))
        if score > best_score:
            best, best_score = float(t), score
    return best


def label_matrix(records: Sequence[dict[str, Any]]) -> np.ndarray:
    """(n, 3) 0/1 gold rows of corpus records, columns in ``LEVEL_KEYS`` order."""
    return level_matrix(record["levels"] for record in records)


def choose_thresholds(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per level, the threshold of ``THRESHOLD_GRID`` that maximises F1 on out-of-fold
    probabilities. Ties go to the higher threshold (fewer, surer labels); never below the
    floor, so an unrelated text whose probabilities hover near the prior is not labelled."""
    from sklearn.metrics import f1_score

    chosen = []
    for j in range(len(LEVEL_KEYS)):
        best, best_f1 = 0.5, -1.0
        for t in THRESHOLD_GRID:
            f1 = f1_score(labels[:, j], probabilities[:, j] >= t, zero_division=0.0)
            if f1 >= best_f1:
                best, best_f1 = float(t), f1
        chosen.append(best)
    return np.array(chosen)


def fit_level_regressions(features: Any, targets: np.ndarray, C: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """One balanced logistic regression per level on ready-made features: (coef (3, f), intercept (3,))."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    coefs, intercepts = [], []
    # liblinear calls BLAS on one short vector at a time; threaded BLAS made each fit 4-20x
    # slower on two cores (measured at 10^4 texts), so it runs single-threaded
    with threadpool_limits(limits=1, user_api="blas"):
        for j in range(targets.shape[1]):
            regression = LogisticRegression(
                C=C, class_weight="balanced", solver="liblinear", random_state=random_state, max_iter=1000
            ).fit(features, targets[:, j])
            coefs.append(regression.coef_.ravel())
            intercepts.append(regression.intercept_[0])
    return np.vstack(coefs), np.array(intercepts)


def level_probabilities(features: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """What each level's logistic regression gives: expit(features . coef + intercept)."""
    return expit(np.asarray(features @ coef.T) + intercept)


def inner_splits(labels: np.ndarray, wanted: int) -> int:
    """As many folds as wanted, but no more than the rarest level has cases (at least 2)."""
    return max(2, min(wanted, int(labels.sum(axis=0).min())))


class LevelModel(ClassifierMixin, BaseEstimator):
    """TF-IDF + lexicon features, one balanced logistic regression per level, per-level
    thresholds and a learned relevance decision.

    ``thresholds``: ``"cv"`` chooses them on ``threshold_cv``-fold out-of-fold probabilities
    of the training data inside ``fit`` (so a cross-validation of this estimator is nested
    for them); a sequence of three floats fixes them.
    """

    def __init__(
        self,
        prototypes: dict[str, list[str]] | None = None,
        C: float = 1.0,
        lexicon_weight: float = 1.0,
        ngram_max: int = 2,
        thresholds: str | Sequence[float] = "cv",
        threshold_cv: int = 3,
        relevance_threshold: str | float = "cv",
        random_state: int = 13,
    ):
        self.prototypes = prototypes
        self.C = C
        self.lexicon_weight = lexicon_weight
        self.ngram_max = ngram_max
        self.thresholds = thresholds
        self.threshold_cv = threshold_cv
        self.relevance_threshold = relevance_threshold
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Sequence[str], Y: Any) -> "LevelModel":
        texts = list(X)
        labels = np.asarray(Y, dtype=int).reshape(len(texts), len(LEVEL_KEYS))
        # every text tokenized once, for the threshold CV and the final fit alike
        counts = TermCounts(texts, self.prototypes, self.ngram_max)
        is_level = labels.any(axis=1).astype(int)
        learns_relevance = bool((is_level == 0).any())
        oof, oof_relevance = self._inner_cv(counts, labels, learns_relevance)
        self.thresholds_ = self._fixed_thresholds() if oof is None else choose_thresholds(labels, oof)
        everything = counts.fold(np.arange(len(texts)), np.arange(0), labels)
        self.features_ = LevelFeatures(self.prototypes, self.ngram_max, self.lexicon_weight).set_fitted(everything)
        features, _ = everything.matrices(self.lexicon_weight)
        self.coef_, self.intercept_ = fit_level_regressions(features, everything.fit_targets, self.C, self.random_state)
        self.training_matrix_ = everything.fit_tfidf[: len(texts)].tocsr()
        if learns_relevance:
            # prototypes are descriptions of a level: CSV texts for the relevance model too
            targets = everything.fit_targets.any(axis=1).astype(int)[:, None]
            self.relevance_coef_, self.relevance_intercept_ = fit_level_regressions(features, targets, self.C, self.random_state)
            self.relevance_threshold_ = (choose_relevance_threshold(is_level, oof_relevance) if oof_relevance is not None
                                         else float(self.relevance_threshold))
        else:  # nothing to learn "not CSV" from: the relevance decision always passes
            self.relevance_coef_ = np.zeros((1, features.shape[1]))
            self.relevance_intercept_ = np.zeros(1)
            self.relevance_threshold_ = 0.0
        self.classes_ = np.arange(len(LEVEL_KEYS))  # column indices, as OneVsRestClassifier has for multilabel Y
        return self

    def _fixed_thresholds(self) -> np.ndarray:
        values = np.asarray(self.thresholds, dtype=float)
        if values.shape != (len(LEVEL_KEYS),):
            raise ValueError(f"thresholds must be 'cv' or {len(LEVEL_KEYS)} numbers, not {self.thresholds!r}")
        return values

    def _inner_cv(self, counts: TermCounts, labels: np.ndarray, learns_relevance: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Out-of-fold level and relevance probabilities of this model on its own training
        data, for whichever thresholds are to be chosen ("cv"); None for those that are given."""
        if isinstance(self.thresholds, str) and self.thresholds != "cv":
            raise ValueError(f"thresholds must be 'cv' or {len(LEVEL_KEYS)} numbers, not {self.thresholds!r}")
        if isinstance(self.relevance_threshold, str) and self.relevance_threshold != "cv":
            raise ValueError(f"relevance_threshold must be 'cv' or a number, not {self.relevance_threshold!r}")
        want_levels = isinstance(self.thresholds, str)
        want_relevance = learns_relevance and isinstance(self.relevance_threshold, str)
        if not want_levels and not want_relevance:
            return None, None
        from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

        # Out-of-fold probabilities, as cross_val_predict over clones of this model gives them
        # (tests/test_model.py checks), from one tokenization instead of one per fold. The
        # none column makes the folds stratify the negatives too.
        strata = np.hstack([labels, (labels.sum(axis=1) == 0)[:, None].astype(int)]) if learns_relevance else labels
        folds = MultilabelStratifiedKFold(n_splits=inner_splits(labels, self.threshold_cv), shuffle=True, random_state=self.random_state)
        oof = np.zeros(labels.shape)
        oof_relevance = np.zeros(len(labels))
        for train, test in folds.split(np.zeros(len(labels)), strata):
            fold = counts.fold(train, test, labels)
            fit, held_out = fold.matrices(self.lexicon_weight)
            if want_levels:
                coef, intercept = fit_level_regressions(fit, fold.fit_targets, self.C, self.random_state)
                oof[test] = level_probabilities(held_out, coef, intercept)
            if want_relevance:
                targets = fold.fit_targets.any(axis=1).astype(int)[:, None]
                coef, intercept = fit_level_regressions(fit, targets, self.C, self.random_state)
                oof_relevance[test] = level_probabilities(held_out, coef, intercept)[:, 0]
        return (oof if want_levels else None), (oof_relevance if want_relevance else None)

    # ------------------------------------------------------------------ predicting

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return self._scores(self.features_.transform(list(X)))

    def _scores(self, features: Any) -> np.ndarray:
        return np.asarray(features @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities, columns in ``LEVEL_KEYS`` order (each level its own model)."""
        return expit(self.decision_function(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """(n, 3) 0/1: levels at or above their threshold; all zero when ``uncertain``."""
        return level_matrix(r["predicted"] for r in self.classify(X))

    def evidence(self, tfidf: Any, stats: Sequence[TextStats], relevance: np.ndarray) -> list[dict[str, float]]:
        """What the text gives to judge by: words, domain terms, nearest-case similarity, and
        the relevance model's probability that it is a CSV project at all (the one that decides)."""
        similarity = (tfidf @ self.training_matrix_.T).max(axis=1).toarray().ravel() if tfidf.shape[0] else []
        return [
            {"words": stat.words, "domain_terms": stat.domain_terms, "similarity": round(float(sim), 4),
             "relevance": round(float(rel), 4)}
            for stat, sim, rel in zip(stats, similarity, relevance)
        ]

    def relevance_proba(self, X: Sequence[str]) -> np.ndarray:
        """(n,) probability that each text is a CSV project at all (any level, not none)."""
        check_is_fitted(self, "relevance_coef_")
        return level_probabilities(self.features_.transform(list(X)), self.relevance_coef_, self.relevance_intercept_)[:, 0]

    def classify(self, X: Sequence[str], explain: int = 0) -> list[dict[str, Any]]:
        """Per text: probabilities, status (``ok``/``uncertain``), predicted level keys,
        evidence and, with ``explain=k``, the k terms that pushed each level up most."""
        check_is_fitted(self, "coef_")
        docs = [model_text(t) for t in X]
        tfidf = self.features_.vectorizer_.transform(docs)
        stats = [text_stats(d) for d in docs]  # one lexicon pass per text, for features and evidence alike
        features = self.features_.combine(tfidf, lexicon_densities(stats))
        probabilities = expit(self._scores(features))
        relevance = level_probabilities(features, self.relevance_coef_, self.relevance_intercept_)[:, 0]
        evidence = self.evidence(tfidf, stats, relevance)
        names = list(self.features_.get_feature_names_out()) if explain else []  # once per call, not per text
        results = []
        for i in range(len(docs)):
            predicted = [key for key, p, t in zip(LEVEL_KEYS, probabilities[i], self.thresholds_) if p >= t]
            status = "ok" if predicted and relevance[i] >= self.relevance_threshold_ else UNCERTAIN
            result: dict[str, Any] = {
                "probabilities": {key: float(p) for key, p in zip(LEVEL_KEYS, probabilities[i])},
                "status": status,
                "predicted": predicted if status == "ok" else [],
                "evidence": evidence[i],
            }
            if explain:
                result["explanation"] = {key: self._top_terms(features[i], key, explain, names) for key in (result["predicted"] or LEVEL_KEYS)}
            results.append(result)
        return results

    def _top_terms(self, row: Any, key: str, k: int, names: list[str]) -> list[dict[str, Any]]:
        """The terms of this text that pushed ``key`` up most (coefficient x feature value)."""
        coefficients = self.coef_[LEVEL_KEYS.index(key)]
        row = row.tocsr()
        contributions = [(coefficients[j] * v, j) for j, v in zip(row.indices, row.data) if coefficients[j] * v > 0]
        contributions.sort(reverse=True)
        return [{"term": names[j], "weight": round(float(c), 4)} for c, j in contributions[:k]]

    def settings(self) -> dict[str, Any]:
        """The parameters that decide what the model learns (for meta.json and reports)."""
        return {"C": self.C, "lexicon_weight": self.lexicon_weight, "ngram_max": self.ngram_max, "seed": self.random_state}

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.classifier_tags.multi_label = True
        return tags
