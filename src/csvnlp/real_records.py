"""Annotated real funding records: the training part and the frozen external test split.

``corpus/real/records.jsonl`` holds every real record annotated under
``corpus/LABELLING_GUIDELINE.md`` (CORDIS objectives, ERDF/ESF operations, call topics), each
with the split it was given once, by a seeded stratified rule, before any model was changed
(``pipeline/assemble_real_records.py``). From it, ``corpus build`` writes:

- ``corpus/extra/real-train.jsonl``: the training part, read by ``train`` like any analyst's
  additions;
- ``corpus/external_test/real-test.jsonl``: the frozen test split. It sits outside
  ``corpus/extra/`` on purpose, so no training, selection or tuning can read it by accident;
  only ``evaluate`` (the headline) and ``compare`` read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REAL_RECORDS = Path("real") / "records.jsonl"
TRAIN_FILE = Path("extra") / "real-train.jsonl"
TEST_FILE = Path("external_test") / "real-test.jsonl"
SPLITS = ("train", "test")


def read_real_records(corpus_dir: Path) -> list[dict[str, Any]]:
    path = corpus_dir / REAL_RECORDS
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("split") not in SPLITS:
            from csvnlp.errors import CorpusError

            raise CorpusError(f"{path}: line {number}: split must be one of {SPLITS}, not {record.get('split')!r}")
        records.append(record)
    return records


def external_test_path(corpus_dir: Path) -> Path:
    """Where the frozen external test split lives (it may not exist in a user's own corpus)."""
    return corpus_dir / TEST_FILE


def build_real_splits(corpus_dir: Path) -> dict[str, int]:
    """Write the training part and the frozen test split; return the count of each."""
    from csvnlp.corpus import dump_jsonl, write_text_atomically

    records = read_real_records(corpus_dir)
    if not records:
        return {}
    counts = {}
    for split, target in (("train", TRAIN_FILE), ("test", TEST_FILE)):
        chosen = [{k: v for k, v in r.items() if k != "split"} for r in records if r["split"] == split]
        (corpus_dir / target).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(corpus_dir / target, dump_jsonl(chosen))
        counts[split] = len(chosen)
    return counts
