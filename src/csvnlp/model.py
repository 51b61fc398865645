"""The level model: a scikit-learn estimator over the three CSV levels.

``LevelModel`` follows scikit-learn's protocol: ``__init__`` only stores its parameters
(prototypes included), ``fit(X, Y)`` takes texts and an (n, 3) 0/1 matrix (anything else is
refused with a ValueError, never reshaped) and learns attributes ending in ``_``, ``clone``,
``get_params`` and ``set_params`` work, and ``predict`` applies the fitted per-level
thresholds and the fitted relevance decision (is this a CSV project at all). Its fitted state
is plain arrays (``to_arrays``/``from_arrays``, what a model directory holds), and predicting
is array code that needs neither scikit-learn nor SciPy.

Why this shape (27 training cases, 21 of them ``products_markets``, 4 ``value_chain``):

- **Prototype rows.** The report's descriptions of each level join the training rows as
  extra positives of their level (``features.prototype_texts``). A ``Pipeline`` cannot add
  rows, which is why the model composes its TF-IDF features and logistic regressions
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

from csvnlp.features import (
    LEXICON_FEATURES,
    NearestCases,
    SparseRows,
    TermCounts,
    TextStats,
    TfidfAnalyzer,
    lexicon_densities,
    model_text,
    text_stats,
)
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


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function (as ``scipy.special.expit``), in NumPy."""
    return 1.0 / (1.0 + np.exp(-x))


def level_probabilities(features: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """What each level's logistic regression gives: expit(features . coef + intercept)."""
    return expit(np.asarray(features @ coef.T) + intercept)


def repeated_multilabel_folds(labels: np.ndarray, n_splits: int, repeats: int, seed: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(repeat, train_idx, test_idx) from iterative stratification, reshuffled each repeat.

    Iterative stratification (Sechidis et al. 2011, via ``iterative-stratification``) keeps
    each fold's share of every level close to the whole corpus's, which matters with only 4
    ``value_chain`` cases.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    dummy = np.zeros(len(labels))
    return [
        (repeat, train, test)
        for repeat in range(repeats)
        for train, test in MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + repeat).split(dummy, labels)
    ]


def inner_splits(labels: np.ndarray, wanted: int) -> int:
    """As many folds as wanted, but no more than the rarest level has cases (at least 2)."""
    return max(2, min(wanted, int(labels.sum(axis=0).min())))


def check_texts(X: Any) -> list[str]:
    """The texts of ``X`` as a list, or a ValueError saying what is wrong with it."""
    if isinstance(X, (str, bytes)):
        raise ValueError("X must be a sequence of texts (e.g. a list of strings), not one string")
    if getattr(X, "ndim", 1) != 1:
        raise ValueError(f"X must be a 1-D sequence of texts, not an array of shape {X.shape}")
    texts = list(X)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"X must hold texts (str); item {bad} is {type(texts[bad]).__name__}")
    return texts


def check_labels(Y: Any, n_texts: int) -> np.ndarray:
    """``Y`` as an (n_texts, 3) 0/1 int matrix, or a ValueError: a transposed, flat or
    non-binary ``Y`` is refused, never reshaped."""
    labels = np.asarray(Y)
    expected = (n_texts, len(LEVEL_KEYS))
    if labels.shape != expected:
        raise ValueError(f"Y must be an {expected} 0/1 matrix (one row per text, columns {', '.join(LEVEL_KEYS)}), "
                         f"not shape {labels.shape}")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError(f"Y must hold only 0 and 1 (columns {', '.join(LEVEL_KEYS)}); found {sorted(set(np.unique(labels)) - {0, 1})[:3]}")
    return labels.astype(int)


def _not_fitted(what: str) -> Exception:
    from sklearn.exceptions import NotFittedError  # imported only on this error path

    return NotFittedError(f"this LevelModel is not fitted yet: call fit (or load a saved model) before {what}")


class LevelModel:
    """TF-IDF + lexicon features, one balanced logistic regression per level, per-level
    thresholds and a learned relevance decision; a scikit-learn estimator.

    Thresholds are chosen in one place, ``fit``: ``thresholds="cv"`` chooses each level's on
    out-of-fold probabilities of the training data (``threshold_cv`` iterative-stratified
    folds, ``threshold_repeats`` times, pooled), so a cross-validation of this estimator is
    nested for them; a sequence of three floats fixes them. The relevance threshold is chosen
    on ``relevance_cv`` folds that also stratify the records labelled none.

    It follows scikit-learn's estimator protocol (``get_params``/``set_params``, ``clone``,
    fitted attributes ending in ``_``, ``__sklearn_tags__``) without subclassing
    ``BaseEstimator``, so that predicting from a saved model (``from_arrays``) imports neither
    scikit-learn nor SciPy: the fitted state is plain arrays, and ``predict_proba``/``predict``
    are array code. ``fit`` imports scikit-learn.
    """

    _PARAMS = ("prototypes", "C", "lexicon_weight", "ngram_max", "thresholds", "threshold_cv", "threshold_repeats",
               "relevance_threshold", "relevance_cv", "random_state")

    def __init__(
        self,
        prototypes: dict[str, list[str]] | None = None,
        C: float = 1.0,
        lexicon_weight: float = 1.0,
        ngram_max: int = 2,
        thresholds: str | Sequence[float] = "cv",
        threshold_cv: int = 3,
        threshold_repeats: int = 1,
        relevance_threshold: str | float = "cv",
        relevance_cv: int = 3,
        random_state: int = 13,
    ):
        self.prototypes = prototypes
        self.C = C
        self.lexicon_weight = lexicon_weight
        self.ngram_max = ngram_max
        self.thresholds = thresholds
        self.threshold_cv = threshold_cv
        self.threshold_repeats = threshold_repeats
        self.relevance_threshold = relevance_threshold
        self.relevance_cv = relevance_cv
        self.random_state = random_state

    # ------------------------------------------------------------------ the estimator protocol

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self._PARAMS)}  # sorted, as BaseEstimator gives them

    def set_params(self, **params: Any) -> "LevelModel":
        unknown = set(params) - set(self._PARAMS)
        if unknown:
            raise ValueError(f"invalid parameter(s) {sorted(unknown)} for LevelModel; valid: {', '.join(self._PARAMS)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = LevelModel()
        changed = {k: v for k, v in self.get_params().items() if k != "prototypes" and repr(v) != repr(getattr(defaults, k))}
        shown = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"LevelModel({'prototypes=..., ' if self.prototypes else ''}{shown})".replace(", )", ")")

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True, multi_output=True, single_output=False),
                    classifier_tags=ClassifierTags(multi_label=True), input_tags=InputTags(string=True, two_d_array=False))

    def score(self, X: Sequence[str], Y: Any) -> float:
        """Subset accuracy (as ``ClassifierMixin.score`` gives for multi-label Y)."""
        from sklearn.metrics import accuracy_score

        texts = check_texts(X)
        return float(accuracy_score(check_labels(Y, len(texts)), self.predict(texts)))

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Sequence[str], Y: Any) -> "LevelModel":
        texts = check_texts(X)
        labels = check_labels(Y, len(texts))
        # every text tokenized once, for the threshold CV and the final fit alike
        counts = TermCounts(texts, self.prototypes, self.ngram_max)
        is_level = labels.any(axis=1).astype(int)
        learns_relevance = bool((is_level == 0).any())
        oof, oof_relevance = self._inner_cv(counts, labels, learns_relevance)
        thresholds = self._fixed_thresholds() if oof is None else choose_thresholds(np.tile(labels, (self.threshold_repeats, 1)), oof)
        everything = counts.fold(np.arange(len(texts)), np.arange(0), labels)
        features, _ = everything.matrices(self.lexicon_weight)
        coef, intercept = fit_level_regressions(features, everything.fit_targets, self.C, self.random_state)
        if learns_relevance:
            # prototypes are descriptions of a level: CSV texts for the relevance model too
            targets = everything.fit_targets.any(axis=1).astype(int)[:, None]
            relevance_coef, relevance_intercept = fit_level_regressions(features, targets, self.C, self.random_state)
            relevance_threshold = (choose_relevance_threshold(is_level, oof_relevance) if oof_relevance is not None
                                   else float(self.relevance_threshold))
        else:  # nothing to learn "not CSV" from: the relevance decision always passes
            relevance_coef, relevance_intercept, relevance_threshold = np.zeros((1, features.shape[1])), np.zeros(1), 0.0
        from csvnlp.features import STOP_WORDS, TOKEN_PATTERN

        self._set_state(
            analyzer=TfidfAnalyzer(everything.terms, everything.idf, self.ngram_max, STOP_WORDS, TOKEN_PATTERN),
            centroids=np.asarray(everything.centroids.toarray(), dtype=np.float64),
            coef=coef, intercept=intercept, thresholds=thresholds,
            relevance_coef=relevance_coef, relevance_intercept=relevance_intercept, relevance_threshold=relevance_threshold,
            nearest_cases=NearestCases.from_rows(everything.fit_tfidf[: len(texts)].tocsr()),
        )
        return self

    def _set_state(self, analyzer: TfidfAnalyzer, centroids: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                   thresholds: np.ndarray, relevance_coef: np.ndarray, relevance_intercept: np.ndarray,
                   relevance_threshold: float, nearest_cases: "NearestCases") -> None:
        """The fitted state, whether ``fit`` learned it or ``from_arrays`` read it: one place."""
        n_features = len(analyzer.terms) + len(LEXICON_FEATURES)
        if coef.shape != (len(LEVEL_KEYS), n_features) or relevance_coef.shape != (1, n_features):
            raise ValueError(f"inconsistent model arrays: coef {coef.shape}, relevance_coef {relevance_coef.shape}, "
                             f"{len(analyzer.terms)} terms")
        self.analyzer_ = analyzer
        self.vocabulary_ = analyzer.vocabulary
        self.centroids_ = centroids
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.thresholds_ = np.asarray(thresholds, dtype=np.float64)
        self.relevance_coef_ = np.asarray(relevance_coef, dtype=np.float64)
        self.relevance_intercept_ = np.asarray(relevance_intercept, dtype=np.float64)
        self.relevance_threshold_ = float(relevance_threshold)
        self.nearest_cases_ = nearest_cases
        self.classes_ = np.arange(len(LEVEL_KEYS))  # column indices, as OneVsRestClassifier has for multilabel Y

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
        oof = oof_relevance = None
        if want_levels:
            # pooled over repeats; the settings search (selection.py) scores settings on these same folds
            folds = repeated_multilabel_folds(labels, inner_splits(labels, self.threshold_cv), self.threshold_repeats, self.random_state)
            pooled = np.zeros((self.threshold_repeats,) + labels.shape)
            for repeat, train, test in folds:
                fold = counts.fold(train, test, labels)
                fit, held_out = fold.matrices(self.lexicon_weight)
                coef, intercept = fit_level_regressions(fit, fold.fit_targets, self.C, self.random_state)
                pooled[repeat, test] = level_probabilities(held_out, coef, intercept)
            oof = pooled.reshape(-1, labels.shape[1])
        if want_relevance:
            from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

            # the none column makes these folds stratify the negatives too
            strata = np.hstack([labels, (labels.sum(axis=1) == 0)[:, None].astype(int)])
            folds = MultilabelStratifiedKFold(n_splits=inner_splits(labels, self.relevance_cv), shuffle=True, random_state=self.random_state)
            oof_relevance = np.zeros(len(labels))
            for train, test in folds.split(np.zeros(len(labels)), strata):
                fold = counts.fold(train, test, labels)
                fit, held_out = fold.matrices(self.lexicon_weight)
                targets = fold.fit_targets.any(axis=1).astype(int)[:, None]
                coef, intercept = fit_level_regressions(fit, targets, self.C, self.random_state)
                oof_relevance[test] = level_probabilities(held_out, coef, intercept)[:, 0]
        return (oof if want_levels else None), (oof_relevance if want_relevance else None)

    # ------------------------------------------------------------------ the fitted state as plain data

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON-able settings) that describe this fitted model completely (no code)."""
        self._check_fitted("to_arrays")
        analyzer = self.analyzer_
        arrays = {
            "coef": self.coef_, "intercept": self.intercept_, "thresholds": self.thresholds_,
            "relevance_coef": self.relevance_coef_, "relevance_intercept": self.relevance_intercept_,
            "relevance_threshold": np.array([self.relevance_threshold_], dtype=np.float64),
            "idf": analyzer.idf, "centroids": self.centroids_, **self.nearest_cases_.arrays(),
        }
        settings = {
            "params": {k: v for k, v in self.get_params().items() if k not in ("prototypes", "thresholds")},
            "thresholds_param": self.thresholds if isinstance(self.thresholds, str) else [float(t) for t in self.thresholds],
            "prototypes": self.prototypes,
            "vocabulary": analyzer.terms,
            "stop_words": sorted(analyzer.stop_words),
            "token_pattern": analyzer.token_pattern,
        }
        return arrays, settings

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], settings: dict[str, Any]) -> "LevelModel":
        """A fitted model rebuilt from ``to_arrays``'s output (no training, no code run)."""
        model = cls(prototypes=settings["prototypes"], thresholds=settings["thresholds_param"], **settings["params"])
        analyzer = TfidfAnalyzer(settings["vocabulary"], arrays["idf"], model.ngram_max, settings["stop_words"], settings["token_pattern"])
        model._set_state(
            analyzer=analyzer, centroids=np.asarray(arrays["centroids"], dtype=np.float64),
            coef=arrays["coef"], intercept=arrays["intercept"], thresholds=arrays["thresholds"],
            relevance_coef=arrays["relevance_coef"], relevance_intercept=arrays["relevance_intercept"],
            relevance_threshold=float(np.asarray(arrays["relevance_threshold"])[0]),
            nearest_cases=NearestCases.from_arrays(arrays),
        )
        return model

    # ------------------------------------------------------------------ predicting (array code)

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "coef_"):
            raise _not_fitted(what)

    def _features(self, texts: Sequence[str]) -> tuple[SparseRows, list[TextStats], np.ndarray]:
        """(TF-IDF rows, lexicon stats, the six lexicon features already weighted) of ``texts``."""
        docs = [model_text(t) for t in texts]
        tfidf = self.analyzer_.rows(docs)
        stats = [text_stats(d) for d in docs]  # one lexicon pass per text, for features and evidence alike
        lexicon = np.hstack([tfidf.dot(self.centroids_), lexicon_densities(stats)]) * self.lexicon_weight
        return tfidf, stats, lexicon

    def _linear(self, tfidf: SparseRows, lexicon: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        width = tfidf.width
        return tfidf.dot(coef[:, :width]) + lexicon @ coef[:, width:].T + intercept

    def _probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, SparseRows, list[TextStats], np.ndarray]:
        self._check_fitted("predicting")
        tfidf, stats, lexicon = self._features(check_texts(texts))
        levels = expit(self._linear(tfidf, lexicon, self.coef_, self.intercept_))
        relevance = expit(self._linear(tfidf, lexicon, self.relevance_coef_, self.relevance_intercept_))[:, 0]
        return levels, relevance, tfidf, stats, lexicon

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        self._check_fitted("decision_function")
        tfidf, _, lexicon = self._features(check_texts(X))
        return self._linear(tfidf, lexicon, self.coef_, self.intercept_)

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities, columns in ``LEVEL_KEYS`` order (each level its own model)."""
        return self._probabilities(X)[0]

    def relevance_proba(self, X: Sequence[str]) -> np.ndarray:
        """(n,) probability that each text is a CSV project at all (any level, not none)."""
        return self._probabilities(X)[1]

    def decide(self, probabilities: np.ndarray, relevance: np.ndarray) -> np.ndarray:
        """(n, 3) 0/1: levels at or above their threshold, for texts the relevance model passes."""
        return ((probabilities >= self.thresholds_) & (relevance >= self.relevance_threshold_)[:, None]).astype(int)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """(n, 3) 0/1: levels at or above their threshold; all zero when ``uncertain``."""
        probabilities, relevance = self._probabilities(X)[:2]
        return self.decide(probabilities, relevance)

    def tfidf(self, X: Sequence[str]) -> Any:
        """The TF-IDF rows alone, as a SciPy CSR matrix (for similarity between texts)."""
        self._check_fitted("tfidf")
        return self.analyzer_.rows([model_text(t) for t in check_texts(X)]).to_csr()

    def feature_names(self) -> list[str]:
        self._check_fitted("feature_names")
        return self.analyzer_.terms + list(LEXICON_FEATURES)

    def classify(self, X: Sequence[str], explain: int = 0, evidence: bool = True) -> list[dict[str, Any]]:
        """Per text: probabilities, status (``ok``/``uncertain``), predicted level keys,
        evidence (words, domain terms, nearest-case similarity, relevance; ``evidence=False``
        leaves it out, as tagging does) and, with ``explain=k``, the k terms that pushed each
        level up most."""
        probabilities, relevance, tfidf, stats, lexicon = self._probabilities(X)
        decided = self.decide(probabilities, relevance)
        names = self.feature_names() if explain else []  # once per call, not per text
        results = []
        for i in range(len(stats)):
            predicted = [key for key, on in zip(LEVEL_KEYS, decided[i]) if on]
            result: dict[str, Any] = {
                "probabilities": {key: float(p) for key, p in zip(LEVEL_KEYS, probabilities[i])},
                "status": "ok" if predicted else UNCERTAIN,
                "predicted": predicted,
            }
            if evidence:
                result["evidence"] = {"words": stats[i].words, "domain_terms": stats[i].domain_terms,
                                      "similarity": round(self.nearest_cases_.similarity(*tfidf.row(i)), 4),
                                      "relevance": round(float(relevance[i]), 4)}
            if explain:
                result["explanation"] = {key: self._top_terms(tfidf, lexicon, i, key, explain, names) for key in (predicted or LEVEL_KEYS)}
            results.append(result)
        return results

    def _top_terms(self, tfidf: SparseRows, lexicon: np.ndarray, i: int, key: str, k: int, names: list[str]) -> list[dict[str, Any]]:
        """The terms of this text that pushed ``key`` up most (coefficient x feature value)."""
        coefficients = self.coef_[LEVEL_KEYS.index(key)]
        ids, weights = tfidf.row(i)
        values = [(int(j), float(v)) for j, v in zip(ids, weights)]
        values += [(tfidf.width + c, float(v)) for c, v in enumerate(lexicon[i]) if v != 0]
        contributions = [(coefficients[j] * v, j) for j, v in values if coefficients[j] * v > 0]
        contributions.sort(reverse=True)
        return [{"term": names[j], "weight": round(float(c), 4)} for c, j in contributions[:k]]

    def settings(self) -> dict[str, Any]:
        """The parameters that decide what the model learns (for meta.json and reports)."""
        return {"C": self.C, "lexicon_weight": self.lexicon_weight, "ngram_max": self.ngram_max, "seed": self.random_state}
