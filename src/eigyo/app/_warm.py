"""The background warm-up: each new generation's shared results computed before people ask.

Why: the organization's diagnosis of a medium company takes 8–15 s and each scope's overview
1–3 s more; 50 people arriving at once after the nightly import (or after a restart) waited
for all of that in turn. :class:`Warmer` watches which generation is current (one ``readlink``
a second) and, at start and whenever an import publishes a new one, computes through
:meth:`AppState.cached <eigyo.app._state.AppState.cached>` — the very keys the overview page
reads, by running the overview route itself for one user of each scope (default period, no
filters, the default language): the organization's diagnosis, then each scope's findings,
overview and filter choices. The results are persisted beside the generation
(:mod:`eigyo.app._shared_cache`), so other workers and the next start read them instead of
computing; people who arrive meanwhile wait for the computation under way rather than start
their own, and the warm-up takes turns at the fair gate with them (``WARM_UP``), one scope at a
time. It stops at once when a newer generation appears (its results would be stale).
"""

from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

from starlette.requests import Request

from eigyo.app._generation import GENERATION
from eigyo.app._limits import REQUESTER, WARM_UP, Busy
from eigyo.app._security import LANG_COOKIE, Session
from eigyo.app._users import User, list_users
from eigyo.i18n import DEFAULT_LANG
from eigyo.workspace import generation

if TYPE_CHECKING:
    from eigyo.app._state import AppState

#: Seconds between two looks at the current generation.
WATCH_S = 1.0
#: Seconds before a computation refused as busy is tried again.
RETRY_S = 1.0
log = logging.getLogger("eigyo.app.warm")


class Warmer:
    """One daemon thread per app (per worker process) warming each new generation."""

    def __init__(self, state: AppState, lang: str = DEFAULT_LANG) -> None:
        self.state = state
        self.lang = lang
        self._app = SimpleNamespace(state=SimpleNamespace(eigyo=state))  # what routes read
        self.warmed: str | None = None  # the last generation warmed to the end
        self.done = threading.Event()  # set when the current generation is warm
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eigyo-warm-up", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _current(self) -> str:
        return generation(self.state.workspace)

    def _run(self) -> None:
        token = REQUESTER.set(WARM_UP)
        try:
            while not self._stop.is_set():
                gen = self._current()
                if gen != self.warmed:
                    self.done.clear()
                    gen_token = GENERATION.set(gen)
                    try:
                        if self.warm(gen):
                            self.warmed = gen
                            self.done.set()
                    except Exception:  # a failed warm-up leaves the pages to compute on demand
                        log.exception("warm-up of %s failed", gen)
                        self.warmed = gen
                    finally:
                        GENERATION.reset(gen_token)
                self._stop.wait(WATCH_S)
        finally:
            REQUESTER.reset(token)

    def _stale(self, gen: str) -> bool:
        return self._stop.is_set() or self._current() != gen

    def warm(self, gen: str) -> bool:
        """Every user's overview of generation ``gen``; False when stopped or made stale."""
        st = self.state
        started = time.monotonic()
        st.shared.prune()
        scopes: dict[str, User] = {}
        for u in list_users(st.ws()):
            scopes.setdefault(u.principal().key, u)
        for user in sorted(scopes.values(), key=lambda u: u.role != "admin"):  # admin first
            while True:
                if self._stale(gen):
                    return False
                try:
                    self._overview(user)
                    break
                except Busy:  # the gate's queue is full of people: their turn first
                    self._stop.wait(RETRY_S)
                except Exception:  # this scope's page computes on demand (and says why)
                    if self._stale(gen):  # stopping: the server closed the connections
                        return False
                    log.exception("warm-up of %s for %s failed", gen, user.username)
                    break
        log.info("warmed %s: %d scopes in %.1f s", gen, len(scopes), time.monotonic() - started)
        return True

    def _overview(self, user: User) -> None:
        """``GET /`` for ``user`` without filters, in the default language: the overview route
        itself (eigyo.app._pages.overview) on a request made here, so the warm-up fills exactly
        the cache keys the page reads, whatever it comes to read. Nothing is sent anywhere."""
        from eigyo.app import _pages  # the pages import the app's state: imported when used

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "raw_path": b"/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"cookie", f"{LANG_COOKIE}={self.lang}".encode())],
            "scheme": "http",
            "server": ("warm-up", 0),
            "app": self._app,
        }
        _pages.overview(Request(scope), Session(user), period=None)
