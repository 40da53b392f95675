"""Event logs → stage history: XES files (plain, ``.gz`` or inside a ``.zip``) and generic
event-log tables (CSV, Excel, Parquet), imported with ``--preset xes``.

A process-mining event log is a list of (case, activity, timestamp, resource) events. eigyo reads
a case as an opportunity, an activity as a stage, a resource as a rep and the timestamp as the
moment the stage was entered (preset ``xes.toml`` lists the column names it recognizes). XES is read
streaming with ``xml.etree.ElementTree.iterparse``, clearing each trace once read, so memory holds
the event columns only, never the XML tree. Trace attributes become columns prefixed ``case:``.

What a log does not say, eigyo does not invent. ``[event_log]`` in ``eigyo.toml``
(:class:`eigyo.settings.EventLogSettings`) says how to read it:

- **Stage entries**: only events whose lifecycle transition (``lifecycle:transition`` or a
  ``lifecycle`` column) is listed in ``lifecycle`` (default ``["complete"]``, case-insensitive)
  become stage entries, so a schedule/start/complete triple of one work item is entered once.
  Events without a transition are kept (most CSV logs have none); ``lifecycle = []`` keeps all.
  Skipped events are counted in the plan's notes, never dropped silently.
- **Outcome**: a case that reached a *won activity* (``won_activities``, or an activity that is a
  stage of kind won in ``eigyo.toml`` / a known name such as ``Closed Won`` or ``受注``) is won,
  closed at that event; one that reached a *lost activity* is lost. Reaching both, the earlier
  decides (its outcome was settled then). A case that reached neither — or every case when no end
  activity is configured — has status ``unknown``: the log does not say whether it was won, lost or
  is still running. Taking the last event instead (usually a work item) made every BPI 2012 case
  "open" and the win rate 0% against a true 17.7%.
- **Why ``unknown`` is a status of its own** (``eigyo.schema.OPPORTUNITY_STATUSES``): calling such
  a case lost would drag the win rate down, calling it open would fill the pipeline with stale
  deals that nobody works. Every metric and analysis counts a deal as closed only for status won or
  lost (win rate = won / (won + lost)), so ``unknown`` never enters a win rate, cycle or bookings.
  Its ``closed_at`` is the case's last event (any lifecycle): the open-pipeline, stale-deal and
  pipeline-as-of logic treat a deal as open while ``closed_at`` is blank or later than the day
  asked, so an unknown case is in progress while its events run and gone after its last one, not
  a deal left open for ever. Slippage needs an expected close date, which logs do not carry.
- **Owner**: ``owner`` = ``first_resource`` (default: the resource of the case's first kept event
  that has one), ``most_frequent_resource`` (the resource with the most kept events of the case;
  ties go to the one seen first) or ``case:ATTRIBUTE`` (a trace attribute, or a column of a CSV
  log, ``case:`` prefix optional there). ``exclude_resources`` are never owners (system users
  such as BPI 2012's ``112``, which submits every application). A case without one is owned by the
  placeholder rep ``(unknown)``.

Because ``reps`` and ``opportunities`` are required tables, the import synthesizes their rows
(vectorized with polars, one row per case / rep):

- opportunities: ``opportunity_id`` = case; ``created_at`` = its first event (any lifecycle);
  ``owner_rep_id`` as above; ``amount`` = the case attribute ``amount``/``AMOUNT_REQ`` if any, else
  blank (unknown, never 0); ``status`` and ``closed_at`` as above. Other ``case:`` attributes are
  kept as extra.
- reps: one per resource of a kept event and per owner (role ``generalist``), ``hire_date`` = the
  day of its first event or of its first owned case.

Event-level duplicates of (case, activity, timestamp) are rejected like any duplicate key, with
their row (the event's number in the log) and reason.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import iterparse

import polars as pl

from eigyo.base.vocabulary import UNKNOWN as UNKNOWN_REP  # owner of a case without one
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.ingest.mapping import FileSpec, MappingSpec
from eigyo.ingest.normalize import timestamp_series
from eigyo.ingest.readers import RawTable, read_file
from eigyo.ingest.validate import ROW
from eigyo.settings import EventLogSettings, Settings

#: Status of a case that reached no won or lost activity (see the module docstring).
UNKNOWN = "unknown"
#: Columns that hold an event's lifecycle transition, matched case-insensitively.
LIFECYCLE_COLUMNS = (
    "lifecycle:transition",
    "lifecycle",
    "lifecycle_transition",
    "lifecycle transition",
    "transition",
)
_TS_OUT = "%Y-%m-%d %H:%M:%S%.f"

#: The event-log section of ``docs/import-format.md`` (appended by :mod:`eigyo.ingest.docs`).
DOC = """## Event logs (`--preset xes`)

`eigyo import LOG --preset xes --workspace W` reads a process-mining event log: XES (`.xes`,
`.xes.gz`, `.xes.zip` or a `.zip` holding one; read streaming) or a table with one row per event
(CSV, Excel, Parquet). A case becomes an opportunity, an activity a stage, a resource a rep, the
timestamp the moment the stage was entered; trace attributes (`case:…`) stay on the opportunity
as extra columns. Columns are found by name: case `case:concept:name` / `Case ID` / `case_id`,
activity `concept:name` / `Activity`, timestamp `time:timestamp` / `Timestamp`, resource
`org:resource` / `Resource`, lifecycle `lifecycle:transition` / `lifecycle` / `transition`.
How the log is read is set in `eigyo.toml`, section `[event_log]` (defaults shown):

- `won_activities = []`, `lost_activities = []`: a case that reached one of these is **won** /
  **lost**, its `closed_at` that event's time.
- `lifecycle = ["complete"]`: the lifecycle transitions that become stage entries
  (case-insensitive); events without a transition are kept; `[]` keeps every event.
- `owner = "first_resource"`: the resource of the case's first kept event that has one;
  `"most_frequent_resource"`: the one with most kept events of the case (ties: seen first);
  `"case:ATTRIBUTE"`: a trace attribute (or a column of a table log).
- `exclude_resources = []`: resources never taken as owner (system users that touch every case).

What the import decides:

- **Outcome.** Stages of kind won / lost in `[[stages]]` (and known names such as `Closed Won`,
  `受注`, `失注`) are end activities too. A case that reached both a won and a lost activity is
  decided by the earlier one. Only kept events (the `lifecycle` filter) decide.
- **`unknown`.** A case that reached no end activity — every case when none is configured — gets
  status `unknown`: the log does not say whether it was won, lost or is still running. It is a
  status of its own because both alternatives lie: as `lost` it would pull the win rate down, as
  `open` it would sit in the pipeline as a stale deal that nobody works. Every metric and analysis
  counts a deal as closed only when it is won or lost (win rate = won / (won + lost)), so unknown
  cases enter no win rate, cycle time or bookings. Their `closed_at` is the case's last event (of
  any lifecycle), so the open-pipeline and stale-deal views, which count a deal as open while
  `closed_at` is blank or after the day asked, see an unknown case only while its events run.
- **Stage entries.** With the default `lifecycle = ["complete"]` a work item logged as
  schedule, start and complete is entered once (at its completion).
- **Owner.** A case without a usable resource (or attribute value) is owned by the placeholder
  rep `(unknown)`. Reps are made for every resource of a kept event and every owner, role
  `generalist`, hired the day they first appear.
- **Amount** comes from the case attribute `amount` / `AMOUNT_REQ`; a log without one leaves it
  blank (unknown), never 0.
- `eigyo.ingest.xes.plan` keeps notes, in Japanese and English, of what it decided: events
  skipped by lifecycle, won / lost / unknown cases, cases without owner, configured activities
  that never occur in the log.

Example: `examples/bpi2012.eigyo.toml` for the BPI Challenge 2012 log (won = `A_APPROVED`,
lost = `A_DECLINED` or `A_CANCELLED`: 2,246 won, 10,442 lost, 399 unknown, win rate 17.70%).
"""
_ATTRS = {"string", "date", "int", "float", "boolean", "id"}
_KEEP = "_keep"


@dataclass(frozen=True)
class Note:
    """Something the import of a log decided that a person should know (texts in
    ``i18n/eventlog.toml``): how many events were skipped, the outcomes, unowned cases."""

    key: str
    level: str = "info"  # "info" or "warn"
    values: dict[str, str] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        return t(f"eventlog.note.{self.key}", lang, **self.values)

    def as_notice(self) -> dict[str, str]:
        """The note as a file report's notice (``code`` = its full catalogue key)."""
        return {"code": f"eventlog.note.{self.key}", "level": self.level, **self.values}


class Plan(list[tuple[FileSpec, RawTable]]):
    """The three inputs of an event log (stage_history, opportunities, reps), as the importer
    iterates them, plus the notes and figures of what was read (``summary``: events read, kept
    and skipped; cases won, lost, unknown and without owner)."""

    def __init__(
        self,
        parts: Iterable[tuple[FileSpec, RawTable]],
        notes: list[Note],
        summary: dict[str, int],
    ) -> None:
        super().__init__(parts)
        self.notes = notes
        self.summary = summary


def is_xes(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".xes", ".xes.gz", ".xes.zip")) or (
        name.endswith(".zip") and _zip_member(path) is not None
    )


def _zip_member(path: Path) -> str | None:
    with zipfile.ZipFile(path) as z:
        return next((n for n in z.namelist() if n.lower().endswith(".xes")), None)


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    name = path.name.lower()
    if name.endswith(".zip"):
        member = _zip_member(path)
        if member is None:
            raise InputError(key="eventlog.error.no_xes_in_zip", file=path.name)
        with zipfile.ZipFile(path) as z, z.open(member) as f:
            yield f
    elif name.endswith(".gz"):
        with gzip.open(path, "rb") as g:
            yield cast(IO[bytes], g)
    else:
        with path.open("rb") as f:
            yield f


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Columns:
    """Event columns as lists, padded with None so every event has every key."""

    def __init__(self) -> None:
        self.cols: dict[str, list[str | None]] = {}
        self.n = 0

    def add(self, values: dict[str, str]) -> None:
        for k in values.keys() - self.cols.keys():
            self.cols[k] = [None] * self.n
        for k, col in self.cols.items():
            col.append(values.get(k))
        self.n += 1


def _attrs(elem: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in elem:  # type: ignore[attr-defined]
        if _local(child.tag) in _ATTRS and "key" in child.attrib:
            out[child.attrib["key"]] = child.attrib.get("value", "")
    return out


def read_xes(path: Path) -> pl.DataFrame:
    """All events of an XES log as text columns (trace attributes as ``case:…``) plus ``_row``."""
    cols = _Columns()
    pending: list[dict[str, str]] = []
    try:
        with _open(path) as f:
            ctx = iterparse(f, events=("start", "end"))
            _, root = next(ctx)
            for ev, elem in ctx:
                if ev != "end":
                    continue
                tag = _local(elem.tag)
                if tag == "event":
                    pending.append(_attrs(elem))
                    elem.clear()
                elif tag == "trace":
                    case = {f"case:{k}": v for k, v in _attrs(elem).items()}
                    for e in pending:
                        cols.add({**case, **e})
                    pending = []
                    elem.clear()
                    root.clear()
    except (SyntaxError, zipfile.BadZipFile) as e:  # ParseError subclasses SyntaxError
        raise InputError(key="eventlog.error.unreadable", file=path.name, detail=str(e)) from None
    frame = pl.DataFrame(cols.cols, schema={k: pl.String for k in cols.cols})
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))


def _visible(frame: pl.DataFrame) -> str:
    return ", ".join(c for c in frame.columns if not c.startswith("_"))


def _pick(frame: pl.DataFrame, spec: FileSpec, canon: str, required: bool) -> str | None:
    hit = _find(frame, spec.columns.get(canon, ()))
    if hit is None and required:
        raise InputError(
            key="eventlog.error.no_column",
            canon=canon,
            accepted=", ".join(spec.columns.get(canon, ())),
            columns=_visible(frame),
        )
    return hit


def _find(frame: pl.DataFrame, names: Iterable[str]) -> str | None:
    """The first of ``names`` that the frame has, compared case-insensitively."""
    have = {c.lower(): c for c in frame.columns}
    return next((have[n.lower()] for n in names if n.lower() in have), None)


def _end_activities(activities: pl.Series, settings: Settings) -> tuple[list[str], list[str]]:
    """Won and lost activities: ``[event_log]`` lists first, then stages of kind won/lost.

    One look-up per distinct activity name (a log has tens), not per event.
    """
    el = settings.event_log
    won, lost = set(el.won_activities), set(el.lost_activities)
    for a in activities.drop_nulls().unique().to_list():
        if a in won or a in lost:
            continue
        kind = settings.stage_kind(a)
        if kind == "won":
            won.add(a)
        elif kind == "lost":
            lost.add(a)
    return sorted(won), sorted(lost)


def _kept(ev: pl.DataFrame, lifecycle: str | None, el: EventLogSettings) -> pl.Expr:
    """True for events that become stage entries: a listed transition, or none at all."""
    if lifecycle is None or not el.lifecycle:
        return pl.lit(True)
    wanted = [v.strip().lower() for v in el.lifecycle]
    value = pl.col(lifecycle).str.strip_chars().str.to_lowercase()
    return value.is_null() | (value == "") | value.is_in(wanted)


def _owner_column(ev: pl.DataFrame, el: EventLogSettings) -> str | None:
    """The column that ``owner = "case:X"`` names: ``case:X`` (XES) or ``X`` (a CSV column)."""
    if not el.owner.startswith("case:"):
        return None
    attr = el.owner[5:].strip()
    hit = _find(ev, (f"case:{attr}", attr))
    if hit is None:
        cases = [c for c in ev.columns if c.startswith("case:")] or [
            c for c in ev.columns if not c.startswith("_")
        ]
        raise InputError(
            key="eventlog.error.owner_attribute", attr=attr, columns=", ".join(cases) or "-"
        )
    return hit


def _owners(timed: pl.DataFrame, case: str, res: str | None, el: EventLogSettings) -> pl.DataFrame:
    """One owner per case that has one, by the configured rule (``case``, ``eigyo:owner``).

    ``timed`` is sorted by case, time and row, so "first" is a plain ``unique(keep="first")``.
    """
    attr = _owner_column(timed, el)
    col = attr or res
    empty = pl.DataFrame(schema={case: pl.String, "eigyo:owner": pl.String})
    if col is None:
        return empty
    value = pl.col(col).str.strip_chars()
    usable = value.is_not_null() & (value != "") & ~value.is_in(list(el.exclude_resources))
    # a case attribute holds on every event; resources count on kept events only
    cand = timed.filter(usable if attr else usable & pl.col(_KEEP))
    cand = cand.select(case, value.alias("eigyo:owner"), pl.int_range(pl.len()).alias("_pos"))
    if el.owner == "most_frequent_resource":
        cand = (
            cand.group_by(case, "eigyo:owner")
            .agg(pl.len().alias("_n"), pl.col("_pos").min())
            .sort([case, "_n", "_pos"], descending=[False, True, False])
        )
    return cand.unique(case, keep="first", maintain_order=True).select(case, "eigyo:owner")


def _cases(
    ev: pl.DataFrame,
    case: str,
    act: str,
    res: str | None,
    won: list[str],
    lost: list[str],
    el: EventLogSettings,
) -> pl.DataFrame:
    """One row per case: its span (first and last event), outcome, closing time and owner."""
    timed = ev.filter(pl.col("_ts").is_not_null() & pl.col(case).is_not_null()).sort(
        [case, "_ts", ROW]
    )
    extra = [pl.col(c).first() for c in ev.columns if c.startswith("case:") and c != case]
    span = timed.group_by(case, maintain_order=True).agg(
        pl.col("_ts").first().alias("_first"),
        pl.col("_ts").last().alias("_last"),
        pl.col(ROW).first().alias(ROW),
        *extra,
    )
    ends = (
        timed.filter(pl.col(_KEEP) & pl.col(act).is_in(won + lost))
        .unique(case, keep="first", maintain_order=True)
        .select(case, pl.col(act).alias("_end"), pl.col("_ts").alias("_end_ts"))
    )
    g = span.join(ends, on=case, how="left").join(
        _owners(timed, case, res, el), on=case, how="left"
    )
    status = (
        pl.when(pl.col("_end").is_in(won))
        .then(pl.lit("won"))
        .when(pl.col("_end").is_not_null())
        .then(pl.lit("lost"))
        .otherwise(pl.lit(UNKNOWN))
    )
    return g.select(
        pl.col(case).alias("eigyo:case"),
        "_first",
        pl.col("eigyo:owner").fill_null(UNKNOWN_REP),
        status.alias("eigyo:status"),
        pl.coalesce("_end_ts", "_last").alias("_closed"),
        *[pl.col(c.meta.output_name()) for c in extra],
        pl.col(ROW),
    ).sort(ROW)


def _reps(kept: pl.DataFrame, cases: pl.DataFrame, res: str | None) -> pl.DataFrame:
    """One row per resource of a kept event and per owner, hired the day it first appears."""
    parts = [
        cases.group_by(pl.col("eigyo:owner").alias("eigyo:rep")).agg(
            pl.col("_first").min(), pl.col(ROW).min()
        )
    ]
    if res:
        parts.append(
            kept.filter(pl.col(res).is_not_null())
            .group_by(pl.col(res).alias("eigyo:rep"))
            .agg(pl.col("_ts").min().alias("_first"), pl.col(ROW).min())
        )
    reps = (
        pl.concat(parts, how="vertical_relaxed")
        .group_by("eigyo:rep")
        .agg(pl.col("_first").min(), pl.col(ROW).min())
        .sort(ROW, "eigyo:rep")
    )
    return reps.select(
        "eigyo:rep", pl.col("_first").dt.strftime("%Y-%m-%d").alias("eigyo:hire_date"), ROW
    )


def _notes(
    ev: pl.DataFrame,
    lifecycle: str | None,
    act: str,
    cases: pl.DataFrame,
    won: list[str],
    lost: list[str],
    settings: Settings,
) -> tuple[list[Note], dict[str, int]]:
    """What the reading decided, as counts a person can check against the log."""
    el = settings.event_log
    notes: list[Note] = []
    skipped = ev.filter(~pl.col(_KEEP))
    if skipped.height and lifecycle:
        by = skipped.group_by(lifecycle).len().sort("len", lifecycle, descending=[True, False])
        detail = ", ".join(f"{v} {n:,}" for v, n in by.iter_rows())
        kept = ", ".join(el.lifecycle)
        notes.append(
            Note(
                "lifecycle_skipped",
                "info",
                {"n": f"{skipped.height:,}", "detail": detail, "kept": kept},
            )
        )
    present = set(ev.get_column(act).drop_nulls().unique().to_list())
    absent = [a for a in (*el.won_activities, *el.lost_activities) if a not in present]
    if absent:
        notes.append(Note("activities_absent", "warn", {"names": ", ".join(absent)}))
    counts = dict(cases.group_by("eigyo:status").len().iter_rows())
    n_won, n_lost = counts.get("won", 0), counts.get("lost", 0)
    n_unknown = counts.get(UNKNOWN, 0)
    if not won and not lost:
        notes.append(Note("no_end_activities", "warn"))
    rate = f"{n_won / (n_won + n_lost):.1%}" if n_won + n_lost else "-"
    values = {
        "cases": f"{cases.height:,}",
        "won": f"{n_won:,}",
        "lost": f"{n_lost:,}",
        "unknown": f"{n_unknown:,}",
        "rate": rate,
    }
    notes.append(Note("outcomes", "warn" if n_unknown == cases.height else "info", values))
    unowned = cases.filter(pl.col("eigyo:owner") == UNKNOWN_REP).height
    if unowned:
        notes.append(
            Note("unowned", "info", {"n": f"{unowned:,}", "rule": el.owner, "rep": UNKNOWN_REP})
        )
    summary = {
        "events": ev.height,
        "events_kept": ev.height - skipped.height,
        "events_skipped": skipped.height,
        "cases": cases.height,
        "won": n_won,
        "lost": n_lost,
        "unknown": n_unknown,
        "unowned": unowned,
    }
    return notes, summary


def plan(
    path: Path, spec: MappingSpec, settings: Settings, encoding: str | None, sheet: str | None
) -> Plan:
    """The event log's three inputs: stage_history (kept events), opportunities (cases), reps."""
    entry = {f.table: f for f in spec.files}
    missing = {"stage_history", "opportunities", "reps"} - entry.keys()
    if missing:
        raise InputError(
            key="eventlog.error.mapping_entries",
            origin=spec.origin,
            missing=", ".join(sorted(missing)),
        )
    ev = read_xes(path) if is_xes(path) else read_file(path, encoding=encoding, sheet=sheet).frame
    sh = entry["stage_history"]
    case = _pick(ev, sh, "opportunity_id", True)
    act = _pick(ev, sh, "stage", True)
    ts = _pick(ev, sh, "entered_at", True)
    res = _pick(ev, sh, "rep_id", False)
    assert case and act and ts
    lifecycle = _find(ev, LIFECYCLE_COLUMNS)
    el = settings.event_log
    ev = ev.with_columns(
        timestamp_series(ev.get_column(ts), settings.timezone).alias("_ts"),
        _kept(ev, lifecycle, el).alias(_KEEP),
    )
    # without a lifecycle filter every event is kept: no copy of a log of millions of events
    kept = ev if lifecycle is None or not el.lifecycle else ev.filter(pl.col(_KEEP))
    won, lost = _end_activities(kept.get_column(act), settings)
    cases = _cases(ev, case, act, res, won, lost, el)
    reps = _reps(kept, cases, res)
    notes, summary = _notes(ev, lifecycle, act, cases, won, lost, settings)
    opps = cases.with_columns(
        pl.col("_first").dt.strftime(_TS_OUT).alias("eigyo:created_at"),
        pl.col("_closed").dt.strftime(_TS_OUT).alias("eigyo:closed_at"),
    ).drop("_first", "_closed")
    # trace attributes live on the opportunity; the events keep their own attributes as extra
    events = kept.drop(
        "_ts", _KEEP, *[c for c in ev.columns if c.startswith("case:") and c != case]
    )
    parts = [
        (sh, RawTable(events)),
        (entry["opportunities"], RawTable(opps)),
        (entry["reps"], RawTable(reps)),
    ]
    return Plan(parts, notes, summary)
