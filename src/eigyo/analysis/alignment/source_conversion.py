"""Lead conversion by source and campaign: the samples of the ``lead_source_*`` and
``campaign_conversion`` checks.

One row per lead created in the period (every lead, not only MQLs: the registry's
``lead_conversion_rate`` counts them so, and the check tests that metric), with ``won`` from
:func:`~eigyo.analysis.alignment.leads.lead_outcomes` — the one definition of a converted lead.
"""

from __future__ import annotations

import ibis.expr.types as ir

from eigyo.analysis.alignment.leads import period_leads
from eigyo.base.periods import Period
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace


def leads_by_source(ws: Workspace, period: Period) -> ir.Table:
    """Leads created in ``period``: ``source``, ``campaign``, ``team``, ``untouched``,
    ``opportunity`` (0/1: the lead has an opportunity) and ``won`` (0/1: it is won by now),
    with the MQL columns beside them (:func:`~eigyo.analysis.alignment.leads.period_leads`)."""
    return period_leads(ws, period)


def leads_by_campaign(ws: Workspace, period: Period) -> ir.Table:
    """The leads of :func:`leads_by_source` that name a campaign: a campaign is judged against
    the other campaigns of its source, and leads without one are no campaign."""
    return with_campaign(leads_by_source(ws, period))


def with_campaign(t: ir.Table) -> ir.Table:
    """The rows of a :func:`leads_by_source` table that name a campaign."""
    return t.filter(t.campaign != UNKNOWN)
