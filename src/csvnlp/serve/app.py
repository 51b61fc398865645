"""The ``csvnlp serve`` application: FastAPI, server-rendered Jinja2 pages, every asset served
by the app itself.

``create_app(config)`` loads the model once, opens each ``--data`` table in DuckDB and wires
the pages (``routes_classify``, ``routes_explore``, ``routes_review``) and the JSON API
(``routes_api``). Every error becomes a page (or a JSON object under ``/api/``), never a
traceback; unexpected ones are logged on the server with their traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from csvnlp.errors import CsvnlpError
from csvnlp.serve.config import ServeConfig, checked_config, dataset_slugs
from csvnlp.serve.pages import HERE, ServeState, error_response, render
from csvnlp.serve.security import GuardMiddleware
STATIC_FILES = {  # the only files a request can fetch besides the served tables
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
log = logging.getLogger("csvnlp.serve")


def create_app(config: ServeConfig, bundle: Any = None) -> FastAPI:
    """The application; ``bundle`` lets a caller (tests, benchmarks) pass a loaded model."""
    from csvnlp.serve.database import Database, TaggedTable
    from csvnlp.serve.review import ReviewStore

    config = checked_config(config)
    if bundle is None:
        from csvnlp.persistence import load_bundle

        bundle = load_bundle(config.model)
    state = ServeState(config, bundle)
    if config.data:
        state.database = Database()
        try:
            for path, slug in zip(config.data, dataset_slugs(config.data)):
                state.tables[slug] = TaggedTable(state.database, path, slug, config.text_columns or None)
                state.reviews[slug] = ReviewStore(config.corpus, slug, str(path))
        except Exception:
            state.close()
            raise

    app = FastAPI(
        title="csvnlp",
        description="Creating Shared Value levels, cluster and programme names: the JSON API of `csvnlp serve`.",
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; /api/docs is served from here
        openapi_url="/openapi.json",
    )
    app.state.serve = state
    app.router.add_event_handler("shutdown", state.close)
    app.add_middleware(GuardMiddleware, config=config, error_page=error_response)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 403: "Refused", 413: "Upload too large"}
        message = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") else {
            404: "There is no such page here. Only the tables given with --data are served.",
            405: "This address does not take that kind of request.",
        }.get(exc.status_code, "The request was refused.")
        return error_response(request, exc.status_code, titles.get(exc.status_code, "Error"), message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}" for e in exc.errors()[:5])
        return error_response(request, 400, "Bad request", f"Some of what was sent is not valid ({problems}).")

    @app.exception_handler(CsvnlpError)
    async def csvnlp_error(request: Request, exc: CsvnlpError) -> Response:
        return error_response(request, 400, "Cannot do that", str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, 500, "Unexpected error",
                              "Something went wrong on the server (a bug: the details are in the server's log). "
                              "Nothing was saved by this request.")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:  # a fixed list: no request path reaches the filesystem
            raise StarletteHTTPException(404)
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                        headers={"cache-control": "public, max-age=3600"})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        return render(request, "home.html", {"model": bundle.meta.get("name") or str(bundle.path), "config": config})

    from csvnlp.serve import routes_api, routes_classify, routes_explore, routes_review

    app.include_router(routes_classify.router)
    app.include_router(routes_api.router)
    app.include_router(routes_explore.router)
    app.include_router(routes_review.router)
    routes_api.without_validation_responses(app)
    return app
