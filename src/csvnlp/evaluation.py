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


def predicted_matrix(results: Sequence[dict[str, Any]]) -> np.ndarray:
    """(n, 3) 0/1 rows from classifier results; an `uncertain` result is an all-zero row."""
    return np.array([[1 if key in result["predicted"] else 0 for key in LEVEL_KEYS] for result in results], dtype=int).reshape(-1, len(LEVEL_KEYS))


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


def fit_gate(model: LevelClassifier, texts: Sequence[str], labels: np.ndarray) -> EvidenceGate:
    """The evidence gate's domain-term floor: the fewest terms any training case with a level
    has (a negative example, labelled "none", may have none)."""
    docs = [strip_field_labels(t) for t, row in zip(texts, labels) if row.any()]
    tfidf = model.vectorizer.transform(docs)  # type: ignore[union-attr]
    evidence = model.evidence(tfidf, [text_stats(doc) for doc in docs])
    floor = min(int(e["domain_terms"]) for e in evidence)
    return EvidenceGate(min_domain_terms=max(2, floor), min_similarity=EvidenceGate().min_similarity)


# ============================================================================ the full evaluation
#
# ``evaluate_corpus`` is what `csvnlp evaluate` runs. Per outer fold it fits, on the training
# fold only: the TF-IDF vocabulary and weights, the per-level thresholds (on inner out-of-fold
# probabilities), the evidence gate and the entity phrase patterns. The hyperparameters are
# the model's own (chosen by CV on the whole corpus at training time), which is the one
# remaining optimism, stated in the report.


@dataclass
class FoldModel:
    """What one training fold produced; the test fold only sees its predictions."""

    classifier: LevelClassifier
    entity_pipeline: Any
    train_ids: list[str]


def fit_fold(records: Sequence[dict[str, Any]], prototypes: dict[str, list[str]], hp: Hyperparameters,
             inner_splits: int = 3, grid: Sequence[Hyperparameters] | None = None) -> FoldModel:
    """Fit everything on one training fold: thresholds from an inner CV on this fold alone
    and, with ``grid``, the settings too (nested cross-validation)."""
    from csvnlp.entities import build_entity_pipeline

    texts = [r["text"] for r in records]
    labels = label_matrix(records)
    splits = max(2, min(inner_splits, int(labels.sum(axis=0).min())))
    if grid:
        selection = select_hyperparameters(records, prototypes, seed=hp.seed, grid=grid, n_splits=splits, repeats=1)
        hp, thresholds = selection.hyperparameters, selection.thresholds
    else:
        oof = out_of_fold_probabilities(texts, labels, prototypes, hp, n_splits=splits, repeats=1, seed=hp.seed)
        thresholds = choose_thresholds(labels, oof[0])
    classifier = LevelClassifier(hp, thresholds=thresholds).fit(texts, labels, prototypes)
    classifier.gate = fit_gate(classifier, texts, labels)
    return FoldModel(classifier, build_entity_pipeline(records), [r["id"] for r in records])


def predict_fold(model: FoldModel, records: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """(probabilities, 0/1 predictions with `uncertain` as all-zero rows, per-case details)."""
    results = model.classifier.classify([r["text"] for r in records], explain=5)
    probabilities = np.array([[res["probabilities"][k] for k in LEVEL_KEYS] for res in results])
    predicted = predicted_matrix(results)
    return probabilities, predicted, results


def level_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Per-level precision/recall/F1/support and confusion counts; micro/macro F1, subset
    accuracy, Hamming loss."""
    per_level = {}
    for j, key in enumerate(LEVEL_KEYS):
        tp = int(np.sum((predicted[:, j] == 1) & (labels[:, j] == 1)))
        fp = int(np.sum((predicted[:, j] == 1) & (labels[:, j] == 0)))
        fn = int(np.sum((predicted[:, j] == 0) & (labels[:, j] == 1)))
        tn = int(np.sum((predicted[:, j] == 0) & (labels[:, j] == 0)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        per_level[key] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn,
                          "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn}}
    tp = sum(v["confusion"]["tp"] for v in per_level.values())
    fp = sum(v["confusion"]["fp"] for v in per_level.values())
    fn = sum(v["confusion"]["fn"] for v in per_level.values())
    return {
        "per_level": per_level,
        "macro_f1": float(np.mean([v["f1"] for v in per_level.values()])),
        "micro_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "subset_accuracy": float(np.mean(np.all(labels == predicted, axis=1))),
        "hamming_loss": float(np.mean(labels != predicted)),
    }


def interval(values: Sequence[float]) -> dict[str, float]:
    """Mean and the 2.5th-97.5th percentile range of ``values``."""
    array = np.asarray(values, dtype=float)
    return {"mean": round(float(array.mean()), 4), "low": round(float(np.percentile(array, 2.5)), 4),
            "high": round(float(np.percentile(array, 97.5)), 4)}


def bootstrap_interval(labels: np.ndarray, predictions: np.ndarray, metric: Callable[[np.ndarray, np.ndarray], float],
                       n: int = 1000, seed: int = 0) -> dict[str, float]:
    """Mean over CV repeats, with a 95% interval from resampling the cases (the 27 cases are
    the main source of uncertainty, more than the fold assignment).

    ``predictions`` is (repeats, cases, levels)."""
    rng = np.random.default_rng(seed)
    point = float(np.mean([metric(labels, p) for p in predictions]))
    samples = []
    cases = len(labels)
    for _ in range(n):
        idx = rng.integers(0, cases, cases)
        samples.append(float(np.mean([metric(labels[idx], p[idx]) for p in predictions])))
    return {"mean": round(point, 4), "low": round(float(np.percentile(samples, 2.5)), 4),
            "high": round(float(np.percentile(samples, 97.5)), 4)}


def entity_scores(gold: list[set[tuple[int, int, str]]], found: list[set[tuple[int, int, str]]]) -> dict[str, Any]:
    """Per label precision/recall/F1, exact (same offsets) and partial (overlapping) match."""
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


def evaluate_corpus(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    hp: Hyperparameters,
    stored_thresholds: dict[str, float],
    repeats: int = 10,
    n_splits: int = 4,
    permutations: int = 100,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    on_fold: Callable[[FoldModel, list[int]], None] | None = None,
    extras: bool = True,
    nested_grid: Sequence[Hyperparameters] | None = None,
) -> dict[str, Any]:
    """Cross-validated metrics of the model and its baselines, entity scores, learning curve,
    LOO, permutation test, reliability and threshold sweep data, error analysis."""
    from sklearn.dummy import DummyClassifier

    from csvnlp.entities import doc_entities

    say = progress or (lambda message: None)
    records = list(records)
    labels = label_matrix(records)
    texts = [r["text"] for r in records]
    n = len(records)
    model_pred = np.zeros((repeats, n, len(LEVEL_KEYS)), dtype=int)
    model_prob = np.zeros((repeats, n, len(LEVEL_KEYS)))
    rule_pred = np.zeros_like(model_pred)
    prior_pred = np.zeros_like(model_pred)
    details: dict[int, dict[str, Any]] = {}
    gold_entities = [{(e["start"], e["end"], e["label"]) for e in r.get("entities") or []} for r in records]
    found_entities: list[list[set[tuple[int, int, str]]]] = [[set() for _ in records] for _ in range(repeats)]
    fold_thresholds = []
    chosen_settings: list[Hyperparameters] = []

    say(f"cross-validation: {repeats} x {n_splits}-fold" + (f", settings chosen inside each fold from {len(nested_grid)}" if nested_grid else ""))
    for repeat, train, test in repeated_multilabel_folds(labels, n_splits, repeats, seed):
        train_records = [records[i] for i in train]
        test_records = [records[i] for i in test]
        model = fit_fold(train_records, prototypes, hp, grid=nested_grid)
        chosen_settings.append(model.classifier.hyperparameters)
        if on_fold:
            on_fold(model, list(test))
        fold_thresholds.append(model.classifier.thresholds)
        probabilities, predicted, results = predict_fold(model, test_records)
        model_prob[repeat, test] = probabilities
        model_pred[repeat, test] = predicted
        rule_pred[repeat, test] = keyword_rule([texts[i] for i in test])
        dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(train), 1)), labels[train])
        prior_pred[repeat, test] = np.asarray(dummy.predict(np.zeros((len(test), 1))), dtype=int)
        for i, doc in zip(test, model.entity_pipeline.pipe([texts[i] for i in test])):
            found_entities[repeat][i] = {(e["start"], e["end"], e["label"]) for e in doc_entities(doc)}
        if repeat == 0:
            for i, result in zip(test, results):
                details[int(i)] = result

    per_repeat = {name: [level_metrics(labels, p[r]) for r in range(repeats)]
                  for name, p in (("model", model_pred), ("keyword_rule", rule_pred), ("prior", prior_pred))}
    headline = {}
    for name, predictions in (("model", model_pred), ("keyword_rule", rule_pred), ("prior", prior_pred)):
        headline[name] = {
            "macro_f1": bootstrap_interval(labels, predictions, macro_f1),
            "micro_f1": bootstrap_interval(labels, predictions, lambda y, p: level_metrics(y, p)["micro_f1"]),
            "subset_accuracy": bootstrap_interval(labels, predictions, lambda y, p: float(np.mean(np.all(y == p, axis=1)))),
            "hamming_loss": bootstrap_interval(labels, predictions, lambda y, p: float(np.mean(y != p))),
            "per_level_f1": {key: bootstrap_interval(labels[:, [j]], predictions[:, :, [j]], macro_f1, n=500)
                             for j, key in enumerate(LEVEL_KEYS)},
        }
    per_level_table = {
        name: {key: {metric: round(float(np.mean([m["per_level"][key][metric] for m in runs])), 4)
                     for metric in ("precision", "recall", "f1", "support")} for key in LEVEL_KEYS}
        for name, runs in per_repeat.items()
    }
    confusion = {key: {c: int(np.sum([m["per_level"][key]["confusion"][c] for m in per_repeat["model"]]))
                       for c in ("tp", "fp", "fn", "tn")} for key in LEVEL_KEYS}

    say("entities")
    entity_runs = [entity_scores(gold_entities, found_entities[r]) for r in range(repeats)]
    entities = {mode: {label: {m: interval([run[mode][label][m] for run in entity_runs]) for m in ("precision", "recall", "f1")}
                       | {"gold": entity_runs[0][mode][label]["gold"]} for label in ("CLUSTER", "PROGRAMME")}
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
        say("leave-one-out")
        loo_pred = np.zeros((n, len(LEVEL_KEYS)), dtype=int)
        for i in range(n):
            model = fit_fold([r for j, r in enumerate(records) if j != i], prototypes, hp)
            loo_pred[i] = predict_fold(model, [records[i]])[1][0]
        loo = level_metrics(labels, loo_pred)
        say(f"permutation test ({permutations} permutations)")
        permutation = permutation_test(records, prototypes, hp, stored_thresholds, permutations, n_splits, seed)
        say("learning curve")
        curve = learning_curve(records, prototypes, hp, stored_thresholds, seed=seed)

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
    return {
        "cases": n,
        "level_counts": {key: int(labels[:, j].sum()) for j, key in enumerate(LEVEL_KEYS)},
        "scheme": {"outer": f"iterative-stratified {n_splits}-fold x {repeats} repeats (seeds {seed}..{seed + repeats - 1})",
                   "inner": ("settings (C, lexicon weight, n-grams) and thresholds chosen by a 3-fold CV inside each training fold "
                             f"from a grid of {len(nested_grid)}: nested, no choice sees the held-out fold")
                   if nested_grid else "thresholds from 3-fold out-of-fold probabilities inside each training fold",
                   "hyperparameters": hp.as_dict(),
                   "settings_chosen_in_folds": _count_settings(chosen_settings),
                   "caveat": ("leave-one-out, the permutation test and the learning curve use the model's own settings "
                              "(chosen on the whole corpus): slightly optimistic")
                   if nested_grid else "hyperparameters were chosen by CV on the whole corpus at training time"},
        "cross_validation": {"headline": headline, "per_level": per_level_table, "confusion": confusion,
                             "fold_thresholds": {k: interval([t[k] for t in fold_thresholds]) for k in LEVEL_KEYS}},
        "leave_one_out": loo,
        "permutation_test": permutation,
        "learning_curve": curve,
        "entities": entities,
        "errors": errors,
        "reliability": reliability(pooled_labels, pooled_prob),
        "threshold_sweep": threshold_sweep(pooled_labels, pooled_prob, stored_thresholds),
        "case_ids": [r["id"] for r in records],
        "oof_predictions": model_pred.tolist(),
    }


def _count_settings(settings: Sequence[Hyperparameters]) -> list[dict[str, Any]]:
    counts: dict[tuple[float, float, int], int] = {}
    for hp in settings:
        key = (hp.C, hp.lexicon_weight, hp.ngram_max)
        counts[key] = counts.get(key, 0) + 1
    return [{"C": c, "lexicon_weight": w, "ngram_max": n, "folds": k} for (c, w, n), k in sorted(counts.items(), key=lambda x: -x[1])]


# A smaller grid than training's, so that nested selection fits the evaluation's time budget.
NESTED_GRID = [
    Hyperparameters(C=c, lexicon_weight=w, ngram_max=n) for c in (0.3, 1.0, 3.0) for w in (1.0, 10.0) for n in (1, 2)
]


def permutation_test(records: Sequence[dict[str, Any]], prototypes: dict[str, list[str]], hp: Hyperparameters,
                     thresholds: dict[str, float], permutations: int, n_splits: int, seed: int) -> dict[str, Any]:
    """Does the model beat chance? Shuffle whole label rows across cases (keeping each case's
    multi-label structure), rerun one CV, compare macro-F1. Thresholds fixed to the stored
    ones so each permutation costs one fit per fold."""
    labels = label_matrix(records)
    texts = [r["text"] for r in records]

    def cv_score(y: np.ndarray, shuffle_seed: int) -> float:
        predicted = np.zeros_like(y)
        for _, train, test in repeated_multilabel_folds(y, n_splits, 1, shuffle_seed):
            model = LevelClassifier(hp, thresholds=dict(thresholds)).fit([texts[i] for i in train], y[train], prototypes)
            model.gate = fit_gate(model, [texts[i] for i in train], y[train])
            results = model.classify([texts[i] for i in test])
            predicted[test] = predicted_matrix(results)
        return macro_f1(y, predicted)

    observed = cv_score(labels, seed)
    if permutations == 0:
        return {"observed_macro_f1": round(observed, 4), "permutations": 0, "null_mean": float("nan"),
                "null_95th": float("nan"), "p_value": float("nan"), "null": []}
    rng = np.random.default_rng(seed)
    null = [cv_score(labels[rng.permutation(len(labels))], seed) for _ in range(permutations)]
    p_value = (1 + sum(score >= observed for score in null)) / (1 + permutations)
    return {"observed_macro_f1": round(observed, 4), "permutations": permutations,
            "null_mean": round(float(np.mean(null)), 4), "null_95th": round(float(np.percentile(null, 95)), 4),
            "p_value": round(float(p_value), 4), "null": [round(x, 4) for x in null]}


def learning_curve(records: Sequence[dict[str, Any]], prototypes: dict[str, list[str]], hp: Hyperparameters,
                   thresholds: dict[str, float], sizes: Sequence[int] = (8, 12, 16, 20), repeats: int = 5,
                   seed: int = 0) -> list[dict[str, Any]]:
    """Macro-F1 on held-out folds against the number of training cases (subsampled from the
    training fold, keeping at least one case of each level)."""
    labels = label_matrix(records)
    texts = [r["text"] for r in records]
    rng = np.random.default_rng(seed)
    points = []
    for size in sizes:
        scores = []
        for _, train, test in repeated_multilabel_folds(labels, 4, repeats, seed):
            if size > len(train):
                continue
            for _ in range(50):  # draw until every level has a positive
                chosen = rng.choice(train, size=size, replace=False)
                if labels[chosen].sum(axis=0).min() > 0:
                    break
            model = LevelClassifier(hp, thresholds=dict(thresholds)).fit([texts[i] for i in chosen], labels[chosen], prototypes)
            model.gate = fit_gate(model, [texts[i] for i in chosen], labels[chosen])
            results = model.classify([texts[i] for i in test])
            predicted = predicted_matrix(results)
            scores.append(macro_f1(labels[test], predicted))
        points.append({"train_cases": size, "macro_f1": interval(scores), "std": round(float(np.std(scores)), 4)})
    return points


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = 5) -> dict[str, list[dict[str, float]]]:
    """Per level: mean predicted probability vs observed frequency, in equal-width bins."""
    edges = np.linspace(0, 1, bins + 1)
    out = {}
    for j, key in enumerate(LEVEL_KEYS):
        rows = []
        for lo, hi in zip(edges, edges[1:]):
            mask = (probabilities[:, j] >= lo) & ((probabilities[:, j] < hi) | (hi == 1.0))
            if mask.any():
                rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "mean_probability": round(float(probabilities[mask, j].mean()), 4),
                             "observed": round(float(labels[mask, j].mean()), 4), "count": int(mask.sum())})
        out[key] = rows
    return out


def threshold_sweep(labels: np.ndarray, probabilities: np.ndarray, stored: dict[str, float]) -> dict[str, Any]:
    """Per level, precision / recall / coverage (share labelled) at each threshold."""
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    out: dict[str, Any] = {"stored": stored, "levels": {}}
    for j, key in enumerate(LEVEL_KEYS):
        rows = []
        for t in grid:
            predicted = probabilities[:, j] >= t
            tp = int(np.sum(predicted & (labels[:, j] == 1)))
            rows.append({"threshold": float(t), "coverage": round(float(predicted.mean()), 4),
                         "precision": round(tp / predicted.sum(), 4) if predicted.sum() else None,
                         "recall": round(tp / max(labels[:, j].sum(), 1), 4)})
        out["levels"][key] = rows
    return out


# ============================================================================ external sets and the whole run


def external_checks(bundle: Any) -> dict[str, Any]:
    """Abstention on ERC/MSCA abstracts and the level distribution over ERDF/ESF operations."""
    from csvnlp.external_sets import basic_research_abstracts, funding_database_sample

    out: dict[str, Any] = {}
    abstracts = basic_research_abstracts()
    if abstracts:
        results = bundle.classifier.classify(abstracts["texts"])
        labelled: dict[str, int] = {}
        for result in results:
            for key in result["predicted"]:
                labelled[key] = labelled.get(key, 0) + 1
        out["abstention"] = {"source": abstracts["source"], "selection": abstracts["selection"], "texts": len(results),
                             "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                             "labelled_levels": labelled}
    sample = funding_database_sample()
    if sample:
        results = bundle.classifier.classify(sample["texts"])
        out["stability"] = {"source": sample["source"], "files": sample["files"], "texts": len(results),
                            "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                            "level_share": {key: round(float(np.mean([key in r["predicted"] for r in results])), 4) for key in LEVEL_KEYS}}
    return out


def evaluate_test_set(bundle: Any, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shipped model, as it is, on a labelled file in the corpus format."""
    labels = label_matrix(records)
    results = bundle.classifier.classify([r["text"] for r in records])
    predicted = predicted_matrix(results)
    metrics = level_metrics(labels, predicted)
    metrics["cases"] = len(records)
    metrics["uncertain_share"] = float(np.mean([r["status"] == "uncertain" for r in results]))
    return metrics


def evaluate_model(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    bundle: Any,
    test_sets: dict[str, Sequence[dict[str, Any]]] | None = None,
    repeats: int = 10,
    permutations: int = 100,
    external: bool = True,
    progress: Callable[[str], None] | None = None,
    nested: bool = True,
) -> dict[str, Any]:
    meta = bundle.meta
    hp = Hyperparameters(**meta["hyperparameters"])
    evaluation = evaluate_corpus(records, prototypes, hp, meta["thresholds"], repeats=repeats,
                                 permutations=permutations, progress=progress,
                                 nested_grid=NESTED_GRID if nested else None)
    evaluation["model"] = {"name": meta.get("name"), "path": str(bundle.path), "trained_at": meta.get("trained_at"),
                           "thresholds": meta["thresholds"], "corpus_sha256": meta["corpus"]["sha256"]}
    if external:
        if progress:
            progress("external checks")
        evaluation["external"] = external_checks(bundle)
    evaluation["test_sets"] = {name: evaluate_test_set(bundle, recs) for name, recs in (test_sets or {}).items()}
    return evaluation


def compare_models(
    bundles: Sequence[Any],
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    test_sets: dict[str, Sequence[dict[str, Any]]] | None = None,
    repeats: int = 5,
    external: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate two bundles' settings on the same folds and sets; deltas are B minus A, with a
    paired bootstrap interval for macro-F1 (the same resampled cases for both)."""
    runs = []
    for bundle in bundles:
        hp = Hyperparameters(**bundle.meta["hyperparameters"])
        runs.append(evaluate_corpus(records, prototypes, hp, bundle.meta["thresholds"], repeats=repeats,
                                    permutations=0, seed=seed, extras=False))
    labels = label_matrix(records)
    a, b = (np.array(run["oof_predictions"]) for run in runs)
    rng = np.random.default_rng(seed)
    deltas = []
    for _ in range(1000):
        idx = rng.integers(0, len(labels), len(labels))
        deltas.append(np.mean([macro_f1(labels[idx], p[idx]) for p in b]) - np.mean([macro_f1(labels[idx], p[idx]) for p in a]))
    point = float(np.mean([macro_f1(labels, p) for p in b]) - np.mean([macro_f1(labels, p) for p in a]))
    result: dict[str, Any] = {
        "models": [{"path": str(bundle.path), "name": bundle.meta.get("name"), "cases": bundle.meta["corpus"]["cases"]} for bundle in bundles],
        "cases": len(records),
        "macro_f1": [run["cross_validation"]["headline"]["model"]["macro_f1"] for run in runs],
        "macro_f1_delta": {"mean": round(point, 4), "low": round(float(np.percentile(deltas, 2.5)), 4),
                           "high": round(float(np.percentile(deltas, 97.5)), 4)},
        "per_level_f1": [{k: v["f1"] for k, v in run["cross_validation"]["per_level"]["model"].items()} for run in runs],
    }
    if external:
        checks = [external_checks(bundle) for bundle in bundles]
        if all("abstention" in c for c in checks):
            result["abstention_uncertain_share"] = [c["abstention"]["uncertain_share"] for c in checks]
    result["test_sets"] = {name: [evaluate_test_set(bundle, recs)["macro_f1"] for bundle in bundles]
                           for name, recs in (test_sets or {}).items()}
    return result
