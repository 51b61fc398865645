"""Classifying a pasted text or an uploaded file for the web page and the JSON API, and
marking up the text: the terms that drove each level and the CLUSTER / PROGRAMME names.

``classify_document`` returns the object ``csvnlp classify --json`` prints for the same input
(both call ``predict.classify_documents``); a test compares the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from csvnlp.documents import Document, document_from_bytes
from csvnlp.inputs import checked_text
from csvnlp.levels import DEFINITIONS, LEVEL_KEYS

TOP_TERMS = 5  # classify --top-terms default

STATUS_MEANINGS = {
    "ok": "At least one level passed its threshold and the text reads as a shared-value project.",
    "uncertain": (
        "Too little evidence of shared value: no level passed its threshold, or the relevance model "
        "judged the text not to describe a shared-value project (most research and public-works texts). "
        "The probabilities still show which level it leans to."
    ),
    "unsupported_language": (
        "The text is in a language the model was not trained on, so no level is given "
        "(a level from a model that cannot read the text would be a guess)."
    ),
    "error": "The row could not be tagged (see its error column); it was reported, not dropped.",
}
LEVEL_NAMES = {key: DEFINITIONS[key].name for key in LEVEL_KEYS}


def document_from_form(text: str | None, upload: bytes | None, filename: str | None, max_bytes: int) -> tuple[str, Document]:
    """The input the classify page or API received, read as the CLI reads it: a pasted text
    like the TEXT argument, an uploaded file like ``--file`` (recognised by content, same
    limit, same messages). Raises ``InputError`` with the CLI's message."""
    from csvnlp.errors import InputError

    if upload is not None and (upload or filename):
        source = filename or "the uploaded file"
        return source, document_from_bytes(upload, source, max_bytes)
    if text is not None and text != "":
        return "<text>", Document("the pasted text", "text", checked_text(text, "the pasted text"))
    raise InputError("nothing to classify: paste a description or choose a PDF, Word (.docx) or text file")


def classify_document(bundle: Any, source: str, document: Document, top_terms: int = TOP_TERMS) -> dict[str, Any]:
    """What ``csvnlp classify --json`` prints for this input (the same library call)."""
    from csvnlp.predict import classify_documents

    return {"source": source, **classify_documents(bundle, [document], entities=True, explain=top_terms)[0]}


# ============================================================================ highlighting


@dataclass
class Segment:
    """A run of text with the same marks: the levels whose driving terms it is part of, and
    the entity label when it is inside a CLUSTER or PROGRAMME name."""

    text: str
    levels: tuple[str, ...] = ()
    entity: str | None = None
    entity_start: int | None = None  # which name it belongs to (two names may touch)

    @property
    def title(self) -> str:
        return "; ".join(f"drove {key}" for key in self.levels)


@dataclass
class Run:
    """Consecutive segments of one name (or of no name): a name is drawn as one mark around
    its segments, however many driving terms sit inside it."""

    entity: str | None
    parts: list[Segment]

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


def term_pattern(term: str) -> re.Pattern[str] | None:
    """A model term (``vouchers``, ``value chain``) as it may appear in the text: whole words,
    any case, any run of non-word characters between the words. Lexicon features
    (``[products_markets keywords]``) are not words of the text."""
    words = term.split()
    if not words or term.startswith("["):
        return None
    return re.compile(r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def term_spans(text: str, explanation: dict[str, Sequence[dict[str, Any]]]) -> list[tuple[int, int, str]]:
    """(start, end, level) for every occurrence of every explaining term."""
    spans = []
    for level, terms in (explanation or {}).items():
        for item in terms:
            pattern = term_pattern(str(item.get("term", "")))
            if pattern is not None:
                spans.extend((m.start(), m.end(), level) for m in pattern.finditer(text))
    return spans


def highlight(text: str, entities: Iterable[dict[str, Any]], explanation: dict[str, Sequence[dict[str, Any]]] | None) -> list[Segment]:
    """The text cut into segments at every span boundary, each with the marks covering it
    (one sweep over the sorted boundaries: a long document with thousands of matches stays fast)."""
    events: dict[int, list[tuple[int, str]]] = {}
    for e in entities:
        start, end = int(e["start"]), int(e["end"])
        if 0 <= start < end <= len(text):
            events.setdefault(start, []).append((1, "entity:" + str(e["label"])))
            events.setdefault(end, []).append((-1, "entity:" + str(e["label"])))
    for start, end, level in term_spans(text, explanation or {}):
        events.setdefault(start, []).append((1, level))
        events.setdefault(end, []).append((-1, level))
    starts = {int(e["start"]): int(e["start"]) for e in entities}
    open_marks: dict[str, int] = {}
    current_start: int | None = None
    segments: list[Segment] = []
    cuts = sorted({0, len(text), *events})
    for start, end in zip(cuts, cuts[1:]):
        for delta, mark in events.get(start, ()):
            open_marks[mark] = open_marks.get(mark, 0) + delta
        covering = tuple(key for key in LEVEL_KEYS if open_marks.get(key, 0) > 0)
        entity = next((m.split(":", 1)[1] for m in ("entity:CLUSTER", "entity:PROGRAMME") if open_marks.get(m, 0) > 0), None)
        if entity is None:
            current_start = None
        elif start in starts:
            current_start = start
        key = (covering, entity, current_start)
        if segments and (segments[-1].levels, segments[-1].entity, segments[-1].entity_start) == key:
            segments[-1].text += text[start:end]
        else:
            segments.append(Segment(text[start:end], covering, entity, current_start))
    return segments


def entity_runs(segments: list[Segment]) -> list[Run]:
    runs: list[Run] = []
    for segment in segments:
        if runs and runs[-1].entity is not None and (runs[-1].entity, runs[-1].parts[-1].entity_start) == (segment.entity, segment.entity_start):
            runs[-1].parts.append(segment)
        elif runs and runs[-1].entity is None and segment.entity is None:
            runs[-1].parts.append(segment)
        else:
            runs.append(Run(segment.entity, [segment]))
    return runs


def explanation_for_levels(result: dict[str, Any]) -> dict[str, Sequence[dict[str, Any]]]:
    """The terms to highlight: those of the predicted levels, or of every level when none was."""
    return result.get("explanation") or {}
