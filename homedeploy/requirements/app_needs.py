"""Which distributions an app needs, read from its Procfile and the code its processes load.

A freeze lists everything that was installed; an app needs far less. What it needs is what each
Procfile process runs (every command of a chain like ``flask db upgrade; gunicorn app:app``:
gunicorn is never imported, yet without it the dyno crashes), the modules imported on the import
path of those processes, and what the code loads by name or through a package's extra (a database
driver named in a SQLAlchemy URL, WTForms' ``Email()`` needing email-validator, a gunicorn worker
class). Each need carries a certainty: ``certain`` (imported at module level on a process's
import path: the boot fails without it), ``likely`` (inside a function, under a condition, or in
a module no process is seen to load), ``optional`` (guarded by ``try/except ImportError``).
Tests, migrations (unless a process runs ``flask db``), docs, scripts and notebooks are not
runtime code and add nothing.

Import names map to distributions through :mod:`homedeploy.requirements.provides` (the
distributions' own file lists) where the index is asked; the table here is the fallback that
says so (``yaml`` is PyYAML, ``PIL`` is Pillow).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from homedeploy.fileio import read_bytes

# Import names whose distribution is named differently (the usual pipreqs/deptry pitfalls).
IMPORT_TO_DIST: dict[str, str] = {
    "yaml": "PyYAML",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "git": "GitPython",
    "jwt": "PyJWT",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "magic": "python-magic",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "slugify": "python-slugify",
    "multipart": "python-multipart",
    "jose": "python-jose",
    "telegram": "python-telegram-bot",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "Levenshtein": "python-Levenshtein",
    "attr": "attrs",
    "google.protobuf": "protobuf",
    "googleapiclient": "google-api-python-client",
    "google.cloud.storage": "google-cloud-storage",
    "google.auth": "google-auth",
    "sqlalchemy": "SQLAlchemy",
    "flask_sqlalchemy": "Flask-SQLAlchemy",
    "flask_migrate": "Flask-Migrate",
    "flask_login": "Flask-Login",
    "flask_wtf": "Flask-WTF",
    "flask_cors": "Flask-Cors",
    "flask_mail": "Flask-Mail",
    "flask_restful": "Flask-RESTful",
    "flask_caching": "Flask-Caching",
    "flask_bcrypt": "Flask-Bcrypt",
    "flask_socketio": "Flask-SocketIO",
    "flask_limiter": "Flask-Limiter",
    "flask_session": "Flask-Session",
    "flask_bootstrap": "Bootstrap-Flask",
    "flask_marshmallow": "flask-marshmallow",
    "flask_jwt_extended": "Flask-JWT-Extended",
    "flask_talisman": "flask-talisman",
    "flask_compress": "Flask-Compress",
    "flask_admin": "Flask-Admin",
    "flask_babel": "flask-babel",
    "flask_assets": "Flask-Assets",
    "wtforms": "WTForms",
    "markdown": "Markdown",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "werkzeug": "Werkzeug",
    "mpl_toolkits": "matplotlib",
    "pkg_resources": "setuptools",
    "setuptools": "setuptools",
    "win32api": "pywin32",
    "win32com": "pywin32",
    "pythoncom": "pywin32",
    "pywintypes": "pywin32",
    "Foundation": "pyobjc",
    "AppKit": "pyobjc",
    "fitz": "PyMuPDF",
    "lxml": "lxml",
    "tables": "tables",
    "Bio": "biopython",
    "nacl": "PyNaCl",
    "gi": "PyGObject",
    "kafka": "kafka-python",
    "ldap": "python-ldap",
    "xlsxwriter": "XlsxWriter",
    "dns": "dnspython",
    "websocket": "websocket-client",
    "OpenGL": "PyOpenGL",
    "socks": "PySocks",
    "ruamel": "ruamel.yaml",
    "memcache": "python-memcached",
    "stripe": "stripe",
}

# Commands a Procfile can run, and the distribution that provides each.
COMMAND_TO_DIST: dict[str, str] = {
    "gunicorn": "gunicorn",
    "waitress-serve": "waitress",
    "uwsgi": "uWSGI",
    "uvicorn": "uvicorn",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
    "celery": "celery",
    "rq": "rq",
    "flask": "Flask",
    "newrelic-admin": "newrelic",
    "ddtrace-run": "ddtrace",
}

GUNICORN_EXTRAS = frozenset({"gevent", "eventlet", "tornado"})
"""Worker classes gunicorn declares an extra for: the extra's Requires-Dist (read from
gunicorn's metadata by check-reqs) says what else the worker imports."""
# gunicorn worker classes (``-k NAME``) and the distribution each needs.
WORKER_TO_DIST: dict[str, str] = {
    "gevent": "gevent",
    "eventlet": "eventlet",
    "tornado": "tornado",
    "uvicorn": "uvicorn",
}

# Database URL drivers SQLAlchemy loads by name (``postgresql://`` means psycopg2).
URL_DRIVER_TO_DIST: dict[str, str] = {
    "postgres": "psycopg2-binary",
    "postgresql": "psycopg2-binary",
    "postgresql+psycopg2": "psycopg2-binary",
    "postgresql+psycopg": "psycopg",
    "postgresql+asyncpg": "asyncpg",
    "postgresql+pg8000": "pg8000",
    "mysql": "mysqlclient",
    "mysql+mysqldb": "mysqlclient",
    "mysql+pymysql": "PyMySQL",
    "mysql+mysqlconnector": "mysql-connector-python",
    "mssql+pyodbc": "pyodbc",
    "mssql+pymssql": "pymssql",
    "redis": "redis",
    "rediss": "redis",
}
# Import names more than one distribution provides; any of them satisfies the import. The
# index's file lists (provides.py) decide for the rest; this covers offline checks.
IMPORT_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "psycopg2": ("psycopg2-binary", "psycopg2"),
    "cv2": (
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
    "PIL": ("Pillow", "Pillow-SIMD"),
    "Crypto": ("pycryptodome", "pycrypto"),
    "opencc": ("OpenCC", "opencc-python-reimplemented"),
    "linebot": ("line-bot-sdk",),
    "jwt": ("PyJWT",),
    "magic": ("python-magic", "python-magic-bin"),
    "MySQLdb": ("mysqlclient",),
    "psycopg": ("psycopg", "psycopg-binary"),
    "dotenv": ("python-dotenv",),
}

# Names the code uses that make a package load an optional dependency (a package "extra"):
# (module the name comes from, name) -> (distribution, extra, what the extra installs).
EXTRA_USES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("wtforms.validators", "Email"): ("WTForms", "email", "email-validator"),
    ("wtforms.validators", "email"): ("WTForms", "email", "email-validator"),
    ("wtforms", "validators.Email"): ("WTForms", "email", "email-validator"),
    ("passlib.hash", "bcrypt"): ("passlib", "bcrypt", "bcrypt"),
    ("pydantic", "EmailStr"): ("pydantic", "email", "email-validator"),
}
_EXTRA_ATTRIBUTES = {"Email": ("wtforms", "validators.Email")}

# Process wrappers: the command that follows them is what runs.
_WRAPPERS = {"exec", "env", "nice", "nohup", "time", "command", "sudo"}
_WRAPPER_DISTS = {"newrelic-admin": "newrelic", "ddtrace-run": "ddtrace"}

_DB_URL_RE = re.compile(r"^([a-z][a-z0-9+]*)://")
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}
NON_RUNTIME_DIRS = frozenset(
    {
        "tests",
        "test",
        "testing",
        "migrations",
        "alembic",
        "docs",
        "doc",
        "scripts",
        "script",
        "examples",
        "notebooks",
        "benchmarks",
        "tools",
    }
)
"""Folders whose code no web or worker process runs (migrations only under ``flask db``)."""
NON_RUNTIME_FILES = frozenset(
    {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "conf.py", "manage.py"}
)

Certainty = Literal["certain", "likely", "optional"]
CERTAIN: Certainty = "certain"
LIKELY: Certainty = "likely"
OPTIONAL: Certainty = "optional"
_RANK = {CERTAIN: 2, LIKELY: 1, OPTIONAL: 0}


def _weaker(first: Certainty, second: Certainty) -> Certainty:
    return first if _RANK[first] <= _RANK[second] else second


@dataclass(frozen=True)
class AppNeed:
    """A distribution the app needs, and why: ``source`` like ``hello.py:1`` or ``Procfile:1``.

    ``import_name`` is the module the code names (None for Procfile commands); ``certainty``
    says how sure the need is (see the module docstring; ``optional`` mirrors
    ``certainty == "optional"``). ``alternatives`` are other distributions that satisfy it
    (psycopg2 for psycopg2-binary); ``extra_of`` is ``(distribution, extra)`` when the need is a
    package's optional dependency the code uses (WTForms' ``email`` extra).
    """

    dist: str
    why: str
    source: str
    import_name: str | None = None
    optional: bool = False
    certainty: Certainty = CERTAIN
    alternatives: tuple[str, ...] = ()
    extra_of: tuple[str, str] | None = None

    @property
    def from_process(self) -> bool:
        return self.source.startswith("Procfile")


def _is_runtime_file(relative: Path) -> bool:
    parts = relative.parts
    if any(part in NON_RUNTIME_DIRS for part in parts[:-1]):
        return False
    name = parts[-1]
    return not (
        name in NON_RUNTIME_FILES
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name.endswith(".ipynb")
    )


def python_files(app_dir: Path) -> list[Path]:
    """The app's Python files: virtualenvs (``pyvenv.cfg``), hidden and build dirs skipped."""
    found: list[Path] = []
    for root, dirs, files in os.walk(app_dir):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and not (root_path / d / "pyvenv.cfg").exists()
        )
        found.extend(root_path / f for f in sorted(files) if f.endswith(".py"))
    return found


def local_module_names(app_dir: Path, files: list[Path]) -> set[str]:
    """Names the app's own files and packages can be imported as (at any folder level)."""
    names = {path.stem for path in files}
    for path in files:
        for parent in path.relative_to(app_dir).parents:
            if parent.name:
                names.add(parent.name)
    return names


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """True when ``node`` sits in a ``try`` whose handlers catch ImportError."""
    current: ast.AST | None = node
    while current is not None:
        parent = parents.get(current)
        if isinstance(parent, ast.Try) and current in parent.body:
            for handler in parent.handlers:
                names = []
                if handler.type is None:
                    return True
                for item in (
                    handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                ):
                    if isinstance(item, ast.Name):
                        names.append(item.id)
                    elif isinstance(item, ast.Attribute):
                        names.append(item.attr)
                if {"ImportError", "ModuleNotFoundError", "Exception"} & set(names):
                    return True
        current = parent
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _context(
    node: ast.AST, parents: dict[ast.AST, ast.AST], import_time: frozenset[str] = frozenset()
) -> Certainty | None:
    """How sure an import at ``node`` is to run when its module loads (None: never at run time).

    Module level and class bodies: certain, and so are the bodies of functions called at import
    time (``import_time``: an app factory's ``create_app()``). Inside another function or under
    ``if``/``while``/``for``/``with``: likely. ``try/except ImportError``: optional.
    ``if TYPE_CHECKING:``: never.
    """
    if _guarded(node, parents):
        return OPTIONAL
    certainty: Certainty = CERTAIN
    current: ast.AST | None = node
    while current is not None:
        parent = parents.get(current)
        if isinstance(parent, ast.If):
            if _is_type_checking(parent.test) and current in parent.body:
                return None
            certainty = LIKELY
        elif isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if parent.name not in import_time:
                certainty = LIKELY
        elif isinstance(parent, (ast.Lambda, ast.While, ast.For, ast.With)):
            certainty = LIKELY
        current = parent
    return certainty


@dataclass(frozen=True)
class _Import:
    module: str
    line: int
    certainty: Certainty
    level: int = 0
    names: tuple[str, ...] = ()


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def import_time_calls(tree: ast.AST) -> set[str]:
    """Names of functions a module calls while it loads (``app = create_app()``)."""
    parents = _parents(tree)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _context(node, parents) == CERTAIN:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name:
                names.add(name)
    return names


def _imports_in(tree: ast.AST, import_time: frozenset[str] = frozenset()) -> list[_Import]:
    """Every import, relative import and import-by-name call, with how sure it is to run."""
    parents = _parents(tree)
    found: list[_Import] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Call)):
            certainty = _context(node, parents, import_time)
            if certainty is None:
                continue
            if isinstance(node, ast.Import):
                found.extend(_Import(alias.name, node.lineno, certainty) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = tuple(alias.name for alias in node.names)
                found.append(_Import(node.module or "", node.lineno, certainty, node.level, names))
            else:
                found.extend(
                    _Import(module, line, certainty) for module, line in _named_loads(node)
                )
    return found


def _named_loads(node: ast.Call) -> list[tuple[str, int]]:
    """Modules loaded by name: ``import_module("x")``, ``find_spec("x")``, Jinja extensions."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    strings = [
        arg.value
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]
    if name in ("import_module", "__import__", "find_spec", "import_string") and strings:
        return [(strings[0], node.lineno)]
    if name == "add_extension" and strings and "." in strings[0]:
        return [(strings[0].rsplit(".", 1)[0], node.lineno)]
    return []


def _url_drivers(tree: ast.AST) -> list[tuple[str, int, str]]:
    """Distributions named by database URLs in string constants (``postgresql://...``), with
    the URL's scheme."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _DB_URL_RE.match(node.value)
            if match and match.group(1) in URL_DRIVER_TO_DIST:
                scheme = match.group(1)
                found.append((URL_DRIVER_TO_DIST[scheme], getattr(node, "lineno", 0), scheme))
    return found


PLAIN_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})
"""URL schemes that name no driver: SQLAlchemy then loads psycopg2, but psycopg (3) and
asyncpg accept such URLs too, so the driver the app imports or declares is the one it uses."""
POSTGRES_DRIVERS = ("psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "pg8000", "asyncpg")


def _extra_uses(tree: ast.AST, imports: list[_Import]) -> list[tuple[tuple[str, str, str], int]]:
    """Uses of names that need a package's extra (``from wtforms.validators import Email``)."""
    found = []
    for item in imports:
        for name in item.names:
            key = (item.module, name)
            if key in EXTRA_USES:
                found.append((EXTRA_USES[key], item.line))
    if any(item.module.split(".")[0] == "wtforms" for item in imports):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in _EXTRA_ATTRIBUTES:
                found.append((EXTRA_USES[_EXTRA_ATTRIBUTES[node.attr]], node.lineno))
    return found


def dist_for_import(module: str) -> str:
    """The distribution that provides ``module`` (dotted), by table, else by its own name.

    A fallback for when the index's file lists are not consulted (see :mod:`.provides`): the
    well-known table wins, else the import name itself, which is right for most projects
    (flask, requests, numpy). The distributions installed beside homedeploy are not asked: they
    say nothing about the app's, and reading them costs more than a second on a big venv.
    """
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        prefix = ".".join(parts[:size])
        if prefix in IMPORT_TO_DIST:
            return IMPORT_TO_DIST[prefix]
    return parts[0].replace("_", "-")


@dataclass(frozen=True)
class Process:
    """One command a Procfile process runs (each part of a ``a; b && c`` chain is one)."""

    process: str
    line: int
    words: tuple[str, ...]

    @property
    def program(self) -> str:
        return os.path.basename(self.words[0]) if self.words else ""


def simple_commands(command: str) -> list[list[str]]:
    """The commands of a shell line, split at ``;``, ``&&``, ``||``, ``|`` and ``&`` as bash
    would (quotes honoured); environment assignments and wrappers (``exec``, ``nohup``) are
    removed so the first word is the program. [] when the line cannot be split."""
    import shlex

    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set(";&|()"):
            commands.append([])
        else:
            commands[-1].append(token)
    result = []
    for words in commands:
        while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] in _WRAPPERS):
            words = words[1:]
        if words:
            result.append(words)
    return result


def procfile_processes(app_dir: Path) -> list[Process]:
    """Every command of every Procfile process, in order."""
    path = app_dir / "Procfile"
    try:
        text = read_bytes(path).decode("utf-8-sig", errors="replace")
    except OSError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        process, sep, command = line.partition(":")
        name = process.strip()
        if not sep or not name or name.startswith("#") or " " in name:
            continue
        for words in simple_commands(command):
            found.append(Process(name, number, tuple(words)))
    return found


@dataclass
class _Entries:
    """What the processes load: module names, script files, and needs from their commands."""

    modules: list[str]
    scripts: list[str]
    needs: list[AppNeed]
    flask_db: bool = False
    factories: list[str] = field(default_factory=list)


def _option_value(words: tuple[str, ...], *options: str) -> str | None:
    for index, word in enumerate(words):
        for option in options:
            if word == option and index + 1 < len(words):
                return words[index + 1]
            if option.startswith("--") and word.startswith(option + "="):
                return word.split("=", 1)[1]
            if not option.startswith("--") and word.startswith(option) and len(word) > 2:
                return word[len(option) :]
    return None


def _flask_app(app_dir: Path, words: tuple[str, ...], factories: list[str]) -> list[str]:
    """The module ``flask`` loads: ``--app``, FLASK_APP (.flaskenv, .env), else Flask's
    defaults (``wsgi``, ``app``)."""
    value = _option_value(words, "--app", "-A")
    if value is None:
        for name in (".flaskenv", ".env"):
            try:
                text = (app_dir / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            match = re.search(r"^\s*(?:export\s+)?FLASK_APP\s*=\s*['\"]?([^'\"\s#]+)", text, re.M)
            if match:
                value = match.group(1)
                break
    if value is None:
        return ["wsgi", "app"]
    if ":" in value:
        factory = value.split(":", 1)[1].split("(")[0]
        if factory:
            factories.append(factory)
    module = value.split(":")[0].split("(")[0]
    return [module[:-3].replace("/", ".") if module.endswith(".py") else module]


def _process_entries(app_dir: Path, processes: list[Process]) -> _Entries:
    entries = _Entries([], [], [])

    def need(dist: str, why: str, process: Process) -> None:
        entries.needs.append(AppNeed(dist, why, f"Procfile:{process.line}"))

    for process in processes:
        words = process.words
        program = process.program
        while program in _WRAPPER_DISTS:
            need(
                _WRAPPER_DISTS[program],
                f"the Procfile's {process.process} process runs {program}",
                process,
            )
            words = tuple(w for w in words[1:] if w != "run-program")
            program = os.path.basename(words[0]) if words else ""
        if program.startswith("python") and "-m" in words:
            position = words.index("-m")
            if position + 1 < len(words):
                module = words[position + 1]
                rest = words[position + 1 :]
                words, program = rest, module
                if module not in COMMAND_TO_DIST:
                    entries.modules.append(module)
                    continue
        elif program.startswith("python"):
            script = next((w for w in words[1:] if w.endswith(".py")), None)
            if script:
                entries.scripts.append(script)
            continue
        if program in COMMAND_TO_DIST:
            need(
                COMMAND_TO_DIST[program],
                f"the Procfile's {process.process} process runs {program}",
                process,
            )
        if program == "gunicorn":
            _gunicorn_entries(words, process, entries)
        elif program == "flask":
            entries.modules.extend(_flask_app(app_dir, words, entries.factories))
            entries.factories.append("create_app")  # Flask's discovery calls a factory
            if len(words) > 1 and words[1] == "db":
                entries.flask_db = True
        elif program == "celery":
            app = _option_value(words, "--app", "-A")
            if app:
                entries.modules.append(app.split(":")[0])
        elif program in ("uvicorn", "hypercorn", "waitress-serve", "daphne"):
            target = next((w for w in words[1:] if ":" in w and not w.startswith("-")), None)
            if target:
                entries.modules.append(target.split(":")[0])
    return entries


def _gunicorn_entries(words: tuple[str, ...], process: Process, entries: _Entries) -> None:
    import shlex

    from homedeploy.project.procfile import parse_gunicorn

    parsed = parse_gunicorn(shlex.join(words))
    worker = _option_value(words, "-k", "--worker-class")
    if worker:
        base = worker.split(".")[0]
        if base in WORKER_TO_DIST:
            entries.needs.append(
                AppNeed(
                    WORKER_TO_DIST[base],
                    f"gunicorn's worker class {worker}",
                    f"Procfile:{process.line}",
                    extra_of=("gunicorn", base) if base in GUNICORN_EXTRAS else None,
                )
            )
    if parsed is None:
        return
    if parsed.target and "(" in parsed.target:
        entries.factories.append(parsed.variable.split("(")[0])
    if parsed.module:
        module = parsed.module
        if parsed.chdir:
            module = f"{parsed.chdir.strip('/').replace('/', '.')}.{module}"
        entries.modules.append(module)
    if parsed.config and parsed.config.endswith(".py"):
        entries.scripts.append(parsed.config.removeprefix("python:"))


class _Modules:
    """The app's own modules by dotted name (from the root and from ``src/``)."""

    def __init__(self, app_dir: Path, files: list[Path]) -> None:
        self.by_name: dict[str, Path] = {}
        for path in files:
            relative = path.relative_to(app_dir)
            for root in ((), ("src",)):
                if relative.parts[: len(root)] != root:
                    continue
                parts = list(relative.with_suffix("").parts[len(root) :])
                if parts and parts[-1] == "__init__":
                    parts = parts[:-1]
                if parts and all(part.isidentifier() for part in parts):
                    self.by_name.setdefault(".".join(parts), path)
        self.tops = {name.split(".")[0] for name in self.by_name}

    def files_for(self, module: str) -> list[Path]:
        """The files importing ``module`` runs: each package ``__init__`` on the way, then it."""
        parts = module.split(".")
        found = []
        for size in range(1, len(parts) + 1):
            path = self.by_name.get(".".join(parts[:size]))
            if path is not None:
                found.append(path)
        return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def app_needs(app_dir: Path) -> list[AppNeed]:
    """Every distribution the app at ``app_dir`` needs, with the first place that shows it.

    The walk starts at what the Procfile's processes load (gunicorn's target, ``flask``'s app,
    ``celery -A``, ``python x.py``/``-m x``) and follows the app's own imports; runtime files no
    process is seen to load still count, as ``likely``. Without a Procfile every runtime file is
    a starting point.
    """
    files = python_files(app_dir)
    local = local_module_names(app_dir, files)
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    modules = _Modules(app_dir, files)
    module_of = {path: name for name, path in modules.by_name.items()}
    processes = procfile_processes(app_dir)
    entries = _process_entries(app_dir, processes)
    needs: dict[str, AppNeed] = {}

    def add(need: AppNeed) -> None:
        from packaging.utils import canonicalize_name

        key = str(canonicalize_name(need.dist))
        previous = needs.get(key)
        if previous is None or _RANK[previous.certainty] < _RANK[need.certainty]:
            needs[key] = need

    for need in entries.needs:
        add(need)

    runtime = [p for p in files if _is_runtime_file(p.relative_to(app_dir))]
    if entries.flask_db:
        runtime += [
            p for p in files if p.relative_to(app_dir).parts[0] == "migrations" and p not in runtime
        ]
    # (file, certainty of reaching it) in walk order; a file is walked again only when reached
    # with more certainty.
    reached: dict[Path, Certainty] = {}
    queue: list[tuple[Path, Certainty]] = []
    for module in entries.modules:
        queue.extend((path, CERTAIN) for path in modules.files_for(module))
    for script in entries.scripts:
        path = (app_dir / script).resolve()
        if path.is_file():
            queue.append((path, CERTAIN))
    if not entries.modules and not entries.scripts:
        queue.extend((path, CERTAIN) for path in runtime)
    trees: dict[Path, ast.AST | None] = {}

    def tree_of(path: Path) -> ast.AST | None:
        if path not in trees:
            relative = (
                path.relative_to(app_dir).as_posix() if path.is_relative_to(app_dir) else str(path)
            )
            try:
                trees[path] = ast.parse(read_bytes(path), filename=relative)
            except (SyntaxError, ValueError, OSError):
                trees[path] = None
        return trees[path]

    import_time: set[str] = set(entries.factories)
    for path in runtime:
        tree = tree_of(path)
        if tree is not None:
            import_time |= import_time_calls(tree)
    frozen_calls = frozenset(import_time)

    def walk(queue: list[tuple[Path, Certainty]]) -> None:
        while queue:
            path, reach = queue.pop(0)
            if path in reached and _RANK[reached[path]] >= _RANK[reach]:
                continue
            reached[path] = reach
            tree = tree_of(path)
            if tree is None:
                continue
            try:
                relative = path.relative_to(app_dir).as_posix()
            except ValueError:
                relative = str(path)
            this = module_of.get(path, path.stem)
            imports = _imports_in(tree, frozen_calls)
            for item in imports:
                certainty = _weaker(reach, item.certainty)
                module = item.module
                if item.level:
                    base = _package_of(this, path).split(".") if this else []
                    base = base[: len(base) - (item.level - 1)] if item.level > 1 else base
                    module = ".".join([*base, module] if module else base)
                    targets = [module] + [f"{module}.{name}" for name in item.names]
                    for target in targets:
                        queue.extend((p, certainty) for p in modules.files_for(target))
                    continue
                top = module.split(".")[0]
                if top in modules.tops:
                    targets = [module] + [f"{module}.{name}" for name in item.names]
                    for target in targets:
                        queue.extend((p, certainty) for p in modules.files_for(target))
                    continue
                if not top or top in stdlib or top in local or top.startswith("_"):
                    continue
                add(
                    AppNeed(
                        dist_for_import(module),
                        f"imported by {relative}:{item.line}",
                        f"{relative}:{item.line}",
                        module,
                        certainty == OPTIONAL,
                        certainty,
                        IMPORT_ALTERNATIVES.get(top, ()),
                    )
                )
            for dist, line, scheme in _url_drivers(tree):
                alternatives: tuple[str, ...] = ("psycopg2",) if dist == "psycopg2-binary" else ()
                if scheme in PLAIN_POSTGRES_SCHEMES:
                    alternatives = tuple(d for d in POSTGRES_DRIVERS if d != dist)
                    url_only.add(dist.lower())
                add(
                    AppNeed(
                        dist,
                        f"database URL in {relative}:{line}",
                        f"{relative}:{line}",
                        certainty=_weaker(reach, LIKELY),
                        alternatives=alternatives,
                    )
                )
            for (package, extra, dist), line in _extra_uses(tree, imports):
                add(
                    AppNeed(
                        dist,
                        f"{relative}:{line} uses {package}'s {extra!r} extra",
                        f"{relative}:{line}",
                        certainty=reach,
                        extra_of=(package, extra),
                    )
                )

    url_only: set[str] = set()
    walk(queue)
    # Runtime files no process is seen to load (plugins, CLI helpers): likely at most.
    walk([(path, LIKELY) for path in runtime if path not in reached])
    dotenv_file = (app_dir / ".env").is_file() or (app_dir / ".flaskenv").is_file()
    if dotenv_file and "flask" in needs and "python-dotenv" not in needs:
        add(
            AppNeed(
                "python-dotenv",
                "Flask loads .env with it",
                ".env",
                optional=True,
                certainty=OPTIONAL,
            )
        )
    imported_drivers = {
        key
        for key, need in needs.items()
        if key in POSTGRES_DRIVERS and need.import_name is not None
    }
    for key in url_only:
        from_url = needs.get(key)
        if from_url is not None and from_url.import_name is None and imported_drivers - {key}:
            del needs[key]  # a plain postgres:// URL goes to the driver the app imports
    return sorted(needs.values(), key=lambda need: need.dist.lower())
