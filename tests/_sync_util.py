"""Helpers of the sync tests: workspaces, settings, and row-for-row comparison."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from eigyo import workspace
from eigyo.ingest import import_path
from eigyo.schema import TABLES
from eigyo.sync import connector, run_sync
from eigyo.sync.engine import SyncReport

FAST = {"backoff_s": 0.01, "retries": 3}


def make_ws(path: Path, crm: str, section: str) -> Path:
    """A new workspace whose eigyo.toml has ``[sync.<crm>]`` = ``section``."""
    workspace.init(path).close()
    cfg = path / "eigyo.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"\n[sync.{crm}]\n{section}\n", "utf-8")
    return path


def sync(path: Path, crm: str, **kw: Any) -> SyncReport:
    http = {**FAST, **kw.pop("http", {})}
    return run_sync(path, connector(crm, path, "Asia/Tokyo", **http), lang="en", **kw)


def imported(path: Path, export: Path, preset: str) -> Path:
    """A workspace loaded from the CSV export through ``eigyo import --preset``."""
    workspace.init(path).close()
    with workspace.open_workspace(path) as ws:
        import_path(ws, export, preset=preset)
    return path


def tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every canonical table's rows, sorted (the workspace's data, not its bookkeeping)."""
    with workspace.open_workspace(path, read_only=True) as ws:
        return {
            t.name: sorted(ws.raw.execute(f'SELECT * FROM "{t.name}"').fetchall(), key=repr)
            for t in TABLES
        }


def forecast_categories(path: Path) -> dict[str, str | None]:
    """Each opportunity's canonical forecast_category, by id."""
    with workspace.open_workspace(path, read_only=True) as ws:
        q = "SELECT opportunity_id, forecast_category FROM opportunities"
        return dict(ws.raw.execute(q).fetchall())


def rejects(path: Path) -> list[tuple[Any, ...]]:
    with workspace.open_workspace(path, read_only=True) as ws:
        q = 'SELECT "table", "row", "column", value, reason FROM _rejects ORDER BY ALL'
        return ws.raw.execute(q).fetchall()


def cli(path: Path, crm: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``eigyo sync`` in a child process (for kill -9)."""
    code = "import sys; from eigyo.cli import main; main(sys.argv[1:])"
    return subprocess.Popen(
        [sys.executable, "-c", code, "sync", crm, "--workspace", str(path), *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
