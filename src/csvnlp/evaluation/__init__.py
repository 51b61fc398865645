"""Evaluation, in one place. Where each concept lives:

- ``test_sets``: the records an evaluation scores, one name each (corpus, frozen split,
  entity split, labelled test sets) and the labelled-set score;
- ``bootstrap``: the one case bootstrap (``Resamples``, ``Interval``, ``paired_bootstrap``);
- ``frozen_split``: the headline, the model as shipped on the frozen split, beside the
  keyword rule and the prior (``csvnlp.baselines``), and the targets;
- ``entity_evaluation``: the entity extractor on the frozen entity split;
- ``cross_validation``: the second view, nested cross-validation on the corpus, and its extras;
- ``unlabelled_checks``: abstention, level spread and languages on real texts without labels;
- ``comparison``: ``csvnlp compare``, two models on the same cases;
- ``protocol``: one ``csvnlp evaluate`` run, as one typed ``Evaluation``;
- ``report`` and ``figures``: Markdown, HTML and metrics.json from it.

Scores of one prediction (F1 and the like, ``sklearn.metrics``) are in ``csvnlp.metrics``, and
the baselines in ``csvnlp.baselines``, because training uses them too and must not depend on
evaluation. Heavy libraries are imported by the modules that need them, not here.
"""

from __future__ import annotations

from typing import Any

# What other modules call, by name; each is imported on first use so ``import csvnlp.evaluation`` stays light.
_EXPORTS = {
    "Evaluation": "protocol", "evaluate_model": "protocol", "evaluate_to_directory": "protocol",
    "evaluation_summary": "protocol", "to_jsonable": "protocol",
    "Comparison": "comparison", "compare_models": "comparison", "compare_on_test_set": "comparison",
    "compare_by_cv": "comparison", "verdict": "comparison",
    "evaluate_corpus": "cross_validation", "CrossValidationResult": "cross_validation", "macro_f1_scorer": "cross_validation",
    "Interval": "bootstrap", "Resamples": "bootstrap", "paired_bootstrap": "bootstrap",
    "FrozenSplitResult": "frozen_split", "evaluate_frozen_split": "frozen_split",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'csvnlp.evaluation' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"csvnlp.evaluation.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
