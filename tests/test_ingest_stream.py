"""Big CSVs are streamed block by block; the outcome equals reading the file whole."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eigyo.ingest import import_path, stream

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import REPS, new_ws, rows, write


def _activities(n: int) -> str:
    lines = ["activity_id,rep_id,type,occurred_at,duration_minutes,outcome,memo"]
    for i in range(n):
        memo = f'"line one\nline ""two"" {i}"' if i % 7 == 0 else f"m{i}"
        lines.append(f"a{i},r{1 + i % 2},call,2025-04-01 09:00,5,connected,{memo}")
    lines.append("a5,r1,call,2025-04-02 09:00,5,connected,dup")  # duplicate, far from the first
    lines.append("a_bad,r1,call,not a date,5,connected,bad")
    lines.append("a_long,r1,call,2025-04-02 09:00,5,connected,x,y,z")  # more fields than header
    return "\n".join(lines) + "\n"


def _import(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> tuple[object, ...]:
    ws = new_ws(tmp / name)
    src = write(tmp / name / "in", {"reps.csv": REPS, "activities.csv": text.encode(encoding)})
    import_path(ws, src / "reps.csv")
    act = import_path(ws, src / "activities.csv").files[0]
    table = rows(ws, "SELECT * FROM activities ORDER BY activity_id")
    rejects = rows(ws, 'SELECT "row", "column", code FROM _rejects ORDER BY "row"')
    return act.rows, act.loaded, act.rejected, act.reasons, table, rejects


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_streamed_equals_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    text = _activities(3000).replace("memo\n", "メモ\n", 1)
    whole = _import(tmp_path, "whole", text, encoding)
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8000)
    monkeypatch.setattr(stream, "_HEAD", 4000)
    streamed = _import(tmp_path, "stream", text, encoding)
    assert streamed == whole
    assert whole[:3] == (3003, 3000, 3)
    assert whole[5] == [
        (3002, "activity_id", "duplicate"),
        (3003, "occurred_at", "type"),
        (3004, "", "malformed"),
    ]


def test_cut_never_splits_a_quoted_value() -> None:
    data = b'a,"x\ny"\nb,"p\nq'
    assert stream._cut(data) == data.index(b"\nb")
    assert stream._cut(b'a,"open\nvalue') == -1


def test_progress_counts_bytes_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8000)
    monkeypatch.setattr(stream, "_HEAD", 4000)
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "activities.csv": _activities(2000)})
    calls: list[tuple[str, int, int]] = []
    import_path(ws, src / "activities.csv", progress=lambda *a: calls.append(a))
    read = [c for c in calls if c[0] != "load"]
    size = (src / "activities.csv").stat().st_size
    assert read[-1] == ("activities.csv", size, size) and len(read) > 5
    assert [c[1] for c in read] == sorted(c[1] for c in read)


def test_an_import_sweeps_spool_folders_left_by_a_killed_import(tmp_path: Path) -> None:
    from eigyo import workspace
    from eigyo.ingest import import_path

    ws = workspace.init(tmp_path / "w")
    left = tmp_path / "w" / ".eigyo-stage-crashed"
    left.mkdir()
    (left / "000000.parquet").write_bytes(b"left by a killed import")
    src = tmp_path / "in"
    src.mkdir()
    (src / "reps.csv").write_text(
        "rep_id,role,hire_date\nr1,generalist,2020-04-01\n", encoding="utf-8"
    )
    (src / "opportunities.csv").write_text(
        "opportunity_id,owner_rep_id,amount,created_at,status\no1,r1,1,2025-05-01,open\n",
        encoding="utf-8",
    )
    import_path(ws, src)
    assert not left.exists()


def _spools(ws_dir: Path) -> list[Path]:
    return [p for p in ws_dir.glob(".eigyo-stage-*")]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8000)
    monkeypatch.setattr(stream, "_HEAD", 4000)


def _unique_activities(n: int, start: int = 0, when: str = "2025-04-01T09:00:00") -> str:
    lines = ["activity_id,rep_id,type,occurred_at,duration_minutes,outcome,memo"]
    lines += [f"a{i},r{1 + i % 2},call,{when},5,connected,m{i}" for i in range(start, start + n)]
    lines.append("a_bad,r1,call,not a date,5,connected,bad")
    return "\n".join(lines) + "\n"


def _load_twice(tmp: Path, name: str) -> tuple[object, ...]:
    """Two imports; the second replaces half the rows of the first by key (keys never repeat)."""
    ws = new_ws(tmp / name)
    src = write(tmp / name / "in", {"reps.csv": REPS})
    import_path(ws, src / "reps.csv")
    reports = []
    for i, text in enumerate(
        [_unique_activities(2000), _unique_activities(2000, 1000, "2025-05-01T10:00:00")]
    ):
        folder = write(tmp / name / f"in{i}", {"activities.csv": text})
        reports.append(import_path(ws, folder / "activities.csv").files[0])
    table = rows(ws, "SELECT * FROM activities ORDER BY activity_id")
    rejects = rows(
        ws, 'SELECT "row", "column", code, record FROM _rejects ORDER BY import_id, "row"'
    )
    tables = rows(ws, "SELECT table_name FROM information_schema.tables ORDER BY 1")
    summary = [(r.rows, r.loaded, r.rejected, r.replaced, r.reasons) for r in reports]
    assert not _spools(tmp / name / "ws")
    return summary, table, rejects, tables


def test_streamed_without_repeats_equals_whole(tmp_path: Path, small_blocks: None) -> None:
    """No key repeats: the spooled files are loaded directly (and replace rows by key)."""
    streamed = _load_twice(tmp_path, "stream")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(stream, "STREAM_BYTES", 1 << 30)
        whole = _load_twice(tmp_path, "whole")
    assert streamed == whole
    assert streamed[0] == [(2001, 2000, 1, 0, {"occurred_at: type": 1}),
                           (2001, 2000, 1, 1000, {"occurred_at: type": 1})]  # fmt: skip
    assert len(streamed[1]) == 3000


def test_failed_streamed_import_leaves_no_spool_files(tmp_path: Path, small_blocks: None) -> None:
    from eigyo.errors import InputError

    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "activities.csv": _unique_activities(2000)})
    import_path(ws, src / "reps.csv")
    with pytest.raises(InputError):  # a rejected row refuses a strict import
        import_path(ws, src / "activities.csv", strict=True)
    assert not _spools(tmp_path / "ws")

    def fail_on_load(label: str, done: int, total: int) -> None:
        if label == "load":
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        import_path(ws, src / "activities.csv", progress=fail_on_load)
    assert not _spools(tmp_path / "ws")
    assert rows(ws, "SELECT count(*) FROM activities") == [(0,)]


def _reps(n: int, garble: bool = False) -> str:
    names = ("佐藤 健", "鈴木 彩", "高橋 誠", "田中 萌")
    out = "rep_id,name,team,role,hire_date\n"
    for i in range(n):
        name = f"{names[i % 4]}{i}"
        if garble:  # UTF-8 bytes read as Latin-1 upstream and saved again: classic mojibake
            name = name.encode("utf-8").decode("latin-1")
        out += f"r{i},{name},東京,closer,2024-04-01\n"
    return out


def test_a_streamed_file_of_garbled_names_does_not_replace_good_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read in blocks (UTF-8, decoded strictly) whose names were garbled before it was
    written: it would replace 300 good names, so the import stops and nothing changes."""
    from eigyo.errors import InputError

    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "good", {"reps.csv": _reps(300)}) / "reps.csv")
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8000)
    monkeypatch.setattr(stream, "_HEAD", 4000)
    bad = write(tmp_path / "bad", {"reps.csv": _reps(300, garble=True)}) / "reps.csv"
    assert stream.streamable(bad, None) in ("utf-8", "utf-8-sig")  # read in blocks
    with pytest.raises(InputError) as err:
        import_path(ws, bad)
    assert err.value.key == "input.garbled.refused" and "300 existing" in str(err.value)
    assert rows(ws, "SELECT name FROM reps WHERE rep_id = 'r5'") == [("鈴木 彩5",)]
    # the same file into an empty workspace replaces nothing: it loads, with the notice
    fresh = new_ws(tmp_path / "fresh")
    rep = import_path(fresh, bad)
    notes = [n for f in rep.files for n in f.notices if n["code"] == "input.garbled.warned"]
    assert notes and notes[0]["col"] == "name" and rep.files[0].loaded == 300
