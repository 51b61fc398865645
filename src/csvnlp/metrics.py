"""Scores of one set of level predictions or entity spans: thin use of ``sklearn.metrics``.

Training (settings selection) and evaluation both score with these, so they live outside the
evaluation package. ``weighted_scores`` gives the headline metrics for many case weightings at
once (one matrix product of weighted confusion counts): the case bootstrap
(``evaluation.bootstrap``) weights each case by how often a resample drew it, and calling
``sklearn.metrics`` once per resample took minutes; a test checks it against ``sklearn.metrics``
with ``sample_weight``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from csvnlp.levels import ENTITY_LABELS, LEVEL_KEYS

HEADLINE_METRICS = ("macro_f1", "micro_f1", "subset_accuracy", "hamming_loss")


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean of the three levels' F1 (a level with no gold and no prediction counts 0)."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro", zero_division=0.0))


def level_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Per-level precision/recall/F1/support and confusion counts; micro/macro F1, subset
    accuracy, Hamming loss (all from ``sklearn.metrics``)."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        hamming_loss,
        multilabel_confusion_matrix,
        precision_recall_fscore_support,
    )

    labels, predicted = np.asarray(labels, dtype=int), np.asarray(predicted, dtype=int)
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, average=None, zero_division=0.0)
    confusion = multilabel_confusion_matrix(labels, predicted)
    per_level = {
        key: {"precision": float(precision[j]), "recall": float(recall[j]), "f1": float(f1[j]), "support": int(support[j]),
              "confusion": {"tp": int(confusion[j, 1, 1]), "fp": int(confusion[j, 0, 1]), "fn": int(confusion[j, 1, 0]), "tn": int(confusion[j, 0, 0])}}
        for j, key in enumerate(LEVEL_KEYS)
    }
    return {
        "per_level": per_level,
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0.0)),
        "micro_f1": float(f1_score(labels, predicted, average="micro", zero_division=0.0)),
        "subset_accuracy": float(accuracy_score(labels, predicted)),
        "hamming_loss": float(hamming_loss(labels, predicted)),
    }


def macro_f1_present(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the levels that occur in the gold labels or the predictions only: on a
    slice with no record of a level and no prediction of it, that level's F1 is undefined, not
    0 (scikit-learn's ``zero_division=nan`` leaves it out of the mean)."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro", zero_division=np.nan))


def abstention(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the records annotated none that get no level (NaN when there is none)."""
    none = labels.sum(axis=1) == 0
    return float(np.mean(predicted[none].sum(axis=1) == 0)) if none.any() else float("nan")


def coverage(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the records with a level that get at least one (NaN when there is none)."""
    some = labels.sum(axis=1) > 0
    return float(np.mean(predicted[some].sum(axis=1) > 0)) if some.any() else float("nan")


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    # scikit-learn's definition, with zero_division=0: no true positives gives 0
    denominator = 2 * tp + fp + fn
    return np.where(tp > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)


def weighted_scores(labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Headline metrics (and per-level F1) for each row of ``weights`` (resamples x cases),
    as ``sklearn.metrics`` gives them with ``sample_weight=row``."""
    labels, predicted = np.asarray(labels, dtype=float), np.asarray(predicted, dtype=float)
    tp = weights @ (labels * predicted)
    fp = weights @ ((1 - labels) * predicted)
    fn = weights @ (labels * (1 - predicted))
    per_level = _f1(tp, fp, fn)
    total = weights.sum(axis=1)
    exact = np.all(labels == predicted, axis=1).astype(float)
    mismatches = (labels != predicted).mean(axis=1)
    return {
        "macro_f1": per_level.mean(axis=1),
        "micro_f1": _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)),
        "subset_accuracy": (weights @ exact) / total,
        "hamming_loss": (weights @ mismatches) / total,
        "per_level_f1": per_level,
    }


def entity_scores(gold: list[set[tuple[int, int, str]]], found: list[set[tuple[int, int, str]]]) -> dict[str, Any]:
    """Per label precision/recall/F1, exact (same offsets) and partial (overlapping) match.

    Span matching has no ``sklearn.metrics`` counterpart: precision counts found spans that
    match a gold span, recall gold spans that are matched."""
    scores: dict[str, Any] = {"exact": {}, "partial": {}}
    for label in ENTITY_LABELS:
        for mode in ("exact", "partial"):
            tp_gold = tp_found = n_gold = n_found = 0
            for g, f in zip(gold, found):
                g = {s for s in g if s[2] == label}
                f = {s for s in f if s[2] == label}
                n_gold += len(g)
                n_found += len(f)
                if mode == "exact":
                    tp_gold += len(g & f)
                    tp_found += len(g & f)
                else:
                    tp_gold += sum(any(a[0] < b[1] and b[0] < a[1] for b in f) for a in g)
                    tp_found += sum(any(a[0] < b[1] and b[0] < a[1] for b in g) for a in f)
            precision = tp_found / n_found if n_found else 0.0
            recall = tp_gold / n_gold if n_gold else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            scores[mode][label] = {"precision": precision, "recall": recall, "f1": f1, "gold": n_gold, "found": n_found}
    return scores
