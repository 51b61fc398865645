"""Scores for level predictions and entity spans: thin use of ``sklearn.metrics``, plus the
case-resampling bootstrap scikit-learn does not offer.

The bootstrap draws case indices; a resample's score equals the score with each case
weighted by how often it was drawn. Calling ``sklearn.metrics`` 10^5 times (1,000 resamples
x 10 CV repeats x every metric) took minutes, so ``weighted_scores`` computes the same
weighted confusion counts for all resamples in one matrix product; a test checks it against
``sklearn.metrics`` with ``sample_weight``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from csvnlp.levels import LEVEL_KEYS

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


def _resample_weights(cases: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(0, cases, cases), minlength=cases) for _ in range(n)]).astype(float)


def _summary(point: float, samples: np.ndarray) -> dict[str, float]:
    return {"mean": round(float(point), 4), "low": round(float(np.percentile(samples, 2.5)), 4),
            "high": round(float(np.percentile(samples, 97.5)), 4)}


def interval(values: Sequence[float]) -> dict[str, float]:
    """Mean and the 2.5th-97.5th percentile range of ``values``."""
    array = np.asarray(values, dtype=float)
    return {"mean": round(float(array.mean()), 4), "low": round(float(np.percentile(array, 2.5)), 4),
            "high": round(float(np.percentile(array, 97.5)), 4)}


def bootstrap_intervals(labels: np.ndarray, predictions: np.ndarray, n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Each headline metric (mean over CV repeats) with a 95% interval from resampling the
    cases (with few cases they are the main source of uncertainty, more than the folds).

    ``predictions`` is (repeats, cases, levels)."""
    weights = _resample_weights(len(labels), n, seed)
    points = [level_metrics(labels, p) for p in predictions]
    samples = [weighted_scores(labels, p, weights) for p in predictions]
    out: dict[str, Any] = {}
    for name in HEADLINE_METRICS:
        out[name] = _summary(np.mean([pt[name] for pt in points]), np.mean([s[name] for s in samples], axis=0))
    out["per_level_f1"] = {
        key: _summary(np.mean([pt["per_level"][key]["f1"] for pt in points]), np.mean([s["per_level_f1"][:, j] for s in samples], axis=0))
        for j, key in enumerate(LEVEL_KEYS)
    }
    return out


def paired_bootstrap(labels: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray, n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """B minus A for each headline metric and per-level F1, with a 95% interval from
    resampling the same cases for both (paired). Arrays are (cases, levels) or
    (repeats, cases, levels); repeats are averaged."""
    a = predicted_a if np.ndim(predicted_a) == 3 else np.asarray(predicted_a)[None]
    b = predicted_b if np.ndim(predicted_b) == 3 else np.asarray(predicted_b)[None]
    weights = _resample_weights(len(labels), n, seed)

    def mean_scores(predictions: np.ndarray) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        points = [level_metrics(labels, p) for p in predictions]
        samples = [weighted_scores(labels, p, weights) for p in predictions]
        point = {name: float(np.mean([pt[name] for pt in points])) for name in HEADLINE_METRICS}
        point["per_level_f1"] = np.array([np.mean([pt["per_level"][k]["f1"] for pt in points]) for k in LEVEL_KEYS])
        return point, {name: np.mean([s[name] for s in samples], axis=0) for name in (*HEADLINE_METRICS, "per_level_f1")}

    (point_a, samples_a), (point_b, samples_b) = mean_scores(a), mean_scores(b)
    out: dict[str, Any] = {name: {"a": round(point_a[name], 4), "b": round(point_b[name], 4),
                                  "delta": _summary(point_b[name] - point_a[name], samples_b[name] - samples_a[name])}
                           for name in HEADLINE_METRICS}
    out["per_level_f1"] = {key: {"a": round(float(point_a["per_level_f1"][j]), 4), "b": round(float(point_b["per_level_f1"][j]), 4),
                                 "delta": _summary(point_b["per_level_f1"][j] - point_a["per_level_f1"][j],
                                                   samples_b["per_level_f1"][:, j] - samples_a["per_level_f1"][:, j])}
                           for j, key in enumerate(LEVEL_KEYS)}
    return out


def entity_scores(gold: list[set[tuple[int, int, str]]], found: list[set[tuple[int, int, str]]]) -> dict[str, Any]:
    """Per label precision/recall/F1, exact (same offsets) and partial (overlapping) match.

    Span matching has no ``sklearn.metrics`` counterpart: precision counts found spans that
    match a gold span, recall gold spans that are matched."""
    scores: dict[str, Any] = {"exact": {}, "partial": {}}
    for label in ("CLUSTER", "PROGRAMME"):
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
