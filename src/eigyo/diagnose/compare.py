"""Group-against-baseline comparisons for the ``proportion`` and ``median`` check kinds.

Counting happens in the engine (one GROUP BY per check, or for medians one ranking query); only
per-group totals, medians and rank sums come back to Python for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import ibis.expr.types as ir
import numpy as np

from eigyo.base import stats
from eigyo.diagnose.checks import Check, Filter
from eigyo.diagnose.impact import Gap
from eigyo.diagnose.ranks import rank_summaries


@dataclass
class Tested:
    """One group's test result; ``gap`` is the difference in the direction the check flags."""

    key: dict[str, str]
    gap_info: Gap
    base_n: int
    effect: float
    gap: float
    p_value: float
    share: float
    extra: dict[str, Any] = field(default_factory=dict)
    q_value: float = 1.0
    #: Successes and records whose Wilson interval the evidence states (``ci_low``, ``ci_high``
    #: after ``successes``): computed for the groups a finding reports, not for each of the
    #: tens of thousands a large diagnosis tests (SciPy's per-call cost added seconds).
    interval: tuple[int, int] | None = None

    def evidence_extra(self) -> dict[str, Any]:
        """``extra`` as the evidence states it, the Wilson interval after ``successes``."""
        if self.interval is None:
            return dict(self.extra)
        out: dict[str, Any] = {}
        for k, v in self.extra.items():
            out[k] = v
            if k == "successes":
                out["ci_low"], out["ci_high"] = stats.wilson(*self.interval)
        return out


def _where(t: ir.Table, f: Filter | None) -> ir.Table:
    return t if f is None else t.filter(t[f.column] == f.equals)


def _aggs(t: ir.Table, check: Check) -> dict[str, ir.Value]:
    v = t[check.value]
    aggs: dict[str, ir.Value] = {"n": t.count(), "k": v.sum()}
    if "won" in t.columns and check.value != "won":
        aggs["won_k"] = (t.won * v).sum()  # wins among the records that succeeded
        aggs["won"] = t.won.sum()
    if "amount" in t.columns:
        aggs["amount"] = (t.amount * v.cast("float64")).sum()
    if "hours" in t.columns:
        aggs["hours"] = t.hours.sum()
    return aggs


def _rows(t: ir.Table, by: list[str], check: Check) -> list[dict[str, Any]]:
    agg = t.group_by(by).agg(**_aggs(t, check)) if by else t.aggregate(**_aggs(t, check))
    return [
        {k: (0 if v is None else v) if k not in by else v for k, v in r.items()}
        for r in agg.to_pyarrow().to_pylist()
    ]


def _minus(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] - b.get(k, 0) for k in a if isinstance(a[k], int | float)}


def _sum(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    skip = set(keys)
    out: dict[str, Any] = {}
    for r in rows:
        for k, v in r.items():
            if k not in skip and isinstance(v, int | float):
                out[k] = out.get(k, 0) + v
    return out


def proportion(check: Check, sample: ir.Table) -> list[Tested]:
    """Each group's rate of ``value`` against its baseline, two-proportion tested."""
    t = sample.filter(sample[check.value].notnull())
    group = list(check.group)
    rows = _rows(_where(t, check.subject), group, check)
    strata = list(check.strata)
    if check.baseline is not None:
        base_rows = _rows(_where(t, check.baseline), strata, check)
        bases = {tuple(r[s] for s in strata): r for r in base_rows}
    else:
        # each stratum's rows in one pass (a scan per stratum was quadratic: 20,000 rep groups
        # in 1,000 team × type strata took seconds); summed in their order, as before
        members: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in rows:
            members.setdefault(tuple(r[s] for s in strata), []).append(r)
        bases = {key: _sum(rs, group) for key, rs in members.items()}
    total_n = sum(r["n"] for r in rows)
    pairs = []
    for r in rows:
        base = bases.get(tuple(r[s] for s in strata))
        if base is None:
            continue
        pairs.append((r, _minus(base, r) if check.baseline is None else base))
    counts = [_counts(r, base) for r, base in pairs]
    columns = np.array(counts, dtype=np.int64).reshape(-1, 4).T  # k, n, baseline k, baseline n
    effects, p_values = stats.two_proportions_many(*columns)
    out = [
        _test_rate(check, r, base, total_n, stats.Comparison(float(e), float(p)))
        for (r, base), e, p in zip(pairs, effects, p_values, strict=True)
    ]
    if check.isolate:
        _isolate(check, pairs, out)
    return out


def _isolate(
    check: Check, pairs: list[tuple[dict[str, Any], dict[str, Any]]], tested: list[Tested]
) -> None:
    """Factor out the group's general level so only what is specific to one stratum remains.

    A team that converts worse at every stage is a win-rate problem, not a bottleneck. The
    expected rate at stage S is the peers' rate at S times the team's own level elsewhere
    (its successes ÷ what the peers' rates predict at its other stages); the team's count at S
    is then tested against that expectation (exact binomial test) and against the peers at S.
    """
    assert check.isolate is not None
    level_col = check.isolate
    levels: dict[Any, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for r, base in pairs:  # the pairs of each level, in order (not a scan of all per pair)
        levels.setdefault(r[level_col], []).append((r, base))
    todo: list[tuple[Tested, int, int, float, float, float]] = []
    for (r, base), t in zip(pairs, tested, strict=True):
        others = [(r2, b2) for r2, b2 in levels[r[level_col]] if r2 is not r and b2.get("n")]
        expected = sum(r2["n"] * b2["k"] / b2["n"] for r2, b2 in others)
        level = sum(r2["k"] for r2, _ in others) / expected if expected else 1.0
        peer = base["k"] / base["n"] if base.get("n") else float("nan")
        p0 = min(max(peer * level, 1e-6), 1 - 1e-6) if peer == peer else float("nan")
        n, k = int(r["n"]), int(r["k"])
        if n == 0 or p0 != p0:
            continue
        todo.append((t, k, n, p0, peer, level))
    # every stage's exact test in one call (4,500 on the large demo)
    exact = stats.binomial_many([x[1] for x in todo], [x[2] for x in todo], [x[3] for x in todo])
    for (t, k, n, p0, peer, level), p_exact in zip(todo, exact, strict=True):
        # An intersection–union test: the stage must be worse than the team's usual (exact
        # binomial against p0, which treats p0 as known) AND than the peers at the stage (the
        # two-proportion test, which carries the peers' own noise); the larger p-value and the
        # smaller gap count. A team better than its peers elsewhere gets a p0 near 1 at a stage
        # that converts ~90% (rate × level), and ordinary noise there read as a bottleneck in a
        # company without one (tests/test_diagnosis_levels.py, clean seeds).
        t.p_value = max(float(p_exact), t.p_value)
        t.effect = k / n - p0
        t.gap = min(_directed_gap(check, k / n, p0), t.gap)
        t.gap_info = replace(t.gap_info, baseline=p0)
        t.extra.update(peer_rate=peer, own_level=level)


def _counts(r: dict[str, Any], base: dict[str, Any]) -> tuple[int, int, int, int]:
    """``(k, n, baseline k, baseline n)``: the two proportions a group's test compares."""
    return int(r["k"]), int(r["n"]), int(base.get("k", 0)), int(base.get("n", 0))


def _test_rate(
    check: Check,
    r: dict[str, Any],
    base: dict[str, Any],
    total_n: int,
    cmp: stats.Comparison,
) -> Tested:
    """One group's result; ``cmp`` is its two-proportion test (computed for all groups at once
    by :func:`eigyo.base.stats.two_proportions_many`)."""
    k, n, bk, bn = _counts(r, base)
    value, baseline = (k / n if n else float("nan")), (bk / bn if bn else float("nan"))
    base_won_rate = (
        base.get("won_k", 0) / bk
        if "won_k" in base and bk
        else base.get("won", 0) / bn
        if bn
        else 0.0
    )
    gap_info = Gap(
        n=n,
        value=value,
        baseline=baseline,
        won=float(r.get("won", 0)),
        amount=float(r.get("amount", 0)),
        base_won_rate=float(base_won_rate),
        hours=float(r.get("hours", 0)),
    )
    extra: dict[str, Any] = {"successes": k}
    judged = value
    if check.shrink and n and bn:
        # Empirical-Bayes shrinkage toward the baseline: the gap is measured on
        # (k + m × baseline) ÷ (n + m), so a small group needs a larger raw gap to count.
        judged = (k + check.shrink * baseline) / (n + check.shrink)
        extra.update(shrunk_value=judged, shrink=check.shrink)
    return Tested(
        key={g: str(r[g]) for g in check.group},
        gap_info=gap_info,
        base_n=bn,
        effect=cmp.effect,
        gap=_directed_gap(check, judged, baseline),
        p_value=cmp.p_value,
        share=n / total_n if total_n else 0.0,
        extra=extra,
        interval=(k, n),
    )


def against_target(check: Check, sample: ir.Table, target: float) -> list[Tested]:
    """Each group's (or, without ``group``, the whole sample's) rate against a fixed target,
    exact binomial test: an organization-wide problem has no peers to differ from, but it can
    miss the level the organization set itself (``eigyo.toml`` ``[targets]``)."""
    t = sample.filter(sample[check.value].notnull())
    rows = _rows(_where(t, check.subject), list(check.group), check)
    total_n = sum(int(r["n"]) for r in rows)
    rows = [r for r in rows if int(r["n"])]
    p0 = min(max(target, 1e-6), 1 - 1e-6)
    p_values = stats.binomial_many(
        [int(r["k"]) for r in rows], [int(r["n"]) for r in rows], [p0] * len(rows)
    )
    out = []
    for r, p_value in zip(rows, p_values, strict=True):
        n, k = int(r["n"]), int(r["k"])
        value = k / n
        gap_info = Gap(n=n, value=value, baseline=target, amount=float(r.get("amount", 0)))
        out.append(
            Tested(
                key={g: str(r[g]) for g in check.group},
                gap_info=gap_info,
                base_n=n,  # a target is no sample: the group's own size is what the test rests on
                effect=value - target,
                gap=_directed_gap(check, value, target),
                p_value=float(p_value),
                share=n / total_n if total_n else 0.0,
                extra={"successes": k},
                interval=(k, n),
            )
        )
    return out


def _directed_gap(check: Check, value: float, baseline: float) -> float:
    """Positive when the group is worse (or, for ``flag = better``, better) than its baseline."""
    worse = check.sign * (baseline - value)
    if check.relative:
        worse = worse / abs(baseline) if baseline else 0.0
    return -worse if check.flag == "better" else worse


def median(check: Check, sample: ir.Table) -> list[Tested]:
    """Each group's median of ``value`` against the rest of its stratum's, Mann–Whitney tested.

    The engine returns one row per group (its median, the rest's median, its rank sum and its
    stratum's tie term: :mod:`eigyo.diagnose.ranks`); no value is pulled into Python."""
    rows = rank_summaries(sample, list(check.group), list(check.strata), check.value)
    total = sum(int(r["n"]) for r in rows)
    p_values = stats.mann_whitney_many(
        [int(r["n"]) for r in rows],
        [int(r["total"]) - int(r["n"]) for r in rows],
        [float(r["rank_sum"]) for r in rows],
        [float(r["tie_term"]) for r in rows],
    )
    out = []
    for r, p in zip(rows, p_values, strict=True):
        n, rest = int(r["n"]), int(r["total"]) - int(r["n"])
        value = float(r["median"]) if n else float("nan")
        baseline = (
            float(r["rest_median"]) if rest and r["rest_median"] is not None else float("nan")
        )
        effect = value - baseline if n and rest else float("nan")
        gap_info = Gap(
            n=n,
            value=value,
            baseline=baseline,
            won=float(r.get("won") or 0.0),
            base_won_rate=float(r.get("rest_won") or 0.0) / rest
            if "rest_won" in r and rest
            else 0.0,
            hours=float(r.get("hours") or 0.0),
        )
        out.append(
            Tested(
                key={c: str(r[c]) for c in check.group},
                gap_info=gap_info,
                base_n=rest,
                effect=effect,
                gap=_directed_gap(check, value, baseline),
                p_value=float(p),
                share=n / total if total else 0.0,
            )
        )
    return out
