"""The evaluation protocol: cross-validation against baselines, leave-one-out, permutation
test, learning curve, calibration, entity scores, external checks and labelled test sets.

Every figure comes from a scikit-learn tool (``cross_validate``, ``cross_val_predict``,
``permutation_test_score``, ``learning_curve``, ``calibration_curve``, ``sklearn.metrics``)
run on the level estimator, so everything it learns (vocabulary, weights, thresholds,
relevance model) is fitted inside each training fold; entity patterns are fitted per fold too.
The headline also chooses the settings inside each fold (nested CV, ``TunedLevelModel``);
leave-one-out, the permutation test and the learning curve keep the model's own settings to
stay affordable, and the report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from csvnlp.baselines import keyword_rule, prior_rule
from csvnlp.levels import ENTITY_LABELS, LEVEL_KEYS
from csvnlp.metrics import bootstrap_intervals, entity_scores, interval, level_metrics, paired_bootstrap
from csvnlp.model import LevelModel, label_matrix
from csvnlp.selection import NESTED_GRID, TunedLevelModel, repeated_multilabel_folds

# Leave-one-out refits once per case: informative for the report's 27 cases, needless (and
# slow) for thousands, where k-fold already leaves little out.
LEAVE_ONE_OUT_MAX_CASES = 100
DEFAULT_TEST_SET_DIR = "external_test"  # corpus/external_test/: the frozen external test split


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
) -> dict[str, Any]:
    """Cross-validated metrics of the model and its baselines, entity scores, and (with
    ``extras``) leave-one-out, permutation test and learning curve; calibration and
    threshold-sweep data; every misclassified case of the first repeat."""
    from sklearn.model_selection import cross_validate

    from csvnlp.entities import build_entity_pipeline, doc_entities

    say = progress or (lambda message: None)
    records = list(records)
    labels = label_matrix(records)
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
        model_pred[repeat, test] = [[1 if k in r["predicted"] else 0 for k in LEVEL_KEYS] for r in results]
        rule_pred[repeat, test] = rule[test]
        prior_pred[repeat, test] = prior_rule(labels[train], len(test))
        for i, doc in zip(test, entity_pipeline.pipe([texts[i] for i in test])):
            found_entities[repeat][i] = {(e["start"], e["end"], e["label"]) for e in doc_entities(doc)}
        if repeat == 0:
            for i, result in zip(test, results):
                details[int(i)] = result

    systems = (("model", model_pred), ("keyword_rule", rule_pred), ("prior", prior_pred))
    per_repeat = {name: [level_metrics(labels, p[r]) for r in range(repeats)] for name, p in systems}
    headline = {name: bootstrap_intervals(labels, predictions) for name, predictions in systems}
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
        mode: {label: {m: interval([run[mode][label][m] for run in entity_runs]) for m in ("precision", "recall", "f1")}
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
    return {
        "cases": n,
        "level_counts": {key: int(labels[:, j].sum()) for j, key in enumerate(LEVEL_KEYS)},
        "scheme": {"outer": f"iterative-stratified {n_splits}-fold x {repeats} repeats (seeds {seed}..{seed + repeats - 1})",
                   "inner": ("settings (C, lexicon weight, n-grams) and thresholds chosen by a 3-fold CV inside each training fold "
                             f"from a grid of {len(NESTED_GRID)}: nested, no choice sees the held-out fold")
                   if nested else "thresholds from 3-fold out-of-fold probabilities inside each training fold",
                   "hyperparameters": dict(setting),
                   "settings_chosen_in_folds": _count_settings(chosen_settings),
                   "caveat": fixed_note if nested else "the settings were chosen by CV on the whole corpus at training time"},
        "cross_validation": {"headline": headline, "per_level": per_level_table, "confusion": confusion,
                             "fold_thresholds": {k: interval([t[k] for t in fold_thresholds]) for k in LEVEL_KEYS},
                             "fold_macro_f1": interval(cv["test_score"])},
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
    return [{"train_cases": int(size), "macro_f1": interval(scores), "std": round(float(np.std(scores)), 4)}
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


# ============================================================================ external sets and the whole run


def external_checks(bundle: Any) -> dict[str, Any]:
    """Abstention on ERC/MSCA abstracts, the level distribution over ERDF/ESF operations, and
    the share of each language (and of ``unsupported_language``) in the ESIF and Kohesio extracts."""
    from collections import Counter

    from csvnlp.external_sets import basic_research_abstracts, funding_database_sample, multilingual_extracts
    from csvnlp.language import model_languages, supported_check

    out: dict[str, Any] = {}
    extracts = multilingual_extracts()
    if extracts:
        supported = model_languages(bundle)
        shares = {}
        for name, texts in extracts.items():
            checks = [supported_check(text, supported) for text in texts]
            codes = Counter(guess.code for guess, _ in checks)
            shares[name] = {"texts": len(texts),
                            "unsupported_share": round(sum(not ok for _, ok in checks) / len(texts), 4),
                            "languages": {code: round(n / len(texts), 4) for code, n in codes.most_common(8)}}
        out["languages"] = {"supported": list(supported), "extracts": shares}
    abstracts = basic_research_abstracts()
    if abstracts:
        results = bundle.level_model.classify(abstracts["texts"])
        labelled: dict[str, int] = {}
        for result in results:
            for key in result["predicted"]:
                labelled[key] = labelled.get(key, 0) + 1
        out["abstention"] = {"source": abstracts["source"], "selection": abstracts["selection"], "texts": len(results),
                             "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                             "labelled_levels": labelled}
    sample = funding_database_sample()
    if sample:
        results = bundle.level_model.classify(sample["texts"])
        out["stability"] = {"source": sample["source"], "files": sample["files"], "texts": len(results),
                            "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                            "level_share": {key: round(float(np.mean([key in r["predicted"] for r in results])), 4) for key in LEVEL_KEYS}}
    return out


def evaluate_test_set(bundle: Any, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The model as it is (its trained weights) on a labelled file in the corpus format."""
    labels = label_matrix(records)
    results = bundle.level_model.classify([r["text"] for r in records])
    predicted = np.array([[1 if k in r["predicted"] else 0 for k in LEVEL_KEYS] for r in results], dtype=int).reshape(-1, len(LEVEL_KEYS))
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
    n_jobs: int | None = None,
    frozen_split: Sequence[dict[str, Any]] | None = None,
    training_records: Sequence[dict[str, Any]] | None = None,
    entity_split: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The headline first (the model as it is on the frozen external split, when given), then
    the second view: cross-validation on ``records`` (the report's 27 cases by default)."""
    meta = bundle.meta
    headline = None
    if frozen_split:
        if progress:
            progress(f"frozen external test split ({len(frozen_split)} records)")
        headline = evaluate_frozen_split(bundle, frozen_split, label_matrix(training_records or records), entity_split)
    evaluation = evaluate_corpus(records, prototypes, meta["hyperparameters"], meta["thresholds"], repeats=repeats,
                                 permutations=permutations, progress=progress, nested=nested, n_jobs=n_jobs)
    evaluation["model"] = {"name": meta.get("name"), "path": str(bundle.path), "trained_at": meta.get("trained_at"),
                           "thresholds": meta["thresholds"], "corpus_sha256": meta["corpus"]["sha256"]}
    if external:
        if progress:
            progress("external checks")
        evaluation["external"] = external_checks(bundle)
    evaluation["test_sets"] = {name: evaluate_test_set(bundle, recs) for name, recs in (test_sets or {}).items()}
    evaluation["external_test"] = headline
    return evaluation


def evaluate_frozen_split(bundle: Any, records: Sequence[dict[str, Any]], training_labels: np.ndarray,
                          entity_records: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The shipped model as it is (its trained weights) on the frozen split, beside the keyword
    rule and the prior (``DummyClassifier`` fitted on the training labels), plus the entity
    extractor on the frozen entity split (``records`` and the names-only ``entity_records``)."""

    from csvnlp.external_evaluation import evaluate_external, target_check

    texts = [r["text"] for r in records]
    results = bundle.level_model.classify(texts)
    predicted = np.array([[1 if key in r["predicted"] else 0 for key in LEVEL_KEYS] for r in results], dtype=int).reshape(-1, len(LEVEL_KEYS))
    systems = {"model": predicted, "keyword rule": keyword_rule(texts),
               "prior": prior_rule(training_labels, len(texts))}
    result = evaluate_external(records, systems)
    result["targets"] = target_check(result["views"]["clear"])
    result["entities"] = evaluate_entities(bundle, list(records) + list(entity_records))
    return result


def rules_only(nlp: Any) -> Any:
    """The same pipeline without its trained recognizer: rules, learned phrases, gazetteers."""
    from csvnlp.entities import NAMES_COMPONENT, build_entity_pipeline

    return build_entity_pipeline([], nlp.get_pipe(NAMES_COMPONENT).patterns)


def evaluate_entities(bundle: Any, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Exact and overlapping P/R/F1 per label of the shipped extractor and of its rules alone,
    overall and per source, with the shipped extractor's most frequent false hits and misses."""
    from collections import Counter

    from csvnlp.entities import NAMES_COMPONENT, extract_entities

    texts = [r["text"] for r in records]
    gold = [{(e["start"], e["end"], e["label"]) for e in r.get("entities", [])} for r in records]
    pipeline = bundle.entity_pipeline
    systems = {"model": pipeline, "rules only": rules_only(pipeline)}
    found = {name: [{(e["start"], e["end"], e["label"]) for e in spans} for spans in extract_entities(nlp, texts)]
             for name, nlp in systems.items()}
    sources = [r.get("source", "?") for r in records]
    by_source: dict[str, Any] = {}
    for source in sorted(set(sources)):
        idx = [i for i, s in enumerate(sources) if s == source]
        by_source[source] = {name: entity_scores([gold[i] for i in idx], [f[i] for i in idx])["exact"] for name, f in found.items()}
        by_source[source]["records"] = len(idx)
    model = found["model"]
    false_hits = Counter((texts[i][s:e], label) for i in range(len(texts)) for s, e, label in model[i] - gold[i])
    misses = Counter((texts[i][s:e], label) for i in range(len(texts)) for s, e, label in gold[i] - model[i])
    finder = pipeline.get_pipe(NAMES_COMPONENT)
    recognizer = "ner" in pipeline.pipe_names
    return {
        "extractor": ("trained spaCy recognizer with rules, learned phrases and gazetteers, combined per label as "
                      f"{finder.policy}" if recognizer else "rules, learned phrases and gazetteers (no trained recognizer)"),
        "records": len(records),
        **entity_scores(gold, model),
        "rules_only": entity_scores(gold, found["rules only"]),
        "exact_by_source": by_source,
        "frequent_false_hits": [{"text": t, "label": lab, "count": n} for (t, lab), n in false_hits.most_common(15)],
        "frequent_misses": [{"text": t, "label": lab, "count": n} for (t, lab), n in misses.most_common(15)],
    }


# ============================================================================ comparing two models


def compare_on_test_set(bundles: Sequence[Any], records: Sequence[dict[str, Any]], n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Both models' trained weights on the same labelled records: each model's metrics, and
    B minus A per metric with a paired bootstrap interval (the same resampled cases for both)."""
    labels = label_matrix(records)
    texts = [r["text"] for r in records]
    predictions, uncertain = [], []
    for bundle in bundles:
        results = bundle.level_model.classify(texts)
        predictions.append(np.array([[1 if k in r["predicted"] else 0 for k in LEVEL_KEYS] for r in results], dtype=int).reshape(-1, len(LEVEL_KEYS)))
        uncertain.append(round(float(np.mean([r["status"] == "uncertain" for r in results])), 4))
    return {"cases": len(records), "metrics": [level_metrics(labels, p) for p in predictions],
            "uncertain_share": uncertain, "paired": paired_bootstrap(labels, predictions[0], predictions[1], n=n, seed=seed)}


def compare_by_cv(bundles: Sequence[Any], records: Sequence[dict[str, Any]], prototypes: dict[str, list[str]],
                  repeats: int = 5, seed: int = 0, n_jobs: int | None = None) -> dict[str, Any]:
    """Refit both models' settings on the same CV folds of ``records`` (their trained weights
    are not used): whether the settings, not the trained models, differ."""
    labels = label_matrix(records)
    runs = [evaluate_corpus(records, prototypes, b.meta["hyperparameters"], b.meta["thresholds"], repeats=repeats,
                            permutations=0, seed=seed, extras=False, nested=False, n_jobs=n_jobs) for b in bundles]
    a, b = (np.array(run["oof_predictions"]) for run in runs)
    return {"cases": len(records), "repeats": repeats, "paired": paired_bootstrap(labels, a, b, seed=seed)}


def verdict(delta: dict[str, float], higher_is_better: bool = True) -> str:
    low, high = (delta["low"], delta["high"]) if higher_is_better else (-delta["high"], -delta["low"])
    if low > 0:
        return "B is better beyond the 95% interval"
    if high < 0:
        return "B is worse beyond the 95% interval"
    return "no difference beyond chance on these cases"


# ============================================================================ what the CLI calls


def evaluate_to_directory(
    out: Path, corpus: Sequence[Path], external_test: Path, entity_test: Path, training_corpus: Path,
    model: Path | None = None, test_sets: Sequence[Path] = (), repeats: int = 10, permutations: int = 100,
    external: bool = True, nested: bool = True, update_card: bool = True, force: bool = False,
    n_jobs: int | None = None, progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """``csvnlp evaluate``: load the corpus, the test sets and the model, evaluate, write the
    report to ``out`` (and refresh the model card); returns the evaluation and the report's paths."""
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.errors import OutputExistsError
    from csvnlp.persistence import load_bundle, refresh_model_card
    from csvnlp.real_records import ENTITY_TEST_FILE, read_jsonl_records
    from csvnlp.reporting import write_report
    from csvnlp.training import prototypes_for

    if (out / "metrics.json").exists() and not force:
        raise OutputExistsError(f"{out} already holds a report; pass --force to replace it")
    records, frozen = split_records(load_corpus(corpus))
    tests = {str(path): load_corpus([path]) for path in test_sets}
    frozen = frozen + (load_corpus([external_test]) if external_test.exists() else [])
    entity_split = read_jsonl_records(entity_test / ENTITY_TEST_FILE.name if entity_test.is_dir() else entity_test)
    training_records = split_records(load_corpus([training_corpus]))[0] if training_corpus.exists() else records
    bundle = load_bundle(model)
    evaluation = evaluate_model(records, prototypes_for(corpus), bundle, tests, repeats=repeats, permutations=permutations,
                                external=external, progress=progress, nested=nested, n_jobs=n_jobs, frozen_split=frozen,
                                training_records=training_records, entity_split=entity_split)
    paths = write_report(evaluation, bundle.meta, out)
    if update_card and bundle.path is not None:
        refresh_model_card(bundle, evaluation)
    return evaluation, paths


def evaluation_summary(evaluation: dict[str, Any], paths: dict[str, Path]) -> dict[str, Any]:
    """The headline figures of an evaluation (what ``evaluate --json`` prints)."""
    headline = evaluation["cross_validation"]["headline"]
    external = evaluation.get("external_test")
    return {
        "report": {k: str(v) for k, v in paths.items()},
        "external_test": None if not external else {
            "records": external["records"], "clear_records": external["clear_records"],
            "clear": {name: {"macro_f1": view["macro_f1"], "abstention_on_none": view["abstention_on_none"]["value"],
                             "coverage_of_csv": view["coverage_of_csv"]["value"],
                             "level_f1": {k: v["f1"]["value"] for k, v in view["levels"].items()}}
                      for name, view in external["views"]["clear"].items() if name in ("model", "keyword rule", "prior")},
            "targets": external["targets"],
        },
        "macro_f1": {name: headline[name]["macro_f1"] for name in ("model", "keyword_rule", "prior")},
        "permutation_p_value": (evaluation["permutation_test"] or {}).get("p_value"),
        "entity_exact_f1": {label: evaluation["entities"]["exact"][label]["f1"] for label in ENTITY_LABELS},
        "abstention_uncertain_share": (evaluation.get("external") or {}).get("abstention", {}).get("uncertain_share"),
    }


def compare_models(
    model_a: Path, model_b: Path, test_sets: Sequence[Path] = (), cv: bool = False,
    corpus: Sequence[Path] = (Path("corpus"),), repeats: int = 5, n_jobs: int | None = None,
) -> dict[str, Any]:
    """``csvnlp compare``: both trained models on the same labelled records (``test_sets``, else
    the frozen external split beside the first corpus, else records marked split=test), or with
    ``cv`` both models' settings refitted on the same folds of ``corpus``. Adds the verdict."""
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
        source = f"{repeats} x 4-fold CV of {', '.join(map(str, corpus))} (settings refitted, trained weights unused)"
    else:
        frozen_dir = (corpus[0] if corpus else Path("corpus")) / DEFAULT_TEST_SET_DIR
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
                             f"corpus's folds; there is no frozen external test split yet ({frozen_dir}/ or records marked split=test)")
        result = compare_on_test_set(bundles, records)
        source = f"{where}, trained weights as they are"
    result["models"] = [{"path": str(bundle.path), "name": bundle.meta.get("name"), "cases": bundle.meta["corpus"]["cases"]} for bundle in bundles]
    result["source"] = source
    result["verdict"] = verdict(result["paired"]["macro_f1"]["delta"])
    return result
