"""Presets (Salesforce ja/en, HubSpot, kintone) and user mapping files."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from eigyo.errors import InputError
from eigyo.ingest import import_path, presets
from eigyo.ingest.mapping import load_preset, parse

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import new_ws, rows, write

SF_JA = """商談 ID,商談名,取引先名,フェーズ,金額,完了予定日,所有者,作成日,種別
006A,大型案件,髙島屋商事,成立,"￥1,200,000",2025/04/30,山田 太郎,2025/04/01,新規ビジネス
006B,追加案件,株式会社①,提案,５００，０００,令和7年5月31日,鈴木 花子,2025/04/02,既存ビジネス
006C,更新案件,～商会,不成立,-1,2025/06/30,山田 太郎,2025/04/03,謎
"""

SF_EN = (
    "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Opportunity Owner,"
    "Created Date,Type\n"
    """006X,Big deal,Acme,Closed Won,"$12,000",4/30/2025,Jane Roe,4/1/2025,New Business
006Y,Small deal,Beta,Negotiation/Review,500,5/31/2025,John Doe,4/2/2025,Renewal
"""
)

HUBSPOT = """Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline
101,Deal A,Closed Won,1000,2025-04-30,2025-04-01 10:00,Owner One,Sales Pipeline
102,Deal B,Appointment Scheduled,,2025-05-30,2025-04-02 11:00,Owner Two,Sales Pipeline
"""

KINTONE = """レコード番号,案件名,会社名,担当者,見込み金額,受注予定日,ステータス,作成日時
1,案件A,A社,佐藤,"1,000,000",2025-04-30,受注,2025-04-01T09:00:00+09:00
2,案件B,B社,田中,200000,2025-05-31,提案中,2025-04-02T00:00:00Z
"""


def test_presets_are_valid_data() -> None:
    assert presets() == ["hubspot", "kintone", "salesforce", "xes"]
    for name in presets():
        assert load_preset(name).files
    with pytest.raises(InputError, match=r"Unknown preset 'sap'\. Presets: hubspot"):
        load_preset("sap")


def test_salesforce_japanese_cp932(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"商談.csv": SF_JA.encode("cp932")})
    report = import_path(ws, src / "商談.csv", preset="salesforce")
    f = report.files[0]
    assert (f.table, f.rows, f.loaded, f.rejected) == ("opportunities", 3, 2, 1)
    assert f.reasons == {"amount: below_min": 1}
    got = rows(
        ws,
        "SELECT opportunity_id, account_id, owner_rep_id, amount, status, type, "
        "expected_close_date, created_at, extra->>'フェーズ' FROM opportunities ORDER BY 1",
    )
    assert got == [
        (
            "006A",
            "髙島屋商事",
            "山田 太郎",
            1_200_000.0,
            "won",
            "new",
            date(2025, 4, 30),
            datetime(2025, 4, 1),
            "成立",
        ),
        (
            "006B",
            "株式会社①",
            "鈴木 花子",
            500_000.0,
            "open",
            "expansion",
            date(2025, 5, 31),
            datetime(2025, 4, 2),
            "提案",
        ),
    ]


def test_salesforce_english_us_dates(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"report.csv": SF_EN})
    import_path(ws, src / "report.csv", preset="salesforce")
    assert rows(
        ws,
        "SELECT opportunity_id, amount, status, type, expected_close_date, created_at "
        "FROM opportunities ORDER BY 1",
    ) == [
        ("006X", 12_000.0, "won", "new", date(2025, 4, 30), datetime(2025, 4, 1)),
        ("006Y", 500.0, "open", "renewal", date(2025, 5, 31), datetime(2025, 4, 2)),
    ]


def test_hubspot_deals(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"deals.csv": HUBSPOT})
    report = import_path(ws, src / "deals.csv", preset="hubspot")
    assert report.files[0].reasons == {}  # a deal without an amount is kept, with a warning
    assert report.files[0].warning_reasons == {"amount: blank": 1}
    assert rows(
        ws, "SELECT opportunity_id, status, owner_rep_id, amount FROM opportunities ORDER BY 1"
    ) == [("101", "won", "Owner One", 1000.0), ("102", "open", "Owner Two", None)]


def test_kintone_offsets(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"案件.csv": KINTONE})
    import_path(ws, src / "案件.csv", preset="kintone")
    assert rows(
        ws, "SELECT opportunity_id, amount, status, created_at FROM opportunities ORDER BY 1"
    ) == [
        ("1", 1_000_000.0, "won", datetime(2025, 4, 1, 9)),
        ("2", 200_000.0, "open", datetime(2025, 4, 2, 9)),
    ]


def test_user_mapping_file_with_values_constants_and_formats(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[[files]]\nmatch = "deals.csv"\ntable = "opportunities"\n'
        'columns = { opportunity_id = "No", owner_rep_id = "Rep", amount = "Yen", '
        'created_at = "Opened", status = "Result" }\n'
        'constants = { type = "new" }\nformats = { created_at = ["%d.%m.%Y"] }\n'
        '[files.values.status]\n"○" = "won"\n"×" = "lost"\n"*" = "open"\n',
        encoding="utf-8",
    )
    src = write(
        tmp_path / "in",
        {
            "deals.csv": "No,Rep,Yen,Opened,Result,Memo\n"
            "1,r1,100,31.03.2025,○,hello\n2,r1,5,01.04.2025,△,\n"
        },
    )
    report = import_path(ws, src, mapping=mapping)
    assert report.files[0].loaded == 2
    assert rows(
        ws, "SELECT opportunity_id, status, type, created_at, extra FROM opportunities ORDER BY 1"
    ) == [
        ("1", "won", "new", datetime(2025, 3, 31), '{"Result":"○","Memo":"hello"}'),
        ("2", "open", "new", datetime(2025, 4, 1), '{"Result":"△","Memo":null}'),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1", "unknown key 'x'"),
        ("[[files]]", "'None' is not a canonical table|None is not a canonical table"),
        ('colums = 1\n[[files]]\ntable = "reps"', "unknown key 'colums'"),
        ('[[files]]\ntable = "deals"', "'deals' is not a canonical table"),
        ('[[files]]\ntable = "reps"\ncolumns = { colour = "c" }', "colour not in table 'reps'"),
        ("[[files]\n", "not valid TOML"),
    ],
)
def test_bad_mapping_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse(text, "m.toml")
