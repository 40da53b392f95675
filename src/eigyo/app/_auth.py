"""Login, logout and the language toggle.

The login form is protected by a double-submit token (cookie + hidden field) because there is no
session yet; after login the session's own CSRF token takes over. A failed login says only that
the name or password is wrong — never which — and takes as long either way. Failed logins are
counted per account and per address (:class:`~eigyo.app._limits.LoginThrottle`): past the limit
the login is refused (429) before any password is checked, and each failure is written to the
workspace's ``login-failures.log``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from eigyo.app._limits import LockedOut
from eigyo.app._security import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_token,
    safe_next,
    same_token,
)
from eigyo.app._users import authenticate
from eigyo.app._web import PageUser, check_csrf, lang_of, render, session_of, state
from eigyo.i18n import LANGS, t

router = APIRouter(include_in_schema=False)
ONE_YEAR = 365 * 24 * 3600


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = new_token()
    resp = render(request, "login.html.j2", None, status, next_url=next_url, error=error,
                  login_csrf=token)  # fmt: skip
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=600, httponly=True, samesite="strict",
                    secure=_secure(request), path="/login")  # fmt: skip
    return resp


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next), None, 200)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    lang = lang_of(request)
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, safe_next(next), t("app.login.expired", lang), 403)
    st = state(request)
    address = request.client.host if request.client else "?"
    try:
        st.logins.check(username, address)  # locked: refused before the password is checked
    except LockedOut as e:
        resp = _login_page(request, safe_next(next), e.localized(lang), 429)
        resp.headers["Retry-After"] = str(e.retry_after)
        return resp
    user = authenticate(st.ws(), username, password, st.hashes.run)
    if user is None:
        st.logins.failed(username, address)
        return _login_page(request, safe_next(next), t("app.login.failed", lang), 401)
    st.logins.succeeded(username)
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(SESSION_COOKIE, st.sessions.create(user), httponly=True, samesite="strict",
                    secure=_secure(request), path="/")  # fmt: skip
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(
    request: Request, s: PageUser, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    check_csrf(request, s, csrf_token)
    state(request).sessions.drop(request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{code}")
def set_language(request: Request, code: str, next: str = "/") -> Response:
    """Switch the language (a cookie: no account data changes, so a plain link is enough)."""
    resp = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGS:
        resp.set_cookie(LANG_COOKIE, code, max_age=ONE_YEAR, samesite="lax",
                        secure=_secure(request), path="/")  # fmt: skip
    return resp
