"""The records an evaluation scores, one name each (the CLI, metrics.json and the report use these):

- **corpus** (``--corpus``): cross-validated, the second view (by default the report's 27 cases);
- **frozen split** (``--frozen-split``, ``corpus/external_test/``): annotated real records set
  aside before any model change and scored once with the model as shipped, the headline;
- **entity split** (``--entity-split``, by default the current one, ``corpus/real/entity_fresh2_records.jsonl``):
  the entity extractor's test records; the report names the split it scored and says when that
  split is spent (``ENTITY_SPLITS``: issue 10's ``corpus/entity_test/`` and issue 17's first
  fresh split were scored already, so their figures are development figures, not a test);
- **labelled test sets** (``--test-set FILE``): any labelled file in the corpus format, scored
  with the model as trained;
- the **unlabelled checks** (``unlabelled_checks``) need no records from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

FROZEN_SPLIT_DIR = "external_test"  # corpus/external_test/ (the folder keeps its name: data others read)
ENTITY_SPLIT_DIR = "entity_test"  # corpus/entity_test/ (issue 10's entity split, spent)
CURRENT_ENTITY_SPLIT = Path("real") / "entity_fresh2_records.jsonl"  # under corpus/

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class EntitySplitInfo:
    """Which entity split an evaluation scored and what its figures are worth."""

    name: str
    path: str
    spent: bool
    note: str
    with_level_records: bool = False  # issue 10's split: the level test split's records are part of it


# Entity splits csvnlp knows, by their path under corpus/ (each scoring of one is a row in
# reports/SCORING_LEDGER.md). A spent split was scored during development: its figures may be
# shown, as development figures, never as a test.
ENTITY_SPLITS = {
    CURRENT_ENTITY_SPLIT.as_posix(): EntitySplitInfo(
        "the second fresh entity test split (issue 17)", CURRENT_ENTITY_SPLIT.as_posix(), False,
        "the current entity test split: drawn by pipeline/sample_entity_fresh2.py and committed before any change "
        "of rules or registry, annotated under guideline real-2.1 (blind second pass on 100), scored once with the "
        "shipped model (reports/SCORING_LEDGER.md); its records marked split 'test' are scored (the 12 that "
        "development had read are left out of the headline)"),
    "real/entity_fresh_records.jsonl": EntitySplitInfo(
        "the first fresh entity split (issue 17)", "real/entity_fresh_records.jsonl", True,
        "SPENT: scored once at ea6e2ed and used since as development data (error analysis, rule and registry work); "
        "these figures are development figures, not a test"),
    ENTITY_SPLIT_DIR: EntitySplitInfo(
        "issue 10's entity split", ENTITY_SPLIT_DIR, True,
        "SPENT: scored three times during issue 10's development and its errors were printed in a committed report; "
        "these figures are development figures, not a test", with_level_records=True),
}


def entity_split_info(path: Path) -> EntitySplitInfo:
    """What csvnlp knows about the entity split at ``path`` (a user's own file: not known, not spent)."""
    parts = Path(path).as_posix().split("/")
    for key, info in ENTITY_SPLITS.items():
        key_parts = key.split("/")
        if parts[-len(key_parts):] == key_parts or (key == ENTITY_SPLIT_DIR and parts[-2:] == [ENTITY_SPLIT_DIR, "entity-test.jsonl"]):
            return info
    return EntitySplitInfo(f"the entity records in {path}", str(path), False, "a split csvnlp does not know: its status is the user's to judge")


def read_entity_split(path: Path) -> tuple[EntitySplitInfo, Records]:
    """The split's description and its test records (records marked with another split, such as
    development records or records development has read, are left out; a file not annotated
    yet gives no records)."""
    from csvnlp.real_records import ENTITY_TEST_FILE, read_jsonl_records

    info = entity_split_info(path)
    target = path / ENTITY_TEST_FILE.name if path.is_dir() else path
    records = read_jsonl_records(target) if target.exists() else []
    return info, [r for r in records if r.get("split", "test") == "test"]


@dataclass
class EvaluationRecords:
    """Every set of records one ``csvnlp evaluate`` run reads."""

    corpus: Records
    frozen_split: Records
    entity_split: Records
    training: Records
    labelled: dict[str, Records] = field(default_factory=dict)
    entity_split_info: EntitySplitInfo | None = None


def load_evaluation_records(corpus: Sequence[Path], frozen_split: Path, entity_split: Path, training_corpus: Path,
                            labelled: Sequence[Path] = ()) -> EvaluationRecords:
    """Read and validate them: records of ``corpus`` marked ``"split": "test"`` join the frozen
    split; the prior baseline is fitted on ``training_corpus``'s labels (else ``corpus``'s)."""
    from csvnlp.corpus import load_corpus, split_records

    records, frozen = split_records(load_corpus(corpus))
    frozen = frozen + (load_corpus([frozen_split]) if frozen_split.exists() else [])
    info, entity_records = read_entity_split(entity_split)
    training = split_records(load_corpus([training_corpus]))[0] if training_corpus.exists() else records
    return EvaluationRecords(corpus=records, frozen_split=frozen, entity_split=entity_records, training=training,
                             labelled={str(path): load_corpus([path]) for path in labelled}, entity_split_info=info)


@dataclass(frozen=True)
class LabelledSetResult:
    """The model as trained on one labelled test set: ``sklearn.metrics`` figures and the share ``uncertain``."""

    cases: int
    per_level: dict[str, dict[str, Any]]
    macro_f1: float
    micro_f1: float
    subset_accuracy: float
    hamming_loss: float
    uncertain_share: float


def score_labelled_set(bundle: Any, records: Sequence[dict[str, Any]]) -> LabelledSetResult:
    """The model as it is (its trained weights) on a labelled file in the corpus format."""
    import numpy as np

    from csvnlp.levels import level_matrix
    from csvnlp.metrics import level_metrics

    predicted = bundle.level_model.predict([r["text"] for r in records])
    metrics = level_metrics(level_matrix(r["levels"] for r in records), predicted)
    return LabelledSetResult(cases=len(records), uncertain_share=float(np.mean(predicted.sum(axis=1) == 0)), **metrics)
