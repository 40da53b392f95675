"""The deal lists of the Excel report: deals open at the end of the period, stale ones flagged.

The rows come from the same sample the ``stale_deals`` check tests
(:func:`eigyo.analysis.deals.open_deals_at_end`), so the list a manager filters in Excel is
exactly the population behind the finding; account, owner and stage as of the period's end are
joined in the engine. The stage is the last entry before the period's end as the process step
orders entries (:func:`eigyo.analysis.process.stages.stage_entries`, as the pipeline snapshot
reads it), not an ordering of its own. Only :func:`eigyo.report.report_model` calls this: the
Excel writer lays out the model's rows and queries nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import polars as pl

from eigyo.analysis.deals import open_deals_at_end
from eigyo.analysis.process.stages import stage_entries
from eigyo.base.periods import Period
from eigyo.base.vocabulary import STALE_DAYS
from eigyo.diagnose.checks import load_checks
from eigyo.diagnose.evaluate import needs_of
from eigyo.metrics import unmet

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

#: Columns of a deal list, in order (their headers are in ``report_files.deals``).
COLUMNS = (
    "opportunity_id",
    "account",
    "owner",
    "team",
    "stage",
    "amount",
    "created_at",
    "expected_close_date",
    "idle_days",
    "stale",
)


def open_deals(ws: Workspace, period: Period, stale_days: int = STALE_DAYS) -> pl.DataFrame:
    """Deals open at the end of the period, largest first, with the stage they were in then."""
    od = open_deals_at_end(ws, period, stale_days)
    o = ws.table("opportunities")
    o = o.select(
        _opp=o.opportunity_id,
        _acc=o.account_id,
        created_at=o.created_at,
        expected_close_date=o.expected_close_date,
        _owner=o.owner_rep_id,
    )
    acc = ws.table("accounts").select(_aid=ibis._.account_id, account=ibis._.name)
    reps = ws.table("reps").select(_rid=ibis._.rep_id, _rep_name=ibis._.name)
    sh = stage_entries(ws, until=ibis.timestamp(period.end_ts))
    sh = sh.filter(sh.is_last).select(_sid=sh.opportunity_id, stage=sh.stage)
    j = od.join(o, od.opportunity_id == o._opp)
    j = j.left_join(acc, j._acc == acc._aid)
    j = j.left_join(reps, j._owner == reps._rid)
    j = j.left_join(sh, j.opportunity_id == sh._sid)
    j = j.select(
        "opportunity_id",
        account=j.account,
        owner=j._rep_name.coalesce(j._owner),
        team=j.team,
        stage=j.stage,
        amount=j.amount,
        created_at=j.created_at,
        expected_close_date=j.expected_close_date,
        idle_days=j.idle_days,
        stale=j.stale,
    )
    df: pl.DataFrame = j.order_by([ibis.desc("amount"), "opportunity_id"]).to_polars()
    if not activity_known(ws):  # no activities on deals: idle time is unknown, not "ever"
        df = df.with_columns(
            idle_days=pl.lit(None, dtype=df.schema["idle_days"]),
            stale=pl.lit(None, dtype=df.schema["stale"]),
        )
    return df.select(COLUMNS)


def activity_known(ws: Workspace) -> bool:
    """Whether the workspace records activities on deals: what the ``stale_deals`` check needs
    (its declaration in checks.toml), so the list and the finding agree on "unknown"."""
    check = next(c for c in load_checks() if c.id == "stale_deals")
    return not unmet(ws, needs_of(check))


def stale_deals(deals: pl.DataFrame) -> pl.DataFrame:
    """The stale ones among the open deals, longest idle first."""
    return deals.filter(pl.col("stale") == 1).sort(
        ["idle_days", "opportunity_id"], descending=[True, False]
    )
