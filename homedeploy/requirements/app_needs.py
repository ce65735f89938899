"""Which distributions an app needs, read from its own code and its Procfile.

A freeze lists everything that was installed; an app needs far less. What it needs is what its
Python files import (any file, including helpers under ``templates/``), what its Procfile runs
(gunicorn is never imported, yet without it the dyno crashes), and what it loads by name (a
database driver named in a SQLAlchemy URL, a gunicorn worker class, a Jinja extension). Import
names are mapped to distribution names (``yaml`` is PyYAML, ``PIL`` is Pillow); stdlib modules
and the app's own modules are left out.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

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
_DB_URL_RE = re.compile(r"^([a-z][a-z0-9+]*)://")
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


@dataclass(frozen=True)
class AppNeed:
    """A distribution the app needs, and why: ``source`` like ``hello.py:1`` or ``Procfile:1``.

    ``import_name`` is the module the code names (None for Procfile commands); ``optional`` marks
    imports guarded by ``try/except ImportError``, which must not break a build when missing.
    """

    dist: str
    why: str
    source: str
    import_name: str | None = None
    optional: bool = False


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


def _imports_in(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """``(dotted module, line, optional)`` for every absolute import and import-by-name call."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno, _guarded(node, parents)))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.module, node.lineno, _guarded(node, parents)))
        elif isinstance(node, ast.Call):
            found.extend(_named_loads(node, _guarded(node, parents)))
    return found


def _named_loads(node: ast.Call, optional: bool) -> list[tuple[str, int, bool]]:
    """Modules loaded by name: ``import_module("x")``, ``find_spec("x")``, Jinja extensions."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    strings = [
        arg.value
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]
    if name in ("import_module", "__import__", "find_spec", "import_string") and strings:
        return [(strings[0], node.lineno, optional)]
    if name == "add_extension" and strings and "." in strings[0]:
        return [(strings[0].rsplit(".", 1)[0], node.lineno, optional)]
    return []


def _url_drivers(tree: ast.AST) -> list[tuple[str, int]]:
    """Distributions named by database URLs in string constants (``postgresql://...``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _DB_URL_RE.match(node.value)
            if match and match.group(1) in URL_DRIVER_TO_DIST:
                found.append((URL_DRIVER_TO_DIST[match.group(1)], getattr(node, "lineno", 0)))
    return found


def dist_for_import(module: str) -> str:
    """The distribution that provides ``module`` (dotted), by table, installed metadata, or name.

    The well-known table wins; then the distributions installed beside homedeploy
    (``importlib.metadata.packages_distributions``); else the import name itself, which is right
    for most projects (flask, requests, numpy).
    """
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        prefix = ".".join(parts[:size])
        if prefix in IMPORT_TO_DIST:
            return IMPORT_TO_DIST[prefix]
    top = parts[0]
    installed = _installed_map().get(top)
    if installed:
        return installed[0]
    return top.replace("_", "-")


_INSTALLED: dict[str, list[str]] | None = None


def _installed_map() -> dict[str, list[str]]:
    global _INSTALLED
    if _INSTALLED is None:
        from importlib.metadata import packages_distributions

        try:
            _INSTALLED = {k: list(v) for k, v in packages_distributions().items()}
        except Exception:
            _INSTALLED = {}
    return _INSTALLED


def _procfile_needs(app_dir: Path) -> list[AppNeed]:
    """Distributions the Procfile's commands run (gunicorn and its worker class, ...)."""
    path = app_dir / "Procfile"
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return []
    needs = []
    for number, line in enumerate(text.splitlines(), start=1):
        process, sep, command = line.partition(":")
        if not sep or not process.strip() or process.strip().startswith("#"):
            continue
        words = command.split()
        for index, word in enumerate(words):
            base = os.path.basename(word)
            if base in COMMAND_TO_DIST and (index == 0 or words[index - 1] in ("exec", "&&")):
                needs.append(
                    AppNeed(
                        COMMAND_TO_DIST[base],
                        f"the Procfile's {process.strip()} process runs {base}",
                        f"Procfile:{number}",
                    )
                )
            if word in ("-k", "--worker-class") and index + 1 < len(words):
                worker = words[index + 1].split(".")[0]
                if worker in WORKER_TO_DIST:
                    needs.append(
                        AppNeed(
                            WORKER_TO_DIST[worker],
                            f"gunicorn's worker class {words[index + 1]}",
                            f"Procfile:{number}",
                        )
                    )
    return needs


def app_needs(app_dir: Path) -> list[AppNeed]:
    """Every distribution the app at ``app_dir`` needs, with the first place that shows it."""
    files = python_files(app_dir)
    local = local_module_names(app_dir, files)
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    needs: dict[str, AppNeed] = {}

    def add(need: AppNeed) -> None:
        from packaging.utils import canonicalize_name

        key = str(canonicalize_name(need.dist))
        previous = needs.get(key)
        if previous is None or (previous.optional and not need.optional):
            needs[key] = need

    for need in _procfile_needs(app_dir):
        add(need)
    for path in files:
        relative = path.relative_to(app_dir).as_posix()
        try:
            tree = ast.parse(path.read_bytes(), filename=relative)
        except (SyntaxError, ValueError, OSError):
            continue
        for module, line, optional in _imports_in(tree):
            top = module.split(".")[0]
            if not top or top in stdlib or top in local or top.startswith("_"):
                continue
            add(
                AppNeed(
                    dist_for_import(module),
                    f"imported by {relative}:{line}",
                    f"{relative}:{line}",
                    module,
                    optional,
                )
            )
        for dist, line in _url_drivers(tree):
            add(AppNeed(dist, f"database URL in {relative}:{line}", f"{relative}:{line}"))
    if (app_dir / ".env").is_file() or (app_dir / ".flaskenv").is_file():
        flask = needs.get("flask")
        if flask is not None and "python-dotenv" not in needs:
            add(AppNeed("python-dotenv", "Flask loads .env with it", ".env", optional=True))
    return sorted(needs.values(), key=lambda need: need.dist.lower())
