"""Event logs → stage history: XES files (plain, ``.gz`` or inside a ``.zip``) and generic
event-log tables (CSV, Excel, Parquet), imported with ``--preset xes``.

A process-mining event log is a list of (case, activity, timestamp, resource) events. eigyo reads
a case as an opportunity, an activity as a stage, a resource as a rep and the timestamp as the
moment the stage was entered (preset ``xes.toml`` lists the column names it recognizes). XES is read
streaming with ``xml.etree.ElementTree.iterparse``, clearing each trace once read, so memory holds
the event columns only, never the XML tree. Trace attributes become columns prefixed ``case:``.

Because ``reps`` and ``opportunities`` are required tables, the import also synthesizes minimal
rows for them (vectorized with polars, one row per case / resource):

- opportunities: ``opportunity_id`` = case; ``created_at`` = its first event; ``owner_rep_id`` =
  the resource of its first event that has one (``(unknown)`` when none has); ``amount`` = the
  case attribute ``amount``/``AMOUNT_REQ`` if any, else 0; ``status`` = won or lost when its last
  activity is a won or lost stage (``eigyo.toml`` or the known names such as ``Closed Won``),
  else open, with ``closed_at`` = that last event. Other ``case:`` attributes are kept as extra.
- reps: one per resource (and ``(unknown)`` when used), role ``generalist``, ``hire_date`` = the
  day of its first event.

Event-level duplicates of (case, activity, timestamp) are rejected like any duplicate key, with
their row (the event's number in the log) and reason.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import iterparse

import polars as pl

from eigyo.errors import InputError
from eigyo.ingest.mapping import FileSpec, MappingSpec
from eigyo.ingest.normalize import timestamp_series
from eigyo.ingest.readers import RawTable, read_file
from eigyo.ingest.validate import ROW
from eigyo.settings import Settings

UNKNOWN_REP = "(unknown)"
_TS_OUT = "%Y-%m-%d %H:%M:%S%.f"
_ATTRS = {"string", "date", "int", "float", "boolean", "id"}


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
            raise InputError(f"{path.name}: the zip holds no .xes file")
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
        raise InputError(f"{path.name}: not a readable XES file ({e})") from None
    frame = pl.DataFrame(cols.cols, schema={k: pl.String for k in cols.cols})
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))


def _pick(frame: pl.DataFrame, spec: FileSpec, canon: str, required: bool) -> str | None:
    names = {c.lower(): c for c in frame.columns}
    hit = next((names[s.lower()] for s in spec.columns.get(canon, ()) if s.lower() in names), None)
    if hit is None and required:
        raise InputError(
            f"event log: no column for {canon} (one of {', '.join(spec.columns.get(canon, ()))}). "
            f"Columns: {', '.join(c for c in frame.columns if not c.startswith('_'))}"
        )
    return hit


def _cases(
    ev: pl.DataFrame, case: str, act: str, res: str | None, settings: Settings
) -> pl.DataFrame:
    """One row per case: first/last event, owner, status from the last activity's stage kind."""
    kinds = {a: settings.stage_kind(a) or "" for a in ev.get_column(act).drop_nulls().unique()}
    owner = pl.col(res).drop_nulls().first() if res else pl.lit(None, pl.String)
    extra = [pl.col(c).first() for c in ev.columns if c.startswith("case:") and c != case]
    g = (
        ev.filter(pl.col("_ts").is_not_null() & pl.col(case).is_not_null())
        .sort([case, "_ts", ROW])
        .group_by(case, maintain_order=True)
        .agg(
            pl.col("_ts").first().alias("_first"),
            pl.col("_ts").last().alias("_last"),
            pl.col(act).last().alias("_act"),
            owner.alias("eigyo:owner"),
            pl.col(ROW).first().alias(ROW),
            *extra,
        )
    )
    kind = pl.col("_act").replace_strict(kinds, default="", return_dtype=pl.String)
    status = pl.when(kind.is_in(["won", "lost"])).then(kind).otherwise(pl.lit("open"))
    return g.select(
        pl.col(case).alias("eigyo:case"),
        pl.col("_first").dt.strftime(_TS_OUT).alias("eigyo:created_at"),
        pl.col("eigyo:owner").fill_null(UNKNOWN_REP),
        status.alias("eigyo:status"),
        pl.when(status != "open")
        .then(pl.col("_last").dt.strftime(_TS_OUT))
        .alias("eigyo:closed_at"),
        *[pl.col(c.meta.output_name()) for c in extra],
        pl.col(ROW),
    )


def _reps(ev: pl.DataFrame, opps: pl.DataFrame, res: str | None) -> pl.DataFrame:
    """One row per resource, hired the day of its first event; plus the unknown owner if used."""
    parts = []
    if res:
        parts.append(
            ev.filter(pl.col(res).is_not_null())
            .group_by(res)
            .agg(pl.col("_ts").min().alias("_first"), pl.col(ROW).min().alias(ROW))
            .rename({res: "eigyo:rep"})
        )
    unknown = opps.filter(pl.col("eigyo:owner") == UNKNOWN_REP)
    if unknown.height:
        parts.append(
            unknown.select(
                pl.lit(UNKNOWN_REP).alias("eigyo:rep"),
                pl.col("eigyo:created_at")
                .str.to_datetime(_TS_OUT, time_unit="us")
                .min()
                .alias("_first"),
                pl.col(ROW).min().alias(ROW),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"eigyo:rep": pl.String, "eigyo:hire_date": pl.String, ROW: pl.Int64}
        )
    reps = pl.concat(parts, how="vertical_relaxed").unique("eigyo:rep", keep="first").sort(ROW)
    return reps.select(
        "eigyo:rep", pl.col("_first").dt.strftime("%Y-%m-%d").alias("eigyo:hire_date"), ROW
    )


def plan(
    path: Path, spec: MappingSpec, settings: Settings, encoding: str | None, sheet: str | None
) -> list[tuple[FileSpec, RawTable]]:
    """The event log's three inputs: stage_history (events), opportunities (cases), reps."""
    entry = {f.table: f for f in spec.files}
    missing = {"stage_history", "opportunities", "reps"} - entry.keys()
    if missing:
        raise InputError(
            f"{spec.origin}: an event-log mapping needs entries for {', '.join(sorted(missing))}"
        )
    ev = read_xes(path) if is_xes(path) else read_file(path, encoding=encoding, sheet=sheet).frame
    sh = entry["stage_history"]
    case = _pick(ev, sh, "opportunity_id", True)
    act = _pick(ev, sh, "stage", True)
    ts = _pick(ev, sh, "entered_at", True)
    res = _pick(ev, sh, "rep_id", False)
    assert case and act and ts
    ev = ev.with_columns(timestamp_series(ev.get_column(ts), settings.timezone).alias("_ts"))
    opps = _cases(ev, case, act, res, settings)
    reps = _reps(ev, opps, res)
    # trace attributes live on the opportunity; the events keep their own attributes as extra
    events = ev.drop("_ts", *[c for c in ev.columns if c.startswith("case:") and c != case])
    return [
        (sh, RawTable(events)),
        (entry["opportunities"], RawTable(opps)),
        (entry["reps"], RawTable(reps)),
    ]
