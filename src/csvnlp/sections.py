"""Which sections of a long document drove its levels, so an officer can check the why.

The whole document is classified as one text (that decision stands); each section with
enough words is then classified on its own, and for every predicted level (or the most
likely one, when the document is ``uncertain``) the sections are ranked by that level's
probability. Abstract / summary / objectives sections are flagged ``key``: the parts an
officer reads first.
"""

from __future__ import annotations

from typing import Any

from csvnlp.documents import Document

MIN_SECTION_WORDS = 15  # fewer words say too little to score on their own
TOP_SECTIONS = 3


def section_report(bundle: Any, document: Document, result: dict[str, Any], top: int = TOP_SECTIONS) -> dict[str, Any] | None:
    """``{"sections": [...], "drivers": {level: [heading, ...]}}``, or None when the document
    has fewer than two sections or was not classified (e.g. an unsupported language)."""
    if len(document.sections) < 2 or not result.get("levels"):
        return None
    sections = [s for s in document.sections if len(s.text.split()) >= MIN_SECTION_WORDS]
    if not sections:
        return None
    scored = bundle.classify([f"{s.heading}\n{s.text}".strip() for s in sections], entities=False)
    rows = []
    for number, (section, score) in enumerate(zip(sections, scored), start=1):
        rows.append({
            "heading": section.heading or f"(section {number}, untitled)",
            "key": section.key,
            "words": len(section.text.split()),
            "probabilities": {item["level"]: item["probability"] for item in score["levels"]},
            "predicted": score["predicted"],
        })
    levels = list(result["predicted"]) or [max(result["levels"], key=lambda item: item["probability"])["level"]]
    drivers = {
        level: [row["heading"] for row in sorted(rows, key=lambda r: -r["probabilities"][level])[:top]]
        for level in levels
    }
    return {"sections": rows, "drivers": drivers}
