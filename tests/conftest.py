"""Session fixtures for the engine tests: a real PostgreSQL server and a local Spark session.

PostgreSQL: ``initdb`` and ``pg_ctl`` refuse to run as root, so as root (CI) they run as the
``postgres`` OS user, with the data folder and the unix socket in a temporary folder that user
owns; the server listens on a free loopback port with trust authentication and is stopped when
the session ends. Spark: ``local[2]`` with a temporary warehouse folder and two shuffle
partitions (the default 200 makes every small query slow).

A missing server or Java skips those tests with the reason on a developer's machine; with
``CI=true`` it fails them instead, so a missing install step in ``scripts/ci-setup.sh`` cannot
hide behind a green run. The time each fixture took to start is printed at the end of the run.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SETUP = "scripts/ci-setup.sh"
#: Seconds each engine fixture took to start, reported in the terminal summary.
STARTUP: dict[str, float] = {}


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where every engine must be installed."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: {SETUP} must install it)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class PgServer:
    """A running throwaway PostgreSQL server on 127.0.0.1."""

    port: int
    user: str = "postgres"
    database: str = "postgres"

    def url(self, schema: str = "eigyo") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}?schema={schema}"


def _pg_bindir() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    """As root, run the command as ``postgres`` (runuser, else su); otherwise as ourselves."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "-s", "/bin/sh", "postgres", "-c", shlex.join(cmd)]


def _run(cmd: list[str], what: str, log: Path | None = None) -> None:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        extra = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{extra}")


def _server_folder() -> Path:
    """A temporary folder the server user owns (pytest's own tmp is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="eigyo-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            unavailable("running as root needs the OS user 'postgres' to start PostgreSQL")
        os.chown(base, user.pw_uid, user.pw_gid)
    return base


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """Start PostgreSQL (initdb + pg_ctl) on a free loopback port; stop it after the session."""
    bindir = _pg_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
        return
    started = time.perf_counter()
    base = _server_folder()
    data, log, port = base / "data", base / "server.log", _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
          "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")  # fmt: skip
    opts = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = str(bindir / "pg_ctl")
    _run([pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
         "pg_ctl start", log)  # fmt: skip
    STARTUP["PostgreSQL server"] = time.perf_counter() - started
    try:
        yield PgServer(port)
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ``local[2]`` Spark session with a temporary warehouse folder, stopped at the end."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("pyspark is not installed (pip install 'eigyo[spark]')")
        return
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        unavailable("Java 17 (needed by Spark) is not installed")
    started = time.perf_counter()
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("eigyo-tests")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    STARTUP["Spark session"] = time.perf_counter() - started
    try:
        yield session
    finally:
        session.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report how long each engine fixture and the timed engine tests took."""
    if STARTUP:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in STARTUP.items())
        terminalreporter.write_line(f"engine timings: {parts}")
