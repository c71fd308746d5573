"""The core's modules form a hierarchy: each imports alone, and none imports,
however indirectly, one that imports it. Transitions into another role go
through the `Gms` the roles are handed (`g.halt`, `g.become_slave`), so a
role never needs the module of a role that needs it back."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import groupy_actors.core

CORE = Path(groupy_actors.core.__file__).parent
PACKAGE = "groupy_actors.core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE,) + parts)


MODULES = {_module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import statement, in functions too, but not under
    `if TYPE_CHECKING:` (annotations only: never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            todo.append(child)


def _resolve(name: str, path: Path, node: ast.AST) -> set[str]:
    """The core modules an import statement in module `name` loads."""
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        if node.level:
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module
        # `from pkg import sub` loads pkg.sub when sub is a module (pkg
        # itself is a parent, loaded first whatever the import).
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                   for a in node.names]
    found = set()
    for t in targets:
        while t and t not in MODULES:
            t = t.rpartition(".")[0] if t.startswith(PACKAGE + ".") else ""
        if t and t != name:
            found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = set().union(*(_resolve(name, path, n) for n in _imports(tree)))
    return graph


def _cycle(graph: dict[str, set[str]]):
    """One cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_sees_the_imports():
    graph = _graph()
    assert "groupy_actors.core.roles.base" in graph["groupy_actors.core.roles.leader"]
    assert "groupy_actors.core.messages" in graph["groupy_actors.core.validate"]
    assert "groupy_actors.core.gms" not in graph["groupy_actors.core.roles.base"], \
        "an import under TYPE_CHECKING counted"


def test_the_core_import_graph_has_no_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_a_cycle_is_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.fixture(scope="module")
def fresh_imports():
    """A fresh interpreter per module, all started at once (each takes a
    quarter of a second, mostly importing groupy_actors itself)."""
    root = Path(groupy_actors.__file__).parent.parent
    procs = {name: subprocess.Popen([sys.executable, "-c", f"import {name}"], cwd=root,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for name in sorted(MODULES)}
    yield procs
    for proc in procs.values():
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_core_module_imports_alone(fresh_imports, name):
    _, err = fresh_imports[name].communicate(timeout=60)
    assert fresh_imports[name].returncode == 0, err
