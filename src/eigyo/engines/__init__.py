"""Query engines: where :meth:`Workspace.table` expressions run (DuckDB, PostgreSQL, Spark).

A workspace's data always lives in its DuckDB file, where the importer writes it. An engine
other than DuckDB runs the *queries*: :func:`push` publishes the canonical tables there
(``eigyo engine push``) and :func:`connect` opens the engine that ``--engine`` or
``eigyo.toml`` names. Metrics and analyses never know which one answers: they only call
``Workspace.table``. See ``docs/engines.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eigyo.engines._base import DuckDBEngine, Engine, PushResult
from eigyo.engines._spec import FORMS, EngineError, EngineSpec, parse_engine

if TYPE_CHECKING:
    from eigyo.workspace import Workspace


def connect(ws: Workspace, spec: EngineSpec) -> Engine:
    """Open the engine for a workspace, refusing one that holds no or stale published data."""
    if spec.kind == "postgresql":
        from eigyo.engines._postgres import PostgresEngine

        return PostgresEngine(ws, spec)
    if spec.kind == "spark":
        from eigyo.engines._spark import SparkEngine

        return SparkEngine(ws, spec)
    return DuckDBEngine(ws, spec)


def push(ws: Workspace, spec: EngineSpec) -> PushResult:
    """Publish the workspace's canonical tables to the engine, replacing its previous copy."""
    if spec.kind == "postgresql":
        from eigyo.engines import _postgres

        return _postgres.push(ws, spec)
    if spec.kind == "spark":
        from eigyo.engines import _spark

        return _spark.push(ws, spec)
    raise EngineError(
        "DuckDB is where the workspace's data already lives: there is nothing to publish. "
        f"Name another engine with --engine ({', '.join(FORMS[1:])})."
    )


__all__ = [
    "FORMS",
    "DuckDBEngine",
    "Engine",
    "EngineError",
    "EngineSpec",
    "PushResult",
    "connect",
    "parse_engine",
    "push",
]
