"""Calibration: everything the simulation needs, measured from the organization's own data.

One window of data (the backtest period, or the last twelve months for a what-if) gives each
rep's shrunk skills (:mod:`eigyo.analysis.specialization.skills`), behaviour role
(:mod:`~eigyo.analysis.specialization.structure`), load and hours
(:mod:`~eigyo.analysis.specialization.capacity`), the
observed response times, the flows of leads and deals per team, the joint (outcome, cycle) of
closed deals, won amounts, and the open pipeline at the start. Queries run in the engine; only
per-rep and per-deal arrays come back. Where a quantity has no data, a stated assumption
replaces it and lands in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import polars as pl

from eigyo.analysis.common import days_between, in_period, minutes_between
from eigyo.analysis.specialization import capacity, skills, structure
from eigyo.base.periods import Period
from eigyo.base.vocabulary import MANAGER, NO_TEAM
from eigyo.errors import InputError
from eigyo.workspace import Workspace

F64 = npt.NDArray[np.float64]
#: Response-time bins (minutes) for the effect of speed on MQL → SQL; untouched is its own bin.
RESPONSE_EDGES = (0.0, 15.0, 60.0, 240.0, 1440.0)
#: Sources treated as inbound by the hybrid structure (matched case-insensitively as substrings).
INBOUND_HINTS = ("web", "inbound", "webinar", "ad", "問い合わせ", "ウェビナー", "広告", "資料請求")
#: Assumptions used only when the data cannot say (each use is reported in ``notes``).
ASSUMED_HANDOFF_DAYS, ASSUMED_HANDOFF_DROP = 1.0, 0.05
ASSUMED_SDR_DEAL_SHARE = 0.05
DEFAULT_SELLING_HOURS = 4.5
MIN_RESPONSES = 5


@dataclass(frozen=True)
class RepProfile:
    """One seller as the data shows them over the window."""

    rep_id: str
    name: str
    team: str
    role: str
    behaviour: str
    hire_date: date
    monthly_cost: float
    lead_share: float  # share of the team's MQL leads the rep owned
    new_share: float  # share of the team's new-business deals the rep owned
    existing_share: float  # share of the team's expansion/renewal deals
    q: float  # MQL → SQL (posterior mean)
    q_base: float  # q net of the rep's response-speed mix (multiplier 1)
    win_new: float
    win_existing: float
    untouched: float  # share of the rep's MQLs never answered
    response: F64  # observed response minutes
    deal_share: float  # deal hours ÷ selling hours
    hours_per_deal: float
    hours_per_lead: float
    selling_per_bday: float


@dataclass(frozen=True)
class Flows:
    """What flows into one team per calendar day."""

    mql_per_day: float
    direct_new_per_day: float  # new-business deals without a lead
    existing_per_day: float  # expansion and renewal deals
    inbound_share: float  # share of MQLs from inbound sources


@dataclass(frozen=True)
class OpenDeal:
    owner: str
    existing: bool
    age_days: float
    #: None when the export left it blank: the model then draws a won amount from the pool.
    amount: float | None


@dataclass
class Calibration:
    """The calibrated organization; ``start`` is the day the simulation begins."""

    window: Period
    start: date
    reps: list[RepProfile]
    manager_cost: float
    flows: dict[str, Flows]
    response_mult: F64  # per bin of RESPONSE_EDGES, then untouched
    sql_delay_days: F64
    cycles: dict[tuple[str, bool], tuple[F64, F64]]  # (team|*, existing) → (won, lost) days
    amounts: dict[tuple[str, bool], F64]
    open_deals: list[OpenDeal]
    handoff: structure.Handoff
    role_deal_share: dict[str, float]
    notes: list[str] = field(default_factory=list)


def _frame(t: ir.Table) -> pl.DataFrame:
    df = pl.from_arrow(t.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def response_bin(minutes: F64) -> npt.NDArray[np.int64]:
    """Bin index of each response time; NaN (never answered) → the last bin."""
    idx = np.searchsorted(np.asarray(RESPONSE_EDGES), minutes, side="right") - 1
    out: npt.NDArray[np.int64] = np.where(np.isnan(minutes), len(RESPONSE_EDGES), idx).astype(
        np.int64
    )
    return out


def _leads(ws: Workspace, w: Period) -> pl.DataFrame:
    lead = ws.table("leads")
    lead = lead.filter(lead.mql_at.notnull() & in_period(lead.created_at, w))
    return _frame(
        lead.select(
            rep_id=lead.owner_rep_id,
            source=lead.source.fill_null(""),
            minutes=minutes_between(lead.mql_at, lead.first_response_at),
            sql=lead.sql_at.notnull().cast("int64"),
            delay=days_between(lead.mql_at, lead.sql_at),
        )
    ).with_columns(pl.col("minutes").fill_null(float("nan")))


def _response_effect(leads: pl.DataFrame) -> tuple[F64, pl.DataFrame]:
    """SQL rate by response bin relative to the overall rate, and each rep's mean multiplier."""
    b = response_bin(leads["minutes"].to_numpy().astype(float))
    sql = leads["sql"].to_numpy().astype(float)
    overall = max(float(sql.mean()), 1e-9) if len(sql) else 1.0
    nb = len(RESPONSE_EDGES) + 1
    counts = np.bincount(b, minlength=nb).astype(float)
    rate = np.bincount(b, weights=sql, minlength=nb) / np.maximum(counts, 1)
    mult: F64 = np.where(counts >= 20, rate / overall, 1.0)
    per_rep = (
        leads.with_columns(_m=pl.Series(mult[b]))
        .group_by("rep_id")
        .agg(mean_mult=pl.col("_m").mean())
    )
    return mult, per_rep


def _rep_table(ws: Workspace, w: Period, leads: pl.DataFrame) -> tuple[pl.DataFrame, F64]:
    """Per rep: structure counts, shrunk skills, load and hours, untouched share."""
    st = structure.current_structure(ws, w)
    mx = skills.skill_matrix(ws, w)
    wide = mx.pivot(on="skill", index="rep_id", values="mean")
    for s in ("lead_followup", "win_new", "win_existing"):
        if s not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(s))
    work = capacity.work_per_record(ws, w).select(
        "rep_id", "deal_share", "hours_per_deal", "hours_per_lead", "selling_per_bday"
    )
    mult, per_rep = _response_effect(leads)
    untouched = leads.group_by("rep_id").agg(untouched=pl.col("minutes").is_nan().mean())
    df = st.join(
        wide.select("rep_id", "lead_followup", "win_new", "win_existing"), "rep_id", "left"
    )
    for part in (work, per_rep, untouched):
        df = df.join(part, on="rep_id", how="left")
    return df, mult


def _fill(df: pl.DataFrame, col: str, default: float) -> pl.DataFrame:
    """Missing values → the team mean, then the organization mean, then ``default``."""
    org = df[col].mean()
    fallback = float(org) if isinstance(org, float) else default
    return df.with_columns(
        pl.col(col).fill_null(pl.col(col).mean().over("team")).fill_null(fallback)
    )


def _profiles(ws: Workspace, w: Period, leads: pl.DataFrame) -> tuple[list[RepProfile], F64]:
    df, mult = _rep_table(ws, w, leads)
    worked = pl.col("leads") + pl.col("opps_new") + pl.col("opps_existing") > 0
    df = df.filter((pl.col("role") != MANAGER) & worked)
    for col, default in (
        ("lead_followup", 0.3),
        ("win_new", 0.25),
        ("win_existing", 0.6),
        ("deal_share", 0.3),
        ("hours_per_deal", 4.0),
        ("hours_per_lead", 0.15),
        ("selling_per_bday", DEFAULT_SELLING_HOURS),
        ("mean_mult", 1.0),
        ("untouched", 0.05),
        ("monthly_cost", 0.0),
    ):
        df = _fill(df, col, default)
    tot = df.group_by("team").agg(
        _l=pl.col("leads").sum(), _n=pl.col("opps_new").sum(), _e=pl.col("opps_existing").sum()
    )
    df = df.join(tot, on="team")
    resp = {
        str(r): np.asarray(m, dtype=float)
        for r, m in leads.filter(~pl.col("minutes").is_nan())
        .group_by("rep_id")
        .agg(pl.col("minutes"))
        .iter_rows()
    }
    out = [
        RepProfile(
            rep_id=r["rep_id"],
            name=r["name"] or r["rep_id"],
            team=r["team"],
            role=r["role"],
            behaviour=r["behaviour"],
            hire_date=r["hire_date"],
            monthly_cost=float(r["monthly_cost"]),
            lead_share=r["leads"] / max(r["_l"], 1),
            new_share=r["opps_new"] / max(r["_n"], 1),
            existing_share=r["opps_existing"] / max(r["_e"], 1),
            q=float(r["lead_followup"]),
            q_base=float(r["lead_followup"]) / max(float(r["mean_mult"]), 1e-6),
            win_new=float(r["win_new"]),
            win_existing=float(r["win_existing"]),
            untouched=float(r["untouched"]),
            response=resp.get(r["rep_id"], np.empty(0)),
            deal_share=float(r["deal_share"]),
            hours_per_deal=float(r["hours_per_deal"]),
            hours_per_lead=float(r["hours_per_lead"]),
            selling_per_bday=float(r["selling_per_bday"]),
        )
        for r in df.sort("rep_id").iter_rows(named=True)
    ]  # one object per rep, not per record
    return out, mult


def _flows(ws: Workspace, w: Period, leads: pl.DataFrame) -> dict[str, Flows]:
    reps = _frame(ws.table("reps").select("rep_id", "team")).with_columns(
        pl.col("team").fill_null(NO_TEAM)
    )
    inbound = pl.col("source").str.to_lowercase().str.contains_any(list(INBOUND_HINTS))
    lt = (
        leads.join(reps, on="rep_id", how="left")
        .group_by("team")
        .agg(n=pl.len(), inbound=inbound.mean())
    )
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, w))
    g = o.group_by(rep_id=o.owner_rep_id).agg(
        direct=(o.lead_id.isnull() & ~o.type.isin(skills.EXISTING_TYPES).fill_null(False))
        .cast("int64")
        .sum(),
        existing=o.type.isin(skills.EXISTING_TYPES).fill_null(False).cast("int64").sum(),
    )
    ot = (
        _frame(g)
        .join(reps, on="rep_id", how="left")
        .group_by("team")
        .agg(pl.col("direct").sum(), pl.col("existing").sum())
    )
    teams = set(lt["team"].drop_nulls()) | set(ot["team"].drop_nulls())
    lm = {r["team"]: r for r in lt.iter_rows(named=True)}
    om = {r["team"]: r for r in ot.iter_rows(named=True)}
    d = float(w.days)
    return {
        t: Flows(
            mql_per_day=lm.get(t, {}).get("n", 0) / d,
            direct_new_per_day=om.get(t, {}).get("direct", 0) / d,
            existing_per_day=om.get(t, {}).get("existing", 0) / d,
            inbound_share=float(lm.get(t, {}).get("inbound", 0.0) or 0.0),
        )
        for t in sorted(teams)
    }


def _closed(ws: Workspace, w: Period) -> pl.DataFrame:
    """Deals closed in the window with team, class, outcome, cycle days and amount."""
    o = ws.table("opportunities")
    o = o.filter(o.status.isin(["won", "lost"]) & in_period(o.closed_at, w))
    reps = ws.table("reps").select(_r=ibis._.rep_id, team=ibis._.team.fill_null(NO_TEAM))
    o = o.left_join(reps, o.owner_rep_id == reps._r)
    return _frame(
        o.select(
            team=o.team.fill_null(NO_TEAM),
            existing=o.type.isin(skills.EXISTING_TYPES).fill_null(False),
            won=o.status == "won",
            cycle=days_between(o.created_at, o.closed_at),
            amount=o.amount,
        )
    )


def _pools(
    closed: pl.DataFrame,
) -> tuple[dict[tuple[str, bool], tuple[F64, F64]], dict[tuple[str, bool], F64]]:
    cycles: dict[tuple[str, bool], tuple[F64, F64]] = {}
    amounts: dict[tuple[str, bool], F64] = {}
    tagged = pl.concat([closed, closed.with_columns(team=pl.lit("*"))])
    for (team, ex), g in tagged.group_by(["team", "existing"]):
        won = g.filter(pl.col("won"))
        cycles[(str(team), bool(ex))] = (
            won["cycle"].to_numpy().astype(float),
            g.filter(~pl.col("won"))["cycle"].to_numpy().astype(float),
        )
        # blank amounts are unknown, not 0: the pool holds the known ones only
        amounts[(str(team), bool(ex))] = won["amount"].drop_nulls().to_numpy().astype(float)
    return cycles, amounts


def _open_deals(ws: Workspace, start: date) -> list[OpenDeal]:
    """Deals open on ``start``: created before it and not closed before it."""
    t0 = ibis.timestamp(Period(start, start, "").start_ts)
    o = ws.table("opportunities")
    o = o.filter((o.created_at < t0) & (o.closed_at.isnull() | (o.closed_at >= t0)))
    df = _frame(
        o.select(
            owner=o.owner_rep_id,
            existing=o.type.isin(skills.EXISTING_TYPES).fill_null(False),
            age=(t0.epoch_seconds() - o.created_at.epoch_seconds()).cast("float64") / 86400.0,
            amount=o.amount,
        )
    )
    return [
        OpenDeal(str(a), bool(b), float(c), None if d is None else float(d))
        for a, b, c, d in df.iter_rows()
    ]


class NotEnoughToSimulate(InputError):
    """The window holds nothing to calibrate on (``what``: ``no_records``, ``no_sellers``).

    An :class:`InputError` for library callers; ``eigyo simulate`` reports it as "not
    available" (exit 0): the data is too little, no option of the command is wrong."""

    def __init__(self, message: str, what: str, window: str) -> None:
        super().__init__(message)
        self.what = what
        self.window = window


def calibrate(ws: Workspace, window: Period, *, start: date | None = None) -> Calibration:
    """Calibrate over ``window``; the simulation starts on ``start`` (default: after it)."""
    leads = _leads(ws, window)
    closed = _closed(ws, window)
    if leads.height == 0 and closed.height == 0:
        raise NotEnoughToSimulate(
            f"Not enough data to simulate: no MQL leads and no closed deals in {window.label}. "
            "Import leads and opportunities for that period, or choose another period.",
            "no_records",
            window.label,
        )
    reps, mult = _profiles(ws, window, leads)
    if not reps:
        raise NotEnoughToSimulate(
            f"Not enough data to simulate: no seller worked in {window.label}.",
            "no_sellers",
            window.label,
        )
    cycles, amounts = _pools(closed)
    notes: list[str] = []
    handoff = structure.handoff_stats(ws, window)
    if not handoff.measured:
        handoff = structure.Handoff(0, ASSUMED_HANDOFF_DAYS, ASSUMED_HANDOFF_DROP, False)
        notes.append("assumed_handoff")
    delay = leads.filter(pl.col("sql") == 1)["delay"].drop_nulls().to_numpy().astype(float)
    return Calibration(
        window=window,
        start=start or window.end + timedelta(days=1),
        reps=reps,
        manager_cost=_manager_cost(ws, window),
        flows=_flows(ws, window, leads),
        response_mult=mult,
        sql_delay_days=np.clip(delay, 0.0, None) if len(delay) else np.zeros(1),
        cycles=cycles,
        amounts=amounts,
        open_deals=_open_deals(ws, start or window.end + timedelta(days=1)),
        handoff=handoff,
        role_deal_share=_role_deal_share(reps, notes),
        notes=notes,
    )


def _role_deal_share(reps: list[RepProfile], notes: list[str]) -> dict[str, float]:
    """Median deal load of each behaviour role; SDRs get an assumed light load without data."""
    out = {}
    for role in ("generalist", "closer", "account_manager", "sdr"):
        xs = [r.deal_share for r in reps if r.behaviour == role]
        if xs:
            out[role] = float(np.median(xs))
    if "sdr" not in out:
        out["sdr"] = ASSUMED_SDR_DEAL_SHARE
        notes.append("assumed_sdr_load")
    if "generalist" not in out:
        out["generalist"] = float(np.median([r.deal_share for r in reps]))
    return out


def _manager_cost(ws: Workspace, w: Period) -> float:
    """Monthly cost of the managers in post during the window (overhead of every structure)."""
    r = ws.table("reps")
    r = r.filter(
        (r.role == MANAGER)
        & (r.hire_date <= ibis.literal(w.end))
        & (r.end_date.isnull() | (r.end_date >= ibis.literal(w.start)))
    )
    v = r.monthly_cost.fill_null(0.0).sum().to_pyarrow().as_py()
    return float(v or 0.0)
