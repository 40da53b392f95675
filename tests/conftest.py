"""Session fixtures: the demo company, the public-data locator, PostgreSQL and Spark.

The demo company (small, seed 0; planted and clean) is generated and imported once per session
into a ``tmp_path_factory`` folder laid out as ``eigyo demo`` writes it (``data/``,
``workspace/``, ``report.html``); tests read it and never write it (open it with
``read_only=True``). A test that changes a workspace takes ``demo_copy``, a copy of its own.

Tests that read the public data sets mark themselves with ``tests._data.needs_data``; the paths
are checked here before the test's fixtures start (skipped locally, failed in CI).

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
from typing import TYPE_CHECKING, Any

import pytest

from tests import _data

if TYPE_CHECKING:
    from eigyo.demo import DemoResult
    from eigyo.runbook import RunResult
    from eigyo.workspace import Workspace

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


# ------------------------------------------------------------------ the demo company


@dataclass(frozen=True)
class Demo:
    """The small demo company (seed 0) as ``eigyo demo`` lays it out under ``root``."""

    root: Path
    data: DemoResult  # root/data: the canonical CSVs and truth.json
    workspace: Path  # root/workspace: the CSVs imported; shared, so open it read-only

    def open(self) -> Workspace:
        from eigyo.workspace import open_workspace

        return open_workspace(self.workspace, read_only=True)

    def copy(self, dst: Path) -> Path:
        """A writable copy of the workspace in ``dst``: its database and its eigyo.toml."""
        from eigyo.settings import SETTINGS_FILE
        from eigyo.workspace import DB_FILE

        dst.mkdir(parents=True, exist_ok=True)
        for name in (DB_FILE, SETTINGS_FILE):
            shutil.copy2(self.workspace / name, dst / name)
        return dst


def _generate(tmp_path_factory: pytest.TempPathFactory, clean: bool) -> DemoResult:
    from eigyo.demo import generate

    started = time.perf_counter()
    root = tmp_path_factory.mktemp("demo-clean" if clean else "demo")
    gen = generate(root / "data", scale="small", seed=0, clean=clean)
    STARTUP[f"demo generate{' (clean)' if clean else ''}"] = time.perf_counter() - started
    return gen


def _import(gen: DemoResult, clean: bool) -> Demo:
    """Import the generated CSVs as ``run_demo`` does (workspace named after the company)."""
    from eigyo import workspace
    from eigyo.ingest import import_path

    started = time.perf_counter()
    root = gen.out_dir.parent
    ws = workspace.init(root / "workspace", name=gen.company)
    try:
        import_path(ws, gen.out_dir)
    finally:
        ws.close()
    STARTUP[f"demo import{' (clean)' if clean else ''}"] = time.perf_counter() - started
    return Demo(root, gen, root / "workspace")


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The demo company's CSVs (small, seed 0, problems planted); read them, never write."""
    return _generate(tmp_path_factory, clean=False)


@pytest.fixture(scope="session")
def clean_demo_data(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The same company with nothing planted (small, seed 0, ``clean=True``)."""
    return _generate(tmp_path_factory, clean=True)


def _stamp(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _shared(demo: Demo) -> Iterator[Demo]:
    """Hand out a shared workspace; at the end, fail if a test wrote into it."""
    before = _stamp(demo.workspace)
    yield demo
    assert _stamp(demo.workspace) == before, (
        f"a test wrote into the shared demo workspace {demo.workspace}: take demo_copy instead"
    )


@pytest.fixture(scope="session")
def demo_company(demo_data: DemoResult) -> Iterator[Demo]:
    """The planted demo company imported into a workspace shared by the whole session."""
    yield from _shared(_import(demo_data, clean=False))


@pytest.fixture(scope="session")
def clean_demo_company(clean_demo_data: DemoResult) -> Iterator[Demo]:
    """The clean demo company imported into a workspace shared by the whole session."""
    yield from _shared(_import(clean_demo_data, clean=True))


@pytest.fixture(scope="session")
def demo_runbook(demo_company: Demo) -> RunResult:
    """The runbook on the demo company, as ``run_demo`` ends: FY2025 diagnosis and the
    Japanese report in ``root/report.html``."""
    from eigyo.base.periods import parse_period
    from eigyo.runbook import build_report

    started = time.perf_counter()
    with demo_company.open() as ws:
        period = parse_period("FY2025", ws.settings.fiscal_year_start_month)
        res = build_report(ws, period, demo_company.root / "report.html", lang="ja")
    STARTUP["demo runbook"] = time.perf_counter() - started
    return res


@pytest.fixture
def demo_copy(demo_company: Demo, tmp_path: Path) -> Path:
    """A writable copy of the demo company's workspace, for a test that changes it."""
    return demo_company.copy(tmp_path / "demo-ws")


# ------------------------------------------------------------------ the public data sets


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_data.MARKER}(*paths): reads these paths under the public data folder"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (locally) or fail (in CI) a test whose public data is missing, before its
    fixtures import anything."""
    for mark in item.iter_markers(_data.MARKER):
        _data.require(*mark.args)


#: The test files that start Spark (they ask for the ``spark_session`` fixture): one worker
#: runs them all, so only one JVM (about 1 GB) runs.
SPARK_FILES = frozenset(
    p.name for p in Path(__file__).parent.glob("test_*.py") if "spark_session" in p.read_text()
)


def _scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to under ``make test``: its file, or "spark"."""
    path = nodeid.split("::", 1)[0]
    return "spark" if Path(path).name in SPARK_FILES else path


#: The longest units of work (a few minutes each on two cores), started first: a worker that
#: picks one up near the end would run it alone while the other idles.
LONGEST_FIRST = (
    "spark",
    "tests/test_public_datasets.py",
    "tests/test_shared_workspace.py",
    "tests/test_currency_commands.py",
    "tests/test_dashboard_cache.py",
    "tests/test_app_workflows.py",
    "tests/test_data_demo.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test``: the longest units of work first (:data:`LONGEST_FIRST`), each file's
    tests in their own order (every worker sorts its collection the same way)."""
    if config.getvalue("dist") == "no" and not hasattr(config, "workerinput"):
        return
    rank = {scope: i for i, scope in enumerate(LONGEST_FIRST)}
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(_scope_of(item.nodeid), len(rank)), order[id(item)]))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) each test file runs on
    one worker, so its module fixtures (a served app, a browser, a generated company) start once,
    and the Spark files share one worker.

    Why a scheduler of our own rather than ``xdist_group`` marks: pytest-xdist 3.8 groups by
    rewriting ``item._nodeid``, which pytest 9 no longer reads (a node's id is ``item._id``), so
    the marks were silently ignored and every test was sent on its own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    # the collection's order (longest first), not xdist's default of the most tests first,
    # which started the Spark files (few tests, minutes) last
    config.option.loadscopereorder = False

    class FileScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _scope_of(nodeid)

    return FileScheduling(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker sends its fixture timings to the controller, which prints the summary."""
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out["eigyo_startup"] = dict(STARTUP)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Collect a finished xdist worker's fixture timings, named by worker (gw0, gw1 …)."""
    for name, seconds in getattr(node, "workeroutput", {}).get("eigyo_startup", {}).items():
        STARTUP[f"{name} ({node.gateway.id})"] = seconds


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report how long each session fixture (engines, the demo company) took to start."""
    if STARTUP:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in STARTUP.items())
        terminalreporter.write_line(f"session fixture timings: {parts}")
