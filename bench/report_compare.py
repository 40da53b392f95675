"""Two HTML reports of one workspace, compared: the same text and the same chart numbers?

Run: ``.venv/bin/python bench/report_compare.py A.html B.html`` (e.g. the large demo's report
made on DuckDB and on Spark, issue 20). Compares the visible text piece by piece (outside
``<script>`` and ``<style>``, in order: a finding listed elsewhere is a difference) and every
number inside the scripts (the charts' data) within relative 1e-9. The line "Generated: …"
is expected to differ. Prints the differences and exits 1 when anything else differs.
"""

from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

REL = 1e-9
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


class _Pieces(HTMLParser):
    """The visible text pieces and the scripts' text of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.depth += 1
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.scripts[-1] += data
        elif data.strip():
            self.text.append(data.strip())


def _read(path: Path) -> _Pieces:
    p = _Pieces()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args()
    a, b = _read(args.a), _read(args.b)
    problems: list[str] = []
    if len(a.text) != len(b.text):
        problems.append(f"text pieces: {len(a.text)} vs {len(b.text)}")
    for x, y in zip(a.text, b.text, strict=False):
        if x != y and not (x.startswith("Generated") or x.startswith("作成")):
            problems.append(f"text: {x[:120]!r} vs {y[:120]!r}")
    na, nb = _NUMBER.findall("".join(a.scripts)), _NUMBER.findall("".join(b.scripts))
    if len(na) != len(nb):
        problems.append(f"chart numbers: {len(na)} vs {len(nb)}")
    for x, y in zip(na, nb, strict=False):
        fx, fy = float(x), float(y)
        if x != y and abs(fx - fy) > REL * max(abs(fx), abs(fy), 1e-12):
            problems.append(f"chart number: {x} vs {y}")
    for line in problems[:50]:
        print(line)
    print(
        f"{args.a.name}: {len(a.text):,} text pieces, {len(na):,} chart numbers; "
        f"{args.b.name}: {len(b.text):,}, {len(nb):,}; {len(problems)} difference(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
