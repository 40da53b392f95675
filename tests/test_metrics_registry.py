"""The registry as a whole: texts in both languages, valid declarations, documentation, errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eigyo.base.formatting import format_value
from eigyo.base.periods import parse_period
from eigyo.errors import InputError
from eigyo.metrics import DIMENSIONS, KINDS, REGISTRY, compute, validate
from eigyo.metrics.docs import render
from eigyo.workspace import Workspace
from tests.test_metrics_company import build
from tests.test_metrics_values import EXPECTED_APRIL

DOCS = Path(__file__).parent.parent / "docs" / "metrics.md"
#: The metrics docs/metrics.md's contract table defines.
CONTRACT = {
    *("bookings", "won_deals", "win_rate", "avg_deal_size", "sales_cycle_days"),
    *("pipeline_velocity", "avg_revenue_per_rep", "quota_attainment_rate"),
    *("lead_response_minutes", "lead_response_sla_rate", "mql_to_sql_rate"),
    *("lead_conversion_rate", "calls_per_rep_day", "call_connect_rate", "admin_time_share"),
    *("slippage_rate", "pipeline_coverage", "nrr", "repeat_customer_rate"),
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = build(tmp_path_factory.mktemp("registry") / "w")
    yield w
    w.close()


def test_every_contract_metric_is_declared() -> None:
    assert set(REGISTRY) >= CONTRACT


@pytest.mark.parametrize("metric_id", sorted(REGISTRY))
def test_metric_has_texts_in_both_languages_and_a_test(metric_id: str) -> None:
    m = REGISTRY[metric_id]
    for text in (m.label_ja, m.label_en, m.definition_ja, m.definition_en):
        assert text.strip()
    assert m.label("en") == m.label_en and m.definition("ja") == m.definition_ja
    assert metric_id in EXPECTED_APRIL, "every metric needs a hand-computed value"


def test_the_registry_is_valid() -> None:
    assert validate(REGISTRY.values()) == []


def test_validation_reports_every_problem() -> None:
    good = REGISTRY["win_rate"]
    bad = [
        replace(good, label_en=" "),
        replace(good, id="x", kind="nope"),
        replace(good, id="y", params={"where": "nowhere", "condition": "won"}),
        replace(good, id="z", dims=("planet",)),
        replace(REGISTRY["call_connect_rate"], id="w", dims=("product",)),
    ]
    problems = "\n".join(validate(bad))
    assert "win_rate: label_en is empty" in problems
    assert "x: kind 'nope' is unknown" in problems
    assert "y: where='nowhere'" in problems
    assert "z: dimension 'planet' is unknown" in problems
    assert "w: activities records cannot be grouped by product" in problems
    assert set(KINDS) >= {m.kind for m in REGISTRY.values()}


def test_docs_are_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/metrics.md is stale: run `python -m eigyo.metrics.docs > docs/metrics.md`"
    )


@pytest.mark.parametrize("metric_id", sorted(REGISTRY))
def test_every_declared_grouping_computes(ws: Workspace, metric_id: str) -> None:
    q2 = parse_period("2025-Q2")
    m = REGISTRY[metric_id]
    for dim in m.dims:
        for v in compute(ws, q2, [metric_id], dim):
            assert set(v.by) == {dim}
            if m.unit == "ratio" and metric_id not in ("nrr", "pipeline_coverage"):
                assert v.value is None or 0 <= v.value <= 1


def test_unknown_metric_names_the_known_ones(ws: Workspace) -> None:
    with pytest.raises(InputError, match=r"Unknown metric 'bookingz'\. Known metrics: bookings"):
        compute(ws, parse_period("2025-04"), ["bookingz"])


def test_unknown_grouping(ws: Workspace) -> None:
    with pytest.raises(InputError, match="Unknown grouping 'planet'"):
        compute(ws, parse_period("2025-04"), None, "planet")


def test_ungroupable_metric_is_skipped_or_refused(ws: Workspace) -> None:
    april = parse_period("2025-04")
    ids = {v.id for v in compute(ws, april, ["bookings", "nrr"], "team")}
    assert ids == {"bookings"}
    with pytest.raises(InputError, match="Cannot group nrr by team"):
        compute(ws, april, ["nrr"], "team")
    everything = {v.id for v in compute(ws, april, None, "source")}
    assert "nrr" not in everything and "bookings" in everything


def test_month_is_always_allowed() -> None:
    assert all("month" in m.dims for m in REGISTRY.values())
    assert DIMENSIONS[-1] == "month"


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (6_000_000.0, "yen", "ja", "¥6,000,000"),
        (0.6, "ratio", "en", "60.0%"),
        (60.75, "days", "ja", "60.8日"),
        (60.75, "days", "en", "60.8 days"),
        (45.0, "minutes", "ja", "45.0分"),
        (145.0, "minutes", "ja", "145分"),  # whole units from 100 up, as the report always wrote
        (3.0, "count", "en", "3"),
        (77_558.3, "yen/day", "en", "¥77,558/day"),
        (0.095238, "per_day", "ja", "0.1/日"),  # as many decimals as it needs (at most 2)
        (11.0, "hours", "en", "11.0 h"),
        (None, "ratio", "ja", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, lang: str, text: str) -> None:
    assert format_value(value, unit, lang) == text
