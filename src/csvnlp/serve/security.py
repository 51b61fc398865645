"""What keeps the server safe by default, as ASGI middleware and two small helpers.

- ``GuardMiddleware``: the Host header must name the loopback address when the server listens
  only there (a page elsewhere cannot reach it through DNS rebinding); with an access token,
  every request must carry it (``Authorization: Bearer``, the cookie set by the first
  ``?token=`` link, or ``?token=``); request bodies are bounded (a Content-Length over the
  limit is refused before a byte is read, and a body that grows past it is cut off).
- CSRF: every form carries a random token that must equal the ``csvnlp_csrf`` cookie
  (SameSite=Strict) and a cross-origin ``Origin`` is refused, so another site cannot make a
  reviewer's browser write a decision.
- Response headers: a Content-Security-Policy allowing only the app's own assets (no CDN,
  no inline script), no sniffing, no framing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from csvnlp.serve.config import ServeConfig, is_loopback

TOKEN_COOKIE = "csvnlp_token"
CSRF_COOKIE = "csvnlp_csrf"
CSRF_FIELD = "csrf"
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ErrorPage = Callable[[Scope, int, str, str], Any]  # (scope, status, title, message) -> a Starlette Response


def same_secret(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


class GuardMiddleware:
    def __init__(self, app: Any, config: ServeConfig, error_page: ErrorPage):
        self.app, self.config, self.error_page = app, config, error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if self.config.loopback:
            host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get("host", "").endswith("]") else headers["host"]
            if not is_loopback(host.strip() or "localhost"):
                await self._refuse(scope, receive, send, 421, "Wrong address",
                                   "This server only answers requests for 127.0.0.1 or localhost.")
                return
        if self.config.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            bearer = headers.get("authorization", "")
            given = (bearer[7:].strip() if bearer.lower().startswith("bearer ") else None) or _cookies(headers).get(TOKEN_COOKIE)
            if same_secret(query.get("token"), self.config.token) and scope["method"] in ("GET", "HEAD"):
                await self._remember_token(scope, send, query)  # set the cookie, drop the token from the URL
                return
            if not (same_secret(given, self.config.token) or same_secret(query.get("token"), self.config.token)):
                await self._refuse(scope, receive, send, 401, "Access token needed",
                                   "This server needs its access token: open the address printed when it started "
                                   "(it ends in ?token=...), or send the header Authorization: Bearer TOKEN.")
                return
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await self._refuse(scope, receive, send, 400, "Bad request", "The Content-Length header is not a number.")
                return
            if int(length) > self.config.max_request_bytes:
                await self._refuse(scope, receive, send, 413, "Upload too large", self.too_large_message())
                return
        await self._bounded(scope, receive, self._secured(send))

    def too_large_message(self) -> str:
        limit = self.config.max_upload_bytes
        shown = f"{limit / 2**20:.0f} MiB" if limit >= 2**20 else f"{limit / 1024:.0f} KiB"
        return (f"The upload is over the {shown} limit for one document (the same limit as `csvnlp classify`); "
                "split it, or extract its text and paste that.")

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the body counted as it arrives (a chunked upload has no
        Content-Length). Past the limit, the client gets the 413 page at once and the app
        sees a disconnect; whatever it answers after that is dropped."""
        seen, refused, started = 0, False, False

        async def bounded() -> dict[str, Any]:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.config.max_request_bytes:
                    refused = True
                    if not started:
                        await self.error_page(scope, 413, "Upload too large", self.too_large_message())(scope, _no_body, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, bounded, guarded)

    @staticmethod
    def _secured(send: Send) -> Send:
        async def secured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in SECURITY_HEADERS if h[0] not in present]
            await send(message)

        return secured

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, title: str, message: str) -> None:
        response = self.error_page(scope, status, title, message)
        await response(scope, receive, self._secured(send))

    async def _remember_token(self, scope: Scope, send: Send, query: dict[str, str]) -> None:
        from starlette.responses import RedirectResponse

        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        target = scope.get("path", "/") + (f"?{rest}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, self.config.token or "", httponly=True, samesite="strict")
        await response(scope, _no_body, self._secured(send))


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


# ============================================================================ CSRF


def csrf_token(request: Any) -> str:
    """The form token for this browser: its cookie's value, or a new one the response sets."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 20:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Any, response: Any) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")


def csrf_problem(request: Any, submitted: str | None) -> str | None:
    """Why this form post is refused, or None when it came from one of our own pages."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            return f"the form was sent from another site ({origin})"
    if not same_secret(submitted, request.cookies.get(CSRF_COOKIE)):
        return "the form's security token is missing or out of date"
    return None
