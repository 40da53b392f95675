"""Snapshots and alerts on a small imported organization whose team A slows down at the end.

Two teams answer leads in about 30 minutes for 26 weeks; then team A takes 70. The chart of
team A must raise one alert, team B none; a second run must not repeat it; history must survive
a re-import; ``--since last`` must do nothing on unchanged data.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eigyo import workspace
from eigyo.base.periods import parse_period
from eigyo.cli import app
from eigyo.diagnose.model import Finding
from eigyo.ingest import import_path
from eigyo.monitor import list_snapshots, regressions, take_snapshot
from eigyo.monitor.alerts import finding_alerts, finding_key
from eigyo.monitor.config import TEMPLATE, parse
from eigyo.workspace import open_workspace

WEEKS, SHIFT_WEEKS = 30, 4
START = datetime(2025, 1, 6, 10, 0)  # a Monday
MONITOR = """
[monitor]
metrics = ["lead_response_minutes"]
grains = ["week"]
weeks = 30
recent_weeks = 6
"""


def _leads(extra: int = 0) -> str:
    rng = np.random.default_rng(7)
    lines = ["lead_id,created_at,owner_rep_id,mql_at,first_response_at,status"]
    n = 0
    for week in range(WEEKS):
        for rep in ("a1", "a2", "b1", "b2"):
            for k in range(4):
                created = START + timedelta(weeks=week, days=2 * k if k < 3 else 6)
                minutes = 30 + rng.normal(0, 4)
                if rep.startswith("a") and week >= WEEKS - SHIFT_WEEKS:
                    minutes += 40
                resp = created + timedelta(minutes=float(minutes))
                n += 1
                lines.append(
                    f"L{n},{created:%Y-%m-%dT%H:%M},{rep},{created:%Y-%m-%dT%H:%M},"
                    f"{resp:%Y-%m-%dT%H:%M:%S},working"
                )
    for i in range(extra):
        lines.append(f"X{i},2025-07-01T10:00,b1,,,open")
    return "\n".join(lines) + "\n"


def _write_inputs(folder: Path, extra: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reps.csv").write_text(
        "rep_id,team,role,hire_date\na1,A,generalist,2020-04-01\na2,A,generalist,2020-04-01\n"
        "b1,B,generalist,2020-04-01\nb2,B,generalist,2020-04-01\n",
        encoding="utf-8",
    )
    (folder / "opportunities.csv").write_text(
        "opportunity_id,owner_rep_id,amount,created_at,status\no1,a1,100000,2025-01-10,open\n",
        encoding="utf-8",
    )
    (folder / "leads.csv").write_text(_leads(extra), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monitor")
    ws = workspace.init(root / "ws")
    cfg = ws.path / "eigyo.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + MONITOR, encoding="utf-8")
    import_path(ws, _write_inputs(root / "in"))
    ws.close()
    return root / "ws"


@pytest.fixture
def ws_path(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "ws")
    return tmp_path / "ws"


def test_shift_alerts_once_and_since_last_is_idempotent(ws_path: Path) -> None:
    with open_workspace(ws_path) as ws:
        first = take_snapshot(ws)
        limits = [a for a in first.alerts if a.kind == "limit"]
        # Team A and the organization (half of whose leads are A's) slowed down; B did not.
        assert sorted((a.metric, json.dumps(a.scope), a.payload["direction"]) for a in limits) == [
            ("lead_response_minutes", '{"team": "A"}', "up"),
            ("lead_response_minutes", "{}", "up"),
        ]
        assert all(a.payload["value"] > a.payload["limit"] for a in limits)
        again = take_snapshot(ws, since_last=True)
        assert (again.created, again.alerts) == (False, [])
        assert again.snapshot.snapshot_id == first.snapshot.snapshot_id
        assert len(list_snapshots(ws)) == 1
        rerun = take_snapshot(ws)  # a new snapshot, but the same news is not told twice
        assert rerun.created and rerun.alerts == []
        assert len(list_snapshots(ws)) == 2
        n_alerts = ws.raw.execute("SELECT count(*) FROM _alerts").fetchall()[0][0]
        assert n_alerts == len(first.alerts)


def test_history_survives_reimport_and_new_data_makes_a_new_snapshot(
    ws_path: Path, tmp_path: Path
) -> None:
    with open_workspace(ws_path) as ws:
        first = take_snapshot(ws)
        import_path(ws, _write_inputs(tmp_path / "again", extra=3))
        assert [s.snapshot_id for s in list_snapshots(ws)] == [first.snapshot.snapshot_id]
        assert ws.raw.execute("SELECT count(*) FROM _alerts").fetchall()[0][0] > 0
        later = take_snapshot(ws, since_last=True)
        assert later.created
        assert later.snapshot.data_version != first.snapshot.data_version
        assert [a for a in later.alerts if a.kind == "limit"] == []  # already told


def test_regressions_give_the_numbers_a_finding_needs(ws_path: Path) -> None:
    with open_workspace(ws_path) as ws:
        period = parse_period("FY2025")
        assert regressions(ws, period) == []  # monitoring never ran: nothing to read
        take_snapshot(ws, period)
        found = regressions(ws, period)
    assert sorted(json.dumps(r.scope) for r in found) == ['{"team": "A"}', "{}"]
    r = next(r for r in found if r.scope == {"team": "A"})
    assert (r.metric, r.grain) == ("lead_response_minutes", "week")
    assert 25 < r.center < 35 and r.value > r.limit > r.center and r.z > 3
    assert r.rule == "ewma" and r.points >= 1 and r.period_value is not None


def _finding(check: str, severity: str, team: str = "A") -> Finding:
    return Finding(
        step="measure",
        check=check,
        severity=severity,  # type: ignore[arg-type]
        metric="win_rate",
        scope={"team": team},
        evidence={},
        cause={},
        actions=[],
        title={"ja": f"{check} ja", "en": f"{check} en"},
    )


def test_findings_alert_when_new_or_worse_but_not_when_unchanged() -> None:
    before = {
        finding_key(_finding("a", "warn")): "warn",
        finding_key(_finding("b", "error")): "error",
    }
    now = [
        _finding("a", "error"),
        _finding("b", "error"),
        _finding("c", "warn"),
        _finding("d", "ok"),
    ]
    got = {(a.payload["check"], a.kind) for a in finding_alerts(before, now)}
    assert got == {("a", "finding_worse"), ("c", "finding_new")}
    assert all(a.message["ja"] and a.message["en"] for a in finding_alerts(before, now))


def test_cli_monitor_and_alerts_print_one_json_document(ws_path: Path) -> None:
    run = CliRunner().invoke(app, ["monitor", "-w", str(ws_path), "--format", "json"])
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert doc["created"] and doc["snapshot"]["snapshot_id"] == 1 and doc["alerts"]
    again = CliRunner().invoke(
        app, ["monitor", "-w", str(ws_path), "--since", "last", "--format", "json"]
    )
    assert json.loads(again.stdout)["created"] is False
    listed = CliRunner().invoke(app, ["alerts", "-w", str(ws_path), "--format", "json"])
    assert len(json.loads(listed.stdout)["alerts"]) == len(doc["alerts"])
    text = CliRunner().invoke(app, ["alerts", "-w", str(ws_path), "--lang", "en"])
    assert "lead response" in text.stdout.lower() or "Lead response" in text.stdout


def test_cli_rejects_a_bad_since(ws_path: Path) -> None:
    res = CliRunner().invoke(app, ["monitor", "-w", str(ws_path), "--since", "yesterday"])
    assert res.exit_code == 2


def test_settings_template_parses_to_the_defaults() -> None:
    import tomllib

    assert parse(tomllib.loads(TEMPLATE)) == parse({})


def test_settings_problems_are_reported_together() -> None:
    from eigyo.errors import WorkspaceError

    raw = {"monitor": {"metrics": ["nope"], "weeks": "x", "email": {"enabled": True}}}
    with pytest.raises(WorkspaceError) as e:
        parse(raw)
    msg = str(e.value)
    assert "3 problem(s)" in msg and "'nope'" in msg and "monitor.weeks" in msg
    assert "monitor.email.to" in msg
