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

and from ``corpus/real/entity_records.jsonl`` (names only, split fixed when drawn):
``corpus/entities/train.jsonl`` (read by ``train`` for the entity recognizer only) and
``corpus/entity_test/entity-test.jsonl`` (with the level test split's spans, the frozen entity
test split that ``evaluate`` scores).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REAL_RECORDS = Path("real") / "records.jsonl"
TRAIN_FILE = Path("extra") / "real-train.jsonl"
TEST_FILE = Path("external_test") / "real-test.jsonl"
# Records annotated for names only (issue 10: organisation names and texts naming clusters).
# They carry no levels, so they live apart from extra/ and external_test/, which hold level records.
ENTITY_RECORDS = Path("real") / "entity_records.jsonl"
ENTITY_TRAIN_FILE = Path("entities") / "train.jsonl"
ENTITY_TEST_FILE = Path("entity_test") / "entity-test.jsonl"
GAZETTEER_DIR = Path("gazetteers")
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


def read_jsonl_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def entity_training_records(corpus_dirs: list[Path]) -> list[dict[str, Any]]:
    """The names-only training records (``entities/*.jsonl``) of each corpus directory."""
    records = []
    for directory in corpus_dirs:
        if directory.is_dir() and (directory / ENTITY_TRAIN_FILE).parent.is_dir():
            for path in sorted((directory / ENTITY_TRAIN_FILE).parent.glob("*.jsonl")):
                records.extend(read_jsonl_records(path))
    return records


def gazetteer_entries(corpus_dirs: list[Path]) -> list[dict[str, str]]:
    """Gazetteer entries ({"label", "pattern", "source"}) of each corpus directory's gazetteers/."""
    entries = []
    for directory in corpus_dirs:
        folder = directory / GAZETTEER_DIR
        if directory.is_dir() and folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                entries.extend({k: e[k] for k in ("label", "pattern", "source")} for e in read_jsonl_records(path))
    return entries


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
    entity_records = read_jsonl_records(corpus_dir / ENTITY_RECORDS)
    for split, target in (("train", ENTITY_TRAIN_FILE), ("test", ENTITY_TEST_FILE)):
        chosen = [{k: v for k, v in r.items() if k != "split"} for r in entity_records if r["split"] == split]
        if chosen:
            (corpus_dir / target).parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(corpus_dir / target, dump_jsonl(chosen))
            counts[f"entity_{split}"] = len(chosen)
    return counts
