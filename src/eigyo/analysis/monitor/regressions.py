"""Regressions: the key metrics whose latest monitored points left their limits for the worse.

This is what the diagnosis check ``kpi_regression`` (step ``monitor``) reads. It reads the
stored snapshot rather than recomputing the weekly and monthly series, so a report or a
dashboard stays fast and shows exactly what the last ``eigyo monitor`` saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eigyo.analysis.monitor import history as store
from eigyo.base.periods import Period
from eigyo.metrics import REGISTRY
from eigyo.workspace import Workspace


@dataclass(frozen=True)
class Regression:
    """One metric and scope out of its limits in the worse direction, with the numbers a
    finding needs: the value, the charted statistic (EWMA or the value), the limit crossed, the
    centre and sigma of its history, the rule, and the same metric over the snapshot's period
    now and in the previous snapshot."""

    metric: str
    unit: str
    better: str
    grain: str  # week | month
    scope: dict[str, str]
    label: str  # the latest signalled week/month
    since: str  # the first signalled point of this excursion
    points: int  # signalled points in the excursion
    value: float
    stat: float
    center: float
    limit: float
    sigma: float
    rule: str
    period_value: float | None
    previous_period_value: float | None
    snapshot_id: int
    run_at: datetime

    @property
    def z(self) -> float:
        """Distance of the value from the centre in sigmas (signed: positive is up)."""
        return (self.value - self.center) / self.sigma if self.sigma else 0.0

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["run_at"] = self.run_at.isoformat(sep=" ")
        d["z"] = round(self.z, 3)
        return d


_SQL = """
WITH s AS (SELECT * FROM _snapshot_points WHERE snapshot_id = ? AND recent AND worse)
SELECT grain, metric, dim, grp, arg_max(label, label) AS label, min(label) AS since,
       count(*) AS points, arg_max(value, label) AS value, arg_max(stat, label) AS stat,
       any_value(center) AS center, arg_max(CASE WHEN direction = 'up' THEN ucl ELSE lcl END,
       label) AS limit_, any_value(sigma) AS sigma, arg_max(signal, label) AS rule
FROM s GROUP BY ALL ORDER BY grain, metric, dim, grp
"""


def _period_values(ws: Workspace, sid: int | None) -> dict[tuple[str, str, str], float | None]:
    if sid is None:
        return {}
    rows = store.query(
        ws.raw, "SELECT metric, dim, grp, value FROM _snapshot_metrics WHERE snapshot_id = ?", [sid]
    )
    return {(r["metric"], r["dim"], r["grp"]): r["value"] for r in rows}


def regressions(ws: Workspace, period: Period) -> list[Regression]:
    """Regressions in the latest snapshot of ``period`` (by label); empty when monitoring never
    ran for it. Sorted by how far the value is from its centre, largest first."""
    con = ws.raw
    if not store.exists(con):
        return []
    snaps = store.query(
        con,
        "SELECT snapshot_id, run_at FROM _snapshots WHERE period = ? ORDER BY snapshot_id DESC"
        " LIMIT 2",
        [period.label],
    )
    if not snaps:
        return []
    sid, run_at = snaps[0]["snapshot_id"], snaps[0]["run_at"]
    now = _period_values(ws, sid)
    before = _period_values(ws, snaps[1]["snapshot_id"] if len(snaps) > 1 else None)
    out = []
    for r in store.query(con, _SQL, [sid]):
        m = REGISTRY[r["metric"]]
        key = (r["metric"], r["dim"], r["grp"])
        out.append(
            Regression(
                metric=m.id,
                unit=m.unit,
                better=m.better,
                grain=r["grain"],
                scope={r["dim"]: r["grp"]} if r["dim"] else {},
                label=r["label"],
                since=r["since"],
                points=int(r["points"]),
                value=float(r["value"]),
                stat=float(r["stat"]),
                center=float(r["center"]),
                limit=float(r["limit_"]),
                sigma=float(r["sigma"]),
                rule=r["rule"],
                period_value=now.get(key),
                previous_period_value=before.get(key),
                snapshot_id=int(sid),
                run_at=run_at,
            )
        )
    return sorted(out, key=lambda g: -abs(g.z))
