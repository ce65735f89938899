"""A package index on 127.0.0.1 for check-reqs tests: PEP 691 JSON or PEP 503 HTML.

Projects are described in Python (name -> versions -> files) and the wheels are built on the fly
as real, minimal wheels (METADATA, WHEEL, RECORD), so pip itself can resolve against the index.
The server counts requests and sends ETag / Cache-Control headers like a real index.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class FakeFile:
    filename: str
    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    yanked: bool = False
    uploaded: str | None = None  # ISO 8601, served as PEP 700 upload-time
    top_level: tuple[str, ...] = ()  # import names the wheel ships (default: its own name)
    metadata_file: bool = True  # serve the wheel's METADATA beside it (PEP 658/714)
    code: str = ""  # module-level code of the first top-level package, after __version__
    extra: dict[str, str] = field(default_factory=dict)  # more modules: path -> source


def _metadata_text(filename: str, requires: list[str]) -> str:
    name, version = filename.split("-")[0], filename.split("-")[1]
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    extras = sorted({e for req in requires for e in re.findall(r'extra == "([^"]+)"', req)})
    metadata += "".join(f"Provides-Extra: {extra}\n" for extra in extras)
    return metadata + "".join(f"Requires-Dist: {req}\n" for req in requires)


def _wheel_bytes(
    filename: str,
    requires: list[str],
    top_level: tuple[str, ...] = (),
    code: str = "",
    extra: dict[str, str] | None = None,
) -> bytes:
    name, version = filename.split("-")[0], filename.split("-")[1]
    tag = "-".join(filename[:-4].split("-")[2:])
    dist_info = f"{name}-{version}.dist-info"
    metadata = _metadata_text(filename, requires)
    wheel = f"Wheel-Version: 1.0\nGenerator: homedeploy-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    modules = [f"{top}/__init__.py" for top in (top_level or (name.lower(),))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, module in enumerate(modules):
            archive.writestr(module, f"__version__ = {version!r}\n" + (code if not number else ""))
        for path, source in (extra or {}).items():
            archive.writestr(path, source)
            modules.append(path)
        archive.writestr(f"{dist_info}/METADATA", metadata)
        archive.writestr(f"{dist_info}/WHEEL", wheel)
        record = "".join(f"{module},,\n" for module in modules)
        archive.writestr(f"{dist_info}/RECORD", f"{record}{dist_info}/METADATA,,\n")
    return buffer.getvalue()


def _sdist_bytes(filename: str) -> bytes:
    stem = filename[: -len(".tar.gz")]
    name, version = stem.rsplit("-", 1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        info = tarfile.TarInfo(f"{stem}/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte of a single ``Range: bytes=a-b`` / ``bytes=-n`` request."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    if not first:
        return max(0, size - int(last)), size - 1
    return int(first), min(size - 1, int(last)) if last else size - 1


class LocalIndex:
    """Serve ``projects`` (canonical name -> files) at ``http://127.0.0.1:PORT/simple/``."""

    def __init__(
        self, projects: dict[str, list[FakeFile]], *, mode: str = "json", max_age: int = 600
    ) -> None:
        self.projects = projects
        self.mode = mode
        self.max_age = max_age
        self.requests: list[str] = []
        self.not_modified = 0
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, bytes] = {}  # wheel file name -> its PEP 658 file
        self.drip: dict[str, float] = {}  # file name -> seconds between bytes of its body
        self.sent: dict[str, int] = {}  # file name -> body bytes written before it was done
        for files in projects.values():
            for item in files:
                if item.filename.endswith(".whl"):
                    self.blobs[item.filename] = _wheel_bytes(
                        item.filename, item.requires, item.top_level, item.code, item.extra
                    )
                    if item.metadata_file:
                        text = _metadata_text(item.filename, item.requires)
                        self.metadata[item.filename] = text.encode()
                else:
                    self.blobs[item.filename] = _sdist_bytes(item.filename)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def __enter__(self) -> LocalIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _page(self, name: str, as_json: bool) -> tuple[bytes, str]:
        files = self.projects[name]
        if as_json:
            payload = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "files": [
                    {
                        "filename": f.filename,
                        "url": f"../../files/{f.filename}",
                        "hashes": {"sha256": hashlib.sha256(self.blobs[f.filename]).hexdigest()},
                        "requires-python": f.requires_python,
                        "yanked": f.yanked,
                        **({"upload-time": f.uploaded} if f.uploaded else {}),
                        **self._metadata_hashes(f.filename, as_json=True),
                    }
                    for f in files
                ],
            }
            return json.dumps(payload).encode(), "application/vnd.pypi.simple.v1+json"
        links = []
        for f in files:
            digest = hashlib.sha256(self.blobs[f.filename]).hexdigest()
            attrs = f' href="../../files/{f.filename}#sha256={digest}"'
            if f.requires_python:
                attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
            if f.yanked:
                attrs += ' data-yanked=""'
            for key, value in self._metadata_hashes(f.filename, as_json=False).items():
                attrs += f' {key}="{value}"'
            links.append(f"<a{attrs}>{f.filename}</a><br/>")
        body = "<!DOCTYPE html><html><body>" + "\n".join(links) + "</body></html>"
        return body.encode(), "text/html"

    def _metadata_hashes(self, filename: str, *, as_json: bool) -> dict[str, object]:
        """PEP 714's ``core-metadata`` (and PEP 658's older name) for a wheel served with one."""
        if filename not in self.metadata:
            return {}
        digest = hashlib.sha256(self.metadata[filename]).hexdigest()
        if as_json:
            return {"core-metadata": {"sha256": digest}, "dist-info-metadata": {"sha256": digest}}
        return {
            "data-core-metadata": f"sha256={digest}",
            "data-dist-info-metadata": f"sha256={digest}",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                index.requests.append(self.path)
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if len(parts) == 2 and parts[0] == "simple" and parts[1] in index.projects:
                    wants_json = "vnd.pypi.simple.v1+json" in self.headers.get("Accept", "")
                    body, content_type = index._page(parts[1], wants_json and index.mode == "json")
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        index.not_modified += 1
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Cache-Control", f"max-age={index.max_age}, public")
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if len(parts) == 2 and parts[0] == "files" and parts[1].endswith(".metadata"):
                    wheel = parts[1][: -len(".metadata")]
                    if wheel in index.metadata:
                        self._send(index.metadata[wheel], parts[1])
                        return
                if len(parts) == 2 and parts[0] == "files" and parts[1] in index.blobs:
                    body = index.blobs[parts[1]]
                    ranged = _byte_range(self.headers.get("Range"), len(body))
                    if ranged is None:
                        self._send(body, parts[1])
                        return
                    start, end = ranged
                    self.send_response(206)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
                    self.send_header("Content-Length", str(end + 1 - start))
                    self.end_headers()
                    self._write(body[start : end + 1], parts[1])
                    return
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(self, body: bytes, name: str = "") -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self._write(body, name)

            def _write(self, body: bytes, name: str) -> None:
                delay = index.drip.get(name)
                step = 1 if delay else 1024 * 1024
                index.sent[name] = 0
                try:
                    for start in range(0, len(body), step):
                        if delay:
                            time.sleep(delay)
                        self.wfile.write(body[start : start + step])
                        index.sent[name] += len(body[start : start + step])
                except OSError:
                    return  # the client hung up (a capped or timed-out download)

            def do_HEAD(self) -> None:  # uv asks before downloading a wheel
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if len(parts) == 2 and parts[0] == "files" and parts[1] in index.blobs:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(index.blobs[parts[1]])))
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


MANYLINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"

PROJECTS: dict[str, list[FakeFile]] = {
    "flask": [
        FakeFile("flask-1.0.2-py2.py3-none-any.whl", ["werkzeug>=0.14"]),
        FakeFile("flask-3.1.0-py3-none-any.whl", ["werkzeug>=3.0", "markupsafe>=2.1"]),
        FakeFile("flask-3.1.1-py3-none-any.whl", ["werkzeug>=3.0", "markupsafe>=2.1"]),
    ],
    "werkzeug": [
        FakeFile("werkzeug-0.14.1.tar.gz"),
        FakeFile("werkzeug-3.0.0-py3-none-any.whl", ["markupsafe>=2.1"]),
    ],
    "markupsafe": [
        FakeFile("markupsafe-1.0.tar.gz"),
        FakeFile(f"markupsafe-3.0.2-cp314-cp314-{MANYLINUX}.whl"),
        FakeFile(f"markupsafe-3.0.2-cp311-cp311-{MANYLINUX}.whl"),
        FakeFile("markupsafe-3.0.2.tar.gz"),
    ],
    "gunicorn": [
        FakeFile("gunicorn-19.9.0-py2.py3-none-any.whl"),
        FakeFile("gunicorn-23.0.0-py3-none-any.whl"),
    ],
    "numpy": [
        FakeFile("numpy-1.15.4.zip"),
        FakeFile(f"numpy-2.3.0-cp314-cp314-{MANYLINUX}.whl", requires_python=">=3.11"),
        FakeFile(f"numpy-2.3.0-cp311-cp311-{MANYLINUX}.whl", requires_python=">=3.11"),
        FakeFile("numpy-2.3.0.tar.gz", requires_python=">=3.11"),
    ],
    "pyyaml": [
        FakeFile(f"PyYAML-6.0.2-cp314-cp314-{MANYLINUX}.whl"),
        FakeFile(f"PyYAML-6.0.2-cp311-cp311-{MANYLINUX}.whl"),
    ],
    "conda": [FakeFile("conda-4.3.16.tar.gz", yanked=True)],
    "pywin32": [
        FakeFile("pywin32-306-cp314-cp314-win_amd64.whl"),
        FakeFile("pywin32-306-cp311-cp311-win_amd64.whl"),
    ],
    "appnope": [FakeFile("appnope-0.1.4-py2.py3-none-any.whl")],
    "six": [FakeFile("six-1.17.0-py2.py3-none-any.whl")],
    "oldbin": [FakeFile(f"oldbin-1.0-cp37-cp37m-{MANYLINUX}.whl")],
    "purelib": [FakeFile("purelib-0.3.tar.gz")],
    "psycopg2": [FakeFile("psycopg2-2.9.10.tar.gz")],
    "psycopg2-binary": [FakeFile(f"psycopg2_binary-2.9.10-cp314-cp314-{MANYLINUX}.whl")],
}


def pip_env(index_url: str, cache_dir: Path) -> dict[str, str]:
    """Environment that points pip (and so homedeploy) at ``index_url`` only."""
    import os

    return {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": index_url,
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "HOMEDEPLOY_CACHE_DIR": str(cache_dir),
    }


def _any(
    name: str, version: str, *requires: str, uploaded: str | None = None, **kw: object
) -> FakeFile:
    return FakeFile(f"{name}-{version}-py3-none-any.whl", list(requires), uploaded=uploaded, **kw)  # type: ignore[arg-type]


def _cp(name: str, version: str, tag: str, *requires: str, **kw: object) -> FakeFile:
    return FakeFile(f"{name}-{version}-{tag}-{tag}-{MANYLINUX}.whl", list(requires), **kw)  # type: ignore[arg-type]


# Real-world-shaped projects for the check-reqs corpus: the dependency edges (Requires-Dist),
# import names (top-level packages) and release dates follow the real projects, trimmed.
_OLD_SIX = {
    "gunicorn/six.py": '"""Utilities for writing code that runs on Python 2 and 3"""\n'
    '__version__ = "1.8.0"\n',
    "gunicorn/_compat.py": "from gunicorn import six\n\nif six.PY2:\n    pass\nelse:\n"
    "    from gunicorn.six.moves.urllib.parse import urlsplit\n",
}
"""gunicorn 19.x's own copy of six and its module-level use of ``six.moves`` (which fails to
import on Python 3.12+)."""

CORPUS: dict[str, list[FakeFile]] = {
    "flask": [
        FakeFile(
            "Flask-0.12.5-py2.py3-none-any.whl",
            ["werkzeug>=0.7", "click>=2.0"],
            requires_python="<3.10",
            uploaded="2020-02-10T00:00:00Z",
        ),
        _any("flask", "3.0.0", "werkzeug>=3.0", "click>=8.1", uploaded="2023-09-30T00:00:00Z"),
        _any("flask", "3.1.1", "werkzeug>=3.0", "click>=8.1", uploaded="2025-05-13T00:00:00Z"),
    ],
    "werkzeug": [
        _any("werkzeug", "3.0.0", "markupsafe>=2.1.1"),
        _any("werkzeug", "3.1.3", "markupsafe>=2.1.1"),
    ],
    "markupsafe": [
        _cp("MarkupSafe", "2.1.3", "cp311"),
        FakeFile("MarkupSafe-2.1.3.tar.gz"),
        _cp("markupsafe", "3.0.2", "cp314"),
    ],
    "click": [_any("click", "8.1.7")],
    "gunicorn": [
        _any("gunicorn", "19.7.1", code="import pkg_resources\n", extra=_OLD_SIX),
        _any("gunicorn", "19.9.0", code="import sys\n\nimport pkg_resources\n"),
        _any("gunicorn", "19.10.0", code="import pkg_resources\n", extra=_OLD_SIX),
        _any(
            "gunicorn",
            "21.2.0",
            code="try:\n    import pkg_resources\nexcept ImportError:\n    pass\n",
        ),
        _any("gunicorn", "23.0.0", 'gevent>=24; extra == "gevent"', 'packaging; extra == "gevent"'),
    ],
    "gevent": [_cp("gevent", "25.5.1", "cp314", "greenlet>=3.2")],
    "packaging": [_any("packaging", "25.0")],
    "setuptools": [
        _any("setuptools", "70.3.0", top_level=("setuptools", "pkg_resources", "_distutils_hack")),
        _any("setuptools", "84.0.0", top_level=("setuptools", "_distutils_hack")),
    ],
    "flask-wtf": [_any("flask_wtf", "1.2.1", "flask", "wtforms", top_level=("flask_wtf",))],
    "wtforms": [
        _any("wtforms", "2.3.3", "markupsafe"),
        _any("wtforms", "3.1.2", "markupsafe", 'email-validator; extra == "email"'),
    ],
    "email-validator": [_any("email_validator", "2.1.0", top_level=("email_validator",))],
    "flask-sqlalchemy": [
        _any(
            "flask_sqlalchemy",
            "3.1.1",
            "flask>=2.2.5",
            "sqlalchemy>=2.0.16",
            top_level=("flask_sqlalchemy",),
        )
    ],
    "sqlalchemy": [_cp("SQLAlchemy", "2.0.30", "cp314", "greenlet>=1", top_level=("sqlalchemy",))],
    "greenlet": [
        _cp("greenlet", "3.0.1", "cp311"),
        _cp("greenlet", "3.0.1", "cp312"),
        FakeFile("greenlet-3.0.1.tar.gz"),
        _cp("greenlet", "3.2.3", "cp314"),
    ],
    "flask-migrate": [
        _any(
            "Flask_Migrate",
            "4.0.5",
            "flask>=0.9",
            "flask-sqlalchemy>=1.0",
            "alembic>=1.9",
            top_level=("flask_migrate",),
        )
    ],
    "alembic": [_any("alembic", "1.13.1", "sqlalchemy>=1.3", "mako")],
    "mako": [_any("Mako", "1.3.0", "markupsafe>=0.9.2", top_level=("mako",))],
    "flask-login": [
        _any(
            "Flask_Login",
            "0.4.0",
            "flask",
            uploaded="2016-11-01T00:00:00Z",
            top_level=("flask_login",),
        ),
        _any(
            "Flask_Login",
            "0.6.2",
            "flask>=1.0.4",
            "werkzeug>=1.0.1",
            uploaded="2022-07-26T00:00:00Z",
            top_level=("flask_login",),
        ),
        _any(
            "Flask_Login",
            "0.6.3",
            "flask>=1.0.4",
            "werkzeug>=1.0.1",
            uploaded="2023-10-30T00:00:00Z",
            top_level=("flask_login",),
        ),
    ],
    "flask-caching": [
        _any("Flask_Caching", "2.1.0", "flask", top_level=("flask_caching",)),
        _any("Flask_Caching", "2.5.1", "flask", top_level=("flask_caching",)),
    ],
    "flask-mail": [FakeFile("Flask-Mail-0.9.1.tar.gz")],
    "celery": [_any("celery", "5.3.6")],
    "rq": [_any("rq", "1.15.1", "redis>=4")],
    "redis": [_any("redis", "5.0.1")],
    "requests": [_any("requests", "2.31.0")],
    "six": [FakeFile("six-1.17.0-py2.py3-none-any.whl")],
    "openpyxl": [_any("openpyxl", "3.1.2")],
    "psycopg2": [FakeFile("psycopg2-2.9.9.tar.gz")],
    "psycopg2-binary": [
        _cp("psycopg2_binary", "2.9.9", "cp311", top_level=("psycopg2",)),
        _cp("psycopg2_binary", "2.9.10", "cp314", top_level=("psycopg2",)),
    ],
    "psycopg": [_any("psycopg", "3.1.18")],
    "line-bot-sdk": [_any("line_bot_sdk", "3.5.0", top_level=("linebot",))],
    "opencc-python-reimplemented": [
        _any("opencc_python_reimplemented", "0.1.7", top_level=("opencc",))
    ],
    "pillow": [_cp("pillow", "10.4.0", "cp314", top_level=("PIL",))],
    "pyyaml": [_cp("PyYAML", "6.0.2", "cp314", top_level=("yaml",))],
    "oldpure": [FakeFile("oldpure-0.24.tar.gz"), _any("oldpure", "2.2.0")],
    "needsnew": [_any("needsnew", "1.0", "oldpure>=2")],
    "heavylib": [
        _cp("heavylib", "2.15.0", "cp311"),
        _cp("heavylib", "2.16.1", "cp314"),
        _cp("heavylib", "2.17.0rc1", "cp314"),
    ],
    "numpy": [
        FakeFile("numpy-1.15.4.zip"),
        _cp("numpy", "2.3.0", "cp314", requires_python=">=3.11"),
    ],
    "scipy": [FakeFile("scipy-0.11.0.tar.gz"), _cp("scipy", "1.16.0", "cp314", "numpy>=1.25")],
    # A task queue whose 4.x releases declare a Requires-Dist pip rejects (as celery 4's
    # ``pytz (>dev)``), so a conflicting pin set must move it and what it requires, only that.
    "taskq": [
        _any("taskq", "4.4.1", "pytz (>dev)", "kombuish<4.7,>=4.6.8"),
        _any("taskq", "4.4.7", "pytz (>dev)", "kombuish<4.7,>=4.6.10"),
        _any("taskq", "5.2.1", "kombuish<6.0,>=5.2.2"),
        _any("taskq", "5.3.0", "kombuish<6.0,>=5.3.0"),
    ],
    "kombuish": [
        _any("kombuish", "4.6.8"),
        _any("kombuish", "4.6.11"),
        _any("kombuish", "5.2.2"),
        _any("kombuish", "5.3.0"),
    ],
    # A compiled project whose old releases fit a new Python only through a pure wheel.
    "ormlib": [
        _cp("ormlib", "2.0.0", "cp311"),
        _any("ormlib", "2.0.0"),
        _cp("ormlib", "2.0.40", "cp314"),
        _any("ormlib", "2.0.40"),
    ],
    "whitenoise": [_any("whitenoise", "6.6.0", 'brotli; extra == "brotli"')],
    "brotli": [_cp("Brotli", "1.1.0", "cp314", top_level=("brotli",))],
    "redisish": [_any("redisish", "3.4.1"), _any("redisish", "5.0.1")],
    "stayput": [_any("stayput", "1.0.0"), _any("stayput", "2.0.0")],
}
"""The corpus index (see tests/test_check_reqs_corpus.py)."""
