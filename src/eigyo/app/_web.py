"""Request plumbing shared by pages and API: who is signed in, their language, CSRF, rendering.

Authentication is a FastAPI dependency, so a route cannot forget it: pages use :data:`PageUser`
(an anonymous visitor is sent to the login page), the API uses :data:`ApiUser` (401 JSON).
Every route then gets its data from :func:`scoped_ws`, the only way to the workspace.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from eigyo.app import _views as views
from eigyo.app._filters import view_query
from eigyo.app._generation import SERVED
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._security import (
    CSRF_HEADER,
    LANG_COOKIE,
    SESSION_COOKIE,
    Session,
    same_token,
)
from eigyo.app._state import AppState
from eigyo.base.periods import Period
from eigyo.diagnose import Finding
from eigyo.diagnose.model import STEPS
from eigyo.i18n import DEFAULT_LANG, LANGS, t


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def state(request: Request) -> AppState:
    return request.app.state.eigyo  # type: ignore[no-any-return]


def lang_of(request: Request) -> str:
    """The reader's language: the toggle's cookie, else Japanese."""
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def session_of(request: Request) -> Session | None:
    return state(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def _page_session(request: Request) -> Session:
    s = session_of(request)
    if s is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return s


def _api_session(request: Request) -> Session:
    s = session_of(request)
    if s is None:
        raise HTTPException(status_code=401, detail=t("app.error.login_required", lang_of(request)))
    return s


PageUser = Annotated[Session, Depends(_page_session)]
ApiUser = Annotated[Session, Depends(_api_session)]


def scoped_ws(request: Request, s: Session) -> ScopedWorkspace:
    """The workspace as ``s``'s user may see it: the only door to the data."""
    return state(request).scoped(s.user.principal())


def scoped_findings(
    request: Request, s: Session, ws: ScopedWorkspace, period: Period
) -> list[Finding]:
    """The findings ``s``'s user may read for ``period``. The organization's diagnosis runs once
    per period and data version for every user (50 managers do not each run it) and each scope's
    filtered list is cached beside it (docs/security.md, "Scoped diagnosis"). The diagnosis is
    asked for first, not inside the scope's computation: a request waiting for someone else's
    diagnosis then holds no turn of the fair gate (eigyo.app._state)."""
    st = state(request)
    whole = st.cached(("diagnosis", period.label), lambda: views.diagnosis(ws, period))
    key = ("findings", s.user.principal().key, period.label)
    return st.cached(key, lambda: views.findings(ws, period, whole))


def require_role(s: Session, *roles: str, lang: str = DEFAULT_LANG) -> None:
    if s.user.role not in roles:
        raise HTTPException(status_code=403, detail=t("app.error.forbidden", lang))


def check_csrf(request: Request, s: Session, form_token: str = "") -> None:
    """A state-changing request must echo the session's token: the ``X-CSRF-Token`` header
    (HTMX and API clients) or the form's hidden ``csrf_token`` field (plain forms)."""
    sent = request.headers.get(CSRF_HEADER) or form_token
    if not same_token(sent, s.csrf):
        raise HTTPException(status_code=403, detail=t("app.error.csrf", lang_of(request)))


@cache
def _env() -> Environment:
    # the report's templates second: the overview includes the report's headline partial, so
    # page one of the report and of the dashboard cannot drift apart
    return Environment(
        loader=ChoiceLoader(
            [PackageLoader("eigyo.app", "templates"), PackageLoader("eigyo.report", "templates")]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    request: Request,
    template: str,
    session: Session | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page or an HTMX fragment in the reader's language; everything autoescaped."""
    lang = lang_of(request)

    def tr(key: str, /, **values: object) -> str:
        return t(key, lang, **values)

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = (
        _env()
        .get_template(template)
        .render(
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            tr=tr,
            user=session.user if session else None,
            csrf=session.csrf if session else "",
            steps=STEPS,
            here=quote(here, safe="/"),  # one ``next`` value: its own ? and & stay inside it
            path=request.url.path,
            view_query=view_query(request.query_params),  # links keep the period and filters
            served=SERVED.get(),  # the data's time while a newer import is prepared (_serving)
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
