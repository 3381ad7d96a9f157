"""The shape of python_ingest: no import cycle, small modules, one place for local-or-Databricks.

Reads the package's source with ``ast`` (nothing is imported). An import counts where it runs:
at module level or inside a function; imports under ``if TYPE_CHECKING:`` are for type checkers
only and do not count.
"""

from __future__ import annotations

import ast
import unittest
from pathlib import Path

from tests.support import REPO_ROOT

PACKAGE = REPO_ROOT / "python_ingest"
MAX_LINES = 400
# The only differences between the local engine and Databricks: how a table is addressed
# (naming) and how the session is obtained (spark).
PLATFORM_MODULES = {"python_ingest.naming", "python_ingest.spark"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.Module, known: set[str]) -> set[str]:
    """python_ingest modules a module imports when it runs."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in known:
                    found.add(submodule)  # ``from package import module``
                elif node.module in known:
                    found.add(node.module)
        for inner in ast.iter_child_nodes(node):
            visit(inner)

    visit(tree)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = walk(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = walk(node)
            if cycle:
                return cycle
    return None


class StructureTest(unittest.TestCase):
    def test_no_import_cycle(self) -> None:
        trees = modules()
        graph = {name: runtime_imports(tree, set(trees)) - {name} for name, tree in trees.items()}
        self.assertGreater(sum(len(targets) for targets in graph.values()), 20)
        self.assertIsNone(find_cycle(graph))

    def test_the_cycle_check_finds_a_cycle(self) -> None:
        graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        self.assertEqual(find_cycle(graph), ["a", "b", "c", "a"])

    def test_no_module_is_over_400_lines(self) -> None:
        long = {
            str(path.relative_to(REPO_ROOT)): lines
            for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        }
        self.assertEqual(long, {})

    def test_only_naming_and_spark_tell_local_from_databricks(self) -> None:
        readers = {
            name
            for name, tree in modules().items()
            for node in ast.walk(tree)
            if (isinstance(node, ast.Attribute) and node.attr == "local")
            or (isinstance(node, ast.Constant) and node.value == "DATABRICKS_RUNTIME_VERSION")
        }
        self.assertLessEqual(readers, PLATFORM_MODULES)
        self.assertTrue(readers)


if __name__ == "__main__":
    unittest.main()
