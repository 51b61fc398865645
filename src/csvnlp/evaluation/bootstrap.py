"""The one case bootstrap: every interval in csvnlp's evaluation comes from here.

Cases (records) are drawn with replacement (``Resamples``); a resample's score equals the
score with each case weighted by how often it was drawn, so the scores of all resamples are
computed at once from weighted confusion counts (``metrics.weighted_scores``) instead of
calling ``sklearn.metrics`` once per resample (a test checks the two agree). A paired
comparison scores both systems on the same resamples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from csvnlp.levels import LEVEL_KEYS
from csvnlp.metrics import HEADLINE_METRICS, level_metrics, weighted_scores

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A figure and the 2.5th-97.5th percentile range around it (a 95% interval)."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    @classmethod
    def around(cls, value: float, samples: Sequence[float] | np.ndarray) -> "Interval":
        """``value`` with the percentile range of ``samples`` (NaN samples left out: a resample
        with no row a rate is defined on has no value for it)."""
        array = np.asarray(samples, dtype=float)
        array = array[~np.isnan(array)]
        if not array.size:
            return cls(_round(value), math.nan, math.nan)
        return cls(_round(value), _round(np.percentile(array, 2.5)), _round(np.percentile(array, 97.5)))

    @classmethod
    def of_values(cls, values: Sequence[float] | np.ndarray) -> "Interval":
        """The mean of ``values`` and their percentile range: the spread over CV repeats or
        folds (not a bootstrap: it shows fold-assignment variation)."""
        array = np.asarray(values, dtype=float)
        return cls.around(float(array.mean()), array)


def _round(value: float) -> float:
    return round(float(value), 4)


class Resamples:
    """``samples`` draws of ``cases`` case indices with replacement, from ``rng`` (or a new
    generator seeded with ``seed``). Share one ``rng`` between views to continue its stream."""

    def __init__(self, cases: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0, rng: np.random.Generator | None = None):
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.indices = rng.integers(0, cases, size=(samples, cases))

    @cached_property
    def weights(self) -> np.ndarray:
        """(samples, cases): how often each case was drawn in each resample."""
        cases = self.indices.shape[1]
        return np.stack([np.bincount(row, minlength=cases) for row in self.indices]).astype(float)


def weighted_rate(mask: np.ndarray, hit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per resample, the share of the drawn ``mask`` rows that are ``hit`` (NaN where none was drawn)."""
    denominator = weights @ mask.astype(float)
    numerator = weights @ (mask & hit).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


@dataclass(frozen=True)
class BootstrapScores:
    """Headline metrics of one system with 95% case-bootstrap intervals (averaged over CV repeats)."""

    macro_f1: Interval
    micro_f1: Interval
    subset_accuracy: Interval
    hamming_loss: Interval
    per_level_f1: dict[str, Interval]


@dataclass(frozen=True)
class PairedScore:
    """One metric of systems A and B on the same cases, and B minus A with its paired interval."""

    a: float
    b: float
    delta: Interval


def _repeats(predictions: np.ndarray) -> np.ndarray:
    predictions = np.asarray(predictions)
    return predictions if predictions.ndim == 3 else predictions[None]


def _points_and_samples(labels: np.ndarray, predictions: np.ndarray, resamples: Resamples) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Each headline metric's value (mean over repeats) and its resampled values (mean over repeats)."""
    points = [level_metrics(labels, p) for p in predictions]
    samples = [weighted_scores(labels, p, resamples.weights) for p in predictions]
    point: dict[str, Any] = {name: float(np.mean([pt[name] for pt in points])) for name in HEADLINE_METRICS}
    point["per_level_f1"] = np.array([np.mean([pt["per_level"][k]["f1"] for pt in points]) for k in LEVEL_KEYS])
    return point, {name: np.mean([s[name] for s in samples], axis=0) for name in (*HEADLINE_METRICS, "per_level_f1")}


def bootstrap_scores(labels: np.ndarray, predictions: np.ndarray, resamples: Resamples) -> BootstrapScores:
    """Each headline metric of ``predictions`` ((cases, levels), or (repeats, cases, levels)
    averaged over repeats) with its case-bootstrap interval."""
    point, samples = _points_and_samples(labels, _repeats(predictions), resamples)
    return BootstrapScores(
        **{name: Interval.around(point[name], samples[name]) for name in HEADLINE_METRICS},
        per_level_f1={key: Interval.around(point["per_level_f1"][j], samples["per_level_f1"][:, j]) for j, key in enumerate(LEVEL_KEYS)},
    )


def paired_bootstrap(labels: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray, resamples: Resamples) -> dict[str, Any]:
    """B minus A for each headline metric and per-level F1 (``{"per_level_f1": {key: ...}}``),
    each a ``PairedScore`` whose interval comes from scoring both on the same resamples."""
    labels = np.asarray(labels)
    (point_a, samples_a), (point_b, samples_b) = (_points_and_samples(labels, _repeats(p), resamples) for p in (predicted_a, predicted_b))
    out: dict[str, Any] = {name: PairedScore(_round(point_a[name]), _round(point_b[name]),
                                             Interval.around(point_b[name] - point_a[name], samples_b[name] - samples_a[name]))
                           for name in HEADLINE_METRICS}
    out["per_level_f1"] = {key: PairedScore(_round(point_a["per_level_f1"][j]), _round(point_b["per_level_f1"][j]),
                                            Interval.around(point_b["per_level_f1"][j] - point_a["per_level_f1"][j],
                                                            samples_b["per_level_f1"][:, j] - samples_a["per_level_f1"][:, j]))
                           for j, key in enumerate(LEVEL_KEYS)}
    return out
