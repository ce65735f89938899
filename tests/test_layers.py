"""The architecture, guarded: which module may import which.

``cli.py`` wires Click, ``console.py`` renders with rich, ``commands/`` are thin use cases that
never import each other, and the wings (project, requirements, doctor, runtime, heroku) import
neither click nor rich nor any command. Every import counts: module level, inside functions, and
under ``if TYPE_CHECKING:`` (a type-only cycle is still a cycle for a reader). Importing
``homedeploy.cli`` stays cheap: ``--help`` must not load rich, requests, packaging and the like.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "homedeploy"
PRESENTATION = {"homedeploy.cli", "homedeploy.console"}
HEAVY = (
    "rich",
    "requests",
    "urllib3",
    "packaging",
    "git",
    "piptools",
    "pip",
    "gunicorn",
    "flask",
    "dotenv",
    "platformdirs",
    "jsonschema",
)
"""Distributions that ``import homedeploy.cli`` and ``homedeploy --help`` must not load."""


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module, as written (absolute)
    type_only: bool  # under ``if TYPE_CHECKING:``
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "_bundled" not in path.relative_to(PACKAGE).parts
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(name, alias.name, type_only, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append(Import(name, module, type_only, node.lineno))
            for alias in node.names:  # ``from homedeploy.commands import serve``
                if f"{module}.{alias.name}" in _modules():
                    found.append(Import(name, f"{module}.{alias.name}", type_only, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(i for name, path in _modules().items() for i in _imports_of(name, path))


def _internal(target: str) -> str | None:
    """The homedeploy module an import refers to (the longest known prefix), or None."""
    parts = target.split(".")
    while parts and ".".join(parts) not in _modules():
        parts.pop()
    return ".".join(parts) if parts else None


def _where(found: Import) -> str:
    return f"{_modules()[found.source].relative_to(PACKAGE.parent)}:{found.line} {found.target}"


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_scan_sees_the_package() -> None:
    assert "homedeploy.cli" in _modules() and "homedeploy.doctor.engine" in _modules()
    assert any(i.type_only for i in _all_imports())


def test_click_and_rich_only_in_cli_and_console() -> None:
    wrong = [
        _where(i)
        for i in _all_imports()
        if i.target.split(".")[0] in ("click", "rich") and i.source not in PRESENTATION
    ]
    assert not wrong, wrong


def test_no_command_imports_another_command() -> None:
    wrong = []
    for i in _all_imports():
        target = _internal(i.target)
        if (
            target is not None
            and _in(i.source, "homedeploy.commands")
            and _in(target, "homedeploy.commands")
            and target not in ("homedeploy.commands", i.source)
        ):
            wrong.append(_where(i))
    assert not wrong, wrong


def test_only_the_cli_uses_commands() -> None:
    """Outside commands/, only cli.py imports a command; console.py only their result types."""
    wrong = []
    for i in _all_imports():
        target = _internal(i.target)
        if target is None or not _in(target, "homedeploy.commands"):
            continue
        if _in(i.source, "homedeploy.commands") or i.source == "homedeploy.cli":
            continue
        if i.source == "homedeploy.console" and i.type_only:
            continue
        wrong.append(_where(i))
    assert not wrong, wrong


def test_presentation_is_imported_by_the_cli_only() -> None:
    wrong = [
        _where(i)
        for i in _all_imports()
        if _internal(i.target) in PRESENTATION
        and i.source not in (*PRESENTATION, "homedeploy.__main__")
    ]
    assert not wrong, wrong


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in _modules()}
    for i in _all_imports():
        target = _internal(i.target)
        # A module's own package (__init__) is loaded before it anyway: not an edge.
        if target is not None and target != i.source and not _in(i.source, target):
            graph[i.source].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    detail = [
        f"{' <-> '.join(cycle)}: "
        + "; ".join(f"{m} -> {sorted(graph[m] & set(cycle))}" for m in cycle)
        for cycle in cycles
    ]
    assert not cycles, detail


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return {line.split(".")[0] for line in done.stdout.splitlines()}


@pytest.mark.parametrize(
    "code",
    [
        "import homedeploy.cli",
        "from homedeploy.cli import cli\ntry:\n    cli(['--help'], prog_name='homedeploy')\n"
        "except SystemExit:\n    pass",
    ],
    ids=["import", "help"],
)
def test_cli_import_and_help_stay_lazy(code: str) -> None:
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
