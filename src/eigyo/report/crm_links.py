"""The CRM link columns of every records list: the dashboard's pages and exports and the CLI's.

``[crm]`` in eigyo.toml (:mod:`eigyo.settings._crm`) gives a URL template per record kind; a
records list whose rows hold that kind's id gets one more column with each row's URL, built by
:meth:`eigyo.settings.CrmLinks.url` (the id percent-encoded) — the one URL builder of eigyo. The
dashboard (:mod:`eigyo.app._metric_records`, :mod:`eigyo.app._evidence`) and ``eigyo diagnose
--records --out`` both add the columns here, so a deal links to the same page whichever way a
person reached it. Without a template there is no link and no column.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eigyo.report.evidence import RecordList
from eigyo.settings import CrmLinks

#: The CRM link columns: column → (record kind of ``[crm]``, the id column it links).
CRM_COLUMNS: dict[str, tuple[str, str]] = {
    "crm_url": ("opportunity", "opportunity_id"),
    "lead_crm_url": ("lead", "lead_id"),
    "account_crm_url": ("account", "account_id"),
}
#: The link columns of a finding's records: the record's own key (a deal or a lead).
FINDING_LINKS: tuple[str, ...] = ("crm_url", "lead_crm_url")


def with_links(rows: list[dict[str, Any]], links: list[str], crm: CrmLinks) -> list[dict[str, Any]]:
    """Each row with its CRM URLs (the id percent-encoded by :meth:`CrmLinks.url`)."""
    out = []
    for r in rows:
        extra = {name: crm.url(CRM_COLUMNS[name][0], r.get(CRM_COLUMNS[name][1])) for name in links}
        out.append({**r, **extra})
    return out


def finding_links(rl: RecordList, crm: CrmLinks) -> RecordList:
    """A finding's records (:mod:`eigyo.report.evidence`) with the CRM link column of their
    key (deal or lead) when ``[crm]`` configures it: its page, CSV and Excel all show it."""
    links = [
        name
        for name in FINDING_LINKS
        if crm.template(CRM_COLUMNS[name][0]) and CRM_COLUMNS[name][1] in rl.columns
    ]
    if not links:
        return rl
    return replace(rl, columns=[*rl.columns, *links], rows=with_links(rl.rows, links, crm))
