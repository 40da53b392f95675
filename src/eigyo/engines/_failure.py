"""A query engine's own failure as one sentence: which step, what happened, what to do.

Spark runs in a Java process that eigyo drives through Py4J. When a query fails there — the
driver runs out of memory, the JVM stops, a Java exception is thrown — PySpark raises a Python
exception whose text is the whole Java stack trace (hundreds of lines). A person running
``eigyo diagnose`` needs one sentence instead: the step that failed, that it was memory (or the
JVM stopping, which is what a driver out of memory usually does next) and the setting to change.

:func:`engine_failure` recognizes such an exception by where its class comes from (``py4j`` or
``pyspark``, anywhere in its chain of causes) without importing PySpark, and
:func:`engine_step` turns one raised inside a step into a :class:`SparkFailure`, which the CLI
prints in the reader's language like every other :class:`~eigyo.errors.EigyoError`. Anything
else passes through untouched: a bug in eigyo stays a bug.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eigyo.engines._spec import EngineError
from eigyo.i18n import t

#: Text in a Java failure that means the JVM ran out of heap.
OUT_OF_MEMORY = ("OutOfMemoryError", "Java heap space", "GC overhead limit exceeded")
#: Text that means the JVM (or its SparkContext) is gone: after an out-of-memory, usually.
STOPPED = (
    "Py4JNetworkError",
    "Answer from Java side is empty",
    "Connection refused",
    "SparkContext was shut down",
    "stopped SparkContext",
    "SparkContext has been shutdown",
)
#: Longest excerpt of the Java message a sentence quotes.
DETAIL_CHARS = 160


class SparkFailure(EngineError):
    """A Spark failure during one step (``step``: a catalogue key and its values)."""

    def __init__(self, kind: str, step: tuple[str, dict[str, object]], **values: object) -> None:
        self.step = step
        super().__init__(key=f"engine.spark.{kind}", step=t(step[0], "en", **step[1]), **values)

    def localized(self, lang: str) -> str:
        assert self.key is not None
        values = {**self.values, "step": t(self.step[0], lang, **self.step[1])}
        return t(self.key, lang, **values)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its causes (``raise … from``, or raised while handling another)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _from_spark(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("py4j", "pyspark"))


def _detail(exc: BaseException) -> str:
    """The Java exception's class and message, one line: the root cause when the trace names
    one (``Caused by: … is not a Parquet file`` says more than ``Job aborted due to stage
    failure``), else the first exception line (``java.lang.OutOfMemoryError: Java heap
    space``), never the trace under it."""
    text = str(exc)
    causes = re.findall(r"Caused by: ([^\n]+)", text)
    java = re.search(r"((?:java|org|scala)\.[\w.$]+(?:Error|Exception)[^\n]*)", text)
    if causes:
        line = causes[-1]
    elif java:
        line = java.group(1)
    else:
        line = next((s for s in text.splitlines() if s.strip()), "")
    # a long absolute path would push the reason past the excerpt: its file name says enough
    line = re.sub(r"(?:file:)?(?:/[^\s/:]+)+/([^\s/]+)", r"…/\1", line.strip())
    line = line or type(exc).__name__
    return line if len(line) <= DETAIL_CHARS else line[: DETAIL_CHARS - 1] + "…"


def driver_memory() -> str:
    """The driver's memory as this process asked for it (``PYSPARK_SUBMIT_ARGS``), else what
    the running session says, else Spark's default (1g). Read without the JVM when possible: it
    may be the thing that just stopped."""
    asked = re.search(r"--driver-memory[ =](\S+)", os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
    if asked:
        return asked.group(1)
    try:
        from pyspark import SparkContext

        sc: Any = SparkContext._active_spark_context
        if sc is not None:
            return str(sc.getConf().get("spark.driver.memory", "1g"))
    except Exception:  # no PySpark, or a JVM that is gone: the default is what it ran with
        return "1g"
    return "1g"


def engine_failure(exc: BaseException, step: tuple[str, dict[str, object]]) -> EngineError | None:
    """``exc`` as one sentence naming ``step`` (a catalogue key and its values) when it is
    Spark's (Py4J, PySpark, a Java exception); None for anything else."""
    if isinstance(exc, EngineError):
        return exc
    chain = list(_chain(exc))
    spark = [e for e in chain if _from_spark(e)]
    if not spark:
        return None
    text = " ".join(f"{type(e).__name__} {e}" for e in chain)
    detail = _detail(spark[0])
    if any(s in text for s in OUT_OF_MEMORY):
        return SparkFailure("out_of_memory", step, detail=detail, memory=driver_memory())
    if any(s in text for s in STOPPED):
        return SparkFailure("stopped", step, detail=detail, memory=driver_memory())
    return SparkFailure("failed", step, detail=detail)


@contextmanager
def engine_step(key: str, **values: object) -> Iterator[None]:
    """Run a step whose engine failures become one sentence naming it (``key``: the catalogue
    key of the step's name, with its ``values``)."""
    try:
        yield
    except Exception as e:
        failure = engine_failure(e, (key, values))
        if failure is None or failure is e:
            raise
        raise failure from None
