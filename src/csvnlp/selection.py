"""Settings (C, lexicon weight, n-gram range) chosen by cross-validation; the thresholds are then
chosen by ``LevelModel.fit`` on the same folds (one place: ``threshold_cv``/``threshold_repeats``).

Why not ``GridSearchCV`` over ``LevelModel``: it would refit the TF-IDF vectorizer for every
setting in every fold, and that was most of the cost (6 minutes for 10^4 texts). Here each
text is tokenized once per n-gram range for the whole corpus (``features.TermCounts``); only
the logistic regressions are fitted per setting, and folds run in parallel (``n_jobs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from csvnlp.features import TermCounts
from csvnlp.levels import LEVEL_KEYS
from csvnlp.metrics import macro_f1
from csvnlp.model import (
    LevelModel,
    check_labels,
    check_texts,
    fit_level_regressions,
    inner_splits,
    level_probabilities,
    repeated_multilabel_folds,
)

# Settings tried by `csvnlp train`. Ties go to the earlier setting (smaller C, fewer n-grams).
TRAINING_GRID = [
    {"C": c, "lexicon_weight": w, "ngram_max": n} for c in (0.1, 0.3, 1.0, 3.0) for w in (0.0, 1.0, 3.0, 10.0) for n in (1, 2)
]
# A smaller grid for selection inside each evaluation fold (nested CV), to fit its time budget.
NESTED_GRID = [
    {"C": c, "lexicon_weight": w, "ngram_max": n} for c in (0.3, 1.0, 3.0) for w in (1.0, 10.0) for n in (1, 2)
]


def _fold_probabilities(counts: dict[int, TermCounts], train: np.ndarray, test: np.ndarray, labels: np.ndarray,
                        grid: Sequence[dict[str, Any]], random_state: int) -> list[np.ndarray]:
    """One fold: the held-out probabilities of every setting (vectorized once per n-gram range)."""
    out: list[np.ndarray | None] = [None] * len(grid)
    for ngram_max, term_counts in counts.items():
        fold = term_counts.fold(train, test, labels)
        for i, setting in enumerate(grid):
            if setting["ngram_max"] == ngram_max:
                fit, test_rows = fold.matrices(setting["lexicon_weight"])
                coef, intercept = fit_level_regressions(fit, fold.fit_targets, setting["C"], random_state)
                out[i] = level_probabilities(test_rows, coef, intercept)
    return out  # type: ignore[return-value]


def out_of_fold_probabilities(
    texts: Sequence[str], labels: np.ndarray, prototypes: dict[str, list[str]] | None, grid: Sequence[dict[str, Any]],
    n_splits: int, repeats: int, seed: int, n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(settings, repeats, n, 3): each text's probabilities from models that never saw it."""
    from joblib import Parallel, delayed

    counts = {n: TermCounts(texts, prototypes, n) for n in sorted({s["ngram_max"] for s in grid})}
    folds = repeated_multilabel_folds(labels, n_splits, repeats, seed)
    result = np.zeros((len(grid), repeats, len(texts), len(LEVEL_KEYS)))
    jobs = (delayed(_fold_probabilities)(counts, train, test, labels, grid, seed) for _, train, test in folds)
    # small corpora: process start-up would cost more than the work
    parallel = Parallel(n_jobs=n_jobs if len(texts) >= 200 else 1, return_as="generator")
    for done, ((repeat, _, test), per_setting) in enumerate(zip(folds, parallel(jobs)), start=1):
        for i, probabilities in enumerate(per_setting):
            result[i, repeat, test] = probabilities
        if progress:
            progress(done, len(folds))
    return result


@dataclass
class SelectionResult:
    """The setting chosen, every setting's score, and the chosen setting's out-of-fold
    probabilities ``oof`` (repeats, n, 3): ``LevelModel.fit`` chooses the thresholds on the same
    folds (one place), and ``scores_at`` says how those thresholds score on them."""

    setting: dict[str, Any]
    grid: list[dict[str, Any]]
    labels: np.ndarray
    oof: np.ndarray
    n_splits: int
    repeats: int

    def scores_at(self, thresholds: np.ndarray) -> tuple[float, tuple[float, float], dict[str, float]]:
        """(mean macro-F1 over repeats, its min-max range, mean per-level F1) at ``thresholds``."""
        from sklearn.metrics import f1_score

        thresholded = [self.oof[r] >= thresholds for r in range(self.repeats)]
        scores = [macro_f1(self.labels, t) for t in thresholded]
        per_level = np.mean([f1_score(self.labels, t, average=None, zero_division=0.0) for t in thresholded], axis=0)
        return (round(float(np.mean(scores)), 4), (round(float(np.min(scores)), 4), round(float(np.max(scores)), 4)),
                {key: round(float(v), 4) for key, v in zip(LEVEL_KEYS, per_level)})


def select_settings(
    texts: Sequence[str], labels: np.ndarray, prototypes: dict[str, list[str]] | None,
    grid: Sequence[dict[str, Any]] = tuple(TRAINING_GRID), n_splits: int = 4, repeats: int = 3, seed: int = 13,
    n_jobs: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> SelectionResult:
    """Pick the setting with the best repeated-CV macro-F1 at 0.5 (its thresholds are chosen by
    ``LevelModel.fit`` on the same folds: pass ``threshold_cv=n_splits, threshold_repeats=repeats``)."""
    oof = out_of_fold_probabilities(texts, labels, prototypes, grid, n_splits, repeats, seed, n_jobs, progress)
    rows, best = [], None
    for i, setting in enumerate(grid):
        score = float(np.mean([macro_f1(labels, oof[i, r] >= 0.5) for r in range(repeats)]))
        rows.append({**setting, "seed": seed, "cv_macro_f1": round(score, 4)})
        if best is None or score > best[0] + 1e-9:  # ties go to the earlier (simpler) setting
            best = (score, i)
    assert best is not None
    return SelectionResult(setting=dict(grid[best[1]]), grid=rows, labels=labels, oof=oof[best[1]], n_splits=n_splits, repeats=repeats)


class TunedLevelModel(ClassifierMixin, BaseEstimator):
    """``LevelModel`` whose settings and thresholds are chosen by CV on the data ``fit`` gets,
    so cross-validating this estimator is nested for both."""

    def __init__(self, prototypes: dict[str, list[str]] | None = None, grid: Sequence[dict[str, Any]] | None = None,
                 n_splits: int = 3, repeats: int = 1, random_state: int = 13, n_jobs: int | None = None):
        self.prototypes = prototypes
        self.grid = grid
        self.n_splits = n_splits
        self.repeats = repeats
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Sequence[str], Y: Any) -> "TunedLevelModel":
        texts = check_texts(X)
        labels = check_labels(Y, len(texts))
        n_splits = inner_splits(labels, self.n_splits)
        self.selection_ = select_settings(texts, labels, self.prototypes, grid=self.grid or NESTED_GRID, n_splits=n_splits,
                                          repeats=self.repeats, seed=self.random_state, n_jobs=self.n_jobs)
        self.best_estimator_ = LevelModel(self.prototypes, thresholds="cv", threshold_cv=n_splits, threshold_repeats=self.repeats,
                                          random_state=self.random_state, **self.selection_.setting).fit(texts, labels)
        self.classes_ = self.best_estimator_.classes_
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        own = LevelModel().__sklearn_tags__()
        tags.input_tags, tags.target_tags, tags.classifier_tags = own.input_tags, own.target_tags, own.classifier_tags
        return tags
