"""Exploring a tagged table: filtered pages, the share of each level (and of uncertain) per
group as a chart, amount sums per level, a download of the filtered rows, one record."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from csvnlp.documents import Document
from csvnlp.errors import CsvnlpError
from csvnlp.levels import LEVEL_KEYS
from csvnlp.serve.pages import ServeState, render
from csvnlp.serve.charts import SERIES, probability_bars, share_chart
from csvnlp.serve.classifying import LEVEL_NAMES, STATUS_MEANINGS, classify_document
from csvnlp.serve.database import STATUSES, Filters, TaggedTable

router = APIRouter(include_in_schema=False)
PAGE_ROWS = 50
LEVEL_FILTERS = ("", *LEVEL_KEYS, "any", "none")


def table_of(request: Request, slug: str) -> tuple[ServeState, TaggedTable]:
    state: ServeState = request.app.state.serve
    table = state.tables.get(slug)  # a name from the command line, never a path
    if table is None:
        raise HTTPException(404, f"No table named {slug!r} is served; the tables are: {', '.join(state.tables) or 'none (start with --data FILE)'}.")
    return state, table


def filters_from(table: TaggedTable, level: str, status: str, programme: str, cluster: str, column: str, value: str, q: str) -> Filters:
    if level not in LEVEL_FILTERS:
        raise HTTPException(400, f"level must be one of {', '.join(k for k in LEVEL_FILTERS if k)}, not {level!r}")
    if status and status not in STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if column and column not in table.columns:
        raise HTTPException(400, f"no column {column!r} in this table")
    return Filters(level, status, programme.strip(), cluster.strip(), column, value, q.strip())


@router.get("/data/{slug}", response_class=HTMLResponse)
def explore(
    request: Request,
    slug: str,
    level: str = "", status: str = "", programme: str = "", cluster: str = "",
    column: str = "", value: str = "", q: str = "",
    group: str = "", amount: str = "",
    page: int = Query(1, ge=1, le=10**9),
) -> Response:
    state, table = table_of(request, slug)
    filters = filters_from(table, level, status, programme, cluster, column, value, q)
    for name, given in (("group", group), ("amount", amount)):
        if given and given not in table.columns:
            raise HTTPException(400, f"{name}: no column {given!r} in this table")
    shares = table.shares(filters, group or None)
    matching = shares["matching"]
    query = filters.as_query() | ({"group": group} if group else {}) | ({"amount": amount} if amount else {})
    pages = max(1, -(-matching // PAGE_ROWS))
    return render(request, "explore.html", {
        "table": table, "filters": filters, "group": group, "amount": amount, "matching": matching,
        "rows": table.page(filters, (min(page, pages) - 1) * PAGE_ROWS, PAGE_ROWS),
        "page": min(page, pages), "pages": pages, "chart": share_chart(shares), "shares": shares, "series": SERIES,
        "amounts": table.amounts(filters, amount) if amount else None,
        "query": query, "query_string": urlencode(query), "filter_string": urlencode(filters.as_query()),
        "level_filters": LEVEL_FILTERS, "statuses": STATUSES, "level_keys": LEVEL_KEYS,
        "page_link": lambda n: f"/data/{slug}?" + urlencode(query | {"page": n}),
    })


@router.get("/data/{slug}/download.csv")
def download(
    request: Request,
    slug: str,
    level: str = "", status: str = "", programme: str = "", cluster: str = "",
    column: str = "", value: str = "", q: str = "",
) -> Response:
    _, table = table_of(request, slug)
    filters = filters_from(table, level, status, programme, cluster, column, value, q)
    return StreamingResponse(table.export(filters), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{slug}-filtered.csv"'})


def record_view(state: ServeState, table: TaggedTable, record: dict[str, Any]) -> dict[str, Any]:
    """The record as tagged, and its text re-read by the served model for the highlighting."""
    from csvnlp.serve.routes_classify import result_view

    text = table.text_of(record)
    tagged_levels = [{"level": k, "probability": record.get(f"p_{k}")} for k in LEVEL_KEYS if record.get(f"p_{k}") is not None]
    predicted = [p for p in (record.get("predicted") or "").split(";") if p]
    view: dict[str, Any] = {
        "record": record, "text": text, "predicted": predicted, "level_names": LEVEL_NAMES,
        "status_meaning": STATUS_MEANINGS.get(record.get("status") or "", ""),
        "tagged_bars": probability_bars(tagged_levels, state.thresholds),
        "kept": [(c, record.get(c)) for c in table.kept if c not in table.text_columns],
        "highlight": None, "highlight_error": None,
    }
    if text:
        try:
            result = classify_document(state.bundle, "<record>", Document("the record's text", "text", text))
            view["highlight"] = result_view(state, result, text)
        except CsvnlpError as exc:
            view["highlight_error"] = str(exc)
    return view


@router.get("/data/{slug}/rows/{row}", response_class=HTMLResponse)
def record_page(request: Request, slug: str, row: int, saved: str = "", queue: int = Query(0, ge=0, le=1)) -> Response:
    state, table = table_of(request, slug)
    record = table.record(row)
    if record is None:
        raise HTTPException(404, f"{slug} has no row {row} (it has {table.rows:,} rows, numbered from 0).")
    review = state.reviews[slug]
    standing = review.standing().get(str(record["id"]))
    return render(request, "record.html", {
        "table": table, **record_view(state, table, record), "standing": standing, "saved": saved[:300],
        "queue": queue, "review": review, "level_keys": LEVEL_KEYS,
    })
