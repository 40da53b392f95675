"""Every analysis command on every public data set: an answer or one stated "not available".

Real exports are partial — Maven and the B2B file have no leads and no stage history, Olist has
date-only MQLs and only won deals, the bank-marketing file has no dates with a year, CDNOW has
only orders, BPI only an event log. Each data set is imported once (module-scoped) through the
shipped example mapping or preset, exactly as the examples' headers tell a user to, and every
analysis command runs through the real entry point (:func:`eigyo.cli.main`) in text and JSON.
Each run must exit 0 without a traceback and give either an answer or a one-line "not
available: needs X" (JSON: ``"not_available": {"code", "needs", "text"}``); no diagnosis check
may say "ok" when the data it needs is absent. The data sets are found by ``tests/_data.py``
(``$EIGYO_SHARED_DATA``, else ``../shared/data`` beside the checkout); a missing data set skips
its tests with the reason locally and fails them in CI.

Full files are imported (each import takes under 20 s here); simulations run 2 replications
over 1 month and the monitor charts 8 weeks and 6 months, since only the commands' ability to
answer is under test, not their figures. About 4 minutes on 2 shared cores: most of it is Ibis
compiling the win-probability, forecast and monitor queries (~0.15 s per query).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eigyo.cli import main
from eigyo.diagnose.checks import load_checks
from eigyo.diagnose.evaluate import needs_of
from eigyo.metrics._needs import unmet
from eigyo.workspace import open_workspace
from tests._data import DATA, ROOT, needs_data

EXAMPLES = ROOT / "examples"
pytestmark = needs_data()


@dataclass(frozen=True)
class DataSet:
    """How a data set is imported and which period / day the commands ask about."""

    name: str
    source: str  # relative to DATA
    how: tuple[str, ...]  # --mapping FILE or --preset NAME
    period: str
    as_of: str
    currency: str = "JPY"


SETS = (
    DataSet(
        "maven",
        "maven-crm-sales-opportunities",
        ("--mapping", str(EXAMPLES / "maven-crm.toml")),
        "FY2017",
        "2017-06-30",
        "USD",
    ),
    DataSet(
        "b2b",
        "b2b-opportunities-ormarketing/71033c4/B2B.csv",
        ("--mapping", str(EXAMPLES / "b2b-salesforce.toml")),
        "FY2016",
        "2016-12-31",
        "USD",
    ),
    DataSet(
        "olist",
        "olist-marketing-funnel",
        ("--mapping", str(EXAMPLES / "olist-funnel.toml")),
        "FY2017",
        "2018-01-31",
        "BRL",
    ),
    DataSet(
        "bank",
        "uci-bank-marketing/bank-full.csv",
        ("--mapping", str(EXAMPLES / "uci-bank-marketing.toml")),
        "2008-05",
        "2008-05-31",
        "EUR",
    ),
    DataSet(
        "cdnow",
        "cdnow-clv/CDNOW_sample.txt",
        ("--mapping", str(EXAMPLES / "cdnow.toml")),
        "1997-01-01..1998-06-30",
        "1997-09-30",
        "USD",
    ),
    DataSet(
        "bpi",
        "bpi-challenge-2012/BPI_Challenge_2012.xes.zip",
        ("--preset", "xes"),
        "2011-10-01..2012-03-31",
        "2012-01-31",
        "EUR",
    ),
)


def _commands(d: DataSet) -> dict[str, list[str]]:
    """Every command that analyses a workspace, with the arguments it requires."""
    p, a = ["--period", d.period], d.as_of
    return {
        "metrics": ["metrics", *p],
        "diagnose": ["diagnose", *p],
        "process": ["process", *p],
        "funnel": ["funnel", *p],
        "pipeline": ["pipeline", "--as-of", a, *p],
        "skills": ["skills", *p],
        "simulate": ["simulate", "--replications", "2", "--horizon", "1"],
        "alignment": ["alignment", *p],
        "enablement": ["enablement", *p],
        "time": ["time", *p],
        "segments": ["segments", *p],
        "icp": ["icp"],
        "customers": ["customers", "--until", a],
        "winprob": ["winprob", "--as-of", a],
        "forecast": ["forecast", "--as-of", a, *p],
        "ltv": ["ltv", "--until", a],
        "monitor": ["monitor", *p, "--no-send"],
        "alerts": ["alerts"],
        "intervention": ["intervention", "effect"],
    }


COMMANDS = tuple(_commands(SETS[0]))


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(
    scope="module",
    params=[pytest.param(d, marks=needs_data(d.source)) for d in SETS],
    ids=[d.name for d in SETS],
)
def ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DataSet, Path]]:
    """One workspace per data set, imported through its shipped example or preset."""
    d: DataSet = request.param
    path = tmp_path_factory.mktemp(d.name) / "w"
    assert main_ok(["init", str(path)])
    toml = path / "eigyo.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^currency = ".*"$', f'currency = "{d.currency}"', text)
    # shorter control-chart series than the default 26 weeks / 24 months: the monitor's ability
    # to answer is under test here, and each period is one metrics query
    toml.write_text(text + "\n[monitor]\nweeks = 8\nmonths = 6\n", encoding="utf-8")
    assert main_ok(["import", str(DATA / d.source), *d.how, "-w", str(path), "--lang", "en"])
    yield d, path


def main_ok(args: list[str]) -> bool:
    """Run a command whose output is not under test; True when it exits 0."""
    try:
        main(args)
    except SystemExit as e:
        return not e.code
    return True


def _no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in out + err, (out + err)[-2000:]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_answers_or_says_not_available(
    ws: tuple[DataSet, Path], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    d, path = ws
    args = [*_commands(d)[command], "-w", str(path)]
    code, out, err = _run(capsys, [*args, "--format", "json", "--lang", "en"])
    _no_traceback(out, err)
    assert code == 0, f"{d.name} {command} json: exit {code}\n{err[-1500:]}"
    doc = json.loads(out)  # exactly one JSON document
    na = doc.get("not_available") if isinstance(doc, dict) else None
    if na is not None:
        assert na["text"] and na["code"] in ("missing_data", "no_time_of_day", "not_enough_data")
    for section in (doc.get("sections_not_available") or {}).values():
        assert section["text"]

    code, text, err = _run(capsys, [*args, "--lang", "en"])
    _no_traceback(text, err)
    assert code == 0, f"{d.name} {command} text: exit {code}\n{err[-1500:]}"
    assert text.strip() or command == "alerts", f"{d.name} {command}: no output"
    if na is not None and na["code"] != "not_enough_data":
        # the whole command cannot run: one line that says what it needs, nothing else
        lines = [ln for ln in text.splitlines() if ln.strip()]
        joined = " ".join(ln.strip() for ln in lines)
        assert joined.startswith("not available: needs"), text
        assert len(text.strip()) < 400, text


def test_no_check_says_ok_without_its_data(
    ws: tuple[DataSet, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A check whose data is absent reports "not available", never "ok" / "no problem"."""
    d, path = ws
    code, out, err = _run(
        capsys, ["diagnose", "-p", d.period, "-w", str(path), "--format", "json", "--all"]
    )
    assert code == 0, err
    findings = json.loads(out)["findings"]
    checks = {c.id: c for c in load_checks()}
    w = open_workspace(path, read_only=True)
    try:
        for f in findings:
            check = checks.get(f["check"])
            if check is None:
                continue
            missing = unmet(w, needs_of(check))
            if missing:
                assert f["severity"] != "ok", (d.name, f["check"], missing)
                assert f["evidence"].get("status") == "not_available", (d.name, f)
    finally:
        w.close()


def test_alignment_on_date_only_mqls_says_time_unknown(
    ws: tuple[DataSet, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Olist's MQL dates have no time: no lead is "outside business hours", the view says why."""
    d, path = ws
    if d.name != "olist":
        pytest.skip("only Olist has date-only MQL timestamps")
    args = ["alignment", "-p", d.period, "-w", str(path)]
    code, out, _ = _run(capsys, [*args, "--format", "json", "--lang", "en"])
    assert code == 0
    doc = json.loads(out)
    assert doc["overall"]["mql"] > 0
    assert doc["overall"]["outside_hours"] is None
    assert doc["overall"]["sla_rate"] is None  # no first responses: unknown, not 0%
    missing = doc["sections_not_available"]
    assert missing["arrival"]["code"] == "no_time_of_day"
    assert missing["response"]["needs"] == ["leads.first_response_at"]
    code, text, _ = _run(capsys, [*args, "--lang", "ja"])
    assert code == 0 and "データなし" in text and "時刻" in text


def test_pipeline_without_activities_flags_no_stale_deal(
    ws: tuple[DataSet, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """No activities imported is "unknown", not "no activity on these deals"."""
    d, path = ws
    if d.name != "maven":
        pytest.skip("Maven has open deals and no activities")
    from eigyo.analysis.deals import open_deals_at_end
    from eigyo.base.periods import parse_period

    w = open_workspace(path, read_only=True)
    try:
        od = open_deals_at_end(w, parse_period(d.period)).to_polars()
    finally:
        w.close()
    assert od.height > 0
    assert od["stale"].null_count() == od.height and od["idle_days"].null_count() == od.height


def test_report_renders(
    ws: tuple[DataSet, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The HTML report (no JSON form) renders on every data set, whatever it lacks."""
    d, path = ws
    out_file = tmp_path / "report.html"
    args = ["report", "-p", d.period, "-w", str(path), "-o", str(out_file), "--lang", "en"]
    code, out, err = _run(capsys, args)
    _no_traceback(out, err)
    assert code == 0, f"{d.name} report: exit {code}\n{err[-1500:]}"
    assert out_file.stat().st_size > 10_000
