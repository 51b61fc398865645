"""The baselines every level figure is set beside: the keyword rule (the report's own level
definitions as word lists) and the prior (the training labels' frequencies).

Here, not in the evaluation package, because training reports the keyword rule's
cross-validated score too, and training must not depend on evaluation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from csvnlp.features import model_text
from csvnlp.levels import DEFINITIONS, LEVEL_KEYS, keyword_hits


def keyword_rule(texts: Sequence[str]) -> np.ndarray:
    """The baseline: label each level whose keyword density is at least half the top one's."""
    rows = []
    for text in texts:
        text = model_text(text)
        words = max(len(text.split()), 1)
        density = [len(keyword_hits(text, DEFINITIONS[key].keywords)) / words for key in LEVEL_KEYS]
        top = max(density)
        rows.append([1 if top > 0 and d >= 0.5 * top else 0 for d in density])
    return np.array(rows, dtype=int).reshape(-1, len(LEVEL_KEYS))


def prior_rule(training_labels: np.ndarray, cases: int) -> np.ndarray:
    """The prior baseline: scikit-learn's ``DummyClassifier(strategy="prior")`` fitted on the
    training labels, for ``cases`` rows (each level it predicts for more than half the
    training cases, for every row)."""
    from sklearn.dummy import DummyClassifier

    prior = DummyClassifier(strategy="prior").fit(np.zeros((len(training_labels), 1)), training_labels)
    return np.asarray(prior.predict(np.zeros((cases, 1))), dtype=int).reshape(-1, len(LEVEL_KEYS))
