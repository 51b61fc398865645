"""``csvnlp compare``: should model B replace model A? Both scored on the same cases, B minus A
with the paired bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from csvnlp.evaluation.bootstrap import Interval, PairedScore, Resamples, paired_bootstrap
from csvnlp.evaluation.test_sets import FROZEN_SPLIT_DIR
from csvnlp.levels import level_matrix
from csvnlp.metrics import level_metrics

COMPARE_RESAMPLES = 1000


@dataclass
class Comparison:
    """Both models on ``cases`` cases: B minus A per metric (``paired``: metric -> PairedScore,
    ``per_level_f1`` -> level -> PairedScore), each model's metrics and share ``uncertain``
    (scored on a test set), where the cases came from, and the verdict on macro-F1."""

    cases: int
    paired: dict[str, Any]
    source: str = ""
    models: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] | None = None
    uncertain_share: list[float] | None = None
    repeats: int | None = None
    verdict: str = ""


def compare_on_test_set(bundles: Sequence[Any], records: Sequence[dict[str, Any]], seed: int = 0) -> Comparison:
    """Both models' trained weights on the same labelled records."""
    labels = level_matrix(r["levels"] for r in records)
    texts = [r["text"] for r in records]
    predictions, uncertain = [], []
    for bundle in bundles:
        predicted = bundle.level_model.predict(texts)
        predictions.append(predicted)
        uncertain.append(round(float(np.mean(predicted.sum(axis=1) == 0)), 4))
    paired = paired_bootstrap(labels, predictions[0], predictions[1], Resamples(len(records), COMPARE_RESAMPLES, seed))
    return Comparison(cases=len(records), paired=paired, metrics=[level_metrics(labels, p) for p in predictions],
                      uncertain_share=uncertain)


def compare_by_cv(bundles: Sequence[Any], records: Sequence[dict[str, Any]], prototypes: dict[str, list[str]],
                  repeats: int = 5, seed: int = 0, n_jobs: int | None = None) -> Comparison:
    """Refit both models' settings on the same CV folds of ``records`` (their trained weights
    are not used): whether the settings, not the trained models, differ."""
    from csvnlp.evaluation.cross_validation import evaluate_corpus

    labels = level_matrix(r["levels"] for r in records)
    runs = [evaluate_corpus(records, prototypes, b.meta["hyperparameters"], b.meta["thresholds"], repeats=repeats,
                            permutations=0, seed=seed, extras=False, nested=False, n_jobs=n_jobs) for b in bundles]
    a, b = (np.array(run.oof_predictions) for run in runs)
    return Comparison(cases=len(records), repeats=repeats,
                      paired=paired_bootstrap(labels, a, b, Resamples(len(records), COMPARE_RESAMPLES, seed)))


def verdict(delta: Interval, higher_is_better: bool = True) -> str:
    low, high = (delta.low, delta.high) if higher_is_better else (-delta.high, -delta.low)
    if low > 0:
        return "B is better beyond the 95% interval"
    if high < 0:
        return "B is worse beyond the 95% interval"
    return "no difference beyond chance on these cases"


def compare_models(
    model_a: Path, model_b: Path, test_sets: Sequence[Path] = (), cv: bool = False,
    corpus: Sequence[Path] = (Path("corpus"),), repeats: int = 5, n_jobs: int | None = None,
) -> Comparison:
    """Both trained models on the same labelled records (``test_sets``, else the frozen split
    beside the first corpus, else records marked split=test), or with ``cv`` both models'
    settings refitted on the same folds of ``corpus``."""
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.errors import CorpusError, ModelError, UsageError
    from csvnlp.persistence import load_bundle
    from csvnlp.training import prototypes_for

    bundles = [load_bundle(path) for path in (model_a, model_b)]
    if cv:
        records = split_records(load_corpus(corpus))[0]
        try:
            result = compare_by_cv(bundles, records, prototypes_for(corpus), repeats=repeats, n_jobs=n_jobs)
        except KeyError as exc:
            raise ModelError(f"cannot compare: a model's meta.json lacks {exc}; retrain it with `csvnlp train`") from None
        except ValueError as exc:
            raise CorpusError(f"cannot compare on this corpus ({len(records)} cases): {exc}; give a larger --corpus") from None
        result.source = f"{repeats} x 4-fold CV of {', '.join(map(str, corpus))} (settings refitted, trained weights unused)"
    else:
        frozen_dir = (corpus[0] if corpus else Path("corpus")) / FROZEN_SPLIT_DIR
        if test_sets:
            records, where = load_corpus(test_sets), ", ".join(map(str, test_sets))
        elif frozen_dir.is_dir():
            records, where = load_corpus([frozen_dir]), str(frozen_dir)
        else:
            present = [c for c in corpus if c.exists()]
            records = split_records(load_corpus(present))[1] if present else []
            where = f"records marked split=test in {', '.join(map(str, present))}"
        if not records:
            raise UsageError(f"no test set: pass --test-set FILE (labelled, corpus format), or --cv to refit both models' settings on the "
                             f"corpus's folds; there is no frozen test split yet ({frozen_dir}/ or records marked split=test)")
        result = compare_on_test_set(bundles, records)
        result.source = f"{where}, trained weights as they are"
    result.models = [{"path": str(bundle.path), "name": bundle.meta.get("name"), "cases": bundle.meta["corpus"]["cases"]} for bundle in bundles]
    result.verdict = verdict(result.paired["macro_f1"].delta)
    return result


__all__ = ["Comparison", "PairedScore", "compare_by_cv", "compare_models", "compare_on_test_set", "verdict"]
