"""Training a model bundle from a corpus: choose hyperparameters by CV, fit, write the bundle."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Callable, Sequence

from csvnlp.bundle import ModelBundle, library_versions, save_bundle
from csvnlp.classifier import Hyperparameters, LevelClassifier, label_matrix
from csvnlp.corpus import REPORT_FILE, corpus_hash
from csvnlp.entities import build_entity_pipeline, learned_patterns
from csvnlp.evaluation import HYPERPARAMETER_GRID, fit_gate, select_hyperparameters
from csvnlp.levels import DEFINITIONS, LEVEL_KEYS
from csvnlp.report_source import level_descriptions
from csvnlp.reporting import render_model_card

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


def train_bundle(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    trained_at: str | None = None,
    grid: Sequence[Hyperparameters] | None = None,
) -> ModelBundle:
    """Fit the level classifier (settings chosen by CV) and the entity pipeline on ``records``."""
    labels = label_matrix(records)
    for j, key in enumerate(LEVEL_KEYS):
        if labels[:, j].sum() < 2:
            from csvnlp.errors import CorpusError

            raise CorpusError(f"the corpus has fewer than 2 cases of level {key!r}; annotate more before training")
    selection = select_hyperparameters(records, prototypes, seed=seed, progress=progress, grid=grid or HYPERPARAMETER_GRID)
    texts = [record["text"] for record in records]
    classifier = LevelClassifier(selection.hyperparameters, thresholds=selection.thresholds)
    classifier.fit(texts, labels, prototypes)
    classifier.gate = fit_gate(classifier, texts, labels)
    entity_pipeline = build_entity_pipeline(records)
    meta = {
        "name": "csvnlp-base",
        "labels": {key: DEFINITIONS[key].name for key in LEVEL_KEYS},
        "entity_labels": ["CLUSTER", "PROGRAMME"],
        "thresholds": selection.thresholds,
        "evidence_gate": vars(classifier.gate),
        "hyperparameters": selection.hyperparameters.as_dict(),
        "versions": library_versions(),
        "corpus": {
            "sha256": corpus_hash(list(records)),
            "cases": len(records),
            "level_counts": {key: int(labels[:, j].sum()) for j, key in enumerate(LEVEL_KEYS)},
            "entity_patterns": len(learned_patterns(records)),
        },
        "trained_at": trained_at or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "cross_validation": {
            "scheme": "iterative-stratified 4-fold, 3 repeats",
            "macro_f1": selection.cv_macro_f1,
            "macro_f1_range_over_repeats": list(selection.cv_macro_f1_interval),
            "per_level_f1": selection.cv_per_level_f1,
            "keyword_rule_macro_f1": selection.keyword_rule_macro_f1,
            "note": "thresholds were chosen on these out-of-fold probabilities, so this score is "
            "slightly optimistic; `csvnlp evaluate` reports nested, unbiased figures.",
        },
        "selection_grid": selection.grid,
    }
    return ModelBundle(classifier=classifier, entity_pipeline=entity_pipeline, meta=meta)


def train_to_directory(
    records: Sequence[dict[str, Any]],
    prototypes: dict[str, list[str]],
    out: Path,
    force: bool = False,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    trained_at: str | None = None,
) -> ModelBundle:
    from csvnlp.bundle import read_meta
    from csvnlp.errors import OutputExistsError

    # checked here as well as in save_bundle, so a refusal comes before minutes of training
    if out.exists() and any(out.iterdir()) and not force:
        raise OutputExistsError(f"{out} already holds a model; pass --force to replace it, or choose another --out")
    bundle = train_bundle(records, prototypes, seed=seed, progress=progress, trained_at=trained_at)
    bundle.meta["name"] = out.name
    bundle.meta["_card"] = render_model_card(bundle.meta)
    save_bundle(bundle, out, force=force)
    bundle.meta = read_meta(out)
    return bundle
