"""Corpus records: building them from the report, reading, validating and writing them.

A record is one JSON object per line (see DESIGN.md); only ``id``, ``text`` and ``levels`` are
required. Analysts may also keep annotations in a spreadsheet: a CSV with columns
``id,text,levels`` (levels joined by ``;``) reads into the same records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from csvnlp.errors import CorpusError, InputError
from csvnlp.inputs import MAX_TEXT_CHARS, SURROGATE
from csvnlp.levels import ENTITY_LABELS, LEVEL_KEYS
from csvnlp.report_source import (
    STATED_FIELDS,
    check_table1_against_report,
    extract_cases,
    read_table1,
)

REPORT_FILE = "source/clusters-and-shared-value-report.txt"
TABLE1_FILE = "table1.csv"
ENTITY_FILE = "entity_annotations.json"
CASES_FILE = "cases.jsonl"
EXTRA_DIR = "extra"
TORN_LINE = "incomplete last line (a write cut short by a kill?)"
# Corpus files are read whole (they are validated as a set); this bounds what that can cost.
MAX_CORPUS_BYTES = 256 << 20
# Records marked "split": "test" form the frozen external test split: never trained or tuned
# on, scored by `evaluate` and used by `compare` as the default test set.
TEST_SPLIT = "test"
# Key order of a built record, so two builds are byte-identical and diffs read well.
RECORD_KEYS = (
    "id", "title", "section", "text", "levels", "cluster_participation",
    "shared_value_intensity", "source", "funding", "best_practice", "stated", "entities",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a corpus file, at a line (1-based; CSV: the row's first line)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


# --------------------------------------------------------------------------- building


def build_corpus(corpus_dir: Path) -> list[dict[str, Any]]:
    """Build the annotated case records from the report, Table 1 and the entity names."""
    report_path = corpus_dir / REPORT_FILE
    try:
        report_text = report_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read the report at {report_path}: {exc.strerror}. Restore it from git.") from exc
    cases = extract_cases(report_text)
    try:
        table = {row.case_id: row for row in read_table1(corpus_dir / TABLE1_FILE)}
    except OSError as exc:
        raise CorpusError(f"cannot read Table 1 at {corpus_dir / TABLE1_FILE}: {exc.strerror}. Restore it from git.") from None
    except (UnicodeDecodeError, TypeError) as exc:
        raise CorpusError(f"{corpus_dir / TABLE1_FILE} is not the Table 1 transcription csvnlp expects ({exc}); restore it from git") from None
    problems = check_table1_against_report(list(table.values()), report_text)
    if problems:
        raise CorpusError("corpus/table1.csv disagrees with the report's Table 1: " + "; ".join(problems))
    try:
        names = json.loads((corpus_dir / ENTITY_FILE).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CorpusError(f"cannot read the entity names at {corpus_dir / ENTITY_FILE}: {exc.strerror}. Restore it from git.") from None
    except ValueError as exc:
        raise CorpusError(f"{corpus_dir / ENTITY_FILE} is not valid JSON ({exc}); restore it from git") from None
    missing = sorted({c.case_id for c in cases} ^ set(table))
    if missing:
        raise CorpusError(f"cases and Table 1 rows do not match one to one: {missing}")
    records = []
    for case in cases:
        row = table[case.case_id]
        text = case.prose()
        entity_names = names.get(case.case_id)
        if entity_names is None:
            raise CorpusError(f"{ENTITY_FILE} has no entry for case {case.case_id!r}")
        record = {
            "id": case.case_id,
            "title": case.title,
            "section": f"4.3.{case.number}",
            "text": text,
            "levels": row.levels,
            "cluster_participation": row.cluster_participation.lower(),
            "shared_value_intensity": row.shared_value_intensity.lower(),
            "source": row.source,
            "funding": row.public_funding or None,
            "best_practice": row.best_practice,
            "stated": {name: case.fields[name] for name in STATED_FIELDS if name in case.fields},
            "entities": annotate_names(case.case_id, text, entity_names),
        }
        records.append({key: record[key] for key in RECORD_KEYS})
    return records


def annotate_names(case_id: str, text: str, names_by_label: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Mark every whole-word occurrence of each listed name, longest first, without overlaps."""
    wanted = sorted(
        ((name, label) for label in ENTITY_LABELS for name in names_by_label.get(label, [])),
        key=lambda pair: -len(pair[0]),
    )
    taken = [False] * len(text)
    spans = []
    for name, label in wanted:
        found = False
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            start, end = match.span()
            found = True
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            spans.append({"start": start, "end": end, "label": label, "text": name})
        if not found:
            raise CorpusError(f"case {case_id!r}: the annotated name {name!r} does not occur in its text")
    return sorted(spans, key=lambda span: span["start"])


# --------------------------------------------------------------------------- writing


def dump_jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def write_text_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a corpus or a model card is shared like any
        # file the user writes, so give it the mode open() would: 0666 less the umask
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it is to set it and put it back
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- reading


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Parse a JSONL or CSV corpus file into records (with ``_line``) and parse problems."""
    try:
        if path.stat().st_size > MAX_CORPUS_BYTES:
            raise InputError(f"{path} is larger than {MAX_CORPUS_BYTES >> 20} MB, far more than an annotated corpus; is it the right file?")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}); re-save it as UTF-8.") from exc
    if path.suffix.lower() == ".csv":
        return _records_from_csv(content)
    return _records_from_jsonl(content)


def _records_from_jsonl(content: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    records, problems = [], []
    # split on "\n" only: str.splitlines() would also cut at U+2028 or U+0085, which
    # dump_jsonl (ensure_ascii=False) writes raw inside a JSON string
    lines = content.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            torn = number == len(lines)  # the last line, without its newline: a write cut short
            problems.append(Problem(number, TORN_LINE if torn else f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except ValueError as exc:  # issue 19: e.g. an integer of more than 4,300 digits
            from csvnlp.inputs import json_value_problem

            problems.append(Problem(number, f"invalid JSON ({json_value_problem(exc)})"))
            continue
        except RecursionError:
            problems.append(Problem(number, "invalid JSON: nested too deeply"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(number, "a record must be a JSON object"))
            continue
        record["_line"] = number
        records.append(record)
    return records, problems


def _records_from_csv(content: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in ("id", "text", "levels") if column not in header]
    if missing:
        return [], [Problem(1, f"missing column(s) {', '.join(missing)}; a corpus CSV needs id,text,levels")]
    records = []
    try:
        for row in reader:
            line = reader.line_num - _newlines_in(row)
            if None in row:
                records.append({"_line": line, "_error": "the row has more fields than the header"})
                continue
            levels = [level.strip() for level in (row.get("levels") or "").split(";") if level.strip()]
            record: dict[str, Any] = {k: v for k, v in row.items() if k not in ("levels",)}
            record["levels"] = levels
            record["_line"] = line
            records.append(record)
    except csv.Error as exc:  # the csv module cannot read on past this point
        return records, [Problem(reader.line_num, f"malformed CSV ({exc}); nothing after this line was read")]
    return records, []


def _newlines_in(row: dict[str, Any]) -> int:
    return sum(str(value).count("\n") for value in row.values() if value)


def iter_corpus_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their corpus files (cases.jsonl first, then extra/, sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            main = path / CASES_FILE
            if main.exists():
                files.append(main)
            extra = path / EXTRA_DIR
            if extra.is_dir():
                files.extend(sorted(p for p in extra.iterdir() if p.suffix.lower() in (".jsonl", ".csv")))
            if not main.exists() and not extra.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".csv")))
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"no corpus at {path}: give a .jsonl/.csv file or a directory such as corpus/")
    return files


def load_corpus(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Read and validate every corpus file; raise CorpusError listing the problems."""
    records: list[dict[str, Any]] = []
    seen_ids: dict[str, str] = {}
    all_problems: list[str] = []
    files = iter_corpus_files(paths)
    if not files:
        raise CorpusError("no corpus files found (expected cases.jsonl or *.jsonl/*.csv)")
    for path in files:
        file_records, problems = read_records(path)
        problems += validate_records(file_records)
        all_problems += [f"{path}: {p}" for p in problems]
        for record in file_records:
            if record.get("id") in seen_ids:
                all_problems.append(f"{path}: line {record['_line']}: id {record['id']!r} already used in {seen_ids[record['id']]}")
            seen_ids[str(record.get("id"))] = str(path)
            records.append({k: v for k, v in record.items() if not k.startswith("_")})
    if all_problems:
        shown = "\n".join(all_problems[:20])
        more = f"\n... and {len(all_problems) - 20} more" if len(all_problems) > 20 else ""
        raise CorpusError(f"the corpus has {len(all_problems)} problem(s); run `csvnlp corpus validate`:\n{shown}{more}")
    return records


def split_records(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training records, frozen test split): a record is in the test split when its
    ``split`` field is "test"; other fields an annotation carries are kept as they are."""
    test = [r for r in records if r.get("split") == TEST_SPLIT]
    return [r for r in records if r.get("split") != TEST_SPLIT], test


# --------------------------------------------------------------------------- validating


def validate_file(path: Path) -> list[Problem]:
    records, problems = read_records(path)
    return sorted(problems + validate_records(records), key=lambda p: p.line)


def validate_records(records: list[dict[str, Any]]) -> list[Problem]:
    """Check required fields, level keys, entity spans, unique ids and unique texts."""
    from csvnlp.entities import blank_pipeline

    tokenizer = None
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    texts: dict[str, int] = {}
    for record in records:
        line = record.get("_line", 0)
        if "_error" in record:
            problems.append(Problem(line, record["_error"]))
            continue
        record_id = record.get("id")
        if record_id is None or (isinstance(record_id, str) and not record_id.strip()):
            problems.append(Problem(line, "missing id"))
        elif not isinstance(record_id, str):
            problems.append(Problem(line, f"id must be a string, not {type(record_id).__name__}"))
        elif record_id in ids:
            problems.append(Problem(line, f"duplicate id {record_id!r} (first on line {ids[record_id]})"))
        else:
            ids[record_id] = line
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(line, "missing text" if text in (None, "") else "text must be non-empty text"))
            text = None
        elif len(text) > MAX_TEXT_CHARS:
            problems.append(Problem(line, f"text of {len(text):,} characters is longer than {MAX_TEXT_CHARS:,} (classify and tag refuse it too)"))
            text = None
        elif SURROGATE.search(text) or (isinstance(record_id, str) and SURROGATE.search(record_id)):  # issue 19
            problems.append(Problem(line, "a lone surrogate (a character cut in half, e.g. an emoji split by an exporter) "
                                          "in its text or id; classify and tag refuse it too"))
            text = None
        else:
            key = text_fingerprint(text)
            if key in texts:
                problems.append(Problem(line, f"duplicate text (same as line {texts[key]})"))
            else:
                texts[key] = line
        levels = record.get("levels")
        if not isinstance(levels, list):
            problems.append(Problem(line, "levels must be a list of level keys"))
        else:
            for level in levels:
                if level not in LEVEL_KEYS:
                    problems.append(Problem(line, f"unknown level key {level!r}; use one of {', '.join(LEVEL_KEYS)}"))
            if len(set(levels)) != len(levels):
                problems.append(Problem(line, "a level is listed twice"))
        entities = record.get("entities") or []
        if text is not None and entities:
            if tokenizer is None:
                tokenizer = blank_pipeline()
            problems += _span_problems(line, text, entities, tokenizer)
    return problems


def _span_problems(line: int, text: str, entities: Any, tokenizer: Any) -> list[Problem]:
    if not isinstance(entities, list):
        return [Problem(line, "entities must be a list")]
    from csvnlp.entities import tokenizable

    problems = []
    doc = tokenizer.make_doc(tokenizable(text))  # bounded time on long runs of punctuation
    starts = {token.idx for token in doc}
    ends = {token.idx + len(token.text) for token in doc}
    spans = []
    for n, entity in enumerate(entities):
        where = f"entity {n + 1}"
        if not isinstance(entity, dict) or not all(isinstance(entity.get(k), int) for k in ("start", "end")):
            problems.append(Problem(line, f"{where}: needs integer start and end"))
            continue
        start, end, label = entity["start"], entity["end"], entity.get("label")
        if label not in ENTITY_LABELS:
            problems.append(Problem(line, f"{where}: unknown label {label!r}; use CLUSTER or PROGRAMME"))
        if not 0 <= start < end <= len(text):
            problems.append(Problem(line, f"{where}: span {start}-{end} is out of range for a text of {len(text)} characters"))
            continue
        if "text" in entity and entity["text"] != text[start:end]:
            problems.append(Problem(line, f"{where}: span text {entity['text']!r} differs from the text at {start}-{end} ({text[start:end]!r})"))
        if start not in starts or end not in ends:
            problems.append(Problem(line, f"{where}: span {start}-{end} ({text[start:end]!r}) does not start and end on token boundaries"))
        spans.append((start, end, n + 1))
    spans.sort()
    for (s1, e1, n1), (s2, e2, n2) in zip(spans, spans[1:]):
        if s2 < e1:
            problems.append(Problem(line, f"entities {n1} and {n2} overlap ({s1}-{e1} and {s2}-{e2})"))
    return problems


def text_fingerprint(text: str) -> str:
    """A hash of the text with case and white space folded: equal for near-identical copies."""
    normalised = " ".join(text.lower().split())
    return hashlib.sha256(normalised.encode("utf-8", errors="surrogatepass")).hexdigest()[:16]


def corpus_hash(records: list[dict[str, Any]]) -> str:
    """sha256 over the records' ids, texts and levels, order-independent."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r["id"]):
        digest.update(json.dumps([record["id"], record["text"], record["levels"]], ensure_ascii=False).encode())
    return digest.hexdigest()
