"""The JSON API: ``POST /api/classify`` returns the object ``csvnlp classify --json`` prints,
and ``/api/docs`` shows the OpenAPI description (``/openapi.json``) as a page served from here."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from csvnlp.serve.pages import ServeState, render
from csvnlp.serve.classifying import classify_document, document_from_form

router = APIRouter()


class LevelProbability(BaseModel):
    level: Literal["products_markets", "value_chain", "cluster_development"]
    probability: float = Field(description="The classifier's probability for this level (0-1).")


class Entity(BaseModel):
    text: str
    label: Literal["CLUSTER", "PROGRAMME"]
    start: int = Field(description="Character offset of the name in the classified text.")
    end: int
    id: Optional[str] = Field(None, description="The name's canonical id (a programme's from csvnlp's registry, e.g. h2020), null when unknown.")


class Term(BaseModel):
    term: str
    weight: float = Field(description="How much this term pushed the level up (coefficient x feature value).")


class DocumentInfo(BaseModel):
    kind: Literal["pdf", "docx", "text"]
    pages: Optional[int] = None
    chars: int
    sections: int


class ClassifyResult(BaseModel):
    """One classified input: what `csvnlp classify --json` prints for it."""

    model_config = ConfigDict(extra="allow")
    source: str = Field(description="The uploaded file's name, or <text> for a pasted text.")
    levels: list[LevelProbability] = Field(description="All three levels with their probability (empty for an unsupported language).")
    predicted: list[str] = Field(description="The level keys that pass their threshold (empty when uncertain).")
    status: Literal["ok", "uncertain", "unsupported_language"]
    entities: list[Entity]
    evidence: Optional[dict[str, Union[int, float]]] = Field(None, description="Words, distinct shared-value terms, similarity to the nearest training case, relevance.")
    explanation: dict[str, list[Term]] = Field(description="Per predicted level (every level when none is), the terms that pushed it up most.")
    language: str = Field(description="Detected ISO 639-1 code.")
    language_probability: float
    message: Optional[str] = Field(None, description="Why no level is given (unsupported_language).")
    document: Optional[DocumentInfo] = Field(None, description="For a PDF/DOCX, or a text with sections.")
    sections: Optional[list[dict[str, Any]]] = Field(None, description="Each long-enough section of a document, classified on its own.")
    drivers: Optional[dict[str, list[str]]] = Field(None, description="Per level, the headings of the sections that drove it most.")


class ApiError(BaseModel):
    error: str = Field(description="What is wrong and what to do (the CLI's message for the same input).")
    title: str


@router.post(
    "/api/classify",
    response_model=ClassifyResult,
    response_model_exclude_unset=True,
    summary="Classify one description or document",
    responses={400: {"model": ApiError, "description": "Empty, binary, undecodable or unreadable input; a scan; a password-protected file; a malformed request."},
               401: {"model": ApiError, "description": "The server needs its access token."},
               413: {"model": ApiError, "description": "Over the upload limit (20 MiB, as `csvnlp classify`)."}},
)
def api_classify(
    request: Request,
    text: Optional[str] = Form(None, description="A project description (plain text)."),
    file: Optional[UploadFile] = File(None, description="A PDF, Word (.docx), UTF-8 text or Markdown file, recognised by content."),
) -> Any:
    """Give `text` or `file` (multipart/form-data or a urlencoded form), e.g.
    `curl -F file=@proposal.pdf http://127.0.0.1:8000/api/classify`. Returns the object
    `csvnlp classify --json` prints for the same input (its `source` is the file's name or
    `<text>`). Errors are `{"error": ..., "title": ...}` with status 400, 401 or 413."""
    state: ServeState = request.app.state.serve
    data = file.file.read(state.config.max_upload_bytes + 1) if file is not None and file.filename else None
    source, document = document_from_form(text, data, file.filename if file is not None else None, state.config.max_upload_bytes)
    return classify_document(state.bundle, source, document)


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            body = (operation.get("requestBody") or {}).get("content", {})
            form = next(iter(body.values()), {}).get("schema", {}) if body else {}
            form = _resolve(spec, form)
            operations.append({"method": method.upper(), "path": path, "operation": operation,
                               "content_types": list(body), "fields": form.get("properties", {}),
                               "required": form.get("required", [])})
    schemas = spec.get("components", {}).get("schemas", {})
    shown = {name: schemas[name] for name in ("ClassifyResult", "LevelProbability", "Entity", "Term", "DocumentInfo", "ApiError") if name in schemas}
    return render(request, "api_docs.html", {"spec": spec, "operations": operations, "schemas": shown, "type_of": type_of})


def type_of(field: dict[str, Any]) -> str:
    """A field's type as a reader says it: "string (binary) or null", "array of Entity"."""
    if "$ref" in field:
        return field["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in field:
        return " or ".join(type_of(option) for option in field["anyOf"])
    kind = field.get("type", "any")
    if kind == "array":
        return f"array of {type_of(field.get('items', {}))}"
    if kind == "object" and isinstance(field.get("additionalProperties"), dict):
        return f"object of {type_of(field['additionalProperties'])}"
    if field.get("format") or field.get("contentMediaType"):
        kind += f" ({field.get('format') or field.get('contentMediaType')})"
    if field.get("enum"):
        kind += ": " + ", ".join(map(str, field["enum"]))
    return kind


def without_validation_responses(app: Any) -> None:
    """Invalid requests get a 400 error object here (app.py), not FastAPI's 422: say so."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for methods in spec.get("paths", {}).values():
                for operation in methods.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                spec.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {})
    return node
