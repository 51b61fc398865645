"""The second view: cross-validation on the report's cases (or any corpus).

Every figure comes from a scikit-learn tool (``cross_validate``, ``cross_val_predict``,
``permutation_test_score``, ``learning_curve``, ``calibration_curve``, ``sklearn.metrics``)
run on the level estimator, so everything it learns (vocabulary, weights, thresholds,
relevance model) is fitted inside each training fold; entity patterns are fitted per fold too.
The headline also chooses the settings inside each fold (nested CV, ``TunedLevelModel``);
leave-one-out, the permutation test and the learning curve keep the model's own settings to
stay affordable, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from csvnlp.baselines import keyword_rule, prior_rule
from csvnlp.evaluation.bootstrap import BootstrapScores, Interval, Resamples, bootstrap_scores
from csvnlp.levels import ENTITY_LABELS, LEVEL_KEYS, level_matrix
from csvnlp.metrics import entity_scores, level_metrics
from csvnlp.model import LevelModel
from csvnlp.selection import NESTED_GRID, TunedLevelModel, repeated_multilabel_folds

# Leave-one-out refits once per case: informative for the report's 27 cases, needless (and
# slow) for thousands, where k-fold already leaves little out.
LEAVE_ONE_OUT_MAX_CASES = 100
SYSTEMS = ("model", "keyword_rule", "prior")


@dataclass
class CrossValidationResult:
    """Cross-validated figures of the model and its baselines (same folds), and the extras.

    ``headline``: system -> headline metrics with case-bootstrap intervals (mean over repeats);
    ``per_level`` system -> level -> precision/recall/F1/support (mean over repeats);
    ``confusion`` level -> tp/fp/fn/tn summed over repeats; ``entities`` label scores per mode
    (range over repeats) and the first repeat's misses and false hits; ``errors`` every
    misclassified case of the first repeat; ``oof_predictions`` (repeats, cases, levels)."""

    cases: int
    level_counts: dict[str, int]
    scheme: dict[str, Any]
    headline: dict[str, BootstrapScores]
    per_level: dict[str, dict[str, dict[str, float]]]
    confusion: dict[str, dict[str, int]]
    fold_thresholds: dict[str, Interval]
    fold_macro_f1: Interval
    entities: dict[str, Any]
    errors: list[dict[str, Any]]
    reliability: dict[str, list[dict[str, float]]]
    threshold_sweep: dict[str, Any]
    case_ids: list[str]
    oof_predictions: list[Any]
    leave_one_out: dict[str, Any] | None = None
    permutation_test: dict[str, Any] | None = None
    learning_curve: list[dict[str, Any]] | None = None


def macro_f1_scorer() -> Any:
    from sklearn.metrics import f1_score, make_scorer

    return make_scorer(f1_score, average="macro", zero_division=0.0)


def fixed_settings_model(prototypes: dict[str, list[str]], setting: dict[str, Any]) -> LevelModel:
    """The model's own settings; thresholds chosen by CV inside whatever data it is fitted on."""
    return LevelModel(prototypes, C=setting["C"], lexicon_weight=setting["lexicon_weight"], ngram_max=setting["ngram_max"],
                      thresholds="cv", random_state=setting.get("seed", 13))


def evaluate_corpus(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    setting: dict[str, Any],
    stored_thresholds: dict[str, float],
    repeats: int = 10,
    n_splits: int = 4,
    permutations: int = 100,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    on_fold: Callable[[LevelModel, Any, list[int]], None] | None = None,
    extras: bool = True,
    nested: bool = True,
    n_jobs: int | None = None,
) -> CrossValidationResult:
    """Cross-validated metrics of the model and its baselines, entity scores, and (with
    ``extras``) leave-one-out, permutation test and learning curve; calibration and
    threshold-sweep data; every misclassified case of the first repeat."""
    from sklearn.model_selection import cross_validate

    from csvnlp.entities import build_entity_pipeline, doc_entities

    say = progress or (lambda message: None)
    records = list(records)
    labels = level_matrix(r["levels"] for r in records)
    texts = [r["text"] for r in records]
    n = len(records)
    splits = repeated_multilabel_folds(labels, n_splits, repeats, seed)
    estimator = (TunedLevelModel(prototypes, grid=NESTED_GRID, n_splits=3, repeats=1, random_state=setting.get("seed", 13))
                 if nested else fixed_settings_model(prototypes, setting))

    say(f"cross-validation: {repeats} x {n_splits}-fold" + (f", settings chosen inside each fold from {len(NESTED_GRID)}" if nested else ""))
    cv = cross_validate(estimator, texts, labels, cv=[(train, test) for _, train, test in splits], scoring=macro_f1_scorer(),
                        return_estimator=True, n_jobs=n_jobs)
    model_pred = np.zeros((repeats, n, len(LEVEL_KEYS)), dtype=int)
    model_prob = np.zeros((repeats, n, len(LEVEL_KEYS)))
    rule_pred = np.zeros_like(model_pred)
    prior_pred = np.zeros_like(model_pred)
    details: dict[int, dict[str, Any]] = {}
    gold_entities = [{(e["start"], e["end"], e["label"]) for e in r.get("entities") or []} for r in records]
    found_entities: list[list[set[tuple[int, int, str]]]] = [[set() for _ in records] for _ in range(repeats)]
    fold_thresholds, chosen_settings = [], []
    rule = keyword_rule(texts)
    for (repeat, train, test), fitted in zip(splits, cv["estimator"]):
        level_model = fitted.best_estimator_ if nested else fitted
        chosen_settings.append(level_model.settings())
        fold_thresholds.append(dict(zip(LEVEL_KEYS, level_model.thresholds_)))
        entity_pipeline = build_entity_pipeline([records[i] for i in train])
        if on_fold:
            on_fold(level_model, entity_pipeline, list(test))
        results = level_model.classify([texts[i] for i in test], explain=5)
        model_prob[repeat, test] = [[r["probabilities"][k] for k in LEVEL_KEYS] for r in results]
        model_pred[repeat, test] = level_matrix(r["predicted"] for r in results)
        rule_pred[repeat, test] = rule[test]
        prior_pred[repeat, test] = prior_rule(labels[train], len(test))
        for i, doc in zip(test, entity_pipeline.pipe([texts[i] for i in test])):
            found_entities[repeat][i] = {(e["start"], e["end"], e["label"]) for e in doc_entities(doc)}
        if repeat == 0:
            for i, result in zip(test, results):
                details[int(i)] = result

    systems = tuple(zip(SYSTEMS, (model_pred, rule_pred, prior_pred)))
    per_repeat = {name: [level_metrics(labels, p[r]) for r in range(repeats)] for name, p in systems}
    resamples = Resamples(n, seed=seed)  # the same resampled cases for every system
    headline = {name: bootstrap_scores(labels, predictions, resamples) for name, predictions in systems}
    per_level_table = {
        name: {key: {metric: round(float(np.mean([m["per_level"][key][metric] for m in runs])), 4)
                     for metric in ("precision", "recall", "f1", "support")} for key in LEVEL_KEYS}
        for name, runs in per_repeat.items()
    }
    confusion = {key: {c: int(np.sum([m["per_level"][key]["confusion"][c] for m in per_repeat["model"]]))
                       for c in ("tp", "fp", "fn", "tn")} for key in LEVEL_KEYS}

    say("entities")
    entity_runs = [entity_scores(gold_entities, found_entities[r]) for r in range(repeats)]
    entities: dict[str, Any] = {
        mode: {label: {m: Interval.of_values([run[mode][label][m] for run in entity_runs]) for m in ("precision", "recall", "f1")}
               | {"gold": entity_runs[0][mode][label]["gold"]} for label in ENTITY_LABELS}
        for mode in ("exact", "partial")}
    missed, false_hits = [], []
    for i, record in enumerate(records):
        gold, found = gold_entities[i], found_entities[0][i]
        missed += [{"case": record["id"], "text": record["text"][s:e], "label": lab} for s, e, lab in sorted(gold - found)]
        false_hits += [{"case": record["id"], "text": record["text"][s:e], "label": lab} for s, e, lab in sorted(found - gold)]
    entities["missed"] = missed
    entities["false_hits"] = false_hits

    loo, permutation, curve = None, None, None
    if extras:
        fixed = fixed_settings_model(prototypes, setting)
        if n <= LEAVE_ONE_OUT_MAX_CASES:
            say("leave-one-out")
            loo = leave_one_out(fixed, texts, labels, n_jobs)
        say(f"permutation test ({permutations} permutations)")
        permutation = permutation_test(fixed, texts, labels, permutations, n_splits, seed, n_jobs)
        say("learning curve")
        curve = learning_curve_points(fixed, texts, labels, [(train, test) for r, train, test in splits if r < 5], seed, n_jobs)

    errors = []
    for i, record in enumerate(records):
        gold = [k for k, v in zip(LEVEL_KEYS, labels[i]) if v]
        predicted = [k for k, v in zip(LEVEL_KEYS, model_pred[0, i]) if v]
        if gold != predicted:
            result = details[i]
            errors.append({"case": record["id"], "gold": gold, "predicted": predicted or ["uncertain"],
                           "probabilities": {k: round(v, 3) for k, v in result["probabilities"].items()},
                           "terms": {k: [t["term"] for t in v] for k, v in result.get("explanation", {}).items()}})

    pooled_prob = model_prob.reshape(-1, len(LEVEL_KEYS))
    pooled_labels = np.tile(labels, (repeats, 1))
    fixed_note = ("leave-one-out, the permutation test and the learning curve choose thresholds inside each training fold "
                  "but keep the model's settings (C, lexicon weight, n-grams), chosen on the whole corpus: slightly optimistic")
    if n > LEAVE_ONE_OUT_MAX_CASES:
        fixed_note += f"; leave-one-out is skipped above {LEAVE_ONE_OUT_MAX_CASES} cases"
    return CrossValidationResult(
        cases=n,
        level_counts={key: int(labels[:, j].sum()) for j, key in enumerate(LEVEL_KEYS)},
        scheme={"outer": f"iterative-stratified {n_splits}-fold x {repeats} repeats (seeds {seed}..{seed + repeats - 1})",
                "inner": ("settings (C, lexicon weight, n-grams) and thresholds chosen by a 3-fold CV inside each training fold "
                          f"from a grid of {len(NESTED_GRID)}: nested, no choice sees the held-out fold")
                if nested else "thresholds from 3-fold out-of-fold probabilities inside each training fold",
                "hyperparameters": dict(setting),
                "settings_chosen_in_folds": _count_settings(chosen_settings),
                "caveat": fixed_note if nested else "the settings were chosen by CV on the whole corpus at training time"},
        headline=headline,
        per_level=per_level_table,
        confusion=confusion,
        fold_thresholds={k: Interval.of_values([t[k] for t in fold_thresholds]) for k in LEVEL_KEYS},
        fold_macro_f1=Interval.of_values(cv["test_score"]),
        leave_one_out=loo,
        permutation_test=permutation,
        learning_curve=curve,
        entities=entities,
        errors=errors,
        reliability=reliability(pooled_labels, pooled_prob),
        threshold_sweep=threshold_sweep(pooled_labels, pooled_prob, stored_thresholds),
        case_ids=[r["id"] for r in records],
        oof_predictions=model_pred.tolist(),
    )


def _count_settings(settings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[float, float, int], int] = {}
    for s in settings:
        key = (s["C"], s["lexicon_weight"], s["ngram_max"])
        counts[key] = counts.get(key, 0) + 1
    return [{"C": c, "lexicon_weight": w, "ngram_max": n, "folds": k} for (c, w, n), k in sorted(counts.items(), key=lambda x: -x[1])]


def leave_one_out(estimator: LevelModel, texts: Sequence[str], labels: np.ndarray, n_jobs: int | None = None) -> dict[str, Any]:
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    predicted = cross_val_predict(estimator, list(texts), labels, cv=LeaveOneOut(), method="predict", n_jobs=n_jobs)
    return level_metrics(labels, predicted)


def permutation_test(estimator: LevelModel, texts: Sequence[str], labels: np.ndarray, permutations: int, n_splits: int,
                     seed: int, n_jobs: int | None = None) -> dict[str, Any]:
    """Does the model beat chance? ``permutation_test_score`` shuffles whole label rows across
    cases (keeping each case's multi-label structure) and reruns the same CV, thresholds
    refitted in every fold for real and shuffled labels alike."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
    from sklearn.model_selection import cross_val_score, permutation_test_score

    folds = MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    if permutations == 0:
        observed = float(np.mean(cross_val_score(estimator, list(texts), labels, cv=folds, scoring=macro_f1_scorer(), n_jobs=n_jobs)))
        return {"observed_macro_f1": round(observed, 4), "permutations": 0, "null_mean": float("nan"),
                "null_95th": float("nan"), "p_value": float("nan"), "smallest_possible_p": float("nan"), "null": []}
    observed, null, p_value = permutation_test_score(estimator, list(texts), labels, cv=folds, n_permutations=permutations,
                                                     scoring=macro_f1_scorer(), random_state=seed, n_jobs=n_jobs)
    return {"observed_macro_f1": round(float(observed), 4), "permutations": permutations,
            "null_mean": round(float(np.mean(null)), 4), "null_95th": round(float(np.percentile(null, 95)), 4),
            "p_value": round(float(p_value), 4), "smallest_possible_p": round(1 / (permutations + 1), 4),
            "null": [round(float(x), 4) for x in null]}


def learning_curve_points(estimator: LevelModel, texts: Sequence[str], labels: np.ndarray,
                          splits: Sequence[tuple[np.ndarray, np.ndarray]], seed: int, n_jobs: int | None = None,
                          fractions: Sequence[float] = (0.4, 0.6, 0.8, 1.0)) -> list[dict[str, Any]]:
    """Held-out macro-F1 against the number of training cases (a shuffled share of each
    training fold), from ``sklearn.model_selection.learning_curve``."""
    from sklearn.model_selection import learning_curve

    sizes, _, test_scores = learning_curve(estimator, list(texts), labels, train_sizes=list(fractions), cv=list(splits),
                                           scoring=macro_f1_scorer(), shuffle=True, random_state=seed, n_jobs=n_jobs)
    return [{"train_cases": int(size), "macro_f1": Interval.of_values(scores), "std": round(float(np.std(scores)), 4)}
            for size, scores in zip(sizes, test_scores)]


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = 5) -> dict[str, list[dict[str, float]]]:
    """Per level: mean predicted probability vs observed frequency in equal-width bins
    (``sklearn.calibration.calibration_curve``), with the number of predictions per bin."""
    from sklearn.calibration import calibration_curve

    edges = np.linspace(0.0, 1.0, bins + 1)
    out = {}
    for j, key in enumerate(LEVEL_KEYS):
        observed, mean_probability = calibration_curve(labels[:, j], probabilities[:, j], n_bins=bins, strategy="uniform")
        # calibration_curve drops empty bins and returns no counts: the same binning, counted
        bin_ids = np.searchsorted(edges[1:-1], probabilities[:, j])
        counts = np.bincount(bin_ids, minlength=bins)
        filled = np.flatnonzero(counts)
        out[key] = [{"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "mean_probability": round(float(mp), 4),
                     "observed": round(float(ob), 4), "count": int(counts[b])}
                    for b, mp, ob in zip(filled, mean_probability, observed)]
    return out


def threshold_sweep(labels: np.ndarray, probabilities: np.ndarray, stored: dict[str, float]) -> dict[str, Any]:
    """Per level, precision / recall / coverage (share labelled) at each threshold."""
    from sklearn.metrics import precision_score, recall_score

    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    out: dict[str, Any] = {"stored": stored, "levels": {}}
    for j, key in enumerate(LEVEL_KEYS):
        rows = []
        for t in grid:
            predicted = probabilities[:, j] >= t
            precision = precision_score(labels[:, j], predicted, zero_division=np.nan)
            rows.append({"threshold": float(t), "coverage": round(float(predicted.mean()), 4),
                         "precision": None if np.isnan(precision) else round(float(precision), 4),
                         "recall": round(float(recall_score(labels[:, j], predicted, zero_division=0.0)), 4)})
        out["levels"][key] = rows
    return out
