"""The server under hostile and unlucky requests (issue 19): each probe of the issue, as a test.

Bounds on work (a simulation of 200,000 seats refused before any work), fair sharing (one user's
flood of heavy requests answered "busy" while another user's requests go through), login
throttling (40 wrong passwords then the right one: still locked), bounded password checks, body
limits counted while reading, no 500 for extreme periods or infinite amounts, no server path in an
error, cookies and HSTS over TLS, the OpenAPI description for signed-in users only, scope values
checked at ``users add``, cache keys that cannot collide, the language toggle keeping the query,
and ``serve`` stopping on SIGTERM. The company is test_app_scope's; every app here is its own
instance, so lockouts never leak into other tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import _views, add_user, create_app
from eigyo.app._limits import Busy, FairGate, HashGate, LoginThrottle, ServerLimits
from eigyo.app._scope import Principal
from eigyo.cli import app as cli_app
from eigyo.errors import EigyoError
from tests.test_app_scope import FY, company

PASSWORD = "s3cret-pass"
USERS = {
    "admin": ("admin", None, None),
    "boss": ("manager", "m1", "A"),
    "sato": ("rep", "r1", "A"),
    "tanaka": ("rep", "r3", "B"),
}


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("limits")
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    return root / "w"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _login(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": token}, follow_redirects=False)  # fmt: skip


@pytest.fixture
def client(ws_path: Path) -> Iterator[TestClient]:
    """A fresh app (fresh throttle, gate and sessions) per test."""
    with TestClient(create_app(ws_path)) as c:
        yield c


def _signed_in(ws_path: Path, user: str, limits: ServerLimits | None = None) -> TestClient:
    c = TestClient(create_app(ws_path, limits) if limits else create_app(ws_path))
    assert _login(c, user).status_code == 303
    return c


# -- 1. bounds on work -------------------------------------------------------------------------
def _no_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation work at all fails the test: refusal must come first."""

    def boom(*_: object, **__: object) -> None:
        raise AssertionError("the simulation started calibrating")

    monkeypatch.setattr("eigyo.simulate._run.calibrate", boom)


@pytest.mark.parametrize("headcount", ["sdr=100000,closer=100000", "sdr=20000,closer=20000"])
def test_dashboard_refuses_a_huge_simulation_fast(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, headcount: str
) -> None:
    _no_calibration(monkeypatch)
    assert _login(client, "boss").status_code == 303
    token = _csrf(client.get("/simulate").text)
    t0 = time.perf_counter()
    r = client.post("/simulate", data={"csrf_token": token, "structure": "assembly_line",
                                       "headcount": headcount})  # fmt: skip
    assert time.perf_counter() - t0 < 2.0
    assert r.status_code == 400, r.text[:300]
    assert "上限 500 席" in r.text


def test_dashboard_form_over_its_range_is_one_sentence(client: TestClient) -> None:
    assert _login(client, "boss").status_code == 303
    token = _csrf(client.get("/simulate").text)
    r = client.post("/simulate", data={"csrf_token": token, "horizon": "100000"})
    assert r.status_code == 422 and "horizon" in r.text and "範囲外" in r.text
    assert "<html" in r.text and '"loc"' not in r.text


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--structure", "assembly_line", "--headcount", "sdr=100000,closer=100000"], "500 seats"),
        (["--structure", "assembly_line", "--headcount", "sdr=10000,closer=10000"], "500 seats"),
        (["--horizon", "100000"], "between 1 and 60"),
        (["--replications", "1000000"], "between 2 and 100"),
        (["--replications", "100", "--horizon", "60"], "limit of 1200"),
        (["--compare", "--replications", "100"], "limit of 1200"),
        (["--seed", "-1"], "from 0 to"),
        (["--backtest", "1900-01-01..2199-12-31"], "between 1 and 60"),
    ],
)
def test_cli_refuses_work_over_the_limits(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], words: str
) -> None:
    from typer.testing import CliRunner

    _no_calibration(monkeypatch)
    t0 = time.perf_counter()
    r = CliRunner().invoke(cli_app, ["simulate", *args, "--workspace", str(ws_path),
                                     "--lang", "en"])  # fmt: skip
    assert time.perf_counter() - t0 < 5.0
    assert r.exit_code == 1 and isinstance(r.exception, EigyoError), r.output  # main(): exit 1
    assert words in str(r.exception)


# -- 2. fair sharing ---------------------------------------------------------------------------
def test_fair_gate_limits_each_person_and_takes_turns() -> None:
    gate = FairGate(ServerLimits(heavy_per_user=2, heavy_queue=4, heavy_wait_s=5))
    order: list[str] = []
    release = threading.Event()
    busy: list[str] = []

    def work(name: str) -> None:
        def compute() -> None:
            order.append(name)
            if name == "a0":
                release.wait(5)

        try:
            gate.run(compute, user=name[0])
        except Busy:
            busy.append(name)

    first = threading.Thread(target=work, args=("a0",))
    first.start()
    while not order:
        time.sleep(0.01)
    threads = [threading.Thread(target=work, args=(n,)) for n in ("a1", "a2", "a3", "b0", "b1")]
    for th in threads:
        th.start()
        time.sleep(0.05)  # arrive in this order
    release.set()
    for th in [first, *threads]:
        th.join(10)
    assert sorted(busy) == ["a2", "a3"]  # a has two admitted: a0 running, a1 waiting
    assert order == ["a0", "a1", "b0", "b1"] or order == ["a0", "b0", "a1", "b1"]


def test_fair_gate_holds_each_person_to_a_share_of_the_minute() -> None:
    now = [0.0]
    gate = FairGate(ServerLimits(heavy_seconds_per_minute=5), clock=lambda: now[0])

    def compute(seconds: float) -> None:
        now[0] += seconds

    gate.run(lambda: compute(4), user="a")
    gate.run(lambda: compute(2), user="a")  # 4 s used: still under 5
    with pytest.raises(Busy) as busy:
        gate.run(lambda: compute(1), user="a")  # 6 s used
    assert busy.value.retry_after == 58  # the first one (ended at 4 s) leaves at 64 s; now: 6 s
    assert gate.penalized("a") and not gate.penalized("b")
    gate.run(lambda: compute(1), user="b")  # another person is not affected
    now[0] = 65.0
    assert not gate.penalized("a")
    gate.run(lambda: compute(1), user="a")


def test_one_user_flooding_heavy_requests_does_not_stall_others(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 concurrent heavy requests of one rep; the admin's /api/me and heavy page go through."""
    real = _views.process

    def slow(*args: Any, **kw: Any) -> Any:
        time.sleep(0.3)
        return real(*args, **kw)

    monkeypatch.setattr(_views, "process", slow)
    flooder, other = _signed_in(ws_path, "sato"), _signed_in(ws_path, "admin")
    statuses: list[int] = []
    retry: list[str] = []

    def flood() -> None:
        r = flooder.get("/api/process")
        statuses.append(r.status_code)
        retry.append(r.headers.get("retry-after", ""))

    with flooder, other:
        threads = [threading.Thread(target=flood) for _ in range(45)]
        for th in threads:
            th.start()
        time.sleep(0.2)
        t0 = time.perf_counter()
        assert other.get("/api/me").status_code == 200
        me_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert other.get("/api/process").status_code == 200
        heavy_s = time.perf_counter() - t0
        for th in threads:
            th.join(60)
    assert me_s < 1.0, me_s
    assert heavy_s < 2.0, heavy_s  # its turn comes after at most the flooder's two
    assert statuses.count(200) <= 3 and statuses.count(503) >= 42, statuses
    assert all(r == "10" for r, s in zip(retry, statuses, strict=True) if s == 503)


def test_busy_answer_is_one_sentence_in_the_readers_language(ws_path: Path) -> None:
    limits = ServerLimits(heavy_per_user=0)  # every heavy request is over the limit
    with _signed_in(ws_path, "admin", limits) as c:
        r = c.get("/api/process")
        assert r.status_code == 503 and r.headers["retry-after"] == "10"
        assert r.json() == {
            "detail": "サーバーが混み合っています。少し待ってからもう一度お試しください。"
        }
        c.cookies.set("eigyo_lang", "en")
        assert "busy" in c.get("/api/process").json()["detail"]
        assert c.get("/api/me").status_code == 200 and c.get("/health").text == "ok"
        t0 = time.perf_counter()  # just told "busy": refused at the door, after a pause
        assert c.get("/api/records/reps").status_code == 503
        assert time.perf_counter() - t0 >= 0.9


# -- 3. login protection -----------------------------------------------------------------------
def test_forty_wrong_passwords_then_the_right_one_does_not_log_in(
    client: TestClient, ws_path: Path
) -> None:
    codes = [_login(client, "sato", f"wrong-{i}").status_code for i in range(40)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    right = _login(client, "sato")
    assert right.status_code == 429 and "eigyo_session" not in right.headers.get("set-cookie", "")
    assert int(right.headers["retry-after"]) > 60
    assert "ロック" in right.text
    lines = (ws_path / "login-failures.log").read_text(encoding="utf-8").splitlines()
    last = [json.loads(x) for x in lines[-36:]]
    assert {x["user"] for x in last} == {"sato"} and {x["result"] for x in last} >= {"locked"}
    assert all("wrong-" not in x for x in lines)  # never a password


def test_lockouts_double_and_addresses_are_throttled(tmp_path: Path) -> None:
    now = [0.0]
    th = LoginThrottle(tmp_path / "log", ServerLimits(), clock=lambda: now[0])
    for _ in range(5):
        th.failed("kim", "10.0.0.1")
    with pytest.raises(Exception, match="locked") as first:
        th.check("kim", "10.0.0.2")
    assert first.value.retry_after == 900  # type: ignore[attr-defined]
    now[0] += 901
    th.check("kim", "10.0.0.2")
    for _ in range(5):
        th.failed("kim", "10.0.0.3")
    with pytest.raises(Exception, match="locked") as second:
        th.check("kim", "10.0.0.4")
    assert second.value.retry_after == 1800  # type: ignore[attr-defined]
    for i in range(20):  # one address guessing many accounts
        th.failed(f"user{i}", "10.9.9.9")
    with pytest.raises(Exception, match="locked"):
        th.check("someone-else", "10.9.9.9")
    th.check("someone-else", "10.0.0.5")


def test_password_checks_run_two_at_a_time() -> None:
    gate = HashGate(ServerLimits(hash_concurrency=2, hash_waiting=3))
    running, peak, refused = [0], [0], [0]
    lock = threading.Lock()

    def check() -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return False

    def guess() -> None:
        try:
            gate.run(check)
        except Busy:
            with lock:
                refused[0] += 1

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak[0] == 2 and refused[0] >= 15  # 2 running + 3 waiting admitted, the rest refused


# -- 4. request size limits --------------------------------------------------------------------
def _asgi_post(app: Any, path: str, chunks: int, chunk: bytes, cookie: str = "") -> tuple[int, int]:
    """POST ``chunks`` × ``chunk`` as a streamed body (no Content-Length); the status and how
    many chunks the app pulled before answering."""
    pulled = [0]
    status = [0]

    async def receive() -> dict[str, Any]:
        pulled[0] += 1
        more = pulled[0] < chunks
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    headers = [(b"content-type", b"application/x-www-form-urlencoded"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5), "server": None,
             "app": app}  # fmt: skip

    async def main() -> None:
        await app(scope, receive, send)

    anyio.run(main)
    return status[0], pulled[0]


def test_bodies_over_the_limit_are_refused_while_reading(ws_path: Path) -> None:
    app = create_app(ws_path)
    with TestClient(app) as c:
        big = b"x" * (2 * 1024 * 1024)
        r = c.post("/login", content=big, headers={"content-type": "text/plain"})
        assert r.status_code == 413 and "上限 1 MiB" in r.text
        anon = c.post("/import", files={"files": ("leads.csv", big, "text/csv")})
        assert anon.status_code == 413  # an anonymous upload has the small limit
        # 1 GiB streamed without Content-Length: the app stops after about 1 MiB
        status, pulled = _asgi_post(app, "/login", chunks=1024, chunk=b"x" * 1024 * 1024)
        assert status == 413 and pulled <= 2, pulled
        assert _login(c, "admin").status_code == 303
        token = _csrf(c.get("/import").text)
        ok = c.post("/import", files={"files": ("leads.csv", b"lead_id,created_at\n" + big[:100],
                                                "text/csv")},
                    headers={"X-CSRF-Token": token})  # fmt: skip
        assert ok.status_code in (200, 400)  # read in full: the upload limit is 256 MiB
        assert c.post("/api/me", content=big).status_code == 413


# -- 5. no 500 for bad input -------------------------------------------------------------------
@pytest.mark.parametrize(
    "period", ["0001-01", "9999-12-01..9999-12-31", "9999-12", "FY9999", "0000-01"]
)
def test_extreme_periods_are_400_with_one_sentence(client: TestClient, period: str) -> None:
    assert _login(client, "admin").status_code == 303
    for url in ("/api/metrics", "/api/findings", "/api/process"):
        r = client.get(url, params={"period": period})
        assert r.status_code == 400, (url, r.status_code, r.text[:300])
        detail = r.json()["detail"]
        assert isinstance(detail, str) and "Traceback" not in detail and "\n" not in detail
    page = client.get("/", params={"period": period})
    assert page.status_code in (200, 400)


def test_infinite_amounts_do_not_break_findings(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        add_user(ws, "admin", PASSWORD, "admin")
        ws.raw.execute("UPDATE opportunities SET amount = 1e308 WHERE opportunity_id = 'o1'")
        ws.raw.execute(
            "UPDATE opportunities SET amount = 'inf'::DOUBLE WHERE opportunity_id = 'o2'"
        )
    with _signed_in(tmp_path / "w", "admin") as c:
        r = c.get("/api/findings", params={"period": FY})
        assert r.status_code in (200, 400), r.text[:300]
        assert "infinity" not in r.text


def test_a_non_zip_xlsx_upload_does_not_show_server_paths(client: TestClient) -> None:
    assert _login(client, "admin").status_code == 303
    token = _csrf(client.get("/import").text)
    files = {"files": ("opportunities.xlsx", b"this is not a zip file", "application/octet-stream")}
    r = client.post("/import", files=files, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    job = re.search(r'id="job-([0-9a-f]+)"', r.text)
    text = r.text
    if job:
        for _ in range(100):
            status = client.get(f"/api/import/jobs/{job.group(1)}").json()
            if status["finished"]:
                break
            time.sleep(0.1)
        text = json.dumps(status)
        assert status["error"] or status["report"]
    assert "eigyo-upload-" not in text and "/tmp" not in text, text


# -- 6. cookies, TLS and small items -----------------------------------------------------------
def test_secure_cookies_and_hsts_over_tls(ws_path: Path) -> None:
    with TestClient(create_app(ws_path), base_url="https://testserver") as c:
        r = _login(c, "admin")
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
        assert c.get("/login").headers["strict-transport-security"].startswith("max-age=")
    with TestClient(create_app(ws_path)) as c:
        assert "strict-transport-security" not in c.get("/login").headers


def test_openapi_only_for_signed_in_users(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/api/openapi.json").status_code == 401
    assert _login(client, "sato").status_code == 303
    assert "/api/metrics" in client.get("/api/openapi.json").json()["paths"]


def test_users_add_checks_the_scope_against_the_data(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    company(tmp_path).close()
    w = str(tmp_path / "w")
    run = CliRunner().invoke
    base = ["users", "add", "kim", "--password-stdin", "--workspace", w, "--lang", "en"]
    r = run(cli_app, [*base, "--role", "rep", "--rep-id", "nobody"], input="long-password\n")
    assert r.exit_code == 1 and isinstance(r.exception, EigyoError)
    assert "nobody" in str(r.exception) and "r1" in str(r.exception)
    r = run(cli_app, [*base, "--role", "manager", "--team", "Z"], input="long-password\n")
    assert r.exit_code == 1 and "Team Z" in str(r.exception)
    r = run(cli_app, [*base, "--role", "manager", "--team", "A"], input="long-password\n")
    assert r.exit_code == 0, r.output


def test_scope_cache_keys_cannot_collide() -> None:
    a = Principal("u1", "manager", "a|b", None)
    b = Principal("u2", "manager", "a", "b|")
    c = Principal("u3", "manager", "a|b", "")
    assert len({a.key, b.key, c.key}) == 3


def test_language_toggle_keeps_the_query(client: TestClient) -> None:
    assert _login(client, "admin").status_code == 303
    page = client.get("/metrics", params={"by": "team", "metric": "bookings"}).text
    href = re.search(r'id="lang-toggle" href="([^"]+)"', page)
    assert href
    r = client.get(href.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert r.headers["location"] == "/metrics?by=team&metric=bookings"


# -- 1 (again). the server stops on SIGTERM ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_stops_on_sigterm(ws_path: Path) -> None:
    port = _free_port()
    cmd = [str(Path(sys.executable).with_name("eigyo")), "serve", "--workspace", str(ws_path),
           "--port", str(port)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        # a request in flight that never ends: its body announced but not sent
        stuck = socket.create_connection(("127.0.0.1", port), timeout=5)
        head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
        form = "Content-Type: application/x-www-form-urlencoded\r\n\r\nusername="
        stuck.sendall((head + form).encode())
        time.sleep(0.5)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            stuck.close()
        assert time.monotonic() - t0 < 20  # the grace period (10 s), not the request, decides
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
