"""The ``quality`` check kind: data-quality warnings the importer recorded with the rows.

These are facts about the data, not samples: a warning code is reported when it touches at least
``min_effect`` of its table's rows (warn), or at all (info). Outlier amounts are possible in a
healthy company (large deals exist), so they are only ever information.
"""

from __future__ import annotations

from eigyo.diagnose.checks import Check
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding, Severity
from eigyo.diagnose.playbook import finding_texts, plain_finding
from eigyo.errors import EigyoError

#: Warning codes that describe possible values rather than broken data.
INFORMATIONAL = frozenset({"outlier"})
#: What a view without the import records lacks (a manager's or rep's dashboard: the records
#: describe whole tables, rows they may not see included).
IMPORT_RECORDS = "_imports"
_RECORDS_TEXT = {
    "ja": "取り込み記録（管理者のみ閲覧できます）",
    "en": "the import records (visible to admins only)",
}


def run_quality(check: Check, ctx: Context) -> list[Finding]:
    """One finding per warning code of the latest imports; "not available" where the view may
    not read the import records — never "ok", which would say the data is fine unseen."""
    from eigyo.ingest.quality import warnings_summary

    try:
        found = warnings_summary(ctx.ws)
    except EigyoError:  # a scoped (dashboard) view may not read the import bookkeeping
        texts = {lang: {"needs": text} for lang, text in _RECORDS_TEXT.items()}
        return [plain_finding(check, "not_available", {"needs": [IMPORT_RECORDS]}, texts)]
    out = []
    for w in found:
        rows = ctx.ws.count(w.table)
        share = w.count / rows if rows else 0.0
        severity: Severity = (
            "warn" if share >= check.min_effect and w.code not in INFORMATIONAL else "info"
        )
        ev = {
            "table": w.table,
            "column": w.column,
            "code": w.code,
            "n": w.count,
            "rows": rows,
            "value": share,
            "example_row": w.example_row,
            "example_value": w.example_value,
            "import_id": w.import_id,
        }
        scope = {"table": w.table, "column": w.column}
        title, cause, actions = finding_texts(check, scope, {**ev, "what": w.message("ja")})
        title_en, cause_en, _ = finding_texts(check, scope, {**ev, "what": w.message("en")})
        title["en"], cause["en"] = title_en["en"], cause_en["en"]
        out.append(
            Finding(
                step=check.step,
                check=check.id,
                severity=severity,
                metric=check.metric,
                scope=scope,
                evidence=ev,
                cause=cause,
                actions=actions,
                title=title,
                impact_jpy=None,
                unit="ratio",
                chart=check.chart,
                distinct={"code": w.code},
            )
        )
    return out or [plain_finding(check, "ok", {"groups_tested": 0})]
