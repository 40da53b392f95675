"""Customer value: BG/NBD and Gamma-Gamma fitted by maximum likelihood, CLV, cohort LTV and NRR.

Why these models: a B2B customer rarely says "we are leaving"; they just stop ordering. BG/NBD
(Fader, Hardie & Lee 2005) separates how often a customer buys from the chance that they have
gone quiet, and Gamma-Gamma (Fader & Hardie 2013) shrinks each customer's mean order value
towards the population's. Both are fitted here with SciPy (the ``lifetimes`` package is
unmaintained), on the standard data preparation: orders summed per day, ``frequency`` = repeat
purchase days, recency ``t_x`` and age ``T`` measured from the first purchase, in weeks or days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from eigyo.analysis.common import days_between
from eigyo.errors import InputError
from eigyo.workspace import Workspace

F64 = NDArray[np.float64]
UNIT_DAYS = {"week": 7.0, "day": 1.0}
DAYS_PER_MONTH = 365.25 / 12
#: Below these counts the likelihood is too flat for the parameters to mean anything.
MIN_CUSTOMERS = 20
MIN_REPEATERS = 10


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha); drop-out chance ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma parameters of the mean order value (p: shape per order; q, v: its prior)."""

    p: float
    q: float
    v: float
    log_likelihood: float


@dataclass(frozen=True)
class Summary:
    """One row per customer: repeat days ``x``, recency ``t_x``, age ``T``, mean repeat value."""

    account_id: NDArray[np.object_]
    x: F64
    t_x: F64
    T: F64
    monetary: F64
    first_day: NDArray[np.object_]


def _bg_nbd_ll(params: F64, x: F64, t_x: F64, T: F64) -> F64:
    """Per-customer log-likelihood of BG/NBD (FHL 2005, eq. 6), in a numerically stable form."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    x_safe = np.maximum(x, 1.0)  # the drop-out term only exists for x > 0
    a4 = np.log(a) - np.log(b + x_safe - 1) - (r + x) * np.log(alpha + t_x)
    out: F64 = a1 + a2 + np.where(x > 0, np.logaddexp(a3, a4), a3)
    return out


def _gamma_gamma_ll(params: F64, x: F64, m: F64) -> F64:
    """Per-customer log-likelihood of the Gamma-Gamma model of mean order value ``m``."""
    p, q, v = params
    px = p * x
    out: F64 = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )
    return out


def _maximize(ll: Any, starts: list[list[float]]) -> tuple[F64, float]:
    """Maximize a summed log-likelihood over positive parameters (optimized on the log scale).

    From each start (all ones, and one scaled to the data: yen amounts and day units put the
    optimum far from 1), Nelder-Mead then a polishing L-BFGS-B pass; the best optimum wins.
    Robust without gradients and precise enough to reproduce published parameters.
    """

    def nll(log_params: F64) -> float:
        v = float(-np.sum(ll(np.exp(log_params))))
        return v if np.isfinite(v) else 1e300

    best: Any = None
    for start in starts:
        res = optimize.minimize(
            nll, np.log(start), method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20000},
        )  # fmt: skip
        res = optimize.minimize(nll, res.x, method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    return np.exp(best.x), float(-best.fun)


def fit_bg_nbd(x: F64, t_x: F64, T: F64) -> BgNbd:
    """Fit BG/NBD by maximum likelihood to repeat frequency, recency and age per customer."""
    if len(x) < MIN_CUSTOMERS or int(np.sum(x > 0)) < MIN_REPEATERS:
        raise NotEnoughOrders(len(x), int(np.sum(x > 0)))
    scale = max(float(np.mean(T)), 1e-6)
    p, ll = _maximize(lambda prm: _bg_nbd_ll(prm, x, t_x, T), [[1.0] * 4, [1, scale, 1, 1]])
    return BgNbd(float(p[0]), float(p[1]), float(p[2]), float(p[3]), ll)


def fit_gamma_gamma(x: F64, m: F64) -> GammaGamma:
    """Fit Gamma-Gamma to customers with repeat purchases (x > 0) and a positive mean value."""
    keep = (x > 0) & (m > 0)
    if int(keep.sum()) < MIN_REPEATERS:
        raise NotEnoughOrders(len(x), int(keep.sum()))
    xs, ms = x[keep], m[keep]
    scale = float(np.mean(ms))
    p, ll = _maximize(lambda prm: _gamma_gamma_ll(prm, xs, ms), [[1.0] * 3, [1, 2, scale]])
    return GammaGamma(float(p[0]), float(p[1]), float(p[2]), ll)


class NotEnoughOrders(InputError):
    """Too few customers or repeat buyers to fit the models: the data is there but too little.

    An :class:`InputError` for library callers; ``eigyo ltv`` reports it as "not available"
    with the counts (exit 0), since no argument of the command is wrong."""

    def __init__(self, customers: int, repeaters: int) -> None:
        super().__init__(_not_enough(customers, repeaters))
        self.customers = customers
        self.repeaters = repeaters


def _not_enough(customers: int, repeaters: int) -> str:
    return (
        f"Not enough data for BG/NBD and Gamma-Gamma: {customers} customers, {repeaters} with a "
        f"repeat purchase; at least {MIN_CUSTOMERS} and {MIN_REPEATERS} are needed. "
        "Import more orders or choose a later --until."
    )


def p_alive(m: BgNbd, x: F64, t_x: F64, T: F64) -> F64:
    """Probability that each customer is still active at T (FHL 2005, eq. 11)."""
    x_safe = np.maximum(x, 1.0)
    odds = m.a / (m.b + x_safe - 1) * ((m.alpha + T) / (m.alpha + t_x)) ** (m.r + x)
    out: F64 = 1.0 / (1.0 + np.where(x > 0, odds, 0.0))
    return out


def expected_purchases(m: BgNbd, t: F64 | float, x: F64, t_x: F64, T: F64) -> F64:
    """Expected purchases in the next ``t`` units given each customer's history (FHL eq. 10)."""
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    x_safe = np.maximum(x, 1.0)
    den = 1 + np.where(x > 0, a / (b + x_safe - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    out: F64 = num / den
    return out


def expected_value(g: GammaGamma, x: F64, m: F64) -> F64:
    """Expected mean order value: a weighted mean of the population mean and the customer's own."""
    pop = g.p * g.v / (g.q - 1) if g.q > 1 else float("nan")
    w = g.p * x / (g.p * x + g.q - 1)
    out: F64 = np.where(x > 0, (1 - w) * pop + w * np.where(m > 0, m, 0.0), pop)
    return out


def discounted_clv(
    m: BgNbd, g: GammaGamma, s: Summary, unit: str, months: int = 12, annual_rate: float = 0.10
) -> F64:
    """Discounted value of each customer's purchases over the next ``months`` months.

    Month i contributes (E[Y(i)] - E[Y(i-1)]) x expected order value / (1 + rate)^(i/12); one
    customers-by-months matrix, no loop over customers.
    """
    steps = np.arange(0, months + 1, dtype=np.float64) * (DAYS_PER_MONTH / UNIT_DAYS[unit])
    cum = expected_purchases(m, steps[None, :], s.x[:, None], s.t_x[:, None], s.T[:, None])
    per_month = np.diff(cum, axis=1)
    disc = (1 + annual_rate) ** (-np.arange(1, months + 1) / 12)
    out: F64 = (per_month @ disc) * expected_value(g, s.x, s.monetary)
    return out


def _end_ts(until: date) -> datetime:
    return datetime.combine(until + timedelta(days=1), time.min)


def summarize(ws: Workspace, until: date, unit: str = "week") -> Summary:
    """Per-account frequency, recency, age and mean repeat value from ``orders`` up to ``until``.

    Orders are summed per day first (several lines of one day are one purchase); the engine does
    the grouping, numpy gets one row per account.
    """
    if unit not in UNIT_DAYS:
        raise InputError(f"Unknown unit {unit!r}. Use week or day.")
    o = ws.table("orders")
    o = o.filter(o.ordered_at < ibis.timestamp(_end_ts(until)))
    daily = o.group_by("account_id", day=o.ordered_at.truncate("D")).agg(amount=o.amount.sum())
    first = daily.group_by("account_id").agg(first=daily.day.min())
    j = daily.join(first, "account_id")
    j = j.mutate(is_first=(j.day == j.first))
    per = j.group_by("account_id", "first").agg(
        n=j.day.count(),
        last=j.day.max(),
        repeat_amount=j.amount.sum() - j.amount.sum(where=j.is_first),
    )
    end = ibis.timestamp(datetime.combine(until, time.min))
    per = per.select(
        "account_id",
        first_day=per.first.date().cast("string"),
        x=(per.n - 1).cast("float64"),
        t_x=days_between(per.first, per.last),
        T=days_between(per.first, end),
        repeat_amount=per.repeat_amount.cast("float64"),
    ).order_by("account_id")
    d = per.to_pyarrow()
    x = d["x"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, d["repeat_amount"].to_numpy() / np.maximum(x, 1), 0.0)
    k = UNIT_DAYS[unit]
    return Summary(
        account_id=np.asarray(d["account_id"].to_pylist(), dtype=object),
        x=x,
        t_x=d["t_x"].to_numpy() / k,
        T=d["T"].to_numpy() / k,
        monetary=monetary,
        first_day=np.asarray(d["first_day"].to_pylist(), dtype=object),
    )


def cohorts(ws: Workspace, until: date, window_days: int = 365) -> list[dict[str, Any]]:
    """Simple LTV, repeat rate and NRR per cohort (quarter of the first order), up to ``until``.

    Simple LTV is revenue per account so far; NRR is the revenue of the last ``window_days``
    from the cohort's accounts that bought in the window before, divided by their revenue then
    (None when the cohort is too young to have that earlier window).
    """
    end = _end_ts(until)
    cur0 = end - timedelta(days=window_days)
    prev0 = cur0 - timedelta(days=window_days)
    o = ws.table("orders")
    o = o.filter(o.ordered_at < ibis.timestamp(end))
    ts = o.ordered_at
    in_cur = ts >= ibis.timestamp(cur0)
    in_prev = (ts >= ibis.timestamp(prev0)) & ~in_cur
    per = o.group_by("account_id").agg(
        first=ts.min(),
        days=ts.truncate("D").nunique(),
        revenue=o.amount.sum(),
        cur=o.amount.sum(where=in_cur).fill_null(0),
        prev=o.amount.sum(where=in_prev).fill_null(0),
    )
    q = ((per.first.month() - 1) // 3 + 1).cast("string")
    per = per.mutate(cohort=per.first.year().cast("string") + "-Q" + q)
    g = per.group_by("cohort").agg(
        accounts=per.count(),
        first=per.first.min(),
        revenue=per.revenue.sum(),
        repeaters=(per.days >= 2).cast("int64").sum(),
        base=per.prev.sum(),
        kept=per.cur.sum(where=per.prev > 0).fill_null(0),
    )
    rows = g.order_by("cohort").to_pyarrow().to_pylist()
    return [
        {
            "cohort": r["cohort"],
            "accounts": int(r["accounts"]),
            "revenue": float(r["revenue"]),
            "simple_ltv": float(r["revenue"]) / int(r["accounts"]),
            "repeat_rate": int(r["repeaters"]) / int(r["accounts"]),
            "nrr": (
                float(r["kept"]) / float(r["base"])
                if r["first"] < prev0 and float(r["base"] or 0) > 0
                else None
            ),
        }
        for r in rows
    ]


def ltv_report(
    ws: Workspace,
    until: date,
    unit: str = "week",
    months: int = 12,
    annual_rate: float = 0.10,
    top: int = 20,
) -> dict[str, Any]:
    """Everything ``eigyo ltv`` prints: the two fits, per-account value, cohort figures."""
    s = summarize(ws, until, unit)
    bg = fit_bg_nbd(s.x, s.t_x, s.T)
    gg = fit_gamma_gamma(s.x, s.monetary)
    horizon = months * DAYS_PER_MONTH / UNIT_DAYS[unit]
    exp_n = expected_purchases(bg, horizon, s.x, s.t_x, s.T)
    alive = p_alive(bg, s.x, s.t_x, s.T)
    value = expected_value(gg, s.x, s.monetary)
    clv = discounted_clv(bg, gg, s, unit, months, annual_rate)
    order = np.argsort(-clv, kind="stable")[:top]
    accounts = [
        {
            "account_id": str(s.account_id[i]),
            "first_order": str(s.first_day[i]),
            "frequency": int(s.x[i]),
            "recency": round(float(s.t_x[i]), 4),
            "T": round(float(s.T[i]), 4),
            "monetary": round(float(s.monetary[i]), 2),
            "p_alive": round(float(alive[i]), 4),
            "expected_purchases": round(float(exp_n[i]), 4),
            "expected_order_value": round(float(value[i]), 2),
            "clv": round(float(clv[i]), 2),
        }
        for i in order
    ]
    bg_d, gg_d = asdict(bg), asdict(gg)
    return {
        "until": until.isoformat(),
        "unit": unit,
        "bg_nbd": {k: bg_d[k] for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": {k: gg_d[k] for k in ("p", "q", "v")},
        "fit": {
            "customers": len(s.x),
            "repeat_customers": int(np.sum(s.x > 0)),
            "bg_nbd_log_likelihood": bg.log_likelihood,
            "gamma_gamma_log_likelihood": gg.log_likelihood,
        },
        "horizon_months": months,
        "annual_discount_rate": annual_rate,
        "totals": {
            "expected_purchases": float(exp_n.sum()),
            "clv": float(clv.sum()),
            "mean_p_alive": float(alive.mean()),
        },
        "accounts": accounts,
        "cohorts": cohorts(ws, until),
    }
