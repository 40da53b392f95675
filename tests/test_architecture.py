"""The import graph is the architecture: one direction of flow, no cycles, and the docs say so.

``docs/architecture.md`` declares the layers in a table (rank, packages). These tests read that
table and the real imports of every module under ``src/eigyo`` (parsed with :mod:`ast`, so nothing
is imported; imports under ``if TYPE_CHECKING:`` are annotations only and do not count, imports
inside functions do) and require that

- every package in the source tree has a row, and every row names a real package;
- every import goes to a package of a strictly lower rank (or stays inside its own package);
- neither packages nor modules import each other in a cycle;
- every ``eigyo.*`` name the document cites exists.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted((SRC / "eigyo").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()
PACKAGES = sorted(m for m, p in MODULES.items() if p.name == "__init__.py")


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skip.update(id(n) for n in ast.walk(stmt))
    return skip


def _imports(module: str, path: Path) -> Iterator[str]:
    """The eigyo modules that ``module`` imports at run time (a name imported from a package
    counts as its submodule when one of that name exists)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "eigyo")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "eigyo":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in MODULES else target


def _graph() -> dict[str, set[str]]:
    return {m: {t for t in _imports(m, p) if t != m} for m, p in MODULES.items()}


def _layers() -> dict[str, int]:
    """``{package: rank}`` from the table under "## Layers" in docs/architecture.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    ranks: dict[str, int] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for name in re.findall(r"`(eigyo[\w.]*)`", cells[1]):
                ranks[name] = int(cells[0])
    return ranks


LAYERS = _layers()


def _owner(module: str) -> str:
    """The most specific package of the layer table that holds ``module``."""
    best = ""
    for name in LAYERS:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    return best


def test_the_layer_table_covers_every_package_and_names_only_real_ones() -> None:
    assert LAYERS, "docs/architecture.md has no '## Layers' table"
    unknown = sorted(set(LAYERS) - set(PACKAGES) - set(MODULES))
    assert not unknown, f"the layer table names packages that do not exist: {unknown}"
    uncovered = sorted(m for m in MODULES if not _owner(m))
    assert not uncovered, f"modules in no layer of docs/architecture.md: {uncovered}"


def test_every_import_flows_to_a_lower_layer() -> None:
    wrong = []
    for module, targets in _graph().items():
        mine = _owner(module)
        for target in targets:
            theirs = _owner(target)
            if theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(
                    f"{module} ({mine}, layer {LAYERS[mine]}) imports {target} "
                    f"({theirs}, layer {LAYERS[theirs]})"
                )
    assert not wrong, "imports against the flow of docs/architecture.md:\n" + "\n".join(wrong)


def test_no_package_imports_another_in_a_cycle() -> None:
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in _graph().items():
        packages[_owner(module)].update(_owner(t) for t in targets if _owner(t) != _owner(module))
    try:
        graphlib.TopologicalSorter(packages).prepare()
    except graphlib.CycleError as e:
        pytest.fail(f"package cycle: {' -> '.join(e.args[1])}")


def test_no_module_imports_another_in_a_cycle() -> None:
    try:
        graphlib.TopologicalSorter(_graph()).prepare()
    except graphlib.CycleError as e:
        pytest.fail(f"module cycle: {' -> '.join(e.args[1])}")


def test_the_cycle_check_sees_a_cycle() -> None:
    """The checks above pass vacuously if the graph builder misses imports: prove it finds
    the imports of a known module and that a planted cycle is reported."""
    graph = _graph()
    assert "eigyo.base.stats" in graph["eigyo.diagnose.compare"]
    assert "eigyo.errors" in graph["eigyo.base.periods"]
    planted = {**graph, "eigyo.base.stats": {*graph["eigyo.base.stats"], "eigyo.diagnose.compare"}}
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(planted).prepare()


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in MODULES:
            obj: object = importlib.import_module(head)
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


def test_every_name_the_architecture_document_cites_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    files = ("toml", "duckdb", "json", "md")  # eigyo.toml, eigyo.duckdb: file names, not modules
    names = sorted(
        n for n in set(re.findall(r"`(eigyo(?:\.\w+)+)`", text)) if n.rsplit(".")[-1] not in files
    )
    missing = [n for n in names if not _resolves(n)]
    assert not missing, f"docs/architecture.md cites names that do not exist: {missing}"
