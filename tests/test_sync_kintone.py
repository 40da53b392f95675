"""eigyo sync kintone against a kintone API on the loopback interface (tests/_sync_kintone.py)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from eigyo import workspace
from eigyo.ingest import import_path
from eigyo.sync import SyncError
from tests._sync_kintone import APP, TOKEN, App, export_csv
from tests._sync_server import Server
from tests._sync_util import (
    cli,
    forecast_categories,
    imported,
    make_ws,
    rejects,
    sync,
    tables,
)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGYO_KINTONE_TOKEN", TOKEN)


def _ws(tmp: Path, url: str, name: str = "ws") -> Path:
    return make_ws(tmp / name, "kintone", f'base_url = "{url}"\napps = [{APP}]')


def test_synced_equals_csv_import_then_incremental(tmp_path: Path, token: None) -> None:
    app = App(1234)  # three pages of 500
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        first = sync(ws, "kintone")
        assert first.changed and first.fetched[f"app-{APP}"] == 1234
        queries = [r.arg("query") for r in s.log if r.path == "/k/v1/records.json"]
        assert len(queries) == 3 and all("limit 500" in q and "offset" not in q for q in queries)
        assert first.fetched[f"deleted-app-{APP}"] == 0  # nothing synced before: no scan
        ref = imported(tmp_path / "csv1", export_csv(app, tmp_path / "exp1"), "kintone")
        assert tables(ws) == tables(ref)
        assert rejects(ws) == rejects(ref)  # the same rows rejected for the same reasons
        # 確度 A, B, C, D and blank in turn: commit, best case, pipeline, omitted, none
        turn = ["commit", "best_case", "pipeline", "omitted", None]
        got = forecast_categories(ws)
        assert len(got) == 1234 and got == {str(i): turn[i % 5] for i in range(1, 1235)}
        gen = workspace.generation(ws)
        again = sync(ws, "kintone")  # nothing changed in kintone: nothing changes here
        assert not again.changed and workspace.generation(ws) == gen
        app.edit(5, ステータス="受注", amount="990000")
        app.edit(700, 会社名="株式会社新")
        app.add()
        s.log.clear()
        third = sync(ws, "kintone")
        assert third.written[f"app-{APP}"] == 3
        fetches = [
            r for r in s.log if r.path == "/k/v1/records.json" and "fields[0]" not in r.query
        ]
        assert '更新日時 >= "' in fetches[-1].arg("query")
        ref2 = imported(tmp_path / "csv2", export_csv(app, tmp_path / "exp2"), "kintone")
        assert tables(ws) == tables(ref2)


def test_rate_limit_and_server_errors_are_retried(tmp_path: Path, token: None) -> None:
    app = App(600)
    with Server(app.handle) as s:
        s.faults.throttle, s.faults.errors, s.faults.only = 2, 1, "records.json"
        report = sync(_ws(tmp_path, s.url), "kintone", http={"retries": 4})
        assert report.fetched[f"app-{APP}"] == 600
        assert report.rate_wait_s >= 2.0  # Retry-After: 1, twice


def test_auth_permission_and_limit_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App(10)
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        monkeypatch.setenv("EIGYO_KINTONE_TOKEN", "wrong-token-123456")
        with pytest.raises(SyncError) as e:
            sync(ws, "kintone")
        assert e.value.key == "sync.error.auth" and "wrong-token" not in str(e.value)
        assert "\n" not in e.value.localized("ja")
        monkeypatch.setenv("EIGYO_KINTONE_TOKEN", TOKEN)
        other = make_ws(tmp_path / "other", "kintone", f'base_url = "{s.url}"\napps = [99]')
        with pytest.raises(SyncError) as e:
            sync(other, "kintone")
        assert e.value.key == "sync.error.permission"
        s.faults.throttle, s.faults.retry_after = 10, "0"
        with pytest.raises(SyncError) as e:
            sync(ws, "kintone")
        assert e.value.key == "sync.error.limit"
    with pytest.raises(SyncError) as e:  # the server is gone: network loss
        sync(ws, "kintone", http={"retries": 1})
    assert e.value.key == "sync.error.network"


def test_secrets_never_in_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EIGYO_KINTONE_TOKEN", raising=False)
    ws = make_ws(tmp_path / "a", "kintone", 'base_url = "http://127.0.0.1:9"\napps = [1]')
    with pytest.raises(SyncError) as e:
        sync(ws, "kintone")
    assert e.value.key == "sync.error.no_secret" and "EIGYO_KINTONE_TOKEN" in str(e.value)
    bad = make_ws(tmp_path / "b", "kintone", 'base_url = "x"\napps = [1]\napi_token = "abc"')
    with pytest.raises(SyncError) as e:
        sync(bad, "kintone")
    assert e.value.key == "sync.error.secret_in_settings"


def test_kill_9_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    app = App(3000)  # six pages
    env = {"EIGYO_KINTONE_TOKEN": TOKEN}
    with Server(app.handle) as s:
        whole = _ws(tmp_path, s.url, "whole")
        os.environ.update(env)
        try:
            sync(whole, "kintone")
        finally:
            os.environ.pop("EIGYO_KINTONE_TOKEN")
        ws = _ws(tmp_path, s.url, "killed")
        s.faults.delay_s = 0.3
        proc = cli(ws, "kintone", env)
        journal = ws / ".sync" / "kintone" / "journal.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists():
                st = json.loads(journal.read_text("utf-8"))["streams"].get(f"app-{APP}", {})
                if st.get("parts", 0) >= 2:
                    break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert tables(ws) == {k: [] for k in tables(ws)}  # nothing reached the workspace
        s.faults.delay_s = 0
        s.log.clear()
        done = cli(ws, "kintone", env, "--format", "json")
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        report = json.loads(out)
        assert report["resumed"] and report["fetched"][f"app-{APP}"] == 3000
        assert len([r for r in s.log if r.path == "/k/v1/records.json"]) <= 5  # resumed
        assert TOKEN not in out + err
    assert tables(ws) == tables(whole)


def test_an_app_with_renamed_fields_syncs_through_its_mapping_file(
    tmp_path: Path, token: None
) -> None:
    """Field mapping as in the import mapping files: ``[sync.kintone] mapping = "FILE"``."""
    app = App(800, labels={"amount": "予算", "ステータス": "進捗", "担当者": "営業"})
    template = (Path(__file__).parents[1] / "examples" / "kintone-template.toml").read_text("utf-8")
    mapping = (
        template.replace('["見込み金額"]', '["予算"]')
        .replace('columns.status = ["ステータス"]', 'columns.status = ["進捗"]')
        .replace('columns.owner_rep_id = ["担当者"]', 'columns.owner_rep_id = ["営業"]')
    )
    with Server(app.handle) as s:
        ws = make_ws(
            tmp_path / "ws", "kintone", f'base_url = "{s.url}"\napps = [{APP}]\nmapping = "m.toml"'
        )
        (ws / "m.toml").write_text(mapping, encoding="utf-8")
        sync(ws, "kintone")
    ref = tmp_path / "ref"
    workspace.init(ref).close()
    with workspace.open_workspace(ref) as w:
        import_path(w, export_csv(app, tmp_path / "exp"), mapping=ws / "m.toml")
    got = tables(ws)
    assert got == tables(ref) and len(got["opportunities"]) == 800
    assert len(got["reps"]) == 3  # 営業 (the renamed user field) named the owners


def test_the_cli_prints_one_summary_in_japanese_and_english(tmp_path: Path) -> None:
    app = App(30)
    env = {"EIGYO_KINTONE_TOKEN": TOKEN}
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        out, _ = cli(ws, "kintone", env, "--lang", "en").communicate(timeout=120)
        assert "kintone: fetched 30, imported 30, removed 0" in out
        again, _ = cli(ws, "kintone", env).communicate(timeout=120)
        assert "前回の同期から変更はありません" in again


def test_kill_9_inside_the_import_leaves_the_workspace_unchanged(tmp_path: Path) -> None:
    """Killed after every row is written but before COMMIT: nothing published; the re-run
    imports the staged pages without fetching them again."""
    app = App(700)
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        flag = tmp_path / "paused"
        env = {"EIGYO_KINTONE_TOKEN": TOKEN, "EIGYO_TEST_PAUSE_BEFORE_COMMIT": str(flag)}
        proc = cli(ws, "kintone", env)
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flag.exists()
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert all(not rows for rows in tables(ws).values())
        s.log.clear()
        done = cli(ws, "kintone", {"EIGYO_KINTONE_TOKEN": TOKEN}, "--format", "json")
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        assert json.loads(out)["resumed"]
        assert not [r for r in s.log if r.path == "/k/v1/records.json"]  # all staged already
        ref = imported(tmp_path / "csv", export_csv(app, tmp_path / "exp"), "kintone")
    assert tables(ws) == tables(ref)


def test_deleted_records_are_found_by_an_id_scan_and_removed(tmp_path: Path, token: None) -> None:
    """kintone lists no deletions: a scan of ``$id`` values (ids only, 500 a call) finds them."""
    app = App(1100)
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        sync(ws, "kintone")
        gen = workspace.generation(ws)
        s.log.clear()
        again = sync(ws, "kintone")  # nothing deleted: the scan runs and changes nothing
        assert not again.changed and workspace.generation(ws) == gen
        scans = [r for r in s.log if r.path == "/k/v1/records.json" and "fields[0]" in r.query]
        assert [r.arg("totalCount") for r in scans] == ["true", "", "", ""]  # size, 3 pages
        assert all(r.query["fields[0]"] == ["$id"] for r in scans)
        app.delete(7)
        app.delete(1100)
        app.edit(8, ステータス="受注")
        third = sync(ws, "kintone")
        assert third.removed == 2 and third.written[f"app-{APP}"] == 1
        ref = imported(tmp_path / "csv", export_csv(app, tmp_path / "exp"), "kintone")
        assert tables(ws) == tables(ref)
        gen = workspace.generation(ws)
        assert not sync(ws, "kintone").changed and workspace.generation(ws) == gen


def test_detect_deletions_false_never_scans(tmp_path: Path, token: None) -> None:
    app = App(40)
    with Server(app.handle) as s:
        section = f'base_url = "{s.url}"\napps = [{APP}]\ndetect_deletions = false'
        ws = make_ws(tmp_path / "ws", "kintone", section)
        sync(ws, "kintone")
        app.delete(3)
        s.log.clear()
        assert not sync(ws, "kintone").changed
        assert not [r for r in s.log if "fields[0]" in r.query]
        assert len(tables(ws)["opportunities"]) == 40  # kept: the user turned detection off


def test_a_large_app_is_not_scanned_unless_asked(
    tmp_path: Path, token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eigyo.sync.kintone.DETECT_BELOW", 30)
    app = App(40)
    with Server(app.handle) as s:
        ws = _ws(tmp_path, s.url)
        sync(ws, "kintone")
        app.delete(3)
        assert not sync(ws, "kintone").changed  # 40 records ≥ 30: only the count was asked
        cfg = ws / "eigyo.toml"
        cfg.write_text(cfg.read_text("utf-8") + "detect_deletions = true\n", "utf-8")
        assert sync(ws, "kintone").removed == 1
    assert len(tables(ws)["opportunities"]) == 39
