"""The contracts live in the repository (``docs/``), and the code cites them there.

Four contracts: the import format (``docs/import-format.md``, generated), the metric definitions
(``docs/metrics.md``, generated), the CLI/JSON outputs (``docs/cli-json.md``) and the evidence
rule of the diagnosis (``docs/evidence-rule.md``). A citation of a ``docs/*.md`` that does not
exist, or of the design file outside the repository, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eigyo.diagnose import evaluate, regression
from eigyo.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "eigyo"
DOCS = ROOT / "docs"
CITATION = re.compile(r"docs/[A-Za-z0-9_-]+\.md")
#: Files that name the founding design only to say where a copied text comes from.
ORIGIN_NOTES = {"metrics/docs.py", "metrics/contract.md", "ingest/docs.py"}


def _sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*") if p.suffix in (".py", ".toml", ".md", ".j2"))


def test_every_cited_doc_exists() -> None:
    missing = {
        f"{p.relative_to(SRC)}: {cited}"
        for p in _sources()
        for cited in CITATION.findall(p.read_text(encoding="utf-8"))
        if not (ROOT / cited).is_file()
    }
    assert not missing, "cited but not in docs/: " + ", ".join(sorted(missing))


def test_code_cites_the_contracts_in_docs_not_the_design_file() -> None:
    stale = [
        str(p.relative_to(SRC))
        for p in _sources()
        if "DESIGN.md" in p.read_text(encoding="utf-8")
        and str(p.relative_to(SRC)) not in ORIGIN_NOTES
    ]
    assert not stale, "cite docs/*.md instead of DESIGN.md in: " + ", ".join(stale)


@pytest.mark.parametrize("name", ["import-format", "metrics", "cli-json", "evidence-rule"])
def test_the_four_contracts_are_in_docs(name: str) -> None:
    assert (DOCS / f"{name}.md").is_file()


def test_metrics_doc_holds_the_contract_table() -> None:
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    assert "## Metric definitions that tests rely on (a contract)" in text
    table = text.split("## Metric definitions that tests rely on", 1)[1].split("\n## ", 1)[0]
    ids = re.findall(r"^\| `([a-z_0-9]+)` \|", table, flags=re.M)
    assert len(ids) >= 19 and set(ids) <= set(REGISTRY)


def test_cli_json_doc_holds_the_contract_and_what_exists_now() -> None:
    text = (DOCS / "cli-json.md").read_text(encoding="utf-8")
    for line in (
        "## The contract (word for word)",
        "`eigyo metrics --workspace W --period P [--by DIM] --format json` prints",
        "`eigyo diagnose --workspace W --period P --format json` prints",
        "Exit status 0 on success, 1 for a domain error",
    ):
        assert line in text, line
    for added in ("`currency`", "`not_available {code, needs, text}`", "`sections_not_available`"):
        assert f"### {added}" in text, added
    assert "Opportunity status `unknown`" in text and "### Exit status" in text


def test_evidence_rule_doc_states_the_thresholds_the_code_uses() -> None:
    text = (DOCS / "evidence-rule.md").read_text(encoding="utf-8")
    assert f"gap ≥ `min_effect` **and** q < {evaluate.Q_WARN}" in text
    assert f"gap ≥ 2 × `min_effect` **and** q < {evaluate.Q_ERROR}" in text
    assert f"|z| ≥ {regression.ERROR_Z:g}" in text
    assert f"signalled {regression.PERSISTENT_POINTS} points in a row" in text
    assert "not enough data" in text and "not available" in text.lower()


# --- dependencies: pyproject.toml states ranges, constraints.txt the exact versions ---------


def _pins() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("==", 1) for line in lines if line and not line.startswith("#"))
    return {canonicalize_name(name): version for name, version in pairs}


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    declared += project["optional-dependencies"]["spark"]
    pins = _pins()
    for text in declared:
        req = Requirement(text)
        if canonicalize_name(req.name) == "eigyo":
            continue
        pinned = pins.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pinned, prereleases=True), f"{req.name}=={pinned} vs {text}"


def test_make_and_ci_install_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e " in line]
    pinned = [line for line in installs if "-c $(CONSTRAINTS)" in line]
    assert len(pinned) == 2, installs  # runtime and dev; only `make constraints` goes without
    assert 'PIP_CONSTRAINT="$PWD/constraints.txt"' in (ROOT / ".ci" / "run").read_text()
