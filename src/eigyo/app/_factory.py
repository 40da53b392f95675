"""The app factory: one FastAPI app per workspace, its routers, static files and safety nets.

Static files are the package's own (``static/``: HTMX, the page script, the style sheet) plus
Plotly's bundle read from the installed ``plotly`` package, so the dashboard never loads anything
from the network. FastAPI's Swagger/ReDoc pages are turned off for the same reason (they load
from a CDN); the OpenAPI description itself is at ``/api/openapi.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from pathlib import Path

import plotly.offline
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from eigyo import __version__
from eigyo.app import _api, _auth, _imports, _pages
from eigyo.app._scope import ScopeError
from eigyo.app._security import SECURITY_HEADERS
from eigyo.app._state import AppState
from eigyo.app._web import LoginRequired, lang_of, render, session_of
from eigyo.errors import InputError
from eigyo.i18n import t

STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}


class _Headers:
    """Adds the security headers (CSP, nosniff, no framing) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                present = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.lower().encode() not in present:
                        headers.append((k.lower().encode(), v.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


@cache
def _plotly_js() -> bytes:
    return str(plotly.offline.get_plotlyjs()).encode("utf-8")


def _static(name: str) -> Response:
    if name == "plotly.min.js":
        body = _plotly_js()
    else:
        entry = resources.files("eigyo.app") / "static" / name
        if "/" in name or not entry.is_file():
            return PlainTextResponse("not found", status_code=404)
        body = entry.read_bytes()
    media = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):  # HTMX: reload the whole page onto the login form
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(InputError)
    def _input(request: Request, exc: InputError) -> Response:
        return _error(request, 400, exc.localized(lang_of(request)))

    @app.exception_handler(ScopeError)
    def _scope(request: Request, exc: ScopeError) -> Response:
        return _error(request, 403, t("app.error.forbidden", lang_of(request)))

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """JSON for the API, an HTML page (in the reader's language) for everything else."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return render(request, "error.html.j2", session_of(request), status, message=message)


def create_app(workspace: Path) -> FastAPI:
    """The dashboard of one workspace (``eigyo serve``); the folder must already be one."""
    st = AppState(workspace)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        st.close()

    app = FastAPI(
        lifespan=lifespan,
        title="eigyo dashboard API",
        version=__version__,
        description="Sales-organization diagnosis; every response is limited to the caller's rows.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.eigyo = st
    app.add_middleware(_Headers)
    _handlers(app)
    app.include_router(_auth.router)
    app.include_router(_pages.router)
    app.include_router(_imports.router)
    app.include_router(_api.router)
    app.add_api_route("/static/{name}", _static, include_in_schema=False)
    return app
