"""``eigyo process``: the JSON contract and every number of the process map, computed by hand.

The data is :mod:`tests.test_process_data` (read its docstring for each opportunity's path).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eigyo.analysis.process.process_map import directly_follows, process_map
from eigyo.base.periods import parse_period
from eigyo.cli import main
from tests._rows import new_ws
from tests.test_process_data import company

MAY = parse_period("2025-05")


def _stages(doc: dict[str, list[dict[str, object]]]) -> dict[object, tuple[object, ...]]:
    return {s["stage"]: (s["entered"], s["median_days"]) for s in doc["stages"]}


def test_stages_entered_and_median_days(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        doc = process_map(ws, MAY).to_json()
    assert _stages(doc) == {
        # dwell to the next entry: O1 1, O2 3, O3 0 (tie, 見込み first by order), O5 2
        # -> 0, 1, 2, 3: an even count averages the middle two
        "見込み": (4, 1.5),
        # O1 2, O2 1, O3 1.5, O8 3 -> 1, 1.5, 2, 3
        "評価": (4, 1.75),
        # O8's first entry (1 day to 評価); O1, O3, O5 and O8's second entry are last entries
        "商談": (5, 1.0),
        # O4 enters 提案 twice: 2 days to 失注, then 4 days to 受注
        "提案": (2, 3.0),
        # only ever last -> null
        "受注": (1, None),
        # O2's is last; O4 was reopened 3 days after losing
        "失注": (2, 3.0),
        "Demo": (1, 1.0),
    }
    # configured stages in eigyo.toml order, unlisted ones after them
    assert [s["stage"] for s in doc["stages"]] == [
        "見込み",
        "評価",
        "商談",
        "提案",
        "受注",
        "失注",
        "Demo",
    ]
    deals = {s["stage"]: s["deals"] for s in doc["stages"]}
    assert deals["商談"] == 4 and deals["提案"] == 1


def test_transitions_are_consecutive_entries(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        doc = process_map(ws, MAY).to_json()
    got = {(t["from"], t["to"]): (t["count"], t["median_days"]) for t in doc["transitions"]}
    assert got == {
        ("見込み", "評価"): (3, 1.0),  # O1 1, O2 3, O3 0
        ("評価", "商談"): (3, 2.0),  # O1 2, O3 1.5, O8 3
        ("評価", "失注"): (1, 1.0),
        ("提案", "失注"): (1, 2.0),
        ("失注", "提案"): (1, 3.0),  # reopened
        ("提案", "受注"): (1, 4.0),
        ("見込み", "Demo"): (1, 2.0),
        ("Demo", "商談"): (1, 1.0),
        ("商談", "評価"): (1, 1.0),  # backward
    }
    counts = [t["count"] for t in doc["transitions"]]
    assert counts == sorted(counts, reverse=True)
    # a transition count is an entry that is not an opportunity's last one
    stages = doc["stages"]
    assert sum(counts) == sum(s["entered"] for s in stages) - 6  # 6 deals with history


def test_variants_share_and_duration(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        pm = process_map(ws, MAY)
    assert pm.opportunities == 6  # O6 has no history, O7 was created in March
    top = pm.variants[0]
    assert top.stages == ("見込み", "評価", "商談")  # O1 (3 days) and O3 (1.5 days)
    assert (top.count, top.share, top.median_days) == (2, 2 / 6, 2.25)
    assert sum(v.count for v in pm.variants) == 6
    reopened = next(v for v in pm.variants if v.stages[0] == "提案")
    assert reopened.stages == ("提案", "失注", "提案", "受注") and reopened.median_days == 9.0


def test_variant_ties_at_the_cut_are_ordered_by_path(tmp_path: Path) -> None:
    # four paths are taken once (O2, O4, O5, O8); the second place goes to the smallest path
    # by its names: 商 (U+5546) < 提 (U+63D0) < 見 (U+898B)
    with company(tmp_path) as ws:
        pm = process_map(ws, MAY, top_variants=2)
    assert [v.stages for v in pm.variants] == [("見込み", "評価", "商談"), ("商談", "評価", "商談")]
    assert pm.opportunities == 6


def test_directly_follows_equals_the_map_transitions(tmp_path: Path) -> None:
    # the lean window (ranks only) and the full stage entries give the same graph, ties included
    with company(tmp_path) as ws:
        assert directly_follows(ws, MAY) == process_map(ws, MAY).transitions
        assert directly_follows(ws) == process_map(ws).transitions
        # O7 (created in March) adds its 見込み → 評価 (2 days): O1 1, O2 3, O3 0, O7 2
        top = directly_follows(ws)[0]
        assert (top.source, top.target, top.count, top.median_days) == ("見込み", "評価", 4, 1.5)
        assert len(directly_follows(ws)) == 9


def test_without_period_every_history_row_counts(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        doc = process_map(ws).to_json()
    # O7 adds 見込み (2 days to 評価) and a last 評価 entry
    assert _stages(doc)["見込み"] == (5, 2.0)
    assert _stages(doc)["評価"][0] == 5
    assert doc["opportunities"] == 7


def test_empty_workspace(tmp_path: Path) -> None:
    with new_ws(tmp_path) as ws:
        doc = process_map(ws, MAY).to_json()
    assert doc["stages"] == [] and doc["transitions"] == [] and doc["variants"] == []


def test_cli_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    company(tmp_path).close()
    main(["process", "--workspace", str(tmp_path / "w"), "--period", "2025-05", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {"stages", "transitions"} <= set(doc)
    assert all({"stage", "entered", "median_days"} <= set(s) for s in doc["stages"])
    assert all({"from", "to", "count", "median_days"} <= set(t) for t in doc["transitions"])
    assert _stages(doc)["評価"] == (4, 1.75)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_cli_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str) -> None:
    company(tmp_path).close()
    main(["process", "-w", str(tmp_path / "w"), "--lang", lang])
    out = capsys.readouterr().out
    assert ("ステージ" if lang == "ja" else "Stages") in out and "見込み → 評価 → 商談" in out


def test_cli_errors(tmp_path: Path) -> None:
    company(tmp_path).close()
    with pytest.raises(SystemExit) as e:
        main(["process", "-w", str(tmp_path / "w"), "--period", "FY2025-Q5"])
    assert e.value.code == 1
    with pytest.raises(SystemExit) as e:
        main(["process", "-w", str(tmp_path / "w"), "--format", "xml"])
    assert e.value.code == 2
