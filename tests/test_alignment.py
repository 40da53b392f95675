"""Alignment (step 4): hand-made leads pin every number; demo, clean demo and Olist end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from eigyo import workspace
from eigyo.analysis.alignment import lead_value as av
from eigyo.analysis.alignment import sources as al
from eigyo.base.periods import parse_period
from eigyo.errors import InputError
from eigyo.ingest import import_path
from eigyo.workspace import Workspace
from tests._data import DATA, needs_data
from tests._rows import insert, new_ws
from tests.conftest import Demo

MAY = parse_period("2025-05")
OLIST = DATA / "olist-marketing-funnel"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "olist-funnel.toml"


def _lead(i: int, mql: str, resp: str | None, **kw: object) -> dict[str, object]:
    return {"lead_id": f"L{i}", "created_at": mql, "mql_at": mql, "first_response_at": resp, **kw}


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = new_ws(tmp_path)
    insert(w, "reps", [
        {"rep_id": "R1", "team": "A", "role": "generalist", "hire_date": "2020-04-01"},
        {"rep_id": "R2", "team": "B", "role": "generalist", "hire_date": "2020-04-01"},
    ])  # fmt: skip
    # Team A, all on Wednesday 2025-05-07: responses 10, 30, 60 (the SLA boundary), 90 min, and
    # one never answered. 2025-05-05 (Mon) is こどもの日, 2025-05-10 a Saturday.
    insert(w, "leads", [
        _lead(1, "2025-05-07 09:00:00", "2025-05-07 09:10:00", owner_rep_id="R1", source="web",
              sql_at="2025-05-08 10:00:00", opportunity_id="O1",
              extra='{"landing_page": "lp1"}'),
        _lead(2, "2025-05-07 17:59:00", "2025-05-07 18:29:00", owner_rep_id="R1", source="web",
              sql_at="2025-05-08 10:00:00", extra='{"landing_page_id": "lp2"}'),
        _lead(3, "2025-05-07 08:59:00", "2025-05-07 09:59:00", owner_rep_id="R1", source="show",
              status="disqualified", extra='{"disqualification_reason": "予算なし"}'),
        _lead(4, "2025-05-07 18:00:00", "2025-05-07 19:30:00", owner_rep_id="R1", source="show"),
        _lead(5, "2025-05-05 10:00:00", None, owner_rep_id="R1", source="show",
              disqualified_at="2025-05-20 10:00:00"),
        _lead(6, "2025-05-10 10:00:00", "2025-05-10 10:05:00", owner_rep_id="R2", campaign="c1",
              source="web"),
        {"lead_id": "L7", "created_at": "2025-05-12 10:00:00", "source": "web"},  # not an MQL
        _lead(8, "2025-04-30 10:00:00", "2025-04-30 10:01:00", owner_rep_id="R2"),  # April
    ])  # fmt: skip
    insert(w, "opportunities", [
        {"opportunity_id": "O1", "owner_rep_id": "R1", "lead_id": "L1", "amount": 100,
         "created_at": "2025-05-08 10:00:00", "status": "won", "closed_at": "2025-05-30 10:00:00"},
        {"opportunity_id": "O2", "owner_rep_id": "R1", "lead_id": "L2", "amount": 50,
         "created_at": "2025-05-08 10:00:00", "status": "lost", "closed_at": "2025-05-30 10:00:00"},
        {"opportunity_id": "O3", "owner_rep_id": "R2", "lead_id": "L6", "amount": 70,
         "created_at": "2025-05-12 10:00:00", "status": "open"},
    ])  # fmt: skip
    return w


def test_response_times_by_team_median_p90_sla_boundary(ws: Workspace) -> None:
    df = al.response_times(ws, MAY, "team").sort("team")
    a = df.row(0, named=True)
    assert (a["mql"], a["answered"], a["untouched"], a["within_sla"]) == (5, 4, 1, 3)
    assert a["median_minutes"] == pytest.approx((30 + 60) / 2)  # even count: middle two
    assert a["p90_minutes"] == pytest.approx(60 + 0.7 * 30)  # position 0.9 × 3 = 2.7
    assert a["sla_rate"] == pytest.approx(3 / 5)  # unanswered counts as missed; 60 min is within
    assert a["untouched_rate"] == pytest.approx(1 / 5)
    b = df.row(1, named=True)
    assert (b["team"], b["mql"], b["median_minutes"], b["sla_rate"]) == ("B", 1, 5.0, 1.0)


def test_business_hours_holidays_weekday_and_hour_bins(ws: Workspace) -> None:
    s = al.lead_sample(ws, MAY).to_polars().sort("lead_id")
    # L1 09:00 in, L2 17:59 in, L3 08:59 out, L4 18:00 out, L5 holiday, L6 Saturday
    assert s["business_hours"].to_list() == [1, 1, 0, 0, 0, 0]
    assert s["hour"].to_list() == [9, 17, 8, 18, 10, 10]
    assert s["weekday"].to_list() == [2, 2, 2, 2, 0, 5]
    by = al.response_times(ws, MAY, "business_hours").sort("business_hours")
    assert by["mql"].to_list() == [4, 2]
    assert al.response_overall(ws, MAY)["outside_hours"] == 4
    win = al.response_times(ws, MAY, "window")
    assert win.filter((pl.col("weekday") == 2) & (pl.col("hour") == 17))["mql"].item() == 1


def test_funnel_links_opportunities_once_and_sums_yen(ws: Workspace) -> None:
    df = al.funnel(ws, MAY, "source").sort("source")
    web = df.row(1, named=True)
    # L1 (O1 linked both ways, won 100), L2 (O2 by lead_id, lost 50), L6 (O3 open 70)
    assert (web["mql"], web["sql"], web["opportunity"], web["won"]) == (3, 2, 3, 1)
    assert (web["pipeline_jpy"], web["won_jpy"]) == (220.0, 100.0)
    assert web["won_rate"] == pytest.approx(1 / 3)
    assert web["won_rate_low"] < 1 / 3 < web["won_rate_high"]
    show = df.row(0, named=True)
    assert (show["mql"], show["opportunity"], show["pipeline_jpy"]) == (3, 0, 0.0)


def test_landing_page_and_disqualification_reason_from_extra(ws: Workspace) -> None:
    lp = al.funnel(ws, MAY, "landing_page").sort("landing_page")
    assert lp["landing_page"].to_list() == ["(unknown)", "lp1", "lp2"]
    assert lp["mql"].to_list() == [4, 1, 1]
    dq = al.disqualifications(ws, MAY, "source")
    assert dq.to_dicts() == [
        {"source": "show", "dq_reason": "(unknown)", "n": 1, "share": 0.5},
        {"source": "show", "dq_reason": "予算なし", "n": 1, "share": 0.5},
    ]


def test_never_answered_lists_the_lead(ws: Workspace) -> None:
    assert al.never_answered(ws, MAY)["lead_id"].to_list() == ["L5"]


def test_sql_is_null_when_no_lead_records_it(tmp_path: Path) -> None:
    w = new_ws(tmp_path)
    insert(w, "leads", [_lead(1, "2025-05-07 10:00:00", None, source="web")])
    df = al.funnel(w, MAY, "source")
    assert df["sql"].to_list() == [None] and df["sql_rate"].to_list() == [None]


def test_costs_file_per_campaign_rolls_up_to_source(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "campaign_costs.csv"
    f.write_text('campaign,cost,month\nc1,"¥1,000",2025-05\nc1,500,2025-04\n(unknown),300,\n')
    costs = av.load_costs(f)
    by_campaign = av.source_value(ws, MAY, "campaign", costs).sort("campaign")
    c1 = by_campaign.row(1, named=True)  # April's 500 lies outside May
    assert (c1["cost"], c1["cost_per_lead"], c1["cost_per_won"]) == (1000.0, 1000.0, None)
    by_source = av.source_value(ws, MAY, "source", costs).sort("source")
    # "(unknown)" campaign: 5 MQLs, 4 from web/show … its main source is show (3 of them)
    assert by_source["cost"].to_list() == [300.0, 1000.0]
    web = by_source.row(1, named=True)
    assert web["cost_per_won"] == 1000.0 and web["won_jpy_per_cost"] == pytest.approx(0.1)
    f.write_text("name,cost\nx,1\n")
    with pytest.raises(InputError, match="one key column"):
        av.load_costs(f)


def test_response_curve_small_sample_says_not_enough_data(ws: Workspace) -> None:
    c = av.response_curve(ws, MAY)
    assert c.verdict == "not_enough_data" and c.effect is None
    assert [b["bin"] for b in c.bins][:3] == ["unanswered", "5-15", "30-60"]
    assert c.within_sla_rate == pytest.approx(1 / 4)  # L1 won of L1, L2, L3, L6


def test_logistic_counts_matches_sklearn() -> None:
    sk = pytest.importorskip("sklearn.linear_model")
    x = np.array([0.0, 1.0, 2.0, 3.0])
    n = np.array([50.0, 60.0, 40.0, 30.0])
    k = np.array([20.0, 18.0, 8.0, 3.0])
    a, b, se = av.logistic_counts(x, n, k)
    xs = np.repeat(np.concatenate([x, x]), np.concatenate([k, n - k]).astype(int))
    ys = np.repeat([1] * 4 + [0] * 4, np.concatenate([k, n - k]).astype(int))
    m = sk.LogisticRegression(C=np.inf, l1_ratio=0, tol=1e-10, max_iter=1000).fit(xs[:, None], ys)
    assert a == pytest.approx(m.intercept_[0], abs=1e-5)
    assert b == pytest.approx(m.coef_[0][0], abs=1e-5)
    assert 0 < se < abs(b)


def test_demo_company_shows_slow_tokyo1_and_untouched_trade_show(demo_company: Demo) -> None:
    with demo_company.open() as w:
        p = parse_period("FY2025")
        team = al.response_times(w, p, "team")
        t1 = team.filter(pl.col("team") == "東京第一営業部").row(0, named=True)
        rest = team.filter(pl.col("team") != "東京第一営業部")
        assert t1["sla_rate"] < 0.3 and t1["median_minutes"] > 180
        assert rest["sla_rate"].min() > 0.65 and rest["median_minutes"].max() < 40
        assert t1["sla_rate_high"] < rest["sla_rate_low"].min()
        src = al.response_times(w, p, "source")
        show = src.filter(pl.col("source") == "展示会").row(0, named=True)
        assert show["untouched_rate"] > 0.3
        assert src.filter(pl.col("source") != "展示会")["untouched_rate"].max() < 0.1
        assert av.response_curve(w, p).verdict == "faster_better"


def test_clean_demo_has_no_response_gaps(clean_demo_company: Demo) -> None:
    with clean_demo_company.open() as w:
        p = parse_period("FY2025")
        team = al.response_times(w, p, "team")
        assert team["median_minutes"].max() < 40 and team["sla_rate"].min() > 0.65
        src = al.response_times(w, p, "source")
        assert src["untouched_rate"].max() < 0.1


@needs_data("olist-marketing-funnel")
def test_olist_funnel_by_origin_and_landing_page(tmp_path: Path) -> None:
    w = workspace.init(tmp_path / "olist")
    import_path(w, OLIST, mapping=EXAMPLE)
    p = parse_period("2017-06-01..2018-05-31")
    df = al.funnel(w, p, "source")
    assert int(df["mql"].sum()) == 8000 and int(df["won"].sum()) == 842
    top = df.row(0, named=True)
    assert (top["source"], top["mql"], top["won"]) == ("organic_search", 2296, 271)
    assert df["sql"].null_count() == df.height  # Olist does not record SQLs
    assert df.filter(pl.col("source") == "(unknown)")["mql"].item() == 60
    assert av.response_curve(w, p).verdict == "not_enough_data"  # no response times in Olist
    sdr = w.table("opportunities").group_by("sdr_rep_id").agg(n=w.table("opportunities").count())
    assert sdr.count().to_pyarrow().as_py() == 32  # the SDR ids of the closed deals
    assert int(al.funnel(w, p, "campaign")["mql"].sum()) == 8000  # example maps landing pages
    mapping = tmp_path / "olist-lp.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(', campaign = "landing_page_id"', "")
    mapping.write_text(text, encoding="utf-8")
    w2 = workspace.init(tmp_path / "olist2")
    import_path(w2, OLIST, mapping=mapping)
    lp = al.funnel(w2, p, "landing_page")
    assert "(unknown)" not in lp["landing_page"].to_list() and lp.height == 495
