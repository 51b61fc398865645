"""Training that transfers to sources the model never saw, and the recipes measured for it (issue 18).

Each recipe fits a level model on (texts, labels, source family per text) and returns a
``LevelModel`` (``classify`` works as for a shipped model); ``evaluation.leave_source_out``
holds out each family in turn and scores the recipe there. ``stratified-selection`` is what
``csvnlp train`` did before issue 18; ``both`` is what it does now (``training.fit_level_model``):
settings and thresholds chosen on out-of-source and stratified inner folds pooled, which raised
the held-out-source figures without lowering the known-sources control
(``benchmarks/results/leave_source_out.md``). The others vary one thing at a time, every
choice made inside the training data:

- **grouped selection**: settings, level thresholds and the relevance threshold chosen on
  out-of-*source* probabilities (``GroupKFold`` over the training families) instead of a
  stratified split that puts every source on both sides, so the choice favours what transfers;
- **balanced sources**: each family carries the same total weight in every fit, so the largest
  sources do not define the levels;
- **source vocabulary dropped**: terms whose training documents come almost all from one
  family (template headings, call-text phrases, country and programme words) are left out of
  the vocabulary; the share is learned from the training rows of each fit, never listed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from scipy import sparse

from csvnlp.features import FoldFeatures, NearestCases, TermCounts, TfidfAnalyzer, l2_rows
from csvnlp.levels import LEVEL_KEYS
from csvnlp.metrics import macro_f1
from csvnlp.model import LevelModel, choose_relevance_threshold, choose_thresholds, level_probabilities

TRANSFER_GRID = [
    {"C": c, "lexicon_weight": w, "ngram_max": n} for c in (0.3, 1.0, 3.0) for w in (0.0, 1.0, 3.0, 10.0) for n in (1, 2)
]


def stratified_selection(texts: list[str], labels: Any, families: list[str], prototypes: dict[str, list[str]], seed: int,
                         n_jobs: int | None, grid: Sequence[dict[str, Any]] | None = None,
                         progress: Callable[[int, int], None] | None = None) -> LevelModel:
    """The recipe `csvnlp train` used before issue 18: settings and thresholds by stratified CV, one fit."""
    from csvnlp.selection import TRAINING_GRID, select_settings

    texts = list(texts)
    repeats = 3 if len(texts) < 1000 else 1
    selection = select_settings(texts, labels, prototypes, grid=grid or TRAINING_GRID, repeats=repeats, seed=seed,
                                n_jobs=n_jobs, progress=progress)
    model = LevelModel(prototypes, thresholds="cv", threshold_cv=selection.n_splits, threshold_repeats=repeats,
                       random_state=seed, **selection.setting).fit(texts, labels)
    model.cv_summary_ = selection.scores_at(model.thresholds_)
    model.selection_grid_ = selection.grid
    model.selection_scheme_ = f"iterative-stratified 4-fold, {repeats} repeat{'s' if repeats > 1 else ''}"
    return model


@dataclass
class TransferOptions:
    grouped: bool = True              # choose settings and thresholds on out-of-source folds
    both: bool = False                # ... on out-of-source and stratified folds alike (pooled, each scheme half)
    balance_sources: bool = False     # equal total weight per family in every fit
    balance_relevance: bool = False   # equal total weight per family in the relevance ("CSV or not") fit only
    definitions_as_family: bool = False  # with balance_sources: the report's definitions (prototype rows) weigh as much as one family
    source_term_share: float | None = None  # drop terms with at least this share of their (size-normalised) document frequency in one family
    grid: Sequence[dict[str, Any]] = field(default_factory=lambda: list(TRANSFER_GRID))
    inner_folds: int = 5


def family_weights(families: Sequence[str]) -> np.ndarray:
    """Per row, n / (k x rows of its family): every family sums to n / k."""
    names, inverse, counts = np.unique(np.asarray(families), return_inverse=True, return_counts=True)
    return len(families) / (len(names) * counts[inverse])


def source_specific_columns(counts: Any, rows: np.ndarray, families: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask over ``counts`` columns: terms whose document frequency, each family
    normalised by its size, lies at least ``share`` in one family (and that occur in 2+ documents).
    Learned from ``rows`` only."""
    present = (counts[rows] > 0).astype(np.float64).tocsc()
    names = np.unique(families[rows])
    rates = []
    for name in names:
        members = families[rows] == name
        rates.append(np.asarray(present[members].sum(axis=0)).ravel() / members.sum())
    rates = np.vstack(rates)
    total = rates.sum(axis=0)
    df = np.asarray(present.sum(axis=0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.where(total > 0, rates.max(axis=0) / total, 0.0)
    return (top >= share) & (df >= 2) if len(names) > 1 else np.zeros(counts.shape[1], dtype=bool)


def fold_features(term_counts: TermCounts, train: np.ndarray, test: np.ndarray, labels: np.ndarray,
                  drop: np.ndarray | None = None) -> FoldFeatures:
    """``TermCounts.fold`` with some columns left out of the vocabulary before TF-IDF (so the
    rows are normalised over the kept terms, as a vectorizer with that vocabulary does)."""
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = term_counts.counts
    fit_rows = np.concatenate([train, term_counts.proto_rows])
    present = np.bincount(counts[fit_rows].indices, minlength=counts.shape[1]) > 0
    if drop is not None:
        present &= ~drop
    columns = np.flatnonzero(present)
    fit_counts = counts[fit_rows][:, columns]
    transformer = TfidfTransformer(sublinear_tf=True).fit(fit_counts)
    fit_tfidf = transformer.transform(fit_counts)
    test_tfidf = transformer.transform(counts[test][:, columns]) if len(test) else sparse.csr_matrix((0, len(columns)))
    centroids = l2_rows(transformer.transform(counts[term_counts.joined_rows][:, columns]))
    return FoldFeatures(
        terms=term_counts.terms[columns], idf=transformer.idf_, centroids=centroids, fit_tfidf=fit_tfidf, test_tfidf=test_tfidf,
        fit_lexicon=np.hstack([(fit_tfidf @ centroids.T).toarray(), term_counts.densities[fit_rows]]),
        test_lexicon=np.hstack([(test_tfidf @ centroids.T).toarray(), term_counts.densities[test]]),
        fit_targets=np.vstack([labels[train], term_counts.proto_labels]),
    )


def weighted_regressions(features: Any, targets: np.ndarray, C: float, seed: int, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One balanced logistic regression per column of ``targets``, rows weighted by ``weights``."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    coefs, intercepts = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for j in range(targets.shape[1]):
            regression = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", random_state=seed, max_iter=1000)
            regression.fit(features, targets[:, j], sample_weight=weights)
            coefs.append(regression.coef_.ravel())
            intercepts.append(regression.intercept_[0])
    return np.vstack(coefs), np.array(intercepts)


def _fit_weights(train: np.ndarray, term_counts: TermCounts, families: np.ndarray, options: TransferOptions) -> np.ndarray | None:
    """Weights of a fold's training rows (its texts, then the prototype rows at weight 1)."""
    if not options.balance_sources:
        return None
    weights = family_weights(families[train])
    prototypes = len(term_counts.proto_rows)
    per_prototype = (len(train) / len(set(families[train]))) / prototypes if options.definitions_as_family and prototypes else 1.0
    return np.concatenate([weights, np.full(prototypes, per_prototype)])


def _relevance_weights(train: np.ndarray, term_counts: TermCounts, families: np.ndarray, options: TransferOptions,
                       level_weights: np.ndarray | None) -> np.ndarray | None:
    """Weights of the relevance fit: the level fit's, or every family equal when only relevance is balanced."""
    if not options.balance_relevance or options.balance_sources:
        return level_weights
    return np.concatenate([family_weights(families[train]), np.ones(len(term_counts.proto_rows))])


def _drop(term_counts: TermCounts, train: np.ndarray, families: np.ndarray, options: TransferOptions) -> np.ndarray | None:
    if options.source_term_share is None:
        return None
    return source_specific_columns(term_counts.counts, train, families, options.source_term_share)


def _inner_folds(labels: np.ndarray, families: np.ndarray, grouped: bool, options: TransferOptions, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    if grouped and len(set(families)) >= 3:
        splits = min(options.inner_folds, len(set(families)))
        return list(GroupKFold(n_splits=splits).split(np.zeros(len(labels)), labels, groups=families))
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    strata = np.hstack([labels, (labels.sum(axis=1) == 0)[:, None].astype(int)])
    return list(MultilabelStratifiedKFold(n_splits=4, shuffle=True, random_state=seed).split(np.zeros(len(labels)), strata))


def out_of_source(texts: Sequence[str], labels: np.ndarray, families: np.ndarray, prototypes: dict[str, list[str]],
                  options: TransferOptions, seed: int, counts: dict[int, TermCounts]) -> tuple[np.ndarray, np.ndarray]:
    """(settings, schemes x n, 3) level and (settings, schemes x n) relevance probabilities from
    inner folds: one scheme (grouped or stratified), or both stacked (grouped first)."""
    grid = list(options.grid)
    schemes = [True, False] if options.both else [options.grouped]
    n = len(texts)
    oof = np.zeros((len(grid), n * len(schemes), len(LEVEL_KEYS)))
    oof_relevance = np.zeros((len(grid), n * len(schemes)))
    for s_index, grouped in enumerate(schemes):
        for train, test in _inner_folds(labels, families, grouped, options, seed):
            rows = test + s_index * n
            for ngram_max, term_counts in counts.items():
                fold = fold_features(term_counts, train, test, labels, _drop(term_counts, train, families, options))
                weights = _fit_weights(train, term_counts, families, options)
                relevance_weights = _relevance_weights(train, term_counts, families, options, weights)
                relevant = fold.fit_targets.any(axis=1).astype(int)[:, None]
                for i, setting in enumerate(grid):
                    if setting["ngram_max"] != ngram_max:
                        continue
                    fit, held = fold.matrices(setting["lexicon_weight"])
                    coef, intercept = weighted_regressions(fit, fold.fit_targets, setting["C"], seed, weights)
                    oof[i, rows] = level_probabilities(held, coef, intercept)
                    coef, intercept = weighted_regressions(fit, relevant, setting["C"], seed, relevance_weights)
                    oof_relevance[i, rows] = level_probabilities(held, coef, intercept)[:, 0]
    return oof, oof_relevance


def decide(labels: np.ndarray, probabilities: np.ndarray, relevance: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Level thresholds and relevance threshold for one setting's out-of-fold probabilities, and
    the macro-F1 of the decisions they give (levels past their threshold, gated by relevance)."""
    thresholds = choose_thresholds(labels, probabilities)
    relevance_threshold = choose_relevance_threshold(labels.any(axis=1).astype(int), relevance)
    predicted = (probabilities >= thresholds) & (relevance >= relevance_threshold)[:, None]
    return thresholds, relevance_threshold, macro_f1(labels, predicted.astype(int))


def fit_transfer_model(texts: Sequence[str], labels: Any, families: Sequence[str], prototypes: dict[str, list[str]],
                       seed: int, options: TransferOptions) -> LevelModel:
    """Choose a setting and thresholds on inner (grouped) folds, then fit on every text."""
    texts = list(texts)
    labels = np.asarray(labels, dtype=int).reshape(len(texts), len(LEVEL_KEYS))
    families = np.asarray(families)
    counts = {n: TermCounts(texts, prototypes, n) for n in sorted({s["ngram_max"] for s in options.grid})}
    oof, oof_relevance = out_of_source(texts, labels, families, prototypes, options, seed, counts)
    stacked_labels = np.tile(labels, (oof.shape[1] // len(texts), 1))
    best = None
    for i in range(len(options.grid)):
        thresholds, relevance_threshold, score = decide(stacked_labels, oof[i], oof_relevance[i])
        if best is None or score > best[0] + 1e-9:
            best = (score, i, thresholds, relevance_threshold)
    assert best is not None
    score, index, thresholds, relevance_threshold = best
    setting = dict(options.grid[index])
    from sklearn.metrics import f1_score

    chosen = (oof[index] >= thresholds) & (oof_relevance[index] >= relevance_threshold)[:, None]
    per_level = f1_score(stacked_labels, chosen.astype(int), average=None, zero_division=0.0)
    grid_rows = []
    for i, candidate in enumerate(options.grid):
        grid_rows.append({**candidate, "seed": seed, "inner_macro_f1": round(float(decide(stacked_labels, oof[i], oof_relevance[i])[2]), 4)})
    term_counts = counts[setting["ngram_max"]]
    everything_rows = np.arange(len(texts))
    drop = _drop(term_counts, everything_rows, families, options)
    fold = fold_features(term_counts, everything_rows, np.arange(0), labels, drop)
    weights = _fit_weights(everything_rows, term_counts, families, options)
    features, _ = fold.matrices(setting["lexicon_weight"])
    from csvnlp.features import STOP_WORDS, TOKEN_PATTERN

    model = LevelModel(prototypes, thresholds=[float(t) for t in thresholds], relevance_threshold=float(relevance_threshold),
                       random_state=seed, **setting)
    coef, intercept = weighted_regressions(features, fold.fit_targets, setting["C"], seed, weights)
    relevance_coef, relevance_intercept = weighted_regressions(
        features, fold.fit_targets.any(axis=1).astype(int)[:, None], setting["C"], seed,
        _relevance_weights(everything_rows, term_counts, families, options, weights))
    model._set_state(
        analyzer=TfidfAnalyzer(fold.terms, fold.idf, setting["ngram_max"], STOP_WORDS, TOKEN_PATTERN),
        centroids=np.asarray(fold.centroids.toarray(), dtype=np.float64), coef=coef, intercept=intercept,
        thresholds=np.asarray(thresholds, dtype=float), relevance_coef=relevance_coef, relevance_intercept=relevance_intercept,
        relevance_threshold=float(relevance_threshold), nearest_cases=NearestCases.from_rows(fold.fit_tfidf[: len(texts)].tocsr()),
    )
    model.inner_score_ = round(float(score), 4)
    model.cv_summary_ = (round(float(score), 4), (round(float(score), 4), round(float(score), 4)),
                         {k: round(float(v), 4) for k, v in zip(LEVEL_KEYS, per_level)})
    model.selection_grid_ = grid_rows
    schemes = {True: "out-of-source (GroupKFold over the training families)", False: "iterative-stratified 4-fold"}
    model.selection_scheme_ = (f"{schemes[True]} and {schemes[False]}, pooled" if options.both else schemes[options.grouped]) + (
        ", families weighted equally" if options.balance_sources else "")
    model.dropped_terms_ = int(drop.sum()) if drop is not None else 0
    return model


def recipe(options: TransferOptions, doc: str) -> Callable[..., Any]:
    def fit(texts: list[str], labels: Any, families: list[str], prototypes: dict[str, list[str]], seed: int, n_jobs: int | None) -> Any:
        return fit_transfer_model(texts, labels, families, prototypes, seed, options)
    fit.__doc__ = doc
    return fit


RECIPES: dict[str, Callable[..., Any]] = {
    "stratified-selection": stratified_selection,
    "stratified": recipe(TransferOptions(grouped=False), "this module's recipe with stratified inner folds (control)"),
    "grouped": recipe(TransferOptions(grouped=True), "settings and thresholds chosen on out-of-source inner folds"),
    "grouped-balanced": recipe(TransferOptions(grouped=True, balance_sources=True), "grouped selection, families weighted equally"),
    "grouped-drop90": recipe(TransferOptions(grouped=True, source_term_share=0.9), "grouped selection, one-family terms (>= 90%) dropped"),
    "grouped-balanced-drop90": recipe(TransferOptions(grouped=True, balance_sources=True, source_term_share=0.9),
                                      "grouped, balanced, one-family terms dropped"),
    "grouped-balanced-definitions": recipe(TransferOptions(grouped=True, balance_sources=True, definitions_as_family=True),
                                           "grouped, balanced, the report's definitions weighted as one family"),
    "both": recipe(  # what csvnlp train uses (training.fit_level_model)
       TransferOptions(both=True), "settings and thresholds chosen on out-of-source and stratified inner folds pooled"),
    "both-balanced": recipe(TransferOptions(both=True, balance_sources=True), "as both, families weighted equally"),
    "both-balanced-relevance": recipe(TransferOptions(both=True, balance_relevance=True),
                                      "as both, families weighted equally in the relevance fit only"),
}
