"""Extracting the 27 cluster cases (section 4.3) and Table 1 from the report's plain text.

The report is PDF-to-text output: running page headers, bare page numbers, bullet dashes on
lines of their own, page breaks shown as a leading space, footnote digits glued to words.
``extract_cases`` undoes that damage and splits each case into labelled fields
("Cluster partner:", "Funding:", ...). ``read_table1`` reads the hand transcription of
Table 1 and ``check_table1_against_report`` proves each transcribed row against the table's
own text, so a typo in the transcription cannot pass silently.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from csvnlp.errors import ReportFormatError
from csvnlp.levels import level_from_phrase

RUNNING_HEADER = (
    "How clusters can contribute to the social and environmental challenges through the "
    "creation of shared value"
)
SECTION_START = re.compile(r"^\s*4\.3\.\s+Cluster projects in CSV\s*$")
SECTION_END = re.compile(r"^\s*5\.\s+SUMMARY OF THE ANALYSED PROJECTS\s*$")
RECOMMENDATIONS_START = re.compile(r"^\s*6\.\s+RECOMMENDATIONS FOR PUBLIC POLICIES")
CASE_HEADING = re.compile(r"^\s*4\.3\.(\d+)\.\s+(.+?)\s*$")
TABLE_START = re.compile(r"^Table 1\. Brief description of best practices")
TABLE_END = re.compile(r"^Source: Own elaboration\.")
# A footnote marker: a digit glued to the end of a lower-case word ("Initiative1 refer").
FOOTNOTE_MARKER = re.compile(r"(?<=[a-z]{3})\d{1,2}(?=[\s,.;:)]|$)")

# Field labels a case uses, mapped to the structured field they fill.
FIELD_LABELS: dict[str, str] = {
    "cluster partner": "cluster_partners",
    "cluster partners": "cluster_partners",
    "clusters partner": "cluster_partners",
    "clusters participants": "cluster_partners",
    "clusters as participants in the project": "cluster_partners",
    "partners": "partners",
    "participants": "participants",
    "funding": "funding",
    "challenge": "challenge",
    "cluster project": "project",
    "project": "project",
    "abstract of the case": "project",
    "results": "results",
    "web": "web",
}
_LABEL_AT_START = re.compile(
    r"^(" + "|".join(sorted((re.escape(k) for k in FIELD_LABELS), key=len, reverse=True)) + r")\s*:\s*",
    re.IGNORECASE,
)
# Structured fields copied onto a corpus record (the others stay in the prose only).
STATED_FIELDS = ("cluster_partners", "funding", "participants", "partners", "web")


@dataclass
class ReportCase:
    """One case of section 4.3 as the report states it."""

    number: int  # the n of "4.3.n"
    heading: str  # the full heading line after the number
    title: str  # the heading's short title (before a ". " subtitle)
    paragraphs: list[tuple[str | None, str]]  # (field or None, text), in order
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        return slugify(self.title)

    def prose(self) -> str:
        """The case's text: every paragraph except the Web line, one paragraph a line."""
        lines = []
        for label_text, text in self.paragraphs:
            if label_text and FIELD_LABELS.get(label_text.lower()) == "web":
                continue
            lines.append(f"{label_text}: {text}" if label_text else text)
        return "\n".join(lines)


@dataclass(frozen=True)
class Table1Row:
    case_id: str
    table_case_name: str
    cluster_participation: str
    source: str
    shared_value_intensity: str
    level: str  # the cell's words, e.g. "Enabling local cluster development and ..."
    public_funding: str
    best_practice: str

    @property
    def levels(self) -> list[str]:
        return level_from_phrase(self.level)


def slugify(title: str) -> str:
    """'Emilia-Romagna Open Innovation Platform (EROI)' -> 'emilia-romagna-open-innovation-platform-eroi'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def short_title(heading: str) -> str:
    """'ICT4SILVER. European Region Development fund' -> 'ICT4SILVER'."""
    return heading.split(". ", 1)[0].strip()


def clean_lines(lines: list[str]) -> list[str]:
    """Drop running headers and bare page numbers; strip page-break spaces and footnote digits."""
    cleaned = []
    for raw in lines:
        line = raw.strip()
        if line == RUNNING_HEADER or re.fullmatch(r"\d{1,3}", line):
            continue
        cleaned.append(FOOTNOTE_MARKER.sub("", line))
    return cleaned


def _bullet_items(lines: list[str]) -> list[str]:
    """Group cleaned lines into items: a bullet dash or a blank line ends an item."""
    items: list[list[str]] = [[]]
    for line in lines:
        if line in ("", "-"):
            items.append([])
        elif line.startswith("- "):
            items.append([line[2:].strip()])
        else:
            items[-1].append(line)
    return [_join_wrapped(item) for item in items if item]


def _join_wrapped(lines: list[str]) -> str:
    """Join lines broken by the PDF; a word hyphenated at a line end is joined whole."""
    text = lines[0]
    for line in lines[1:]:
        if re.search(r"[a-z]-$", text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return re.sub(r"\s+", " ", text).strip()


def _section_lines(report_text: str) -> list[str]:
    lines = report_text.splitlines()
    start = next((i for i, line in enumerate(lines) if SECTION_START.match(line)), None)
    if start is None:
        raise ReportFormatError(
            "the report has no '4.3. Cluster projects in CSV' heading; is this the right report file?"
        )
    end = next((i for i in range(start, len(lines)) if SECTION_END.match(lines[i])), None)
    if end is None:
        raise ReportFormatError("the report's section 4.3 has no end ('5. SUMMARY OF THE ANALYSED PROJECTS').")
    return lines[start + 1 : end]


def extract_cases(report_text: str) -> list[ReportCase]:
    """Split section 4.3 into its cases, in the report's order."""
    section = _section_lines(report_text)
    headings = [(i, CASE_HEADING.match(line)) for i, line in enumerate(section)]
    headings = [(i, m) for i, m in headings if m]
    if not headings:
        raise ReportFormatError("section 4.3 holds no '4.3.n. Title' case headings.")
    cases = []
    for n, (line_no, match) in enumerate(headings):
        body_end = headings[n + 1][0] if n + 1 < len(headings) else len(section)
        body = clean_lines(section[line_no + 1 : body_end])
        paragraphs: list[tuple[str | None, str]] = []
        fields: dict[str, str] = {}
        for item in _bullet_items(body):
            label = _LABEL_AT_START.match(item)
            if label:
                label_text = label.group(1)
                text = item[label.end() :].strip()
                name = FIELD_LABELS[label_text.lower()]
                if text:
                    fields.setdefault(name, text)
                paragraphs.append((label_text, text))
            else:
                paragraphs.append((None, item))
        # "Results:" alone, followed by its sub-bullets: fold them into the one paragraph
        # so the prose has no empty "Results:" line.
        merged: list[tuple[str | None, str]] = []
        for label_text, text in paragraphs:
            if merged and merged[-1][0] and not merged[-1][1] and label_text is None:
                merged[-1] = (merged[-1][0], text)
            elif merged and merged[-1][0] and not merged[-1][1]:
                merged[-1] = (label_text, text)
            else:
                merged.append((label_text, text))
        heading = match.group(2)
        cases.append(
            ReportCase(
                number=int(match.group(1)),
                heading=heading,
                title=short_title(heading),
                paragraphs=merged,
                fields=fields,
            )
        )
    numbers = [case.number for case in cases]
    if numbers != list(range(1, len(cases) + 1)):
        raise ReportFormatError(f"section 4.3's case numbers are not 1..n in order: {numbers}")
    return cases


def read_table1(path: Path) -> list[Table1Row]:
    """Read the hand transcription of Table 1 (one row a case, Table 1's words)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [Table1Row(**{k: (v or "").strip() for k, v in row.items()}) for row in csv.DictReader(handle)]
    ids = [row.case_id for row in rows]
    if len(set(ids)) != len(ids):
        raise ReportFormatError(f"{path}: a case_id appears twice")
    return rows


def _squash(text: str) -> str:
    # Letters and digits only: the PDF breaks words inside cells ("administrati on").
    return re.sub(r"[^a-z0-9+]+", "", text.lower())


def check_table1_against_report(rows: list[Table1Row], report_text: str) -> list[str]:
    """Check each transcribed row against Table 1's text in the report.

    Table 1's cells wrap across lines and its pages repeat the header, so the check works on
    a squashed copy of the table (lower case, punctuation and line breaks folded to spaces):
    the case names must appear in the transcription's order, and each row's participation,
    intensity, level and funding words must stand between its case name and the next one's.
    Returns the problems found (empty when the transcription agrees).
    """
    lines = report_text.splitlines()
    start = next((i for i, line in enumerate(lines) if TABLE_START.match(line)), None)
    end = next((i for i, line in enumerate(lines) if start is not None and i > start and TABLE_END.match(line)), None)
    if start is None or end is None:
        return ["the report has no 'Table 1. Brief description of best practices' ... 'Source: Own elaboration.'"]
    table = _squash(" ".join(clean_lines(lines[start + 1 : end])))
    problems = []
    positions = []
    cursor = 0
    for row in rows:
        at = table.find(_squash(row.table_case_name), cursor)
        if at < 0:
            problems.append(f"{row.case_id}: case name {row.table_case_name!r} not found in Table 1 after the previous row")
            positions.append(cursor)
            continue
        positions.append(at)
        cursor = at + 1
    positions.append(len(table))
    for row, begin, finish in zip(rows, positions, positions[1:]):
        segment = table[begin:finish]
        for column in ("cluster_participation", "shared_value_intensity", "level", "public_funding"):
            value = getattr(row, column)
            if value and _squash(value) not in segment:
                problems.append(f"{row.case_id}: {column} {value!r} is not in its Table 1 row")
    return problems


def level_descriptions(report_text: str) -> dict[str, list[str]]:
    """The report's own descriptions of each level (sections 2 and 6 bullets, 4.3.8's results).

    Each is a paragraph that opens with a level's name; they become prototype documents for
    the classifier. Paragraphs inside section 4.3 are skipped: those belong to the cases.
    """
    lines = report_text.splitlines()
    section = set(range(*_section_bounds(lines)))
    table_start = next((i for i, line in enumerate(lines) if TABLE_START.match(line)), len(lines))
    table_end = next((i for i in range(table_start, len(lines)) if TABLE_END.match(lines[i])), table_start)
    section |= set(range(table_start, table_end + 1))
    outside = [line if i not in section else "" for i, line in enumerate(lines)]
    items = _bullet_items(clean_lines(outside))
    openers = {
        "products_markets": re.compile(r"^reconceiving products and markets\s*[.:]", re.I),
        "value_chain": re.compile(r"^redefining productivity in (the )?value chain\s*[.:]", re.I),
        "cluster_development": re.compile(r"^enabling local cluster development\s*[.:]", re.I),
    }
    found: dict[str, list[str]] = {key: [] for key in openers}
    for item in items:
        for key, opener in openers.items():
            if opener.match(item) and item not in found[key]:
                found[key].append(item)
    return found


def text_outside_cases(report_text: str) -> str:
    """The report without its cases: sections 1 to 4.2 and 6 onwards, lower-cased, with line-end
    hyphens joined and whitespace squashed. Section 4.3 (the 27 cases) and section 5 (their
    summary and Table 1) are left out, so a term found here was not taken from a case.
    Hand-written term lists (``levels.py``) must be traceable to this text."""
    lines = report_text.splitlines()
    start, end = _section_bounds(lines)
    resume = next((i for i in range(end, len(lines)) if RECOMMENDATIONS_START.match(lines[i])), None)
    if not end or resume is None:
        raise ReportFormatError("cannot find sections 4.3, 5 and 6 of the report; is this the right report file?")
    kept = "\n".join(lines[:start] + lines[resume:]).lower()
    kept = re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", kept)
    return re.sub(r"\s+", " ", kept)


def _section_bounds(lines: list[str]) -> tuple[int, int]:
    start = next((i for i, line in enumerate(lines) if SECTION_START.match(line)), 0)
    end = next((i for i in range(start, len(lines)) if SECTION_END.match(lines[i])), start)
    return start, end
