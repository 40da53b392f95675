"""Mapping files and presets: how a foreign export becomes canonical tables, declared as data.

A mapping is TOML with one ``[[files]]`` entry per (input file, canonical table)::

    [[files]]
    match = "sales_pipeline.csv"      # file name or glob inside the imported folder ("*": any)
    table = "opportunities"
    columns = { owner_rep_id = "sales_agent", created_at = ["Created Date", "作成日"] }
    constants = { type = "new" }       # a value for every row (the export lacks the column)
    defaults = { amount = "0" }        # a value where the file's cell is blank
    formats = { closed_at = ["%m/%d/%y"] }
    distinct = false                   # true: one row per distinct mapped row (e.g. reps)
    join = { file = "leads.csv", on = "mql_id" }   # add columns of another file (unique key)
    [files.values.status]
    Won = "won"
    "*" = "open"                       # any other non-blank value

``columns`` maps canonical ← source; a list gives alternatives (English and Japanese labels), the
first present wins. Canonical names the mapping does not mention are taken as-is when present.
Presets are the same files shipped in ``eigyo/ingest/presets``.

Keys for the files people really download (each optional):

- ``report = true`` (per entry, or at the top for every entry): a report export — the header may
  sit below title rows; footer lines and total rows are skipped and counted.
- ``header = ["id", "date", …]``: the file has no header row; these are its column names.
  ``delimiter = "whitespace"`` (or ``","`` ``";"`` ``"\t"``): columns split on runs of blanks.
- ``values`` keys match ignoring case, width (全角/半角) and repeated spaces. Values that fall to
  ``"*"`` are reported with their counts (never a silent "open"); ``--strict`` refuses them.
- ``outcome = { won = ["IsWon"], closed = ["IsClosed"] }``: yes/no flag columns that decide an
  opportunity's status over its stage name (won if won; lost if closed and not won; open if not
  closed).
- ``fallbacks.closed_at = { from = "expected_close_date", when = { status = ["won", "lost"] } }``:
  where a canonical column is blank, take another canonical column of the same row (a closed deal
  of a report is closed at its close date).
- ``ids.opportunity_id = ["商談名", "取引先名", "作成日"]``: the export has no id column; a
  stable id is made from these fields (same fields, same id), so re-importing the report updates
  rows. ``"$row"`` adds the row number (identical lines that are distinct records).
- ``where = { Field = ["StageName", "CloseDate"] }``: only rows whose source column holds one of
  these values belong to this table; the others are skipped and counted.
- ``unpivot = { columns = 'Date entered "(?P<name>.+)"', name = "stage", value = "entered_at" }``:
  one row per filled column whose header matches (HubSpot's stage-entry dates).
- ``signature = ["StageName", "フェーズ"]``: a file fits this ``*`` entry only if it has one of
  these headers (what tells a Salesforce Opportunity export from an Account export).
- ``alongside = "opportunities"``: this ``*`` entry also reads every file chosen for an
  ``opportunities`` entry, when it fits (HubSpot's deal export also holds stage-entry dates).
- ``values`` keys ending in ``*`` match by prefix (``"closed won*"`` also reads HubSpot's
  ``Closed Won (Sales Pipeline)``).
- ``reps_from = ["owner_rep_id"]``: owners given by display name become reps keyed by that name
  (only names no rep in the workspace has, never replacing a rep loaded from a user export).
- ``[[files.lookups]]``: a column from another file of the folder, found by its headers, one row
  per key chosen by an explicit order (a Salesforce lead's campaign from CampaignMember and
  Campaign); see :mod:`eigyo.ingest.lookup`.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from eigyo.errors import InputError
from eigyo.ingest.layout import WHITESPACE
from eigyo.ingest.lookup import Lookup, parse_lookups
from eigyo.ingest.readers import ReadOptions
from eigyo.ingest.values import Notice
from eigyo.schema import TABLES_BY_NAME, table

#: In ``ids``, the row's number in its file: for files whose identical lines are distinct records
#: (CDNOW's purchases), at the price that the id changes when lines are added above it.
ROW_TOKEN = "$row"
ROW_FIELD = "_row"
#: Keys a ``[[files]]`` entry may have, and those of the mapping's top level.
FILE_KEYS = (
    "match",
    "table",
    "columns",
    "constants",
    "defaults",
    "formats",
    "values",
    "distinct",
    "join",
    "report",
    "header",
    "delimiter",
    "outcome",
    "fallbacks",
    "ids",
    "where",
    "unpivot",
    "reps_from",
    "signature",
    "alongside",
    "lookups",
)
TOP_KEYS = ("name", "files", "report", "description")
#: Texts read as yes / no in flag columns (IsWon, IsClosed, 受注フラグ …), compared after
#: :func:`value_key`.
TRUE_TEXTS = ("true", "1", "yes", "y", "t", "はい", "○", "◯", "✓", "有", "済")
FALSE_TEXTS = ("false", "0", "no", "n", "f", "いいえ", "×", "✗", "無", "未")


def value_key(text: str) -> str:
    """How values are compared with a value map: NFKC (全角 → 半角), case-folded, single spaces.

    ``Closed won``, ``CLOSED WON`` and ``Ｃｌｏｓｅｄ　Ｗｏｎ`` are one value; the vectorized
    twin for columns is in :mod:`eigyo.ingest.values`.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def nearest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The choice most like ``word`` (a typo's intended key or header), if one is close."""
    by_key = {_norm(c): c for c in choices}
    hit = difflib.get_close_matches(_norm(word), list(by_key), n=1, cutoff=0.6)
    return by_key[hit[0]] if hit else None


@dataclass(frozen=True)
class Join:
    file: str
    on: str
    right_on: str | None = None


@dataclass(frozen=True)
class Fallback:
    """Where ``column`` is blank, take canonical ``source`` of the row, if ``when`` holds."""

    source: str
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Unpivot:
    """Wide columns → rows: each filled column whose header matches ``pattern`` becomes a row
    with the header's ``name`` group in canonical ``name`` and the cell in canonical ``value``."""

    pattern: str
    name: str
    value: str


@dataclass(frozen=True)
class FileSpec:
    """One input file → one canonical table."""

    match: str
    table: str
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    distinct: bool = False
    join: Join | None = None
    report: bool = False
    header: tuple[str, ...] | None = None
    delimiter: str | None = None
    outcome: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fallbacks: Mapping[str, Fallback] = field(default_factory=dict)
    ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unpivot: Unpivot | None = None
    reps_from: tuple[str, ...] = ()
    signature: tuple[str, ...] = ()
    alongside: str | None = None
    lookups: tuple[Lookup, ...] = ()

    def score(self, headers: list[str]) -> int:
        """How many of this entry's columns a file with ``headers`` provides; -1 when the file
        lacks a column this entry needs (a required column it cannot fill, a ``where`` column)."""
        have = {_norm(h) for h in headers}
        if any(_norm(c) not in have for c in self.where):
            return -1
        if self.signature and not any(_norm(c) in have for c in self.signature):
            return -1
        if self.unpivot is not None:
            pattern = re.compile(self.unpivot.pattern)
            if not any(pattern.search(h) for h in headers):
                return -1
        provided = {
            k for k, srcs in self.columns.items() if any(_norm(s) in have for s in srcs)
        } | {k for k in table(self.table).column_names if _norm(k) in have}
        filled = set(self.constants) | set(self.defaults) | set(self.ids) | set(self.fallbacks)
        if self.unpivot is not None:
            filled |= {self.unpivot.name, self.unpivot.value}
        if self.outcome and any(_norm(s) in have for v in self.outcome.values() for s in v):
            filled.add("status")
        needed = {c.name for c in table(self.table).columns if c.required}
        if needed - provided - filled:
            return -1
        return self.shared(have)

    def shared(self, have: set[str]) -> int:
        """How many of this entry's columns are among the (normalized) headers ``have``."""
        return sum(any(_norm(s) in have for s in srcs) for srcs in self.columns.values())

    @property
    def read_options(self) -> ReadOptions:
        """How the reader must read this entry's file (header row, delimiter, report layout)."""
        return ReadOptions(header=self.header, delimiter=self.delimiter, report=self.report)

    def accepted(self, column: str) -> tuple[str, ...]:
        """The headers this entry reads ``column`` from (its own name included)."""
        return (*self.columns.get(column, ()), column)


@dataclass(frozen=True)
class MappingSpec:
    name: str
    files: tuple[FileSpec, ...]
    origin: str
    #: Where the files come from (the vendor's screen or menu), for docs/import-format.md.
    description: str = ""

    def for_file(self, path: Path, headers: list[str]) -> FileSpec | None:
        """The entry for one file: by name or glob, or by the best header match for ``*``."""
        named = [f for f in self.files if f.match != "*" and fnmatch.fnmatch(path.name, f.match)]
        if named:
            return named[0]
        return self.best_wild(headers)

    def best_wild(self, headers: list[str]) -> FileSpec | None:
        """The ``*`` entry that fits ``headers`` best (it can fill every required column and
        matches the most columns); the first such entry on a tie; None when none fits."""
        wild = [f for f in self.files if f.match == "*" and f.alongside is None]
        scored = [(f.score(headers), -i, f) for i, f in enumerate(wild)]
        fit = [x for x in scored if x[0] >= 0]
        return max(fit, key=lambda x: (x[0], x[1]))[2] if fit else None

    def closest_wild(self, headers: list[str]) -> FileSpec | None:
        """For one file that fits no entry: the ``*`` entry of its kind (signature present)
        sharing most headers with it, whose "missing column" message will help most."""
        have = {_norm(h) for h in headers}
        wild = [
            f
            for f in self.files
            if f.match == "*"
            and f.alongside is None
            and (not f.signature or any(_norm(c) in have for c in f.signature))
        ]
        return max(wild, key=lambda f: f.shared(have), default=None)

    def companions(self, chosen: FileSpec, headers: list[str]) -> list[FileSpec]:
        """The ``alongside`` entries that also read a file chosen for ``chosen``."""
        return [
            f
            for f in self.files
            if f.alongside == chosen.table and f is not chosen and f.score(headers) >= 0
        ]


def _norm(name: str) -> str:
    return name.strip().lower()


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(key="ingest.mapping.not_texts", where=where, value=repr(value))


def _unknown_keys(keys: list[str], allowed: tuple[str, ...], where: str) -> None:
    """Refuse keys a mapping does not know, naming the nearest valid one (``colums`` →
    ``columns``): an ignored typo would surface later as a misleading "column missing"."""
    for key in keys:
        if key not in allowed:
            near = nearest(key, allowed)
            raise InputError(
                key="ingest.mapping.unknown_key",
                where=where,
                name=key,
                near=near or "-",
                allowed=", ".join(allowed),
            )


def _fallback(raw: Any, where: str, known: set[str]) -> Fallback:
    if not isinstance(raw, dict) or not isinstance(raw.get("from"), str):
        raise InputError(f'{where}: expected {{ from = "column", when = {{ … }} }}, got {raw!r}')
    _unknown_keys(list(raw), ("from", "when"), where)
    src = raw["from"]
    when = {str(k): _strs(v, f"{where}.when.{k}") for k, v in raw.get("when", {}).items()}
    bad = [c for c in (src, *when) if c not in known]
    if bad:
        raise InputError(f"{where}: {', '.join(bad)} not a column of the table")
    return Fallback(src, when)


def _unpivot_spec(raw: Any, where: str, known: set[str]) -> Unpivot:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected {{ columns = 'regex', name = …, value = … }}")
    _unknown_keys(list(raw), ("columns", "name", "value"), where)
    try:
        pattern = str(raw["columns"])
        re.compile(pattern)
        spec = Unpivot(pattern, str(raw["name"]), str(raw["value"]))
    except (KeyError, re.error) as e:
        raise InputError(f"{where}: needs columns (a valid regex), name and value ({e})") from None
    if "(?P<name>" not in pattern or {spec.name, spec.value} - known:
        raise InputError(f"{where}: the regex needs a (?P<name>…) group; name, value: columns")
    return spec


def _file_spec(raw: dict[str, Any], where: str, top: dict[str, Any]) -> FileSpec:
    """Validate one ``[[files]]`` entry, naming the key and what is allowed."""
    _unknown_keys(list(raw), FILE_KEYS, where)
    name = raw.get("table")
    if name not in TABLES_BY_NAME:
        near = nearest(str(name), list(TABLES_BY_NAME)) if isinstance(name, str) else None
        raise InputError(
            key="ingest.mapping.bad_table",
            where=where,
            name=repr(name),
            near=near or "-",
            tables=", ".join(TABLES_BY_NAME),
        )
    known = set(table(name).column_names)
    for key in ("columns", "constants", "defaults", "formats", "values", "fallbacks", "ids"):
        unknown = set(raw.get(key, {})) - known
        if unknown:
            close = [n for u in sorted(unknown) if (n := nearest(u, sorted(known)))]
            raise InputError(
                key="ingest.mapping.bad_columns",
                where=f"{where}.{key}",
                names=", ".join(sorted(unknown)),
                table=name,
                near=", ".join(close) or "-",
                columns=", ".join(table(name).column_names),
            )
    outcome = {k: _strs(v, f"{where}.outcome.{k}") for k, v in raw.get("outcome", {}).items()}
    _unknown_keys(list(outcome), ("won", "closed"), f"{where}.outcome")
    if outcome and "status" not in known:
        raise InputError(f"{where}.outcome: table {name!r} has no status column")
    delimiter = raw.get("delimiter")
    if delimiter is not None and delimiter not in (",", ";", "\t", WHITESPACE):
        raise InputError(f"{where}.delimiter: {delimiter!r}; use ',', ';', '\\t' or 'whitespace'")
    join = raw.get("join")
    return FileSpec(
        match=str(raw.get("match", "*")),
        table=name,
        columns={k: _strs(v, f"{where}.columns.{k}") for k, v in raw.get("columns", {}).items()},
        constants={k: str(v) for k, v in raw.get("constants", {}).items()},
        defaults={k: str(v) for k, v in raw.get("defaults", {}).items()},
        formats={k: _strs(v, f"{where}.formats.{k}") for k, v in raw.get("formats", {}).items()},
        values={
            k: {(a if a == "*" else value_key(str(a))): str(b) for a, b in v.items()}
            for k, v in raw.get("values", {}).items()
        },
        distinct=bool(raw.get("distinct", False)),
        join=Join(str(join["file"]), str(join["on"]), join.get("right_on")) if join else None,
        report=bool(raw.get("report", top.get("report", False))),
        header=_strs(raw["header"], f"{where}.header") if "header" in raw else None,
        delimiter=delimiter,
        outcome=outcome,
        fallbacks={
            k: _fallback(v, f"{where}.fallbacks.{k}", known)
            for k, v in raw.get("fallbacks", {}).items()
        },
        ids={k: _strs(v, f"{where}.ids.{k}") for k, v in raw.get("ids", {}).items()},
        where={k: _strs(v, f"{where}.where.{k}") for k, v in raw.get("where", {}).items()},
        unpivot=_unpivot_spec(raw["unpivot"], f"{where}.unpivot", known)
        if "unpivot" in raw
        else None,
        signature=_strs(raw["signature"], f"{where}.signature") if "signature" in raw else (),
        alongside=str(raw["alongside"]) if "alongside" in raw else None,
        lookups=parse_lookups(raw["lookups"], where) if "lookups" in raw else (),
        reps_from=_strs(raw.get("reps_from", []), f"{where}.reps_from")
        if raw.get("reps_from")
        else (),
    )


def parse(text: str, origin: str) -> MappingSpec:
    """Parse and validate a mapping (all of it before any file is read)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(key="ingest.mapping.toml", origin=origin, detail=str(e)) from None
    _unknown_keys(list(raw), TOP_KEYS, origin)
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        raise InputError(key="ingest.mapping.no_files", origin=origin)
    specs = tuple(_file_spec(f, f"{origin} files[{i}]", raw) for i, f in enumerate(files))
    return MappingSpec(
        str(raw.get("name", Path(origin).stem)), specs, origin, str(raw.get("description", ""))
    )


def load_mapping(path: Path) -> MappingSpec:
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise InputError(key="ingest.mapping.not_found", path=str(path)) from None


def presets() -> list[str]:
    """Names of the presets shipped with eigyo."""
    folder = resources.files("eigyo.ingest") / "presets"
    return sorted(
        e.name.removesuffix(".toml") for e in folder.iterdir() if e.name.endswith(".toml")
    )


def load_preset(name: str) -> MappingSpec:
    entry = resources.files("eigyo.ingest") / "presets" / f"{name}.toml"
    if not entry.is_file():
        raise InputError(f"Unknown preset {name!r}. Presets: {', '.join(presets())}")
    return parse(entry.read_text(encoding="utf-8"), f"preset {name}")


@dataclass(frozen=True)
class Applied:
    """A mapped frame, canonical → source names (for reject records), constant columns added."""

    frame: pl.DataFrame
    source_names: dict[str, str]
    constants: frozenset[str]
    #: What the mapping did that a person should know: code → details (see ``FileReport``).
    notices: tuple[Notice, ...] = ()


def _flag(col: str) -> pl.Expr:
    """A yes/no text column → True / False / null (blank or unreadable)."""
    s = pl.col(col).str.strip_chars().str.to_lowercase()
    return (
        pl.when(s.is_in(list(TRUE_TEXTS)))
        .then(True)
        .when(s.is_in(list(FALSE_TEXTS)))
        .then(False)
        .otherwise(None)
    )


def _pick(by_norm: dict[str, str], sources: tuple[str, ...]) -> str | None:
    return next((by_norm[_norm(s)] for s in sources if _norm(s) in by_norm), None)


def _where(
    frame: pl.DataFrame, spec: FileSpec, by_norm: dict[str, str]
) -> tuple[pl.DataFrame, int]:
    """Keep the rows whose ``where`` columns hold one of the listed values; count the rest."""
    keep = pl.lit(True)
    for src, allowed in spec.where.items():
        col = by_norm[_norm(src)]
        norm = pl.col(col).str.strip_chars().str.to_lowercase()
        keep = keep & norm.is_in([value_key(a) for a in allowed]).fill_null(False)
    kept = frame.filter(keep)
    return kept, frame.height - kept.height


def _unpivot(frame: pl.DataFrame, spec: Unpivot) -> pl.DataFrame:
    """One row per filled matching column: ``name`` from the header, ``value`` from the cell."""
    pattern = re.compile(spec.pattern)
    wide = {c: m.group("name").strip() for c in frame.columns if (m := pattern.search(c))}
    keep = [c for c in frame.columns if c not in wide]
    long = frame.unpivot(on=list(wide), index=keep, variable_name="__header", value_name=spec.value)
    long = long.filter(
        pl.col(spec.value).is_not_null() & (pl.col(spec.value).str.strip_chars() != "")
    )
    long = long.with_columns(pl.col("__header").replace_strict(wide).alias(spec.name)).drop(
        "__header"
    )
    return long.sort("_row", maintain_order=True)


def _ids(frame: pl.DataFrame, column: str, fields: list[str]) -> pl.DataFrame:
    """A stable id per row from identifying fields: the first 16 hex digits of the MD5 of the
    fields' trimmed texts (DuckDB's ``md5``, the same on every machine and version), so the
    same report imported again yields the same ids and replaces its rows instead of adding."""
    import duckdb

    joined = frame.select(
        pl.concat_str(
            [pl.col(f).cast(pl.String).fill_null("").str.strip_chars() for f in fields],
            separator="\x1f",
        ).alias("k")
    )
    con = duckdb.connect()
    try:
        con.register("k", joined)
        hashed = con.execute("SELECT 'gen-' || left(md5(k), 16) FROM k").fetchall()
    finally:
        con.close()
    return frame.with_columns(pl.Series(column, [h[0] for h in hashed], dtype=pl.String))


def apply(frame: pl.DataFrame, spec: FileSpec) -> Applied:
    """Rename and add columns as ``spec`` says.

    Source columns the mapping does not use stay in the frame (they become ``extra``).
    """
    notices: list[Notice] = []
    by_norm = {_norm(c): c for c in frame.columns if not c.startswith("_")}
    if spec.where:
        frame, skipped = _where(frame, spec, by_norm)
        if skipped:
            detail = "; ".join(f"{k} ∉ {', '.join(v)}" for k, v in spec.where.items())
            notices.append(("skipped_where", {"n": skipped, "detail": detail}))
    if spec.unpivot is not None:
        frame = _unpivot(frame, spec.unpivot)
        by_norm = {_norm(c): c for c in frame.columns if not c.startswith("_")}
    for canon, fields in spec.ids.items():
        if _pick(by_norm, spec.accepted(canon)) is None:
            have = [
                ROW_FIELD if f == ROW_TOKEN else by_norm[_norm(f)]
                for f in fields
                if f == ROW_TOKEN or _norm(f) in by_norm
            ]
            if have:
                name = f"__id_{canon}"
                frame = _ids(frame, name, have)
                by_norm[_norm(name)] = name
                spec = _with_column(spec, canon, name)
                notices.append(("generated_ids", {"col": canon, "fields": ", ".join(have)}))
    chosen: dict[str, str] = {}
    for canon, sources in spec.columns.items():
        hit = _pick(by_norm, sources)
        if hit is not None:
            chosen[canon] = hit
    canonical = set(table(spec.table).column_names)
    for c in frame.columns:
        if c in canonical and c not in chosen and c not in spec.constants:
            chosen[c] = c
    # A column read through a value map (e.g. the CRM's stage name) also stays as it was, in extra.
    mapped = {chosen[k] for k in spec.values if k in chosen}
    flags = {k: hit for k, srcs in spec.outcome.items() if (hit := _pick(by_norm, srcs))}
    used = (set(chosen.values()) - mapped) | set(flags.values())
    rest = [
        pl.col(c).alias(f"{c}_source" if c in canonical else c)
        for c in frame.columns
        if c not in used and not c.startswith("_")
    ]
    consts = [pl.lit(v, pl.String).alias(k) for k, v in spec.constants.items() if k not in chosen]
    out = frame.select(
        [pl.col(src).alias(canon) for canon, src in chosen.items()]
        + rest
        + consts
        + [pl.col(c) for c in frame.columns if c.startswith("_")]
        + [pl.col(src).alias(f"__flag_{k}") for k, src in flags.items()]
    )
    if flags:
        out, n = _outcome(out, flags)
        notices.append(("outcome_flags", {"n": n, "cols": ", ".join(flags.values())}))
    filled = [
        pl.when(pl.col(k).is_null() | (pl.col(k).str.strip_chars() == ""))
        .then(pl.lit(v))
        .otherwise(pl.col(k))
        .alias(k)
        for k, v in spec.defaults.items()
        if k in out.columns
    ]
    out = out.with_columns(filled)
    if spec.distinct:
        keep = [*chosen, *(k for k in spec.constants if k not in chosen)]
        out = out.group_by(keep, maintain_order=True).agg(pl.col("_row").min()).sort("_row")
    names = {
        canon: src for canon, src in chosen.items() if canon != src and not src.startswith("__")
    }
    return Applied(
        out, names, frozenset(k for k in spec.constants if k not in chosen), tuple(notices)
    )


def _with_column(spec: FileSpec, canon: str, source: str) -> FileSpec:
    return replace(spec, columns={**spec.columns, canon: (source,)})


def _outcome(out: pl.DataFrame, flags: dict[str, str]) -> tuple[pl.DataFrame, int]:
    """Status from the won/closed flags where they are readable (they win over stage names)."""
    won = _flag("__flag_won") if "won" in flags else pl.lit(None, pl.Boolean)
    closed = _flag("__flag_closed") if "closed" in flags else pl.lit(None, pl.Boolean)
    status = (
        pl.when(won.eq(True))
        .then(pl.lit("won"))
        .when(closed.eq(True))
        .then(pl.lit("lost"))
        .when(closed.eq(False))
        .then(pl.lit("open"))
    )
    decided = out.select(status.is_not_null().sum()).item()
    current = pl.col("status") if "status" in out.columns else pl.lit(None, pl.String)
    out = out.with_columns(pl.coalesce(status, current).alias("status"))
    return out.drop([c for c in out.columns if c.startswith("__flag_")]), int(decided)
