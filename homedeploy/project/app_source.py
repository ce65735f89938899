"""What an app module does when gunicorn imports it, read from its source without running it.

gunicorn imports the Procfile's module and looks up one name; a dev server started at import
(``app.run()`` outside ``if __name__ == "__main__":``) blocks that import, and ``debug=True`` on
Flask's dev server exposes the Werkzeug debugger (remote code execution) to the internet. These
are facts about the module's top level, so they are read with :mod:`ast`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.fileio import read_bytes


@dataclass(frozen=True)
class RunCall:
    """A ``<name>.run(...)`` call at a module's top level."""

    line: int
    guarded: bool  # inside ``if __name__ == "__main__":``
    debug: bool  # debug=True passed
    port: str | None  # the port argument's source text, when given
    host: str | None


@dataclass
class ModuleFacts:
    """Top-level facts about one module."""

    names: set[str] = field(default_factory=set)  # assigned, defined or imported at top level
    star_import: bool = False
    run_calls: list[RunCall] = field(default_factory=list)
    debug_settings: list[int] = field(default_factory=list)  # lines setting debug on
    parse_error: str | None = None
    parse_error_line: int | None = None


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    parts = [test.left, test.comparators[0]]
    has_name = any(isinstance(p, ast.Name) and p.id == "__name__" for p in parts)
    has_main = any(isinstance(p, ast.Constant) and p.value == "__main__" for p in parts)
    return has_name and has_main


def _true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _run_call(node: ast.AST, guarded: bool) -> RunCall | None:
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return None
    call = node.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "run"):
        return None
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    port = keywords.get("port") or (call.args[1] if len(call.args) > 1 else None)
    host = keywords.get("host") or (call.args[0] if call.args else None)
    return RunCall(
        node.lineno,
        guarded,
        _true(keywords.get("debug")) or (len(call.args) > 2 and _true(call.args[2])),
        ast.unparse(port) if port is not None else None,
        ast.unparse(host) if host is not None else None,
    )


def _debug_setting(node: ast.stmt) -> bool:
    """``app.debug = True`` or ``app.config["DEBUG"] = True``."""
    if not isinstance(node, ast.Assign) or not _true(node.value):
        return False
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr == "debug":
            return True
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.slice, ast.Constant)
            and target.slice.value == "DEBUG"
        ):
            return True
    return False


def _collect_names(node: ast.stmt, facts: ModuleFacts) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        facts.names.add(node.name)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            if alias.name == "*":
                facts.star_import = True
            else:
                facts.names.add(alias.asname or alias.name.split(".")[0])
    elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    facts.names.add(sub.id)
    elif isinstance(node, ast.If | ast.Try | ast.With):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                _collect_names(child, facts)
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                for child in handler.body:
                    _collect_names(child, facts)


def module_facts(path: Path) -> ModuleFacts:
    """Read ``path``'s top level; a syntax error is reported, not raised."""
    facts = ModuleFacts()
    try:
        tree = ast.parse(read_bytes(path), filename=str(path))
    except SyntaxError as error:
        facts.parse_error, facts.parse_error_line = error.msg, error.lineno
        return facts
    except (OSError, ValueError) as error:
        facts.parse_error = str(error)
        return facts
    for node in tree.body:
        _collect_names(node, facts)
        if _debug_setting(node):
            facts.debug_settings.append(node.lineno)
        call = _run_call(node, guarded=False)
        if call is not None:
            facts.run_calls.append(call)
        if isinstance(node, ast.If) and _is_main_guard(node):
            for child in node.body:
                guarded = _run_call(child, guarded=True)
                if guarded is not None:
                    facts.run_calls.append(guarded)
    return facts


def module_file(search_dirs: list[Path], module: str) -> Path | None:
    """The file Python would import for ``module`` from ``search_dirs`` (first match wins)."""
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    for base in search_dirs:
        candidate = base.joinpath(*parts)
        if candidate.with_suffix(".py").is_file():
            return candidate.with_suffix(".py")
        if (candidate / "__init__.py").is_file():
            return candidate / "__init__.py"
        if candidate.is_dir() and len(parts) > 1:
            continue
    return None
