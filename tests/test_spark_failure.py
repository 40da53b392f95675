"""A Spark failure reads as one sentence naming the step, in Japanese and English (issue 20).

The large demo's diagnosis on a 1 GB driver ended in a Java stack trace hundreds of lines long.
Every failure here is real, raised by the session's JVM: an ``OutOfMemoryError`` (a 2 GB array
asked of a 1 GB driver: refused at once, the JVM carries on), a query on a missing table, and a
command whose published Parquet file is not Parquet (through ``eigyo``'s own entry point).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eigyo import workspace
from eigyo.cli import main
from eigyo.engines import SparkFailure, engine_failure, engine_step, push
from eigyo.engines._spec import parse_engine
from eigyo.i18n import t

OVERLAP_EN = t("engine.spark.step.overlap", "en")
OVERLAP_JA = t("engine.spark.step.overlap", "ja")


def _one_sentence(text: str) -> None:
    assert "\n" not in text.strip() and "\tat " not in text and "Traceback" not in text, text


def test_out_of_memory_names_the_step_and_the_setting(spark_session: Any) -> None:
    jvm = spark_session._jvm
    with pytest.raises(SparkFailure) as caught, engine_step("engine.spark.step.overlap"):
        jvm.java.nio.ByteBuffer.allocate(2_000_000_000)  # 2 GB: more than the driver's heap
    e = caught.value
    assert e.key == "engine.spark.out_of_memory" and e.__suppress_context__
    en, ja = e.localized("en"), e.localized("ja")
    assert str(e) == en
    assert en.startswith(f"Spark ran out of memory during {OVERLAP_EN} (java.lang.OutOfMemoryError")
    assert "--driver-memory" in en and "spark://" in en
    assert OVERLAP_JA in ja and "メモリ不足" in ja and "--driver-memory" in ja
    _one_sentence(en)
    _one_sentence(ja)


def test_a_failed_query_is_one_sentence_with_spark_s_reason(spark_session: Any) -> None:
    with pytest.raises(SparkFailure) as caught, engine_step("engine.spark.step.overlap"):
        spark_session.sql("SELECT * FROM eigyo_no_such_table").collect()
    e = caught.value
    assert e.key == "engine.spark.failed"
    en = e.localized("en")
    assert en.startswith(f"Spark failed during {OVERLAP_EN} (") and "TABLE_OR_VIEW_NOT_FOUND" in en
    _one_sentence(en)
    _one_sentence(e.localized("ja"))


def test_other_errors_pass_through() -> None:
    """A bug stays a bug: only what comes from Py4J or PySpark is translated."""
    with pytest.raises(ZeroDivisionError), engine_step("engine.spark.step.overlap"):
        _ = 1 / 0
    assert engine_failure(KeyError("x"), ("engine.spark.step.overlap", {})) is None


def test_the_cli_says_one_sentence_when_spark_fails(
    spark_session: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``eigyo metrics`` on a Spark copy whose opportunities file is not Parquet: exit 1 and
    one sentence naming the command, in English and in Japanese (the default)."""
    ws = workspace.init(tmp_path / "ws")
    spec = parse_engine("spark")
    try:
        push(ws, spec)
    finally:
        ws.close()
    (tmp_path / "ws" / "spark-tables" / "opportunities.parquet").write_bytes(b"not parquet")
    args = ["metrics", "--workspace", str(tmp_path / "ws"), "--engine", "spark"]
    said = {"en": "Spark failed during `eigyo metrics`", "ja": "「eigyo metrics」"}
    for lang, expected in said.items():
        capsys.readouterr()
        with pytest.raises(SystemExit) as ended:
            main([*args, "--period", "2025-04", "--lang", lang])
        assert ended.value.code == 1
        err = capsys.readouterr().err
        assert expected in " ".join(err.split()), err
        assert "is not a Parquet file" in err  # Spark's root cause, not "Job aborted"
        assert "Traceback" not in err and "\tat " not in err
