"""Which generation the dashboard serves: the newest one whose shared results are computed.

Why (issue 18): an import publishes its generation at once, but that generation's shared results
— the organization's diagnosis, every scope's overview — take a minute or more to compute on a
medium company under load. Read at once, the new generation left everyone waiting for them, and
many were told "busy" (503), right when the new data arrived (a cold window of 46–169 s,
bench/RESULTS-dashboard.md). So while the warm-up (:mod:`eigyo.app._warm`) computes the new
generation's results, the dashboard keeps serving the previous generation, whose results are
all computed, and says so on every page; when the warm-up has computed what every page starts
from it marks the generation ``ready`` (:meth:`SharedCache.mark`, one file beside its results),
and from the next request on every worker serves the new generation: the switch is all at once,
for every worker, because the mark is one file they all look at.

* **One generation per request**: the door reads :func:`served` once and sets
  :data:`~eigyo.app._generation.GENERATION`; every query of the request reads that one.
* **Labelled**: while a newer generation is being prepared, :data:`SERVED` carries the time of
  the data shown and of the import being prepared; every page shows it (the base template), in
  the reader's language.
* **Nothing ready yet** (the first import, a new release or changed settings: results are keyed
  by those, :mod:`eigyo.app._shared_cache`): the pages built on the shared results (the overview
  and the step pages, :data:`PREPARED_PAGES`) answer a "being prepared" page that reloads itself;
  the others read the current generation and compute on demand, as before.
* **Signing in** (and the other light paths) reads the current generation: a user added by the
  newest generation signs in at once.
* Without the warm-up (``ServerLimits.warm_up`` off: the library's ``create_app``, tests), the
  current generation is always served, as before: nothing would ever mark it ready.
* An older generation is served only while its file exists: the workspace keeps two, so two
  imports in a row before the first is ready leave nothing ready to serve (then "being prepared").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from eigyo.app._shared_cache import SharedCache
from eigyo.workspace import GEN_DIR, generation, generation_number

#: The mark of a generation the dashboard may serve (its shared results are computed).
READY = "ready"
#: The pages built on the shared results: "being prepared" while nothing is ready to serve.
PREPARED_PAGES = ("/", "/steps/")
#: Seconds between two reloads of the "being prepared" page.
REFRESH_S = 5


@dataclass(frozen=True)
class Served:
    """What one request reads: ``gen``, and whether a newer generation is being prepared."""

    gen: str
    #: When ``gen`` was published (its file's time), when a newer one is being prepared.
    as_of: datetime | None = None
    #: When the generation being prepared was published; None when ``gen`` is the newest.
    pending_since: datetime | None = None
    #: Nothing is ready to serve: the prepared pages answer "being prepared".
    preparing: bool = False

    @property
    def pending(self) -> bool:
        return self.pending_since is not None

    @property
    def labelled(self) -> bool:
        """Pages read a previous generation: they say so (the base template)."""
        return self.pending and not self.preparing

    @staticmethod
    def when(moment: datetime | None) -> str:
        """A publication time as the notice shows it (``?`` when the file's time is unknown)."""
        return "?" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _published(workspace: Path, gen: str, tz: tzinfo | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(workspace / gen).st_mtime, tz)
    except OSError:
        return None


def served(workspace: Path, shared: SharedCache, tz: tzinfo | None = None) -> Served:
    """The generation to serve now: the current one when it is ready (one ``readlink`` and one
    ``stat``), else the newest older one still on disk that is ready, else the current one with
    :attr:`Served.preparing` set. ``tz``: the workspace's time zone, for the times shown."""
    current = generation(workspace)
    if not current or shared.marked(current, READY):
        return Served(current)
    since = _published(workspace, current, tz)
    number = generation_number(current)
    older = sorted(
        (f for f in (workspace / GEN_DIR).glob("eigyo-*.duckdb")
         if generation_number(f.name) < number),
        key=lambda f: generation_number(f.name),
        reverse=True,
    )  # fmt: skip
    for f in older:
        gen = f"{GEN_DIR}/{f.name}"
        if shared.marked(gen, READY):
            return Served(gen, _published(workspace, gen, tz), since)
    return Served(current, None, since, preparing=True)


def prepared_page(path: str) -> bool:
    """Whether ``path`` is one of the pages answered "being prepared" while nothing is ready."""
    return path == "/" or path.startswith(PREPARED_PAGES[1:])
