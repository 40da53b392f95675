"""One import is one transaction, even when the process is killed (SIGKILL) before COMMIT.

The child process imports enough rows (several DuckDB row groups, which DuckDB may already write to
the database file before COMMIT) and pauses right before COMMIT through the test-only hook
``EIGYO_TEST_PAUSE_BEFORE_COMMIT``; the test kills it there and reopens the workspace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from eigyo import workspace
from eigyo.ingest import import_path
from eigyo.ingest.load import PAUSE_ENV

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, snapshot, write

_N = 300_000  # > 2 row groups of 122,880 rows


def _big_input(folder: Path) -> Path:
    lines = [f"a{i},r{1 + i % 2},call,2025-04-01 09:00,5,connected" for i in range(_N)]
    body = "activity_id,rep_id,type,occurred_at,duration_minutes,outcome\n" + "\n".join(lines)
    opps = OPPS.replace("300000", "999")  # replaces o2: must not show after the kill
    return write(folder, {"reps.csv": REPS, "opportunities.csv": opps, "activities.csv": body})


def _kill_at_commit(ws_path: Path, src: Path, marker: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from eigyo import workspace; "
        "from eigyo.ingest import import_path; "
        "import_path(workspace.open_workspace(Path(sys.argv[1])), Path(sys.argv[2]))"
    )
    env = {**os.environ, PAUSE_ENV: str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(ws_path), str(src)], env=env)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert proc.poll() is None, "the import ended before reaching COMMIT"
            assert time.monotonic() < deadline, "the import never reached COMMIT"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_before_commit_leaves_the_previous_state(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "first", {"reps.csv": REPS, "opportunities.csv": OPPS}))
    before = snapshot(ws)
    ws.close()
    marker = tmp_path / "paused"
    _kill_at_commit(tmp_path / "ws", _big_input(tmp_path / "big"), marker)
    with workspace.open_workspace(tmp_path / "ws") as again:
        assert snapshot(again) == before
        assert again.count("activities") == 0
        assert again.raw.execute("SELECT max(import_id) FROM _imports").fetchall() == [(1,)]
        # and the workspace still takes the same import afterwards
        report = import_path(again, tmp_path / "big")
        assert (report.import_id, again.count("activities")) == (2, _N)
