"""The package imports only downward (core < store < engine < runtime < surfaces), with no cycle.

Every `import` is read from the source, at module level and inside functions; imports under
`if TYPE_CHECKING:` are for annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "backlog"
# Layer of each top-level name in the package; a module may import its own layer or lower.
LAYERS = {
    "errors": 0, "core": 1, "paths": 1, "clock": 1, "store": 2, "engine": 3, "runtime": 4,
    "mcp": 5, "hooks": 5, "cli": 6, "board": 6, "__main__": 7, "__init__": 0,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return LAYERS[top]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> set[str]:
    """The backlog modules `path` imports (a `from backlog.x import y` names backlog.x.y when that is a module)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "backlog")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] == "backlog":
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                              or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found - {module_name(path)}


GRAPH = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_package_has_a_layer():
    assert {m.split(".")[1] for m in GRAPH if "." in m} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_downward(module):
    upward = [f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
              for target in sorted(GRAPH[module]) if target in GRAPH and layer(target) > layer(module)]
    assert not upward, "; ".join(upward)


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1 = on the path, 2 = done

    def walk(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == 1:
                return path + [module, target]
            if target not in state:
                cycle = walk(target, path + [module])
                if cycle:
                    return cycle
        state[module] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state:
            cycle = walk(module, [])
            assert cycle is None, "import cycle: " + " -> ".join(cycle[cycle.index(cycle[-1]):])
