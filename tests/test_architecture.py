"""The import graph of iseg_bench: layers only import downwards, nothing imports in a cycle
(string-loaded registry entries included), and no package imports another's private names.

The layers are those of docs/architecture.md. An edge is every ``import``/``from ... import``
of an iseg_bench module anywhere in a module (also inside functions and TYPE_CHECKING
blocks) and every "iseg_bench.module:attr" string (registry entries, loaded on use).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "iseg_bench"

#: top-level component -> layer (docs/architecture.md); lower layers never import higher ones
LAYERS = {
    "errors": 0, "types": 0, "thresholds": 0, "options": 0, "registry": 0, "config": 0,
    "masks": 1, "geometry": 1, "metrics": 1, "run_folder": 1,
    "robots": 2, "datasets": 2, "simulators": 2,
    "models": 3,
    "adapters": 4,
    "protocols": 5, "training": 5,
    "reports": 6,
    "execution": 7,
    "api": 8, "interactive": 8, "cli": 8, "": 8,
}
SPEC = re.compile(r"^(iseg_bench(?:\.\w+)*):[\w.]+$")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _existing(name: str, modules: set[str]) -> str:
    """`name` or its longest prefix that is a module (for "from pkg import submodule")."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(path: Path, modules: set[str]) -> list[tuple[str, str, str]]:
    """(imported module, imported name or "", how) for every iseg_bench import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "iseg_bench":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                target = sub if sub in modules else node.module
                out.append((_existing(target, modules), alias.name, "import"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "iseg_bench":
                    out.append((_existing(alias.name, modules), "", "import"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = SPEC.match(node.value)
            if match:
                out.append((_existing(match.group(1), modules), "", "string"))
    return out


def _graph() -> tuple[nx.DiGraph, list[tuple[str, str, str, str]]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    edges = []
    for src, path in files.items():
        for dst, name, how in imports_of(path, set(files)):
            if dst != src:
                graph.add_edge(src, dst)
                edges.append((src, dst, name, how))
    return graph, edges


GRAPH, EDGES = _graph()


def test_every_component_has_a_layer() -> None:
    missing = sorted({component(m) for m in GRAPH} - set(LAYERS))
    assert not missing, f"add these to LAYERS and docs/architecture.md: {missing}"


def test_no_import_goes_up_a_layer() -> None:
    upward = [f"{src} -> {dst} ({how})" for src, dst, _, how in EDGES
              if LAYERS.get(component(dst), 99) > LAYERS.get(component(src), -1)]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    cycles = list(nx.simple_cycles(GRAPH))
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles[:10])


def test_no_private_name_imported_from_another_package() -> None:
    private = [f"{src} imports {name} from {dst}" for src, dst, name, _ in EDGES
               if name.startswith("_") and component(src) != component(dst)]
    assert not private, "\n".join(private)


@pytest.mark.parametrize("text,found", [
    ("from iseg_bench.masks import iou", ["iseg_bench.masks"]),
    ("'iseg_bench.robots.clicker:CenterOfErrorClicker'", ["iseg_bench.robots.clicker"]),
])
def test_imports_of_finds_imports_and_registry_strings(tmp_path: Path, text: str,
                                                       found: list[str]) -> None:
    """The checker itself sees both kinds of edge (else the tests above could not fail)."""
    path = tmp_path / "m.py"
    path.write_text(text + "\n", encoding="utf-8")
    modules = {"iseg_bench", "iseg_bench.masks", "iseg_bench.robots",
               "iseg_bench.robots.clicker"}
    assert [m for m, _, _ in imports_of(path, modules)] == found
