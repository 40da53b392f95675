"""How much of what is wrong does the diagnosis find, at the right level, and how often does it
cry wolf? (issue 17, "measured recall")

Generates companies with problems planted at the organization, a team, a rep or a lead source
(tests/_companies.py: the kind of the first problem cycles with the seed, one or two more are
drawn at other levels) and clean companies, imports each with eigyo's importer, diagnoses FY2025
and scores the findings against the plan:

- a planted problem is found *at its own level* when a check that reports it raises a warning or
  an error at its scope (organization: no scope or a stage only; team: that team; rep: that rep;
  source: that source), *at another level* when it does so only elsewhere in the same place (a
  team problem as findings on its reps, a rep's as its team's), else *missed*;
- an alarm explained by a planted problem as its consequence on the same records ("echo": a team
  losing deals at one stage also wins less) is counted apart, neither found nor false;
- every other warning or error is a false alarm; the rate is false alarms ÷ checks run (a check
  runs in a company when it judged: not "not available", not "not enough data").

Prints a markdown section (a progress line per company on standard error); ``--write`` also puts
it into bench/RESULTS.md in place of the previous one. Run:
``.venv/bin/python bench/recall.py --companies 24 --clean 10 --write``. To measure a commit's
diagnosis rather than a shared working tree's: ``git archive HEAD src | tar -x -C /tmp/eigyo-C``
and ``PYTHONPATH=/tmp/eigyo-C/src`` before the command (the section names where eigyo came from).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))  # tests/_companies.py: the generator the tests use too

from tests._companies import (  # noqa: E402
    KINDS,
    METRIC_OF_KIND,
    Plan,
    Planted,
    Score,
    diagnose_plan,
    draw,
    score,
)

from eigyo.diagnose.model import Finding  # noqa: E402

TITLE = "Diagnosis: recall and false alarms on generated companies (issue 17)"
#: Seeds of the clean companies start here, so their shapes differ from the planted ones'.
CLEAN_SEEDS = 1001


@dataclass
class Run:
    plan: Plan
    score: Score
    seconds: float
    clean: bool


@dataclass
class Row:
    """One check's line of the table."""

    planted: int = 0
    own: int = 0
    other: int = 0
    missed: int = 0
    runs: int = 0
    false: int = 0
    echoes: int = 0
    clean_runs: int = 0
    clean_alarms: int = 0
    details: list[str] = field(default_factory=list)


def _one(seed: int, clean: bool) -> Run:
    plan = draw(seed, clean=clean)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="eigyo-recall-") as tmp:
        findings = diagnose_plan(Path(tmp), plan)
    return Run(plan, score(plan, findings), time.perf_counter() - t0, clean)


def _label(p: Planted) -> str:
    """The check column a planted problem counts under (a metric truth: the metric)."""
    metric = METRIC_OF_KIND.get(p.kind)
    return "/".join(p.checks) if p.checks else f"(any check of {metric}, org scope)"


def _finding(f: Finding) -> str:
    ev = f.evidence
    scope = ", ".join(f"{k}={v}" for k, v in f.scope.items()) or "org"
    return (
        f"{f.check} {f.severity} [{scope}] value {ev.get('value')} vs {ev.get('baseline')}"
        f" (q {ev.get('q_value')})"
    )


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "—"


def tables(runs: list[Run]) -> list[str]:
    """The markdown body: totals, the table per check, per kind and level, and the details."""
    rows: dict[str, Row] = defaultdict(Row)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    planted_runs = [r for r in runs if not r.clean]
    clean_runs = [r for r in runs if r.clean]
    for r in runs:
        seed = f"seed {r.plan.seed}"
        for check in r.score.judged:
            if r.clean:
                rows[check].clean_runs += 1
            else:
                rows[check].runs += 1
        for p, verdict in r.score.verdicts:
            row = rows[_label(p)]
            row.planted += 1
            kinds[p.kind][verdict] += 1
            setattr(row, verdict, getattr(row, verdict) + 1)
            if verdict != "own":
                row.details.append(f"{seed}: {p.describe()} — {verdict}")
        for f in r.score.false_alarms:
            row = rows[f.check]
            if r.clean:
                row.clean_alarms += 1
                row.details.append(f"{seed} (clean): false alarm {_finding(f)}")
            else:
                row.false += 1
                planted = ", ".join(p.describe() for p in r.plan.planted)
                row.details.append(f"{seed} ({planted}): false alarm {_finding(f)}")
        for f in r.score.echoes:
            rows[f.check].echoes += 1
            planted = ", ".join(p.describe() for p in r.plan.planted)
            rows[f.check].details.append(f"{seed} ({planted}): echo {_finding(f)}")
    n_planted = sum(x.planted for x in rows.values())
    own = sum(x.own for x in rows.values())
    other = sum(x.other for x in rows.values())
    runs_n = sum(x.runs for x in rows.values())
    false = sum(x.false for x in rows.values())
    clean_n = sum(x.clean_runs for x in rows.values())
    clean_alarms = sum(x.clean_alarms for x in rows.values())
    levels = Counter(p.level for r in planted_runs for p in r.plan.planted)
    # planted problems no declared check reports (a metric truth): recall over the rest too
    covered = [v for r in planted_runs for p, v in r.score.verdicts if p.checks]
    c_own = sum(v == "own" for v in covered)
    out = [
        f"{len(planted_runs)} companies with {n_planted} planted problems "
        f"({', '.join(f'{lv} {n}' for lv, n in sorted(levels.items()))}), "
        f"{len(clean_runs)} clean companies; "
        f"{sum(r.seconds for r in runs) / max(1, len(runs)):.1f} s per company "
        "(generate, import, diagnose).",
        "",
        f"- **Recall at its own level: {own}/{n_planted} = {_pct(own, n_planted)}** "
        f"(at any level: {_pct(own + other, n_planted)}); target ≥ 95%. Over the problems a "
        f"declared check reports (leaving out those only a metric names): {c_own}/{len(covered)}"
        f" = {_pct(c_own, len(covered))}.",
        f"- **False alarms: {false} warn/error findings on unplanted problems over {runs_n} "
        f"checks run = {_pct(false, runs_n)}**; target ≤ 2%.",
        f"- **Clean companies: {clean_alarms} warn/error findings over {clean_n} checks run** "
        f"in {len(clean_runs)} companies; target 0.",
        "",
        "### Per check",
        "",
        "| check | planted | own level | other level | missed | recall (own) | checks run "
        "| false alarms | rate | echoes | clean: runs | clean: alarms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(rows, key=lambda k: (-rows[k].planted, k)):
        x = rows[name]
        out.append(
            f"| {name} | {x.planted} | {x.own} | {x.other} | {x.missed} "
            f"| {_pct(x.own, x.planted)} | {x.runs} | {x.false} | {_pct(x.false, x.runs)} "
            f"| {x.echoes} | {x.clean_runs} | {x.clean_alarms} |"
        )
    out += [
        "",
        "### Per kind of planted problem",
        "",
        "| kind | level | reported by | planted | own level | other level | missed |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, (level, checks, _) in KINDS.items():
        c = kinds.get(kind, Counter())
        by = ", ".join(checks) or f"any check of {METRIC_OF_KIND[kind]}"
        out.append(
            f"| {kind} | {level} | {by} | {c.total()} | {c['own']} | {c['other']} | {c['missed']} |"
        )
    details = [d for name in sorted(rows) for d in rows[name].details]
    out += ["", "### Not found at its own level, false alarms and echoes", ""]
    out += [f"- {d}" for d in details] or ["- none"]
    return out


def _provenance() -> str:
    """The commit and whether the diagnosis code had uncommitted changes (the tree measured)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False
        ).stdout.strip()

    import eigyo

    head = git("rev-parse", "--short", "HEAD")
    src = Path(eigyo.__file__).resolve().parents[1]
    if src != (HERE.parent / "src").resolve():  # e.g. PYTHONPATH=<git archive of a commit>/src
        return f"checkout at commit {head}, eigyo imported from `{src}`"
    dirty = git("status", "--porcelain", "--", "src/eigyo")
    return f"commit {head}" + (" with uncommitted changes in src/eigyo" if dirty else "")


def _write(section: list[str]) -> None:
    """Replace this benchmark's section of bench/RESULTS.md (or add it before the list of
    recorded long runs): the section is regenerated, never edited by hand."""
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    head = f"## {TITLE}"
    body = "\n".join(section) + "\n"
    if head in text:
        start = text.index(head)
        end = text.find("\n## ", start + len(head))
        text = text[:start] + body + (text[end + 1 :] if end >= 0 else "")
    else:
        anchor = text.find("## Recorded separately")
        at = anchor if anchor >= 0 else len(text)
        text = text[:at] + body + "\n" + text[at:]
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--companies", type=int, default=24, help="companies with planted problems")
    ap.add_argument("--clean", type=int, default=10, help="clean companies")
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    runs: list[Run] = []
    todo = [(s, False) for s in range(1, args.companies + 1)]
    todo += [(CLEAN_SEEDS + i, True) for i in range(args.clean)]
    for i, (seed, clean) in enumerate(todo, 1):
        r = _one(seed, clean)
        runs.append(r)
        verdicts = " ".join(f"{p.describe()}:{v}" for p, v in r.score.verdicts) or "clean"
        print(
            f"[{i}/{len(todo)}] seed {seed} {len(r.plan.teams)} teams {len(r.plan.reps)} reps "
            f"{len(r.plan.stages)} stages {r.plan.deals} deals {r.plan.leads} leads "
            f"{r.seconds:.1f}s — {verdicts}; false alarms {len(r.score.false_alarms)}",
            file=sys.stderr,
            flush=True,
        )
    body = tables(runs)
    secs = time.perf_counter() - t0
    cmd = f".venv/bin/python bench/recall.py --companies {args.companies} --clean {args.clean}"
    if os.environ.get("PYTHONPATH"):  # another eigyo than the checkout's (a commit's archive)
        cmd = f"PYTHONPATH={os.environ['PYTHONPATH']} {cmd}"
    if args.write:
        cmd += " --write"
    section = [
        f"## {TITLE}",
        "",
        f"`{cmd}` — {secs:.0f} s in all; {datetime.now():%Y-%m-%d %H:%M}, "
        f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} shared "
        f"cores; {_provenance()}. Generator: tests/_companies.py; scoring rules in the "
        "docstring of bench/recall.py.",
        "",
        *body,
    ]
    print("\n".join(body))
    if args.write:
        _write(section)


if __name__ == "__main__":
    main(sys.argv[1:])
