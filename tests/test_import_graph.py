"""The house stands one way: no import cycle inside diagnoser/, and the stages import downwards only."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "diagnoser"
PACKAGE = "diagnoser"


def module_name(path: Path) -> str:
    """Return the dotted module name of a file under ROOT (a package's __init__ is the package)."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Return every module of the package by its dotted name."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    """Return True for `if TYPE_CHECKING:` and `if typing.TYPE_CHECKING:`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Yield every import at any depth (module and function level), skipping `if TYPE_CHECKING:` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # the else branch runs
                yield from _runtime_imports_of(child)
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Yield `node` when it is an import, then the imports below it."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _runtime_imports(node)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """Return the absolute module named by a `from … import` (relative levels resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    # `from . import x` in a package's __init__ is relative to the package itself.
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """Return the package modules that module `name` imports at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            source = _absolute(node, name, is_package)
            # `from x import y`: the submodule x.y when y is a module, else the module x.
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        for target in targets:
            # `import a.b.c` names a.b.c; keep the longest prefix that is one of ours.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Return module -> the package modules it imports, for every module under diagnoser/."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Return one cycle per circle of modules (a strongly connected component), self-loops included.

    Each cycle is a path a -> b -> … -> a, starting at the smallest name so the output is stable.
    """
    return [_cycle_in(component, graph) for component in circles(graph)]


def circles(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Return the strongly connected components of more than one module, and the self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative: the import graph is deep enough to matter for recursion.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components, key=min)


def _shortest_path(
    graph: Mapping[str, set[str]],
    start: str,
    arrived: Callable[[str], bool],
    within: Callable[[str], bool] = lambda node: True,
) -> list[str] | None:
    """Return the shortest import path from `start` to a module `arrived` accepts, stepping only
    through modules `within` accepts (breadth first, children in name order), or None."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if arrived(child):
                    return paths[node] + [child]
                if within(child) and child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    return None


def _cycle_in(component: set[str], graph: Mapping[str, set[str]]) -> list[str]:
    """Return the shortest cycle through the smallest module of a strongly connected component."""
    start = min(component)
    cycle = _shortest_path(graph, start, start.__eq__, component.__contains__)
    if cycle is None:
        raise AssertionError(f"no cycle through {start} in {sorted(component)}")
    return cycle


def test_cycle_finder_sees_a_cycle_and_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_import_reader_resolves_submodules_relative_and_skips_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "pkg" / "sub" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from pkg import other\n"
        "from pkg.sub import helper as h, CONSTANT\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "import pkg.deep.leaf.attribute\n"
        "if TYPE_CHECKING:\n"
        "    from pkg import hidden\n"
        "def late():\n"
        "    import pkg.lazy\n",
        encoding="utf-8",
    )
    known = {
        name: tmp_path
        for name in (
            "pkg",
            "pkg.other",
            "pkg.sub",
            "pkg.sub.mod",
            "pkg.sub.helper",
            "pkg.sub.sibling",
            "pkg.hidden",
            "pkg.deep.leaf",
            "pkg.lazy",
        )
    }
    assert imports_of("pkg.sub.mod", source, known) == {
        "pkg.other",
        "pkg.sub.helper",
        "pkg.sub",
        "pkg.sub.sibling",
        "pkg.deep.leaf",
        "pkg.lazy",
    }


def test_no_import_cycle() -> None:
    graph = import_graph()
    found = []
    for component in circles(graph):
        line = " -> ".join(_cycle_in(component, graph))
        if len(component) > 2:
            line += f"  (the circle holds {', '.join(sorted(component))})"
        found.append(line)
    assert not found, "import cycles:\n" + "\n".join(found)


def _reaches(graph: Mapping[str, set[str]], start: str, package: str) -> list[str] | None:
    """Return an import path from `start` to a module of `package`, or None when there is none."""
    return _shortest_path(graph, start, lambda node: node == package or node.startswith(package + "."))


# (stage, a stage it must not import, directly or through others): the stages stand above detect.
FORBIDDEN = [
    ("diagnoser.collect", "diagnoser.detect"),
    ("diagnoser.render", "diagnoser.detect"),
    ("diagnoser.redact", "diagnoser.detect"),
]


@pytest.mark.parametrize(("stage", "forbidden"), FORBIDDEN)
def test_stage_does_not_import(stage: str, forbidden: str) -> None:
    graph = import_graph()
    offenders = []
    for name in sorted(graph):
        if name == stage or name.startswith(stage + "."):
            path = _reaches(graph, name, forbidden)
            if path:
                offenders.append(" -> ".join(path))
    assert not offenders, f"{stage} must not import {forbidden}:\n" + "\n".join(offenders)


# The face of the main job: it builds inputs and options, calls the one door and renders the report.
FACE_MAY_IMPORT = {
    "diagnoser",
    "diagnoser.cli",
    "diagnoser.cli.common",
    "diagnoser.cli.completion",  # shell completion scripts: the face's own
    "diagnoser.cli.progress",  # the progress line on a terminal: the face's own
    "diagnoser.errors",
    "diagnoser.model",
    "diagnoser.options",
    "diagnoser.pipeline",
    "diagnoser.render",
}


def test_the_diagnose_command_imports_only_the_door_options_model_and_render() -> None:
    direct = import_graph()["diagnoser.cli.diagnose"]
    assert direct <= FACE_MAY_IMPORT, f"cli/diagnose.py imports {sorted(direct - FACE_MAY_IMPORT)}"
