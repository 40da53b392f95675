"""Test helper: the demo company (troubled and clean) imported once per test session."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from eigyo import workspace
from eigyo.demo import generate
from eigyo.ingest import import_path
from eigyo.workspace import Workspace


@cache
def demo_path(clean: bool) -> Path:
    """Generate the small demo company (seed 0) and import it into a fresh workspace."""
    root = Path(tempfile.mkdtemp(prefix="eigyo-people-"))
    generate(root / "csv", clean=clean)
    ws = workspace.init(root / "ws")
    import_path(ws, root / "csv")
    ws.close()
    return root / "ws"


def demo_ws(clean: bool = False) -> Workspace:
    return workspace.open_workspace(demo_path(clean), read_only=True)
