"""``[[files.lookups]]``: a column from another file of the folder, one row per key by rule
(the salesforce preset's lead campaign from CampaignMember and Campaign)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eigyo.errors import InputError
from eigyo.ingest.mapping import parse
from tests._sync_util import imported, tables

LEADS = "Id,CreatedDate,LeadSource,OwnerId,Status,IsConverted\n" + "".join(
    f"00Q{i},2025-04-0{i}T09:00:00.000Z,Web,005U1,Working - Contacted,false\n" for i in (1, 2, 3)
)
MEMBERS = (
    "Id,CampaignId,LeadId,ContactId,Status,HasResponded,FirstRespondedDate,CreatedDate\n"
    "00v1,701A,00Q1,,Sent,false,,2025-04-01T10:00:00.000Z\n"
    "00v2,701B,00Q1,,Responded,true,2025-04-09,2025-04-05T10:00:00.000Z\n"
    "00v3,701C,00Q1,,Responded,true,2025-04-08,2025-04-06T10:00:00.000Z\n"
    "00v4,701B,00Q2,,Sent,false,,2025-04-03T10:00:00.000Z\n"
    "00v5,701A,00Q2,,Sent,false,,2025-04-02T10:00:00.000Z\n"
    "00v6,701A,,003C1,Sent,false,,2025-04-02T10:00:00.000Z\n"
)
CAMPAIGNS = (
    "Id,Name,Type,Status,StartDate,EndDate,IsActive,ParentId,CreatedDate\n"
    "701A,展示会,Trade Show,Completed,2025-04-01,2025-04-02,false,,2025-03-01T00:00:00.000Z\n"
    "701B,ウェビナー,Webinar,Completed,2025-04-05,2025-04-05,true,,2025-03-01T00:00:00.000Z\n"
    "701C,メール,Email,Completed,2025-04-06,2025-04-06,true,,2025-03-01T00:00:00.000Z\n"
)


def _campaigns(ws: Path) -> dict[str, str | None]:
    return {r[0]: r[3] for r in tables(ws)["leads"]}


def test_a_data_export_gives_each_lead_its_first_responded_campaign(tmp_path: Path) -> None:
    exp = tmp_path / "export"
    exp.mkdir()
    (exp / "extract.csv").write_text(LEADS, encoding="utf-8")  # names do not matter
    (exp / "extract (1).csv").write_text(MEMBERS, encoding="utf-8")
    (exp / "extract (2).csv").write_text(CAMPAIGNS, encoding="utf-8")
    ws = imported(tmp_path / "ws", exp, "salesforce")
    # 00Q1 responded to C before B (earlier FirstRespondedDate); 00Q2 none: the first joined;
    # 00Q3 is in no campaign
    assert _campaigns(ws) == {"00Q1": "メール", "00Q2": "展示会", "00Q3": None}
    assert all("_campaign_id" not in (r[-1] or "") for r in tables(ws)["leads"])


def test_a_lead_file_alone_keeps_its_own_campaign_column(tmp_path: Path) -> None:
    f = tmp_path / "leads.csv"
    f.write_text(
        "Id,CreatedDate,LeadSource,Status,IsConverted,Campaign\n"
        "00Q9,2025-04-01T09:00:00.000Z,Web,Working - Contacted,false,春の展示会\n",
        encoding="utf-8",
    )
    ws = imported(tmp_path / "ws", f, "salesforce")
    assert _campaigns(ws) == {"00Q9": "春の展示会"}


def test_a_bad_lookup_is_refused_before_reading(tmp_path: Path) -> None:
    text = (
        '[[files]]\ntable = "leads"\n[[files.lookups]]\ninto = "x"\non = "Id"\nkey = "LeadId"\n'
        'value = "CampaignId"\nfirts = ["Id"]\n'
    )
    with pytest.raises(InputError, match=r"firts.*needs") as e:
        parse(text, "m.toml")
    assert "不明: firts" in e.value.localized("ja") and "不足: needs" in e.value.localized("ja")
