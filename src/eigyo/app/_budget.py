"""The time and memory budget of one heavy computation of the dashboard.

The fair gate (:mod:`eigyo.app._limits`) gives one computation the slot at a time; a
computation that runs past ``analysis_seconds`` would keep it from everyone, so a watcher thread
interrupts its engine query (DuckDB's ``interrupt``) — again every 50 ms until the computation
ends, because an interrupt that lands while Python works between two queries stops nothing. The
engine error that follows, or the engine's own out-of-memory error (its ``memory_limit``),
becomes :class:`TooLong`: one sentence, 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from eigyo.errors import EigyoError

#: How often an expired computation's query is interrupted again.
REPEAT_S = 0.05


class TooLong(EigyoError):
    """An analysis ran past :attr:`ServerLimits.analysis_seconds` (its engine query was
    interrupted) or past the engine's memory budget; the app answers 503, one sentence."""

    def __init__(self, seconds: float, memory: bool = False) -> None:
        key = "app.error.too_much_memory" if memory else "app.error.too_long"
        super().__init__(key=key, seconds=f"{seconds:g}")
        self.retry_after = 60


class Budget:
    """A watcher of one computation: :meth:`verdict` turns its error into :class:`TooLong` when
    the budget ran out (or the engine ran out of memory); :meth:`stop` ends the watch."""

    def __init__(self, seconds: float, cancel: Callable[[], None] | None) -> None:
        self.seconds = seconds
        self._done, self._expired = threading.Event(), threading.Event()
        if cancel is not None:
            args = (seconds, self._done, self._expired, cancel)
            threading.Thread(target=_watch, args=args, daemon=True).start()

    def verdict(self, e: BaseException) -> BaseException:
        """The error to raise for ``e``: :class:`TooLong`, or ``e`` itself."""
        if self._expired.is_set():
            return TooLong(self.seconds)
        if _out_of_memory(e):
            return TooLong(self.seconds, memory=True)
        return e

    def stop(self) -> None:
        self._done.set()


def _watch(
    seconds: float, done: threading.Event, expired: threading.Event, cancel: Callable[[], None]
) -> None:
    """Past ``seconds``, interrupt the computation — again every 50 ms until it ends: an
    interrupt that lands between two queries stops nothing, the next query must be stopped."""
    if done.wait(seconds):
        return
    expired.set()
    while True:
        cancel()
        if done.wait(REPEAT_S):
            return


def _out_of_memory(e: BaseException) -> bool:
    """The engine stopped a query at its memory budget (DuckDB's OutOfMemoryException)."""
    return type(e).__name__ == "OutOfMemoryException"
