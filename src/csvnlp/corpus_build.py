"""``csvnlp corpus build``: the report's cases written to ``corpus/cases.jsonl``, and the real
records' training part and frozen test splits beside them (``real_records``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvnlp.corpus import CASES_FILE, build_corpus, dump_jsonl, write_text_atomically
from csvnlp.levels import LEVEL_KEYS
from csvnlp.real_records import build_real_splits


@dataclass
class CorpusBuild:
    """What ``csvnlp corpus build`` made (or, with ``check``, compared): the case records, where
    they go, whether the file there is current, and the counts of the derived real-record splits."""

    target: Path
    records: list[dict[str, Any]]
    current: bool = True
    splits: dict[str, int] = field(default_factory=dict)

    def level_counts(self) -> dict[str, int]:
        return {key: sum(key in r["levels"] for r in self.records) for key in LEVEL_KEYS}


def build_corpus_files(corpus_dir: Path, out: Path | None = None, check: bool = False) -> CorpusBuild:
    """Build the cases and write them to ``out`` (default ``CORPUS_DIR/cases.jsonl``); without
    ``out``, also the training part and frozen test splits of ``corpus/real/`` (``real_records``).
    With ``check``, write nothing and say whether the file on disk equals a fresh build."""
    target = out or corpus_dir / CASES_FILE
    records = build_corpus(corpus_dir)
    content = dump_jsonl(records)
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        return CorpusBuild(target, records, current=current == content)
    write_text_atomically(target, content)
    return CorpusBuild(target, records, splits=build_real_splits(corpus_dir) if out is None else {})
