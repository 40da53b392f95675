"""``eigyo sync <crm>``: read Salesforce, HubSpot or kintone directly, incrementally and safely.

One module per concern: :mod:`~eigyo.sync.http` (requests, retries, pace, one-line errors),
:mod:`~eigyo.sync.credentials` (secrets from the environment or the OS keyring, never
``eigyo.toml``), :mod:`~eigyo.sync.staging` (pages on disk and the resume journal),
:mod:`~eigyo.sync.engine` (one sync: fetch, stage, import through the CRM's preset, cursors), and
one connector per CRM. See docs/connectors.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eigyo.sync.engine import Connector, Progress, SyncReport, run_sync
from eigyo.sync.http import SyncError

#: The CRMs ``eigyo sync`` reads (each also names the ingest preset its records go through).
CRMS = ("kintone", "hubspot", "salesforce")


def connector(crm: str, workspace: Path, timezone: str, **http: Any) -> Connector:
    """The connector of ``crm``, configured from ``[sync.<crm>]`` and its secrets."""
    if crm == "kintone":
        from eigyo.sync.kintone import Kintone

        return Kintone(workspace, timezone, **http)
    if crm == "hubspot":
        from eigyo.sync.hubspot import HubSpot

        return HubSpot(workspace, timezone, **http)
    if crm == "salesforce":
        from eigyo.sync.salesforce import Salesforce

        return Salesforce(workspace, timezone, **http)
    raise SyncError(key="sync.error.unknown_crm", crm=crm, known=", ".join(CRMS))


__all__ = ["CRMS", "Connector", "Progress", "SyncError", "SyncReport", "connector", "run_sync"]
