"""The app factory: one FastAPI app per workspace, its routers, static files and safety nets.

Static files are the package's own (``static/``: HTMX, the page script, the style sheet) plus
Plotly's bundle read from the installed ``plotly`` package, so the dashboard never loads anything
from the network. FastAPI's Swagger/ReDoc pages are turned off for the same reason (they load
from a CDN); the OpenAPI description itself is at ``/api/openapi.json``, for signed-in users only
(it maps the whole API surface, which an anonymous visitor has no use for).

Safety nets at the door (:class:`_Door`, docs/security.md): who is asking (for the fair gate of
:mod:`eigyo.app._limits`), which generation of the data the request reads (:mod:`._state`), the
request body limit counted while the body is read (413 before anything is spooled), and HSTS
when served over TLS. Errors are one sentence in the reader's language: "busy" is 503 with
``Retry-After``, a lockout 429, a period out of range 400.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from datetime import tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

import anyio
import anyio.to_thread
import plotly.offline
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eigyo import __version__
from eigyo.app import (
    _api,
    _auth,
    _bar_records,
    _drill,
    _evidence,
    _forecast,
    _imports,
    _pages,
    _pipeline,
    _scorecard,
    _simulate,
)
from eigyo.app._budget import TooLong
from eigyo.app._generation import GENERATION, SERVED
from eigyo.app._limits import DEFAULT_LIMITS, LIGHT_PATHS, REQUESTER, Busy, ServerLimits
from eigyo.app._scope import ScopeError
from eigyo.app._security import HSTS, SECURITY_HEADERS, SESSION_COOKIE, Session
from eigyo.app._serving import REFRESH_S, Served, prepared_page, served
from eigyo.app._state import AppState
from eigyo.app._warm import Warmer
from eigyo.app._web import ApiUser, LoginRequired, lang_of, render, session_of
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.settings import SETTINGS_FILE
from eigyo.settings import load as load_settings
from eigyo.workspace import generation

STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
#: ``eigyo serve --workers N``: uvicorn imports :func:`app_from_env` by name in each worker
#: process, which reads the workspace and the limits from these variables.
ENV_WORKSPACE = "EIGYO_SERVE_WORKSPACE"
ENV_LIMITS = "EIGYO_SERVE_LIMITS"


class _Headers:
    """Adds the security headers (CSP, nosniff, no framing) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                present = {k.lower() for k, _ in headers}
                extra = dict(SECURITY_HEADERS)
                if scope.get("scheme") == "https":  # only over TLS (RFC 6797 §7.2)
                    extra["Strict-Transport-Security"] = HSTS
                for k, v in extra.items():
                    if k.lower().encode() not in present:
                        headers.append((k.lower().encode(), v.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


class _TooLarge(HTTPException):
    """The body went over its limit while being read (answered 413 by the app's handler)."""


class _Door:
    """Per request, before the app: who is asking, a person just told "busy", the body limit.

    Who: the signed-in user's name, else ``@address`` — set in :data:`REQUESTER` for the fair
    gate. The body: a declared ``Content-Length`` over the limit is answered 413 at once; a
    streamed body is counted chunk by chunk and stops with 413 at the first byte over, so a
    1 GiB upload is never spooled. The larger upload limit applies only to ``POST /import`` by a
    signed-in admin; everyone else, the login form included, has :attr:`max_body_bytes`.
    """

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.st = state
        self.tz: tzinfo | None = None  # unreadable settings (the pages say so): server's zone
        with suppress(Exception):  # the times of the data shown, in the workspace's time zone
            self.tz = load_settings(state.workspace / SETTINGS_FILE).tz

    def _served(self, path: str) -> Served:
        """The generation this request reads (:mod:`eigyo.app._serving`): the newest one whose
        shared results are ready, once the warm-up marks them; the current one without a
        warm-up and for signing in (a user added by the newest generation signs in at once)."""
        if self.st.warmer is None or path.startswith(LIGHT_PATHS):
            return Served(generation(self.st.workspace))
        return served(self.st.workspace, self.st.shared, self.tz)

    def _limit(self, request: Request, session_user: object) -> int:
        lim = self.st.limits
        role = getattr(session_user, "role", None)
        if request.method == "POST" and request.url.path == "/import" and role == "admin":
            return lim.max_upload_bytes
        return lim.max_body_bytes

    def _record(self, request: Request, now: Served, username: str) -> None:
        """A filtered view of a page built on the shared results, for the next generation's
        warm-up (:mod:`eigyo.app._visits`); unfiltered pages are warmed anyway."""
        query, visits = request.url.query, getattr(self.st.warmer, "visits", None)
        if visits and query and request.method == "GET" and prepared_page(request.url.path):
            visits.record(now.gen, (username, request.url.path, query, lang_of(request)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = self.st.sessions.get(request.cookies.get(SESSION_COOKIE))
        user = session.user if session else None
        client = request.client.host if request.client else "?"
        token = REQUESTER.set(user.username if user else f"@{client}")
        # the generation every query of this request reads (a newer one shows once it is ready)
        now = self._served(request.url.path)
        gen_token, served_token = GENERATION.set(now.gen), SERVED.set(now)
        limit = self._limit(request, user)
        message = t("app.error.too_large", lang_of(request), mib=max(1, limit // 2**20))
        try:
            path = request.url.path
            if not path.startswith(LIGHT_PATHS) and self.st.gate.penalized(REQUESTER.get()):
                # told "busy" a moment ago: refused here, slowly, before any route or thread
                await anyio.sleep(self.st.limits.tarpit_s)
                busy = Busy(self.st.limits.retry_after_s)
                headers = {"Retry-After": str(busy.retry_after)}
                resp = _error(request, 503, busy.localized(lang_of(request)), headers)
                await resp(scope, receive, send)
                return
            if now.preparing and session and request.method == "GET" and prepared_page(path):
                # nothing computed to show yet: a page that says so and reloads, never a 503
                await _preparing(request, session, now)(scope, receive, send)
                return
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await _error(request, 413, message)(scope, receive, send)
                return
            seen = 0

            async def counted() -> Message:
                nonlocal seen
                msg = await receive()
                if msg["type"] == "http.request":
                    seen += len(msg.get("body", b""))
                    if seen > limit:
                        raise _TooLarge(413, message)
                return msg

            started = False

            async def watch(msg: Message) -> None:
                nonlocal started
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    if msg["status"] == 200 and user is not None:
                        self._record(request, now, user.username)
                await send(msg)

            try:
                await self.app(scope, counted, watch)
            except _TooLarge:
                if not started:
                    await _error(request, 413, message)(scope, receive, send)
        finally:
            REQUESTER.reset(token)
            GENERATION.reset(gen_token)
            SERVED.reset(served_token)


def _preparing(request: Request, session: Session, now: Served) -> Response:
    """The "being prepared" page (200, reloaded by its ``Refresh`` header)."""
    since = now.when(now.pending_since)
    resp = render(request, "preparing.html.j2", session, since=since, seconds=REFRESH_S)
    resp.headers["Refresh"] = str(REFRESH_S)
    resp.headers["Cache-Control"] = "no-store"
    return resp


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

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        """The API keeps FastAPI's 422 (its OpenAPI description declares it); a page or form
        (``horizon=100`` on ``/simulate``) gets one sentence naming the fields instead."""
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        names = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        message = t("app.error.invalid", lang_of(request), fields=", ".join(names) or "?")
        return _error(request, 422, message)

    @app.exception_handler(Busy)
    def _busy(request: Request, exc: Busy) -> Response:
        headers = {"Retry-After": str(exc.retry_after)}
        return _error(request, 503, exc.localized(lang_of(request)), headers)

    @app.exception_handler(TooLong)
    def _too_long(request: Request, exc: TooLong) -> Response:
        headers = {"Retry-After": str(exc.retry_after)}
        return _error(request, 503, exc.localized(lang_of(request)), headers)

    @app.exception_handler(OverflowError)
    def _overflow(request: Request, exc: OverflowError) -> Response:
        """A date or number out of every range (``9999-12-31`` plus a day): bad input, not a
        crash. Periods are bounded by :mod:`eigyo.base.periods`; this is the guard at the door
        for whatever still overflows."""
        return _error(request, 400, t("app.error.out_of_range", lang_of(request)))


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """JSON for the API, an HTML page (in the reader's language) for everything else."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return render(request, "error.html.j2", session_of(request), status, message=message)


def _health() -> Response:
    """Liveness for a proxy or a supervisor: no session, no data, never waits."""
    return PlainTextResponse("ok")


def create_app(workspace: Path, limits: ServerLimits = DEFAULT_LIMITS) -> FastAPI:
    """The dashboard of one workspace (``eigyo serve``); the folder must already be one.
    ``limits``: the server's limits (:class:`~eigyo.app._limits.ServerLimits`)."""
    st = AppState(workspace, limits)
    if limits.warm_up:
        st.warmer = Warmer(st)  # each new generation's overviews computed in the background

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Enough worker threads that light requests never queue behind the (bounded) heavy ones.
        anyio.to_thread.current_default_thread_limiter().total_tokens = limits.worker_threads
        yield
        st.close()

    app = FastAPI(
        lifespan=lifespan,
        title="eigyo dashboard API",
        version=__version__,
        description="Sales-organization diagnosis; every response is limited to the caller's rows.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
    )
    app.state.eigyo = st

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_: ApiUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_middleware(_Door, state=st)
    app.add_middleware(_Headers)
    _handlers(app)
    app.include_router(_auth.router)
    app.include_router(_pages.router)
    app.include_router(_evidence.router)
    app.include_router(_drill.router)
    app.include_router(_bar_records.router)
    app.include_router(_pipeline.router)
    app.include_router(_forecast.router)
    app.include_router(_scorecard.router)
    app.include_router(_simulate.router)
    app.include_router(_imports.router)
    app.include_router(_api.router)
    app.add_api_route("/static/{name}", _static, include_in_schema=False)
    app.add_api_route("/health", _health, include_in_schema=False)
    return app


def worker_env(workspace: Path, limits: ServerLimits) -> dict[str, str]:
    """What :func:`app_from_env` needs, for the environment of the worker processes."""
    return {ENV_WORKSPACE: str(Path(workspace).resolve()), ENV_LIMITS: json.dumps(asdict(limits))}


def app_from_env() -> FastAPI:
    """The app of one worker process of ``eigyo serve --workers N``. Why several processes can
    serve one workspace: each reads the data read-only and the sessions are in a file they share
    (:mod:`._state`); the fair gate and the login throttle count per process."""
    limits = ServerLimits(**json.loads(os.environ.get(ENV_LIMITS) or "{}"))
    return create_app(Path(os.environ[ENV_WORKSPACE]), limits)
