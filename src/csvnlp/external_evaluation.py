"""The headline: a trained model scored on the frozen external test split of real records.

The split (``corpus/external_test/real-test.jsonl``) holds CORDIS objectives, ERDF/ESF
operations and call topics annotated under ``corpus/LABELLING_GUIDELINE.md`` and set aside by
a seeded rule before any model change; nothing is fitted, selected or tuned on it. Scores are
computed on the ``clear`` rows (a second careful annotator would give the same level set) and,
as a second view, on all rows.

- Level scores: macro-F1 over the three levels and per-level precision/recall/F1
  (``sklearn.metrics``), with 95% case-bootstrap intervals (records resampled with
  replacement; the records, not a fold assignment, are the uncertainty here).
- None vs any: *abstention* is the share of records annotated none that get no level
  (``uncertain``); *coverage* is the share of records with a level that get at least one.
- The same numbers for the baselines on the same rows, and the model's macro-F1 minus the
  keyword rule's with a paired bootstrap interval (the same resampled records for both).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from csvnlp.levels import LEVEL_KEYS
from csvnlp.metrics import macro_f1
from csvnlp.model import label_matrix

BOOTSTRAP_SAMPLES = 2000


def macro_f1_present(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the levels that occur in the gold labels or the predictions only: on a
    slice with no record of a level and no prediction of it, that level's F1 is undefined, not
    0 (scikit-learn's ``zero_division=nan`` leaves it out of the mean)."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro", zero_division=np.nan))


def abstention(labels: np.ndarray, predicted: np.ndarray) -> float:
    none = labels.sum(axis=1) == 0
    return float(np.mean(predicted[none].sum(axis=1) == 0)) if none.any() else float("nan")


def coverage(labels: np.ndarray, predicted: np.ndarray) -> float:
    some = labels.sum(axis=1) > 0
    return float(np.mean(predicted[some].sum(axis=1) > 0)) if some.any() else float("nan")


def _interval(samples: list[float]) -> dict[str, float]:
    array = np.asarray([s for s in samples if not np.isnan(s)], dtype=float)
    if not array.size:
        return {"low": float("nan"), "high": float("nan")}
    return {"low": round(float(np.percentile(array, 2.5)), 4), "high": round(float(np.percentile(array, 97.5)), 4)}


def score(labels: np.ndarray, predicted: np.ndarray, resamples: np.ndarray) -> dict[str, Any]:
    """Every headline figure of one system on one set of rows, with bootstrap intervals."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, average=None, zero_division=0.0)
    boot_macro, boot_levels, boot_abstain, boot_cover = [], [], [], []
    for idx in resamples:
        boot_macro.append(macro_f1(labels[idx], predicted[idx]))
        boot_levels.append(f1_score(labels[idx], predicted[idx], average=None, zero_division=0.0))
        boot_abstain.append(abstention(labels[idx], predicted[idx]))
        boot_cover.append(coverage(labels[idx], predicted[idx]))
    boot_levels = np.asarray(boot_levels)
    return {
        "rows": int(len(labels)),
        "macro_f1": {"value": round(macro_f1(labels, predicted), 4), **_interval(boot_macro)},
        "levels": {
            key: {"precision": round(float(precision[j]), 4), "recall": round(float(recall[j]), 4),
                  "f1": {"value": round(float(f1[j]), 4), **_interval(list(boot_levels[:, j]))}, "support": int(support[j])}
            for j, key in enumerate(LEVEL_KEYS)
        },
        "abstention_on_none": {"value": round(abstention(labels, predicted), 4), **_interval(boot_abstain),
                               "rows": int((labels.sum(axis=1) == 0).sum())},
        "coverage_of_csv": {"value": round(coverage(labels, predicted), 4), **_interval(boot_cover),
                            "rows": int((labels.sum(axis=1) > 0).sum())},
    }


def evaluate_external(
    records: Sequence[dict[str, Any]],
    predictions: dict[str, np.ndarray],
    model_name: str = "model",
    baseline_name: str = "keyword rule",
    seed: int = 0,
    samples: int = BOOTSTRAP_SAMPLES,
) -> dict[str, Any]:
    """Score each system's (n, 3) 0/1 ``predictions`` on ``records`` (clear rows and all rows),
    per source too, and the model minus the baseline with a paired interval."""
    labels = label_matrix(records)
    clear = np.array([r.get("confidence", "clear") == "clear" for r in records])
    rng = np.random.default_rng(seed)
    result: dict[str, Any] = {"records": len(records), "clear_records": int(clear.sum()), "views": {}}
    for view, mask in (("clear", clear), ("all", np.ones(len(records), dtype=bool))):
        rows = np.flatnonzero(mask)
        resamples = rng.integers(0, len(rows), size=(samples, len(rows)))
        view_labels = labels[rows]
        scored = {name: score(view_labels, predicted[rows], resamples) for name, predicted in predictions.items()}
        if model_name in predictions and baseline_name in predictions:
            model, base = predictions[model_name][rows], predictions[baseline_name][rows]
            deltas = [macro_f1(view_labels[i], model[i]) - macro_f1(view_labels[i], base[i]) for i in resamples]
            scored["delta"] = {"name": f"{model_name} minus {baseline_name}, macro-F1",
                               "value": round(macro_f1(view_labels, model) - macro_f1(view_labels, base), 4), **_interval(deltas)}
        by_source: dict[str, Any] = {}
        sources = np.array([r.get("source", "?") for r in records])[rows]
        for source in sorted(set(sources)):
            part = sources == source
            by_source[source] = {
                name: {"rows": int(part.sum()), "macro_f1": round(macro_f1_present(view_labels[part], predicted[rows][part]), 4),
                       "abstention_on_none": round(abstention(view_labels[part], predicted[rows][part]), 4),
                       "coverage_of_csv": round(coverage(view_labels[part], predicted[rows][part]), 4)}
                for name, predicted in predictions.items()
            }
        scored["by_source"] = by_source
        result["views"][view] = scored
    return result


# The targets issue 9 sets for the clear rows; the report states each as met or missed by how much.
TARGETS = {
    "macro_f1": 0.80,
    "level_f1": 0.70,
    "abstention_on_none": 0.85,
    "coverage_of_csv": 0.85,
    "margin_over_keyword_rule": 0.10,
}


def target_check(clear_view: dict[str, Any], model_name: str = "model") -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (numbers, not sentences)."""
    model = clear_view[model_name]
    rows = [("macro-F1", model["macro_f1"]["value"], TARGETS["macro_f1"])]
    rows += [(f"F1 {key}", model["levels"][key]["f1"]["value"], TARGETS["level_f1"]) for key in LEVEL_KEYS]
    rows += [("abstention on none", model["abstention_on_none"]["value"], TARGETS["abstention_on_none"]),
             ("coverage of CSV records", model["coverage_of_csv"]["value"], TARGETS["coverage_of_csv"])]
    if "delta" in clear_view:
        rows.append(("macro-F1 above the keyword rule", clear_view["delta"]["value"], TARGETS["margin_over_keyword_rule"]))
    return [{"target": name, "value": value, "goal": goal, "met": bool(value >= goal), "short_by": round(max(0.0, goal - value), 4)}
            for name, value, goal in rows]

