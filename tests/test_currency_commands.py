"""The analysis commands write amounts in the workspace currency (``[workspace] currency``).

eigyo never converts: an amount is a number in the currency ``eigyo.toml`` declares, and only
how it reads changes. These tests take a copy of the demo company's workspace (its canonical
CSVs imported), declare it in US dollars and run every analysis command that shows money through
the real entry point (:func:`eigyo.cli.main`), in text (ja and en) and JSON: amounts read
``$1,234.50`` (two decimals), no ``¥`` or 円 is left anywhere, and each JSON document names its
``currency`` while keeping the ``*_jpy`` keys its readers rely on. A yen workspace still prints
``¥`` and 円 as it always did. The demo company is used (not a handful of hand-written rows)
because each command answers only when its inputs are present: leads, activities, time entries,
assessments, orders, stage history and quotas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from eigyo.analysis.alignment.lead_value import load_costs
from eigyo.base.currency import unit_label
from eigyo.cli import _app, main
from eigyo.i18n import t
from eigyo.workspace import open_workspace
from tests._ingest_util import write
from tests.conftest import Demo

#: ``$1,234.50`` (or ``-$5.00``): the dollar sign and two decimals.
DOLLARS = re.compile(r"-?\$\d{1,3}(?:,\d{3})*\.\d{2}\b")
#: ``¥1,234``: the yen sign and no decimals.
YEN = re.compile(r"-?¥\d{1,3}(?:,\d{3})*(?![.\d,])")

#: Each command that shows amounts, with the arguments the demo company answers.
COMMANDS: dict[str, list[str]] = {
    "funnel": ["funnel", "-p", "FY2025"],
    "pipeline": ["pipeline", "--as-of", "2026-02-28", "--from", "2026-01-31", "-p", "2026-Q1"],
    "alignment": ["alignment", "-p", "FY2025"],
    "enablement": ["enablement", "-p", "FY2025"],
    "time": ["time", "-p", "FY2025"],
    "segments": ["segments", "-p", "FY2025", "--by", "industry"],
    "customers": ["customers", "--until", "2026-03-31"],
    "ltv": ["ltv", "--until", "2026-03-31", "--top", "3"],
    "winprob": ["winprob", "--as-of", "2026-02-28", "--top", "5"],
    "forecast": ["forecast", "-p", "2026-03", "--as-of", "2026-02-28"],
    "simulate": ["simulate", "--replications", "2", "--horizon", "1"],
}
#: JSON sections whose rows carry ``*_jpy`` keys: the names stay, the unit is ``currency``.
JPY_KEYS = {
    "funnel": ("leakage", "lost_jpy"),
    "alignment": ("funnel", "won_jpy"),
    "enablement": ("coaching", "at_stake_jpy"),
    "time": ("reclaimable", "reclaimable_jpy"),
}


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    """A wide console, so Rich never cuts an amount to ``$1,84…`` in a narrow column."""
    before = _app.console._width
    _app.console.width = 400
    yield
    _app.console._width = before


@pytest.fixture(scope="module")
def usd(demo_company: Demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo company's workspace declared in US dollars (eigyo never converts,
    so the imported amounts are the same numbers; only how they read changes)."""
    path = demo_company.copy(tmp_path_factory.mktemp("usd") / "ws")
    toml = path / "eigyo.toml"
    text, n = re.subn(r'(?m)^currency = ".*"$', 'currency = "USD"', toml.read_text("utf-8"))
    assert n == 1
    # short control-chart series: the monitor's alerts are under test, not its charts
    toml.write_text(text + "\n[monitor]\nweeks = 8\nmonths = 6\n", encoding="utf-8")
    with open_workspace(path, read_only=True) as ws:
        assert ws.settings.currency == "USD"
    return path


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    try:
        main(args)
    except SystemExit as e:
        assert not e.code, capsys.readouterr()
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_usd_amounts_in_text_and_json(
    usd: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*COMMANDS[command], "-w", str(usd)]
    for lang in ("en", "ja"):
        out = _run(capsys, [*args, "--lang", lang])
        assert DOLLARS.search(out), f"{command} {lang}: no $ amount\n{out[:2000]}"
        assert "¥" not in out and "円" not in out, f"{command} {lang}\n{out[:2000]}"
        assert not re.search(r"\$\d[\d,]*(?![.\d,])", out), f"{command} {lang}: $ without cents"
    doc = json.loads(_run(capsys, [*args, "--format", "json"]))
    assert doc["currency"] == "USD"
    if command in JPY_KEYS:
        section, key = JPY_KEYS[command]
        assert doc[section] and key in doc[section][0]


def test_usd_headers_name_the_dollar(usd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Headers that said ¥ or 円 name the workspace currency instead."""
    w = ["-w", str(usd), "--lang"]
    out = _run(capsys, [*COMMANDS["funnel"], *w, "en"])
    assert "Lost $" in out and "Bottlenecks (by $ impact)" in out
    out = _run(capsys, [*COMMANDS["alignment"], *w, "en"])
    assert "Pipeline $" in out and "Won $" in out
    out = _run(capsys, [*COMMANDS["time"], *w, "en"])
    assert "Reclaimable $" in out and re.search(r"about \$[\d,]+\.\d\d", out)
    out = _run(capsys, [*COMMANDS["segments"], *w, "ja"])
    assert "速度（$/日）" in out


def test_usd_monitor_alerts_and_effects(usd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Monitoring documents name the currency of the amounts in their evidence."""
    w = ["-w", str(usd)]
    doc = json.loads(_run(capsys, ["monitor", "-p", "FY2025", "--no-send", *w, "-f", "json"]))
    assert doc["currency"] == "USD"
    doc = json.loads(_run(capsys, ["alerts", *w, "--format", "json"]))
    assert doc["currency"] == "USD" and doc["alerts"]
    findings = [a["evidence"] for a in doc["alerts"] if a["kind"].startswith("finding")]
    assert findings and all(e["currency"] == "USD" and "impact_jpy" in e for e in findings)
    text = _run(capsys, ["alerts", *w, "--lang", "en"])
    assert "¥" not in text
    doc = json.loads(_run(capsys, ["intervention", "effect", *w, "--format", "json"]))
    assert doc["currency"] == "USD"


def test_jpy_workspace_still_prints_yen(
    demo_company: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default currency reads as before: ¥ without decimals, 円 in Japanese headers."""
    w = ["-w", str(demo_company.workspace), "--lang"]
    out = _run(capsys, [*COMMANDS["funnel"], *w, "en"])
    assert YEN.search(out) and "Lost ¥" in out and "Bottlenecks (by ¥ impact)" in out
    assert "$" not in out
    out = _run(capsys, [*COMMANDS["time"], *w, "ja"])
    assert YEN.search(out) and re.search(r"約 ¥[\d,]+\n", out)
    out = _run(capsys, [*COMMANDS["alignment"], *w, "en"])
    assert "Pipeline ¥" in out and "Won ¥" in out and YEN.search(out)
    out = _run(capsys, [*COMMANDS["segments"], *w, "ja"])
    assert "速度（円/日）" in out and YEN.search(out)
    out = _run(capsys, [*COMMANDS["customers"], *w, "ja"])
    assert re.search(r"累計\s*¥[\d,]+", out)
    doc = json.loads(
        _run(capsys, [*COMMANDS["time"], "-w", str(demo_company.workspace), "-f", "json"])
    )
    assert doc["currency"] == "JPY" and "reclaimable_jpy" in doc["reclaimable"][0]


def test_header_texts_take_the_currency() -> None:
    """Catalogue texts that once said ¥ take ``{currency}``; Japanese keeps 円 for the yen."""
    assert unit_label("JPY", "ja") == "円" and unit_label("JPY", "en") == "¥"
    assert unit_label("USD", "ja") == "$" and unit_label("CHF", "en") == "CHF"
    assert t("people.col.won_jpy", "en", currency=unit_label("EUR", "en")) == "Won €"
    velocity = t("data.segments.col_velocity", "ja", currency=unit_label("JPY", "ja"))
    assert velocity == "速度（円/日）"


def test_campaign_costs_in_any_currency(tmp_path: Path) -> None:
    """Costs written with a currency sign or code read as plain numbers of the workspace's."""
    f = write(tmp_path, {"costs.csv": 'campaign,cost\na,"$1,000.50"\nb,"¥2,000"\nc,USD 30\n'})
    df = load_costs(f / "costs.csv")
    assert df["cost"].to_list() == [1000.5, 2000.0, 30.0]
