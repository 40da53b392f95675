"""eigyo sync salesforce against a Salesforce org on the loopback interface
(tests/_sync_salesforce.py): REST queryAll paging, Bulk API 2.0 jobs, deletions, OAuth."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eigyo import workspace
from eigyo.sync import SyncError
from tests._sync_salesforce import ACCESS, REFRESH, Org, export_csv
from tests._sync_server import Server
from tests._sync_util import forecast_categories, imported, make_ws, rejects, sync, tables


@pytest.fixture
def refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EIGYO_SALESFORCE_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("EIGYO_SALESFORCE_REFRESH_TOKEN", REFRESH)


def _ws(tmp: Path, url: str, extra: str = "", name: str = "ws") -> Path:
    section = f'login_url = "{url}"\nclient_id = "3MVG9-consumer-key"\n{extra}'
    return make_ws(tmp / name, "salesforce", section)


def test_synced_equals_data_loader_export_with_bulk_and_deletions(
    tmp_path: Path, refresh: None
) -> None:
    org = Org(2600)  # 2,600 opportunities: two REST batches of 2,000
    with Server(org.handle) as s:
        ws = _ws(tmp_path, s.url, 'bulk = ["Task", "Event"]\nbulk_poll_seconds = 0.01')
        first = sync(ws, "salesforce")
        assert first.fetched["Opportunity"] == 2600 and first.fetched["Task"] == 1300
        paths = [r.path for r in s.log]
        assert any("/query/01g" in p for p in paths)  # nextRecordsUrl followed
        assert any(p.endswith("/jobs/query") for p in paths)  # a Bulk API 2.0 job
        ref = imported(tmp_path / "csv1", export_csv(org, tmp_path / "exp1"), "salesforce")
        got = tables(ws)
        assert got == tables(ref)
        assert len(got["stage_history"]) > 2600 and len(got["opportunity_changes"]) == 650
        assert len(got["activities"]) == 2600 and len(got["reps"]) == 3
        assert rejects(ws) == rejects(ref)
        # ForecastCategoryName: won → Closed, lost → Omitted, open ones Pipeline, Best Case,
        # Commit, Omitted in turn (i % 4): the canonical categories, deal by deal
        turn = ["pipeline", "best_case", "commit", "omitted"]
        assert forecast_categories(ws) == {
            f"006O{i:05d}": "closed" if i % 6 == 4 else "omitted" if i % 6 == 5 else turn[i % 4]
            for i in range(1, 2601)
        }
        gen = workspace.generation(ws)
        assert not sync(ws, "salesforce").changed and workspace.generation(ws) == gen
        org.delete_opportunity("006O00008")
        org.edit("Opportunity", "006O00009", StageName="Closed Won", IsClosed=True, IsWon=True)
        org.edit("Task", "00TT00001", IsDeleted=True)
        third = sync(ws, "salesforce")
        assert third.removed == 2
        ref2 = imported(tmp_path / "csv2", export_csv(org, tmp_path / "exp2"), "salesforce")
        assert tables(ws) == tables(ref2)


def _campaign_of(ws: Path, lead: str) -> str | None:
    return next(r[3] for r in tables(ws)["leads"] if r[0] == lead)


def test_each_lead_gets_its_first_responded_campaign_and_keeps_it_current(
    tmp_path: Path, refresh: None
) -> None:
    """Campaign and CampaignMember: a lead's campaign is the one it responded to first, else
    the first it joined — from the file export (the preset's lookups) and from a sync (kept
    members), equal row for row, also after memberships of unchanged leads change."""
    org = Org(400)
    with Server(org.handle) as s:
        ws = _ws(tmp_path, s.url, 'bulk = ["CampaignMember"]\nbulk_poll_seconds = 0.01')
        first = sync(ws, "salesforce")
        assert first.fetched["Campaign"] == 5 and first.fetched["CampaignMember"] == 286
        ref = imported(tmp_path / "csv1", export_csv(org, tmp_path / "exp1"), "salesforce")
        assert tables(ws) == tables(ref)
        assert _campaign_of(ws, "00QL00006") == "キャンペーン 4"  # responded to the second
        assert _campaign_of(ws, "00QL00003") == "キャンペーン 4"  # responded to the first only
        assert _campaign_of(ws, "00QL00002") == "キャンペーン 3"  # none: the first joined
        assert all(r[3] for r in tables(ws)["leads"])
        gen = workspace.generation(ws)
        assert not sync(ws, "salesforce").changed and workspace.generation(ws) == gen
        now = org.clock + timedelta(seconds=30)
        org.clock = now
        # lead 2 (unchanged itself) responds to a campaign before its first one's date
        org.member(2, 3, 5, now, responded=True, on=datetime(2025, 4, 1, tzinfo=UTC))
        org.edit("CampaignMember", "00v1000006", IsDeleted=False, HasResponded=False)
        org.edit("CampaignMember", "00v2000006", IsDeleted=True)  # lead 6 leaves campaign 4
        org.edit("Campaign", "701C0003", Name="春のウェビナー")  # renamed
        after = sync(ws, "salesforce")
        assert after.changed and not after.written.get("Lead")
        ref2 = imported(tmp_path / "csv2", export_csv(org, tmp_path / "exp2"), "salesforce")
        assert tables(ws) == tables(ref2)
        assert _campaign_of(ws, "00QL00002") == "キャンペーン 5"
        assert _campaign_of(ws, "00QL00006") == "キャンペーン 2"  # its only membership left
        assert _campaign_of(ws, "00QL00007") == "春のウェビナー"
        gen = workspace.generation(ws)
        assert not sync(ws, "salesforce").changed and workspace.generation(ws) == gen


def test_errors_auth_and_api_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org = Org(10)
    with Server(org.handle) as s:
        monkeypatch.setenv("EIGYO_SALESFORCE_REFRESH_TOKEN", "revoked-refresh-token-123")
        with pytest.raises(SyncError) as e:
            sync(_ws(tmp_path, s.url), "salesforce")
        assert e.value.key == "sync.error.auth" and "revoked-refresh" not in str(e.value)
        monkeypatch.delenv("EIGYO_SALESFORCE_REFRESH_TOKEN")
        monkeypatch.setenv("EIGYO_SALESFORCE_ACCESS_TOKEN", ACCESS)
        org.limit_exceeded = True
        ws = _ws(tmp_path, s.url, f'instance_url = "{s.url}"', name="b")
        with pytest.raises(SyncError) as e:
            sync(ws, "salesforce")
        assert e.value.key == "sync.error.limit" and ACCESS not in e.value.localized("ja")


def test_jwt_bearer_signs_with_openssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "server.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    monkeypatch.delenv("EIGYO_SALESFORCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("EIGYO_SALESFORCE_REFRESH_TOKEN", raising=False)
    monkeypatch.setenv("EIGYO_SALESFORCE_JWT_KEY_FILE", str(key))
    org = Org(5)
    with Server(org.handle) as s:
        ws = _ws(tmp_path, s.url, 'username = "admin@example.com"\nobjects = ["User"]')
        assert sync(ws, "salesforce").fetched == {"User": 3}
        grant = next(r for r in s.log if r.path == "/services/oauth2/token").body.decode()
        assert "jwt-bearer" in grant


def test_a_crash_inside_a_bulk_job_resumes_the_same_job(
    tmp_path: Path, refresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eigyo.sync.http import Http

    org = Org(300)
    extra = 'bulk = ["Task"]\nbulk_poll_seconds = 0.01\nobjects = ["User", "Task"]'
    with Server(org.handle) as s:
        whole = _ws(tmp_path, s.url, extra, name="whole")
        sync(whole, "salesforce")
        monkeypatch.setattr("eigyo.sync.salesforce.BULK_PAGE", 40)  # 150 tasks: 4 result pages
        ws = _ws(tmp_path, s.url, extra, name="crashed")
        real = Http.request
        calls = {"results": 0}

        def dying(self: Http, method: str, path: str, **kw: object) -> object:
            if path.endswith("/results"):
                calls["results"] += 1
                if calls["results"] == 3:
                    raise KeyboardInterrupt  # the process dies between two result pages
            return real(self, method, path, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(Http, "request", dying)
        with pytest.raises(KeyboardInterrupt):
            sync(ws, "salesforce")
        monkeypatch.setattr(Http, "request", real)
        jobs = len(org.jobs)
        report = sync(ws, "salesforce")
        assert report.resumed and len(org.jobs) == jobs  # the same job, read on from its locator
    assert tables(ws) == tables(whole)


def test_debug_output_never_shows_the_token(tmp_path: Path) -> None:
    org = Org(5)
    with Server(org.handle) as s:
        ws = _ws(tmp_path, s.url, f'instance_url = "{s.url}"')
        bad = "00Dbad!wrong-session-token-value"
        code = "import sys; from eigyo.cli import main; main(sys.argv[1:])"
        env = {"EIGYO_SALESFORCE_ACCESS_TOKEN": bad, "PATH": "/usr/bin:/bin"}
        for lang in ("ja", "en"):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    code,
                    "--debug",
                    "sync",
                    "salesforce",
                    "-w",
                    str(ws),
                    "--lang",
                    lang,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert out.returncode != 0 and "INVALID_SESSION_ID" in out.stderr
            assert bad not in out.stdout + out.stderr
            plain = subprocess.run(
                [sys.executable, "-c", code, "sync", "salesforce", "-w", str(ws), "--lang", lang],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert plain.returncode == 1 and bad not in plain.stderr
            assert len(plain.stderr.strip().splitlines()) <= 3  # one sentence (wrapped)


def test_a_gap_in_field_history_is_noted(tmp_path: Path, refresh: None) -> None:
    org = Org(800)  # opportunities over 100 days; field history of the first 60 days expired
    fh = org.data["OpportunityFieldHistory"]
    for rid in [r for r, v in fh.items() if v["CreatedDate"] < "2025-05-31"]:
        del fh[rid]
    with Server(org.handle) as s:
        report = sync(_ws(tmp_path, s.url), "salesforce")
    assert [k for k, _ in report.notes] == ["sync.note.history_gap"]
    assert report.notes[0][1]["first"] == "2025-04-01"
    assert "18" in report.note_texts("ja")[0] and "18 months" in report.note_texts("en")[0]
