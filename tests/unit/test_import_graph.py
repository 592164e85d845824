"""The project's import graph: no circles, and the contracts that say which package may import which.

Every import counts, at module level or inside a function (a lazy import is still a dependency);
only the names under `if TYPE_CHECKING:` are left out, since they never run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "layouts", "callbacks", "dashboards")
WEB_ONLY = ("flask", "flask_login", "flask_socketio", "flask_compress", "werkzeug")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    found["app"] = ROOT / "app.py"
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str, path: Path) -> tuple[set[str], set[str]]:
    """Return (our modules it imports, third-party top-level names it imports)."""
    ours: set[str] = set()
    theirs: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def resolve(name: str) -> None:
        # "services.feed.engine.Engine" -> the longest prefix that is one of our modules
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            candidate = ".".join(parts[:i])
            if candidate in MODULES:
                ours.add(candidate)
                return
        if parts[0] not in PACKAGES:
            theirs.add(parts[0])

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    resolve(alias.name)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    resolve(f"{base}.{alias.name}" if base else alias.name)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    ours.discard(module)
    return ours, theirs


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v][0]:
            if w not in index:
                strong(w)
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
                groups.append(sorted(group))

    for v in sorted(GRAPH):
        if v not in index:
            strong(v)
    return groups


def _ancestor_import(module: str, target: str) -> bool:
    """A package's __init__ imported by its own submodule is Python's doing, not a circle of ours."""
    return module.startswith(target + ".")


def test_no_import_circles():
    cycles = [c for c in _cycles()]
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def _importers_of(prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    return {m: {i for i in ours if i.startswith(prefixes)} for m, (ours, _) in GRAPH.items()}


def test_the_core_imports_nothing_of_ours_but_the_contract():
    bad = {m: sorted(i for i in ours if not i.startswith(("services.core", "services.contract")))
           for m, (ours, _) in GRAPH.items() if m.startswith("services.core")}
    assert not {m: v for m, v in bad.items() if v}


def test_the_contract_imports_nothing_of_ours():
    bad = {m: sorted(i for i in ours if not i.startswith("services.contract"))
           for m, (ours, _) in GRAPH.items() if m.startswith("services.contract")}
    assert not {m: v for m, v in bad.items() if v}


def test_nothing_under_services_imports_dash_or_the_ui():
    bad = {m: sorted(({"dash", "dash_leaflet", "dash_ag_grid", "dash_mantine_components", "plotly"} & theirs)
                     | {i for i in ours if not i.startswith("services")})
           for m, (ours, theirs) in GRAPH.items() if m.startswith("services")}
    assert not {m: v for m, v in bad.items() if v}


def test_only_the_web_package_imports_flask():
    bad = {m: sorted(set(WEB_ONLY) & theirs) for m, (_, theirs) in GRAPH.items()
           if m.startswith("services") and not m.startswith("services.web")}
    assert not {m: v for m, v in bad.items() if v}


def test_nothing_imports_the_composition_root():
    assert not [m for m, (ours, _) in GRAPH.items() if "app" in ours]


@pytest.mark.parametrize("layer,allowed", [
    # layouts are pure: the core, the contract and pure view helpers, never an adapter with I/O
    ("layouts", ("layouts", "services.core", "services.contract", "services.history.domain_views",
                 "services.feed.push_wire")),
    ("dashboards", ("dashboards", "layouts", "callbacks", "services")),
])
def test_layers_import_only_downwards(layer, allowed):
    bad = {m: sorted(i for i in ours if not i.startswith(allowed))
           for m, (ours, _) in GRAPH.items() if m.startswith(layer)}
    assert not {m: v for m, v in bad.items() if v}


def test_the_graph_sees_the_project():
    assert "services.feed.engine" in GRAPH and "services.core" in GRAPH["services.feed.engine"][0]
