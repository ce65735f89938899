"""Find the Flask application in a project without running any of its code.

Importing a user's module to look for ``app`` can start servers, open databases or crash, and it
needs the project's dependencies installed. Reading the source with :mod:`ast` needs none of that
and still sees what gunicorn needs: which module, which variable (``app``, ``application``,
``thisapp``...), or which factory (``create_app()``), and whether the module lives in a package or a
``src/`` layout. Syntax errors are recorded with file:line and the scan goes on.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.fileio import read_bytes

SKIP_DIR_NAMES = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "build",
        "dist",
        ".git",
        ".hg",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".heroku",
    }
)
FLASK_CLASS_NAMES = frozenset({"Flask"})
MAX_FILES = 5000


@dataclass(frozen=True)
class SourceProblem:
    """A Python file that could not be read or parsed (the scan carried on without it)."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True)
class AppCandidate:
    """A Flask application object or factory found in the source.

    ``module`` is the dotted import path relative to ``pythonpath`` (``"."`` for the project root,
    ``"src"`` for a src layout). ``reexport_of`` names the original when this module only imports
    the app from another one (``from hello import app`` in ``wsgi.py``).
    """

    module: str
    attr: str
    kind: str  # "object" or "factory"
    path: str
    line: int
    pythonpath: str = "."
    factory_args_required: bool = False
    reexport_of: str | None = None

    @property
    def target(self) -> str:
        """The gunicorn ``module:variable`` (or ``module:factory()``) string."""
        suffix = "()" if self.kind == "factory" else ""
        return f"{self.module}:{self.attr}{suffix}"

    @property
    def identity(self) -> str:
        """Same value for an app and its re-exports, so they count as one application."""
        return self.reexport_of or self.target


@dataclass
class Discovery:
    """Everything found in one scan."""

    root: Path
    candidates: list[AppCandidate] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    files_scanned: int = 0

    @property
    def distinct(self) -> list[AppCandidate]:
        """One candidate per application (the original, not its re-exports)."""
        seen: dict[str, AppCandidate] = {}
        for candidate in self.candidates:
            key = candidate.identity
            current = seen.get(key)
            if current is None or (current.reexport_of and not candidate.reexport_of):
                seen[key] = candidate
        return list(seen.values())


def is_virtualenv(directory: Path) -> bool:
    """A folder holding a virtual environment (``pyvenv.cfg``, or a conda/old virtualenv layout)."""
    return (directory / "pyvenv.cfg").is_file() or (
        (directory / "bin" / "activate").is_file() and (directory / "lib").is_dir()
    )


def iter_python_files(root: Path) -> Iterator[Path]:
    """Python files under ``root``, skipping virtual environments, caches and hidden folders."""
    count = 0
    for current, dirnames, filenames in os.walk(root):
        here = Path(current)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in SKIP_DIR_NAMES
            and not name.startswith(".")
            and not is_virtualenv(here / name)
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                count += 1
                if count > MAX_FILES:
                    return
                yield here / name


def _module_name(root: Path, path: Path) -> tuple[str, str] | None:
    """(pythonpath, dotted module) for ``path``, honouring packages and a ``src/`` layout.

    A module inside folders without ``__init__.py`` is importable only if its folder is on the
    path; we then use that folder as ``pythonpath`` (gunicorn's ``--chdir``/``--pythonpath``).
    """
    rel = path.relative_to(root)
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        if not parts:
            return None
    # Walk up from the file while the folders are packages.
    package_depth = 0
    folder = path.parent
    while folder != root and (folder / "__init__.py").is_file():
        package_depth += 1
        folder = folder.parent
    dir_parts = list(rel.parent.parts)
    base_parts = dir_parts[: len(dir_parts) - package_depth]
    module_parts = parts[len(base_parts) :]
    if not module_parts or not all(part.isidentifier() for part in module_parts):
        return None
    pythonpath = "/".join(base_parts) if base_parts else "."
    return pythonpath, ".".join(module_parts)


class _FlaskNames(ast.NodeVisitor):
    """Collects the names under which ``flask.Flask`` and the ``flask`` module are visible."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.modules: set[str] = set()

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "flask":
            for alias in node.names:
                if alias.name in FLASK_CLASS_NAMES:
                    self.classes.add(alias.asname or alias.name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "flask":
                self.modules.add(alias.asname or "flask")


def _is_flask_call(node: ast.AST | None, names: _FlaskNames) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in names.classes
    return (
        isinstance(func, ast.Attribute)
        and func.attr in FLASK_CLASS_NAMES
        and isinstance(func.value, ast.Name)
        and func.value.id in names.modules
    )


def _assigned_names(node: ast.stmt) -> tuple[list[str], ast.AST | None]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)], node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id], node.value
    return [], None


def _builds_flask(function: ast.FunctionDef | ast.AsyncFunctionDef, names: _FlaskNames) -> bool:
    """True when the function constructs a Flask object and returns something."""
    makes = any(_is_flask_call(node, names) for node in ast.walk(function))
    returns = any(
        isinstance(node, ast.Return) and node.value is not None for node in ast.walk(function)
    )
    return makes and returns


def _requires_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    without_default = len(positional) - len(args.defaults)
    kw_without_default = sum(1 for default in args.kw_defaults if default is None)
    return without_default > 0 or kw_without_default > 0


@dataclass
class _ModuleScan:
    pythonpath: str
    module: str
    path: Path
    objects: list[tuple[str, int]] = field(default_factory=list)
    factories: list[tuple[str, int, bool]] = field(default_factory=list)
    # name -> (source module, source name, line) for `from X import Y [as Z]`
    imports: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    # name -> (called name, line) for `app = create_app()`
    factory_calls: dict[str, tuple[str, int]] = field(default_factory=dict)


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    if target:
        parts.append(target)
    return ".".join(parts)


def _scan_module(root: Path, path: Path, problems: list[SourceProblem]) -> _ModuleScan | None:
    rel = str(path.relative_to(root))
    try:
        source = read_bytes(path)
    except OSError as error:
        problems.append(SourceProblem(rel, None, f"cannot read: {error.strerror}"))
        return None
    try:
        tree = ast.parse(source, filename=rel)
    except SyntaxError as error:
        problems.append(SourceProblem(rel, error.lineno, f"syntax error: {error.msg}"))
        return None
    except ValueError as error:  # null bytes and similar
        problems.append(SourceProblem(rel, None, f"cannot parse: {error}"))
        return None
    names = _FlaskNames()
    names.visit(tree)
    location = _module_name(root, path)
    if location is None:
        return None
    scan = _ModuleScan(location[0], location[1], path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _builds_flask(node, names):
            scan.factories.append((node.name, node.lineno, _requires_arguments(node)))
            continue
        if isinstance(node, ast.ImportFrom):
            source_module = (
                _resolve_relative(scan.module, path.name == "__init__.py", node.level, node.module)
                if node.level
                else node.module or ""
            )
            for alias in node.names:
                scan.imports[alias.asname or alias.name] = (source_module, alias.name, node.lineno)
            continue
        targets, value = _assigned_names(node)
        if not targets:
            continue
        if _is_flask_call(value, names):
            scan.objects.extend((name, node.lineno) for name in targets)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            for name in targets:
                scan.factory_calls[name] = (value.func.id, node.lineno)
    return scan


def find_flask_apps(root: Path) -> Discovery:
    """Scan ``root`` for Flask apps and factories; never imports or runs the project's code."""
    root = root.resolve()
    discovery = Discovery(root)
    scans: list[_ModuleScan] = []
    for path in iter_python_files(root):
        discovery.files_scanned += 1
        scan = _scan_module(root, path, discovery.problems)
        if scan is not None:
            scans.append(scan)
    by_module = {scan.module: scan for scan in scans}

    def rel(scan: _ModuleScan) -> str:
        return str(scan.path.relative_to(root))

    originals: dict[tuple[str, str], AppCandidate] = {}
    for scan in scans:
        for name, line in scan.objects:
            candidate = AppCandidate(scan.module, name, "object", rel(scan), line, scan.pythonpath)
            originals[(scan.module, name)] = candidate
        for name, line, needs_args in scan.factories:
            candidate = AppCandidate(
                scan.module, name, "factory", rel(scan), line, scan.pythonpath, needs_args
            )
            originals[(scan.module, name)] = candidate
    discovery.candidates.extend(originals.values())

    def lookup(module: str, name: str, depth: int = 0) -> AppCandidate | None:
        """Follow ``from X import Y`` chains to the original object or factory."""
        if (module, name) in originals:
            return originals[(module, name)]
        scan = by_module.get(module)
        if scan is None or depth > 5 or name not in scan.imports:
            return None
        source_module, source_name, _ = scan.imports[name]
        return lookup(source_module, source_name, depth + 1)

    def alias(scan: _ModuleScan, name: str, line: int, original: AppCandidate) -> AppCandidate:
        """An object in ``scan`` that is (or is made by) ``original``: one app, another name."""
        return AppCandidate(
            scan.module,
            name,
            "object",
            rel(scan),
            line,
            scan.pythonpath,
            reexport_of=original.target,
        )

    for scan in scans:
        for local_name, (source_module, source_name, line) in scan.imports.items():
            original = lookup(source_module, source_name)
            if original is not None and original.kind == "object":
                discovery.candidates.append(alias(scan, local_name, line, original))
        for local_name, (called, line) in scan.factory_calls.items():
            factory = originals.get((scan.module, called))
            if factory is None and called in scan.imports:
                source_module, source_name, _ = scan.imports[called]
                factory = lookup(source_module, source_name)
            if factory is not None and factory.kind == "factory":
                discovery.candidates.append(alias(scan, local_name, line, factory))
    discovery.candidates.sort(key=lambda c: (c.reexport_of is not None, _rank(c), c.path, c.line))
    return discovery


def _rank(candidate: AppCandidate) -> int:
    """Test and example files rank after real modules when listing candidates."""
    lowered = candidate.path.lower()
    if "test" in lowered or "example" in lowered or "docs" in lowered:
        return 1
    return 0
