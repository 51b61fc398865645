"""Adding annotations to a corpus: an analyst's CSV/JSONL or an ``annotate`` decisions log,
validated like ``corpus validate``, with duplicates of the corpus left out and conflicts refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from csvnlp.corpus import (
    EXTRA_DIR,
    TORN_LINE,
    Problem,
    read_records,
    validate_records,
    iter_corpus_files,
    text_fingerprint,
    dump_jsonl,
    write_text_atomically,
    _newlines_in,
)
from csvnlp.errors import InputError


@dataclass
class ImportReport:
    source: Path
    target: Path | None
    imported: int
    problems: list[Problem]
    duplicates: list[str]  # "line N: same text as ... (same levels): left out"
    conflicts: list[str]  # "line N: same text as ..., levels differ": blocks the import


def resolve_decisions(actions: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """id -> its standing decision in an annotation decisions log. An undo takes back the
    latest decision still standing and restores what stood for that id before it (a relabel
    then undo keeps the first label)."""
    standing: dict[str, dict[str, Any]] = {}
    history: list[tuple[str, dict[str, Any] | None]] = []
    for action in actions:
        if action.get("action") == "undo":
            if history:
                record_id, previous = history.pop()
                if previous is None:
                    standing.pop(record_id, None)
                else:
                    standing[record_id] = previous
        elif action.get("action") == "label" and "id" in action:
            history.append((action["id"], standing.get(action["id"])))
            standing[action["id"]] = action
    return standing


def _mapped_records(path: Path, id_column: str, text_column: str, levels_column: str, levels_sep: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Records from an analyst's CSV/JSONL (columns mapped) or from an annotation decisions log."""
    mapped_csv = path.suffix.lower() == ".csv" and (id_column, text_column, levels_column) != ("id", "text", "levels")
    raw, problems = read_records(path) if not mapped_csv else ([], [])
    if raw and all("action" in r for r in raw):  # a decisions log from `csvnlp annotate`
        # its torn last line is a decision whose write never finished: annotate asks it again
        problems = [p for p in problems if p.message != TORN_LINE]
        standing = resolve_decisions(raw)
        lines = {r.get("id"): r["_line"] for r in raw if r.get("action") == "label"}
        return [{"id": d["id"], "text": d["text"], "levels": d["levels"], "_line": lines.get(d["id"], 0)} for d in standing.values()], problems
    if mapped_csv:
        try:
            content = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path} as UTF-8 text ({exc})") from None
        reader = csv.DictReader(io.StringIO(content, newline=""))
        missing = [c for c in (id_column, text_column, levels_column) if c not in (reader.fieldnames or [])]
        if missing:
            return [], [Problem(1, f"missing column(s) {', '.join(missing)}; the file has {', '.join(reader.fieldnames or [])}")]
        raw = []
        try:
            for row in reader:
                raw.append({"id": row[id_column], "text": row[text_column], "levels": row[levels_column] or "", "_line": reader.line_num - _newlines_in(row)})
        except csv.Error as exc:
            problems = [Problem(reader.line_num, f"malformed CSV ({exc}); nothing after this line was read")]
    records = []
    for record in raw:
        if "_error" in record:
            records.append(record)
            continue
        levels = record.get(levels_column, record.get("levels"))
        if isinstance(levels, str):
            levels = [] if levels.strip().lower() in ("", "none") else [p.strip() for p in levels.split(levels_sep) if p.strip()]
        records.append({"id": record.get(id_column, record.get("id")), "text": record.get(text_column, record.get("text")),
                        "levels": levels, "_line": record["_line"]})
    return records, problems


def import_file(
    path: Path,
    corpus_dir: Path,
    name: str | None = None,
    id_column: str = "id",
    text_column: str = "text",
    levels_column: str = "levels",
    levels_sep: str = ";",
    force: bool = False,
) -> ImportReport:
    """Validate ``path`` with the corpus rules, set aside duplicates of texts already in the
    corpus, refuse conflicts (same text, other levels), and write ``corpus/extra/<name>.jsonl``.

    Nothing is written when there is any problem or conflict (the report says what)."""
    from csvnlp.errors import OutputExistsError

    target = corpus_dir / EXTRA_DIR / f"{name or path.stem.replace('.decisions', '')}.jsonl"
    if target.exists() and not force:
        raise OutputExistsError(f"{target} exists; choose another --name or pass --force to replace it")
    records, problems = _mapped_records(path, id_column, text_column, levels_column, levels_sep)
    problems = problems + validate_records(records)
    existing: dict[str, tuple[str, list[str]]] = {}
    for file in iter_corpus_files([corpus_dir]):
        if file.resolve() == target.resolve():
            continue
        for record in read_records(file)[0]:
            if isinstance(record.get("text"), str):
                existing[text_fingerprint(record["text"])] = (f"{file.name}:{record.get('id')}", sorted(record.get("levels") or []))
    duplicates, conflicts, kept = [], [], []
    for record in records:
        text = record.get("text")
        if not isinstance(text, str) or "_error" in record:
            continue
        key = text_fingerprint(text)
        if key in existing:
            where, levels = existing[key]
            if levels == sorted(record.get("levels") or []):
                duplicates.append(f"line {record['_line']}: same text and levels as {where}; left out")
                continue
            conflicts.append(f"line {record['_line']}: same text as {where} but levels {record.get('levels')} instead of {levels}")
            continue
        kept.append({k: v for k, v in record.items() if not k.startswith("_")})
    report = ImportReport(path, None, 0, sorted(problems, key=lambda p: p.line), duplicates, conflicts)
    if report.problems or report.conflicts or not kept:
        return report
    write_text_atomically(target, dump_jsonl(kept))
    report.target, report.imported = target, len(kept)
    return report
