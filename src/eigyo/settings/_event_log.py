"""``[event_log]`` of eigyo.toml: how an event log's cases become opportunities."""

from __future__ import annotations

from dataclasses import dataclass

#: How an event log names an opportunity's owner: a rule, or ``case:<attribute>``.
EVENT_LOG_OWNER_RULES = ("first_resource", "most_frequent_resource")


@dataclass(frozen=True)
class EventLogSettings:
    """``[event_log]``: how ``eigyo import --preset xes`` turns cases into opportunities.

    A process log has no status column: the outcome is read from the activities a case reached
    (``won_activities`` / ``lost_activities``; none reached means *unknown*, never lost), only the
    ``lifecycle`` transitions listed become stage entries (so a start/complete pair is one entry),
    and ``owner`` picks the rep among a case's resources (``exclude_resources`` never own a case:
    system users that touch every case). :mod:`eigyo.ingest.xes` applies it.
    """

    won_activities: tuple[str, ...] = ()
    lost_activities: tuple[str, ...] = ()
    lifecycle: tuple[str, ...] = ("complete",)
    owner: str = "first_resource"
    exclude_resources: tuple[str, ...] = ()


#: Event logs (``eigyo import LOG --preset xes``): parsed by :func:`event_log_settings`.
EVENT_LOG_TEMPLATE = """
[event_log]
# Activities that decide a case's outcome: a case that reached a won activity is won (closed at
# that event), a lost one lost; the earlier decides when it reached both. Stages of kind won/lost
# above count too. A case that reached none has an unknown outcome (status "unknown": left out of
# win rates, never an open or stale deal). BPI Challenge 2012: examples/bpi2012.eigyo.toml.
won_activities = []
lost_activities = []
# Lifecycle transitions that become stage entries (case-insensitive; events without one are
# kept); [] keeps every event. "complete" alone counts a start/complete pair once.
lifecycle = ["complete"]
# The rep who owns a case: "first_resource", "most_frequent_resource" (ties: the earlier one)
# or "case:ATTRIBUTE" (a trace attribute / column). Cases without one: "(unknown)".
owner = "first_resource"
# Resources never taken as owner (system or batch users that touch every case).
exclude_resources = []
"""


def event_log_settings(raw: object, lang: str = "en") -> tuple[EventLogSettings, list[str]]:
    """``[event_log]`` validated: the settings (a default where a value is wrong) and every
    problem as text in ``lang`` (``i18n/eventlog.toml``), so ``load`` reports them with the rest."""
    from difflib import get_close_matches

    from eigyo.i18n import t

    default = EventLogSettings()
    if not isinstance(raw, dict):
        return default, [t("eventlog.settings.not_table", lang, value=repr(raw))]
    problems: list[str] = []
    known = [f for f in EventLogSettings.__dataclass_fields__]
    for key in sorted(set(raw) - set(known)):
        near = get_close_matches(key, known, n=1)
        hint = t("eventlog.settings.near", lang, near=near[0]) if near else ""
        problems.append(
            t("eventlog.settings.unknown_key", lang, key=key, hint=hint, known=", ".join(known))
        )

    def texts(key: str) -> tuple[str, ...]:
        value = raw.get(key, getattr(default, key))
        if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        problems.append(t("eventlog.settings.not_list", lang, key=key, value=repr(value)))
        return tuple(getattr(default, key))

    won, lost = texts("won_activities"), texts("lost_activities")
    lifecycle, exclude = texts("lifecycle"), texts("exclude_resources")
    both = sorted(set(won) & set(lost))
    if both:
        problems.append(t("eventlog.settings.both", lang, names=", ".join(both)))
    owner = raw.get("owner", default.owner)
    if not isinstance(owner, str) or not (
        owner in EVENT_LOG_OWNER_RULES or (owner.startswith("case:") and owner[5:].strip())
    ):
        problems.append(t("eventlog.settings.owner", lang, value=repr(owner)))
        owner = default.owner
    out = EventLogSettings(
        won_activities=won,
        lost_activities=lost,
        lifecycle=lifecycle,
        owner=owner,
        exclude_resources=exclude,
    )
    return out, problems
