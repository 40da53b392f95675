"""The shared workspace (issue 18 item 1): the dashboard's latency while an import runs beside it,
and what publishing a new generation costs the import.

Run: ``.venv/bin/python bench/shared_workspace.py [--users 8] [--seconds 20] [--old-src DIR]``

All on 127.0.0.1, on the medium demo company (``eigyo.demo.generate``, seed 0, CSVs kept under
``/tmp/eigyo-bench-shared/data`` between runs):

1. A workspace with the medium data and ``--users`` users (``dashboard_load.make_users``: an admin,
   managers, reps), served by ``eigyo serve`` in its own process.
2. Every user signs in and opens the overview once (cold: the diagnosis per scope, then cached).
3. **Idle**: for ``--seconds`` every user clicks overview, metrics explorer and the records API
   (``--think`` seconds between clicks); latency per request.
4. **During an import**: the same while ``eigyo import`` re-imports the whole medium data (560k
   rows, every row replaced by id) in another process; latency of the requests that started while it
   ran, and the import's own time. The dashboard keeps answering from the previous generation.
5. **After**: the same for ``--after-seconds`` (default ``--seconds``) once the import is
   published. With the warm-up's switch (eigyo.app._serving) the pages show the previous data,
   labelled, until the new generation's shared results are computed, then the new data: the
   report says when the first unlabelled page came (the switch) and splits the phase there.
6. With ``--old-src`` (a snapshot of the code before generations: ``git archive <commit> src``),
   the import alone, old code against new, each on a fresh copy of the same workspace.

It prints a markdown section for ``bench/RESULTS.md``. Timings depend on the machine and on what
else runs on it; the clients share the CPU with the server and the import.
"""

from __future__ import annotations

import argparse
import os
import platform
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
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx2 as httpx
from dashboard_load import PASSWORD, make_users

ROOT = Path("/tmp/eigyo-bench-shared")
EIGYO = str(Path(sys.executable).with_name("eigyo"))
PAGES = {
    "overview": "/",
    "overview filtered": "/?team={team}",  # each user's own team (an admin: the first one)
    "metrics": "/metrics",
    "api records": "/api/records/opportunities?limit=100",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def data() -> Path:
    """The medium demo company's CSVs (generated once)."""
    from eigyo.demo import generate

    out = ROOT / "data"
    if not (out / ".ready").exists():
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        generate(out, scale="medium", seed=0)
        (out / ".ready").write_text("ok", encoding="utf-8")
        log(f"generated the medium demo in {time.perf_counter() - t0:.0f} s")
    return out


def timed_import(ws: Path, src: Path, old_src: Path | None = None) -> float:
    """``eigyo import src`` in its own process; its wall time (s)."""
    env = dict(os.environ)
    cmd = [EIGYO, "import", str(src), "--workspace", str(ws)]
    if old_src is not None:
        env["PYTHONPATH"] = str(old_src)
        cmd = [sys.executable, "-c", "from eigyo.cli import main; main()", *cmd[1:]]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def serve(ws: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [EIGYO, "serve", "--workspace", str(ws), "--port", str(port), "--max-upload-mib", "1024"]
    with (ROOT / "serve.log").open("wb") as log_file:  # the server's own errors, if any
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def upload(url: str, admin: str, src: Path) -> float:
    """The dashboard's own import: every CSV of ``src`` uploaded by ``admin``, the job polled
    until it finished; its wall time (s), upload included."""
    c = login(url, admin)
    t0 = time.perf_counter()
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/import").text)
    assert token
    for _ in range(20):  # "busy" (503: the admin clicks too) is retried, as a browser would
        handles = [p.open("rb") for p in sorted(src.glob("*.csv"))]
        try:
            files = [("files", (Path(h.name).name, h, "text/csv")) for h in handles]
            r = c.post("/import", data={"csrf_token": token.group(1)}, files=files)
        finally:
            for h in handles:
                h.close()
        if r.status_code != 503:
            break
        time.sleep(float(r.headers.get("retry-after", "2")))
    job = re.search(r"/import/jobs/([0-9a-f]{32})", r.text)
    assert r.status_code == 200 and job, (r.status_code, re.sub(r"<[^>]+>", " ", r.text)[-300:])
    while True:
        polled = c.get(f"/api/import/jobs/{job.group(1)}")
        state = polled.json() if polled.status_code == 200 else {"finished": False}  # busy
        if state["finished"]:
            assert state["error"] is None, state["error"]
            break
        time.sleep(0.5)
    c.close()
    return time.perf_counter() - t0


def login(url: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=300)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"username": name, "password": PASSWORD,
                               "csrf_token": token.group(1), "next": "/"})  # fmt: skip
    assert r.status_code == 303, r.status_code
    return c


#: (start, seconds, page, status, shown): ``shown`` is "labelled" for a page showing the previous
#: data with its notice, "preparing" for the "being prepared" page (eigyo.app._serving), else "".
Sample = tuple[float, float, str, int, str]


def clicks(
    clients: list[httpx.Client], until: threading.Event, think: float, seed: int
) -> list[Sample]:
    """Every client clicks the pages until ``until``: one :data:`Sample` each."""
    out: list[Sample] = []
    lock = threading.Lock()

    def user(c: httpx.Client, rng: random.Random) -> None:
        while not until.is_set():
            page = rng.choice(list(PAGES))
            t0 = time.perf_counter()
            try:
                r = c.get(url_of(c, page))
                status, shown = r.status_code, shown_of(r.text)
            except httpx.HTTPError:  # no reply (a reset keep-alive connection): an error
                status, shown = 599, ""
            with lock:
                out.append((t0, time.perf_counter() - t0, page, status, shown))
            time.sleep(rng.expovariate(1 / think) if think else 0)

    threads = [threading.Thread(target=user, args=(c, random.Random(seed + i)))
               for i, c in enumerate(clients)]  # fmt: skip
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def url_of(c: httpx.Client, page: str) -> str:
    """The page's address for this client (its team in the filtered overview)."""
    return PAGES[page].format(team=quote(str(getattr(c, "team", ""))))


def shown_of(page: str) -> str:
    """What a page showed: "labelled", "preparing" or "" (see :data:`Sample`)."""
    if 'id="data-as-of"' in page:
        return "labelled"
    return "preparing" if 'id="preparing"' in page else ""


def until_ok(c: httpx.Client, url: str, limit_s: float = 600) -> float:
    """Seconds until ``url`` answered other than 503 "busy" or "being prepared" (reloaded after a
    second), at most about ``limit_s`` (then the page stays cold for the phases that follow)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        r = c.get(url)
        if r.status_code != 503 and shown_of(r.text) != "preparing":
            break
        time.sleep(1)
    return time.perf_counter() - t0


def row(name: str, samples: list[Sample]) -> str:
    ms = sorted(s[1] * 1000 for s in samples)
    if not ms:
        return f"| {name} | 0 | - | - | - | - |"
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    codes = Counter(s[3] for s in samples if s[3] >= 400)  # 599: no reply
    errors = ", ".join(f"{n}×{code}" for code, n in sorted(codes.items())) or "0"
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} "
            f"| {errors} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--after-seconds", type=float, default=None, help="default: --seconds")
    ap.add_argument("--think", type=float, default=0.5)
    ap.add_argument("--old-src", type=Path, default=None)
    ap.add_argument("--upload", action="store_true", help="import by the dashboard's upload")
    args = ap.parse_args()
    from eigyo import workspace
    from eigyo.ingest import import_path

    src = data()
    started = time.strftime("%Y-%m-%d %H:%M")
    load_start = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="eigyo-shared-", dir="/tmp"))
    try:
        ws_path = tmp / "ws"
        t0 = time.perf_counter()
        ws = workspace.init(ws_path)
        try:
            import_path(ws, src)
        finally:
            ws.close()
        log(f"first import in {time.perf_counter() - t0:.0f} s")
        users = make_users(ws_path, args.users)
        base = tmp / "base"  # the same workspace, for the import-alone timings
        base.mkdir()
        shutil.copy2(ws_path / "eigyo.duckdb", base / "eigyo.duckdb")
        shutil.copy2(ws_path / "eigyo.toml", base / "eigyo.toml")

        proc, url = serve(ws_path)
        try:
            clients = [login(url, u.name) for u in users]
            teams = sorted({u.team for u in users if u.team})
            for c, u in zip(clients, users, strict=True):
                c.team = u.team or teams[0]  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            for c in clients:  # each cached page once, so that "idle" is warm
                until_ok(c, "/")
                until_ok(c, url_of(c, "overview filtered"))
            cold_s = time.perf_counter() - t0
            log(f"cold overviews of {len(clients)} users in {cold_s:.0f} s")

            stop = threading.Event()
            threading.Timer(args.seconds, stop.set).start()
            idle = clicks(clients, stop, args.think, 1)
            log("idle phase done")

            stop = threading.Event()
            result: dict[str, float] = {}

            def run_import() -> None:
                try:
                    if args.upload:
                        result["import_s"] = upload(url, users[0].name, src)
                    else:
                        result["import_s"] = timed_import(ws_path, src)
                finally:  # the clients stop even when the import failed
                    result["end"] = time.perf_counter()
                    stop.set()

            result["start"] = time.perf_counter()
            importer = threading.Thread(target=run_import)
            importer.start()
            during_all = clicks(clients, stop, args.think, 2)
            importer.join()
            during = [s for s in during_all if s[0] < result["end"]]
            log(f"import beside the dashboard: {result['import_s']:.1f} s")

            stop = threading.Event()
            threading.Timer(args.after_seconds or args.seconds, stop.set).start()
            after = clicks(clients, stop, args.think, 3)
            html = [
                x for x in during_all + after if x[0] >= result["end"] and x[2] != "api records"
            ]
            labelled = [x for x in html if x[4] == "labelled"]
            preparing = [x for x in html if x[4] == "preparing"]
            fresh = [x[0] for x in html if not x[4] and x[3] == 200]
            switch = min((t for t in fresh if t > max((x[0] for x in labelled), default=0)),
                         default=None)  # fmt: skip
            for c in clients:
                c.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)

        alone: dict[str, float] = {}
        for label, old in (("new", None), ("old", args.old_src)):
            if label == "old" and old is None:
                continue
            copy = tmp / f"alone-{label}"
            shutil.copytree(base, copy)
            alone[label] = timed_import(copy, src, old)
            log(f"import alone ({label} code): {alone[label]:.1f} s")

        how = ("an admin's upload to `/import` (the import runs in the server process)"
               if args.upload else "`eigyo import` in its own process")  # fmt: skip
        cpu = os.cpu_count()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print("## Shared workspace: the dashboard during an import, medium demo (issue 18)\n")
        print(f"`.venv/bin/python bench/shared_workspace.py --users {args.users} --seconds "
              f"{args.seconds:g} --think {args.think:g}"
              f"{' --old-src ' + str(args.old_src) if args.old_src else ''}"
              f"{' --upload' if args.upload else ''}` — "
              f"{platform.machine()}, {cpu} cores (load average {load} at the end), Python "
              f"{platform.python_version()}; "
              f"{args.users} signed-in users clicking the overview, the overview filtered to "
              f"their team, the metrics explorer and the records API ({args.think:g} s mean "
              f"think time); `eigyo serve` (one process) and {how} (re-import of all 560k "
              f"rows); started {started}, load average {load_start} then. Each user's "
              f"overview and filtered overview were first opened once, one user after "
              f"another ({cold_s:.0f} s).\n")  # fmt: skip
        print("| phase | requests | p50 ms | p95 ms | max ms | errors |")
        print("|---|---|---|---|---|---|")
        print(row("idle (warm)", idle))
        print(row(f"during the import ({result['import_s']:.0f} s)", during))
        print(row("after: new generation, pages recomputed", after))
        first = [x for x in after if x[0] < result["end"] + args.seconds]
        print(row(f"after: its first {args.seconds:g} s", first))
        if switch is not None:
            print(row("after: before the switch", [x for x in after if x[0] < switch]))
            print(row("after: once switched", [x for x in after if x[0] >= switch]))
        for page in PAGES:
            for phase, samples in (("idle", idle), ("during the import", during),
                                   ("after", after)):  # fmt: skip
                print(row(f"{phase}: {page}", [s for s in samples if s[2] == page]))
        print()
        print(f"- the import beside the dashboard: {result['import_s']:.1f} s")
        print(
            f"- pages after the import showing the previous data, labelled: {len(labelled)} of "
            f'{len(html)} ("being prepared": {len(preparing)}); the first page of the new '
            f"data came "
            + ("never" if switch is None else f"{switch - result['end']:.1f} s after the import")
        )
        for label, s in alone.items():
            what = "generations (copy, write, publish)" if label == "new" else "in place (before)"
            print(f"- the import alone, {what}: {s:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
