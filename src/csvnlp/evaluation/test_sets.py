"""The records an evaluation scores, one name each (the CLI, metrics.json and the report use these):

- **corpus** (``--corpus``): cross-validated, the second view (by default the report's 27 cases);
- **frozen split** (``--frozen-split``, ``corpus/external_test/``): annotated real records set
  aside before any model change and scored once with the model as shipped, the headline;
- **entity split** (``--entity-split``, ``corpus/entity_test/``): names-only records scored with
  the frozen split's spans, for the entity extractor;
- **labelled test sets** (``--test-set FILE``): any labelled file in the corpus format, scored
  with the model as trained;
- the **unlabelled checks** (``unlabelled_checks``) need no records from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

FROZEN_SPLIT_DIR = "external_test"  # corpus/external_test/ (the folder keeps its name: data others read)
ENTITY_SPLIT_DIR = "entity_test"  # corpus/entity_test/

Records = list[dict[str, Any]]


@dataclass
class EvaluationRecords:
    """Every set of records one ``csvnlp evaluate`` run reads."""

    corpus: Records
    frozen_split: Records
    entity_split: Records
    training: Records
    labelled: dict[str, Records] = field(default_factory=dict)


def load_evaluation_records(corpus: Sequence[Path], frozen_split: Path, entity_split: Path, training_corpus: Path,
                            labelled: Sequence[Path] = ()) -> EvaluationRecords:
    """Read and validate them: records of ``corpus`` marked ``"split": "test"`` join the frozen
    split; the prior baseline is fitted on ``training_corpus``'s labels (else ``corpus``'s)."""
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.real_records import ENTITY_TEST_FILE, read_jsonl_records

    records, frozen = split_records(load_corpus(corpus))
    frozen = frozen + (load_corpus([frozen_split]) if frozen_split.exists() else [])
    entity_records = read_jsonl_records(entity_split / ENTITY_TEST_FILE.name if entity_split.is_dir() else entity_split)
    training = split_records(load_corpus([training_corpus]))[0] if training_corpus.exists() else records
    return EvaluationRecords(corpus=records, frozen_split=frozen, entity_split=entity_records, training=training,
                             labelled={str(path): load_corpus([path]) for path in labelled})


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
