"""``eigyo monitor``, ``eigyo alerts`` and ``eigyo intervention add|list|effect``.

Thin: each command calls :mod:`eigyo.monitor` and renders (text in ja/en, or one JSON document).
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value, points
from eigyo.base.vocabulary import DASH
from eigyo.cli._app import (
    FormatOpt,
    LangOpt,
    WorkspaceOpt,
    app,
    check_format,
    console,
    emit_json,
    lang_of,
)
from eigyo.cli._progress import phase_bars
from eigyo.errors import InputError
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.monitor import Alert, Effect, MonitorRun

intervention_app = typer.Typer(help="Record interventions and measure whether they worked.")
app.add_typer(intervention_app, name="intervention")
SEVERITY_STYLE = {"error": "bold red", "warn": "yellow", "info": "cyan", "ok": "green"}


@app.command("monitor")
def monitor_cmd(
    workspace: WorkspaceOpt = Path("."),
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="Default: the fiscal year of the data.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="'last': do nothing when the data did not change."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send/--no-send", help="Deliver new alerts to email/webhook.")
    ] = True,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Store a snapshot of metrics, findings and control charts; raise and send new alerts."""
    from eigyo.cli._period import noted_period
    from eigyo.monitor import deliver, load_config, take_snapshot
    from eigyo.monitor.snapshots import default_period
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    if since not in (None, "last"):
        raise typer.BadParameter(f"must be 'last'; got {since!r}", param_hint="--since")
    with open_workspace(workspace) as ws:
        cfg = load_config(ws)
        p = noted_period(ws, period, lang) if period else default_period(ws)
        labels = {k: t(f"monitor.cli.progress_{k}", lang) for k in ("metrics", "diagnose")}
        labels["charts"] = t("monitor.cli.progress_charts", lang)
        with phase_bars(fmt, labels) as phase:
            run = take_snapshot(ws, p, since_last=since == "last", cfg=cfg, progress=phase)
        sent = deliver(ws, cfg) if send and run.created else {}
        cur = ws.settings.currency
    if fmt == "json":
        emit_json(_run_json(run, sent, lang, cur))
        return
    _print_run(run, sent, lang)


def _run_json(
    run: "MonitorRun", sent: dict[str, int], lang: str, cur: str = DEFAULT_CURRENCY
) -> dict[str, Any]:
    """The run as JSON; ``currency`` is the unit of the amounts in the alerts' evidence."""
    return {
        "currency": cur,
        "snapshot": run.snapshot.to_json(),
        "created": run.created,
        "alerts": [a.to_json(lang) for a in run.alerts],
        "sent": sent,
    }


def _print_run(run: "MonitorRun", sent: dict[str, int], lang: str) -> None:
    s = run.snapshot
    if not run.created:
        console.print(t("monitor.cli.unchanged", lang, id=s.snapshot_id, run_at=s.run_at))
        return
    console.print(
        t(
            "monitor.cli.snapshot",
            lang,
            id=s.snapshot_id,
            period=s.period,
            as_of=s.as_of,
            version=s.data_version,
            metrics=s.metrics,
            findings=s.findings,
            signals=s.signals,
        )
    )
    _print_alerts(run.alerts, lang, t("monitor.cli.no_alerts", lang))
    for sink, n in sent.items():
        console.print(t("monitor.cli.sent", lang, sink=sink, n=n))


def _print_alerts(alerts: "list[Alert]", lang: str, empty: str) -> None:
    if not alerts:
        console.print(empty)
        return
    console.print(t("monitor.cli.new_alerts", lang, n=len(alerts)))
    table = Table(show_lines=False)
    for col in ("raised", "severity", "message"):
        table.add_column(t(f"monitor.cli.col_{col}", lang))
    for a in alerts:
        style = SEVERITY_STYLE.get(a.severity, "")
        table.add_row(str(a.raised_at or ""), f"[{style}]{a.severity}[/]", a.message.get(lang, ""))
    console.print(table)


@app.command("alerts")
def alerts_cmd(
    workspace: WorkspaceOpt = Path("."),
    send: Annotated[
        bool, typer.Option("--send", help="Deliver alerts not yet sent to email/webhook.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many alerts to list.")] = 50,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """List the alerts raised so far, newest first (each is raised once)."""
    from eigyo.monitor import deliver, list_alerts, load_config
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    with open_workspace(workspace) as ws:
        sent = deliver(ws, load_config(ws)) if send else {}
        found = list_alerts(ws.raw, limit=limit)
        cur = ws.settings.currency
    if fmt == "json":  # impact_jpy in the evidence is an amount in ``currency``
        emit_json({"currency": cur, "alerts": [a.to_json(lang) for a in found], "sent": sent})
        return
    _print_alerts(found, lang, t("monitor.cli.alerts_none", lang))
    for sink, n in sent.items():
        console.print(t("monitor.cli.sent", lang, sink=sink, n=n))


@intervention_app.command("add")
def intervention_add(
    id_: Annotated[str, typer.Option("--id", help="Intervention id, e.g. INT-002.")],
    name: Annotated[str, typer.Option("--name", help="What was changed.")],
    started_at: Annotated[str, typer.Option("--started-at", help="2025-04-01 or ISO time.")],
    scope: Annotated[str, typer.Option("--scope", help="Comma-separated teams or rep ids.")],
    workspace: WorkspaceOpt = Path("."),
    description: Annotated[str | None, typer.Option("--description")] = None,
    metrics: Annotated[
        str | None, typer.Option("--metrics", help="Targeted metrics, comma-separated.")
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Record an intervention (replaces one with the same id)."""
    from eigyo.monitor import add_intervention
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    with open_workspace(workspace) as ws:
        iv = add_intervention(ws, id_, name, started_at, scope, description, metrics)
    doc = {
        "intervention_id": iv.intervention_id,
        "name": iv.name,
        "started_at": iv.started_at.isoformat(sep=" "),
        "scope": list(iv.scope),
        "treated_reps": list(iv.treated_reps),
    }
    if fmt == "json":
        emit_json(doc)
        return
    console.print(
        t(
            "monitor.cli.added",
            lang,
            id=iv.intervention_id,
            name=iv.name,
            started=doc["started_at"],
            reps=len(iv.treated_reps),
        )
    )


@intervention_app.command("list")
def intervention_list(
    workspace: WorkspaceOpt = Path("."), fmt: FormatOpt = "text", lang: LangOpt = "ja"
) -> None:
    """List recorded interventions with the reps they touch."""
    check_format(fmt)
    lang = lang_of(lang)
    from eigyo.analysis.monitor.interventions import interventions
    from eigyo.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        ivs = interventions(ws)
    if fmt == "json":
        emit_json(
            {
                "interventions": [
                    {
                        "intervention_id": iv.intervention_id,
                        "name": iv.name,
                        "started_at": iv.started_at.isoformat(sep=" "),
                        "scope": list(iv.scope),
                        "treated_reps": list(iv.treated_reps),
                    }
                    for iv in ivs
                ]
            }
        )
        return
    if not ivs:
        console.print(t("monitor.cli.no_interventions", lang))
        return
    table = Table()
    for col in ("id", "name", "started", "scope", "reps"):
        table.add_column(t(f"monitor.cli.col_{col}", lang))
    for iv in ivs:
        table.add_row(
            iv.intervention_id,
            iv.name,
            iv.started_at.isoformat(sep=" "),
            ", ".join(iv.scope),
            str(len(iv.treated_reps)),
        )
    console.print(table)


@intervention_app.command("effect")
def intervention_effect(
    workspace: WorkspaceOpt = Path("."),
    id_: Annotated[
        str | None, typer.Option("--id", help="One intervention (default: all).")
    ] = None,
    metrics: Annotated[
        str | None, typer.Option("--metrics", help="Metrics to measure, comma-separated.")
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Did the fix work? Difference-in-differences against untouched reps, with a verdict."""
    from eigyo.monitor import effects
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    ids = tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None
    if ids is not None and not ids:
        raise InputError("--metrics is empty.")
    with open_workspace(workspace, read_only=True) as ws:
        found = effects(ws, id_, ids)
        cur = ws.settings.currency
    if fmt == "json":  # effects on amount metrics (unit "yen") are in ``currency``
        emit_json({"currency": cur, "effects": [e.to_json() for e in found]})
        return
    _print_effects(found, lang, cur)


def _num(v: float | None, e: "Effect", lang: str = "ja", cur: str = DEFAULT_CURRENCY) -> str:
    """An effect in the metric's unit (amounts in the workspace currency ``cur``); ratio
    differences read as percentage points."""
    if e.unit == "ratio":
        return points(v)
    return format_value(v, e.unit, lang, cur)


def _print_effects(found: "list[Effect]", lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    from eigyo.metrics import REGISTRY

    if not found:
        console.print(t("monitor.cli.no_interventions", lang))
        return
    conf = round(found[0].confidence * 100)
    table = Table(title=t("monitor.cli.effect_title", lang))
    for col in ("id", "metric", "effect"):
        table.add_column(t(f"monitor.cli.col_{col}", lang))
    table.add_column(t("monitor.cli.col_interval", lang, confidence=conf))
    table.add_column(t("monitor.cli.col_verdict", lang))
    for e in found:
        interval = (
            DASH if e.low is None else f"{_num(e.low, e, lang, cur)} … {_num(e.high, e, lang, cur)}"
        )
        table.add_row(
            e.intervention_id,
            REGISTRY[e.metric].label(lang),
            _num(e.estimate, e, lang, cur),
            interval,
            t(f"monitor.verdict.{e.verdict}", lang),
        )
    console.print(table)
