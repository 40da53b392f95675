"""Structures against today (issue 18): differences, the one recommendation rule, CLI and page.

- The rule on hand-made intervals, both ways: a candidate whose whole 90% interval of bookings
  clears today's is recommended (the highest mean among those, not the highest mean overall);
  a higher mean inside today's interval, a lower one, and unknown bookings are not.
- The differences equal the simulator's outputs subtracted by hand, on the real model run over
  the hand-made company of test_app_scope (real DuckDB workspace, real SimPy model).
- ``eigyo simulate --compare --format json`` keeps its keys and adds ``comparison``, the same
  function's answer; the dashboard's page shows the same numbers (``data-*``), its progress while
  the job waits, and one sentence for a request it refuses.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eigyo.simulate import Options, calibrate, default_window, simulate
from eigyo.simulate.comparison import (
    OUTCOMES,
    Recommendation,
    comparison,
    differences,
    recommend,
    recommendation_text,
)
from eigyo.workspace import Workspace
from tests.test_app_scope import company


def _doc(
    structure: str, mean: float | None, low: float | None, high: float | None
) -> dict[str, Any]:
    """A simulate document reduced to what the rule reads: bookings' interval."""
    return {"structure": structure,
            "outcomes": {"bookings": {"mean": mean, "low": low, "high": high}},
            "handoff_losses": {"mean": 0.0, "low": 0.0, "high": 0.0}}  # fmt: skip


TODAY = _doc("current", 100.0, 80.0, 120.0)


def test_a_structure_clearing_todays_interval_is_recommended() -> None:
    # B has the higher mean but its interval reaches into today's; A's low end clears 120
    docs = [TODAY, _doc("generalist", 150.0, 125.0, 170.0), _doc("pod", 160.0, 110.0, 200.0)]
    rec = recommend(docs)
    assert rec == Recommendation("generalist", "clearly_better", "generalist", 50.0, 0.5, 5.0)
    assert "ジェネラリスト型" in recommendation_text(rec, "ja")
    assert recommendation_text(rec, "en").startswith("Recommended: Generalist.")


def test_of_several_clear_winners_the_highest_mean() -> None:
    docs = [TODAY, _doc("generalist", 150.0, 125.0, 170.0), _doc("hybrid", 180.0, 121.0, 230.0)]
    rec = recommend(docs)
    assert (rec.structure, rec.gain, rec.margin) == ("hybrid", 80.0, 1.0)


@pytest.mark.parametrize(
    ("candidate", "reason", "gain", "margin"),
    [
        (_doc("pod", 130.0, 115.0, 150.0), "within_uncertainty", 30.0, -5.0),
        (_doc("pod", 120.0, 120.0, 125.0), "within_uncertainty", 20.0, 0.0),  # touching: not beyond
        (_doc("pod", 90.0, 70.0, 110.0), "not_better", -10.0, -50.0),
    ],
)
def test_no_structure_is_clearly_better(
    candidate: dict[str, Any], reason: str, gain: float, margin: float
) -> None:
    rec = recommend([TODAY, candidate])
    assert rec == Recommendation(None, reason, "pod", gain, gain / 100.0, margin)
    assert recommendation_text(rec, "en").startswith("No structure is clearly better than today")
    assert recommendation_text(rec, "ja").startswith("現状より明確に良い体制はありません")


def test_today_booking_nothing_has_no_percentage() -> None:
    rec = recommend([_doc("current", 0.0, 0.0, 0.0), _doc("pod", 10.0, 5.0, 20.0)])
    assert rec == Recommendation("pod", "clearly_better", "pod", 10.0, None, 5.0)
    assert "no % as today books nothing" in recommendation_text(rec, "en")


def test_unknown_bookings_recommend_nothing() -> None:
    rec = recommend([_doc("current", None, None, None), _doc("pod", 150.0, 125.0, 170.0)])
    assert rec == Recommendation(None, "no_amounts")
    assert "not available" in recommendation_text(rec, "en")


def test_today_is_required() -> None:
    with pytest.raises(ValueError, match="current"):
        recommend([_doc("pod", 1.0, 1.0, 1.0)])


# --- the real model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = company(tmp_path_factory.mktemp("simcompare"))
    yield w
    w.close()


@pytest.fixture(scope="module")
def docs(ws: Workspace) -> list[dict[str, Any]]:
    cal = calibrate(ws, default_window(ws))
    return [simulate(ws, Options(s, None, 3, 0, 10), None, cal)
            for s in ("current", "generalist", "hybrid")]  # fmt: skip


def _value(doc: dict[str, Any], key: str) -> float | None:
    o = doc["handoff_losses"] if key == "handoff_losses" else doc["outcomes"][key]
    return o["mean"]  # type: ignore[no-any-return]


def test_differences_are_the_outputs_subtracted_by_hand(docs: list[dict[str, Any]]) -> None:
    today = docs[0]
    got = differences(docs)
    assert set(got) == {"generalist", "hybrid"}
    checked = 0
    for d in docs[1:]:
        for key in OUTCOMES:
            a, b = _value(today, key), _value(d, key)
            diff = got[d["structure"]][key]
            if a is None or b is None:
                assert (diff.diff, diff.pct) == (None, None)  # unknown, never 0
                continue
            assert diff.diff == b - a
            assert diff.pct == ((b - a) / a if a else None)
            checked += 1
    assert checked >= 8  # bookings, won deals, cycle, response, hand-offs of both candidates
    assert _value(today, "cost_per_won_deal") is None  # no monthly cost in this company


# --- the CLI --------------------------------------------------------------------------------


def test_cli_compare_json_adds_the_comparison(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eigyo.cli import app as cli_app

    company(tmp_path).close()
    args = ["simulate", "--compare", "--replications", "3", "--horizon", "2", "--format", "json",
            "--workspace", str(tmp_path / "w"), "--lang", "en"]  # fmt: skip
    r = CliRunner().invoke(cli_app, args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {"horizon_months", "structures", "currency", "comparison"} <= set(doc)
    structures = doc["structures"]
    assert structures[0]["structure"] == "current" and len(structures) == 5
    cmp = doc["comparison"]
    today = structures[0]["outcomes"]["bookings"]["mean"]
    for d in structures[1:]:
        mean = d["outcomes"]["bookings"]["mean"]
        assert cmp["differences"][d["structure"]]["bookings"]["diff"] == mean - today
    rec = recommend(structures)
    assert cmp["recommendation"]["structure"] == rec.structure
    assert cmp["recommendation"]["reason"] == rec.reason
    assert cmp["recommendation"]["text"] == recommendation_text(rec, "en", doc["currency"])
    assert cmp == comparison(structures, "en", doc["currency"])


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from eigyo.app import add_user, create_app
    from tests.test_app import PASSWORD, USERS

    root = tmp_path_factory.mktemp("simpage")
    with company(root) as w:
        for name, (role, rep, team) in USERS.items():
            add_user(w, name, PASSWORD, role, rep_id=rep, team=team)
    with TestClient(create_app(root / "w")) as c:
        yield c


def _token(client: Any) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/simulate").text)
    assert m
    return m.group(1)


def _finish(client: Any, html: str) -> str:
    """Poll the job the fragment shows until it ends; the final fragment."""
    m = re.search(r'hx-get="/simulate/jobs/(\w+)"', html)
    for _ in range(600):
        if m is None:
            return html
        html = client.get(f"/simulate/jobs/{m.group(1)}", headers={"HX-Request": "true"}).text
        if 'id="sim-job"' not in html:
            return html
        time.sleep(0.1)
    raise AssertionError("the simulation did not finish")


def _cells(html: str, structure: str) -> dict[str, dict[str, float]]:
    card = html[html.index(f'data-structure="{structure}"') :]
    card = card[: card.index("</article>")]
    out = {}
    for key, attrs in re.findall(r'<dd data-key="(\w+)"([^>]*)>', card):
        out[key] = {k: float(v) for k, v in re.findall(r'data-(\w+)="([^"]+)"', attrs)}
    return out


def test_page_compares_candidates_with_today(client: Any, ws: Workspace) -> None:
    from tests.test_app import login

    login(client, "admin")
    form = {"csrf_token": _token(client), "structure": ["generalist", "hybrid"], "horizon": "3"}
    html = _finish(client, client.post("/simulate", data=form, headers={"HX-Request": "true"}).text)
    assert 'id="sim-compare"' in html, html[:500]
    # the admin sees the whole company: the same calibration, seed and runs as simulate() here
    cal = calibrate(ws, default_window(ws))
    want = {s: simulate(ws, Options(s, None, 3, 0, 10), None, cal)
            for s in ("current", "generalist", "hybrid")}  # fmt: skip
    today = _cells(html, "current")
    for s in ("generalist", "hybrid"):
        cells = _cells(html, s)
        for key in ("bookings", "won_deals", "cycle_days"):
            mean = _value(want[s], key)
            assert mean is not None
            assert cells[key]["mean"] == pytest.approx(mean, rel=1e-12)
            assert cells[key]["diff"] == pytest.approx(mean - today[key]["mean"], rel=1e-12)
        assert "diff" not in cells["cost_per_won_deal"]  # unknown: said so, never ¥0
    rec = recommend(list(want.values()))
    m = re.search(r'id="sim-recommendation" data-structure="(\w*)" data-reason="(\w+)"', html)
    assert m and (m.group(1) or None, m.group(2)) == (rec.structure, rec.reason)
    assert recommendation_text(rec, "ja") in html
    assert "判定ルール" in html and "reps.monthly_cost" in html
    assert 'class="chart-data" data-target="plot-sim-bookings"' in html


def test_page_shows_progress_while_the_job_waits(client: Any) -> None:
    from eigyo.app import _simulate
    from tests.test_app import login

    login(client, "boss")
    gate = threading.Event()
    _simulate._RUNNER.submit(gate.wait, 60)  # the one simulation slot is taken
    try:
        form = {"csrf_token": _token(client), "structure": "pod", "horizon": "2"}
        first = client.post("/simulate", data=form, headers={"HX-Request": "true"}).text
        assert 'id="sim-job" data-stage="queued"' in first and 'hx-trigger="every 500ms"' in first
        assert 'id="sim-progress" value="0" max="20"' in first  # two structures × 10 runs
        assert "他のシミュレーションの終了を待っています" in first
        again = client.post("/simulate", data=form, headers={"HX-Request": "true"}).text
        job = re.search(r"/simulate/jobs/(\w+)", first)
        assert job and job.group(1) in again  # the running job, not a second one
    finally:
        gate.set()
    done = _finish(client, first)
    assert 'data-structure="pod"' in done and 'id="sim-recommendation"' in done
    assert _simulate._JOBS[job.group(1)].done == 20
    # another server process (--workers N) holds no job in memory: it reads the job's file
    _simulate._JOBS.pop(job.group(1))
    elsewhere = client.get(f"/simulate/jobs/{job.group(1)}", headers={"HX-Request": "true"}).text
    assert elsewhere == done
    login(client, "admin")  # and only its owner may read it
    other = client.get(f"/simulate/jobs/{job.group(1)}", headers={"HX-Request": "true"})
    assert other.status_code == 404 and 'data-structure="pod"' not in other.text


def test_a_job_file_keeps_its_error_in_every_language(tmp_path: Path) -> None:
    from eigyo.app._simulate_jobs import SimJob, load
    from eigyo.errors import InputError

    job = SimJob("abc123", "boss", ["current", "pod"], 20, folder=tmp_path)
    job.fail(InputError(key="simulate.page.headcount_one"))
    job.stage = "done"
    job.save()
    back = load(tmp_path, "abc123")
    assert back is not None and back.finished and back.docs is None
    assert "候補を 1 つだけ" in (back.error_text("ja") or "")
    assert "one structure only" in (back.error_text("en") or "")
    job.too_little("no_sellers", "2025-01-01..2025-12-31")
    job.save()
    again = load(tmp_path, "abc123")
    assert again is not None and "2025-01-01..2025-12-31" in (again.error_text("en") or "")
    assert load(tmp_path, "../etc") is None and load(tmp_path, "missing") is None


def test_a_job_of_a_process_that_ended_reads_as_ended(client: Any, tmp_path: Path) -> None:
    """A comparison's file left "running" by a worker that is gone (eigyo.app._job_files):
    any worker reports it ended, with one sentence in the reader's language, not "running"
    for ever; a running job of a live process, recently written, is not taken for lost."""
    import subprocess
    import sys

    from eigyo.app._simulate_jobs import SimJob, folder_of, load
    from tests.test_app import login

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(ended.stdout)
    live = SimJob("live1", "boss", ["current", "pod"], 20, stage="running", folder=tmp_path)
    live.save()
    back = load(tmp_path, "live1")
    assert back is not None and not back.finished and back.error_text("en") is None
    gone = SimJob("gone1", "boss", ["current", "pod"], 20, stage="calibrating", pid=pid,
                  folder=tmp_path)  # fmt: skip
    gone.save()
    lost = load(tmp_path, "gone1")
    assert lost is not None and lost.finished and lost.docs is None
    assert f"この比較を実行していたサーバーのプロセス（pid {pid}）が終了" in (
        lost.error_text("ja") or ""
    )
    assert f"ran this comparison (pid {pid}) ended" in (lost.error_text("en") or "")
    # through the page, on a worker that does not hold the job
    login(client, "boss")
    workspace = client.app.state.eigyo.workspace
    SimJob("gone2", "boss", ["current", "pod"], 20, stage="running", pid=pid,
           folder=folder_of(workspace)).save()  # fmt: skip
    page = client.get("/simulate/jobs/gone2", headers={"HX-Request": "true"})
    assert page.status_code == 200 and f"pid {pid}" in page.text
    assert 'data-structure="pod"' not in page.text


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"structure": ["pod", "hybrid"], "headcount": "sdr=1,closer=2"}, "候補を 1 つだけ"),
        ({"structure": "bogus"}, "比較できる体制ではありません"),
        ({"horizon": "36"}, "上限 1200"),  # every candidate: 10 runs × 36 months × 5 structures
    ],
)
def test_page_refuses_in_one_sentence(client: Any, form: dict[str, Any], words: str) -> None:
    from tests.test_app import login

    login(client, "boss")
    r = client.post("/simulate", data={"csrf_token": _token(client), **form})
    assert r.status_code == 400 and words in r.text and 'id="sim-error"' in r.text
    assert "<html" in r.text  # without HTMX: the whole page, the form kept


def test_a_full_queue_answers_busy(client: Any) -> None:
    """Beyond MAX_PENDING comparisons waiting or running, a new one is refused with 503."""
    from eigyo.app import _simulate
    from eigyo.app._simulate_jobs import SimJob
    from tests.test_app import login

    login(client, "admin")
    gate = threading.Event()
    _simulate._RUNNER.submit(gate.wait, 60)
    others = [SimJob(f"other{i}", f"someone{i}", ["current"], 10)
              for i in range(_simulate.MAX_PENDING)]  # fmt: skip
    try:
        with _simulate._JOBS_LOCK:
            _simulate._JOBS.update({j.id: j for j in others})
        form = {"csrf_token": _token(client), "structure": "pod", "horizon": "2"}
        r = client.post("/simulate", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        assert 'id="sim-error"' in r.text and "<html" not in r.text  # a sentence in the box
    finally:
        for j in others:
            j.stage = "done"
        gate.set()
