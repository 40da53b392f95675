"""Hostile and unlucky input (issue 19): every probe of the import side as a standing test.

Each test writes its hostile file in ``tmp_path`` and asserts one clear ``EigyoError`` (or a
row-level reject or notice) and an unchanged workspace — never a traceback, a silent guess or a
gigabyte of memory. Bombs are refused from their directory or metadata, so none is ever
expanded here: the zip tests build members of a few MiB, and the limits they trip are lowered
through ``[import]`` in ``eigyo.toml`` where the default would need a big file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import sys
import tempfile
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from charset_normalizer import from_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eigyo import workspace
from eigyo.base.csv_safe import safe_cell, safe_frame
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.errors import EigyoError, InputError, PeriodError, WorkspaceError
from eigyo.ingest import import_path, readers
from eigyo.ingest.encoding import decode
from eigyo.schema import NUMBER_BOUND
from eigyo.workspace import Workspace, db_error

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, rows, snapshot, write

OPP_HEADER = "opportunity_id,owner_rep_id,amount,created_at,status,name\n"


def _limits(ws: Workspace, **limits: int | float) -> Workspace:
    """``ws`` reopened with ``[import]`` limits lowered in its ``eigyo.toml``."""
    cfg = ws.path / "eigyo.toml"
    lines = "".join(f"{k} = {v}\n" for k, v in limits.items())
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"\n[import]\n{lines}", encoding="utf-8")
    ws.close()
    return workspace.open_workspace(ws.path)


def _refused(ws: Workspace, src: Path, key: str, **kw: object) -> EigyoError:
    """Import ``src`` expecting the error ``key``; the workspace must not change."""
    before = snapshot(ws)
    with pytest.raises(EigyoError) as e:
        import_path(ws, src, **kw)  # type: ignore[arg-type]
    assert e.value.key == key, str(e.value)
    assert snapshot(ws) == before
    return e.value


def _cli(args: list[str]) -> tuple[int, str]:
    """Run ``eigyo`` as its script does (:func:`eigyo.cli.main` turns errors into one line)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([*args, "--lang", "en"])
        except SystemExit as e:
            code = int(e.code or 0)
    return code, err.getvalue() + out.getvalue()


def _one_sentence(code: int, output: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output and output.strip().startswith("error:"), output


# --- decompression bombs and sizes -------------------------------------------------------------


def _bomb_xlsx(path: Path, sheet_bytes: int) -> Path:
    """A workbook whose one sheet is ``sheet_bytes`` of repeated row XML (compresses ~1000×).

    Written member by member in 1 MiB pieces, so it never sits in memory whole.
    """
    row = b'<row><c t="inlineStr"><is><t>bomb</t></is></c></row>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(b'<worksheet><dimension ref="A1:A9"/><sheetData>')
            chunk = row * ((1 << 20) // len(row))
            for _ in range(sheet_bytes // len(chunk)):
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")
    return path


def _no_workbook_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("the workbook reader must not be reached")

    monkeypatch.setattr(pl, "read_excel", refuse)


def test_xlsx_bomb_is_refused_by_its_compression_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = new_ws(tmp_path)  # default limits: a 20 MiB sheet that compresses ~1000 times
    src = write(tmp_path / "in", {"opportunities.csv": OPPS})
    _bomb_xlsx(src / "reps.xlsx", 20 << 20)
    assert (src / "reps.xlsx").stat().st_size < 1 << 20
    _no_workbook_reader(monkeypatch)
    err = _refused(ws, src, "input.limits.ratio")
    assert "reps.xlsx" in str(err) and "max_zip_ratio" in str(err)


def test_xlsx_bomb_is_refused_by_its_unzipped_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _limits(new_ws(tmp_path), max_unzipped_bytes=1 << 20)
    src = write(tmp_path / "in", {"opportunities.csv": OPPS})
    _bomb_xlsx(src / "reps.xlsx", 2 << 20)
    _no_workbook_reader(monkeypatch)
    err = _refused(ws, src, "input.limits.unzipped")
    assert "reps.xlsx" in str(err) and "1,048,576" in str(err)


def test_xlsx_that_is_not_a_zip_is_one_message_without_a_path(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.xlsx": b"PK not really a zip", "opportunities.csv": OPPS})
    code, out = _cli(["import", str(src), "--workspace", str(tmp_path / "ws")])
    _one_sentence(code, out)
    assert "reps.xlsx" in out and str(tmp_path) not in out


def test_parquet_with_many_rows_is_refused_from_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _limits(new_ws(tmp_path), max_rows=10_000)
    src = write(tmp_path / "in", {"reps.csv": REPS})
    many = pl.DataFrame({"opportunity_id": pl.repeat("o1", 50_000, eager=True)})
    many.write_parquet(src / "opportunities.parquet")
    assert (src / "opportunities.parquet").stat().st_size < 10_000  # small on disk

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("the rows must not be read")

    monkeypatch.setattr(readers, "_read_parquet", refuse)
    err = _refused(ws, src, "input.limits.rows")
    assert "opportunities.parquet" in str(err) and "50,000" in str(err)


def test_parquet_cells_and_garbage(tmp_path: Path) -> None:
    ws = _limits(new_ws(tmp_path), max_cells=1_000)
    src = write(tmp_path / "in", {"reps.csv": REPS})
    wide = pl.DataFrame({f"c{i}": ["x"] * 100 for i in range(20)})
    wide.write_parquet(src / "opportunities.parquet")
    _refused(ws, src, "input.limits.cells")
    (src / "opportunities.parquet").write_bytes(b"PAR1 nothing here")
    _refused(ws, src, "input.limits.not_parquet")


def test_header_line_over_128_kib_is_one_clear_error(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    header = "rep_id,name,team,role,hire_date," + "x" * (130 << 10)
    src = write(tmp_path / "in", {"reps.csv": header + "\nr1,a,b,closer,2024-04-01,1\n"})
    write(src, {"opportunities.csv": OPPS})
    code, out = _cli(["import", str(src), "--workspace", str(tmp_path / "ws")])
    _one_sentence(code, out)
    assert "reps.csv" in out and "max_header_bytes" in out


def test_field_over_the_limit_names_row_and_column(tmp_path: Path) -> None:
    ws = _limits(new_ws(tmp_path), max_field_bytes=1000)
    long_name = REPS + "r3," + "長" * 400 + ",東京,closer,2024-04-01\n"
    src = write(tmp_path / "in", {"reps.csv": long_name, "opportunities.csv": OPPS})
    err = _refused(ws, src, "input.limits.field")
    assert "row 4" in str(err) and "name" in str(err)


def test_limits_in_eigyo_toml_are_validated(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    cfg = ws.path / "eigyo.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + "\n[import]\nmax_rows = 0\nmax_rowz = 5\n",
        encoding="utf-8",
    )
    ws.close()
    with pytest.raises(WorkspaceError) as e:
        workspace.open_workspace(tmp_path / "ws")
    assert "import.max_rows" in str(e.value) and "import.max_rowz" in str(e.value)


# --- encodings and garbled text ----------------------------------------------------------------

_NAMES = ["山田", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田"]


def _cp932_opportunities(n: int = 20) -> bytes:
    """Opportunities with short Japanese names, mostly ASCII: the file the issue's probe cut."""
    rng = random.Random(0)
    lines = [OPP_HEADER.strip()]
    for i in range(n):
        lines.append(
            f"o{i},r{i % 2 + 1},{rng.randint(1, 99) * 10000},2025-04-01,open,{rng.choice(_NAMES)}"
        )
    return ("\n".join(lines) + "\n").encode("cp932")


def _cut_mid_character(data: bytes) -> bytes:
    """``data`` cut after the lead byte of its last two-byte character."""
    cut = len(data)
    while True:
        cut -= 1
        try:
            data[:cut].decode("cp932")
        except UnicodeDecodeError:
            return data[:cut]


def test_cp932_cut_inside_a_character_is_not_guessed(tmp_path: Path) -> None:
    data = _cp932_opportunities()
    cut = _cut_mid_character(data)
    guess = from_bytes(cut).best()
    assert guess is not None and guess.encoding != "cp932"  # the trap: cp1251, ptcp154 …
    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "good", {"reps.csv": REPS, "opportunities.csv": data}))
    err = _refused(
        ws,
        write(tmp_path / "cut", {"reps.csv": REPS, "opportunities.csv": cut}),
        "input.read.damaged",
    )
    assert "cp932" in str(err) and "--encoding" in str(err) and "opportunities.csv" in str(err)
    sql = "SELECT json_extract_string(extra, '$.name') FROM opportunities"
    names = {r[0] for r in rows(ws, sql)}
    assert names <= set(_NAMES)  # the good names are still there


def test_an_uncertain_guess_names_its_candidates() -> None:
    # Latin bytes: many single-byte encodings read them, each differently
    latin = ("name\n" + "Müller à Köln, déjà vu, ça été\n" * 40).encode("cp1252")
    with pytest.raises(InputError) as e:
        decode(latin, "x.csv")
    assert e.value.key == "input.read.unsure"
    assert "candidates: " in str(e.value) and "--encoding" in str(e.value)
    assert decode(latin, "x.csv", "cp1252")[0].startswith("name\nMüller")
    # Japanese in other encodings is still found: EUC-JP by a certain guess, JIS by its escapes
    jp = "name,city\n" + "".join(
        f"株式会社山田商事{i},東京都千代田区丸の内{i}丁目\n" for i in range(30)
    )
    assert decode(jp.encode("euc-jp"), "e.csv") == (jp, "euc_jis_2004")
    assert decode(jp.encode("iso-2022-jp"), "j.csv") == (jp, "iso2022_jp")


def test_wrong_encoding_that_would_garble_existing_names_stops(tmp_path: Path) -> None:
    data = _cp932_opportunities()
    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "good", {"reps.csv": REPS, "opportunities.csv": data}))
    src = write(tmp_path / "again", {"opportunities.csv": data}) / "opportunities.csv"
    err = _refused(ws, src, "input.garbled.refused", encoding="latin-1")
    assert "extra" in str(err) and "latin-1" in str(err) and "20 existing" in str(err)
    reps = write(tmp_path / "reps", {"reps.csv": REPS.encode("cp932")}) / "reps.csv"
    err = _refused(ws, reps, "input.garbled.refused", encoding="latin-1")
    assert "name" in str(err)


def test_garbled_text_without_rows_to_replace_loads_with_a_notice(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    garbled = _cp932_opportunities().decode("latin-1").encode("utf-8")
    rep = import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": garbled}))
    notes = [n for f in rep.files for n in f.notices if n["code"] == "input.garbled.warned"]
    assert notes and notes[0]["col"] == "extra"


def test_the_encoding_used_is_shown_in_text_and_json(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": _cp932_opportunities()})
    code, out = _cli(["import", str(src), "--workspace", str(tmp_path / "ws")])
    assert code == 0 and "encoding: cp932" in out, out
    code, out = _cli(["import", "report", "--workspace", str(tmp_path / "ws"), "--format", "json"])
    doc = json.loads(out)
    assert {f["file"]: f["encoding"] for f in doc["files"]}["opportunities.csv"] == "cp932"


def test_hidden_characters_reject_ids_and_warn_in_names(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    reps = (
        "rep_id,name,team,role,hire_date\n"
        "r1\u202e,a,t,closer,2024-04-01\n"  # bidi override: looks like r1
        "r\u200b2,b,t,closer,2024-04-01\n"  # zero-width space
        "r1,田\u200b中,t,closer,2024-04-01\n"
        "r2,\u2066佐藤\u2069,t,sdr,2024-04-01\n"
    )
    rep = import_path(ws, write(tmp_path / "in", {"reps.csv": reps, "opportunities.csv": OPPS}))
    reps_report = rep.files[0]
    assert reps_report.reasons == {"rep_id: hidden_chars": 2}
    assert "control, bidi or zero-width" in reps_report.examples[0].message("en")
    warned = [n for n in reps_report.notices if n["code"] == "input.hidden.warned"]
    assert warned == [
        {"code": "input.hidden.warned", "col": "name", "n": 2, "examples": warned[0]["examples"]}
    ]
    assert sorted(r[0] for r in rows(ws, "SELECT rep_id FROM reps")) == ["r1", "r2"]


def test_duplicate_headers_warn_and_nul_bytes_stop(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    dup = (
        "rep_id,name,name,team,role,hire_date\n"
        "r1,a,b,t,closer,2024-04-01\nr2,c,d,t,sdr,2024-04-01\n"
    )
    rep = import_path(ws, write(tmp_path / "dup", {"reps.csv": dup, "opportunities.csv": OPPS}))
    notes = [n for n in rep.files[0].notices if n["code"] == "input.read.duplicate_header"]
    assert notes and notes[0]["cols"] == "name"
    assert rows(ws, "SELECT name FROM reps ORDER BY rep_id") == [("a",), ("c",)]
    nul = REPS.replace("田中", "田\x00中")
    err = _refused(
        ws, write(tmp_path / "nul", {"reps.csv": nul, "opportunities.csv": OPPS}), "input.read.nul"
    )
    assert "line 2" in str(err)


# --- one sentence, never a traceback -----------------------------------------------------------


@pytest.mark.parametrize("text", ["0001-01", "9999-12-01..9999-12-31", "9999-12", "FY9999"])
def test_extreme_periods_are_period_errors(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_extreme_period_in_the_cli_is_one_sentence(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    code, out = _cli(["metrics", "--period", "0001-01", "--workspace", str(tmp_path / "ws")])
    _one_sentence(code, out)


def test_absurd_amounts_are_rejected_with_the_bound(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    values = ["1e308", "inf", "nan", "-1e300", "5", "6", "7", "8"]
    opps = OPP_HEADER + "".join(f"o{i},r1,{v},2025-04-01,open,x\n" for i, v in enumerate(values))
    rep = import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": opps}))
    f = rep.files[1]
    assert (f.loaded, f.rejected) == (4, 4)
    assert f.reasons == {"amount: above_max": 1, "amount: type": 2, "amount: below_min": 1}
    assert rows(ws, "SELECT max(abs(amount)) FROM opportunities")[0][0] <= NUMBER_BOUND


def test_corrupt_or_truncated_workspace_is_one_sentence(tmp_path: Path) -> None:
    header_only = write(
        tmp_path / "in",
        {"reps.csv": "rep_id,name,team,role,hire_date\n", "opportunities.csv": OPP_HEADER},
    )
    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "data", {"reps.csv": REPS, "opportunities.csv": OPPS}))
    ws.close()
    db = tmp_path / "ws" / "eigyo.duckdb"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    code, out = _cli(["import", str(header_only), "--workspace", str(tmp_path / "ws")])
    _one_sentence(code, out)
    assert "eigyo.duckdb" in out and "loaded" not in out
    db.write_bytes(b"not a database")
    with pytest.raises(WorkspaceError) as e:
        workspace.open_workspace(tmp_path / "ws").raw  # noqa: B018 - opening is the test
    assert e.value.key == "input.workspace.corrupt"


def test_read_only_workspace_is_one_sentence(tmp_path: Path) -> None:
    err = db_error(
        tmp_path / "eigyo.duckdb",
        duckdb.IOException('IO Error: Cannot open file "/srv/x/eigyo.duckdb": Permission denied'),
    )
    assert err.key == "input.workspace.read_only" and "/srv/x" not in str(err)
    if os.geteuid() == 0:
        return  # root writes anyway: the mapping above is what a user without rights sees
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS})
    ws_dir = tmp_path / "ws"
    for p in (ws_dir / "eigyo.duckdb", ws_dir):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        code, out = _cli(["import", str(src), "--workspace", str(ws_dir)])
        _one_sentence(code, out)
    finally:
        ws_dir.chmod(0o755)
        (ws_dir / "eigyo.duckdb").chmod(0o644)


# --- formulas and links ------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def test_rejects_csv_neutralizes_formulas(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OPP_HEADER.strip().split(","))
    for i, f in enumerate(FORMULAS):  # amount unreadable: rejected, the formulas kept as read
        w.writerow([f"o{i}", "r1", f, "2025-04-01", "open", f])
    for i in range(10, 16):
        w.writerow([f"o{i}", "r1", "100", "2025-04-01", "open", "fine"])
    bad = buf.getvalue()
    import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": bad}))
    ws.close()
    out = tmp_path / "rejects.csv"
    code, text = _cli(["import", "rejects", "--workspace", str(tmp_path / "ws"), "--out", str(out)])
    assert code == 0, text
    cells = [c for r in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))) for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    for f in FORMULAS:
        assert "'" + f in cells


def test_csv_safe_cells() -> None:
    cells = ("=1", "\tx", "a=b", None, -5, 1.5, "-500000", "-2+3", "+1.5e3", "@A1")
    want = ["'=1", "'\tx", "a=b", "", "-5", "1.5", "-500000", "'-2+3", "+1.5e3", "'@A1"]
    assert [safe_cell(v) for v in cells] == want
    frame = safe_frame(pl.DataFrame({"t": ["@x", "ok", None], "n": [-1, 2, 3]}))
    assert frame.rows() == [("'@x", -1), ("ok", 2), (None, 3)]


def test_symlink_out_of_the_import_folder_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("opportunity_id,TOP-SECRET-LINE\n", encoding="utf-8")
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS})
    (src / "accounts.csv").symlink_to(secret)
    err = _refused(ws, src, "input.symlink.outside")
    assert "accounts.csv" in str(err) and "TOP-SECRET" not in str(err)
    mapped = write(tmp_path / "export", {})
    (mapped / "report.csv").symlink_to(secret)
    err = _refused(ws, mapped, "input.symlink.outside", preset="salesforce")
    assert "TOP-SECRET" not in str(err) + capsys.readouterr().out
    inside = write(tmp_path / "inside", {"real_reps.csv": REPS, "opportunities.csv": OPPS})
    (inside / "reps.csv").symlink_to(inside / "real_reps.csv")
    assert import_path(ws, inside).loaded == 4  # a link within the folder is fine


# --- fuzz: clear error or exact load -----------------------------------------------------------

_HOSTILE = [
    "=1+2",
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-",
    '"',
    "'",
    ",",
    ";",
    "\t",
    "\n",
    "\u202e",
    "\u200b",
    "\x00",
    "\x1b",
    "ã",
    "Â",
    "�",
]
_JAPANESE = list("あいうえおアイウエオ田中営業部株式会社")  # CP932 lead bytes 0x81-0x9F only
_AMOUNTS = ["100", "0", "1e308", "-1e308", "inf", "nan", "-5", "=1+2", "1,000", "", "１２"]
#: What may follow an id: nothing, a control, bidi or zero-width character, a formula.
_ID_TAILS = ["", "", "\u202e", "\u200b", "\x1b", "=x"]
_WS: dict[str, Path] = {}


def _fuzz_ws() -> Workspace:
    """One workspace for every example (each import is compared with the state before it)."""
    if "path" not in _WS:
        root = Path(tempfile.mkdtemp(prefix="eigyo-fuzz-"))
        ws = workspace.init(root / "ws")
        import_path(ws, write(root / "reps", {"reps.csv": REPS, "opportunities.csv": OPPS}))
        ws.close()
        _WS["path"] = root / "ws"
    return workspace.open_workspace(_WS["path"])


@st.composite
def _files(draw: st.DrawFn) -> tuple[bytes, str, list[tuple[str, str, str]]]:
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
    delim = draw(st.sampled_from([",", ";", "\t"]))
    alphabet = _JAPANESE + ["a", "b", " "] + [h for h in _HOSTILE if enc != "cp932" or h.isascii()]
    pieces = st.lists(st.sampled_from(alphabet), min_size=1, max_size=6)
    names = pieces.map("".join).map(str.strip).filter(bool)
    n = draw(st.integers(1, 6))
    body = [
        (
            f"f{i}"
            + draw(st.sampled_from([s for s in _ID_TAILS if enc != "cp932" or s.isascii()])),
            draw(names),
            draw(st.sampled_from(_AMOUNTS)),
        )
        for i in range(n)
    ]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    w.writerow(["opportunity_id", "owner_rep_id", "amount", "created_at", "status", "name"])
    for oid, name, amount in body:
        w.writerow([oid, "r1", amount, "2025-04-01", "open", name])
    return buf.getvalue().encode(enc), enc, body


_EXPECTED = {"100": 100.0, "0": 0.0, "1,000": 1000.0, "": None, "１２": 12.0}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_files(), st.booleans())
def test_fuzz_clear_error_or_exact_load(
    file: tuple[bytes, str, list[tuple[str, str, str]]], given_encoding: bool
) -> None:
    """Whatever the encoding, delimiter and values: a clear error and the workspace unchanged,
    or every row loaded exactly as written (name and amount) or rejected with its reason."""
    data, enc, body = file
    ws = _fuzz_ws()
    try:
        src = Path(tempfile.mkdtemp(prefix="eigyo-fuzz-in-")) / "opportunities.csv"
        src.write_bytes(data)
        before = snapshot(ws)
        try:
            rep = import_path(ws, src, encoding=enc if given_encoding else None)
        except EigyoError:
            assert snapshot(ws) == before
            return
        f = rep.files[0]
        assert f.loaded + f.rejected == f.rows == len(body)
        sql = f'SELECT "row" FROM _rejects WHERE import_id = {rep.import_id}'
        rejected = {r for (r,) in rows(ws, sql)}
        for i, (oid, name, amount) in enumerate(body):
            if any(h in oid for h in ("\u202e", "\u200b", "\x1b")):
                assert i + 2 in rejected, oid  # hidden characters never make an id
            if i + 2 in rejected:
                continue
            sql = (
                "SELECT json_extract_string(extra, '$.name'), amount FROM opportunities "
                "WHERE opportunity_id = ?"
            )
            got = ws.raw.execute(sql, [oid]).fetchall()
            assert got == [(name, _EXPECTED[amount])], (oid, name, amount, got)
    finally:
        ws.close()


def test_xlsx_rows_are_refused_from_the_sheet_dimension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlsxwriter

    ws = _limits(new_ws(tmp_path), max_rows=20)
    src = write(tmp_path / "in", {"opportunities.csv": OPPS})
    book = xlsxwriter.Workbook(str(src / "reps.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["rep_id", "name", "team", "role", "hire_date"])
    for i in range(1, 50):
        sheet.write_row(i, 0, [f"r{i}", "n", "t", "closer", "2024-04-01"])
    book.close()
    _no_workbook_reader(monkeypatch)
    err = _refused(ws, src, "input.limits.rows")
    assert "reps.xlsx" in str(err) and "50" in str(err)


def test_xlsx_shared_strings_repeated_past_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 cells pointing at one 8,000-byte shared string: 24 MB once read from a workbook of
    a few KB; the zip's members themselves stay far below the 4 MiB limit."""
    import xlsxwriter

    ws = _limits(new_ws(tmp_path), max_unzipped_bytes=4 << 20, max_zip_ratio=1e6)
    src = write(tmp_path / "in", {"opportunities.csv": OPPS})
    book = xlsxwriter.Workbook(str(src / "reps.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["rep_id", "name", "team", "role", "hire_date"])
    long_name = "x" * 8_000
    for i in range(1, 3001):
        sheet.write_row(i, 0, [f"r{i}", long_name, "t", "closer", "2024-04-01"])
    book.close()
    with zipfile.ZipFile(src / "reps.xlsx") as zf:
        assert sum(i.file_size for i in zf.infolist()) < 4 << 20
    _no_workbook_reader(monkeypatch)
    err = _refused(ws, src, "input.limits.shared_strings")
    # every cell is a string: 5 header cells + 3,000 rows × 5; the longest <si> element is the
    # name's, "<si><t>" + 8,000 bytes + "</t></si>" = 8,016; 15,005 × 8,016 = 120,280,080
    text = str(err)
    assert "reps.xlsx" in text and "max_unzipped_bytes" in text
    assert "15,005" in text and "8,016" in text and "120,280,080" in text
    # counted the same however the members' bytes arrive (tags split across read chunks)
    from eigyo.ingest.limits import _Expansion

    with zipfile.ZipFile(src / "reps.xlsx") as zf:
        sheet, strings = zf.read("xl/worksheets/sheet1.xml"), zf.read("xl/sharedStrings.xml")
    for size in (3, 7, 1 << 20):
        e = _Expansion()
        e.feed_sheet(iter([sheet[i : i + size] for i in range(0, len(sheet), size)]))
        e.feed_strings(iter([strings[i : i + size] for i in range(0, len(strings), size)]))
        assert (e.cells, e.longest) == (15_005, 8_016), size


def test_metrics_csv_neutralizes_names_from_the_data(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    reps = REPS.replace("東京", "=HYPERLINK(1)")
    import_path(ws, write(tmp_path / "in", {"reps.csv": reps, "opportunities.csv": OPPS}))
    ws.close()
    args = ["metrics", "--period", "FY2025", "--by", "team", "--format", "csv"]
    code, out = _cli([*args, "--workspace", str(tmp_path / "ws")])
    assert code == 0, out
    cells = [c for r in csv.reader(io.StringIO(out)) for c in r]
    assert "'=HYPERLINK(1)" in cells and "=HYPERLINK(1)" not in cells


def test_full_disk_is_one_sentence(tmp_path: Path) -> None:
    err = db_error(
        tmp_path / "eigyo.duckdb", duckdb.IOException("IO Error: No space left on device")
    )
    assert err.key == "input.workspace.disk_full" and "unchanged" in str(err)


def test_too_many_columns_and_long_values_below_the_limits(tmp_path: Path) -> None:
    ws = _limits(new_ws(tmp_path), max_columns=10)
    wide = "rep_id,name,team,role,hire_date," + ",".join(f"x{i}" for i in range(20))
    src = write(tmp_path / "wide", {"reps.csv": wide + "\n", "opportunities.csv": OPPS})
    err = _refused(ws, src, "input.limits.columns")
    assert "25" in str(err) and "max_columns" in str(err)
    # a long value (200 KiB, over Python's csv field limit) within max_field_bytes loads
    note = "長い説明 " * 20_000
    opps = OPP_HEADER + f'o1,r1,100,2025-04-01,open,"{note}"\n'
    rep = import_path(ws, write(tmp_path / "long", {"reps.csv": REPS, "opportunities.csv": opps}))
    assert rep.loaded == 3


def test_parquet_of_repeated_values_stops_at_its_decoded_size(tmp_path: Path) -> None:
    ws = _limits(new_ws(tmp_path), max_parquet_bytes=1 << 20)
    src = write(tmp_path / "in", {"reps.csv": REPS})
    long = pl.DataFrame({"opportunity_id": pl.repeat("x" * 1000, 20_000, eager=True)})
    long.write_parquet(src / "opportunities.parquet")  # a few KB on disk, 20 MB decoded
    assert (src / "opportunities.parquet").stat().st_size < 20_000
    err = _refused(ws, src, "input.limits.parquet_read")
    assert "1,048,576" in str(err)
