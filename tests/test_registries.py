"""Declared registries are checked when they load: the checks' references (sample, metric,
impact, chart), the drill-down population of each metric, the import presets and the engines.

A name that points nowhere must fail at import with the entry, the key, the bad value and the
nearest valid name, never later on real data.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from eigyo.base.periods import parse_period
from eigyo.diagnose.checks import KIND_SAMPLES, load_checks, parse_checks, references
from eigyo.diagnose.context import SAMPLES
from eigyo.diagnose.impact import IMPACTS
from eigyo.errors import DeclarationError
from eigyo.metrics import REGISTRY, compute, validate
from eigyo.metrics._vocab import POPULATIONS
from eigyo.workspace import Workspace
from tests.test_metrics_company import build

APRIL = parse_period("2025-04")


def _checks_text() -> str:
    return resources.files("eigyo.diagnose").joinpath("checks.toml").read_text(encoding="utf-8")


def _broken(old: str, new: str) -> str:
    """checks.toml with one line changed (the line must exist exactly once)."""
    text = _checks_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_packaged_checks_load() -> None:
    checks = load_checks()
    assert checks and all(c.metric in REGISTRY or c.metric in references().measures for c in checks)


@pytest.mark.parametrize(
    ("old", "new", "check", "key", "nearest"),
    [
        ('sample = "stage_exits"\nmetric = "stage_conversion"\ngroup = ["team"',
         'sample = "stage_exit"\nmetric = "stage_conversion"\ngroup = ["team"',
         "stage_bottleneck", "sample", "stage_exits"),
        ('metric = "slippage_rate"', 'metric = "slipage_rate"', "slippage_by_rep", "metric",
         "slippage_rate"),
        ('min_effect = 0.12\nimpact = "stage_leak"', 'min_effect = 0.12\nimpact = "stage_leaks"',
         "stage_bottleneck", "impact", "stage_leak"),
        ('chart = "handoff-days"', 'chart = "hand-off-days"', "handoff_delay", "chart",
         "handoff-days"),
    ],
)  # fmt: skip
def test_a_bad_reference_fails_at_load_with_the_nearest_name(
    old: str, new: str, check: str, key: str, nearest: str
) -> None:
    bad = new.split('"')[1]
    with pytest.raises(DeclarationError) as err:
        parse_checks(_broken(old, new), source="broken.toml")
    text = str(err.value)
    assert f'check {check}: {key} = "{bad}"' in text
    assert f'Did you mean "{nearest}"?' in text
    assert "broken.toml has 1 invalid declaration(s)" in text
    assert f'もしかして "{nearest}"' in err.value.localized("ja")
    assert isinstance(err.value, ValueError)  # an input error: callers catching ValueError see it


def test_every_problem_is_reported_at_once() -> None:
    text = _broken('chart = "lead-response"', 'chart = "lead-respons"')
    text = text.replace('impact = "untouched"', 'impact = "untouch"').replace(
        'step = "monitor"\nkind = "regression"', 'step = "monitr"\nkind = "regression"'
    )
    with pytest.raises(DeclarationError) as err:
        parse_checks(text)
    assert len(err.value.problems) == 3
    assert 'step = "monitr" must be one of' in str(err.value)


def test_a_measure_is_read_from_the_sample_column_that_defines_it() -> None:
    text = _broken('metric = "slippage_rate"', 'metric = "stale_open_deals"')
    with pytest.raises(DeclarationError, match=r"defined by open_deals\.stale .*slippage\.slipped"):
        parse_checks(text)


def test_a_check_formats_its_number_in_the_unit_of_its_metric() -> None:
    text = _broken('unit = "minutes"', 'unit = "days"')  # intervention_effect: response minutes
    with pytest.raises(DeclarationError, match=r'unit = "days", but lead_response_minutes is in'):
        parse_checks(text)


def test_samples_of_the_checks_are_the_declared_ones() -> None:
    used = {c.sample for c in load_checks()}
    assert used <= {*SAMPLES, *KIND_SAMPLES.values()}
    assert set(SAMPLES) <= used, "a sample no check reads"


def test_impact_formulas_and_their_functions_are_the_same_set() -> None:
    assert set(references().impacts) == set(IMPACTS)


def test_declared_charts_are_the_reports_charts() -> None:
    """references.toml [charts] (what checks may name) equals the charts the report builds,
    each in the section of the same runbook step."""
    from eigyo.report._figures import Ctx
    from eigyo.report._sections import STEP_CHARTS
    from tests._rows import new_ws

    ws = new_ws(Path(tempfile.mkdtemp()))
    try:
        ctx = Ctx(ws, parse_period("FY2025"), "en")
        built = {build(ctx).chart_id: step for step, bs in STEP_CHARTS.items() for build in bs}
    finally:
        ws.close()
    assert built == references().charts


def test_a_check_and_its_chart_belong_to_the_same_step() -> None:
    charts = references().charts
    for c in load_checks():
        assert c.chart is None or charts[c.chart] == c.step, c.id


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = build(tmp_path_factory.mktemp("registries") / "w")
    yield w
    w.close()


def test_declared_check_metrics_agree_with_their_samples(company: Workspace) -> None:
    """The two KPIs declared for checks compute the numbers the checks' samples hold."""
    leads = SAMPLES["mql_leads"](company, APRIL).to_pyarrow().to_pylist()
    [untouched] = compute(company, APRIL, ["untouched_lead_rate"])
    assert untouched.value == pytest.approx(sum(r["untouched"] for r in leads) / len(leads))
    per_rep = SAMPLES["selling_hours_per_win"](company, APRIL).to_pyarrow().to_pylist()
    found = compute(company, APRIL, ["selling_hours_per_win"], "rep_id")
    got = {v.by["rep_id"]: v.value for v in found}
    assert per_rep and {r["rep_id"]: pytest.approx(got[r["rep_id"]]) for r in per_rep} == {
        r["rep_id"]: r["hours_per_win"] for r in per_rep
    }


# --- drill-down population, declared on the metric --------------------------------------


def test_every_drill_down_lists_a_named_population() -> None:
    for m in REGISTRY.values():
        assert m.drill_population is None or m.drill_population in POPULATIONS, m.id


def test_a_drill_population_is_validated_with_the_registry() -> None:
    m = REGISTRY["calls_per_rep_day"]
    assert validate([replace(m, drill="calls_in_q")]) == [
        f"calls_per_rep_day: drill 'calls_in_q' is not one of {', '.join(POPULATIONS)}"
    ]
    # a drill-down over orders cannot be grouped by rep
    problems = validate([replace(m, drill="orders_in_p")])
    assert "calls_per_rep_day: orders records cannot be grouped by team" in problems


def test_checks_toml_is_valid_toml_with_one_entry_per_check() -> None:
    raw = tomllib.loads(_checks_text())
    assert len(raw["check"]) == len(load_checks())


# --- import presets: the folder is the list ---------------------------------------------


def test_the_preset_list_is_the_presets_folder() -> None:
    from eigyo.ingest.mapping import load_preset, presets

    folder = resources.files("eigyo.ingest") / "presets"
    files = sorted(
        e.name.removesuffix(".toml") for e in folder.iterdir() if e.name.endswith(".toml")
    )
    assert presets() == files
    for name in files:
        assert load_preset(name).files, name


def test_the_import_help_lists_every_preset() -> None:
    import typer.main

    from eigyo.cli import app
    from eigyo.ingest.mapping import presets

    command = typer.main.get_command(app).commands["import"]  # type: ignore[attr-defined]
    [option] = [p for p in command.params if p.name == "preset"]
    assert option.help.startswith(f"Known export: {', '.join(presets())} ")


# --- engines: a declared registry, imported lazily ---------------------------------------


def test_every_declared_engine_resolves() -> None:
    from eigyo.engines import ENGINES, FORMS

    assert next(iter(ENGINES)) == "duckdb"  # the default
    assert tuple(e.form for e in ENGINES.values()) == FORMS
    for name, entry in ENGINES.items():
        assert entry.name == name
        assert callable(entry.load(entry.engine)), entry.engine
        assert entry.push is None or callable(entry.load(entry.push)), entry.push


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("duckdb", "duckdb"),
        ("DuckDB", "duckdb"),
        ("postgresql://u@h:5433/db", "postgresql"),
        ("postgres://u@h/db?schema=x", "postgresql"),
        ("spark", "spark"),
        ("spark?master=local[2]", "spark"),
    ],
)
def test_an_address_picks_its_engine(address: str, kind: str) -> None:
    from eigyo.engines import ENGINES, parse_engine

    spec = parse_engine(address)
    assert spec.kind == kind and kind in ENGINES


def test_an_unknown_engine_names_the_forms_and_the_nearest() -> None:
    from eigyo.engines import FORMS, EngineError, parse_engine

    with pytest.raises(EngineError) as err:
        parse_engine("sparc")
    assert "did you mean 'spark'?" in str(err.value)
    assert all(f in str(err.value) for f in FORMS)
