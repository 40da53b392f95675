"""Engine addresses: what ``--engine`` and ``eigyo.toml``'s ``engine`` may say, parsed once.

Three forms are understood, and everything else is refused with the list of forms, so a typo
never silently falls back to DuckDB:

- ``duckdb`` — the workspace's own ``eigyo.duckdb`` (the default);
- ``postgresql://user[:password]@host[:port]/database[?schema=NAME]`` (``postgres://`` too);
  tables live in the schema ``eigyo`` unless ``schema`` says otherwise, so publishing never
  replaces a company's own tables that happen to be called ``opportunities``;
- ``spark[?master=local[4]&path=/shared/eigyo]`` — a Spark session reading the Parquet files
  that ``eigyo engine push`` wrote (default: the folder ``spark-tables`` in the workspace).
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eigyo.errors import EigyoError

DEFAULT_PG_SCHEMA = "eigyo"
DEFAULT_SPARK_FOLDER = "spark-tables"


class EngineError(EigyoError):
    """An engine that cannot be used as asked: bad address, missing extra, unreachable, stale."""


@dataclass(frozen=True)
class EngineSpec:
    """A parsed engine address. ``kind`` is a key of :data:`ENGINES`."""

    kind: str
    url: str = field(repr=False)
    host: str | None = None
    port: int = 5432
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    schema: str = DEFAULT_PG_SCHEMA
    master: str | None = None
    path: str | None = None

    @property
    def display(self) -> str:
        """The address without its password, safe to print and to write into messages."""
        if self.kind != "postgresql":
            return self.url
        who = f"{self.user}@" if self.user else ""
        return f"postgresql://{who}{self.host}:{self.port}/{self.database}?schema={self.schema}"

    @property
    def orders_aggregates(self) -> bool:
        """Whether Ibis can order an aggregate here (``collect(order_by=…)``): not on Spark."""
        return ENGINES[self.kind].orders_aggregates

    @property
    def caches_memtables(self) -> bool:
        """Whether ``Table.cache()`` works on an expression that joins an in-memory table: Ibis's
        Spark backend does not register the in-memory table first, so the cached plan fails."""
        return ENGINES[self.kind].caches_memtables


def _redact(url: str) -> str:
    """The address with any password replaced by ``***`` (errors are printed and logged)."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _bad(url: str, why: str) -> EngineError:
    return EngineError(f"Engine {_redact(url)!r} {why}. Use one of: {', '.join(FORMS)}.")


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def _postgres(url: str) -> EngineSpec:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise _bad(url, f"has unknown option(s) {', '.join(unknown)} (only schema=NAME)")
    database = parts.path.lstrip("/")
    if not parts.hostname or not database:
        raise _bad(url, "needs a host and a database")
    try:
        port = parts.port or 5432
    except ValueError:
        raise _bad(url, "has a port that is not a number") from None
    schema = _one(query, "schema") or DEFAULT_PG_SCHEMA
    if not schema.replace("_", "").isalnum():
        raise _bad(url, f"has schema {schema!r}; use letters, digits and _")
    return EngineSpec(
        kind="postgresql",
        url=url,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=unquote(database),
        schema=schema,
    )


def _spark(url: str) -> EngineSpec:
    head, _, qs = url.partition("?")
    if head != "spark":
        raise _bad(url, "is not a Spark address")
    query = parse_qs(qs)
    unknown = sorted(set(query) - {"master", "path"})
    if unknown:
        raise _bad(url, f"has unknown option(s) {', '.join(unknown)} (only master, path)")
    return EngineSpec(kind="spark", url=url, master=_one(query, "master"), path=_one(query, "path"))


def _duckdb(url: str) -> EngineSpec:
    return EngineSpec(kind="duckdb", url="duckdb")


@dataclass(frozen=True)
class EngineEntry:
    """One engine, declared: how its address looks and parses, and where its code lives.

    ``engine`` and ``push`` are ``module:attribute`` references imported only when used, so
    naming Spark never imports PySpark until a Spark workspace opens (the ``[spark]`` extra).
    ``push`` is ``None`` for an engine that reads the workspace's own file (nothing to publish).
    The two flags are what its Ibis backend cannot do that the analyses work around.
    """

    name: str
    form: str
    matches: Callable[[str], bool]
    parse: Callable[[str], EngineSpec]
    engine: str
    push: str | None = None
    orders_aggregates: bool = True
    caches_memtables: bool = True

    def load(self, ref: str) -> Any:
        """The attribute ``module:name`` names (imported now)."""
        module, _, attr = ref.partition(":")
        return getattr(importlib.import_module(module), attr)


#: Every engine eigyo can run queries on, by ``EngineSpec.kind``; the first is the default.
ENGINES: dict[str, EngineEntry] = {
    e.name: e
    for e in (
        EngineEntry(
            name="duckdb",
            form="duckdb",
            matches=lambda text: text.lower() == "duckdb",
            parse=_duckdb,
            engine="eigyo.engines._base:DuckDBEngine",
        ),
        EngineEntry(
            name="postgresql",
            form="postgresql://USER@HOST:PORT/DATABASE[?schema=NAME]",
            matches=lambda text: text.startswith(("postgresql://", "postgres://")),
            parse=_postgres,
            engine="eigyo.engines._postgres:PostgresEngine",
            push="eigyo.engines._postgres:push",
        ),
        EngineEntry(
            name="spark",
            form="spark[?master=URL&path=FOLDER]",
            matches=lambda text: text == "spark" or text.startswith("spark?"),
            parse=_spark,
            engine="eigyo.engines._spark:SparkEngine",
            push="eigyo.engines._spark:push",
            orders_aggregates=False,  # no collect(order_by=…)
            caches_memtables=False,  # cache() does not register the in-memory table first
        ),
    )
}

#: What an engine address may look like, for error messages and docs.
FORMS: tuple[str, ...] = tuple(e.form for e in ENGINES.values())


def parse_engine(url: str) -> EngineSpec:
    """Parse an engine address; raise :class:`EngineError` naming the accepted forms."""
    text = url.strip()
    for entry in ENGINES.values():
        if entry.matches(text):
            return entry.parse(text)
    nearest = difflib.get_close_matches(text.partition(":")[0].lower(), list(ENGINES), n=1)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    raise _bad(url, f"is not an engine address{hint}")
