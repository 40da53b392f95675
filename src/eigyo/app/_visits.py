"""The filtered views people opened on a generation, so the warm-up computes them for the next.

Why: a view filtered to a team, a rep, a product or a period is any combination, so it cannot be
listed in advance like the unfiltered pages (:mod:`eigyo.app._warm`); after an import switched,
each one's first visit computed it in a turn at the fair gate, and with 50 people they queued
past the gate's limits (176 × 503 in bench/RESULTS-dashboard.md). What people opened on the
previous generation is what they open on the next, so the door records each distinct view of
the pages built on the shared results (the overview, the step pages) that has a query string —
who, path, query, language — in ``cache/<generation>/visits.log`` (:data:`MAX_VISITS` at most
per generation, JSON lines, the server user's only), and the warm-up opens the previous
generation's before it marks the new one ready. Memory: one set of at most :data:`MAX_VISITS`
entries, of the generation being served only.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import suppress
from pathlib import Path

from eigyo.app._shared_cache import SharedCache
from eigyo.workspace import generation_number

#: Most distinct views recorded per generation (and warmed for the next).
MAX_VISITS = 200
#: Each generation's recorded views, in its cache folder.
FILE = "visits.log"
#: One view: user name, path, query string, language.
View = tuple[str, str, str, str]


class Visits:
    """The views recorded by one process (each worker appends to the same files)."""

    def __init__(self, shared: SharedCache) -> None:
        self.shared = shared
        self._gen = ""
        self._seen: set[View] = set()
        self._lock = threading.Lock()

    def record(self, gen: str, view: View) -> None:
        """Remember ``view`` of generation ``gen`` (once per process; best effort)."""
        with self._lock:
            if gen != self._gen:
                self._gen, self._seen = gen, set()
            if view in self._seen or len(self._seen) >= MAX_VISITS:
                return
            self._seen.add(view)
        folder = self.shared.folder(gen)
        with suppress(OSError):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(folder / FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(json.dumps(list(view), ensure_ascii=False) + "\n")

    def previous(self, gen: str) -> list[View]:
        """The distinct views recorded on the newest generation older than ``gen`` that has any
        (in the order first recorded, at most :data:`MAX_VISITS`)."""
        number = generation_number(gen)
        if not self.shared.root.is_dir():
            return []
        older = sorted(
            (d for d in self.shared.root.iterdir()
             if (d / FILE).is_file() and 0 < _number(d) < number),
            key=_number,
            reverse=True,
        )  # fmt: skip
        for folder in older:
            return _read(folder / FILE)
        return []


def _number(folder: Path) -> int:
    return generation_number(f"{folder.name}.duckdb")


def _read(file: Path) -> list[View]:
    views: dict[View, None] = {}
    with suppress(OSError):
        for line in file.read_text(encoding="utf-8").splitlines():
            with suppress(ValueError, TypeError):
                user, path, query, lang = json.loads(line)
                views.setdefault((str(user), str(path), str(query), str(lang)), None)
            if len(views) >= MAX_VISITS:
                break
    return list(views)
