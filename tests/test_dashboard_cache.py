"""The dashboard's shared results (eigyo.app._shared_cache, _state, _warm): computed once per
generation for every thread, worker and restart, and never served for another generation.

Real parts throughout: a real workspace (DuckDB generations written by the importer), the real
app state and, for the multi-process cases, ``eigyo serve`` on loopback with two workers.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
import httpx2 as httpx

from eigyo import workspace
from eigyo.app import add_user
from eigyo.app._generation import GENERATION
from eigyo.app._limits import WARM_UP, Busy, FairGate, ServerLimits
from eigyo.app._security import LANG_COOKIE
from eigyo.app._serving import READY
from eigyo.app._shared_cache import CACHE_DIR, LOG_FILE, MISSING, SharedCache
from eigyo.app._state import AppState
from eigyo.app._warm import WARM
from eigyo.diagnose.model import STEPS
from eigyo.ingest import import_path
from eigyo.workspace import generation
from tests.test_shared_workspace import PASSWORD, _csvs, _eigyo, _login, _serve

#: The scopes of the fixture's users: the admin, the 東京 manager, rep r1.
SCOPES = 3


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """4 reps, 40 opportunities; an admin, a manager and a rep."""
    ws = workspace.init(tmp_path / "ws")
    try:
        import_path(ws, _csvs(tmp_path / "first", 4, 40))
        add_user(ws, "admin", PASSWORD, "admin")
        add_user(ws, "boss", PASSWORD, "manager", team="東京")
        add_user(ws, "rep1", PASSWORD, "rep", rep_id="r1")
    finally:
        ws.close()
    return tmp_path / "ws"


def _log_lines(ws_path: Path) -> list[str]:
    """Every computation the servers logged, all generations together."""
    return [
        line
        for f in sorted((ws_path / CACHE_DIR).glob(f"*/{LOG_FILE}"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]


def _overviews(ws_path: Path) -> list[str]:
    """The logged computations but the English ones and the step pages (which the warm-up
    computes after a generation is served: a server stopped meanwhile leaves them to the next
    start). A line: time, process, digest, seconds, then the key's words."""
    return [
        line
        for line in _log_lines(ws_path)
        if line.split()[4] != "step" and "en" not in line.split()[5:]
    ]


def _kinds(lines: list[str]) -> list[str]:
    """The kind of each logged computation (diagnosis, findings, overview, filter-options)."""
    return sorted(line.split("s ", 1)[1].split()[0] for line in lines)


def _wait_warm(ws_path: Path, gen: str, mark: str = WARM, limit_s: float = 120) -> list[str]:
    """The log of generation ``gen`` once the warm-up marked it ``ready`` (every scope's
    overview: it is served) or ``warm`` (then each scope's English overview and step pages)."""
    cache = SharedCache(ws_path)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if cache.marked(gen, mark):
            return (cache.folder(gen) / LOG_FILE).read_text(encoding="utf-8").splitlines()
        time.sleep(0.2)
    pytest.fail(f"the warm-up of {gen} did not finish: {_log_lines(ws_path)}")


def _count(client: httpx.Client, labelled: list[int] | None = None) -> int:
    """The overview's count of opportunities (the scope's, of the generation it read); a count
    shown with the notice of a newer import being prepared is appended to ``labelled``, and
    one shown without it while ``labelled`` is given must be the new data."""
    r = client.get("/")
    assert r.status_code == 200, r.text[-500:]
    found = re.search(r'id="count-opportunities">([\d,]+)<', r.text)
    assert found, r.text[-500:]
    n = int(found.group(1).replace(",", ""))
    if labelled is not None and 'id="data-as-of"' in r.text:
        labelled.append(n)
    return n


def test_two_workers_compute_each_result_once(ws_path: Path) -> None:
    """Two worker processes warm the same generation at the same time: the diagnosis and each
    scope's overview are computed by one of them and read by the other; people's requests,
    spread over both workers, compute nothing more."""
    with _serve(ws_path, workers=2) as url:
        gen = generation(ws_path)
        lines = _wait_warm(ws_path, gen)
        kinds = _kinds(lines)
        assert kinds.count("diagnosis") == 1
        assert kinds.count("findings") == SCOPES
        assert kinds.count("overview") == 2 * SCOPES  # ja before the switch, en after it
        assert kinds.count("step") == len(STEPS) * SCOPES  # every step page, unfiltered
        digests = [line.split()[2] for line in lines]
        assert len(set(digests)) == len(digests)  # each key computed once
        for user in ("admin", "boss", "rep1"):
            for _ in range(3):  # new connections: either worker
                client = _login(url, user)
                assert client.get("/").status_code == 200
                assert client.get("/steps/process").status_code == 200
                client.cookies.set(LANG_COOKIE, "en")
                assert client.get("/").status_code == 200
        assert _log_lines(ws_path) == lines  # nothing computed again, by either worker
        pids = set(re.findall(r"pid=(\d+)", "\n".join(lines)))
        assert 1 <= len(pids) <= 2


def test_a_reimport_shows_the_new_numbers_and_a_restart_reads_them(
    ws_path: Path, tmp_path: Path
) -> None:
    """After an import the overview shows the new generation's numbers (its own diagnosis, not
    the previous one's), once they are ready, with the filtered view people opened on the
    previous generation computed before the switch; a restarted server reads the persisted
    results without computing."""
    with _serve(ws_path) as url:
        first = generation(ws_path)
        _wait_warm(ws_path, first, READY)
        admin = _login(url)
        assert _count(admin) == 40
        filtered = admin.get("/", params={"team": "東京"})  # recorded for the next warm-up
        assert filtered.status_code == 200 and 'id="count-opportunities">20<' in filtered.text
        t0 = time.monotonic()
        imported = _eigyo("import", str(_csvs(tmp_path / "new", 4, 70, prefix="n")),
                          "--workspace", str(ws_path))  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        second = generation(ws_path)
        assert second != first
        seen: list[int] = []  # the previous data, labelled, until the new one is ready
        labelled: list[int] = []
        while (n := _count(admin, labelled)) != 110:
            seen.append(n)
            assert n == 40 and time.monotonic() - t0 < 120, seen
        assert labelled == seen  # every previous count came with its notice
        replayed = (SharedCache(ws_path).folder(second) / LOG_FILE).read_text(encoding="utf-8")
        assert re.search(r" overview ja admin FY\d{4} 東京 ", replayed), replayed
        assert _count(_login(url, "boss")) == 55  # 東京: r0 and r2, every second deal
        new = _wait_warm(ws_path, second, READY)
        assert _kinds(new).count("diagnosis") == 1
    before = _overviews(ws_path)
    with _serve(ws_path) as url:
        assert _count(_login(url)) == 110
        assert _count(_login(url, "rep1")) == 28
        time.sleep(1.5)  # the restarted warm-up has looked at the generation meanwhile
        assert _overviews(ws_path) == before  # read back, not computed
    folders = sorted(p.name for p in (ws_path / CACHE_DIR).iterdir())
    assert folders == sorted(SharedCache(ws_path).folder(g).name for g in (first, second))


def _state(ws_path: Path) -> AppState:
    st = AppState(ws_path)
    GENERATION.set(generation(ws_path))
    return st


def test_people_arriving_together_wait_for_one_computation(ws_path: Path) -> None:
    """Eight requests for the same result at once: one computes, seven wait for it without a
    turn of the fair gate (its queue stays empty), all get the same value."""
    st = _state(ws_path)
    calls: list[int] = []
    started = threading.Event()

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.5)
        return "the one diagnosis"

    got: list[str] = []
    queued: list[int] = []

    def ask() -> None:
        GENERATION.set(generation(ws_path))
        got.append(st.cached(("diagnosis", "FY2025"), slow))

    try:
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for th in threads:
            th.start()
        started.wait(10)
        time.sleep(0.1)
        queued.append(st.gate.waiting())
        for th in threads:
            th.join()
        assert calls == [1]
        assert got == ["the one diagnosis"] * 8
        assert queued == [0]
    finally:
        st.close()


def test_an_error_reaches_every_waiter_and_is_not_stored(ws_path: Path) -> None:
    """A computation that fails (busy) fails its waiters too, stores nothing, and the next
    request computes again."""
    st = _state(ws_path)

    def busy() -> int:
        raise Busy(10)

    try:
        with pytest.raises(Busy):
            st.cached(("overview", "x"), busy)
        assert st.shared.load(generation(ws_path), ("overview", "x")) is MISSING
        assert st.cached(("overview", "x"), lambda: 7) == 7
    finally:
        st.close()


def test_the_key_follows_the_generation_the_settings_and_a_damaged_file(ws_path: Path) -> None:
    """A stored value is read back only for the same generation file, the same eigyo.toml and
    an intact file: a workspace restored with another file of the same name, an edited setting
    or a cut-short file is a miss, never another data's result."""
    gen = generation(ws_path)
    cache = SharedCache(ws_path)
    key = ("diagnosis", "FY2025")
    cache.store(gen, key, ["finding"], 0.1)
    assert SharedCache(ws_path).load(gen, key) == ["finding"]
    data = ws_path / gen
    st = data.stat()
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # another file, same name
    assert SharedCache(ws_path).load(gen, key) is MISSING
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert SharedCache(ws_path).load(gen, key) == ["finding"]
    toml = ws_path / "eigyo.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert SharedCache(ws_path).load(gen, key) is MISSING
    cache = SharedCache(ws_path)
    cache.store(gen, key, ["finding"], 0.1)
    file = cache.path(gen, key)
    assert file is not None
    assert file.stat().st_mode & 0o777 == 0o600  # names and amounts: the server's user only
    file.write_bytes(file.read_bytes()[:5])
    assert cache.load(gen, key) is MISSING
    assert not file.exists()


def test_the_warm_up_is_never_cut_short_a_person_is() -> None:
    """Past ``analysis_seconds`` a person's computation is interrupted (the slot is
    everyone's); the warm-up's is not — it computes the diagnosis every page needs, which a
    loaded machine once took past the budget again and again, so nobody got an overview."""
    gate = FairGate(ServerLimits(analysis_seconds=0.1))
    interrupts: list[str] = []

    def slow() -> str:
        time.sleep(0.4)
        return "done"

    assert gate.run(slow, user=WARM_UP, cancel=lambda: interrupts.append("warm-up")) == "done"
    assert interrupts == []
    gate.run(slow, user="rep1", cancel=lambda: interrupts.append("rep1"))
    assert interrupts and set(interrupts) == {"rep1"}
