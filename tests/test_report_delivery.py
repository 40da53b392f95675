"""Issue 18 item 5: ``eigyo report --send`` delivers the report through the monitor's sinks — by
email with the file attached and a summary, to a webhook with the summary — against a real SMTP
server and HTTP receiver on loopback ports (tests/test_monitor_sinks.py's fixtures)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
from pathlib import Path
from typing import Any

from eigyo.base.formatting import format_value
from eigyo.cli import main
from tests.test_monitor_sinks import hook, smtp  # noqa: F401 (fixtures)


def _cli(args: list[str], lang: str = "ja") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([*args, "--lang", lang])
        except SystemExit as e:
            code = int(e.code or 0)
    return code, err.getvalue() + out.getvalue()


def _enable(ws: Path, smtp_port: int | None, hook_port: int | None) -> None:
    cfg = ws / "eigyo.toml"
    extra = ""
    if smtp_port is not None:
        extra += (
            f'\n[monitor.email]\nenabled = true\nhost = "127.0.0.1"\nport = {smtp_port}\n'
            'from = "eigyo@example.jp"\nto = ["sales-head@example.jp"]\n'
        )
    if hook_port is not None:
        extra += f'\n[monitor.webhook]\nenabled = true\nurl = "http://127.0.0.1:{hook_port}/hook"\n'
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")


def test_report_is_sent_by_email_with_the_file_and_to_the_webhook(
    demo_copy: Path,
    tmp_path: Path,
    smtp: Any,  # noqa: F811 (the fixture imported above)
    hook: Any,  # noqa: F811
) -> None:
    _enable(demo_copy, smtp.server_address[1], hook.server_address[1])
    out = tmp_path / "report.html"
    args = ["report", "--workspace", str(demo_copy), "--period", "FY2025", "--out", str(out)]
    code, printed = _cli([*args, "--send"])
    assert code == 0, printed
    assert "email (attached)" in printed and "webhook (summary)" in printed
    # the diagnosis the summary states, read independently through the JSON contract
    code, doc = _cli(
        ["diagnose", "--workspace", str(demo_copy), "--period", "FY2025", "--format", "json"]
    )
    assert code == 0
    findings = json.loads(doc)["findings"]
    alarms = [f for f in findings if f["severity"] in ("warn", "error")]
    stake = json.loads(doc)["at_stake"]
    (raw,) = smtp.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert "営業診断レポート FY2025" in str(msg["Subject"])
    assert msg["To"] == "sales-head@example.jp"
    body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "2025-04-01〜2026-03-31" in body
    amount = format_value(stake["impact_jpy"], "yen", "ja", "JPY", compact=True)
    assert f"影響額 {amount}（{len(stake['counted'])} 件の合計" in body
    errors = sum(f["severity"] == "error" for f in alarms)
    assert f"問題 {len(alarms)} 件（エラー {errors}・警告 {len(alarms) - errors}）" in body
    lines = body.splitlines()
    top = [ln for ln in lines if ln[:2] in ("1.", "2.", "3.")]
    assert [ln.split(" ", 2)[2].split(" — ")[0] for ln in top] == [f["title"] for f in alarms[:3]]
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == "report.html"
    assert attached.get_payload(decode=True) == out.read_bytes()
    (posted,) = hook.bodies
    assert (
        posted["text"].startswith(body.splitlines()[0])
        and "レポート: report.html" in posted["text"]
    )


def test_without_a_sink_it_says_where_to_configure_one(demo_copy: Path, tmp_path: Path) -> None:
    args = ["report", "--workspace", str(demo_copy), "--period", "FY2025"]
    code, printed = _cli([*args, "--out", str(tmp_path / "r.html"), "--send"], lang="en")
    assert code == 1 and "Traceback" not in printed
    assert "[monitor.email] or [monitor.webhook]" in printed
    assert (tmp_path / "r.html").exists()  # the report is written either way


def test_an_unreachable_webhook_is_one_line_and_email_still_goes(
    demo_copy: Path,
    tmp_path: Path,
    smtp: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    _enable(demo_copy, smtp.server_address[1], 9)  # port 9 (discard): nothing listens
    args = ["report", "--workspace", str(demo_copy), "--period", "FY2025"]
    code, printed = _cli([*args, "--out", str(tmp_path / "r.html"), "--send"], lang="en")
    assert code == 1 and "Traceback" not in printed and "webhook" in printed
    assert len(smtp.messages) == 1
