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
from eigyo.engines._failure import SparkFailure, engine_failure, engine_step
from eigyo.engines._spec import ENGINES, FORMS, EngineError, EngineSpec, parse_engine

if TYPE_CHECKING:
    from eigyo.workspace import Workspace


def connect(ws: Workspace, spec: EngineSpec) -> Engine:
    """Open the engine for a workspace, refusing one that holds no or stale published data."""
    entry = ENGINES[spec.kind]
    engine: Engine = entry.load(entry.engine)(ws, spec)
    return engine


def push(ws: Workspace, spec: EngineSpec) -> PushResult:
    """Publish the workspace's canonical tables to the engine, replacing its previous copy."""
    entry = ENGINES[spec.kind]
    if entry.push is None:
        others = [e.form for e in ENGINES.values() if e.push is not None]
        raise EngineError(
            "DuckDB is where the workspace's data already lives: there is nothing to publish. "
            f"Name another engine with --engine ({', '.join(others)})."
        )
    result: PushResult = entry.load(entry.push)(ws, spec)
    return result


__all__ = [
    "ENGINES",
    "FORMS",
    "DuckDBEngine",
    "Engine",
    "EngineError",
    "EngineSpec",
    "PushResult",
    "SparkFailure",
    "connect",
    "engine_failure",
    "engine_step",
    "parse_engine",
    "push",
]
