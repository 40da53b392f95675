"""Load test of the dashboard: 50 concurrent signed-in users on the medium demo company.

Run: ``.venv/bin/python bench/dashboard_load.py [--seconds 60] [--users 50]``

What it does, all on 127.0.0.1 and bounded in time:

1. Builds the medium demo workspace (``eigyo.demo.generate`` + ``eigyo.ingest.import_path``, about
   a minute) under ``/tmp/eigyo-bench-medium``, or reuses it when it is already there.
2. Adds the users (``eigyo.app.add_user``): a few admins, one manager per team, and reps with
   real rep ids of the data, spread over the teams.
3. Serves ``create_app(workspace)`` with uvicorn in a child process on a free loopback port.
4. Signs every user in through the real login form (its CSRF token and cookie).
5. **Cold**: all users open the overview at once (the Monday-morning login storm), then each
   runbook step page once. The overview runs the full diagnosis once per *scope* (what a person
   may see) and caches it, so this is the cost of the first visit of each scope.
6. **Warm**: for ``--seconds`` seconds every user clicks through the overview, the step pages,
   the metrics explorer and the JSON API (``/api/records/opportunities``), in an order fixed by a
   seed, with ``--think`` seconds (mean, exponential) between clicks.
7. **Saturation**: the same with no think time, so all users have a request in flight always.

``--flood N`` (issue 19) replaces steps 5–7: every scope's pages are first computed one after
another (retrying on 503, as a browser's reload would), then for ``--seconds`` one rep keeps
``N`` heavy requests in flight (``/api/process``, computed anew each time) while the other users
click as in step 6; it reports the others' latency (target: p95 < 1 s) and how the flooder was
answered (mostly 503 "busy" once over the per-user limit).

It prints a markdown section (for ``bench/RESULTS.md``): per page, requests, p50/p95/p99 latency
and errors, cold and warm apart. ``--profile`` also profiles one cold and one warm overview in
process (cProfile) and prints the top functions. Timings depend on the machine and on what else
runs on it; the client threads share the CPU with the server.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx2 as httpx

from eigyo.diagnose.model import STEPS

CACHE = Path("/tmp/eigyo-bench-medium")
PASSWORD = "bench-password"
#: Warm-phase pages: name → URL (the explorer and the API are not cached by the app).
PAGES: dict[str, str] = {
    "overview": "/",
    **{f"step:{s}": f"/steps/{s}" for s in STEPS},
    "metrics explorer": "/metrics",
    "api records": "/api/records/opportunities?limit=100",
}
TARGET_MS = 300.0
#: ``--pages overview``: what issue 18's target names — the overview, the overview filtered to a
#: team (per user: their own team; an admin the first team) — and the plain queries.
OVERVIEW_PAGES = ("overview", "overview filtered", "metrics explorer", "api records")
#: Issue 20's target: 50 users arriving at once see the overview with p95 < 5 s.
STORM_TARGET_MS = 5000.0


# -- 1. workspace and users ------------------------------------------------------------------
def build_workspace(root: Path) -> Path:
    """The medium demo workspace (cached between runs)."""
    from eigyo import workspace
    from eigyo.demo import generate
    from eigyo.ingest import import_path

    ws_path = root / "ws"
    if (ws_path / ".ready").exists():
        log(f"reusing the workspace {ws_path}")
        return ws_path
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), scale="medium", seed=0)
        ws = workspace.init(ws_path, exist_ok=True)
        try:
            report = import_path(ws, Path(tmp))
        finally:
            ws.close()
    (ws_path / ".ready").write_text(str(report.loaded), encoding="utf-8")
    log(f"built the medium workspace in {time.perf_counter() - t0:.0f} s")
    return ws_path


@dataclass(frozen=True)
class BenchUser:
    name: str
    role: Literal["admin", "manager", "rep"]
    rep_id: str | None
    team: str | None


def make_users(ws_path: Path, n: int) -> list[BenchUser]:
    """~8% admins, one manager per team (at most ~12%), the rest reps spread over the teams."""
    from eigyo.app import add_user, list_users
    from eigyo.workspace import open_workspace

    with open_workspace(ws_path) as ws:
        reps = ws.raw.execute(
            "SELECT rep_id, team FROM reps WHERE team IS NOT NULL ORDER BY team, rep_id"
        ).fetchall()
        by_team: dict[str, list[str]] = defaultdict(list)
        for rep_id, team in reps:
            by_team[str(team)].append(str(rep_id))
        teams = sorted(by_team)
        n_admin = max(1, round(n * 0.08))
        n_manager = min(len(teams), max(1, round(n * 0.12)))
        users = [BenchUser(f"admin{i}", "admin", None, None) for i in range(n_admin)]
        users += [BenchUser(f"mgr{i}", "manager", None, teams[i]) for i in range(n_manager)]
        for i in range(n - len(users)):
            team = teams[i % len(teams)]
            rep = by_team[team][(i // len(teams)) % len(by_team[team])]
            users.append(BenchUser(f"rep{i}", "rep", rep, team))
        existing = {(u.username, u.role, u.rep_id, u.team) for u in list_users(ws)}
        for u in users:
            if (u.name, u.role, u.rep_id, u.team) not in existing:
                add_user(ws, u.name, PASSWORD, u.role, rep_id=u.rep_id, team=u.team, replace=True)
    return users


# -- 2. the server ---------------------------------------------------------------------------
SERVER = """
import sys, uvicorn
from pathlib import Path
from eigyo.app import create_app
limits = {}
if sys.argv[3:] == ["warm"]:  # eigyo serve's background warm-up (code without it: no option)
    from eigyo.app._limits import ServerLimits
    limits = {"limits": ServerLimits(warm_up=True)}
uvicorn.run(create_app(Path(sys.argv[1]), **limits), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(ws_path: Path, warm: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    extra = ["warm"] if warm else []
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(ws_path), str(port), *extra])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the server did not start within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_warm(ws_path: Path, scopes: int, limit_s: float = 1200) -> float:
    """Seconds until the server's warm-up has stored an overview for each of ``scopes`` scopes
    (its ``cache/<generation>/computed.log``, eigyo.app._shared_cache)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        done = sum(
            len(re.findall(r"s overview ", f.read_text(encoding="utf-8")))
            for f in (ws_path / "cache").glob("*/computed.log")
        )
        if done >= scopes:
            return time.perf_counter() - t0
        time.sleep(1)
    raise SystemExit(f"the warm-up did not finish within {limit_s:.0f} s")


# -- 3. clients ------------------------------------------------------------------------------
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(base: str, user: BenchUser) -> httpx.Client:
    """A client signed in through the real login form (double-submit CSRF token)."""
    client = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
    page = client.get("/login")
    token = _CSRF.search(page.text)
    assert token, "no CSRF token on the login page"
    form = {"username": user.name, "password": PASSWORD, "csrf_token": token.group(1)}
    r = client.post("/login", data=form)
    if r.status_code != 303 or "eigyo_session" not in client.cookies:
        raise SystemExit(f"login of {user.name} failed: {r.status_code}")
    return client


@dataclass
class Sample:
    page: str
    seconds: float
    status: int  # 0: no response (transport error)


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, client: httpx.Client, page: str, url: str) -> None:
        t0 = time.perf_counter()
        try:
            status = client.get(url).status_code
        except httpx.HTTPError:
            status = 0
        dt = time.perf_counter() - t0
        with self.lock:
            self.samples.append(Sample(page, dt, status))


def page_urls(user: BenchUser, teams: list[str], pages: str) -> dict[str, str]:
    """The pages one user clicks: every page (``all``) or issue 18's (``overview``)."""
    if pages == "all":
        return PAGES
    team = user.team or teams[0]
    return {
        "overview": "/",
        "overview filtered": f"/?team={quote(team)}",
        "metrics explorer": PAGES["metrics explorer"],
        "api records": PAGES["api records"],
    }


def until_ok(client: httpx.Client, url: str) -> tuple[int, float]:
    """GET ``url``, reloading a second after each 503 "busy" as a person would: the first
    answer's status and the seconds until the page was seen (or the last error)."""
    t0 = time.perf_counter()
    first = 0
    while True:
        try:
            status = client.get(url).status_code
        except httpx.HTTPError:
            status = 0
        first = first or status or -1
        if status != 503 or time.perf_counter() - t0 > 600:
            return (first if first > 0 else 0), time.perf_counter() - t0
        time.sleep(1)


def cold_phase(
    clients: list[httpx.Client], urls: list[dict[str, str]], pages: str
) -> tuple[Recorder, Recorder, Recorder, float]:
    """Everyone opens the overview at the same moment (reloading after "busy"); then each of
    their other cached pages once (step pages, or the filtered overview and the explorer), one
    after another, so that the warm phase is warm."""
    overview, first, steps = Recorder(), Recorder(), Recorder()
    t0 = time.perf_counter()
    barrier = threading.Barrier(len(clients))

    def one(client: httpx.Client, mine: dict[str, str]) -> None:
        barrier.wait()
        status, seconds = until_ok(client, "/")
        with overview.lock:
            first.samples.append(Sample("overview", seconds, status))
            overview.samples.append(Sample("overview", seconds, 200 if status else 0))
        later = (
            [f"step:{s}" for s in STEPS]
            if pages == "all"
            else ["overview filtered", "metrics explorer"]  # the cached ones (records: a query)
        )
        for name in later:
            status, seconds = until_ok(client, mine[name])
            with steps.lock:
                steps.samples.append(Sample(name, seconds, status))

    run_threads([lambda c=c, u=u: one(c, u) for c, u in zip(clients, urls, strict=True)])
    return overview, first, steps, time.perf_counter() - t0


def warm_phase(
    clients: list[httpx.Client], urls: list[dict[str, str]], seconds: float, seed: int,
    think: float,
) -> Recorder:  # fmt: skip
    """Every user loops over random pages; ``think``: mean seconds between clicks (0: none)."""
    rec = Recorder()
    deadline = time.monotonic() + seconds

    def loop(i: int, client: httpx.Client) -> None:
        rng = random.Random(seed * 1000 + i)
        names = list(urls[i])
        while time.monotonic() < deadline:
            page = rng.choice(names)
            rec.get(client, page, urls[i][page])
            if think:
                time.sleep(min(rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))

    run_threads([lambda i=i, c=c: loop(i, c) for i, c in enumerate(clients)])
    return rec


def prime(clients: list[httpx.Client]) -> float:
    """Every scope's overview and step pages computed once, one after another (a 503 "busy" is
    retried after a second, as a person would reload), so the flood phase starts warm."""
    t0 = time.perf_counter()
    for client in clients:
        for url in ["/", *(f"/steps/{s}" for s in STEPS)]:
            while client.get(url).status_code == 503:
                time.sleep(1)
    return time.perf_counter() - t0


FLOOD_URL = "/api/process"
FLOOD_PAGE = "flooder: api process"
#: The flooder runs in its own process (as a real script would), so its threads do not take the
#: measuring clients' GIL; it prints one line per request: status and seconds.
FLOODER = """
import sys, threading, time
import httpx2 as httpx
base, cookie, url = sys.argv[1], sys.argv[2], sys.argv[5]
n, seconds = int(sys.argv[3]), float(sys.argv[4])
deadline = time.monotonic() + seconds
out, lock = [], threading.Lock()
def hammer():
    with httpx.Client(base_url=base, timeout=600, cookies={"eigyo_session": cookie}) as c:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                status = c.get(url).status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                out.append((status, time.perf_counter() - t0))
threads = [threading.Thread(target=hammer) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print("\\n".join(f"{s} {dt:.4f}" for s, dt in out))
"""


def flood_phase(
    clients: list[httpx.Client], flooder: httpx.Client, n: int, seconds: float, seed: int,
    think: float,
) -> tuple[Recorder, Recorder]:  # fmt: skip
    """``n`` threads of one user sending heavy requests back to back while the others click."""
    flood = Recorder()
    deadline = time.monotonic() + seconds
    cookie = flooder.cookies.get("eigyo_session") or ""
    args = [str(flooder.base_url).rstrip("/"), cookie, str(n), str(seconds), FLOOD_URL]
    proc = subprocess.Popen([sys.executable, "-c", FLOODER, *args], stdout=subprocess.PIPE)
    others = Recorder()

    def loop(i: int, client: httpx.Client) -> None:
        rng = random.Random(seed * 1000 + i)
        names = list(PAGES)
        while time.monotonic() < deadline:
            page = rng.choice(names)
            others.get(client, page, PAGES[page])
            if think:
                time.sleep(min(rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))

    run_threads([lambda i=i, c=c: loop(i, c) for i, c in enumerate(clients)])
    lines, _ = proc.communicate(timeout=seconds + 600)
    for row in lines.decode().splitlines():
        status, dt = row.split()
        flood.samples.append(Sample(FLOOD_PAGE, float(dt), int(status)))
    return others, flood


def flood_report(
    users: list[BenchUser], others: Recorder, flood: Recorder, n: int, seconds: float,
    think: float, primed_s: float, argv: list[str],
) -> str:  # fmt: skip
    ms = [s.seconds * 1000 for s in others.samples]
    p95 = pct(ms, 95) if ms else float("nan")
    errors = sum(s.status != 200 for s in others.samples)
    verdict = "meets" if p95 < 1000 and not errors else "misses"
    codes: dict[int, int] = defaultdict(int)
    for s in flood.samples:
        codes[s.status] += 1
    answered = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))
    head = [
        f"## One user flooding heavy requests, {len(users) - 1} others clicking (issue 19)",
        "",
        f"`.venv/bin/python bench/dashboard_load.py {' '.join(argv)}`".replace(" `", "`"),
        f"on {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores shared by the server, the client "
        f"threads and other jobs. Every scope's pages were computed first ({primed_s:.0f} s, "
        f"one after another). Then for {seconds:.0f} s one rep (a separate process, ignoring "
        f"`Retry-After`) kept {n} requests to "
        f"`{FLOOD_URL}` in flight (each a new process-map computation) while the "
        f"{len(users) - 1} others clicked through the pages with {think:g} s mean think time.",
        "",
        f"**Others' p95 over all pages: {p95:.0f} ms, {errors} errors — {verdict} the 1 s "
        f"target.** The flooder's {len(flood.samples)} requests were answered {answered}.",
        "",
    ]
    return "\n".join([*head, *table(others, list(PAGES)), "", *table(flood, [FLOOD_PAGE])])


def run_threads(jobs: list[Any]) -> None:
    threads = [threading.Thread(target=j, daemon=True) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# -- 4. report -------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def table(rec: Recorder, order: list[str]) -> list[str]:
    rows = ["| page | requests | p50 ms | p95 ms | p99 ms | max ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    by: dict[str, list[Sample]] = defaultdict(list)
    for s in rec.samples:
        by[s.page].append(s)
    for page in order:
        got = by.get(page)
        if not got:
            continue
        ms = [s.seconds * 1000 for s in got]
        codes = sorted({s.status for s in got if s.status != 200})
        bad = [f"{sum(s.status == c for s in got)}×{c or 'no reply'}" for c in codes]
        errors = ", ".join(bad) or "0"
        rows.append(f"| {page} | {len(ms)} | {pct(ms, 50):.0f} | {pct(ms, 95):.0f} | "
                    f"{pct(ms, 99):.0f} | {max(ms):.0f} | {errors} |")  # fmt: skip
    return rows


def report(users: list[BenchUser], cold: tuple[Recorder, Recorder, Recorder, float],
           warm: Recorder, stress: Recorder | None, seconds: float, think: float,
           argv: list[str], order: list[str], start: str) -> str:  # fmt: skip
    overview, first, later, cold_s = cold
    roles = {r: sum(u.role == r for u in users) for r in ("admin", "manager", "rep")}
    scopes = len({(u.role, u.rep_id, u.team) if u.role != "admin" else "admin" for u in users})
    warm_ov = [s.seconds * 1000 for s in warm.samples if s.page.startswith("overview")]
    p95 = pct(warm_ov, 95) if warm_ov else float("nan")
    verdict = "meets" if p95 < TARGET_MS else "misses"
    storm = [s.seconds * 1000 for s in overview.samples]
    storm95 = pct(storm, 95) if storm else float("nan")
    storm_verdict = "meets" if storm95 < STORM_TARGET_MS else "misses"
    firsts: dict[int, int] = defaultdict(int)
    for smp in first.samples:
        firsts[smp.status] += 1
    answered = ", ".join(f"{k or 'no reply'}: {v}" for k, v in sorted(firsts.items()))
    total = len(warm.samples)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"## Dashboard under load: {len(users)} concurrent users, medium demo",
        "",
        f"`.venv/bin/python bench/dashboard_load.py {' '.join(argv)}`".replace(" `", "`"),
        f"on {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores shared by the server (one uvicorn "
        f"process), the client threads and other jobs (load average {load} at the end). Users: "
        f"{roles['admin']} admins, {roles['manager']} managers (one team each), {roles['rep']} "
        f"reps (real rep ids), {scopes} distinct scopes. Latency is measured by the client, "
        f"login excluded. Server start: {start}.",
        "",
        f"**Arriving at once: overview p95 {storm95:.0f} ms — {storm_verdict} the "
        f"{STORM_TARGET_MS / 1000:.0f} s target. Warm overview (plain and filtered) p95 with "
        f"{think:g} s mean think time: {p95:.0f} ms — {verdict} the {TARGET_MS:.0f} ms target.**",
        "",
        f"### Cold: {len(users)} users arriving at once ({cold_s:.0f} s for the whole phase)",
        "",
        'Everyone opens the overview at the same moment; a 503 "busy" is reloaded after 1 s '
        "and the latency is the time until the page was seen. First answers: "
        f"{answered}. Then each user's other pages once, one after another.",
        "",
        *table(overview, ["overview"]),
        *table(later, [p for p in dict.fromkeys([*PAGES, *OVERVIEW_PAGES]) if p != "overview"])[2:],
        "",
        f"### Warm: {seconds:.0f} s of {len(users)} users clicking through the pages, "
        f"{think:g} s mean think time ({total} requests, {total / seconds:.1f} req/s)",
        "",
        *table(warm, order),
    ]
    if stress is not None:
        n_stress = len(stress.samples)
        lines += [
            "",
            f"### Saturation: {seconds:.0f} s of {len(users)} users with no think time "
            f"({len(users)} requests always in flight; {n_stress} requests, "
            f"{n_stress / seconds:.1f} req/s)",
            "",
            "Latency here is mostly queueing: it is the number in flight divided by throughput.",
            "",
            *table(stress, order),
        ]
    return "\n".join(lines)


# -- 5. profile ------------------------------------------------------------------------------
def profile_overview(ws_path: Path, user: BenchUser) -> str:
    """cProfile of what a cold overview computes for ``user`` (diagnosis, tiles) in this thread,
    and the time of a cold and a warm overview request through the app (TestClient)."""
    from fastapi.testclient import TestClient

    from eigyo.app import _views as views
    from eigyo.app import create_app
    from eigyo.app._scope import Principal
    from eigyo.app._state import AppState

    st = AppState(ws_path)
    try:
        sw = st.scoped(Principal(user.name, user.role, user.rep_id, user.team))
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        period = views.period_of(sw, None)
        found = views.findings(sw, period)
        views.overview(sw, period, found, "ja")
        prof.disable()
        cold_s = time.perf_counter() - t0
    finally:
        st.close()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
    out = [f"--- cold overview computation of {user.name}: {cold_s:.3f} s ---", buf.getvalue()]
    with TestClient(create_app(ws_path)) as client:
        token = _CSRF.search(client.get("/login").text)
        assert token
        form = {"username": user.name, "password": PASSWORD, "csrf_token": token.group(1)}
        client.post("/login", data=form, follow_redirects=False)
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            status = client.get("/").status_code
            out.append(f"{label} overview request: {status}, {time.perf_counter() - t0:.3f} s")
    return "\n".join(out)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=60, help="length of the warm phase")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--think", type=float, default=2.0, help="mean seconds between clicks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the workspace is kept")
    ap.add_argument("--profile", action="store_true", help="also profile one overview")
    ap.add_argument(
        "--flood", type=int, default=0, help="one user's heavy requests in flight (issue 19)"
    )
    ap.add_argument(
        "--pages",
        choices=("all", "overview"),
        default="all",
        help="all pages, or issue 18's: overview, filtered overview, explorer, API",
    )
    ap.add_argument("--warm-up", action="store_true", help="serve with the background warm-up")
    ap.add_argument(
        "--restart-warm",
        action="store_true",
        help="warm the generation up in a first server, measure a restarted one",
    )
    ap.add_argument("--no-saturation", action="store_true", help="skip the no-think phase")
    args = ap.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the server is stopped too
    ws_path = build_workspace(args.cache)
    users = make_users(ws_path, args.users)
    if args.profile:
        print(profile_overview(ws_path, next(u for u in users if u.role == "rep")))
        return
    start = "fresh, nothing computed"
    if args.restart_warm:  # a first server warms the generation up, a fresh process serves
        shutil.rmtree(ws_path / "cache", ignore_errors=True)
        proc, _ = start_server(ws_path, warm=True)
        try:
            n = len({(u.role, u.rep_id, u.team) if u.role != "admin" else "admin" for u in users})
            warmed_s = wait_warm(ws_path, n)
        finally:
            stop_server(proc)
        log(f"warm-up of {n} scopes in {warmed_s:.0f} s; restarting")
        start = (f"restarted after a warm-up ({warmed_s:.0f} s for {n} scopes) had persisted "
                 "the generation's results")  # fmt: skip
    elif args.warm_up:
        shutil.rmtree(ws_path / "cache", ignore_errors=True)
        start = "fresh, nothing persisted; the background warm-up starts with the users"
    proc, base = start_server(ws_path, warm=args.warm_up or args.restart_warm)
    try:
        t0 = time.perf_counter()
        clients: list[httpx.Client] = []
        for u in users:
            clients.append(login(base, u))
        log(f"{len(clients)} users signed in ({time.perf_counter() - t0:.1f} s)")
        if args.flood:
            primed_s = prime(clients)
            log(f"every scope computed in {primed_s:.0f} s")
            flooder = login(base, next(u for u in reversed(users) if u.role == "rep"))
            others, flood = flood_phase(
                clients[:-1], flooder, args.flood, args.seconds, args.seed, args.think
            )
            log(f"flood phase done: {len(others.samples)} + {len(flood.samples)} requests")
            print(flood_report(users, others, flood, args.flood, args.seconds, args.think,
                               primed_s, argv))  # fmt: skip
            return
        teams = sorted({u.team for u in users if u.team})
        urls = [page_urls(u, teams, args.pages) for u in users]
        cold = cold_phase(clients, urls, args.pages)
        log(f"cold phase done in {cold[3]:.0f} s")
        warm = warm_phase(clients, urls, args.seconds, args.seed, args.think)
        log(f"warm phase done: {len(warm.samples)} requests")
        stress = None
        if not args.no_saturation:
            stress = warm_phase(clients, urls, args.seconds, args.seed + 1, 0.0)
            log(f"saturation phase done: {len(stress.samples)} requests")
        for c in clients:
            c.close()
    finally:
        stop_server(proc)
    order = list(PAGES) if args.pages == "all" else list(OVERVIEW_PAGES)
    print(report(users, cold, warm, stress, args.seconds, args.think, argv, order, start))


if __name__ == "__main__":
    main(sys.argv[1:])
