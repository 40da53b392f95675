"""Fiscal periods (issue 18, item 2): every form with its dates computed by hand, for fiscal years
starting in April, January and October; the relative forms against a fixed today; the ambiguity
note; and the CLI saying "no data in FY2030" instead of printing ¥0.

FY2025 is the fiscal year that *starts* in 2025 (with April: 2025-04-01 .. 2026-03-31, the
Japanese 2025年度), as it was before fiscal quarters existed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from eigyo.base.periods import format_day, parse_period
from eigyo.cli import main
from eigyo.cli._period import command_period
from eigyo.errors import PeriodError
from tests.conftest import Demo

D = date
#: The fixed "today" of the relative forms: in FY2025 (April start), its fourth quarter.
TODAY = D(2026, 2, 10)


# --- absolute forms: (text, start, end, label), by fiscal year start month --------------------

APRIL = [
    # fiscal quarters and halves
    ("FY2025-Q1", D(2025, 4, 1), D(2025, 6, 30), "FY2025-Q1"),
    ("FY2025-Q2", D(2025, 7, 1), D(2025, 9, 30), "FY2025-Q2"),
    ("FY2025-Q3", D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q3"),
    ("FY2025-Q4", D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q4"),
    ("fy2025q2", D(2025, 7, 1), D(2025, 9, 30), "FY2025-Q2"),
    ("FY2025-1Q", D(2025, 4, 1), D(2025, 6, 30), "FY2025-Q1"),
    ("FY2025-H1", D(2025, 4, 1), D(2025, 9, 30), "FY2025-H1"),
    ("FY2025-H2", D(2025, 10, 1), D(2026, 3, 31), "FY2025-H2"),
    # fiscal years: FY2025, FY25 (20xx) and 2025年度 are one year
    ("FY2025", D(2025, 4, 1), D(2026, 3, 31), "FY2025"),
    ("FY25", D(2025, 4, 1), D(2026, 3, 31), "FY2025"),
    ("FY25-Q3", D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q3"),
    ("2025年度", D(2025, 4, 1), D(2026, 3, 31), "FY2025"),
    ("2025年度第1四半期", D(2025, 4, 1), D(2025, 6, 30), "FY2025-Q1"),
    ("２０２５年度第４四半期", D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q4"),  # full width: NFKC
    ("2025年度2Q", D(2025, 7, 1), D(2025, 9, 30), "FY2025-Q2"),
    ("2025年度上期", D(2025, 4, 1), D(2025, 9, 30), "FY2025-H1"),
    ("2025年度下期", D(2025, 10, 1), D(2026, 3, 31), "FY2025-H2"),
    ("2025年度下半期", D(2025, 10, 1), D(2026, 3, 31), "FY2025-H2"),
    # months, Japanese notation
    ("2025年10月", D(2025, 10, 1), D(2025, 10, 31), "2025-10"),
    ("2024年2月", D(2024, 2, 1), D(2024, 2, 29), "2024-02"),
    ("２０２６年２月", D(2026, 2, 1), D(2026, 2, 28), "2026-02"),
    # ranges of any two forms, from the first one's start to the second one's end
    ("2025年10月〜2026年3月", D(2025, 10, 1), D(2026, 3, 31), "2025-10..2026-03"),
    ("2025年10月～2026年3月", D(2025, 10, 1), D(2026, 3, 31), "2025-10..2026-03"),
    ("2025-04..2025-09", D(2025, 4, 1), D(2025, 9, 30), "2025-04..2025-09"),
    ("FY2024..FY2025", D(2024, 4, 1), D(2026, 3, 31), "FY2024..FY2025"),
    ("2025年度上期~2025年度下期", D(2025, 4, 1), D(2026, 3, 31), "FY2025-H1..FY2025-H2"),
    ("2025-04-10〜2025-05-09", D(2025, 4, 10), D(2025, 5, 9), "2025-04-10..2025-05-09"),
    # calendar forms keep their meaning (and labels)
    ("2025-04", D(2025, 4, 1), D(2025, 4, 30), "2025-04"),
    ("2025-Q1", D(2025, 1, 1), D(2025, 3, 31), "2025-Q1"),
    ("2025-q4", D(2025, 10, 1), D(2025, 12, 31), "2025-Q4"),
    ("2025年第1四半期", D(2025, 1, 1), D(2025, 3, 31), "2025-Q1"),
    ("2025-04-10..2025-05-09", D(2025, 4, 10), D(2025, 5, 9), "2025-04-10..2025-05-09"),
]

JANUARY = [
    ("FY2025", D(2025, 1, 1), D(2025, 12, 31), "FY2025"),
    ("FY2025-Q1", D(2025, 1, 1), D(2025, 3, 31), "FY2025-Q1"),
    ("FY2025-Q4", D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q4"),
    ("FY2025-H2", D(2025, 7, 1), D(2025, 12, 31), "FY2025-H2"),
    ("2025年度", D(2025, 1, 1), D(2025, 12, 31), "FY2025"),
    ("2025年度第2四半期", D(2025, 4, 1), D(2025, 6, 30), "FY2025-Q2"),
    ("2025年度下期", D(2025, 7, 1), D(2025, 12, 31), "FY2025-H2"),
    ("2025-Q1", D(2025, 1, 1), D(2025, 3, 31), "2025-Q1"),
    ("2025年10月", D(2025, 10, 1), D(2025, 10, 31), "2025-10"),
]

OCTOBER = [
    ("FY2025", D(2025, 10, 1), D(2026, 9, 30), "FY2025"),
    ("FY2025-Q1", D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q1"),
    ("FY2025-Q2", D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q2"),
    ("FY2025-H2", D(2026, 4, 1), D(2026, 9, 30), "FY2025-H2"),
    ("2025年度第3四半期", D(2026, 4, 1), D(2026, 6, 30), "FY2025-Q3"),
    ("2025年度上期", D(2025, 10, 1), D(2026, 3, 31), "FY2025-H1"),
    ("2025-Q1", D(2025, 1, 1), D(2025, 3, 31), "2025-Q1"),
]


@pytest.mark.parametrize(
    ("fym", "text", "start", "end", "label"),
    [(4, *c) for c in APRIL] + [(1, *c) for c in JANUARY] + [(10, *c) for c in OCTOBER],
)
def test_absolute_forms(fym: int, text: str, start: date, end: date, label: str) -> None:
    p = parse_period(text, fym)
    assert (p.start, p.end, p.label) == (start, end, label)
    # the canonical label names the same dates again (links and file names are built from it)
    again = parse_period(p.label, fym)
    assert (again.start, again.end) == (start, end)


# --- relative forms against a fixed today ------------------------------------------------------

RELATIVE = [
    # April start, today 2026-02-10: FY2025, its Q4
    (4, TODAY, ["今期", "this-fy", "今年度"], D(2025, 4, 1), D(2026, 3, 31), "FY2025"),
    (4, TODAY, ["前期", "last-fy", "Last FY"], D(2024, 4, 1), D(2025, 3, 31), "FY2024"),
    (4, TODAY, ["来期", "next-fy"], D(2026, 4, 1), D(2027, 3, 31), "FY2026"),
    (4, TODAY, ["今四半期", "this-quarter"], D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q4"),
    (4, TODAY, ["前四半期", "last_quarter"], D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q3"),
    (4, TODAY, ["今月", "this-month"], D(2026, 2, 1), D(2026, 2, 28), "2026-02"),
    (4, TODAY, ["先月", "前月", "LAST-MONTH"], D(2026, 1, 1), D(2026, 1, 31), "2026-01"),
    (4, TODAY, ["上期", "上半期", "h1"], D(2025, 4, 1), D(2025, 9, 30), "FY2025-H1"),
    (4, TODAY, ["下期", "下半期", "h2"], D(2025, 10, 1), D(2026, 3, 31), "FY2025-H2"),
    (4, TODAY, ["前期〜今期"], D(2024, 4, 1), D(2026, 3, 31), "FY2024..FY2025"),
    # year and quarter boundaries
    (4, D(2026, 4, 1), ["今期"], D(2026, 4, 1), D(2027, 3, 31), "FY2026"),
    (4, D(2026, 4, 1), ["前四半期"], D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q4"),
    (4, D(2026, 3, 31), ["今四半期"], D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q4"),
    (4, D(2026, 1, 15), ["先月"], D(2025, 12, 1), D(2025, 12, 31), "2025-12"),
    # January start: the fiscal year is the calendar year
    (1, TODAY, ["今期"], D(2026, 1, 1), D(2026, 12, 31), "FY2026"),
    (1, TODAY, ["前期"], D(2025, 1, 1), D(2025, 12, 31), "FY2025"),
    (1, TODAY, ["今四半期"], D(2026, 1, 1), D(2026, 3, 31), "FY2026-Q1"),
    (1, TODAY, ["前四半期"], D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q4"),
    (1, TODAY, ["上期"], D(2026, 1, 1), D(2026, 6, 30), "FY2026-H1"),
    # October start: 2026-02-10 lies in FY2025 (2025-10-01 .. 2026-09-30), its Q2
    (10, TODAY, ["今期"], D(2025, 10, 1), D(2026, 9, 30), "FY2025"),
    (10, TODAY, ["今四半期"], D(2026, 1, 1), D(2026, 3, 31), "FY2025-Q2"),
    (10, TODAY, ["前四半期"], D(2025, 10, 1), D(2025, 12, 31), "FY2025-Q1"),
    (10, TODAY, ["下期"], D(2026, 4, 1), D(2026, 9, 30), "FY2025-H2"),
]


@pytest.mark.parametrize(("fym", "today", "texts", "start", "end", "label"), RELATIVE)
def test_relative_forms(
    fym: int, today: date, texts: list[str], start: date, end: date, label: str
) -> None:
    for text in texts:
        p = parse_period(text, fym, today=today)
        assert (p.start, p.end, p.label) == (start, end, label), text


def test_relative_forms_never_read_the_clock() -> None:
    """Without an explicit today a relative form is refused, in both languages: a library
    call (a test, a worker) must name the same dates whenever it runs."""
    with pytest.raises(PeriodError) as e:
        parse_period("今期", 4)
    assert "FY2025" in e.value.localized("ja") and "counts from today" in str(e.value)


# --- dates stated, ambiguity noted ----------------------------------------------------------------


def test_every_period_states_its_dates() -> None:
    fy = parse_period("FY2025", 4)
    assert fy.describe("ja") == "FY2025（2025-04-01〜2026-03-31）"
    assert fy.describe("en") == "FY2025 (Apr 1, 2025 – Mar 31, 2026)"
    q = parse_period("2025年度第1四半期", 4)
    assert q.describe("en") == "FY2025-Q1 (Apr 1, 2025 – Jun 30, 2025)"
    # a day range is its own dates: no label repeated before them
    r = parse_period("2025-04-10..2025-05-09", 4)
    assert r.describe("ja") == "2025-04-10〜2025-05-09"
    assert r.describe("en") == "Apr 10, 2025 – May 9, 2025"
    assert format_day(D(2026, 2, 1), "en") == "Feb 1, 2026"


def test_calendar_quarter_keeps_its_meaning_with_a_note() -> None:
    p = parse_period("2025-Q1", 4)
    assert (p.start, p.end) == (D(2025, 1, 1), D(2025, 3, 31))
    assert p.note("ja") == (
        "2025-Q1（2025-01-01〜2025-03-31）は暦の四半期です。"
        "年度の四半期なら FY2025-Q1（2025-04-01〜2025-06-30）と指定してください"
    )
    assert p.note("en") == (
        "2025-Q1 (Jan 1, 2025 – Mar 31, 2025) is a calendar quarter; "
        "for the fiscal quarter write FY2025-Q1 (Apr 1, 2025 – Jun 30, 2025)."
    )
    note = parse_period("2025年第3四半期", 10).note("en")
    assert note is not None and "FY2025-Q3 (Apr 1, 2026 – Jun 30, 2026)" in note
    # the same dates are the same period, note or not; no note where nothing is ambiguous
    assert parse_period("2025-Q1", 1) == p and parse_period("2025-Q1", 1).note("en") is None
    for text in ("FY2025", "FY2025-Q1", "2025年度", "2025-04", "2025-04-01..2025-06-30"):
        assert parse_period(text, 4).note("ja") is None, text
    assert parse_period("今四半期", 4, today=TODAY).note("en") is None


def test_fy_with_a_late_start_says_which_year_it_names() -> None:
    """With an October start many name FY2025 by the year it *ends* in: the note says eigyo
    names it by the year it starts in, and which FY the other year is."""
    note = parse_period("FY2025-Q1", 10).note("en")
    assert note == (
        "FY names a fiscal year by the calendar year it starts in: "
        "FY2025 (Oct 1, 2025 – Sep 30, 2026); "
        "the one before is FY2024 (Oct 1, 2024 – Sep 30, 2025)."
    )
    assert parse_period("2025年度", 10).note("ja") is None  # 年度 is always named by its start


@pytest.mark.parametrize(
    "bad",
    [
        "FY2025-Q5",
        "FY2025-H3",
        "2025年度第5四半期",
        "2025年13月",
        "今季",
        "FY202",
        "2025-Q1..",
        "x",
    ],
)
def test_unknown_forms_name_the_accepted_ones(bad: str) -> None:
    with pytest.raises(PeriodError) as e:
        parse_period(bad, 4, today=TODAY)
    assert "FY2025-Q1" in str(e.value) and "last-quarter" in str(e.value)
    ja = e.value.localized("ja")
    assert "2025年度第1四半期" in ja and "今期" in ja


def test_a_reversed_range_is_refused() -> None:
    with pytest.raises(PeriodError, match="ends before it starts"):
        parse_period("2026年3月〜2025年10月", 4)
    with pytest.raises(PeriodError, match="ends before it starts"):
        parse_period("今期..前期", 4, today=TODAY)


# --- the CLI: notes and empty periods on standard error ----------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _span(demo: Demo) -> tuple[date, date]:
    """The first and last day of any dated record, by an independent query on the DuckDB file."""
    import duckdb

    clocks = {
        "opportunities": ("created_at", "closed_at"),
        "leads": ("created_at",),
        "activities": ("occurred_at",),
        "stage_history": ("entered_at",),
        "orders": ("ordered_at",),
        "time_entries": ("date",),
    }
    parts = [f"SELECT CAST({c} AS DATE) AS d FROM {t}" for t, cs in clocks.items() for c in cs]
    con = duckdb.connect(str(demo.workspace / "eigyo.duckdb"), read_only=True)
    try:
        union = " UNION ALL ".join(parts)
        ((first, last),) = con.sql(f"SELECT min(d), max(d) FROM ({union})").fetchall()
    finally:
        con.close()
    return first, last


def test_an_empty_period_says_so_and_exits_0(
    demo_company: Demo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, last = _span(demo_company)
    w = str(demo_company.workspace)
    code, out, err = _run(capsys, "metrics", "-w", w, "-p", "FY2030")
    assert (code, out) == (0, "")
    assert err == (
        f"FY2030（2030-04-01〜2031-03-31）にはデータがありません。"
        f"データがあるのは {first.isoformat()} 〜 {last.isoformat()} です\n"
    )
    code, out, err = _run(capsys, "diagnose", "-w", w, "-p", "FY2030", "--lang", "en")
    assert (code, out) == (0, "")
    assert err == (
        "No data in FY2030 (Apr 1, 2030 – Mar 31, 2031); the data reaches from "
        f"{format_day(first, 'en')} to {format_day(last, 'en')}.\n"
    )
    target = tmp_path / "r.html"
    code, out, err = _run(capsys, "report", "-w", w, "-p", "2030年度上期", "-o", str(target))
    assert (code, out, target.exists()) == (0, "", False)
    assert err.startswith("FY2030-H1（2030-04-01〜2030-09-30）にはデータがありません")
    # JSON keeps its contract (one document on standard output); the line goes to standard error
    code, out, err = _run(
        capsys, "metrics", "-w", w, "-p", "FY2030", "-m", "bookings", "-f", "json"
    )
    assert code == 0 and json.loads(out)["period"] == "FY2030"
    assert err.count("\n") == 1 and "データがありません" in err


def test_the_cli_shows_the_ambiguity_note_and_takes_fiscal_forms(
    demo_company: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    first, last = _span(demo_company)
    assert first <= D(2025, 1, 1) and last >= D(2025, 6, 30)  # both quarters hold data
    w = str(demo_company.workspace)
    args = ("metrics", "-w", w, "-m", "bookings", "-f", "json", "--lang", "en")
    code, out, err = _run(capsys, *args, "-p", "2025-Q1")
    assert code == 0 and json.loads(out)["period"] == "2025-Q1"
    assert err == (
        "2025-Q1 (Jan 1, 2025 – Mar 31, 2025) is a calendar quarter; "
        "for the fiscal quarter write FY2025-Q1 (Apr 1, 2025 – Jun 30, 2025).\n"
    )
    code, out, err = _run(capsys, *args, "-p", "2025年度第1四半期")
    fiscal = json.loads(out)
    assert (code, err) == (0, "")
    code, out, _ = _run(capsys, *args, "-p", "2025-04..2025-06")
    assert json.loads(out)["metrics"] == fiscal["metrics"]  # the same three months


@pytest.mark.parametrize(
    "command",
    [
        ("process",),
        ("funnel",),
        ("alignment",),
        ("enablement",),
        ("skills",),
        ("pipeline", "--as-of", "2025-06-30", "--window"),
    ],
)
def test_every_command_taking_a_period_notes_an_ambiguous_one(
    demo_company: Demo, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """Not only metrics, diagnose and report: each command that takes a period says what a
    calendar quarter means in a workspace whose fiscal year starts in April."""
    w = str(demo_company.workspace)
    flag = () if command[-1] == "--window" else ("-p",)
    args = (command[0], "-w", w, *command[1:], *flag, "2025-Q1", "-f", "json", "--lang", "en")
    _, _, err = _run(capsys, *args)
    assert "2025-Q1 (Jan 1, 2025 – Mar 31, 2025) is a calendar quarter" in err, command


def test_command_period_resolves_relative_forms_against_today(demo_company: Demo) -> None:
    with demo_company.open() as ws:
        assert ws.settings.fiscal_year_start_month == 4
        p = command_period(ws, "今期", "ja", today=TODAY)
        assert (p.start, p.end, p.label) == (D(2025, 4, 1), D(2026, 3, 31), "FY2025")
        p = command_period(ws, "last-quarter", "en", today=D(2025, 8, 1))
        assert (p.start, p.end, p.label) == (D(2025, 4, 1), D(2025, 6, 30), "FY2025-Q1")


def test_the_report_title_states_the_dates(demo_runbook: object, demo_company: Demo) -> None:
    html = (demo_company.root / "report.html").read_text(encoding="utf-8")
    assert "対象期間: FY2025（2025-04-01〜2026-03-31）" in html


def test_the_metrics_table_states_the_dates(
    demo_company: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    w = str(demo_company.workspace)
    code, out, _ = _run(capsys, "metrics", "-w", w, "-p", "2025年度上期", "-m", "bookings")
    # Rich wraps the title to the table's width: compare without the line breaks
    assert code == 0 and "指標FY2025-H1（2025-04-01〜2025-09-30）" in "".join(out.split())
