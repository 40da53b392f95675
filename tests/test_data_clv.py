"""Customer value: BG/NBD and Gamma-Gamma reproduce the published CDNOW parameters (within 1%),
both from the published summary and from raw orders in a workspace through ``eigyo ltv``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from eigyo.analysis.data import clv
from eigyo.cli import main
from eigyo.errors import InputError
from tests._data import DATA as SHARED_DATA
from tests._data import needs_data as needs
from tests._rows import insert, new_ws

DATA = SHARED_DATA / "cdnow-clv"
SAMPLE = DATA / "CDNOW_sample.txt"
SUMMARY = DATA / "cdnow_customers_summary_with_transactions.csv"
# Fader, Hardie & Lee (2005); Fader & Hardie (2013): 39-week calibration, weekly units.
BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}

needs_data = needs(
    "cdnow-clv/CDNOW_sample.txt", "cdnow-clv/cdnow_customers_summary_with_transactions.csv"
)


def _close(got: dict[str, float], want: dict[str, float]) -> None:
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=0.01), k


@needs_data
def test_fits_reproduce_published_parameters_from_summary() -> None:
    d = pacsv.read_csv(SUMMARY)
    x, t_x, T, z = (d[c].to_numpy().astype(float) for c in ("x", "t_x", "T", "zbar"))
    bg = clv.fit_bg_nbd(x, t_x, T)
    _close(vars(bg), BG_NBD)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)  # FHL 2005 report -9582.4
    gg = clv.fit_gamma_gamma(x, z)
    _close(vars(gg), GAMMA_GAMMA)


def cdnow_orders() -> pa.Table:
    """The CDNOW sample as canonical ``orders`` rows (account = sample id)."""
    cols = np.array(SAMPLE.read_text().split()).reshape(-1, 5)
    day = np.array([f"{s[:4]}-{s[4:6]}-{s[6:]}" for s in cols[:, 2]], dtype="datetime64[s]")
    return pa.table(
        {
            "order_id": [str(i) for i in range(len(cols))],
            "account_id": cols[:, 1].tolist(),
            "ordered_at": pa.array(day),
            "amount": cols[:, 4].astype(float),
        }
    )


@pytest.fixture(scope="module")
def cdnow_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = new_ws(tmp_path_factory.mktemp("cdnow"))
    ws.raw.register("_orders", cdnow_orders())
    ws.raw.execute('INSERT INTO "orders" BY NAME SELECT * FROM _orders')
    ws.close()
    return ws.path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@needs_data
def test_ltv_command_on_cdnow_orders(cdnow_ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ltv", "--workspace", str(cdnow_ws), "--until", "1997-09-30",
                         "--unit", "week", "--format", "json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["bg_nbd"]) == {"r", "alpha", "a", "b"}
    assert set(doc["gamma_gamma"]) == {"p", "q", "v"}
    _close(doc["bg_nbd"], BG_NBD)
    _close(doc["gamma_gamma"], GAMMA_GAMMA)
    assert doc["fit"]["customers"] == 2357 and doc["fit"]["repeat_customers"] == 946
    top = doc["accounts"][0]
    assert 0 < top["p_alive"] <= 1 and top["clv"] > 0
    assert doc["cohorts"][0]["cohort"] == "1997-Q1" and doc["cohorts"][0]["accounts"] == 2357


@needs_data
def test_ltv_text_output_in_both_languages(
    cdnow_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "ltv", "-w", str(cdnow_ws), "--until", "1997-09-30")
    assert code == 0 and "BG/NBD" in out and "顧客" in out
    code, out, _ = run(capsys, "ltv", "-w", str(cdnow_ws), "--until", "1997-09-30", "--lang", "en")
    assert code == 0 and "customers" in out.lower()


def _toy_ws(tmp_path: Path) -> clv.Summary:
    ws = new_ws(tmp_path)
    insert(ws, "orders", [
        # A: first day 2025-01-01 (two lines = one purchase), repeats on 01-15 and 01-29
        {"order_id": "1", "account_id": "A", "ordered_at": "2025-01-01 09:00", "amount": 100},
        {"order_id": "2", "account_id": "A", "ordered_at": "2025-01-01 15:00", "amount": 50},
        {"order_id": "3", "account_id": "A", "ordered_at": "2025-01-15 10:00", "amount": 30},
        {"order_id": "4", "account_id": "A", "ordered_at": "2025-01-29 10:00", "amount": 10},
        {"order_id": "5", "account_id": "B", "ordered_at": "2025-01-08 10:00", "amount": 70},
        # after --until: ignored
        {"order_id": "6", "account_id": "B", "ordered_at": "2025-02-12 10:00", "amount": 70},
    ])  # fmt: skip
    s = clv.summarize(ws, date(2025, 2, 11), "week")
    ws.close()
    return s


def test_summary_counts_repeat_days_and_weeks(tmp_path: Path) -> None:
    s = _toy_ws(tmp_path)
    assert list(s.account_id) == ["A", "B"]
    assert s.x.tolist() == [2.0, 0.0]
    assert s.t_x.tolist() == [4.0, 0.0]  # 28 days
    assert s.T.tolist() == pytest.approx([41 / 7, 34 / 7])
    assert s.monetary.tolist() == [20.0, 0.0]  # (30 + 10) / 2; the first day never counts


def test_not_enough_data_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="Not enough data"):
        clv.fit_bg_nbd(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([5.0, 5.0]))


def test_expected_purchases_grow_with_horizon_and_p_alive_in_unit_interval() -> None:
    m = clv.BgNbd(0.243, 4.414, 0.793, 2.426, 0.0)
    x, t_x, T = np.array([0.0, 2, 7]), np.array([0.0, 30.43, 35]), np.array([38.86, 38.86, 38])
    e1, e2 = clv.expected_purchases(m, 10.0, x, t_x, T), clv.expected_purchases(m, 39.0, x, t_x, T)
    assert np.all(e2 > e1) and np.all(e1 > 0)
    # FHL (2005): customer 1 of the sample (x=2, t_x=30.43, T=38.86) expects 1.226 in 39 weeks
    assert e2[1] == pytest.approx(1.226, abs=0.002)
    pa_ = clv.p_alive(m, x, t_x, T)
    assert pa_[0] == 1.0 and np.all((pa_ > 0) & (pa_ <= 1))
