"""A reviewer's decisions on a served table, written where ``csvnlp train`` learns from them.

Each decision is appended, flushed and fsynced, to ``CORPUS/review/<dataset>.decisions.jsonl``
in the format ``csvnlp annotate`` writes (``{"id", "text", "levels", "action": "label"}``, an
undo is ``{"action": "undo"}``), with the record's source file and row key, the model's
prediction, the reviewer and the time. After each decision the standing decisions are written
(atomically) as corpus records to ``CORPUS/extra/review-<dataset>.jsonl``, which ``train``,
``evaluate`` and ``corpus validate`` read like any other annotation file. The log can also be
imported by hand: ``csvnlp corpus import CORPUS/review/<dataset>.decisions.jsonl``.

A decision is refused, and nothing is written, when its text is in the frozen test splits
(training on it would leak the test set) or elsewhere in the corpus with other levels (a
conflict to settle in that file). The same text with the same levels is logged but left out of
the corpus file, as ``corpus import`` leaves duplicates out.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csvnlp.annotation import DecisionLog
from csvnlp.corpus import EXTRA_DIR, iter_corpus_files, read_records, text_fingerprint, validate_records
from csvnlp.errors import CorpusError
from csvnlp.levels import LEVEL_KEYS

REVIEW_DIR = "review"
FROZEN_DIRS = ("external_test", "entity_test")  # never trained on: a review must not add their texts
CONFIDENCES = ("clear", "borderline")


class ReviewConflict(CorpusError):
    """The decision cannot go into the corpus (nothing was written)."""


@dataclass
class Outcome:
    record_id: str
    levels: list[str]
    note: str  # what happened, for the page


class ReviewStore:
    def __init__(self, corpus_dir: Path, slug: str, source_file: str):
        self.corpus_dir, self.slug, self.source_file = corpus_dir, slug, source_file
        self.log_path = corpus_dir / REVIEW_DIR / f"{slug}.decisions.jsonl"
        self.corpus_file = corpus_dir / EXTRA_DIR / f"review-{slug}.jsonl"
        self._lock = threading.Lock()
        self._known: tuple[Any, dict[str, tuple[str, list[str]]]] | None = None
        self._known_texts: list[tuple[str, str]] = []

    def record_id(self, row_id: str) -> str:
        return f"serve-{self.slug}-{row_id}"

    def standing(self) -> dict[str, dict[str, Any]]:
        """Standing decisions by the served table's row id."""
        from csvnlp.corpus_import import resolve_decisions
        from csvnlp.journal import read_entries

        return {d["row_key"]["value"]: d for d in resolve_decisions(read_entries(self.log_path)).values() if "row_key" in d}

    def decide(self, row_id: str, text: str, levels: list[str], confidence: str, reviewer: str,
               model_predicted: list[str]) -> Outcome:
        unknown = [level for level in levels if level not in LEVEL_KEYS]
        if unknown or len(set(levels)) != len(levels):
            raise ReviewConflict(f"unknown or repeated level(s) {', '.join(unknown) or ', '.join(levels)}; use {', '.join(LEVEL_KEYS)}")
        if confidence not in CONFIDENCES:
            raise ReviewConflict(f"confidence must be one of {', '.join(CONFIDENCES)}")
        levels = [key for key in LEVEL_KEYS if key in levels]
        record_id = self.record_id(row_id)
        entry = {
            "id": record_id, "text": text, "levels": levels, "action": "label",
            "confidence": confidence, "source_file": self.source_file,
            "row_key": {"column": "id", "value": row_id}, "model_predicted": list(model_predicted),
            "reviewer": reviewer, "decided_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        problems = validate_records([{**entry, "_line": 1}])
        if problems:
            raise ReviewConflict(f"this decision is not a valid corpus record: {problems[0].message}")
        with self._lock:
            known = self._corpus_texts().get(text_fingerprint(text))
            note = "saved"
            if known is not None:
                where, known_levels = known
                if where.startswith(FROZEN_DIRS):
                    raise ReviewConflict(f"this text is in the frozen test split ({where}); it is kept out of training, so a "
                                         "decision on it is not saved")
                if known_levels != sorted(levels):
                    raise ReviewConflict(f"this text is already in the corpus ({where}) with levels {known_levels or ['none']}; "
                                         "settle it in that file (nothing was saved)")
                note = f"logged; the same text is already in the corpus with these levels ({where}), so it is not added twice"
            log = DecisionLog(self.log_path)
            try:
                log.append(entry)
            finally:
                log.close()
            self._write_corpus_file()
        return Outcome(record_id, levels, note)

    def undo(self) -> str | None:
        """Take back the latest standing decision (as ``annotate``'s u key); its id, or None."""
        with self._lock:
            log = DecisionLog(self.log_path)
            try:
                standing = log.standing()
                if not standing:
                    return None
                latest = [a for a in log.actions if a.get("action") == "label" and a.get("id") in standing][-1]
                log.append({"action": "undo"})
            finally:
                log.close()
            self._write_corpus_file()
            return latest["row_key"]["value"]

    # ---------------------------------------------------------------- the corpus file

    def _write_corpus_file(self) -> None:
        from csvnlp.corpus import dump_jsonl, write_text_atomically
        from csvnlp.corpus_import import resolve_decisions
        from csvnlp.journal import read_entries

        known = self._corpus_texts()
        records = []
        for decision in resolve_decisions(read_entries(self.log_path)).values():
            if text_fingerprint(decision["text"]) in known:
                continue  # a duplicate of another corpus file: left out, as corpus import does
            records.append({
                "id": decision["id"], "text": decision["text"], "levels": decision["levels"],
                "confidence": decision.get("confidence", "clear"), "source": "csvnlp serve review",
                "source_file": decision.get("source_file"), "row_key": decision.get("row_key"),
                "model_predicted": decision.get("model_predicted"), "annotator": decision.get("reviewer"),
                "decided_at": decision.get("decided_at"),
            })
        self.corpus_file.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.corpus_file, dump_jsonl(records))

    def corpus_texts(self) -> list[tuple[str, str]]:
        """(where, text) of every record of the corpus and its frozen splits, other than this
        table's own review file: what ``suggest`` checks its picks against."""
        with self._lock:
            self._corpus_texts()
            return list(self._known_texts)

    def _corpus_texts(self) -> dict[str, tuple[str, list[str]]]:
        """fingerprint -> (where, levels) over the corpus files other than ours and the
        frozen test splits; re-read only when a file changed."""
        files = [f for f in iter_corpus_files([self.corpus_dir]) if f.resolve() != self.corpus_file.resolve()] if self.corpus_dir.is_dir() else []
        for name in FROZEN_DIRS:
            folder = self.corpus_dir / name
            if folder.is_dir():
                files += sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jsonl", ".csv"))
        stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        if self._known is None or self._known[0] != stamp:
            texts: dict[str, tuple[str, list[str]]] = {}
            plain: list[tuple[str, str]] = []
            for file in files:
                where = file.relative_to(self.corpus_dir).as_posix()
                for record in read_records(file)[0]:
                    if isinstance(record.get("text"), str):
                        texts[text_fingerprint(record["text"])] = (f"{where}:{record.get('id')}", sorted(record.get("levels") or []))
                        plain.append((f"{where}:{record.get('id')}", record["text"]))
            self._known = (stamp, texts)
            self._known_texts = plain
        return self._known[1]
