"""The demo company generator: schema conformance, determinism, and every planted problem.

Each planted problem is measured straight from the CSV files with polars (not through eigyo's
metrics), so these tests check the generator on its own: the problem is there at roughly its
planted size with ``clean=False`` and gone with ``clean=True``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from eigyo.demo import DemoResult, generate
from eigyo.schema import TABLES

FY2025 = (datetime(2025, 4, 1), datetime(2026, 4, 1))
FY2024 = (datetime(2024, 4, 1), datetime(2025, 4, 1))
END = datetime(2026, 4, 1)
TS = "%Y-%m-%dT%H:%M:%S"


# ------------------------------------------------------------------ fixtures and readers
@pytest.fixture(scope="module")
def planted(demo_data: DemoResult) -> DemoResult:
    """The session's demo CSVs (small, seed 0): read here, never written."""
    return demo_data


@pytest.fixture(scope="module")
def clean(clean_demo_data: DemoResult) -> DemoResult:
    """The session's clean demo CSVs (small, seed 0, ``clean=True``)."""
    return clean_demo_data


def read(res: DemoResult, name: str) -> pl.DataFrame:
    """A generated table with its timestamp and date columns parsed."""
    t = next(t for t in TABLES if t.name == name)
    df = pl.read_csv(res.out_dir / f"{name}.csv", infer_schema=False)
    conv = []
    for c in t.columns:
        if c.type == "timestamp":
            conv.append(pl.col(c.name).str.strptime(pl.Datetime, TS))
        elif c.type == "date":
            conv.append(pl.col(c.name).str.strptime(pl.Date, "%Y-%m-%d"))
        elif c.type in ("integer", "number"):
            conv.append(pl.col(c.name).cast(pl.Float64))
    return df.with_columns(conv)


def truth(res: DemoResult) -> dict[str, Any]:
    return dict(json.loads(res.truth_path.read_text(encoding="utf-8")))


def problem(res: DemoResult, check: str) -> dict[str, Any]:
    return dict(next(p for p in truth(res)["problems"] if p["check"] == check))


def in_period(col: str, period: tuple[datetime, datetime]) -> pl.Expr:
    return (pl.col(col) >= period[0]) & (pl.col(col) < period[1])


def with_team(res: DemoResult, df: pl.DataFrame, rep_col: str) -> pl.DataFrame:
    reps = read(res, "reps").select(pl.col("rep_id").alias(rep_col), "team", "role", "hire_date")
    return df.join(reps, on=rep_col, how="left")


def win_rate(df: pl.DataFrame) -> float:
    won = df.filter(pl.col("status") == "won").height
    lost = df.filter(pl.col("status") == "lost").height
    return won / (won + lost)


def closed_new(res: DemoResult, period: tuple[datetime, datetime]) -> pl.DataFrame:
    opps = read(res, "opportunities").filter(
        in_period("closed_at", period) & (pl.col("type") == "new")
    )
    return with_team(res, opps, "owner_rep_id")


# ------------------------------------------------------------------ measurements
def team_win_rates(res: DemoResult, period: tuple[datetime, datetime]) -> dict[str, float]:
    df = closed_new(res, period)
    return {t: win_rate(g) for (t,), g in df.group_by("team")}


def rest_win_rate(res: DemoResult, period: tuple[datetime, datetime], team: str) -> float:
    return win_rate(closed_new(res, period).filter(pl.col("team") != team))


def stage_profile(res: DemoResult, team: str, stage: str) -> tuple[float, float, float, float]:
    """(team pass rate, others' pass rate, team median days, others' median days) at a stage."""
    sh = read(res, "stage_history").sort(["opportunity_id", "entered_at"])
    sh = sh.with_columns(
        nxt=pl.col("stage").shift(-1).over("opportunity_id"),
        nxt_at=pl.col("entered_at").shift(-1).over("opportunity_id"),
    )
    opps = with_team(res, read(res, "opportunities"), "owner_rep_id").select(
        "opportunity_id", "team", "type", "created_at"
    )
    at = sh.filter(pl.col("stage") == stage).join(opps, on="opportunity_id")
    at = at.filter((pl.col("type") == "new") & in_period("created_at", FY2025))
    at = at.unique("opportunity_id", keep="first")
    moved = pl.col("nxt").is_in(["交渉", "受注"])
    days = (pl.col("nxt_at") - pl.col("entered_at")).dt.total_seconds() / 86400

    def rate(df: pl.DataFrame) -> float:
        return df.filter(moved).height / df.height

    def dwell(df: pl.DataFrame) -> float:
        return float(df.filter(pl.col("nxt").is_not_null()).select(days.median()).item())

    mine, rest = at.filter(pl.col("team") == team), at.filter(pl.col("team") != team)
    return rate(mine), rate(rest), dwell(mine), dwell(rest)


def slippage_by_rep(res: DemoResult, period: tuple[datetime, datetime]) -> dict[str, float]:
    """docs/metrics.md's slippage_rate per owner: first expected date in P, not closed by then."""
    ch = read(res, "opportunity_changes").filter(pl.col("field") == "expected_close_date")
    first = ch.sort("changed_at").group_by("opportunity_id").agg(pl.col("old_value").first())
    opps = read(res, "opportunities").join(first, on="opportunity_id", how="left")
    opps = opps.with_columns(
        first=pl.coalesce(pl.col("old_value").str.to_date(), pl.col("expected_close_date"))
    ).filter((pl.col("first") >= period[0].date()) & (pl.col("first") < period[1].date()))
    slipped = pl.col("closed_at").is_null() | (pl.col("closed_at").dt.date() > pl.col("first"))
    out = opps.group_by("owner_rep_id").agg(slipped.mean().alias("r"), pl.len().alias("n"))
    return {r: v for r, v, n in out.iter_rows() if n >= 30}


def handoff_days(res: DemoResult) -> dict[str, float]:
    """Median days from an SDR hand-off to the closer's first meeting, per closer, FY2025."""
    opps = read(res, "opportunities").filter(
        pl.col("sdr_rep_id").is_not_null() & in_period("created_at", FY2025)
    )
    meet = read(res, "activities").filter(pl.col("type") == "meeting")
    first = meet.group_by("opportunity_id", "rep_id").agg(pl.col("occurred_at").min())
    df = opps.join(
        first, left_on=["opportunity_id", "owner_rep_id"], right_on=["opportunity_id", "rep_id"]
    )
    days = (pl.col("occurred_at") - pl.col("created_at")).dt.total_seconds() / 86400
    out = df.group_by("owner_rep_id").agg(days.median().alias("d"))
    return dict(out.iter_rows())


def sla_by_team(res: DemoResult, period: tuple[datetime, datetime]) -> dict[str, float]:
    leads = read(res, "leads").filter(
        in_period("created_at", period) & pl.col("mql_at").is_not_null()
    )
    leads = with_team(res, leads, "owner_rep_id")
    ok = (pl.col("first_response_at") - pl.col("mql_at")).dt.total_minutes() <= 60
    out = leads.group_by("team").agg(ok.fill_null(False).mean())
    return dict(out.iter_rows())


def untouched_by_source(res: DemoResult) -> dict[str, float]:
    leads = read(res, "leads").filter(
        in_period("created_at", FY2025) & pl.col("mql_at").is_not_null()
    )
    out = leads.group_by("source").agg(pl.col("first_response_at").is_null().mean())
    return dict(out.iter_rows())


def new_rep_win_rates(res: DemoResult) -> tuple[float, float]:
    """Win rates in FY2025 of reps hired in the data without / with the onboarding course."""
    trained = read(res, "trainings").filter(pl.col("program") == "新人オンボーディング研修")
    df = closed_new(res, FY2025).filter(pl.col("hire_date") >= datetime(2024, 4, 1).date())
    is_trained = pl.col("owner_rep_id").is_in(trained["rep_id"].implode())
    return win_rate(df.filter(~is_trained)), win_rate(df.filter(is_trained))


def industry_profile(res: DemoResult, industry: str) -> tuple[float, float, float]:
    """(industry win rate, others' win rate, industry share of opportunities) in FY2025."""
    acc = read(res, "accounts").select("account_id", "industry")
    df = closed_new(res, FY2025).join(acc, on="account_id")
    mine = df.filter(pl.col("industry") == industry)
    rest = df.filter(pl.col("industry") != industry)
    return win_rate(mine), win_rate(rest), mine.height / df.height


def stale_by_team(res: DemoResult) -> dict[str, tuple[int, int]]:
    """(stale open deals, open deals) per team at the end of the data."""
    last = read(res, "activities").group_by("opportunity_id").agg(pl.col("occurred_at").max())
    opps = read(res, "opportunities").filter(pl.col("status") == "open")
    opps = with_team(res, opps.join(last, on="opportunity_id", how="left"), "owner_rep_id")
    stale = pl.col("occurred_at").is_null() | (pl.col("occurred_at") < datetime(2026, 1, 30))
    stale = stale & pl.col("expected_close_date").is_null()
    out = opps.group_by("team").agg(stale.sum(), pl.len())
    return {t: (int(s), int(n)) for t, s, n in out.iter_rows()}


def admin_share_by_team(res: DemoResult) -> dict[str, float]:
    te = with_team(res, read(res, "time_entries"), "rep_id")
    out = te.group_by("team").agg(
        pl.col("hours").filter(pl.col("category") == "admin").sum() / pl.col("hours").sum()
    )
    return dict(out.iter_rows())


def did(res: DemoResult, team: str) -> tuple[float, float, float, float]:
    """(Δ median response minutes, Δ lead→won rate): treated change minus control change."""
    leads = with_team(res, read(res, "leads"), "owner_rep_id")
    opps = read(res, "opportunities").select("opportunity_id", pl.col("status").alias("o"))
    leads = leads.join(opps, on="opportunity_id", how="left")
    minutes = (pl.col("first_response_at") - pl.col("mql_at")).dt.total_minutes()
    vals = {}
    for name, period in (("pre", FY2024), ("post", FY2025)):
        p = leads.filter(in_period("created_at", period))
        for grp, df in (
            ("t", p.filter(pl.col("team") == team)),
            ("c", p.filter(pl.col("team") != team)),
        ):
            vals[name, grp] = (
                float(df.select(minutes.median()).item()),
                df.filter(pl.col("o") == "won").height / df.height,
            )
    d_min_t = vals["post", "t"][0] - vals["pre", "t"][0]
    d_min_c = vals["post", "c"][0] - vals["pre", "c"][0]
    d_conv_t = vals["post", "t"][1] - vals["pre", "t"][1]
    d_conv_c = vals["post", "c"][1] - vals["pre", "c"][1]
    return d_min_t, d_min_c, d_conv_t, d_conv_c


# ------------------------------------------------------------------ the files
REFERENCES = [
    ("reps", "manager_id", "reps", "rep_id"),
    ("quotas", "rep_id", "reps", "rep_id"),
    ("accounts", "owner_rep_id", "reps", "rep_id"),
    ("leads", "account_id", "accounts", "account_id"),
    ("leads", "owner_rep_id", "reps", "rep_id"),
    ("leads", "opportunity_id", "opportunities", "opportunity_id"),
    ("opportunities", "account_id", "accounts", "account_id"),
    ("opportunities", "owner_rep_id", "reps", "rep_id"),
    ("opportunities", "sdr_rep_id", "reps", "rep_id"),
    ("opportunities", "lead_id", "leads", "lead_id"),
    ("stage_history", "opportunity_id", "opportunities", "opportunity_id"),
    ("stage_history", "rep_id", "reps", "rep_id"),
    ("opportunity_changes", "opportunity_id", "opportunities", "opportunity_id"),
    ("activities", "rep_id", "reps", "rep_id"),
    ("activities", "lead_id", "leads", "lead_id"),
    ("activities", "opportunity_id", "opportunities", "opportunity_id"),
    ("activities", "account_id", "accounts", "account_id"),
    ("time_entries", "rep_id", "reps", "rep_id"),
    ("trainings", "rep_id", "reps", "rep_id"),
    ("assessments", "rep_id", "reps", "rep_id"),
    ("orders", "account_id", "accounts", "account_id"),
    ("orders", "opportunity_id", "opportunities", "opportunity_id"),
]
TS_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


def test_result_names_every_file_and_counts_its_rows(planted: DemoResult) -> None:
    assert planted.company == "株式会社さくらクラウド"
    assert planted.truth_path == planted.out_dir / "truth.json"
    names = sorted(p.name for p in planted.out_dir.iterdir())
    assert names == sorted([f"{t.name}.csv" for t in TABLES] + ["truth.json"])
    for t in TABLES:
        raw = (planted.out_dir / f"{t.name}.csv").read_bytes()
        assert raw.decode("utf-8").splitlines()[0] == ",".join(t.column_names)
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert planted.counts[t.name] == pl.read_csv(raw, infer_schema=False).height


@pytest.mark.parametrize("which", ["planted", "clean"])
def test_every_table_conforms_to_the_schema(which: str, request: pytest.FixtureRequest) -> None:
    res: DemoResult = request.getfixturevalue(which)
    for t in TABLES:
        df = pl.read_csv(res.out_dir / f"{t.name}.csv", infer_schema=False)
        assert tuple(df.columns) == t.column_names
        for c in t.columns:
            col = df[c.name]
            if c.required:
                assert col.null_count() == 0, f"{t.name}.{c.name} has empty cells"
            vals = col.drop_nulls()
            if c.allowed:
                assert set(vals.unique()) <= set(c.allowed), f"{t.name}.{c.name}"
            if c.type == "timestamp":
                assert vals.str.contains(TS_RE).all(), f"{t.name}.{c.name}"
            if c.type == "date":
                assert vals.str.contains(DATE_RE).all(), f"{t.name}.{c.name}"
            if c.type in ("integer", "number") and len(vals):
                num = vals.cast(pl.Float64)
                if c.type == "integer" or c.name in ("amount", "monthly_cost", "annual_revenue"):
                    assert (num == num.round()).all(), f"{t.name}.{c.name} must be whole"
                if c.min_value is not None:
                    assert num.min() >= c.min_value, f"{t.name}.{c.name}"  # type: ignore[operator]
                if c.max_value is not None:
                    assert num.max() <= c.max_value, f"{t.name}.{c.name}"  # type: ignore[operator]
        if t.key and df.height:
            assert df.select(t.key).is_duplicated().sum() == 0, f"{t.name} key {t.key}"


@pytest.mark.parametrize("which", ["planted", "clean"])
def test_foreign_keys_resolve(which: str, request: pytest.FixtureRequest) -> None:
    res: DemoResult = request.getfixturevalue(which)
    frames = {
        t.name: pl.read_csv(res.out_dir / f"{t.name}.csv", infer_schema=False) for t in TABLES
    }
    for src, col, dst, key in REFERENCES:
        ids = frames[src][col].drop_nulls()
        missing = ids.filter(~ids.is_in(frames[dst][key].implode()))
        assert missing.len() == 0, f"{src}.{col} → {dst}.{key}: {missing.head(3).to_list()}"


def test_same_seed_same_bytes_other_seed_other_data(planted: DemoResult, tmp_path: Path) -> None:
    a = planted  # seed 0, generated once for the session
    b = generate(tmp_path / "b", seed=0)
    c = generate(tmp_path / "c", seed=8)
    for name in [f"{t.name}.csv" for t in TABLES] + ["truth.json"]:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert (a.out_dir / "opportunities.csv").read_bytes() != (
        c.out_dir / "opportunities.csv"
    ).read_bytes()
    assert a.counts != c.counts


#: Row counts that come from the random stream, as ranges any seed stays inside (seeds 0–5,
#: planted and clean, lie within ±6 % of the middle; trainings and orders within ±20 %).
VOLUMES = {
    "accounts": (9_000, 11_000),
    "leads": (12_000, 14_500),
    "opportunities": (6_000, 9_000),
    "stage_history": (27_000, 35_000),
    "opportunity_changes": (24_000, 30_000),
    "activities": (115_000, 150_000),
    "time_entries": (55_000, 65_000),
    "trainings": (80, 180),
    "orders": (3_000, 4_600),
}


def test_small_scale_counts(planted: DemoResult, clean: DemoResult) -> None:
    """The template company: 33 sellers and 6 managers, whatever the seed. The volumes come
    from the random stream, so they are checked as properties that hold for any seed: each
    reported count is its file's row count, read here on its own, and lies in its range."""
    reps = read(planted, "reps")
    by = reps.group_by("team", "role").len().sort("team", "role")
    assert dict(zip(by["team"] + "/" + by["role"], by["len"], strict=True)) == {
        "アカウント営業部/account_manager": 4,
        "アカウント営業部/manager": 1,
        "名古屋営業部/generalist": 5,
        "名古屋営業部/manager": 1,
        "大阪営業部/generalist": 6,
        "大阪営業部/manager": 1,
        "東京第一営業部/generalist": 6,
        "東京第一営業部/manager": 1,
        "東京第二営業部/closer": 4,
        "東京第二営業部/manager": 1,
        "東京第二営業部/sdr": 3,
        "福岡営業部/generalist": 5,
        "福岡営業部/manager": 1,
    }
    for res in (planted, clean):
        assert list(res.counts) == [t.name for t in TABLES]  # every table, in schema order
        for name, n in res.counts.items():
            assert n == pl.read_csv(res.out_dir / f"{name}.csv", infer_schema=False).height, name
        assert res.counts["reps"] == reps.height  # the same template, planted or clean
        for name, (low, high) in VOLUMES.items():
            assert low <= res.counts[name] <= high, (name, res.counts[name])
        # every deal has its first stage entry, and most move on through several stages
        assert res.counts["stage_history"] >= 2 * res.counts["opportunities"]
    assert planted.counts["interventions"] == 1  # INT-001, the inside-sales introduction
    assert clean.counts["interventions"] == 0


def test_unknown_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"Unknown scale 'huge'\. Use one of: small, medium, large"
    ):
        generate(tmp_path, scale="huge")


# ------------------------------------------------------------------ truth.json
CHECKS = {
    "kpi_gap_by_team": ("measure", "win_rate", {"team": "大阪営業部"}),
    "stage_bottleneck": ("process", "stage_conversion", {"team": "名古屋営業部", "stage": "提案"}),
    "slippage_by_rep": ("process", "slippage_rate", None),
    "handoff_delay": ("specialization", "handoff_to_meeting_days", None),
    "lead_response_sla": ("alignment", "lead_response_sla_rate", {"team": "東京第一営業部"}),
    "untouched_leads": ("alignment", "untouched_lead_rate", {"source": "展示会"}),
    "untrained_new_reps": ("enablement", "win_rate", {"team": "福岡営業部"}),
    "underserved_segment": ("data", "win_rate", {"industry": "製造業"}),
    "stale_deals": ("data", "stale_open_deals", {"team": "大阪営業部"}),
    "admin_time": ("organization", "admin_time_share", {"team": "名古屋営業部"}),
    "intervention_effect": ("monitor", "lead_response_minutes", {"intervention_id": "INT-001"}),
}


def test_truth_lists_the_eleven_planted_problems(planted: DemoResult) -> None:
    doc = truth(planted)
    assert {k: doc[k] for k in ("company", "seed", "scale", "clean", "start", "end")} == {
        "company": "株式会社さくらクラウド",
        "seed": 0,
        "scale": "small",
        "clean": False,
        "start": "2024-04-01",
        "end": "2026-03-31",
    }
    probs = doc["problems"]
    assert [p["check"] for p in probs] == list(CHECKS)
    reps = read(planted, "reps")
    for p in probs:
        step, metric, scope = CHECKS[p["check"]]
        assert (p["step"], p["metric"]) == (step, metric)
        assert set(p) == {"id", "step", "check", "metric", "scope", "description", "planted"}
        assert p["description"]["ja"] and p["description"]["en"]
        if scope is not None:
            assert p["scope"] == scope
    team_of = dict(zip(reps["rep_id"], reps["team"], strict=True))
    role_of = dict(zip(reps["rep_id"], reps["role"], strict=True))
    slipper = problem(planted, "slippage_by_rep")["scope"]["rep_id"]
    closer = problem(planted, "handoff_delay")["scope"]["rep_id"]
    assert (team_of[slipper], role_of[slipper]) == ("東京第一営業部", "generalist")
    assert (team_of[closer], role_of[closer]) == ("東京第二営業部", "closer")
    assert problem(planted, "intervention_effect")["planted"]["expected"] == "worked"


def test_clean_company_has_no_problem_and_no_intervention(clean: DemoResult) -> None:
    doc = truth(clean)
    assert doc["clean"] is True and doc["problems"] == []
    assert read(clean, "interventions").height == 0


def test_intervention_row(planted: DemoResult) -> None:
    rows = read(planted, "interventions").to_dicts()
    assert [(r["intervention_id"], r["name"], r["scope"]) for r in rows] == [
        ("INT-001", "インサイドセールス導入", "東京第二営業部")
    ]
    assert rows[0]["started_at"] == datetime(2025, 4, 1, 9, 0)


# ------------------------------------------------------------------ the planted problems
@pytest.mark.parametrize("period", [FY2024, FY2025])
def test_p1_osaka_wins_half_as_often(planted: DemoResult, clean: DemoResult, period: Any) -> None:
    osaka, rest = (
        team_win_rates(planted, period)["大阪営業部"],
        rest_win_rate(planted, period, "大阪営業部"),
    )
    assert 0.10 <= osaka <= 0.20 and 0.27 <= rest <= 0.40
    assert (
        abs(
            team_win_rates(clean, period)["大阪営業部"] - rest_win_rate(clean, period, "大阪営業部")
        )
        < 0.06
    )


def test_p2_nagoya_deals_stall_in_proposal(planted: DemoResult, clean: DemoResult) -> None:
    rate, rest, days, rest_days = stage_profile(planted, "名古屋営業部", "提案")
    assert 0.28 <= rate <= 0.45 and 0.55 <= rest <= 0.72
    assert 2.3 <= days / rest_days <= 4.0
    rate, rest, days, rest_days = stage_profile(clean, "名古屋営業部", "提案")
    assert abs(rate - rest) < 0.10 and 0.8 <= days / rest_days <= 1.25
    # the bottleneck alone does not make 名古屋 lose overall
    assert team_win_rates(planted, FY2025)["名古屋営業部"] >= 0.25


def test_p3_one_rep_keeps_pushing_close_dates(planted: DemoResult, clean: DemoResult) -> None:
    rep = problem(planted, "slippage_by_rep")["scope"]["rep_id"]
    for period in (FY2024, FY2025):
        rates = slippage_by_rep(planted, period)
        others = sorted(v for r, v in rates.items() if r != rep)
        assert 0.45 <= rates[rep] <= 0.85 and others[len(others) // 2] <= 0.25
        assert max(others) < 0.42
    assert max(slippage_by_rep(clean, FY2025).values()) < 0.42
    pushes = read(planted, "opportunity_changes").filter(pl.col("field") == "expected_close_date")
    opps = read(planted, "opportunities").filter(pl.col("type") == "new")
    per_rep = (
        opps.group_by("owner_rep_id")
        .len()
        .join(
            pushes.join(opps, on="opportunity_id")
            .group_by("owner_rep_id")
            .agg(pl.len().alias("p")),
            on="owner_rep_id",
        )
    )
    per_deal = dict(per_rep.select("owner_rep_id", pl.col("p") / pl.col("len")).iter_rows())
    assert per_deal.pop(rep) >= 1.2  # several pushes per deal
    assert max(per_deal.values()) <= 0.5


def test_p4_one_closer_is_slow_after_hand_off(planted: DemoResult, clean: DemoResult) -> None:
    rep = problem(planted, "handoff_delay")["scope"]["rep_id"]
    days = handoff_days(planted)
    assert 6.0 <= days[rep] <= 11.0
    assert all(0.8 <= d <= 2.5 for r, d in days.items() if r != rep)
    assert max(handoff_days(clean).values()) <= 2.5
    df = closed_new(planted, FY2025).filter(pl.col("sdr_rep_id").is_not_null())
    mine, rest = df.filter(pl.col("owner_rep_id") == rep), df.filter(pl.col("owner_rep_id") != rep)
    assert win_rate(mine) < win_rate(rest) - 0.08


def test_p5_tokyo1_answers_leads_slowly(planted: DemoResult, clean: DemoResult) -> None:
    for period in (FY2024, FY2025):
        sla = sla_by_team(planted, period)
        assert 0.12 <= sla.pop("東京第一営業部") <= 0.28
        assert all(0.65 <= v <= 0.95 for v in sla.values())
    assert all(v >= 0.7 for v in sla_by_team(clean, FY2025).values())


def test_p6_trade_show_leads_go_untouched(planted: DemoResult, clean: DemoResult) -> None:
    rates = untouched_by_source(planted)
    assert 0.33 <= rates.pop("展示会") <= 0.47
    assert all(v <= 0.09 for v in rates.values())
    assert all(v <= 0.09 for v in untouched_by_source(clean).values())


def test_p7_untrained_new_reps_win_half_as_often(planted: DemoResult, clean: DemoResult) -> None:
    trained = read(planted, "trainings").filter(pl.col("program") == "新人オンボーディング研修")
    reps = read(planted, "reps").filter(pl.col("hire_date") >= datetime(2024, 4, 1).date())
    untrained = reps.filter(~pl.col("rep_id").is_in(trained["rep_id"].implode()))
    assert sorted(untrained["team"]) == ["福岡営業部"] * 3
    assert reps.filter(pl.col("team") != "福岡営業部").height >= 3  # trained peers to compare
    onboarded = trained.join(reps, on="rep_id")
    lag = (pl.col("completed_at").dt.date() - pl.col("hire_date")).dt.total_days()
    assert onboarded.select(lag.max()).item() <= 30
    bad, good = new_rep_win_rates(planted)
    assert 0.35 <= bad / good <= 0.7
    assert (
        read(clean, "trainings").filter(pl.col("program") == "新人オンボーディング研修").height == 6
    )


def test_p8_manufacturing_wins_often_but_is_rare(planted: DemoResult, clean: DemoResult) -> None:
    mine, rest, share = industry_profile(planted, "製造業")
    assert 0.42 <= mine <= 0.62 and 0.24 <= rest <= 0.33 and 0.04 <= share <= 0.08
    mine, rest, _ = industry_profile(clean, "製造業")
    assert abs(mine - rest) < 0.08


def test_p9_osaka_sits_on_stale_undated_deals(planted: DemoResult, clean: DemoResult) -> None:
    stale = stale_by_team(planted)
    osaka_stale, osaka_open = stale.pop("大阪営業部")
    assert osaka_stale >= 100 and osaka_stale / osaka_open >= 0.6
    assert all(s <= 3 for s, _ in stale.values())
    assert all(s <= 3 for s, _ in stale_by_team(clean).values())


def test_p10_nagoya_drowns_in_admin(planted: DemoResult, clean: DemoResult) -> None:
    share = admin_share_by_team(planted)
    assert 0.40 <= share.pop("名古屋営業部") <= 0.50
    assert all(0.17 <= v <= 0.25 for v in share.values())
    assert all(0.17 <= v <= 0.25 for v in admin_share_by_team(clean).values())


def test_p11_inside_sales_worked(planted: DemoResult) -> None:
    d_min_t, d_min_c, d_conv_t, d_conv_c = did(planted, "東京第二営業部")
    assert d_min_t - d_min_c <= -8  # minutes faster than the rest's change
    assert d_conv_t - d_conv_c >= 0.03  # lead → won conversion up, beyond the rest's change
    opps = read(planted, "opportunities").filter(pl.col("sdr_rep_id").is_not_null())
    assert opps["created_at"].min() >= datetime(2025, 4, 1)
    assert set(with_team(planted, opps, "sdr_rep_id")["role"]) == {"sdr"}
    assert set(with_team(planted, opps, "owner_rep_id")["role"]) == {"closer"}


def test_clean_tokyo2_sells_as_sdr_and_closers_throughout(clean: DemoResult) -> None:
    opps = with_team(clean, read(clean, "opportunities"), "owner_rep_id")
    tokyo2 = opps.filter((pl.col("team") == "東京第二営業部") & (pl.col("type") == "new"))
    assert set(tokyo2["role"]) == {"closer"} and tokyo2["sdr_rep_id"].null_count() == 0
    assert tokyo2["created_at"].min() < datetime(2024, 5, 1)


# ------------------------------------------------------------------ a believable company
def test_leads_and_deals_point_at_each_other(planted: DemoResult) -> None:
    leads = read(planted, "leads").filter(pl.col("opportunity_id").is_not_null())
    opps = read(planted, "opportunities").filter(pl.col("lead_id").is_not_null())
    pairs_l = set(zip(leads["lead_id"], leads["opportunity_id"], strict=True))
    pairs_o = set(zip(opps["lead_id"], opps["opportunity_id"], strict=True))
    assert pairs_l == pairs_o and len(pairs_l) > 4000
    assert set(leads["status"]) == {"converted"}
    assert (opps["type"] == "new").all()
    both = leads.join(opps.select("lead_id", pl.col("created_at").alias("c")), on="lead_id")
    assert (both["sql_at"] == both["c"]).all()  # a deal is created when its lead qualifies
    assert set(read(planted, "leads")["source"]) == {
        "Web問い合わせ",
        "展示会",
        "ウェビナー",
        "紹介",
        "テレアポ",
        "広告",
    }


def test_stage_histories_follow_the_funnel(planted: DemoResult) -> None:
    order = {s: i for i, s in enumerate(["見込み", "評価", "商談", "提案", "交渉", "受注", "失注"])}
    sh = read(planted, "stage_history").sort("opportunity_id", "entered_at")
    opps = read(planted, "opportunities")
    per = (
        sh.group_by("opportunity_id", maintain_order=True)
        .agg(
            pl.col("stage").first().alias("first"),
            pl.col("stage").last().alias("last"),
            pl.col("entered_at").first().alias("t0"),
            pl.col("entered_at").last().alias("t1"),
            pl.col("stage").replace_strict(order).diff().min().alias("worst_step"),
            pl.col("stage").is_in(["評価"]).any().alias("qualified"),
        )
        .join(opps, on="opportunity_id")
    )
    assert per.height == opps.height
    assert (per["first"] == "見込み").all() and (per["t0"] == per["created_at"]).all()
    won, lost = per.filter(pl.col("status") == "won"), per.filter(pl.col("status") == "lost")
    assert (won["last"] == "受注").all() and (lost["last"] == "失注").all()
    assert (won["t1"] == won["closed_at"]).all() and (lost["t1"] == lost["closed_at"]).all()
    still = per.filter(pl.col("status") == "open")
    assert not still["last"].is_in(["受注", "失注"]).any()
    assert 0 < per.filter(pl.col("worst_step") < 0).height < 0.05 * per.height  # a few go back
    assert per.filter(~pl.col("qualified")).height > 0  # some skip 評価
    assert per.filter(pl.col("status") == "lost")["lost_reason"].null_count() == 0
    assert (
        per.filter(pl.col("status") != "lost")["lost_reason"].null_count()
        == per.filter(pl.col("status") != "lost").height
    )
    assert (per["closed_at"].is_null() == (per["status"] == "open")).all()


def test_everything_happens_inside_the_two_fiscal_years(planted: DemoResult) -> None:
    for name, col in (("activities", "occurred_at"), ("orders", "ordered_at")):
        s = read(planted, name)[col]
        assert s.min() >= datetime(2024, 4, 1) and s.max() < END  # type: ignore[operator]
    te = read(planted, "time_entries")
    assert te["date"].min() == datetime(2024, 4, 1).date()
    assert te["date"].max() == datetime(2026, 3, 31).date()
    daily = te.group_by("rep_id", "date").agg(pl.col("hours").sum())["hours"]
    assert daily.min() >= 5.5 and daily.max() <= 11.5 and 8.0 <= daily.mean() <= 9.0  # type: ignore[operator]
    closed = read(planted, "opportunities")["closed_at"].drop_nulls()
    assert closed.min() >= datetime(2024, 4, 1) and closed.max() < END  # type: ignore[operator]
    # FY2024 opens with a pipeline in flight: its first month closes about as much as later ones
    per_month = closed.dt.strftime("%Y-%m").value_counts().sort("closed_at")["count"]
    assert per_month[0] >= 0.6 * per_month.median()  # type: ignore[operator]


def test_orders_follow_wins_and_customers_come_back(planted: DemoResult) -> None:
    orders = read(planted, "orders")
    won = read(planted, "opportunities").filter(pl.col("status") == "won")
    linked = orders.filter(pl.col("opportunity_id").is_not_null())
    assert sorted(linked["opportunity_id"]) == sorted(won["opportunity_id"])
    both = linked.join(won, on="opportunity_id")
    assert (both["amount"] == both["amount_right"]).all()
    assert (both["ordered_at"] == both["closed_at"]).all()
    per_acc = orders.group_by("account_id").len()["len"]
    assert (per_acc >= 2).mean() >= 0.25  # type: ignore[operator]
    am = with_team(planted, won, "owner_rep_id").filter(pl.col("team") == "アカウント営業部")
    assert set(am["type"]) == {"expansion", "renewal"}


def test_amounts_activities_and_people_look_real(planted: DemoResult) -> None:
    opps = read(planted, "opportunities").filter(pl.col("type") == "new")
    assert 1_200_000 <= opps["amount"].median() <= 1_900_000  # type: ignore[operator]
    acts = read(planted, "activities")
    calls = acts.filter(pl.col("type") == "call")
    assert 0.26 <= (calls["outcome"] == "connected").mean() <= 0.34  # type: ignore[operator]
    assert set(acts["type"]) == {"call", "email", "meeting", "demo", "proposal"}
    reps = read(planted, "reps")
    sellers = reps.filter(pl.col("role") != "manager")
    assert sellers["monthly_cost"].min() >= 550_000 and sellers["monthly_cost"].max() <= 900_000  # type: ignore[operator]
    managers = reps.filter(pl.col("role") == "manager")
    assert managers["manager_id"].null_count() == managers.height
    assert sellers["manager_id"].is_in(managers["rep_id"].implode()).all()
    quota_roles = with_team(planted, read(planted, "quotas"), "rep_id")
    assert set(quota_roles["role"]) == {"generalist", "closer", "account_manager", "sdr"}
    sdr_q = quota_roles.filter(pl.col("role") == "sdr")
    assert sdr_q["period_end"].max() < datetime(2025, 4, 1).date()  # type: ignore[operator]
    levels = read(planted, "assessments")
    assert set(levels["capability"]) == {"ヒアリング", "提案力", "クロージング", "製品知識"}
