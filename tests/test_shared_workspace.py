"""A workspace the team shares (issue 18 item 1), with real processes on loopback.

``eigyo serve`` runs as its own process and holds signed-in sessions while other processes run
``eigyo import``, ``metrics``, ``users add`` and ``monitor`` on the same workspace: each succeeds,
the dashboard shows the import, all at once, as soon as its shared results are computed (the
previous data, labelled, until then; never "busy"), a reader never sees half an import, an
upload's job is found by every worker, sessions survive a restart and are accepted by a second
server process, and a lock that remains is one sentence with exit status 1
(docs/architecture.md, "A shared workspace").
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("fastapi")
import httpx2 as httpx

from eigyo import workspace
from eigyo.app import add_user
from eigyo.ingest import import_path
from eigyo.workspace import DB_FILE, GEN_DIR, generation, open_workspace

EIGYO = str(Path(sys.executable).with_name("eigyo"))
PASSWORD = "shared-pass-1"
TEAMS = ("東京", "大阪")


def _csvs(folder: Path, reps: int, opps: int, prefix: str = "o") -> Path:
    """``reps`` reps and ``opps`` opportunities in the canonical format (imported together)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["rep_id,name,team,role,hire_date"]
    lines += [f"r{i},担当{i},{TEAMS[i % 2]},closer,2024-04-01" for i in range(reps)]
    (folder / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["opportunity_id,owner_rep_id,amount,created_at,status,closed_at"]
    for i in range(opps):
        won = i % 3 == 0
        closed = f"2025-{5 + i % 6:02d}-{1 + i % 27:02d}" if won else ""
        rows.append(
            f"{prefix}{i},r{i % reps},{100000 + i},2025-04-{1 + i % 27:02d},"
            f"{'won' if won else 'open'},{closed}"
        )
    (folder / "opportunities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """A workspace with 4 reps, 40 opportunities and an admin."""
    ws = workspace.init(tmp_path / "ws")
    try:
        import_path(ws, _csvs(tmp_path / "first", 4, 40))
        add_user(ws, "admin", PASSWORD, "admin")
    finally:
        ws.close()
    return tmp_path / "ws"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(ws: Path, workers: int = 1) -> Iterator[str]:
    """``eigyo serve`` in its own process; yields its base URL, stops it with SIGTERM."""
    port = _free_port()
    cmd = [EIGYO, "serve", "--workspace", str(ws), "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the server did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: Every client a test made, closed after it (an open socket fails the run).
_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _client(url: str, **kw: object) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120, **kw)  # type: ignore[arg-type]
    _CLIENTS.append(client)
    return client


def _login(url: str, user: str = "admin", password: str = PASSWORD) -> httpx.Client:
    client = _client(url)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": user, "password": password,
                                    "csrf_token": token.group(1), "next": "/metrics"})  # fmt: skip
    assert r.status_code == 303, r.text
    return client


def _total(client: httpx.Client, table: str = "opportunities") -> int:
    r = client.get(f"/api/records/{table}", params={"limit": 1})
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def _until(check: Callable[[], bool], limit_s: float = 60, what: str = "the switch") -> float:
    """Seconds until ``check()`` holds (the dashboard serves a new generation once its shared
    results are computed, eigyo.app._serving); fails past ``limit_s``."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > limit_s:
            pytest.fail(f"{what} did not happen within {limit_s:g} s")
        time.sleep(0.1)
    return time.monotonic() - t0


def _eigyo(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EIGYO, *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})  # fmt: skip


def test_commands_run_while_the_dashboard_serves(ws_path: Path, tmp_path: Path) -> None:
    """The issue's failure: after one signed-in request every other command hit DuckDB's lock.
    Two worker processes serve; the session is accepted by whichever answers."""
    new = _csvs(tmp_path / "new", 6, 90, prefix="n")
    w = ["--workspace", str(ws_path)]
    with _serve(ws_path, workers=2) as url:
        client = _login(url)
        assert client.get("/metrics").status_code == 200
        cookie = {"eigyo_session": client.cookies["eigyo_session"]}
        # new connections, spread over the workers by the kernel: one session for all
        assert all(_total(_client(url, cookies=cookie)) == 40 for _ in range(6))
        t0 = time.perf_counter()
        imported = _eigyo("import", str(new), *w, "--format", "json")
        assert imported.returncode == 0, imported.stderr
        metrics = _eigyo("metrics", *w, "--period", "FY2025", "--format", "json")
        assert metrics.returncode == 0, metrics.stderr
        added = _eigyo("users", "add", "kim", "--role", "admin", "--password-stdin", *w,
                       stdin="kim-password-1\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
        monitored = _eigyo("monitor", *w, "--period", "FY2025", "--no-send", "--format", "json")
        assert monitored.returncode == 0, monitored.stderr
        listed = _eigyo("users", "list", *w, "--format", "json")
        assert listed.returncode == 0 and '"kim"' in listed.stdout
        # the import shows without a restart, once its results are ready; the new user signs in
        _until(lambda: _total(client) == 130)
        assert _total(client, "reps") == 6
        assert client.get("/metrics").status_code == 200
        assert _total(_login(url, "kim", "kim-password-1")) == 130
        print(f"import, metrics, users add, monitor beside the dashboard: "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    gens = sorted(p.name for p in (ws_path / GEN_DIR).glob("eigyo-*.duckdb"))
    assert len(gens) <= 2, gens  # old generations are removed


def test_readers_never_see_half_an_import(ws_path: Path, tmp_path: Path) -> None:
    """Two tables imported together: every reader sees both old or both new, never a mix; the
    dashboard answers meanwhile and shows the new data once the import finished."""
    big = _csvs(tmp_path / "big", 40, 30_000, prefix="b")
    before, after = (4, 40), (40, 30_040)
    seen: set[tuple[int, int]] = set()
    totals: list[int] = []
    latencies: list[float] = []
    stop = threading.Event()

    def read_files() -> None:  # a reader process would do the same: open read-only, count
        while not stop.is_set():
            with open_workspace(ws_path, read_only=True) as ws:
                seen.add((ws.count("reps"), ws.count("opportunities")))

    with _serve(ws_path) as url:
        client = _login(url)

        def read_dashboard() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                totals.append(_total(client))
                latencies.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=read_files), threading.Thread(target=read_dashboard)]
        for th in threads:
            th.start()
        try:
            imported = _eigyo("import", str(big), "--workspace", str(ws_path))
        finally:
            time.sleep(0.5)
            stop.set()
            for th in threads:
                th.join(timeout=60)
        assert imported.returncode == 0, imported.stderr
        _until(lambda: _total(client) == after[1])
    assert seen <= {before, after} and before in seen, seen
    assert set(totals) <= {before[1], after[1]}, set(totals)
    first_new = totals.index(after[1]) if after[1] in totals else len(totals)
    assert all(t == after[1] for t in totals[first_new:])  # never back to the old data
    assert len(latencies) > 3 and statistics.median(latencies) < 2.0, latencies


def test_sessions_survive_a_restart_and_work_across_servers(ws_path: Path) -> None:
    with _serve(ws_path) as first:
        client = _login(first)
        cookie = client.cookies["eigyo_session"]
        assert _total(client) == 40
        with _serve(ws_path) as second:  # a second worker process on the same workspace
            other = _client(second, cookies={"eigyo_session": cookie})
            assert _total(other) == 40
    with _serve(ws_path) as restarted:
        again = _client(restarted, cookies={"eigyo_session": cookie}, follow_redirects=False)
        assert again.get("/metrics").status_code == 200
        page = again.get("/metrics").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        assert again.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
        assert again.get("/api/records/opportunities").status_code == 401
        # a removed user's sessions end at once, in every server
        fresh = _login(restarted)
        assert _total(fresh) == 40
        assert _eigyo("users", "remove", "admin", "--workspace", str(ws_path)).returncode == 0
        assert fresh.get("/api/records/opportunities").status_code == 401


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_remaining_lock_is_one_sentence(ws_path: Path, tmp_path: Path, lang: str) -> None:
    """Two writers at once: the second waits (``EIGYO_WRITE_WAIT_S``), then says who writes.
    A program outside eigyo holding the DuckDB file: one sentence too. Exit status 1."""
    src = _csvs(tmp_path / "again", 4, 10, prefix="x")
    with open_workspace(ws_path) as writer:
        writer.count("reps")  # holds the write lock while its new generation is open
        r = _eigyo("import", str(src), "--workspace", str(ws_path), "--lang", lang,
                   EIGYO_WRITE_WAIT_S="1")  # fmt: skip
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"pid {os.getpid()}" in lines[0]
    assert ("書き込んでいます" in lines[0]) == (lang == "ja")
    current = ws_path / generation(ws_path)
    outsider = duckdb.connect(str(current))  # e.g. the duckdb CLI, opened for writing
    try:
        r = _eigyo("metrics", "--workspace", str(ws_path), "--period", "FY2025", "--lang", lang)
    finally:
        outsider.close()
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert DB_FILE in r.stderr and ("別のプログラム" in r.stderr) == (lang == "ja")
    # nothing was left behind: the lock is free and the data is as it was
    with open_workspace(ws_path, read_only=True) as ws:
        assert ws.count("opportunities") == 40


def test_a_writer_that_fails_publishes_nothing(ws_path: Path, tmp_path: Path) -> None:
    gen = generation(ws_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "reps.csv").write_text("rep_id,name\nr9,x\n", encoding="utf-8")  # no role
    r = _eigyo("import", str(bad), "--workspace", str(ws_path), "--strict")
    assert r.returncode == 1
    assert generation(ws_path) == gen
    assert sorted((ws_path / GEN_DIR).iterdir()) == [ws_path / gen]


def test_the_dashboard_retires_old_generations(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one server process: a published import shows on the next request, the connections of
    every thread to the old generation retire and close, and the old files go."""
    from fastapi.testclient import TestClient

    from eigyo.app import _state, create_app

    monkeypatch.setattr(_state, "RETIRE_S", 0.0)
    app = create_app(ws_path)
    st = app.state.eigyo
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "csrf_token": token.group(1)})  # fmt: skip
        assert client.get("/api/records/opportunities?limit=1").json()["total"] == 40
        first = list(st._all)
        assert first and all(w.generation == generation(ws_path) for w in first)
        for i in range(3):  # three publications: two generations stay on disk
            with open_workspace(ws_path) as ws:
                import_path(ws, _csvs(tmp_path / f"more{i}", 4, 41 + i, prefix=f"m{i}-"))
            expected = 40 + sum(41 + k for k in range(i + 1))  # new ids each time
            assert client.get("/api/records/opportunities?limit=1").json()["total"] == expected
        assert all(w not in st._all for w in first)
        client.get("/api/records/opportunities?limit=1")  # sweeps what retired
        assert all("con" not in w.__dict__ for w in first)  # closed
    assert len(list((ws_path / GEN_DIR).glob("eigyo-*.duckdb"))) == 2


def test_a_previous_generation_in_use_stays_open_and_a_closed_one_is_replaced(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a new generation warms up the dashboard keeps serving the previous one, which can
    take longer than RETIRE_S: its connection, retired when the warm-up opened the new one,
    stays open while it is used and closes once idle; a thread whose connection was closed then
    gets a fresh one with the memory limit, never the closed one reopened without it."""
    from eigyo.app import _state, create_app
    from eigyo.app._generation import GENERATION

    monkeypatch.setattr(_state, "RETIRE_S", 1.0)
    st = create_app(ws_path).state.eigyo
    old = generation(ws_path)
    token = GENERATION.set(old)
    try:
        served = st.ws()  # a request on the current generation
        with open_workspace(ws_path) as ws:
            import_path(ws, _csvs(tmp_path / "more", 4, 41, prefix="m-"))
        new = generation(ws_path)
        GENERATION.set(old)
        assert st.ws() is served  # in use just before the warm-up starts
        warm = threading.Thread(target=st.ws)  # the warm-up opens the new one: old retires
        warm.start()  # (a new thread starts without the door's GENERATION: the current one)
        warm.join()
        assert [w for _, w in st._retired] == [served]
        for _ in range(5):  # requests still on the previous generation, past RETIRE_S
            time.sleep(0.3)
            assert st.ws() is served and "con" in served.__dict__
        time.sleep(1.2)  # idle past RETIRE_S
        GENERATION.set(new)
        st.ws()  # any request sweeps
        assert "con" not in served.__dict__ and not st._retired  # closed
        GENERATION.set(old)
        again = st.ws()
        assert again is not served and again.generation == old
        limit = again.raw.execute("select current_setting('memory_limit')").fetchone()
        assert limit is not None and limit[0] == served_limit(st)
    finally:
        GENERATION.reset(token)
        st.close()


def served_limit(st: object) -> str:
    """The memory limit the dashboard sets on its connections, as DuckDB prints it."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{int(st.limits.analysis_memory_mib)}MiB'")  # type: ignore[attr-defined]
    row = con.execute("select current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def test_serve_starts_while_an_import_writes(ws_path: Path, tmp_path: Path) -> None:
    """The issue: ``serve`` could not start during an import. The writer here is this process
    (its new generation open, the write lock held); the server starts and answers from the
    current generation, then shows the writer's data once it is published."""
    writer = open_workspace(ws_path)
    try:
        import_path(writer, _csvs(tmp_path / "during", 4, 55, prefix="d"))
        with _serve(ws_path) as url:
            client = _login(url)
            assert _total(client) == 40  # not yet published
            writer.close()
            _until(lambda: _total(client) == 95)
    finally:
        writer.close()


def _overview(url: str, cookie: str) -> tuple[int, str]:
    """``/`` on a new connection (either worker): its status and page."""
    r = _client(url, cookies={"eigyo_session": cookie}, follow_redirects=False).get("/")
    return r.status_code, r.text


def _shown(status: int, page: str) -> tuple[str, int | None]:
    """What an overview showed: ``preparing`` (nothing ready yet), ``labelled`` (the previous
    data, with its notice) or ``current``, and its count of opportunities; ``error`` else."""
    if status != 200:
        return "error", status
    if 'id="preparing"' in page:
        return "preparing", None
    found = re.search(r'id="count-opportunities">([\d,]+)<', page)
    if found is None:
        return "error", None
    return ("labelled" if 'id="data-as-of"' in page else "current"), int(
        found.group(1).replace(",", "")
    )


def test_an_upload_switches_every_worker_at_once(ws_path: Path, tmp_path: Path) -> None:
    """Issue 18: two workers; the overview is "being prepared" (never 503) until the first
    generation's results are computed; an admin uploads an import and its job is polled over
    new connections (either worker: the job's state is on disk); meanwhile every overview shows
    the previous data with its notice or the new data, never a 503 or an error page, and once one
    shows the new data none goes back. The new count equals an independent query of the
    published generation."""
    new = _csvs(tmp_path / "upload", 4, 70, prefix="u")
    shown: list[tuple[str, int | None]] = []
    with _serve(ws_path, workers=2) as url:
        admin = _login(url)
        cookie = admin.cookies["eigyo_session"]
        _until(lambda: shown.append(_shown(*_overview(url, cookie))) or shown[-1][0] == "current")
        assert {kind for kind, _ in shown} <= {"preparing", "current"}, shown
        assert shown[-1] == ("current", 40)
        page = admin.get("/import")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        body = (new / "opportunities.csv").read_bytes()
        r = admin.post("/import", data={"csrf_token": token.group(1)},
                       files=[("files", ("opportunities.csv", body, "text/csv"))])  # fmt: skip
        job = re.search(r"/import/jobs/([0-9a-f]{32})", r.text)
        assert r.status_code == 200 and job, r.text[-500:]
        during: list[tuple[str, int | None]] = []
        polls: list[int] = []

        def switched() -> bool:
            poll = _client(url, cookies={"eigyo_session": cookie}).get(
                f"/api/import/jobs/{job.group(1)}"
            )
            polls.append(poll.status_code)
            assert poll.status_code == 200, poll.text  # found by either worker
            during.append(_shown(*_overview(url, cookie)))
            return bool(poll.json()["finished"]) and during[-1][0] == "current"

        seconds = _until(switched, 60)
        state = admin.get(f"/api/import/jobs/{job.group(1)}").json()
        assert state["error"] is None and state["report"]["loaded"] == 70, state
        for _ in range(6):  # afterwards, on new connections: the new data on every worker
            during.append(_shown(*_overview(url, cookie)))
    with duckdb.connect(str(ws_path / generation(ws_path)), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM opportunities").fetchone()
    assert expected == (110,)
    # before the import is published, the previous data as it was; then labelled; then the new
    order = [("current", 40), ("labelled", 40), ("current", 110)]
    assert set(during) <= set(order), during
    steps = [order.index(d) for d in during]
    assert steps == sorted(steps), during  # never back, on either worker
    assert ("labelled", 40) in during  # the switch waited for the new results, labelled
    print(f"{len(polls)} polls, switched {seconds:.1f} s after the upload")


def test_a_job_of_a_process_that_ended_reads_as_failed(ws_path: Path) -> None:
    """An upload job's file left "running" by a process that is gone: any worker reports it
    finished, with one sentence in the reader's language, not "running" for ever."""
    from fastapi.testclient import TestClient

    from eigyo.app import create_app
    from eigyo.app._import_jobs import Job, folder_of

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(ended.stdout)
    Job("a" * 32, "admin", ["leads.csv"], step="leads", pid=pid, folder=folder_of(ws_path)).save()
    with TestClient(create_app(ws_path)) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "csrf_token": token.group(1)})  # fmt: skip
        state = client.get(f"/api/import/jobs/{'a' * 32}").json()
        assert state["finished"] is True and state["report"] is None
        assert state["error"].startswith("この取り込みを実行していたサーバーのプロセス")
        assert f"pid {pid}" in state["error"]
        client.cookies.set("eigyo_lang", "en")
        page = client.get(f"/import/jobs/{'a' * 32}")
        assert page.status_code == 200 and 'id="import-error"' in page.text
        assert f"The server process that ran this import (pid {pid}) ended" in page.text
        assert client.get(f"/api/import/jobs/{'b' * 32}").status_code == 404


def test_the_previous_data_is_labelled_until_the_new_is_ready(
    ws_path: Path, tmp_path: Path
) -> None:
    """The switch itself, in one process, step by step (the warm-up's marks written here): no
    generation ready → the overview is "being prepared" (200, reloading), the API reads the
    newest; the previous one ready → every page reads it, with the notice and both import times
    in the reader's language; the newest ready → the new data, no notice. (The overview's own
    numbers through the switch: test_an_upload_switches_every_worker_at_once.)"""
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from fastapi.testclient import TestClient

    from eigyo.app import create_app
    from eigyo.app._serving import READY
    from eigyo.app._shared_cache import SharedCache

    first = generation(ws_path)
    with open_workspace(ws_path) as ws:
        import_path(ws, _csvs(tmp_path / "more", 4, 70, prefix="m"))
    second = generation(ws_path)
    app = create_app(ws_path)
    app.state.eigyo.warmer = SimpleNamespace(stop=lambda: None)  # switching on, marks by hand
    cache = SharedCache(ws_path)

    def when(gen: str) -> str:
        mtime = (ws_path / gen).stat().st_mtime
        return datetime.fromtimestamp(mtime, ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")

    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "csrf_token": token.group(1)})  # fmt: skip
        r = client.get("/")
        assert r.status_code == 200 and r.headers["refresh"] == "5", r.text[-300:]
        assert f"{when(second)} の取り込みの分析を準備しています" in r.text
        assert client.get("/api/records/opportunities?limit=1").json()["total"] == 110
        cache.mark(first, READY)
        for lang, notice in (
            (
                "ja",
                f"{when(first)} 時点のデータを表示しています。{when(second)} の取り込みを準備中",
            ),
            ("en", f"Showing the data as of {when(first)}; the import of {when(second)} is"),
        ):
            client.cookies.set("eigyo_lang", lang)
            assert notice in client.get("/metrics").text
        assert client.get("/api/records/opportunities?limit=1").json()["total"] == 40
        cache.mark(second, READY)
        assert 'id="data-as-of"' not in client.get("/metrics").text
        assert client.get("/api/records/opportunities?limit=1").json()["total"] == 110
