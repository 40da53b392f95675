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
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from eigyo.errors import InputError
from eigyo.schema import TABLES_BY_NAME, table


@dataclass(frozen=True)
class Join:
    file: str
    on: str
    right_on: str | None = None


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

    def score(self, headers: list[str]) -> int:
        """How many of this entry's columns a file with ``headers`` provides."""
        have = {_norm(h) for h in headers}
        return sum(any(_norm(s) in have for s in srcs) for srcs in self.columns.values())


@dataclass(frozen=True)
class MappingSpec:
    name: str
    files: tuple[FileSpec, ...]
    origin: str

    def for_file(self, path: Path, headers: list[str]) -> FileSpec | None:
        """The entry for one file: by name or glob, or by the best header match for ``*``."""
        named = [f for f in self.files if f.match != "*" and fnmatch.fnmatch(path.name, f.match)]
        if named:
            return named[0]
        wild = [f for f in self.files if f.match == "*"]
        return max(wild, key=lambda f: f.score(headers), default=None)


def _norm(name: str) -> str:
    return name.strip().lower()


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(f"{where}: expected a text or a list of texts, got {value!r}")


def _file_spec(raw: dict[str, Any], where: str) -> FileSpec:
    """Validate one ``[[files]]`` entry, naming the key and what is allowed."""
    name = raw.get("table")
    if name not in TABLES_BY_NAME:
        raise InputError(
            f"{where}.table: {name!r} is not a canonical table. "
            f"Use one of {', '.join(TABLES_BY_NAME)}."
        )
    known = set(table(name).column_names)
    for key in ("columns", "constants", "defaults", "formats", "values"):
        unknown = set(raw.get(key, {})) - known
        if unknown:
            raise InputError(
                f"{where}.{key}: {', '.join(sorted(unknown))} not in table {name!r}. "
                f"Columns: {', '.join(table(name).column_names)}"
            )
    join = raw.get("join")
    return FileSpec(
        match=str(raw.get("match", "*")),
        table=name,
        columns={k: _strs(v, f"{where}.columns.{k}") for k, v in raw.get("columns", {}).items()},
        constants={k: str(v) for k, v in raw.get("constants", {}).items()},
        defaults={k: str(v) for k, v in raw.get("defaults", {}).items()},
        formats={k: _strs(v, f"{where}.formats.{k}") for k, v in raw.get("formats", {}).items()},
        values={
            k: {str(a): str(b) for a, b in v.items()} for k, v in raw.get("values", {}).items()
        },
        distinct=bool(raw.get("distinct", False)),
        join=Join(str(join["file"]), str(join["on"]), join.get("right_on")) if join else None,
    )


def parse(text: str, origin: str) -> MappingSpec:
    """Parse and validate a mapping (all of it before any file is read)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{origin}: not valid TOML: {e}") from None
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        raise InputError(f"{origin}: needs at least one [[files]] entry with a table")
    specs = tuple(_file_spec(f, f"{origin} files[{i}]") for i, f in enumerate(files))
    return MappingSpec(str(raw.get("name", Path(origin).stem)), specs, origin)


def load_mapping(path: Path) -> MappingSpec:
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise InputError(f"Mapping file {path} not found") from None


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


def apply(frame: pl.DataFrame, spec: FileSpec) -> Applied:
    """Rename and add columns as ``spec`` says.

    Source columns the mapping does not use stay in the frame (they become ``extra``).
    """
    by_norm = {_norm(c): c for c in frame.columns if not c.startswith("_")}
    chosen: dict[str, str] = {}
    for canon, sources in spec.columns.items():
        hit = next((by_norm[_norm(s)] for s in sources if _norm(s) in by_norm), None)
        if hit is not None:
            chosen[canon] = hit
    canonical = set(table(spec.table).column_names)
    for c in frame.columns:
        if c in canonical and c not in chosen and c not in spec.constants:
            chosen[c] = c
    # A column read through a value map (e.g. the CRM's stage name) also stays as it was, in extra.
    mapped = {chosen[k] for k in spec.values if k in chosen}
    used = set(chosen.values()) - mapped
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
    )
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
    names = {canon: src for canon, src in chosen.items() if canon != src}
    return Applied(out, names, frozenset(k for k in spec.constants if k not in chosen))
