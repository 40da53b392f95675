"""``lookups``: a column taken from another file of the same export, one row per key chosen by rule.

Why: some facts a canonical row needs live in other objects of the export. Salesforce keeps a
lead's campaigns as CampaignMember rows (many per lead) and the campaign's name on Campaign; a
Data Export or a Data Loader folder holds all three files, and ``leads.campaign`` is one name.
``join`` cannot do it (it needs a file name and a key unique there); a lookup finds the other file
in the same folder by the headers it ``needs``, whatever its name, and when several rows share a
key keeps the ``first`` by an explicit order — an attribution rule written in the mapping, where a
person can read it, not buried in code. Lookups run in order, so one can read the column an
earlier one added (CampaignMember → campaign id, then Campaign → its name)::

    [[files.lookups]]
    into = "_campaign_id"                  # the column added ("_": not kept in ``extra``)
    needs = ["CampaignId", "LeadId", "HasResponded"]
    on = "Id"                              # this file's column …
    key = "LeadId"                         # … matched with the other file's
    value = "CampaignId"                   # the other file's column copied
    first = ["HasResponded desc", "FirstRespondedDate", "CreatedDate", "Id"]

Blank cells sort last. A file the folder lacks leaves ``into`` as it was (a lead export read on its
own keeps its own campaign column); where ``into`` already exists, a found value replaces it and a
missing one keeps it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from eigyo.errors import InputError
from eigyo.ingest.readers import SUFFIXES, peek_headers, read_file

#: Keys of one ``[[files.lookups]]`` table.
LOOKUP_KEYS = ("into", "needs", "on", "key", "value", "first")


@dataclass(frozen=True)
class Lookup:
    """One column of another file, by key; ``first`` orders the rows that share a key."""

    into: str
    needs: tuple[str, ...]
    on: str
    key: str
    value: str
    first: tuple[str, ...] = ()


def parse_lookups(raw: Any, where: str) -> tuple[Lookup, ...]:
    """``lookups`` of a ``[[files]]`` entry, validated before any file is read."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items):
        at = f"{where}.lookups[{i}]"
        table = item if isinstance(item, dict) else {}
        unknown = sorted(set(table) - set(LOOKUP_KEYS)) if table is item else [repr(item)]
        missing = [k for k in ("into", "needs", "on", "key", "value") if k not in table]
        if not isinstance(raw, list) or unknown or missing:
            raise InputError(
                key="ingest.mapping.bad_lookup",
                where=at,
                keys=", ".join(LOOKUP_KEYS),
                unknown=", ".join(unknown) or "-",
                missing=", ".join(missing) or "-",
            )
        needs = item["needs"] if isinstance(item["needs"], list) else [item["needs"]]
        first = item.get("first", [])
        out.append(
            Lookup(
                into=str(item["into"]),
                needs=tuple(str(n) for n in needs),
                on=str(item["on"]),
                key=str(item["key"]),
                value=str(item["value"]),
                first=tuple(str(f) for f in (first if isinstance(first, list) else [first])),
            )
        )
    return tuple(out)


def _norm(name: str) -> str:
    return name.strip().lower()


@functools.lru_cache(maxsize=4)
def _read(path: str, stamp: tuple[int, int], encoding: str | None) -> pl.DataFrame:
    """The other file, read once per import (a big lead file is mapped in blocks)."""
    return read_file(Path(path), encoding=encoding).frame


def _other(path: Path, lookup: Lookup, encoding: str | None) -> pl.DataFrame | None:
    """The first other file of ``path``'s folder whose header has every column ``needs``."""
    want = {_norm(n) for n in lookup.needs}
    for p in sorted(path.parent.iterdir()):
        if p == path or not p.is_file() or p.suffix.lower() not in SUFFIXES:
            continue
        try:
            have = {_norm(h) for h in peek_headers(p, encoding=encoding)}
        except InputError:
            continue
        if want <= have:
            st = p.stat()
            return _read(str(p), (st.st_mtime_ns, st.st_size), encoding)
    return None


def _col(frame: pl.DataFrame, name: str) -> str | None:
    return next((c for c in frame.columns if _norm(c) == _norm(name)), None)


def _blank_null(name: str) -> pl.Expr:
    text = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).alias(name)


def _one(frame: pl.DataFrame, path: Path, lookup: Lookup, encoding: str | None) -> pl.DataFrame:
    on = _col(frame, lookup.on)
    other = _other(path, lookup, encoding) if on is not None else None
    if other is None or on is None:
        return frame
    key, value = _col(other, lookup.key), _col(other, lookup.value)
    order = [(f.rsplit(" ", 1)[0], f.lower().endswith(" desc")) for f in lookup.first]
    cols = [(name, _col(other, name), desc) for name, desc in order]
    if key is None or value is None or any(c is None for _, c, _ in cols):
        return frame
    by = [c for _, c, _ in cols if c is not None]
    picked = (
        other.select([_blank_null(c) for c in dict.fromkeys([key, value, *by])])
        .filter(pl.col(key).is_not_null())
        .sort(by or key, descending=[d for _, _, d in cols] or False, nulls_last=True)
        .unique(subset=key, keep="first", maintain_order=True)
        .select(pl.col(key).alias("__lookup_key"), pl.col(value).alias("__lookup_value"))
    )
    joined = frame.with_columns(_blank_null(on).alias("__lookup_on")).join(
        picked, left_on="__lookup_on", right_on="__lookup_key", how="left", maintain_order="left"
    )
    into = _col(frame, lookup.into) or lookup.into
    found = pl.col("__lookup_value")
    if into in frame.columns:
        found = pl.coalesce(found, pl.col(into).cast(pl.String))
    return joined.with_columns(found.alias(into)).drop("__lookup_on", "__lookup_value")


def apply_lookups(
    frame: pl.DataFrame, path: Path, lookups: tuple[Lookup, ...], encoding: str | None
) -> pl.DataFrame:
    """``frame`` (read from ``path``) with each lookup's column added, in order."""
    for lookup in lookups:
        frame = _one(frame, path, lookup, encoding)
    return frame
