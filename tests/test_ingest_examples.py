"""The shipped example mappings import the real data sets; expected values computed by hand.

The expected numbers are recomputed here with polars straight from the source files, not from
eigyo's own code, so a wrong parse or a lost row shows as a mismatch.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from eigyo.ingest import import_path
from tests._data import DATA, ROOT, needs_data

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import new_ws, rows

EXAMPLES = ROOT / "examples"
pytestmark = needs_data()


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_maven_crm(tmp_path: Path) -> None:
    src = DATA / "maven-crm-sales-opportunities"
    ws = new_ws(tmp_path)
    report = import_path(ws, src, mapping=EXAMPLES / "maven-crm.toml")
    by = {f.table: f for f in report.files}
    pipe = _csv(src / "sales_pipeline.csv")
    no_engage = pipe.filter(pl.col("engage_date").is_null()).height  # the Prospecting deals
    assert (by["opportunities"].rows, by["opportunities"].rejected) == (8800, no_engage)
    assert by["opportunities"].reasons == {"created_at: missing": 500}
    assert (by["reps"].loaded, by["accounts"].loaded) == (35, 85)
    won = pipe.filter(pl.col("deal_stage") == "Won")
    expected = won.get_column("close_value").cast(pl.Float64).sum()
    got = rows(ws, "SELECT count(*), sum(amount) FROM opportunities WHERE status = 'won'")
    assert got == [(won.height, expected)]
    first = rows(
        ws,
        "SELECT owner_rep_id, product, created_at, closed_at, amount "
        "FROM opportunities WHERE opportunity_id = '1C1I7A6R'",
    )
    assert first == [
        ("Moses Frase", "GTX Plus Basic", datetime(2016, 10, 20), datetime(2017, 3, 1), 1054.0)
    ]
    assert rows(ws, "SELECT team, manager_id FROM reps WHERE rep_id = 'Anna Snelling'") == [
        ("Central", "Dustin Brinkmann")
    ]
    assert rows(
        ws, "SELECT count(*) FROM opportunities WHERE status = 'open' AND amount IS NULL"
    ) == [(1589,)]


def test_olist_funnel(tmp_path: Path) -> None:
    src = DATA / "olist-marketing-funnel"
    ws = new_ws(tmp_path)
    report = import_path(ws, src, mapping=EXAMPLES / "olist-funnel.toml")
    mql = _csv(src / "olist_marketing_qualified_leads_dataset.csv")
    deals = _csv(src / "olist_closed_deals_dataset.csv")
    sdrs = set(deals.get_column("sdr_id").to_list())
    closers = set(deals.get_column("sr_id").to_list())
    assert rows(ws, "SELECT count(*) FROM leads") == [(mql.height,)]
    assert rows(ws, "SELECT count(*) FROM opportunities WHERE status = 'won'") == [(deals.height,)]
    assert rows(ws, "SELECT role, count(*) FROM reps GROUP BY 1 ORDER BY 1") == [
        ("closer", len(closers - sdrs)),
        ("sdr", len(sdrs)),
    ]
    # an id that is both an SDR and a closer appears in both rep files: the later one is rejected
    reps_reports = [f for f in report.files if f.table == "reps"]
    assert reps_reports[1].reasons == {"rep_id: duplicate_file": len(closers & sdrs)}
    one = deals.row(0, named=True)
    first_contact = mql.filter(pl.col("mql_id") == one["mql_id"]).item(0, "first_contact_date")
    got = rows(
        ws,
        "SELECT owner_rep_id, sdr_rep_id, created_at, closed_at FROM opportunities "
        f"WHERE opportunity_id = '{one['mql_id']}'",
    )
    assert got == [
        (
            one["sr_id"],
            one["sdr_id"],
            datetime.fromisoformat(first_contact),
            datetime.fromisoformat(one["won_date"]),
        )
    ]
    by_source = (
        mql.group_by("origin").len().filter(pl.col("origin") == "paid_search").item(0, "len")
    )
    assert rows(ws, "SELECT count(*) FROM leads WHERE source = 'paid_search'") == [(by_source,)]


@pytest.mark.parametrize("version", ["71033c4", "e6fc5c6"])
def test_b2b_salesforce_style(tmp_path: Path, version: str) -> None:
    path = DATA / "b2b-opportunities-ormarketing" / version / "B2B.csv"
    ws = new_ws(tmp_path)
    report = import_path(ws, path, mapping=EXAMPLES / "b2b-salesforce.toml")
    f = report.files[0]
    raw = pl.read_csv(path.read_bytes().replace(b"\r", b"\n"), infer_schema=False)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    ids = raw.get_column("Opportunity ID (18 Digit)")
    blank = raw.filter(pl.all_horizontal(pl.all().is_null())).height
    dups = ids.drop_nulls().len() - ids.drop_nulls().n_unique()
    assert f.rows == raw.height
    assert f.loaded + f.rejected == f.rows
    assert f.reasons.get("empty_row", 0) == blank
    assert f.reasons.get("opportunity_id: duplicate", 0) == dups
    # first data row by hand: 5/26/17 ← 5/4/17, Closed Lost, Amount " $225,000 " or 225000
    got = rows(
        ws,
        "SELECT created_at, closed_at, status, amount, extra->>'Lead Source' "
        "FROM opportunities WHERE opportunity_id = '72267051130851900000'",
    )
    assert got[0][:4] == (datetime(2017, 5, 4), datetime(2017, 5, 26), "lost", 225_000.0)
    won = raw.filter(pl.col("Stage").str.starts_with("Closed Won"))
    assert rows(ws, "SELECT count(*) FROM opportunities WHERE status = 'won'")[0][0] <= won.height
    assert date(2017, 5, 4) == got[0][0].date()
