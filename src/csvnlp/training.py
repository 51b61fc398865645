"""Training a model bundle from a corpus: choose hyperparameters by CV, fit, write the bundle."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from csvnlp.corpus import REPORT_FILE, corpus_hash
from csvnlp.entities import learned_patterns, train_entity_pipeline
from csvnlp.errors import CorpusError, OutputExistsError
from csvnlp.levels import DEFINITIONS, ENTITY_LABELS, LEVEL_KEYS
from csvnlp.model import LevelModel, label_matrix
from csvnlp.source_families import source_family
from csvnlp.persistence import library_versions, read_meta, save_bundle
from csvnlp.predict import ModelBundle
from csvnlp.report_source import level_descriptions
from csvnlp.model_card import render_model_card

DEFAULT_SEED = 13


def report_prototypes(corpus_dir: Path) -> dict[str, list[str]]:
    """The report's own descriptions of each level, read from ``corpus/source``."""
    path = corpus_dir / REPORT_FILE
    if not path.exists():
        return {}
    return level_descriptions(path.read_text(encoding="utf-8"))


def prototypes_for(corpus_paths: Sequence[Path]) -> dict[str, list[str]]:
    """Level descriptions from the report of the first corpus directory given (else ./corpus)."""
    directories = [p for p in corpus_paths if p.is_dir()]
    return report_prototypes(directories[0] if directories else Path("corpus"))


def fit_level_model(
    texts: Sequence[str], labels: Any, families: Sequence[str], prototypes: dict[str, list[str]], seed: int = DEFAULT_SEED,
    n_jobs: int | None = None, grid: Sequence[dict[str, Any]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LevelModel:
    """The training recipe of the level model (issue 18): settings, level thresholds and the
    relevance threshold chosen on out-of-source folds (``GroupKFold`` over ``families``, each
    text's source family) and stratified folds pooled, then one fit (``transfer.fit_transfer_model``).
    Chosen because it held out better on leave-one-source-out evaluation without losing on known
    sources. A corpus with fewer than three families or no records labelled none (the 27 report
    cases alone) keeps the stratified selection, which is all such a corpus allows. The
    inner-CV summary is ``cv_summary_`` (macro-F1, its range, per-level F1), the grid's scores
    ``selection_grid_`` and the scheme ``selection_scheme_``."""
    import numpy as np

    from csvnlp.transfer import TRANSFER_GRID, TransferOptions, fit_transfer_model, stratified_selection

    labels = np.asarray(labels, dtype=int)
    if len(set(families)) < 3 or labels.any(axis=1).all():
        return stratified_selection(list(texts), labels, list(families), prototypes, seed, n_jobs, grid=grid, progress=progress)
    options = TransferOptions(both=True, grid=list(grid or TRANSFER_GRID))
    return fit_transfer_model(texts, labels, families, prototypes, seed, options)


def train_bundle(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    trained_at: str | None = None,
    grid: Sequence[dict[str, Any]] | None = None,
    n_jobs: int | None = None,
    entity_records: Sequence[dict[str, Any]] = (),
    gazetteer: Sequence[dict[str, str]] = (),
    recognizer: bool = True,
) -> ModelBundle:
    """Fit the level model (settings and thresholds chosen by CV) on ``records``, and the entity
    pipeline on ``records`` plus ``entity_records`` (records annotated for names only) and the
    ``gazetteer`` entries; ``recognizer=False`` keeps entities to rules and learned phrases."""
    from csvnlp.baselines import keyword_rule
    from csvnlp.metrics import macro_f1

    labels = label_matrix(records)
    for j, key in enumerate(LEVEL_KEYS):
        if labels[:, j].sum() < 2:
            raise CorpusError(f"the corpus has fewer than 2 cases of level {key!r}; annotate more before training")
    texts = [record["text"] for record in records]
    level_model = fit_level_model(texts, labels, [source_family(r) for r in records], prototypes, seed, n_jobs,
                                  grid=grid, progress=progress)
    cv_macro_f1, cv_range, cv_per_level = level_model.cv_summary_
    entity_training = list(records) + list(entity_records)
    if recognizer:
        entity_pipeline, entity_info = train_entity_pipeline(entity_training, seed=seed, gazetteer=gazetteer)
    else:
        from csvnlp.entities import build_entity_pipeline

        entity_pipeline = build_entity_pipeline(entity_training, gazetteer)
        entity_info = {"policy": {"CLUSTER": "rules", "PROGRAMME": "rules"}, "recognizer": False}
    thresholds = {key: float(t) for key, t in zip(LEVEL_KEYS, level_model.thresholds_)}
    meta = {
        "name": "csvnlp-base",
        "labels": {key: DEFINITIONS[key].name for key in LEVEL_KEYS},
        "entity_labels": list(ENTITY_LABELS),
        "thresholds": thresholds,
        "relevance": {"threshold": level_model.relevance_threshold_,
                      "learned": bool(level_model.relevance_threshold_ > 0),
                      "negatives": int((labels.sum(axis=1) == 0).sum())},
        "hyperparameters": level_model.settings(),
        "versions": library_versions(),
        "corpus": {
            "sha256": corpus_hash(list(records)),
            "cases": len(records),
            "level_counts": {key: int(labels[:, j].sum()) for j, key in enumerate(LEVEL_KEYS)},
            "entity_patterns": len(learned_patterns(entity_training)),
            "entity_records": len(entity_records),
            "gazetteer_entries": len(gazetteer),
        },
        "entities": entity_info,
        "trained_at": trained_at or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "cross_validation": {
            "scheme": level_model.selection_scheme_,
            "macro_f1": cv_macro_f1,
            "macro_f1_range_over_repeats": list(cv_range),
            "per_level_f1": cv_per_level,
            "keyword_rule_macro_f1": round(macro_f1(labels, keyword_rule(texts)), 4),
            "note": "thresholds were chosen on these out-of-fold probabilities, so this score is "
            "slightly optimistic; `csvnlp evaluate` reports nested, unbiased figures.",
        },
        "selection_grid": level_model.selection_grid_,
    }
    return ModelBundle(level_model=level_model, entity_pipeline=entity_pipeline, meta=meta)


def train_to_directory(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    out: Path,
    force: bool = False,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    trained_at: str | None = None,
    n_jobs: int | None = None,
    entity_records: Sequence[dict[str, Any]] = (),
    gazetteer: Sequence[dict[str, str]] = (),
    recognizer: bool = True,
) -> ModelBundle:
    # checked here as well as in save_bundle, so a refusal comes before minutes of training
    if out.exists() and any(out.iterdir()) and not force:
        raise OutputExistsError(f"{out} already holds a model; pass --force to replace it, or choose another --out")
    bundle = train_bundle(records, prototypes, seed=seed, progress=progress, trained_at=trained_at, n_jobs=n_jobs,
                          entity_records=entity_records, gazetteer=gazetteer, recognizer=recognizer)
    bundle.meta["name"] = out.name
    bundle.meta["_card"] = render_model_card(bundle.meta)
    save_bundle(bundle, out, force=force)
    bundle.meta = read_meta(out)
    return bundle


@dataclass
class TrainingRun:
    """What ``train_from_corpus`` made: the written bundle and how many test-split records it left out."""

    bundle: ModelBundle
    out: Path
    held_out: int

    def summary(self) -> dict[str, Any]:
        meta = self.bundle.meta
        return {
            "model": str(self.out),
            "cases": meta["corpus"]["cases"],
            "test_split_left_out": self.held_out,
            "level_counts": meta["corpus"]["level_counts"],
            "hyperparameters": meta["hyperparameters"],
            "thresholds": meta["thresholds"],
            "cv_macro_f1": meta["cross_validation"]["macro_f1"],
            "cv_per_level_f1": meta["cross_validation"]["per_level_f1"],
            "keyword_rule_macro_f1": meta["cross_validation"]["keyword_rule_macro_f1"],
            "entities": meta.get("entities"),
        }


def train_from_corpus(
    corpus_paths: Sequence[Path],
    out: Path,
    force: bool = False,
    seed: int = DEFAULT_SEED,
    n_jobs: int | None = None,
    recognizer: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> TrainingRun:
    """Train on the corpus at ``corpus_paths`` (records marked ``"split": "test"`` left out), the
    names-only entity records and the gazetteers found beside it; write the bundle to ``out``."""
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.real_records import entity_training_records, gazetteer_entries

    records, held_out = split_records(load_corpus(corpus_paths))
    bundle = train_to_directory(
        records, prototypes_for(corpus_paths), out, force=force, seed=seed, n_jobs=n_jobs,
        entity_records=entity_training_records(corpus_paths), gazetteer=gazetteer_entries(corpus_paths),
        recognizer=recognizer, progress=progress,
    )
    return TrainingRun(bundle, out, len(held_out))
