"""One ``csvnlp evaluate`` run: the headline on the frozen split, the second view by
cross-validation, the unlabelled checks and any labelled test sets, as one typed ``Evaluation``
that the report renders and ``metrics.json`` records."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from csvnlp.evaluation.cross_validation import CrossValidationResult, evaluate_corpus
from csvnlp.evaluation.frozen_split import FrozenSplitResult, evaluate_frozen_split
from csvnlp.evaluation.test_sets import LabelledSetResult, load_evaluation_records, score_labelled_set
from csvnlp.levels import ENTITY_LABELS, level_matrix


# Held-out results of the shipped recipe, written by `python benchmarks/leave_source_out.py`; reused
# when written for the same training records (``leave_source_out_view``).
LEAVE_SOURCE_OUT_CACHE = Path("benchmarks/results/leave_source_out/both.json")


@dataclass
class Evaluation:
    """Everything one evaluation measured. ``views`` holds further typed results (each
    rendered by the report's ``view_blocks``), so a new view needs no new field here."""

    model: dict[str, Any]
    cross_validation: CrossValidationResult
    frozen_split: FrozenSplitResult | None = None
    unlabelled_checks: dict[str, Any] = field(default_factory=dict)
    test_sets: dict[str, LabelledSetResult] = field(default_factory=dict)
    views: list[Any] = field(default_factory=list)


def to_jsonable(value: Any) -> Any:
    """Typed results as plain JSON data: a dataclass becomes an object of its fields (an
    ``Interval`` is ``{"value", "low", "high"}``); the ``views`` of an ``Evaluation`` carry
    their type's name as ``"view"``."""
    if isinstance(value, Evaluation):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "views"}
        data["views"] = [{"view": type(view).__name__, **to_jsonable(view)} for view in value.views]
        return data
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()
    return value


def evaluate_model(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    bundle: Any,
    test_sets: dict[str, Sequence[dict[str, Any]]] | None = None,
    repeats: int = 10,
    permutations: int = 100,
    unlabelled: bool = True,
    progress: Callable[[str], None] | None = None,
    nested: bool = True,
    n_jobs: int | None = None,
    frozen_split: Sequence[dict[str, Any]] | None = None,
    training_records: Sequence[dict[str, Any]] | None = None,
    entity_split: Sequence[dict[str, Any]] = (),
    entity_split_info: Any = None,
    leave_source_out: bool = False,
    leave_source_out_cache: Path | None = None,
) -> Evaluation:
    """The headline first (the model as it is on the frozen split, when given), then the
    second view: cross-validation on ``records`` (the report's 27 cases by default)."""
    from csvnlp.evaluation.unlabelled_checks import unlabelled_checks

    meta = bundle.meta
    headline = None
    if frozen_split:
        if progress:
            progress(f"frozen split ({len(frozen_split)} records)")
        training_labels = level_matrix(r["levels"] for r in (training_records or records))
        headline = evaluate_frozen_split(bundle, frozen_split, training_labels, entity_split, entity_split_info)
    cross_validation = evaluate_corpus(records, prototypes, meta["hyperparameters"], meta["thresholds"], repeats=repeats,
                                       permutations=permutations, progress=progress, nested=nested, n_jobs=n_jobs)
    views: list[Any] = []
    if leave_source_out and training_records:
        from csvnlp.evaluation.leave_source_out import leave_source_out_view

        if progress:
            progress(f"leave-one-source-out over {len(training_records)} training records (the training recipe refitted per held-out family)")
        reference = headline.clear.systems["model"].macro_f1.value if headline else None
        views.append(leave_source_out_view(training_records, prototypes, seed=int(meta.get("seed", 13)), n_jobs=n_jobs,
                                           frozen_macro_f1=reference, progress=progress, cache=leave_source_out_cache))
    checks = {}
    if unlabelled:
        if progress:
            progress("unlabelled checks")
        checks = unlabelled_checks(bundle)
    return Evaluation(
        model={"name": meta.get("name"), "path": str(bundle.path), "trained_at": meta.get("trained_at"),
               "thresholds": meta["thresholds"], "corpus_sha256": meta["corpus"]["sha256"]},
        cross_validation=cross_validation,
        frozen_split=headline,
        unlabelled_checks=checks,
        test_sets={name: score_labelled_set(bundle, recs) for name, recs in (test_sets or {}).items()},
        views=views,
    )


def evaluate_to_directory(
    out: Path, corpus: Sequence[Path], frozen_split: Path, entity_split: Path, training_corpus: Path,
    model: Path | None = None, test_sets: Sequence[Path] = (), repeats: int = 10, permutations: int = 100,
    unlabelled: bool = True, nested: bool = True, update_card: bool = True, force: bool = False,
    n_jobs: int | None = None, progress: Callable[[str], None] | None = None, leave_source_out: bool = True,
) -> tuple[Evaluation, dict[str, Path]]:
    """``csvnlp evaluate``: read the records and the model, evaluate, write the report to
    ``out`` (and refresh the model card); returns the evaluation and the report's paths."""
    from csvnlp.errors import OutputExistsError
    from csvnlp.evaluation.report import write_report
    from csvnlp.persistence import load_bundle, refresh_model_card
    from csvnlp.training import prototypes_for

    if (out / "metrics.json").exists() and not force:
        raise OutputExistsError(f"{out} already holds a report; pass --force to replace it")
    sets = load_evaluation_records(corpus, frozen_split, entity_split, training_corpus, test_sets)
    bundle = load_bundle(model)
    evaluation = evaluate_model(sets.corpus, prototypes_for(corpus), bundle, sets.labelled, repeats=repeats,
                                permutations=permutations, unlabelled=unlabelled, progress=progress, nested=nested,
                                n_jobs=n_jobs, frozen_split=sets.frozen_split, training_records=sets.training,
                                entity_split=sets.entity_split, entity_split_info=sets.entity_split_info,
                                leave_source_out=leave_source_out,
                                leave_source_out_cache=LEAVE_SOURCE_OUT_CACHE if LEAVE_SOURCE_OUT_CACHE.exists() else None)
    paths = write_report(evaluation, bundle.meta, out)
    if update_card and bundle.path is not None:
        refresh_model_card(bundle, evaluation)
    return evaluation, paths


def evaluation_summary(evaluation: Evaluation, paths: dict[str, Path]) -> dict[str, Any]:
    """The headline figures of an evaluation (what ``evaluate --json`` prints)."""
    cv = evaluation.cross_validation
    frozen = evaluation.frozen_split
    abstention = evaluation.unlabelled_checks.get("abstention") or {}
    permutation = cv.permutation_test or {}
    return {
        "report": {k: str(v) for k, v in paths.items()},
        "frozen_split": None if not frozen else {
            "records": frozen.records, "clear_records": frozen.clear_records,
            "clear": {name: {"macro_f1": to_jsonable(view.macro_f1), "abstention_on_none": view.abstention_on_none.value,
                             "coverage_of_csv": view.coverage_of_csv.value,
                             "level_f1": {k: v.f1.value for k, v in view.levels.items()}}
                      for name, view in frozen.clear.systems.items()},
            "targets": to_jsonable(frozen.targets),
        },
        "macro_f1": {name: to_jsonable(scores.macro_f1) for name, scores in cv.headline.items()},
        "permutation_p_value": permutation.get("p_value"),
        "entity_exact_f1": {label: to_jsonable(cv.entities["exact"][label]["f1"]) for label in ENTITY_LABELS},
        "abstention_uncertain_share": abstention.get("uncertain_share"),
    }
