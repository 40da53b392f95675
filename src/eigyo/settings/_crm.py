"""``[crm]`` of eigyo.toml: where a record lives in the CRM, so every records view links to it.

A manager reading the idle deals behind a finding wants to open the deal itself. The CRM's URL
of a record is a template per record kind, e.g.
``opportunity_url = "https://example.my.salesforce.com/{opportunity_id}"``; the dashboard's
records pages show a link per row and the CSV/Excel exports a column of URLs. Without a
template there is no link and no column.

Why validated at load: a template is rendered into thousands of links people click. Only
``http``/``https`` with a host are accepted (a ``javascript:`` or ``file:`` URL would run or
open something else), only the placeholder of the record's own id (a typo such as
``{opportunity}`` would otherwise reach every link), and the id is percent-encoded when filled
in (an id holding ``/``, ``?`` or ``#`` cannot change which page opens).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from string import Formatter
from urllib.parse import quote, urlsplit

#: Record kind → the placeholder its template may hold (the record's own id).
PLACEHOLDERS: dict[str, str] = {
    "opportunity": "opportunity_id",
    "account": "account_id",
    "lead": "lead_id",
}
#: Longest template accepted (a real CRM URL is far shorter).
MAX_TEMPLATE = 2_000

#: ``[crm]`` in the template ``eigyo init`` writes (commented out there: no links by default).
CRM_TEMPLATE = """
[crm]
# Links from every records view (dashboard pages, CSV, Excel) to the record in your CRM
# (docs/connectors.md). http(s) only; the placeholder is the record's id, percent-encoded.
opportunity_url = "https://example.my.salesforce.com/{opportunity_id}"
account_url = "https://example.my.salesforce.com/{account_id}"
lead_url = "https://example.my.salesforce.com/{lead_id}"
"""


@dataclass(frozen=True)
class CrmLinks:
    """The URL template of each record kind (None: that kind has no link)."""

    opportunity_url: str | None = None
    account_url: str | None = None
    lead_url: str | None = None

    def template(self, kind: str) -> str | None:
        """The template of ``kind`` (``opportunity``, ``account``, ``lead``), if configured."""
        return getattr(self, f"{kind}_url", None) if kind in PLACEHOLDERS else None

    def url(self, kind: str, record_id: object) -> str | None:
        """The CRM URL of one record, its id percent-encoded (``/`` included); None without a
        template or an id."""
        template = self.template(kind)
        if template is None or record_id is None or str(record_id) == "":
            return None
        return template.format(**{PLACEHOLDERS[kind]: quote(str(record_id), safe="")})

    @property
    def kinds(self) -> tuple[str, ...]:
        """The record kinds with a template."""
        return tuple(k for k in PLACEHOLDERS if self.template(k))


def _problem(key: str, value: object) -> str | None:
    """Why one template is refused (None: accepted), as the rest of a "crm.KEY: …" line."""
    kind = key.removesuffix("_url")
    if not isinstance(value, str) or not value.strip():
        return f'{value!r} must be a URL text such as "https://crm.example.com/{{{PLACEHOLDERS[kind]}}}"'
    if len(value) > MAX_TEMPLATE:
        return f"is {len(value):,} characters long; at most {MAX_TEMPLATE:,} are accepted"
    try:
        parts = list(Formatter().parse(value))
    except ValueError as e:
        return f"{value!r} has an unbalanced brace ({e}); write a literal brace as {{{{ or }}}}"
    names = [name for _, name, _, _ in parts if name is not None]
    allowed = PLACEHOLDERS[kind]
    for _, name, spec, conv in parts:
        if name is not None and (name != allowed or spec or conv):
            return (
                f"{value!r} uses the placeholder {{{name}}}; "
                f"the only one allowed here is {{{allowed}}}"
            )
    if not names:
        return (
            f"{value!r} has no {{{allowed}}} placeholder, so every record would link the same page"
        )
    sample = value.replace("{" + allowed + "}", "x")
    split = urlsplit(sample)
    if split.scheme.lower() not in ("http", "https") or not split.netloc:
        return f"{value!r} must start with http:// or https:// and name a host"
    return None


def crm_links(raw: object) -> tuple[CrmLinks, list[str]]:
    """``[crm]`` validated: the templates (None where refused) and one line per problem, each
    naming the key and the reason (``crm.opportunity_url: … must start with http://``)."""
    if not isinstance(raw, dict):
        return CrmLinks(), [
            f"crm: {raw!r} must be a table ([crm] with keys such as opportunity_url)"
        ]
    known = [f.name for f in fields(CrmLinks)]
    problems = [
        f"crm.{key}: unknown key; known keys: {', '.join(known)}"
        for key in sorted(set(raw) - set(known))
    ]
    values: dict[str, str | None] = {}
    for key in known:
        if key not in raw:
            continue
        why = _problem(key, raw[key])
        if why is None:
            values[key] = str(raw[key]).strip()
        else:
            problems.append(f"crm.{key}: {why}")
    return CrmLinks(**values), problems
