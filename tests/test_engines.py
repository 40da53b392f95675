"""Engine selection and publishing: addresses, settings, errors, ``eigyo engine push`` and
``eigyo metrics --engine`` against a real PostgreSQL server (the ``pg_server`` fixture)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from eigyo import engines
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.engines import EngineError, parse_engine
from eigyo.errors import WorkspaceError
from eigyo.metrics import compute
from eigyo.workspace import open_workspace
from tests.conftest import PgServer
from tests.test_metrics_company import build

APRIL = parse_period("2025-04")


@pytest.mark.parametrize(
    ("url", "kind", "display"),
    [
        ("duckdb", "duckdb", "duckdb"),
        ("postgresql://me:secret@db.example:6543/sales", "postgresql",
         "postgresql://me@db.example:6543/sales?schema=eigyo"),
        ("postgres://me@h/sales?schema=kpi", "postgresql", "postgresql://me@h:5432/sales?schema=kpi"),
        ("spark", "spark", "spark"),
        ("spark?master=local[4]&path=/lake", "spark", "spark?master=local[4]&path=/lake"),
    ],
)  # fmt: skip
def test_engine_addresses(url: str, kind: str, display: str) -> None:
    spec = parse_engine(url)
    assert spec.kind == kind
    assert spec.display == display
    assert "secret" not in spec.display and "secret" not in repr(spec)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://h/db", "is not an engine address"),
        ("postgresql://h", "needs a host and a database"),
        ("postgresql://h/db?sslmode=x", "unknown option(s) sslmode"),
        ("postgresql://h/db?schema=a;drop", "use letters, digits and _"),
        ("spark?cores=4", "unknown option(s) cores"),
    ],
)
def test_bad_engine_addresses_name_the_forms(url: str, says: str) -> None:
    with pytest.raises(EngineError, match="Use one of: duckdb, postgresql://") as e:
        parse_engine(url)
    assert says in str(e.value)


def test_settings_reject_an_unknown_engine(tmp_path: Path) -> None:
    build(tmp_path / "w").close()
    cfg = tmp_path / "w" / "eigyo.toml"
    cfg.write_text(cfg.read_text("utf-8").replace('engine = "duckdb"', 'engine = "oracle"'))
    with pytest.raises(WorkspaceError, match=r"workspace\.engine: Engine 'oracle'"):
        open_workspace(tmp_path / "w")


def test_duckdb_has_nothing_to_push(tmp_path: Path) -> None:
    ws = build(tmp_path / "w")
    with pytest.raises(EngineError, match="nothing to publish"):
        engines.push(ws, ws.engine_spec)
    ws.close()


def test_missing_pyspark_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path / "w").close()
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    ws = open_workspace(tmp_path / "w", read_only=True, engine="spark")
    with pytest.raises(EngineError, match=r"Install it with: pip install 'eigyo\[spark\]'"):
        ws.table("opportunities")
    ws.close()


def test_spark_push_writes_parquet_files(tmp_path: Path) -> None:
    ws = build(tmp_path / "w")
    result = engines.push(ws, parse_engine(f"spark?path={tmp_path / 'lake'}"))
    ws.close()
    assert result.rows["opportunities"] == 10
    assert (tmp_path / "lake" / "opportunities.parquet").exists()
    assert json.loads((tmp_path / "lake" / "_eigyo_push.json").read_text())["import_id"] is None


def test_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    build(tmp_path / "w").close()
    url = "postgresql://nobody@127.0.0.1:1/none"
    ws = open_workspace(tmp_path / "w", read_only=True, engine=url)
    with pytest.raises(EngineError, match=r"Cannot connect to postgresql://nobody@127\.0\.0\.1:1"):
        ws.table("opportunities")
    ws.close()


def test_unpublished_engine_says_how_to_publish(tmp_path: Path, pg_server: PgServer) -> None:
    build(tmp_path / "w").close()
    ws = open_workspace(tmp_path / "w", read_only=True, engine=pg_server.url("never_pushed"))
    with pytest.raises(EngineError, match=r"holds no eigyo tables yet.*eigyo engine push"):
        ws.table("opportunities")
    ws.close()


def test_stale_copy_is_refused(tmp_path: Path, pg_server: PgServer) -> None:
    url = pg_server.url("stale")
    ws = build(tmp_path / "w")
    engines.push(ws, parse_engine(url))
    ws.raw.execute("INSERT INTO _imports (import_id, source) VALUES (7, 'later import')")
    ws.close()
    ws = open_workspace(tmp_path / "w", read_only=True, engine=url)
    with pytest.raises(EngineError, match=r"as of import None.*has import 7\. Publish again"):
        compute(ws, APRIL, ["bookings"])
    ws.close()


def test_cli_push_then_metrics_on_postgresql(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    build(tmp_path / "w").close()
    url, w = pg_server.url("cli"), str(tmp_path / "w")
    main(["engine", "push", "--workspace", w, "--engine", url, "--format", "json"])
    pushed = json.loads(capsys.readouterr().out)
    assert {"table": "opportunities", "rows": 10} in pushed["tables"]
    assert "postgres@127.0.0.1" in pushed["engine"]
    args = ["metrics", "--workspace", w, "--period", "2025-04", "-m", "bookings", "-f", "json"]
    main([*args, "--engine", url])
    on_pg = json.loads(capsys.readouterr().out)
    main(args)
    assert on_pg == json.loads(capsys.readouterr().out)
    assert on_pg["metrics"][0]["value"] == 6_000_000


def test_cli_push_to_duckdb_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(tmp_path / "w").close()
    with pytest.raises(SystemExit) as e:
        main(["engine", "push", "--workspace", str(tmp_path / "w")])
    assert e.value.code == 1
    assert "nothing to publish" in capsys.readouterr().err


def test_errors_never_print_a_password() -> None:
    with pytest.raises(EngineError) as e:
        parse_engine("postgresql://me:secret@h/db?bad=1")
    assert "secret" not in str(e.value) and "me:***@h" in str(e.value)
