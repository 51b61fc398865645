"""What every page shares: the server's state (model, tables, review stores) and rendering a
template or an error page. Routes and the app import it; it imports neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from csvnlp.serve.config import ServeConfig
from csvnlp.serve.security import csrf_token, set_csrf_cookie

HERE = Path(__file__).resolve().parent


@dataclass
class ServeState:
    config: ServeConfig
    bundle: Any
    database: Any = None
    tables: dict[str, Any] = field(default_factory=dict)
    reviews: dict[str, Any] = field(default_factory=dict)

    @property
    def thresholds(self) -> dict[str, float]:
        from csvnlp.levels import LEVEL_KEYS

        return dict(zip(LEVEL_KEYS, (float(t) for t in self.bundle.level_model.thresholds_)))

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None


templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page, with the CSRF token its forms carry (and the cookie that goes with it)."""
    state: ServeState | None = getattr(request.app.state, "serve", None)
    base = {"request": request, "csrf": csrf_token(request), "datasets": list(state.tables.values()) if state else []}
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


def error_response(scope_or_request: Any, status: int, title: str, message: str) -> Response:
    """An error page (JSON under /api/), for the routes and for the middleware alike."""
    path = scope_or_request.url.path if isinstance(scope_or_request, Request) else scope_or_request.get("path", "")
    if path.startswith("/api/"):
        return JSONResponse({"error": message, "title": title}, status_code=status)
    html = templates.get_template("error.html").render(title=title, message=message, status=status, datasets=[])
    return HTMLResponse(html, status_code=status)
