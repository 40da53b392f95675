"""Step 6's documents (search the data): ``eigyo ltv``, ``segments``, ``winprob``, ``forecast``,
``icp`` and ``customers``, computed once for the command line and the dashboard.

Each analysis returns its own JSON-ready record; the document adds what every data command's
record carries (docs/cli-json.md): ``currency`` when it holds amounts, ``not_available`` when
the data is there but too thin (``status: not_enough_data``), and, when the command's own data
is absent, only why. Texts inside a document (the ``not_available`` line, ROAD coverage words)
are in the language it was built for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from eigyo.analysis.availability import check, not_enough, unavailable
from eigyo.analysis.data import clv, customers, icp, segments, winprob
from eigyo.analysis.data import forecast as forecast_mod
from eigyo.analysis.document import StepDocument, sections_json, unavailable_document
from eigyo.base.periods import parse_period
from eigyo.i18n import t
from eigyo.workspace import Workspace

#: Analyses whose results hold no amount (so no ``currency`` key either).
NO_AMOUNTS = frozenset({"icp"})


def _document(
    ws: Workspace,
    name: str,
    lang: str,
    compute: Callable[[], dict[str, Any]],
    **context: Any,
) -> StepDocument:
    """``compute()`` when the analysis ``name`` has its data, else why not (with ``context``).

    A result whose ``status`` is ``not_enough_data`` gains the same ``not_available`` entry,
    so a JSON reader tests one key in every command. A result with amounts (any analysis not in
    :data:`NO_AMOUNTS`) gains ``currency``, the unit of its amounts and of keys named ``*_jpy``."""
    if na := check(ws, name):
        return unavailable_document(na, **context)
    doc = compute()
    if name not in NO_AMOUNTS:
        doc.setdefault("currency", ws.settings.currency)
    if doc.get("status") == "not_enough_data":
        doc["not_available"] = not_enough(name, None).to_json(lang)
    return StepDocument(sections=doc)


def ltv_document(
    ws: Workspace,
    until: date,
    unit: str = "week",
    months: int = 12,
    rate: float = 0.10,
    top: int = 20,
    lang: str = "ja",
) -> StepDocument:
    """Customer value fitted on orders up to ``until``: BG/NBD and Gamma-Gamma, discounted CLV
    per account, cohort LTV and NRR; too few (repeat) customers is "not enough data"."""
    context = {"until": until.isoformat(), "unit": unit}
    try:
        return _document(
            ws, "ltv", lang, lambda: clv.ltv_report(ws, until, unit, months, rate, top), **context
        )
    except clv.NotEnoughOrders as e:
        detail = t("analysis_na.detail.ltv", lang, customers=e.customers, repeaters=e.repeaters,
                   min_customers=clv.MIN_CUSTOMERS, min_repeaters=clv.MIN_REPEATERS)  # fmt: skip
        return unavailable_document(not_enough("ltv", detail), **context)


def segments_document(
    ws: Workspace, period: str, dims: tuple[str, ...] = segments.DIMENSIONS, lang: str = "ja"
) -> StepDocument:
    """Win rate, cycle, deal size and velocity per segment of the deals closed in ``period``
    (a label such as ``FY2025``, read with the workspace's fiscal year)."""

    def compute() -> dict[str, Any]:
        p = parse_period(period, ws.settings.fiscal_year_start_month)
        return segments.segments(ws, p, dims)

    return _document(ws, "segments", lang, compute, period=period)


def winprob_document(
    ws: Workspace, as_of: date, backtest: bool = False, lang: str = "ja"
) -> StepDocument:
    """Win probability of the deals open on ``as_of`` from what was known that day, with the
    time-split backtest when asked."""

    def compute() -> dict[str, Any]:
        snaps = winprob.Snapshots(ws)
        doc = winprob.score_open(ws, as_of, snaps)
        if backtest:
            doc["backtest"] = winprob.backtest(ws, snaps=snaps)
        return doc

    return _document(ws, "winprob", lang, compute, as_of=as_of.isoformat())


def forecast_document(
    ws: Workspace, period: str, as_of: date, backtest: bool = False, lang: str = "ja"
) -> StepDocument:
    """The forecast of ``period`` as of ``as_of`` (won + Σ p(win) × amount + run rate) and its
    coverage of quota; without quotas the coverage is unknown (null), not 0."""

    def compute() -> dict[str, Any]:
        snaps = winprob.Snapshots(ws)
        p = parse_period(period, ws.settings.fiscal_year_start_month)
        doc = forecast_mod.forecast(ws, p, as_of, snaps)
        if backtest:
            doc["backtest"] = forecast_mod.backtest(ws, snaps)
        missing = unavailable(ws, ["forecast.quota"])
        if missing:  # no quota: coverage unknown, not 0
            doc.update(quota=None, coverage=None, coverage_of_remaining=None)
            doc.update(sections_json(missing, lang))
        return doc

    return _document(ws, "forecast", lang, compute, period=period, as_of=as_of.isoformat())


def icp_document(ws: Workspace, top: int = 20, lang: str = "ja") -> StepDocument:
    """The ICP fit score validated on a later window, its drivers, ROAD classes (each with its
    coverage in words) and the ``top`` prospects."""
    doc = _document(ws, "icp", lang, lambda: icp.icp_report(ws, top))
    if doc.not_available is None:
        for r in doc["road"]:
            r["coverage"] = t(f"data.road_coverage.{r['class']}", lang)
    return doc


def customers_document(ws: Workspace, until: date, lang: str = "ja") -> StepDocument:
    """Customer segments from orders up to ``until``: RFM, k-means with k by silhouette, each
    segment described in ``lang``."""
    return _document(
        ws,
        "customers",
        lang,
        lambda: customers.segment_customers(ws, until, lang),
        until=until.isoformat(),
    )
