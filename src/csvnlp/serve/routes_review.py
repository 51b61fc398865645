"""Reviewing and correcting: accept or change a record's levels, or mark it "not a CSV
project"; the uncertain-first queue. Decisions go to the corpus (``review.py``)."""

from __future__ import annotations

from typing import List
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from csvnlp.serve.pages import ServeState, render
from csvnlp.serve.review import CONFIDENCES, ReviewConflict
from csvnlp.serve.routes_explore import table_of
from csvnlp.serve.security import csrf_problem

router = APIRouter(include_in_schema=False)
QUEUE_ROWS = 50
NEAR_DUPLICATE = 0.8  # annotation.suggest's max_similarity
ACTIONS = ("accept", "save", "none")


@router.get("/data/{slug}/queue", response_class=HTMLResponse)
def queue_page(request: Request, slug: str, page: int = Query(1, ge=1, le=10**6)) -> Response:
    state, table = table_of(request, slug)
    decided = set(state.reviews[slug].standing())
    rows = table.queue(state.thresholds, decided, QUEUE_ROWS, (page - 1) * QUEUE_ROWS)
    mark_near_duplicates(state, slug, rows)
    return render(request, "queue.html", {"table": table, "rows": rows, "page": page, "decided": len(decided),
                                          "thresholds": state.thresholds, "max_similarity": NEAR_DUPLICATE})


def mark_near_duplicates(state: ServeState, slug: str, rows: list[dict]) -> None:
    """Note, as ``suggest`` would skip, a row whose text is a near-duplicate (TF-IDF cosine at
    or above ``NEAR_DUPLICATE``, suggest's default) of a corpus record or of a row above it."""
    texts = [r.get("text") or "" for r in rows]
    for row in rows:
        row["note"] = ""
    if not any(texts):
        return
    model = state.bundle.level_model
    vectors = model.tfidf([t or "(no text)" for t in texts])
    known = state.reviews[slug].corpus_texts()
    if known:
        similarity = (vectors @ model.tfidf([t for _, t in known]).T).toarray()
        for i, row in enumerate(rows):
            j = int(similarity[i].argmax())
            if texts[i] and similarity[i, j] >= NEAR_DUPLICATE:
                row["note"] = f"near-duplicate of {known[j][0]} (cosine {similarity[i, j]:.2f}); suggest would skip it"
    among = (vectors @ vectors.T).toarray()
    for i, row in enumerate(rows):
        earlier = [j for j in range(i) if texts[j] and among[i, j] >= NEAR_DUPLICATE]
        if texts[i] and earlier and not row["note"]:
            row["note"] = f"near-duplicate of row {rows[earlier[0]]['_row']} above; suggest would skip it"


@router.post("/data/{slug}/rows/{row}/review")
def review_record(
    request: Request,
    slug: str,
    row: int,
    action: str = Form(...),
    levels: List[str] = Form([]),
    confidence: str = Form("clear"),
    reviewer: str = Form(""),
    queue: int = Form(0),
    csrf: str = Form(""),
) -> Response:
    state, table = table_of(request, slug)
    problem = csrf_problem(request, csrf)
    if problem:
        raise HTTPException(403, f"Refused: {problem}. Nothing was saved; reload the record's page and decide again.")
    if action not in ACTIONS or confidence not in CONFIDENCES:
        raise HTTPException(400, f"action must be one of {', '.join(ACTIONS)} and confidence one of {', '.join(CONFIDENCES)}")
    record = table.record(row)
    if record is None:
        raise HTTPException(404, f"{slug} has no row {row}.")
    text = table.text_of(record)
    if not text:
        raise HTTPException(400, "This record's text is not in the table (tag with --keep-columns for the text column, "
                                 "or start serve with --text-column), so it cannot go into the corpus.")
    predicted = [p for p in (record.get("predicted") or "").split(";") if p]
    chosen = predicted if action == "accept" else ([] if action == "none" else levels)
    if action == "save" and not chosen:
        raise HTTPException(400, "Tick at least one level, or use 'Not a CSV project'.")
    try:
        outcome = state.reviews[slug].decide(str(record["id"]), text, chosen, confidence,
                                             reviewer.strip()[:80] or state.config.reviewer, predicted)
    except ReviewConflict as exc:
        raise HTTPException(409, str(exc)) from None
    said = f"{outcome.record_id}: {', '.join(outcome.levels) or 'not a CSV project'} ({outcome.note})"
    if queue:
        decided = set(state.reviews[slug].standing())
        following = table.queue(state.thresholds, decided, 1)
        if following:
            return RedirectResponse(f"/data/{slug}/rows/{following[0]['_row']}?" + urlencode({"queue": 1, "saved": said}), 303)
        return RedirectResponse(f"/data/{slug}/queue", 303)
    return RedirectResponse(f"/data/{slug}/rows/{row}?" + urlencode({"saved": said}), 303)


@router.post("/data/{slug}/undo")
def undo(request: Request, slug: str, csrf: str = Form("")) -> Response:
    state, table = table_of(request, slug)
    problem = csrf_problem(request, csrf)
    if problem:
        raise HTTPException(403, f"Refused: {problem}. Nothing was undone.")
    row_id = state.reviews[slug].undo()
    if row_id is None:
        return RedirectResponse(f"/data/{slug}/queue", 303)
    found = table.database.cursor().execute(f"SELECT _row FROM {table.view} WHERE id = ? LIMIT 1", [row_id]).fetchone()
    target = f"/data/{slug}/rows/{found[0]}" if found else f"/data/{slug}/queue"
    return RedirectResponse(target + "?" + urlencode({"saved": f"undone: the decision on row id {row_id}"}), 303)
