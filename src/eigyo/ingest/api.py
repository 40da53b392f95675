"""``import_path``: plan which file feeds which table, read, map, validate, then load atomically.

One transaction covers the whole import: files are read and validated (big CSVs block by block
into Parquet spool files, :mod:`eigyo.ingest.stream`), then written (:mod:`eigyo.ingest.load`).
Errors that concern the whole import — a missing required file or column, an unreadable file,
``strict`` with rejected rows — raise :class:`InputError` and roll that transaction back, so the
workspace is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.ingest import limits, stream
from eigyo.ingest import mapping as mp
from eigyo.ingest.garbled_guard import refuse_garbled
from eigyo.ingest.import_report import FileReport, ImportReport, Problem, notice_text, reason_text
from eigyo.ingest.layout import header_line
from eigyo.ingest.load import Progress, Staged, ensure_meta, load
from eigyo.ingest.lookup import apply_lookups
from eigyo.ingest.readers import (
    PEEK_BYTES,
    SUFFIXES,
    RawTable,
    ReadOptions,
    peek_headers,
    read_file,
    sniff_delimiter,
)
from eigyo.ingest.stream import (
    Stage,
    bounded_memory,
    csv_blocks,
    frame_blocks,
    streamable,
    sweep_leftovers,
)
from eigyo.ingest.validate import ROW, Checked, Rules, check
from eigyo.ingest.values import Notice
from eigyo.schema import TABLES, Table, table
from eigyo.workspace import Workspace

_EXAMPLES_PER_REASON = 1
#: Default of ``max_reject_rate``: an import rejecting more than this share of its rows is
#: refused (the mapping or the file is probably wrong); ``--max-reject-rate 1`` accepts any.
MAX_REJECT_RATE = 0.5


@dataclass(frozen=True)
class Job:
    """One file to read and the table (and mapping entry, if any) it feeds."""

    path: Path
    table: Table
    spec: mp.FileSpec | None = None
    raw: RawTable | None = None  # already read (to choose the entry by its header)


def _canonical_file(folder: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        p = folder / f"{name}{suffix}"
        if p.is_file():
            return inside(folder, p)
    return None


def inside(folder: Path, p: Path) -> Path:
    """``p`` when it lies in ``folder`` once links are followed; a symbolic link (of the file or
    a folder on its way) that leads out of ``folder`` is refused before anything is read.

    An import folder is what a person chose to load; a link in it to ``/etc/shadow`` or another
    user's files is not, and a refused import must not print a line of what it points to.
    """
    real, root = p.resolve(), folder.resolve()
    if real != root and root not in real.parents:
        raise InputError(key="input.symlink.outside", path=p.name, target=str(real))
    return p


def _plan_canonical(path: Path) -> list[Job]:
    """A folder of ``<table>.csv`` files, or one such file."""
    if path.is_file():
        if path.stem not in {t.name for t in TABLES}:
            raise InputError(
                f"{path.name}: not a canonical file name. Name it after a table "
                f"({', '.join(t.name for t in TABLES)}) or use --preset / --mapping."
            )
        return [Job(path, table(path.stem))]
    jobs = [Job(p, t) for t in TABLES if (p := _canonical_file(path, t.name)) is not None]
    missing = [
        t.name for t in TABLES if t.required_file and t.name not in {j.table.name for j in jobs}
    ]
    if missing:
        raise InputError(
            f"{path}: required file(s) missing: {', '.join(m + '.csv' for m in missing)} "
            f"(.csv, .xlsx or .parquet). Found: {', '.join(j.path.name for j in jobs) or 'none'}."
        )
    return jobs


def _peek_options(spec: mp.MappingSpec) -> ReadOptions:
    """How to read a file's header before knowing its entry: the entry's own layout when there is
    one ``*`` entry, else as a report if any ``*`` entry is one."""
    wild = [f for f in spec.files if f.match == "*"]
    if len(wild) == 1:
        return wild[0].read_options
    return ReadOptions(report=any(f.report for f in wild))


def _headers(
    path: Path, spec: mp.MappingSpec, encoding: str | None, sheet: str | None
) -> list[str]:
    """The header of a file no entry names, read once from its start."""
    return peek_headers(path, encoding=encoding, sheet=sheet, options=_peek_options(spec))


def _wild_jobs(path: Path, spec: mp.MappingSpec, headers: list[str]) -> list[Job]:
    """The jobs for a file no entry names: the ``*`` entry that fits its header best, and the
    entries that read such a file alongside it."""
    best = spec.best_wild(headers)
    if best is None:
        return []
    entries = [best, *spec.companions(best, headers)]
    return [Job(path, table(e.table), e) for e in entries]


def _no_entry(path: Path, spec: mp.MappingSpec, headers: list[str]) -> InputError:
    """Which columns would have made the file fit: each ``*`` entry's required headers."""
    needs = []
    for f in spec.files:
        if f.match != "*":
            continue
        req = [c.name for c in table(f.table).columns if c.required]
        needs.append(f"{f.table}: " + "; ".join(" / ".join(f.accepted(c)[:3]) for c in req))
    return InputError(
        key="ingest.error.no_entry",
        file=path.name,
        origin=spec.origin,
        headers=", ".join(headers[:30]),
        needs=" | ".join(needs) or "-",
    )


def _plan_mapped(
    path: Path, spec: mp.MappingSpec, encoding: str | None, sheet: str | None
) -> tuple[list[Job], list[str]]:
    """Files matched by a mapping's entries (a file no entry names may fit a ``*`` entry by its
    header) and the names of the files in the folder that fit none (reported, not read)."""
    if path.is_file():
        entries = [f for f in spec.files if f.match != "*" and path.match(f.match)]
        if entries:
            return [Job(path, table(e.table), e) for e in entries], []
        # one export, several possible tables: the entry whose columns the file has most of
        headers = _headers(path, spec, encoding, sheet)
        found = _wild_jobs(path, spec, headers)
        if found:
            return found, []
        closest = spec.closest_wild(headers)
        if closest is None:
            raise _no_entry(path, spec, headers)
        return [Job(path, table(closest.table), closest)], []
    jobs: list[Job] = []
    claimed: set[Path] = set()
    for e in spec.files:
        hits = sorted(inside(path, h) for h in path.glob(e.match)) if e.match != "*" else []
        jobs += [Job(p, table(e.table), e) for p in hits if p.suffix.lower() in SUFFIXES]
        claimed |= set(hits)
    skipped: list[str] = []
    if any(f.match == "*" for f in spec.files):
        for p in sorted(path.iterdir()):
            if p in claimed or not p.is_file() or p.suffix.lower() not in SUFFIXES:
                continue
            inside(path, p)
            found = _wild_jobs(p, spec, _headers(p, spec, encoding, sheet))
            if not found:
                skipped.append(p.name)
            jobs += found
    if not jobs:
        raise InputError(
            key="ingest.error.no_file_matches",
            path=str(path),
            origin=spec.origin,
            matches=", ".join(f.match for f in spec.files),
            skipped=", ".join(skipped) or "-",
        )
    return jobs, skipped


def _read(
    job: Job, encoding: str | None, sheet: str | None
) -> tuple[RawTable, Rules, list[Notice]]:
    """Read one file and apply its mapping entry; check the required columns are there."""
    options = job.spec.read_options if job.spec is not None else None
    raw = job.raw or read_file(job.path, encoding=encoding, sheet=sheet, options=options)
    return _mapped(job, raw, encoding)


def _mapped(job: Job, raw: RawTable, encoding: str | None) -> tuple[RawTable, Rules, list[Notice]]:
    """Apply the job's mapping entry to ``raw``; check the required columns are there."""
    spec = job.spec
    rules = Rules()
    notices: list[Notice] = [(f"skipped_{k}", {"n": n}) for k, n in raw.skipped.items()]
    notices += raw.notices
    headers = [c for c in raw.frame.columns if not c.startswith("_")]
    if spec is not None:
        frame = _join(raw.frame, job.path, spec, encoding)
        if spec.lookups:
            frame = apply_lookups(frame, job.path, spec.lookups, encoding)
        applied = mp.apply(frame, spec)
        raw.frame = applied.frame
        notices += list(applied.notices)
        rules = Rules(
            formats=dict(spec.formats),
            values=dict(spec.values),
            source_names=applied.source_names,
            constants=applied.constants,
            fallbacks={k: (f.source, dict(f.when)) for k, f in spec.fallbacks.items()},
        )
    absent = [c.name for c in job.table.columns if c.required and c.name not in raw.frame.columns]
    if absent:
        raise _missing_columns(job, absent, headers)
    return raw, rules, notices


def _missing_columns(job: Job, absent: list[str], headers: list[str]) -> InputError:
    """Name the missing column, the headers that would have supplied it, and the file's header
    most like one of them (``Created Dat`` → ``Created Date``)."""
    accepted: list[str] = []
    for col in absent:
        accepted += list(job.spec.accepted(col)) if job.spec is not None else [col]
    near = None
    for h in headers:
        hit = mp.nearest(h, accepted)
        if hit is not None:
            near = f"'{h}' → '{hit}'"
            break
    return InputError(
        key="ingest.error.missing_column",
        file=job.path.name,
        cols=", ".join(absent),
        table=job.table.name,
        accepted=", ".join(f"'{a}'" for a in dict.fromkeys(accepted)),
        near=near or "-",
        have=", ".join(headers),
    )


def _join(frame: pl.DataFrame, path: Path, spec: mp.FileSpec, enc: str | None) -> pl.DataFrame:
    """Add the columns of another file by a key that is unique there (row count unchanged)."""
    if spec.join is None:
        return frame
    joined = inside(path.parent, path.parent / spec.join.file)
    other = read_file(joined, encoding=enc).frame.drop(ROW)
    right = spec.join.right_on or spec.join.on
    if other.get_column(right).is_duplicated().any():
        raise InputError(f"{spec.join.file}: column {right} must be unique to join on it")
    other = other.select(right, *(c for c in other.columns if c not in frame.columns))
    return frame.join(
        other, left_on=spec.join.on, right_on=right, how="left", maintain_order="left"
    )


def _reasons_en(checked: Checked) -> pl.DataFrame:
    """Rejects plus the English reason text (one Python call per distinct reason, not per row)."""
    rej = checked.rejects
    if rej.is_empty():
        return rej.with_columns(pl.lit(None, pl.String).alias("reason"))
    combos = rej.select("code", "value", "detail").unique()
    texts = [reason_text(c, v, d, "en") for c, v, d in combos.iter_rows()]
    combos = combos.with_columns(pl.Series("reason", texts, dtype=pl.String))
    return rej.join(combos, on=["code", "value", "detail"], how="left", nulls_equal=True)


def _merge(notices: list[Notice]) -> list[dict[str, object]]:
    """Notices of one file (from its blocks) as report entries: same code and column → one entry
    with the counts added and the value lists joined."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for code, detail in notices:
        key = (code, str(detail.get("col", "")))
        if key not in out:
            out[key] = {"code": code, **detail}
            continue
        have = out[key]
        for k in ("n", "k"):
            if isinstance(detail.get(k), int):
                have[k] = int(have.get(k, 0)) + int(detail[k])  # type: ignore[call-overload]
    return list(out.values())


def _stage(job: Job, checked: Checked, encoding: str | None) -> Staged:
    rej = checked.rejects
    key = pl.when(pl.col("column") == "").then(pl.col("code"))
    reasons = rej.group_by(key.otherwise(pl.format("{}: {}", "column", "code")).alias("r")).len()
    examples = rej.unique(["column", "code"], keep="first", maintain_order=True)
    report = FileReport(
        file=job.path.name,
        table=job.table.name,
        rows=checked.rows,
        loaded=checked.good.height,
        rejected=rej.height,
        encoding=encoding,
        reasons=dict(zip(reasons["r"].to_list(), reasons["len"].to_list(), strict=True)),
        examples=[
            Problem(job.path.name, r["row"], r["column"], r["value"], r["code"], r["detail"] or "")
            for r in examples.head(20).iter_rows(named=True)
        ],
    )
    report.notices = _merge(checked.notices)
    reps_from = job.spec.reps_from if job.spec is not None else ()
    return Staged(report, job.table, checked.good, rej, _reasons_en(checked), reps_from=reps_from)


def _malformed(raw: RawTable) -> pl.DataFrame:
    """Rows the reader could not split into the header's columns, as rejects."""
    rows = raw.malformed
    return pl.DataFrame(
        {
            "row": [r[0] for r in rows],
            "column": [""] * len(rows),
            "value": [r[1] for r in rows],
            "code": ["malformed"] * len(rows),
            "detail": [r[2] for r in rows],
            "problems": ["malformed"] * len(rows),
            "record": [None] * len(rows),
        },
        schema_overrides={"row": pl.Int64, "record": pl.String},
    )


class RefusedImport(InputError):
    """An import refused as a whole, with the lines that say why in either language."""

    def __init__(self, head: tuple[str, dict[str, object]], staged: list[Staged]) -> None:
        self.head, self.staged = head, staged
        super().__init__(self.localized("en"))

    def localized(self, lang: str) -> str:
        lines = [t(self.head[0], lang, **self.head[1])]
        for s in self.staged:
            lines += [f"  {p.message(lang)}" for p in s.report.examples[:5]]
            lines += [
                f"  {s.report.file}: {notice_text(n, lang)}"
                for n in s.report.notices
                if n["code"] == "unmatched_values"
            ]
        return "\n".join(lines)


def _strict_error(staged: list[Staged], lang: str = "en") -> InputError:
    n = sum(s.report.rejected for s in staged)
    unmatched = sum(
        int(x.get("n", 0))
        for s in staged
        for x in s.report.notices
        if x["code"] == "unmatched_values"
    )
    if n:
        return RefusedImport(("ingest.strict.refused", {"n": f"{n:,}"}), staged)
    return RefusedImport(("ingest.strict.unmatched", {"n": f"{unmatched:,}"}), staged)


def _refusal(staged: list[Staged], max_reject_rate: float) -> InputError | None:
    """Nothing loaded, or more rejected than ``max_reject_rate`` of the rows read: refused."""
    rows = sum(s.report.rows for s in staged)
    rejected = sum(s.report.rejected for s in staged)
    loaded = sum(s.report.loaded for s in staged)
    files = ", ".join(s.report.file for s in staged)
    if loaded == 0:
        return RefusedImport(
            ("ingest.error.nothing_loaded", {"rows": f"{rows:,}", "files": files}), staged
        )
    if rows and rejected / rows > max_reject_rate:
        share = f"{rejected / rows:.1%}"
        limit = f"{max_reject_rate:.0%}"
        return RefusedImport(
            (
                "ingest.error.too_many_rejects",
                {"n": f"{rejected:,}", "rows": f"{rows:,}", "share": share, "limit": limit},
            ),
            staged,
        )
    return None


def import_path(
    ws: Workspace,
    path: Path,
    *,
    preset: str | None = None,
    mapping: Path | None = None,
    encoding: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    sheet: str | None = None,
    lang: str = "en",
    max_reject_rate: float = MAX_REJECT_RATE,
) -> ImportReport:
    """Import a folder of canonical files, or files mapped by a preset or mapping file.

    Every row read is either loaded or rejected with its reason; the workspace changes in one
    transaction. With ``strict`` any rejected row, or any value read through a value map's
    ``"*"``, refuses the whole import (nothing changes). An import that loads nothing, or rejects
    more than ``max_reject_rate`` of its rows, is refused too.

    Every file is read within the workspace's limits (``[import]``, :mod:`eigyo.ingest.limits`),
    and an import that would replace rows with garbled text is refused (:func:`_garbled`).
    """
    with limits.in_force(ws.settings.import_limits):
        return _import_path(
            ws,
            path,
            preset=preset,
            mapping=mapping,
            encoding=encoding,
            strict=strict,
            progress=progress,
            sheet=sheet,
            lang=lang,
            max_reject_rate=max_reject_rate,
        )


def _import_path(
    ws: Workspace,
    path: Path,
    *,
    preset: str | None,
    mapping: Path | None,
    encoding: str | None,
    strict: bool,
    progress: Progress | None,
    sheet: str | None,
    lang: str,
    max_reject_rate: float,
) -> ImportReport:
    if not path.exists():
        raise InputError(key="ingest.error.not_found", path=str(path))
    if not 0 <= max_reject_rate <= 1:
        raise InputError(key="ingest.error.bad_rate", value=max_reject_rate)
    started = datetime.now()
    spec = mp.load_mapping(mapping) if mapping else mp.load_preset(preset) if preset else None
    skipped_files: list[str] = []
    log_notices: list[dict[str, str]] = []  # what reading an event log decided (xes.Note)
    if spec is not None and spec.name == "xes":  # event log: one file feeds three tables
        from eigyo.ingest.xes import plan

        parts = plan(path, spec, ws.settings, encoding, sheet)
        jobs = [Job(path, table(entry.table), entry, raw) for entry, raw in parts]
        log_notices = [n.as_notice() for n in parts.notes]
    elif spec is not None:
        jobs, skipped_files = _plan_mapped(path, spec, encoding, sheet)
    else:
        jobs = _plan_canonical(path)
    sizes = [_size(j.path) for j in jobs]
    total, done = sum(sizes), 0
    streams = [_stream_encoding(job, jobs, encoding) for job in jobs]
    # outside the transaction: the limit is restored after COMMIT or ROLLBACK
    sweep_leftovers(ws.raw)
    bounded = bounded_memory(ws.raw) if any(streams) else nullcontext()
    with bounded, ws.transaction() as con:
        ensure_meta(con)
        staged: list[Staged] = []
        try:
            for i, job in enumerate(jobs):
                if progress:
                    progress(job.path.name, done, total)
                streamed = streams[i]
                if streamed:
                    tick = _ticker(progress, job.path.name, done, total)
                    staged.append(_stage_stream(con, job, i, streamed, ws.settings.timezone, tick))
                else:
                    staged.append(_stage_whole(job, encoding, sheet, ws.settings.timezone))
                done += sizes[i]
            if progress and jobs:
                progress(jobs[-1].path.name, total, total)
            _cross_file_duplicates(staged)
            if staged and log_notices:
                staged[0].report.notices += log_notices
            unmatched = any(
                n["code"] == "unmatched_values" for s in staged for n in s.report.notices
            )
            if strict and (unmatched or any(s.report.rejected for s in staged)):
                raise _strict_error(staged, lang)
            refused = _refusal(staged, max_reject_rate)
            if refused is not None:
                raise refused
            for st in staged:
                refuse_garbled(con, st)
            report = load(
                con,
                staged,
                source=str(path),
                started_at=started,
                progress=progress,
                strict=strict,
                skipped_files=skipped_files,
            )
            return report
        finally:  # spooled files are read by the load: removed only now (also on failure)
            for st in staged:
                if st.stage is not None:
                    st.stage.discard()


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _ticker(progress: Progress | None, name: str, base: int, total: int) -> Callable[[int], None]:
    def tick(n: int) -> None:
        if progress:
            progress(name, base + n, total)

    return tick


def _stage_whole(job: Job, encoding: str | None, sheet: str | None, tz: str) -> Staged:
    """Read, map and validate one file in memory."""
    raw, rules, notices = _read(job, encoding, sheet)
    rules = replace(rules, tz=tz)
    checked = check(raw.frame, job.table, rules)
    checked.notices = notices + checked.notices
    if raw.malformed:
        checked.rejects = pl.concat([checked.rejects, _malformed(raw)]).sort("row")
        checked.rows += len(raw.malformed)
    return _stage(job, checked, raw.encoding)


def _stream_encoding(job: Job, jobs: list[Job], encoding: str | None) -> str | None:
    """Stream a big CSV that alone feeds its table (cross-file duplicates need it in memory).

    A big table already in memory (an event log's events) is validated in blocks too; its
    "encoding" is the one it was read with.
    """
    if sum(j.table.name == job.table.name for j in jobs) > 1:
        return None
    opts = job.spec.read_options if job.spec is not None else ReadOptions()
    if opts.header is not None or opts.delimiter is not None:
        return None  # a layout the block reader does not know (no header row, blanks)
    if job.raw is not None:
        big = job.raw.frame.height > stream.FRAME_BLOCK_ROWS
        return (job.raw.encoding or "utf-8") if big else None
    enc = streamable(job.path, encoding)
    if enc is not None and opts.report and not _header_first(job.path, enc):
        return None  # title rows above the header: read whole, as a report
    return enc


def _header_first(path: Path, enc: str) -> bool:
    """Whether a big export of a report preset starts with its header (a Data Export file, not a
    formatted report with title rows), so it can be streamed in blocks."""
    with path.open("rb") as f:
        head = f.read(PEEK_BYTES)
    head = head[: head.rfind(b"\n") + 1] or head
    text = head.decode(enc, errors="replace")
    return header_line(text, sniff_delimiter(text)) == 0


def _stage_stream(
    con: duckdb.DuckDBPyConnection, job: Job, i: int, enc: str, tz: str, tick: Callable[[int], None]
) -> Staged:
    """Validate a big CSV (or big table in memory) block by block, its valid rows spooled to
    Parquet (:class:`Stage`).

    The spooled files are removed by ``import_path`` after the load; here only when this file
    fails.
    """
    stage = Stage(con, f"__eigyo_stage_{i}")
    rejects: list[pl.DataFrame] = []
    notices: list[Notice] = []
    rows, empty = 0, pl.DataFrame()
    if job.raw is not None:
        blocks = frame_blocks(job.raw, _size(job.path))
    else:
        blocks = csv_blocks(job.path, enc)
    try:
        for block in blocks:
            raw, rules, found = _mapped(job, block.raw, enc)
            rules = replace(rules, tz=tz)
            checked = check(raw.frame, job.table, rules)
            notices += found + checked.notices
            if raw.malformed:
                checked.rejects = pl.concat([checked.rejects, _malformed(raw)])
                checked.rows += len(raw.malformed)
            stage.append(checked.good)
            empty = checked.good.clear()
            rejects.append(checked.rejects)
            rows += checked.rows
            tick(block.bytes_done)
        dups = stage.duplicates(job.table)
        if not dups.is_empty():
            rejects.append(dups.cast(rejects[0].schema))
        all_rejects = pl.concat(rejects).sort("row") if rejects else _malformed(RawTable(empty))
        st = _stage(job, Checked(empty, all_rejects, rows, notices), enc)
    except BaseException:  # a staging table goes with the transaction's rollback
        stage.discard()
        raise
    st.report.loaded = stage.rows
    st.stage = stage
    return st


def _cross_file_duplicates(staged: list[Staged]) -> None:
    """Two files feeding one table: a key already loaded from an earlier file is a duplicate."""
    seen: dict[str, list[Staged]] = {}
    for st in staged:
        earlier = seen.setdefault(st.table.name, [])
        if earlier and st.table.key:
            keys = list(st.table.key)
            prev = pl.concat([e.good.select(keys) for e in earlier]).unique()
            dup = st.good.join(prev, on=keys, how="semi")
            if not dup.is_empty():
                _move_to_rejects(st, dup, keys, earlier[0].report.file)
        earlier.append(st)


def _move_to_rejects(st: Staged, dup: pl.DataFrame, keys: list[str], first_file: str) -> None:
    st.good = st.good.join(dup.select(ROW), on=ROW, how="anti")
    extra = dup.select(
        pl.col(ROW).alias("row"),
        pl.lit(",".join(keys)).alias("column"),
        pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator=", ").alias("value"),
        pl.lit("duplicate_file").alias("code"),
        pl.lit(first_file).alias("detail"),
        pl.lit(f"{','.join(keys)}:duplicate_file:{first_file}").alias("problems"),
        pl.struct(pl.exclude(ROW)).struct.json_encode().alias("record"),
    )
    checked = Checked(st.good, pl.concat([st.rejects, extra]).sort("row"), st.report.rows)
    notices = st.report.notices
    new = _stage(Job(Path(st.report.file), st.table), checked, st.report.encoding)
    st.report.notices = notices
    st.report.loaded, st.report.rejected = new.report.loaded, new.report.rejected
    st.report.reasons, st.report.examples = new.report.reasons, new.report.examples
    st.rejects, st.reasons_en = new.rejects, new.reasons_en
