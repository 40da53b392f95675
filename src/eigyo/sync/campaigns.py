"""Salesforce campaigns in a sync: each lead's campaign by the preset's rule, kept current.

Why not import Campaign and CampaignMember as files like the other objects: the preset gives a
lead its campaign from *all* its CampaignMember rows (a ``lookups`` rule over the folder), but an
incremental sync fetches only the members that changed, mostly of leads that did not. So the
sync keeps the two objects in workspace tables of its own, updated in the sync's transaction,
and sets ``leads.campaign`` from them with :data:`CAMPAIGN_SQL` — the preset's rule in SQL: the
member the lead responded to first (``HasResponded``, then the earliest ``FirstRespondedDate``),
else the first it joined (``CreatedDate``), ties by member ``Id``; blanks last; the campaign's
``Name``; a lead with no member (or whose campaign is unknown) keeps what it had.
tests/test_sync_salesforce.py checks that the two give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

DDL = (
    "CREATE TABLE IF NOT EXISTS _sf_campaigns (id VARCHAR, name VARCHAR)",
    """CREATE TABLE IF NOT EXISTS _sf_campaign_members (id VARCHAR, campaign_id VARCHAR,
        lead_id VARCHAR, has_responded VARCHAR, first_responded VARCHAR, created VARCHAR)""",
)
#: Every lead's campaign from the kept members and campaigns (see the module's docstring).
CAMPAIGN_SQL = """
UPDATE leads SET campaign = coalesce(pick.name, leads.campaign)
FROM (
    SELECT m.lead_id, c.name
    FROM (
        SELECT lead_id, campaign_id, row_number() OVER (
            PARTITION BY lead_id
            ORDER BY has_responded DESC NULLS LAST, first_responded ASC NULLS LAST,
                     created ASC NULLS LAST, id ASC) AS n
        FROM _sf_campaign_members WHERE lead_id IS NOT NULL
    ) m LEFT JOIN _sf_campaigns c ON c.id = m.campaign_id
    WHERE m.n = 1
) pick
WHERE leads.lead_id = pick.lead_id
"""
_COLUMNS = {
    "Campaign": ("Id", "Name"),
    "CampaignMember": (
        "Id",
        "CampaignId",
        "LeadId",
        "HasResponded",
        "FirstRespondedDate",
        "CreatedDate",
    ),
}
_TABLES = {"Campaign": "_sf_campaigns", "CampaignMember": "_sf_campaign_members"}


def _cell(value: object) -> str | None:
    """Blank is unknown (NULL), as the preset's lookup reads a blank cell."""
    text = str(value or "").strip()
    return text or None


class CampaignBook:
    """The campaigns and members one sync fetched, until its transaction writes them."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, tuple[str | None, ...]]] = {o: {} for o in _COLUMNS}
        self.deleted: dict[str, set[str]] = {o: set() for o in _COLUMNS}

    def keep(self, obj: str, records: Iterator[dict[str, Any]]) -> int:
        """Hold the live records of ``obj``; 0: nothing for the import to read."""
        for rec in records:
            self.rows[obj][str(rec["Id"])] = tuple(_cell(rec.get(c)) for c in _COLUMNS[obj])
        return 0

    def delete(self, obj: str, rid: str) -> None:
        self.deleted[obj].add(rid)

    def publish(self, con: Any) -> None:
        """Write the changes and set every lead's campaign again (one statement)."""
        for ddl in DDL:
            con.execute(ddl)
        for obj, table in _TABLES.items():
            gone = sorted(set(self.rows[obj]) | self.deleted[obj])
            con.execute(f"DELETE FROM {table} WHERE id IN (SELECT unnest(?))", [gone])
            rows = list(self.rows[obj].values())
            if rows:
                cols = [list(c) for c in zip(*rows, strict=True)]
                marks = ", ".join("unnest(?)" for _ in cols)
                con.execute(f"INSERT INTO {table} SELECT {marks}", cols)
        con.execute(CAMPAIGN_SQL)
