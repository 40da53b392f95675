"""The background warm-up: each new generation's shared results computed before people ask.

Why: the organization's diagnosis of a medium company takes 8–15 s and each scope's overview
1–3 s more; 50 people arriving at once after the nightly import (or after a restart) waited
for all of that in turn. :class:`Warmer` watches which generation is current (one ``readlink``
a second) and, at start and whenever an import publishes a new one, computes through
:meth:`AppState.cached <eigyo.app._state.AppState.cached>` — the very keys the pages read, by
running the pages' routes themselves for one user of each scope (default period, no filters):

1. :data:`BEFORE_SWITCH` for every scope — the overview in the default language (with it the
   organization's diagnosis, each scope's findings, default period and filter choices: what
   every page starts from) — and the filtered views people opened on the previous generation
   (:mod:`eigyo.app._visits`, by the same users). Then the generation is marked ``ready`` and
   the dashboard serves it (:mod:`eigyo.app._serving`): until then people read the previous
   generation, labelled, so nobody waits for this and nobody is told "busy".
2. :data:`AFTER_SWITCH` for every scope — the overview in English, then the unfiltered step
   pages in the default language; then the generation is marked ``warm``. After the switch, not
   before: they are opened by fewer people or second, and computing them first would keep the
   previous data on screen for minutes more (an overview costs as much in each language, and
   there are 8 step pages per scope).

The results are persisted beside the generation (:mod:`eigyo.app._shared_cache`), so other
workers and the next start read them instead of computing: each key is computed by one worker
(the others wait on its lock, then read its file), and each worker takes the scopes from a
different place in the list (its process id), so two workers compute different scopes at once
instead of waiting for each other. The warm-up takes turns at the fair gate with people
(``WARM_UP``), one computation at a time, and stops at once when a newer generation appears
(its results would be stale). Memory stays bounded: the process's LRU holds
:data:`~eigyo.app._state.CACHE_SIZE` entries, and what it drops is read back from disk.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

from starlette.requests import Request

from eigyo.app._generation import GENERATION
from eigyo.app._limits import REQUESTER, WARM_UP, Busy
from eigyo.app._security import LANG_COOKIE, Session
from eigyo.app._serving import READY
from eigyo.app._users import User, list_users
from eigyo.app._visits import Visits
from eigyo.diagnose.model import STEPS
from eigyo.i18n import DEFAULT_LANG, LANGS
from eigyo.workspace import generation

if TYPE_CHECKING:
    from eigyo.app._state import AppState

#: Seconds between two looks at the current generation.
WATCH_S = 1.0
#: Seconds before a computation refused as busy is tried again.
RETRY_S = 1.0
log = logging.getLogger("eigyo.app.warm")
#: The mark of a generation whose warm-up went through both lists.
WARM = "warm"


@dataclass(frozen=True)
class Visit:
    """One page the warm-up opens: its path, language and query string (a filtered view)."""

    path: str
    lang: str
    query: str = ""


#: Opened for every scope before the generation is served: the overview, default language.
BEFORE_SWITCH: tuple[Visit, ...] = (Visit("/", DEFAULT_LANG),)
#: Opened for every scope once it is served: the overview in the other languages, then each
#: step page, unfiltered, in the default language.
AFTER_SWITCH: tuple[Visit, ...] = (
    *(Visit("/", lang) for lang in sorted(set(LANGS) - {DEFAULT_LANG})),
    *(Visit(f"/steps/{s}", DEFAULT_LANG) for s in STEPS),
)


class Warmer:
    """One daemon thread per app (per worker process) warming each new generation."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.visits = Visits(state.shared)  # the filtered views people open (the door records)
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
                        if not self._stale(gen):  # served all the same: never stuck
                            self.state.shared.mark(gen, READY)
                        self.warmed = gen
                    finally:
                        GENERATION.reset(gen_token)
                self._stop.wait(WATCH_S)
        finally:
            REQUESTER.reset(token)

    def _stale(self, gen: str) -> bool:
        return self._stop.is_set() or self._current() != gen

    def _scopes(self) -> list[User]:
        """One user per scope: an admin first (the organization's diagnosis every scope reads),
        then the others from a place in the list that differs between worker processes."""
        scopes: dict[str, User] = {}
        for u in list_users(self.state.ws()):
            scopes.setdefault(u.principal().key, u)
        users = sorted(scopes.values(), key=lambda u: (u.role != "admin", u.username))
        head, rest = users[:1], users[1:]
        k = os.getpid() % len(rest) if rest else 0
        return head + rest[k:] + rest[:k]

    def warm(self, gen: str) -> bool:
        """Every scope's pages of generation ``gen``, :data:`BEFORE_SWITCH` then (marked
        ``ready``) :data:`AFTER_SWITCH` (marked ``warm``); False when stopped or made stale.
        A scope whose page fails is left to compute on demand (the page then says why): the
        generation is marked all the same, or the previous data would be served for ever."""
        st = self.state
        started = time.monotonic()
        st.shared.prune()
        users = self._scopes()
        for visits, mark in ((BEFORE_SWITCH, READY), (AFTER_SWITCH, WARM)):
            for user in users:
                for visit in visits:
                    if not self._visit(gen, user, visit):
                        return False
            if mark == READY and not self._replay(gen):
                return False
            if self._stale(gen):
                # a newer import arrived: marking this one ready now could send pages that
                # already show the newer data back to the older (tests/test_shared_workspace)
                return False
            st.shared.mark(gen, mark)
            log.info("%s %s: %d scopes in %.1f s", mark, gen, len(users),
                     time.monotonic() - started)  # fmt: skip
        return True

    def _replay(self, gen: str) -> bool:
        """The filtered views people opened on the previous generation (:mod:`._visits`),
        by the same users; False when the generation went stale meanwhile."""
        by_name = {u.username: u for u in list_users(self.state.ws())}
        for name, path, query, lang in self.visits.previous(gen):
            user = by_name.get(name)
            if user is not None and not self._visit(gen, user, Visit(path, lang, query)):
                return False
        return True

    def _visit(self, gen: str, user: User, visit: Visit) -> bool:
        """Open one page, again after a second while the gate is full of people; False when
        the generation went stale meanwhile."""
        while True:
            if self._stale(gen):
                return False
            try:
                self._open(user, visit)
                return True
            except Busy:  # the gate's queue is full of people: their turn first
                self._stop.wait(RETRY_S)
            except Exception:  # this scope's page computes on demand (and says why)
                if self._stale(gen):  # stopping: the server closed the connections
                    return False
                log.exception("warm-up of %s %s for %s failed", gen, visit.path, user.username)
                return True

    def _open(self, user: User, visit: Visit) -> None:
        """``GET visit.path`` for ``user`` without filters, in ``visit.lang``: the page's route
        itself (eigyo.app._pages) on a request made here, so the warm-up fills exactly the
        cache keys the page reads, whatever it comes to read. Nothing is sent anywhere."""
        from eigyo.app import _pages  # the pages import the app's state: imported when used

        path = visit.path.encode()
        scope = {
            "type": "http",
            "method": "GET",
            "path": visit.path,
            "raw_path": path,
            "root_path": "",
            "query_string": visit.query.encode(),
            "headers": [(b"cookie", f"{LANG_COOKIE}={visit.lang}".encode())],
            "scheme": "http",
            "server": ("warm-up", 0),
            "app": self._app,
        }
        request, session = Request(scope), Session(user)
        period = request.query_params.get("period")  # what FastAPI passes the route
        if visit.path.startswith("/steps/"):
            _pages.step_page(request, session, visit.path.removeprefix("/steps/"), period=period)
        elif visit.path == "/":
            _pages.overview(request, session, period=period)
