"""Config vars: what the code reads from the environment, and what would provide it on Heroku.

On a dyno the environment is the app's config vars plus what the platform sets (``PORT``,
``DYNO``...), and nothing of the developer's shell. This module reads the three places that
say what the app will get (``app.json``'s ``env`` and ``addons``, the ``.env`` file that
``config push`` sends, the platform itself) and scans the code with ``ast`` for every read:
``os.environ["X"]``, ``os.environ.get("X", default)``, ``os.getenv``, ``environ.get`` after
``from os import environ``, including the class bodies of config classes, which run at import.
Nothing is imported or executed here.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError
from homedeploy.fileio import read_bytes

PLATFORM_VARIABLES = frozenset(
    {
        "PORT",
        "DYNO",
        "PATH",
        "HOME",
        "PWD",
        "LANG",
        "PYTHONHOME",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "WEB_CONCURRENCY",
        "FORWARDED_ALLOW_IPS",
        "GUNICORN_CMD_ARGS",
        "LD_LIBRARY_PATH",
        "LIBRARY_PATH",
        "TMPDIR",
        "USER",
        "SHELL",
        "HOSTNAME",
        "DYNO_RAM",
    }
)
"""Set on every dyno by Heroku's runtime and the Python buildpack's .profile.d scripts."""

ADDON_VARIABLES = {
    "heroku-postgresql": ("DATABASE_URL",),
    "heroku-redis": ("REDIS_URL", "REDIS_TLS_URL"),
}
"""Config vars an add-on sets when attached (the primary attachment)."""

SECRET_GENERATOR_BYTES = 32
"""app.json ``generator: secret`` makes a 64-character hex string; so does the rehearsal."""


@dataclass(frozen=True)
class EnvSetting:
    """One key of app.json's ``env``: a fixed ``value``, a ``generator``, or neither (asked for)."""

    name: str
    value: str | None = None
    generator: str | None = None
    required: bool = True
    description: str | None = None


@dataclass(frozen=True)
class AppJson:
    """The parts of app.json that shape the dyno's environment."""

    env: dict[str, EnvSetting] = field(default_factory=dict)
    addons: dict[str, str] = field(default_factory=dict)  # service -> plan ("heroku-redis:mini")

    def addon_variables(self) -> set[str]:
        return {name for service in self.addons for name in ADDON_VARIABLES.get(service, ())}


@dataclass(frozen=True)
class EnvRead:
    """One place the code reads an environment variable."""

    name: str
    path: str  # relative to the project
    line: int
    has_default: bool
    at_import: bool  # module level or a class body (runs when the module is imported)
    raises: bool = False  # ``os.environ["X"]``: KeyError when unset (``.get``/getenv give None)


def _addon_entry(entry: object) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("plan"), str):
        return str(entry["plan"])
    return None


def read_app_json(root: Path) -> AppJson | None:
    """``app.json`` at the root (None when absent); invalid JSON is a ProjectError at its line."""
    path = root / "app.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(read_bytes(path).decode("utf-8-sig", errors="replace"))
    except RecursionError:
        raise ProjectError(
            "app.json nests arrays or objects too deeply to be read",
            path=path,
            fix="flatten app.json (Heroku's app.json is a few levels deep).",
        ) from None
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"app.json is not valid JSON: {error.msg}",
            path=path,
            line=error.lineno,
            fix="fix the JSON syntax at that line.",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read app.json: {error}", path=path) from None
    if not isinstance(data, dict):
        raise ProjectError("app.json must hold a JSON object", path=path, line=1)
    env: dict[str, EnvSetting] = {}
    raw_env = data.get("env") or {}
    if isinstance(raw_env, dict):
        for name, spec in raw_env.items():
            if isinstance(spec, str):
                env[name] = EnvSetting(name, value=spec)
            elif isinstance(spec, dict):
                value, generator = spec.get("value"), spec.get("generator")
                env[name] = EnvSetting(
                    name,
                    value=str(value) if value is not None else None,
                    generator=generator if isinstance(generator, str) else None,
                    required=spec.get("required", True) is not False,
                    description=spec.get("description")
                    if isinstance(spec.get("description"), str)
                    else None,
                )
    addons: dict[str, str] = {}
    raw_addons = data.get("addons") or []
    if isinstance(raw_addons, list):
        for entry in raw_addons:
            plan = _addon_entry(entry)
            if plan:
                addons[plan.split(":", 1)[0]] = plan
    return AppJson(env, addons)


def read_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as python-dotenv reads it (keys without a value are left out)."""
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read {path.name}: {error}", path=path) from None
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class SqliteUse:
    """A literal SQLite database file the code opens (``sqlite:///app.db``, ``connect("x.db")``)."""

    target: str
    path: str
    line: int
    env_default_of: str | None = None  # the variable it is the default of, if any


@dataclass
class SourceFacts:
    """What one ``ast`` pass over the project finds about config and databases."""

    reads: list[EnvRead] = field(default_factory=list)
    sqlite: list[SqliteUse] = field(default_factory=list)
    sqlalchemy: list[tuple[str, int]] = field(default_factory=list)  # where it is imported
    postgres_scheme_rewrite: bool = False  # some literal mentions "postgres://" (the usual fix)

    def first_read(self, name: str) -> EnvRead | None:
        return next((read for read in self.reads if read.name == name), None)


SKIPPED_PARTS = frozenset({"tests", "test", "migrations", "alembic", "docs", "scripts"})
"""Folders whose files the web process does not import (tests, migrations run by hand or by the
release phase, documentation): their reads are not the app's import-time reads. A heuristic: the
app's real import graph is only known by importing it, which the rehearsal does."""


def _is_main_guard(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


class _SourceScan(ast.NodeVisitor):
    """Collects environment reads (and whether each runs at import: no enclosing def and not
    under ``if __name__ == "__main__"``), SQLite files, and SQLAlchemy imports."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.reads: list[EnvRead] = []
        self.sqlite: list[SqliteUse] = []
        self.sqlalchemy: list[tuple[str, int]] = []
        self.rewrite = False
        self.deferred = 0
        self.environ_names = {"environ"}  # after `from os import environ`
        self.getenv_names = {"getenv"}
        self.os_names = {"os"}
        self._defaults: dict[int, str] = {}  # id(default node) -> variable name

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "os" and alias.asname:
                self.os_names.add(alias.asname)
            if alias.name.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy"):
                self.sqlalchemy.append((self.rel, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "os":
            for alias in node.names:
                if alias.name == "environ":
                    self.environ_names.add(alias.asname or "environ")
                elif alias.name == "getenv":
                    self.getenv_names.add(alias.asname or "getenv")
        if node.module and node.module.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy"):
            self.sqlalchemy.append((self.rel, node.lineno))

    def _deferred(self, node: ast.AST) -> None:
        self.deferred += 1
        self.generic_visit(node)
        self.deferred -= 1

    visit_FunctionDef = _deferred
    visit_AsyncFunctionDef = _deferred
    visit_Lambda = _deferred

    def visit_If(self, node: ast.If) -> None:
        if _is_main_guard(node):
            self._deferred(node)
        else:
            self.generic_visit(node)

    def _is_environ(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.environ_names
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.os_names
        )

    def _add(
        self, name_node: ast.AST, line: int, has_default: bool, *, raises: bool = False
    ) -> None:
        if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            self.reads.append(
                EnvRead(name_node.value, self.rel, line, has_default, self.deferred == 0, raises)
            )

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._is_environ(node.value) and isinstance(node.ctx, ast.Load):
            self._add(node.slice, node.lineno, False, raises=True)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str):
            return
        text = node.value
        if "postgres://" in text:
            self.rewrite = True
        if text.startswith("sqlite:///") and ":memory:" not in text and len(text) > 10:
            self.sqlite.append(SqliteUse(text, self.rel, node.lineno, self._defaults.get(id(node))))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        is_get = (
            isinstance(func, ast.Attribute)
            and func.attr in ("get", "setdefault")
            and self._is_environ(func.value)
        )
        is_getenv = (isinstance(func, ast.Name) and func.id in self.getenv_names) or (
            isinstance(func, ast.Attribute)
            and func.attr == "getenv"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.os_names
        )
        if (is_get or is_getenv) and node.args:
            default = len(node.args) > 1 or any(k.arg == "default" for k in node.keywords)
            if len(node.args) > 1:
                second = node.args[1]
                # os.environ.get("X", None) is no default at all.
                default = not (isinstance(second, ast.Constant) and second.value is None)
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    self._defaults[id(second)] = first.value
            self._add(node.args[0], node.lineno, default)
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "connect"
            and isinstance(func.value, ast.Name)
            and func.value.id == "sqlite3"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and node.args[0].value not in (":memory:", "")
        ):
            self.sqlite.append(SqliteUse(node.args[0].value, self.rel, node.lineno))
        self.generic_visit(node)


def scan_source(root: Path) -> SourceFacts:
    """One ``ast`` pass over the project's Python files (tests and migrations left out)."""
    from homedeploy.project.discovery import iter_python_files

    facts = SourceFacts()
    for path in iter_python_files(root):
        rel = path.relative_to(root)
        if SKIPPED_PARTS & set(rel.parts[:-1]) or rel.name.startswith("test_"):
            continue
        if rel.name == "conftest.py":
            continue
        try:
            tree = ast.parse(read_bytes(path), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue
        visitor = _SourceScan(rel.as_posix())
        visitor.visit(tree)
        facts.reads.extend(visitor.reads)
        facts.sqlite.extend(visitor.sqlite)
        facts.sqlalchemy.extend(visitor.sqlalchemy)
        if visitor.rewrite:
            facts.postgres_scheme_rewrite = True
    return facts


def scan_env_reads(root: Path) -> list[EnvRead]:
    """Every literal environment read in the project's Python files, in file and line order."""
    return scan_source(root).reads


def generate_secret() -> str:
    """What Heroku's ``generator: secret`` makes: a random 64-character hex string."""
    import secrets

    return secrets.token_hex(SECRET_GENERATOR_BYTES)
