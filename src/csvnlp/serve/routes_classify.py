"""The classify page: paste a description or upload a PDF / Word / text file, see its levels,
why, and the names it mentions."""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from csvnlp.errors import CsvnlpError
from csvnlp.serve.pages import ServeState, render
from csvnlp.serve.charts import probability_bars
from csvnlp.serve.classifying import (
    LEVEL_NAMES,
    STATUS_MEANINGS,
    classify_document,
    document_from_form,
    entity_runs,
    explanation_for_levels,
    highlight,
)
from csvnlp.serve.security import csrf_problem

router = APIRouter(include_in_schema=False)


def result_view(state: ServeState, result: dict[str, Any], text: str) -> dict[str, Any]:
    """What the templates need to show one classification (also used by the record page)."""
    entities = result.get("entities") or []
    return {
        "result": result,
        "status_meaning": STATUS_MEANINGS.get(result["status"], ""),
        "bars": probability_bars(result.get("levels") or [], state.thresholds),
        "runs": entity_runs(highlight(text, entities, explanation_for_levels(result))),
        "names": {label: sorted({e["text"] for e in entities if e["label"] == label}) for label in ("CLUSTER", "PROGRAMME")},
        "level_names": LEVEL_NAMES,
    }


@router.get("/classify", response_class=HTMLResponse)
def classify_form(request: Request) -> Response:
    return render(request, "classify.html", {"view": None, "error": None, "text": ""})


@router.post("/classify", response_class=HTMLResponse)
def classify_submit(
    request: Request,
    text: str = Form(""),
    file: Optional[UploadFile] = File(None),
    csrf: str = Form(""),
) -> Response:
    state: ServeState = request.app.state.serve
    problem = csrf_problem(request, csrf)
    if problem:
        return render(request, "classify.html", {"view": None, "error": f"Refused: {problem}; reload the page and try again.", "text": text}, 403)
    data = file.file.read(state.config.max_upload_bytes + 1) if file is not None and file.filename else None
    try:
        source, document = document_from_form(text, data, file.filename if file is not None else None, state.config.max_upload_bytes)
        result = classify_document(state.bundle, source, document)
    except CsvnlpError as exc:  # the CLI's message, on the form, with what was typed kept
        return render(request, "classify.html", {"view": None, "error": str(exc), "text": text}, 400)
    view = result_view(state, result, document.text)
    return render(request, "classify.html", {"view": view, "error": None, "text": text if source == "<text>" else ""})
