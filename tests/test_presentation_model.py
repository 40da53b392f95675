"""One presentation model: the analyses and the diagnosis are computed once, everyone renders.

- The report's renderers (HTML, PDF, Excel, PowerPoint, the format dispatcher) take the report
  model, never a workspace, and import neither the workspace nor the metrics' private modules:
  only :func:`eigyo.report.report_model` reads the data.
- The dashboard imports only public names of ``eigyo.metrics`` and ``eigyo.report``.
- Each runbook step page of the dashboard shows the same findings (check, severity, title) as
  ``eigyo diagnose --format json`` on the same workspace and period.
- ``eigyo process --format json`` prints the step document of
  :mod:`eigyo.analysis.process.document`, the one the dashboard's API answers, and
  ``/api/findings`` answers what ``eigyo diagnose --format json`` prints.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eigyo.analysis.process.document import process_document
from eigyo.base.periods import parse_period
from eigyo.cli import app as cli_app
from eigyo.diagnose.model import STEPS
from eigyo.workspace import open_workspace

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import add_user, create_app

SRC = Path(__file__).resolve().parents[1] / "src" / "eigyo"
PERIOD = "FY2025"
PASSWORD = "s3cret-pass"
#: The modules that render the report model into a file or a page.
RENDERERS = (
    "eigyo.report._render",
    "eigyo.report._writers",
    "eigyo.report.pdf",
    "eigyo.report.pptx",
    "eigyo.report.xlsx",
)
DASHBOARD = (
    "eigyo.app._pages",
    "eigyo.app._views",
    "eigyo.app._api",
    "eigyo.app._pipeline",
    "eigyo.app._scorecard",
    "eigyo.app._team_table",
    "eigyo.app._filters",
)
FINDING = re.compile(
    r'<article class="finding sev-(?P<severity>\w+)" data-step="(?P<step>\w+)" '
    r'data-check="(?P<check>[^"]+)">.*?<h3>(?P<title>.*?)</h3>',
    re.S,
)


def _path(module: str) -> Path:
    return SRC.joinpath(*module.split(".")[1:]).with_suffix(".py")


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """The modules ``module`` imports (``from a import b`` counts as ``a.b``), at module level
    only when asked (then imports under ``if TYPE_CHECKING:``, annotations only, do not count)."""
    tree = ast.parse(_path(module).read_text(encoding="utf-8"))
    # at module level, an ``if TYPE_CHECKING:`` block is one statement: its imports are skipped
    nodes: list[ast.AST] = list(tree.body) if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _private(name: str, package: str) -> bool:
    """``name`` is a private module of ``package`` (``eigyo.metrics._vocab``)."""
    return name.startswith(f"{package}._")


@pytest.mark.parametrize("module", RENDERERS)
def test_renderers_take_the_model_not_a_workspace(module: str) -> None:
    mod = importlib.import_module(module)
    functions = [
        f
        for _, f in inspect.getmembers(mod, inspect.isfunction)
        if f.__module__ == module and not f.__name__.startswith("__")
    ]
    assert functions
    for f in functions:
        for name, param in inspect.signature(f).parameters.items():
            assert "Workspace" not in str(param.annotation), f"{module}.{f.__name__}({name})"
    for name in _imports(module, top_level_only=True):
        assert name != "eigyo.workspace" and not name.startswith("eigyo.workspace."), name
        assert not _private(name, "eigyo.metrics"), f"{module} imports {name}"


@pytest.mark.parametrize("module", DASHBOARD)
def test_dashboard_imports_only_public_names(module: str) -> None:
    for name in _imports(module, top_level_only=False):
        for package in ("eigyo.metrics", "eigyo.report"):
            assert not _private(name, package), f"{module} imports {name}"


# --------------------------------------------------------------------- the demo company


@pytest.fixture(scope="module")
def ws_path(demo_company: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the session's demo workspace with an admin login."""
    path: Path = demo_company.copy(tmp_path_factory.mktemp("presentation") / "ws")
    with open_workspace(path) as ws:
        add_user(ws, "admin", PASSWORD, "admin")
    return path


@pytest.fixture(scope="module")
def client(ws_path: Path, cli_docs: dict[str, Any]) -> Iterator[TestClient]:
    """The dashboard signed in as the admin; started after the CLI has run (``cli_docs``),
    because the app holds the workspace open while it runs."""
    with TestClient(create_app(ws_path)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token, "no CSRF field on the login page"
        r = c.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1),
                  "next": "/"},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303, r.text
        yield c


def _cli(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli_app, list(args))
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


@pytest.fixture(scope="module")
def cli_docs(ws_path: Path) -> dict[str, Any]:
    """What the CLI prints (diagnose and process as JSON) and the process step document, all
    computed before the dashboard opens the workspace."""
    w = str(ws_path)
    out = {
        "diagnose": _cli("diagnose", "-w", w, "-p", PERIOD, "--format", "json", "--lang", "ja"),
        "process": _cli("process", "-w", w, "-p", PERIOD, "--format", "json"),
    }
    with open_workspace(ws_path, read_only=True) as ws:
        p = parse_period(PERIOD, ws.settings.fiscal_year_start_month)
        out["process_document"] = process_document(ws, p, PERIOD).to_json("ja")
    return out


@pytest.fixture(scope="module")
def diagnosed(cli_docs: dict[str, Any]) -> dict[str, set[tuple[str, str, str]]]:
    """``eigyo diagnose --format json``: (check, severity, title) of each step's findings."""
    out: dict[str, set[tuple[str, str, str]]] = {s: set() for s in STEPS}
    for f in cli_docs["diagnose"]["findings"]:
        out[f["step"]].add((f["check"], f["severity"], f["title"] or f["check"]))
    return out


@pytest.mark.parametrize("step", STEPS)
def test_step_page_shows_the_findings_of_diagnose(
    diagnosed: dict[str, set[tuple[str, str, str]]], client: TestClient, step: str
) -> None:
    r = client.get(f"/steps/{step}", params={"period": PERIOD})
    assert r.status_code == 200, r.text
    shown = {
        (m["check"], m["severity"], html.unescape(m["title"]))
        for m in FINDING.finditer(r.text)
        if m["step"] == step
    }
    assert shown == diagnosed[step]


def test_findings_api_is_the_diagnose_document(
    cli_docs: dict[str, Any], client: TestClient
) -> None:
    r = client.get("/api/findings", params={"period": PERIOD, "lang": "ja"})
    assert r.status_code == 200, r.text
    assert r.json() == cli_docs["diagnose"]


def test_the_demo_has_findings_on_several_steps(
    diagnosed: dict[str, set[tuple[str, str, str]]],
) -> None:
    """The comparison above means something: the demo's planted problems are found."""
    assert sum(bool(v) for v in diagnosed.values()) >= 4


def test_process_json_is_the_step_document(cli_docs: dict[str, Any]) -> None:
    printed, doc = cli_docs["process"], cli_docs["process_document"]
    assert printed == json.loads(json.dumps(doc, ensure_ascii=False, default=str))
    assert printed["stages"] and printed["opportunities"] > 0


def test_dashboard_process_api_is_the_step_document(
    cli_docs: dict[str, Any], client: TestClient
) -> None:
    r = client.get("/api/process", params={"period": PERIOD})
    assert r.status_code == 200, r.text
    assert r.json() == cli_docs["process"]
