"""``eigyo demo``: generate the demo company and run it through the whole runbook."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import Annotated

import typer

from eigyo.cli._app import FormatOpt, LangOpt, app, check_format, console, emit_json, lang_of
from eigyo.cli._progress import phase_bars
from eigyo.i18n import t

SCALES = ("small", "medium", "large")
PHASES = ("generate", "import", "metrics", "diagnose", "report")


@app.command("demo")
def demo_cmd(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for data, workspace, report.")
    ] = Path("eigyo-demo"),
    scale: Annotated[
        str, typer.Option(help="small (default), medium (~100k deals), large (1M).")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    clean: Annotated[bool, typer.Option("--clean", help="Plant no problems.")] = False,
    period: Annotated[str, typer.Option("--period", "-p", help="Period to diagnose.")] = "FY2025",
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Generate the demo company, import it, measure, diagnose and write the HTML report."""
    from eigyo.runbook import run_demo

    check_format(fmt)
    lang = lang_of(lang)
    if scale not in SCALES:
        raise typer.BadParameter(
            f"must be one of {', '.join(SCALES)}; got {scale!r}", param_hint="--scale"
        )
    labels = {p: t(f"cli.demo.phase_{p}", lang) for p in PHASES}
    with phase_bars(fmt, labels) as phase:
        res = run_demo(
            out, scale=scale, seed=seed, clean=clean, lang=lang, period=period, progress=phase
        )
    alarms = [f for f in res.findings if f.severity in ("warn", "error")]
    if fmt == "json":
        emit_json(
            {
                "report": str(res.report),
                "workspace": str(out / "workspace"),
                "data": str(out / "data"),
                "period": period,
                "findings": [f.to_json(lang) for f in alarms],
            }
        )
        return
    console.print(
        t("cli.demo.done", lang, report=res.report, n=len(alarms), workspace=out / "workspace")
    )
    for f in alarms[:10]:
        console.print(
            f"  • [{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/] "
            f"{f.title.get(lang, f.check)}",
            highlight=False,
        )
