"""The web dashboard (``eigyo serve``): FastAPI + Jinja2 + HTMX, Plotly served locally.

Flow of a request: authenticate (:mod:`._web`, sessions in :mod:`._security`, users in
:mod:`._users`) → the person's :class:`ScopedWorkspace` (:mod:`._scope`, the row-level query
layer) → the library (metrics, diagnosis, analyses, report charts; shaped by :mod:`._views`) →
a Jinja2 page or fragment (:mod:`._pages`, :mod:`._imports`) or JSON (:mod:`._api`).
"""

from eigyo.app._factory import create_app
from eigyo.app._scope import ROLES, Principal, ScopedWorkspace, ScopeError, scoped
from eigyo.app._users import User, add_user, authenticate, list_users, remove_user

__all__ = [
    "ROLES",
    "Principal",
    "ScopeError",
    "ScopedWorkspace",
    "User",
    "add_user",
    "authenticate",
    "create_app",
    "list_users",
    "remove_user",
    "scoped",
]
