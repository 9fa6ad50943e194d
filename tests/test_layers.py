"""The rooms of `wgsiem/` import downwards only, in the order docs/architecture.md gives.

Every import counts: at module level, inside a function, or under TYPE_CHECKING. A lower
room that imports a higher one, a room the table does not place, or a cycle between two
modules fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "wgsiem"
ARCHITECTURE = REPO / "docs" / "architecture.md"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module (or the module a name is imported from)
    file: Path
    line: int


def layer_table(text: str) -> list[list[str]]:
    """The layers in the block after `<!-- layers -->`, top first: one line a layer, rooms
    separated by `|`, a description after two spaces."""
    block = re.search(r"<!-- layers -->\s*```[a-z]*\n(.*?)```", text, re.S)
    assert block, f"{ARCHITECTURE}: no ```-block after <!-- layers -->"
    layers = []
    for line in block.group(1).splitlines():
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if names:
            layers.append([name.strip() for name in names.split("|")])
    return layers


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path, modules: set[str]) -> Iterator[Import]:
    source = module_name(path, root)
    package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        else:
            continue
        for target in targets:
            if target == root.name or target.startswith(root.name + "."):
                yield Import(source, target, path, node.lineno)


def room(module: str) -> str:
    """`wgsiem.ecs.status` is in room `ecs`; the package's own `__init__` is room `wgsiem`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def problems(root: Path, layers: list[list[str]]) -> list[str]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(p, root) for p in files}
    level = {name: i for i, layer in enumerate(reversed(layers)) for name in layer}
    found = []
    for name in sorted({room(m) for m in modules} - set(level)):
        found.append(f"{root / name}: room {name!r} is not in the layer table of {ARCHITECTURE.name}")
    edges: dict[str, set[str]] = {}
    for path in files:
        for imp in imports_of(path, root, modules):
            here, there = room(imp.source), room(imp.target)
            target = imp.target if imp.target in modules else imp.target.rsplit(".", 1)[0]
            if target != imp.source:
                edges.setdefault(imp.source, set()).add(target)
            if here == there or here not in level or there not in level:
                continue
            if level[there] > level[here]:
                found.append(f"{imp.file}:{imp.line}: {here} imports {imp.target}, from a higher layer ({there})")
            elif level[there] == level[here]:
                found.append(f"{imp.file}:{imp.line}: {here} imports {imp.target}; rooms on one layer do not import each other")
    found += [f"an import cycle among {', '.join(group)}" for group in cycles(edges)]
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a cycle (Tarjan's strongly connected
    components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_rooms_import_downwards_only():
    found = problems(PACKAGE, layer_table(ARCHITECTURE.read_text()))
    assert not found, "\n".join(found)


def test_every_room_in_the_table_exists():
    rooms = {room(module_name(p, PACKAGE)) for p in PACKAGE.rglob("*.py")}
    listed = {name for layer in layer_table(ARCHITECTURE.read_text()) for name in layer}
    assert listed - rooms == set()


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root / "wgsiem"


LAYERS = [["cli"], ["shipper", "adapters"], ["wgdump"], ["wgsiem"]]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from ..cli import main\n", "wgdump imports wgsiem.cli, from a higher layer (cli)"),
        ("def f():\n    from wgsiem.shipper import Shipper\n", "wgdump imports wgsiem.shipper, from a higher layer (shipper)"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import cli\n", "imports wgsiem.cli, from a higher layer"),
    ],
)
def test_an_upward_import_is_found_wherever_it_hides(tmp_path, code, expected):
    root = write(tmp_path, {
        "wgsiem/__init__.py": "", "wgsiem/cli/__init__.py": "def main(): pass\n", "wgsiem/shipper.py": "class Shipper: pass\n",
        "wgsiem/adapters/__init__.py": "", "wgsiem/wgdump/__init__.py": "", "wgsiem/wgdump/parse.py": code,
    })  # fmt: skip
    (found,) = problems(root, LAYERS)
    assert "wgdump/parse.py:" in found and expected in found


def test_siblings_an_unplaced_room_and_a_cycle_are_found(tmp_path):
    root = write(tmp_path, {
        "wgsiem/__init__.py": "", "wgsiem/shipper.py": "from .adapters import x\n",
        "wgsiem/adapters/__init__.py": "", "wgsiem/adapters/x.py": "from . import y\n", "wgsiem/adapters/y.py": "from . import x\n",
        "wgsiem/report/__init__.py": "",
    })  # fmt: skip
    found = problems(root, LAYERS)
    assert any("shipper imports wgsiem.adapters.x; rooms on one layer do not import each other" in f for f in found)
    assert any("room 'report' is not in the layer table" in f for f in found)
    assert "an import cycle among wgsiem.adapters.x, wgsiem.adapters.y" in found


def test_the_table_is_read_from_the_architecture_doc():
    layers = layer_table(ARCHITECTURE.read_text())
    assert layers[-1] == ["errors", "content", "settings", "wgsiem"]
    assert ["cli"] in layers and ["wgdump", "conntrack", "mappings", "ingest", "geoworld"] in layers


# Inside the ingest engine: java/ (what Elasticsearch inherits from Java) is the floor, and
# formats/ (text formats and data sets) sits on it knowing nothing of documents, pipelines
# or processors: docs/architecture.md says so, and this holds it.
INGEST_FLOORS = {"wgsiem.ingest.java": ("wgsiem.ingest.java",), "wgsiem.ingest.formats": ("wgsiem.ingest.java", "wgsiem.ingest.formats")}


def ingest_floor_problems(root: Path) -> list[str]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(p, root) for p in files}
    found = []
    for path in files:
        for imp in imports_of(path, root, modules):
            for floor, allowed in INGEST_FLOORS.items():
                if imp.source.startswith(floor + ".") or imp.source == floor:
                    inside = imp.target.startswith("wgsiem.ingest")
                    if inside and not any(imp.target == a or imp.target.startswith(a + ".") for a in allowed):
                        found.append(f"{imp.file}:{imp.line}: {imp.source} imports {imp.target}, above {floor}")
    return found


def test_the_ingest_engine_s_floors_import_nothing_above_them():
    found = ingest_floor_problems(PACKAGE)
    assert not found, "\n".join(found)


def test_an_ingest_format_that_reads_documents_is_found(tmp_path):
    root = write(tmp_path, {
        "wgsiem/__init__.py": "", "wgsiem/ingest/__init__.py": "", "wgsiem/ingest/document.py": "",
        "wgsiem/ingest/java/__init__.py": "", "wgsiem/ingest/formats/__init__.py": "",
        "wgsiem/ingest/formats/csv_line.py": "from wgsiem.ingest.java import types\ndef f():\n    from ..document import x\n",
    })  # fmt: skip
    (found,) = ingest_floor_problems(root)
    assert "csv_line.py:3: wgsiem.ingest.formats.csv_line imports wgsiem.ingest.document, above wgsiem.ingest.formats" in found
