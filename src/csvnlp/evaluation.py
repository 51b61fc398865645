"""Cross-validation, baselines and metrics for the level classifier and the entity extractor.

Everything learned from data (vocabulary, weights, thresholds, entity phrase patterns) is
fitted inside each training fold; the held-out fold only ever gets predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from csvnlp.classifier import (
    EvidenceGate,
    Hyperparameters,
    LevelClassifier,
    choose_thresholds,
    label_matrix,
    strip_field_labels,
    text_stats,
)
from csvnlp.levels import DEFINITIONS, LEVEL_KEYS, keyword_hits


def repeated_multilabel_folds(labels: np.ndarray, n_splits: int, repeats: int, seed: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(repeat, train_idx, test_idx) from iterative stratification, reshuffled each repeat.

    Iterative stratification (Sechidis et al. 2011, via ``iterative-stratification``) keeps
    each fold's share of every level close to the whole corpus's, which matters with only 4
    ``value_chain`` cases.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    dummy = np.zeros(len(labels))
    for repeat in range(repeats):
        folds = MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + repeat)
        for train, test in folds.split(dummy, labels):
            yield repeat, train, test


def out_of_fold_probabilities(
    texts: Sequence[str],
    labels: np.ndarray,
    prototypes: dict[str, list[str]],
    hyperparameters: Hyperparameters,
    n_splits: int = 4,
    repeats: int = 3,
    seed: int = 0,
) -> np.ndarray:
    """(repeats, n, 3) probabilities, each from a model that never saw that text."""
    result = np.zeros((repeats, len(texts), len(LEVEL_KEYS)))
    for repeat, train, test in repeated_multilabel_folds(labels, n_splits, repeats, seed):
        model = LevelClassifier(hyperparameters).fit([texts[i] for i in train], labels[train], prototypes)
        result[repeat, test] = model.predict_proba([texts[i] for i in test])
    return result


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(per_level_f1(labels, predicted)))


def per_level_f1(labels: np.ndarray, predicted: np.ndarray) -> list[float]:
    scores = []
    for j in range(labels.shape[1]):
        tp = int(np.sum((predicted[:, j] == 1) & (labels[:, j] == 1)))
        fp = int(np.sum((predicted[:, j] == 1) & (labels[:, j] == 0)))
        fn = int(np.sum((predicted[:, j] == 0) & (labels[:, j] == 1)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return scores


def keyword_rule(texts: Sequence[str]) -> np.ndarray:
    """The baseline: label each level whose keyword density is at least half the top one's."""
    rows = []
    for text in texts:
        text = strip_field_labels(text)
        words = max(len(text.split()), 1)
        density = [len(keyword_hits(text, DEFINITIONS[key].keywords)) / words for key in LEVEL_KEYS]
        top = max(density)
        rows.append([1 if top > 0 and d >= 0.5 * top else 0 for d in density])
    return np.array(rows, dtype=int)


@dataclass
class SelectionResult:
    hyperparameters: Hyperparameters
    thresholds: dict[str, float]
    cv_macro_f1: float
    cv_macro_f1_interval: tuple[float, float]
    cv_per_level_f1: dict[str, float]
    keyword_rule_macro_f1: float
    grid: list[dict[str, Any]]


HYPERPARAMETER_GRID = [
    Hyperparameters(C=c, lexicon_weight=w, ngram_max=n)
    for c in (0.1, 0.3, 1.0, 3.0)
    for w in (0.0, 1.0, 3.0, 10.0)
    for n in (1, 2)
]


def select_hyperparameters(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    seed: int = 13,
    grid: Sequence[Hyperparameters] = tuple(HYPERPARAMETER_GRID),
    n_splits: int = 4,
    repeats: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> SelectionResult:
    """Pick C, lexicon weight and n-gram range by repeated stratified CV (macro-F1 at 0.5),
    then per-level thresholds on the chosen setting's out-of-fold probabilities."""
    texts = [record["text"] for record in records]
    labels = label_matrix(records)
    rows = []
    best: tuple[float, int] | None = None
    oof_by_setting = {}
    for i, candidate in enumerate(grid):
        hp = Hyperparameters(candidate.C, candidate.lexicon_weight, candidate.ngram_max, seed)
        oof = out_of_fold_probabilities(texts, labels, prototypes, hp, n_splits, repeats, seed)
        scores = [macro_f1(labels, (oof[r] >= 0.5).astype(int)) for r in range(repeats)]
        rows.append({**hp.as_dict(), "cv_macro_f1": round(float(np.mean(scores)), 4)})
        oof_by_setting[i] = oof
        # ties go to the simpler model (smaller C, fewer n-grams come first in the grid)
        if best is None or np.mean(scores) > best[0] + 1e-9:
            best = (float(np.mean(scores)), i)
        if progress:
            progress(i + 1, len(grid))
    assert best is not None
    chosen = grid[best[1]]
    hp = Hyperparameters(chosen.C, chosen.lexicon_weight, chosen.ngram_max, seed)
    oof = oof_by_setting[best[1]]
    thresholds = choose_thresholds(np.tile(labels, (repeats, 1)), oof.reshape(-1, len(LEVEL_KEYS)))
    thresholded = [(oof[r] >= np.array([thresholds[k] for k in LEVEL_KEYS])).astype(int) for r in range(repeats)]
    scores = [macro_f1(labels, t) for t in thresholded]
    per_level = np.mean([per_level_f1(labels, t) for t in thresholded], axis=0)
    return SelectionResult(
        hyperparameters=hp,
        thresholds=thresholds,
        cv_macro_f1=round(float(np.mean(scores)), 4),
        cv_macro_f1_interval=(round(float(np.min(scores)), 4), round(float(np.max(scores)), 4)),
        cv_per_level_f1={key: round(float(v), 4) for key, v in zip(LEVEL_KEYS, per_level)},
        keyword_rule_macro_f1=round(macro_f1(labels, keyword_rule(texts)), 4),
        grid=rows,
    )


def fit_gate(model: LevelClassifier, texts: Sequence[str]) -> EvidenceGate:
    """The evidence gate's domain-term floor: the fewest terms any training case has."""
    docs = [strip_field_labels(t) for t in texts]
    tfidf = model.vectorizer.transform(docs)  # type: ignore[union-attr]
    evidence = model.evidence(tfidf, [text_stats(doc) for doc in docs])
    floor = min(int(e["domain_terms"]) for e in evidence)
    return EvidenceGate(min_domain_terms=max(2, floor), min_similarity=EvidenceGate().min_similarity)
