"""``eigyo sync`` against CRM APIs on the loopback interface: records/s, peak memory, and the time
spent waiting on the rate limit, reported apart from the rest.

The servers (tests/_sync_kintone.py, tests/_sync_hubspot.py: the vendors' documented contracts)
run in their own process, so the sync's figures are its own: each sync runs in a child process
whose peak RSS is its ``ru_maxrss``. kintone is served record by record from ``$id`` (nothing held
in the server); the server answers the first requests with 429 ``Retry-After: 1`` to show the wait.

    python bench/sync.py [--kintone 200000] [--hubspot 20000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))  # the loopback servers of the tests

_SYNC = """
import json, os, resource, sys, time
from pathlib import Path
from eigyo import workspace
from eigyo.sync import connector, run_sync
crm, url, ws, env, token = sys.argv[1:6]
workspace.init(Path(ws)).close()
cfg = Path(ws) / "eigyo.toml"
section = {"kintone": f'base_url = "{url}"\\napps = [12]', "hubspot": f'base_url = "{url}"'}[crm]
cfg.write_text(cfg.read_text() + f"\\n[sync.{crm}]\\n{section}\\n")
os.environ[env] = token
t = time.perf_counter()
rep = run_sync(Path(ws), connector(crm, Path(ws), "Asia/Tokyo"), lang="en")
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "records": sum(rep.fetched.values()),
    "loaded": rep.imported.loaded if rep.imported else 0, "requests": rep.requests,
    "rate_wait_s": rep.rate_wait_s,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _kintone_server(total: int, throttle: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    from tests._sync_kintone import App, record
    from tests._sync_server import Reply, Request, Server

    app = App(0)

    def handle(req: Request) -> Reply:
        if req.path != "/k/v1/records.json":
            return app.handle(req)
        m = re.search(r"\$id > (\d+) .*limit (\d+)", req.arg("query"))
        assert m
        last, limit = int(m.group(1)), int(m.group(2))
        rows = [record(i) for i in range(last + 1, min(last + limit, total) + 1)]
        return Reply(200, {"records": rows, "totalCount": None})

    with Server(handle) as s:
        s.faults.throttle, s.faults.only = throttle, "records.json"
        q.put(s.url)
        mp.Event().wait()  # until terminated


def _hubspot_server(deals: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    from tests._sync_hubspot import Portal
    from tests._sync_server import Server

    with Server(Portal(deals, deals // 5).handle) as s:
        q.put(s.url)
        mp.Event().wait()


def _run(crm: str, target: object, args: tuple[object, ...], env: str, token: str) -> dict:  # type: ignore[type-arg]
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    server = mp.Process(target=target, args=(*args, q), daemon=True)
    server.start()
    try:
        url = q.get(timeout=600)
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", _SYNC, crm, url, str(Path(tmp) / "ws"), env, token],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        return dict(json.loads(out.strip().splitlines()[-1]))
    finally:
        server.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kintone", type=int, default=200_000)
    ap.add_argument("--hubspot", type=int, default=20_000)
    a = ap.parse_args()
    from tests._sync_hubspot import TOKEN as HS
    from tests._sync_kintone import TOKEN as KT

    rows = [
        (
            "kintone",
            f"{a.kintone:,} deals",
            _run("kintone", _kintone_server, (a.kintone, 3), "EIGYO_KINTONE_TOKEN", KT),
        ),
        (
            "HubSpot",
            f"{a.hubspot:,} deals; contacts, companies, calls, meetings, e-mails, tasks",
            _run("hubspot", _hubspot_server, (a.hubspot,), "EIGYO_HUBSPOT_TOKEN", HS),
        ),
    ]
    print(
        "| CRM | records | requests | seconds | records/s | records/s without rate waits "
        "| rate-limit wait (s) | peak RSS (MB) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for crm, what, r in rows:
        busy = r["seconds"] - r["rate_wait_s"]
        print(
            f"| {crm} | {r['records']:,} ({what}) | {r['requests']:,} | {r['seconds']:.1f} | "
            f"{r['records'] / r['seconds']:,.0f} | {r['records'] / busy:,.0f} | "
            f"{r['rate_wait_s']:.1f} | {r['rss_mb']:,.0f} |"
        )
    print(
        "\nSeconds cover fetching, staging, writing the export and the import (one process). "
        "kintone: 3 answers of 429 `Retry-After: 1` at the start; HubSpot: the search API's "
        "4 requests/s, kept by the client (its wait is the rate-limit column)."
    )


if __name__ == "__main__":
    main()
