"""No module of ``mlcicd`` imports another in a circle.

A circle of module-level imports works only by the accident of which module is imported
first: change the order and one side sees a half-initialised module. The graph is read
from the source with :mod:`ast` (nothing is imported), so a cycle is found even in a
module no test happens to import. Imports inside functions run later and cannot see a
half-built module, so they are counted separately: cycles through them are reported but
only the module-level ones fail the test. ``if TYPE_CHECKING:`` blocks never run and are
skipped.

Run ``python tests/test_import_graph.py`` for the summary (modules, edges, cycles).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlcicd"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Map every dotted module name of the package to its file."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (None outside the package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_edges(modules: dict[str, Path]) -> dict[str, set[tuple[str, str]]]:
    """Edges ``(importer, imported)`` split into ``"module"`` and ``"function"`` level."""
    edges: dict[str, set[tuple[str, str]]] = {"module": set(), "function": set()}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]

        def visit(node: ast.AST, level: str, name: str = name, package: str = package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                kind = "function" if isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else level
                targets: list[str] = []
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                        base = ".".join([*anchor, base] if base else anchor)
                    # ``from pkg import mod`` reaches mod; ``from mod import name`` reaches mod
                    targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                               for alias in child.names]
                for target in targets:
                    resolved = _resolve(target, modules)
                    if resolved is not None and resolved != name:
                        edges[kind].add((name, resolved))
                visit(child, kind)

        visit(ast.parse(path.read_text(encoding="utf-8")), "module")
    return edges


def cycles(nodes: list[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in sorted(edges):
        successors[source].append(target)
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = lowlink[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            for offset, child in enumerate(successors[node][position:], start=position):
                if child not in index:
                    work.append((node, offset + 1))
                    work.append((child, 0))
                    break
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
            else:
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
    return found


def summary() -> dict[str, object]:
    """Counts for the report: modules, edges of each kind, and the cycles of each kind."""
    modules = module_files()
    edges = import_edges(modules)
    nodes = sorted(modules)
    return {
        "modules": len(nodes),
        "module_edges": len(edges["module"]),
        "function_edges": len(edges["function"] - edges["module"]),
        "module_cycles": cycles(nodes, edges["module"]),
        "all_cycles": cycles(nodes, edges["module"] | edges["function"]),
    }


def test_the_graph_finds_a_planted_cycle(tmp_path):
    """The walker is not blind: two modules importing each other are one cycle."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("from . import a\n\ndef later():\n    import pkg.c\n")
    (package / "c.py").write_text("def f():\n    from pkg import b\n")
    modules = module_files(package)
    edges = import_edges(modules)
    assert edges["module"] == {("pkg.a", "pkg.b"), ("pkg.b", "pkg.a")}
    assert edges["function"] == {("pkg.b", "pkg.c"), ("pkg.c", "pkg.b")}
    assert cycles(sorted(modules), edges["module"]) == [["pkg.a", "pkg.b"]]
    assert cycles(sorted(modules), edges["module"] | edges["function"]) == [
        ["pkg.a", "pkg.b", "pkg.c"]]


def test_no_module_level_import_cycle():
    """Zero cycles among module-level imports, and the package is really walked."""
    counts = summary()
    assert counts["modules"] > 50 and counts["module_edges"] > 100
    assert counts["module_cycles"] == [], f"import cycles: {counts['module_cycles']}"


def test_validation_schema_and_infer_do_not_import_each_other():
    """The known circle (schema <-> infer) is gone at every level, not just hidden in a function."""
    counts = summary()
    for component in counts["all_cycles"]:
        assert not {"mlcicd.validation.schema", "mlcicd.validation.infer"} <= set(component)


if __name__ == "__main__":
    for key, value in summary().items():
        print(f"{key}: {value}")
