"""Small uv, Poetry and Pipenv projects for tests, locked by the real tools against a local index.

Each builder writes the manifest (pointing at the index on 127.0.0.1), a Flask app, a Procfile
and ``.python-version``, then runs the buildpack's own tool (installed by
:func:`homedeploy.project.tools.ensure_tool`) to write the lock, as a developer would.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homedeploy.project.tools import ensure_tool, run_tool, tool_environment

APP = (
    "from flask import Flask\n\n"
    "app = Flask(__name__)\n\n\n"
    '@app.route("/")\n'
    "def index():\n"
    '    return "hello"\n'
)
STATIC_INDEX = Path("/opt/pypi")
"""A folder index with real flask and gunicorn wheels (pip's configured file:// index here)."""


@contextmanager
def static_index(folder: Path = STATIC_INDEX) -> Iterator[str]:
    """Serve a PEP 503 folder (simple/ and files/) over HTTP on 127.0.0.1; yields the URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


def _deps_toml(deps: list[str]) -> str:
    return "[" + ", ".join(f'"{d}"' for d in deps) + "]"


def base_files(project: Path, python: str) -> None:
    project.mkdir(parents=True, exist_ok=True)
    (project / "app.py").write_text(APP, encoding="utf-8")
    (project / "Procfile").write_text("web: gunicorn app:app\n", encoding="utf-8")
    (project / ".python-version").write_text(f"{python}\n", encoding="utf-8")
    (project / ".gitignore").write_text(".venv/\n__pycache__/\n", encoding="utf-8")


def write_uv_project(
    project: Path, index: str, deps: list[str], *, python: str, requires: str = ">=3.10"
) -> None:
    base_files(project, python)
    (project / "pyproject.toml").write_text(
        "[project]\n"
        'name = "demo-app"\n'
        'version = "0.1.0"\n'
        f'requires-python = "{requires}"\n'
        f"dependencies = {_deps_toml(deps)}\n\n"
        "[dependency-groups]\n"
        'dev = ["pytest"]\n\n'
        "[[tool.uv.index]]\n"
        f'url = "{index}"\n'
        "default = true\n",
        encoding="utf-8",
    )


def write_poetry_project(
    project: Path, index: str, deps: list[str], *, python: str, requires: str = ">=3.10"
) -> None:
    base_files(project, python)
    (project / "pyproject.toml").write_text(
        "[project]\n"
        'name = "demo-app"\n'
        'version = "0.1.0"\n'
        f'requires-python = "{requires}"\n'
        f"dependencies = {_deps_toml(deps)}\n\n"
        "[tool.poetry]\n"
        "package-mode = false\n\n"
        "[[tool.poetry.source]]\n"
        'name = "local"\n'
        f'url = "{index}"\n'
        'priority = "primary"\n',
        encoding="utf-8",
    )


def write_pipenv_project(
    project: Path, index: str, deps: list[str], *, python: str, requires: str | None = None
) -> None:
    base_files(project, python)
    packages = "".join(
        f'{d.split("==")[0]} = "=={d.split("==")[1]}"\n' if "==" in d else f'{d} = "*"\n'
        for d in deps
    )
    required = f'\n[requires]\npython_version = "{requires}"\n' if requires else ""
    (project / "Pipfile").write_text(
        "[[source]]\n"
        f'url = "{index}"\n'
        "verify_ssl = false\n"
        'name = "local"\n\n'
        f"[packages]\n{packages}\n[dev-packages]\n{required}",
        encoding="utf-8",
    )


WRITERS = {"uv": write_uv_project, "poetry": write_poetry_project, "pipenv": write_pipenv_project}


def lock(project: Path, tool: str, python: str | None = None) -> str:
    """Run the tool's own lock command in ``project``; returns its output (asserts success)."""
    installed = ensure_tool(tool)  # type: ignore[arg-type]
    env = tool_environment(
        {
            "POETRY_VIRTUALENVS_CREATE": "false",
            "WORKON_HOME": str(project.parent / ".pipenv-venvs"),
            "UV_NO_MANAGED_PYTHON": "1",
        }
    )
    if tool == "uv":
        command = [str(installed.executable), "lock"]
        if python:
            command += ["--python", python]
    elif tool == "poetry":
        command = [str(installed.executable), "lock", "--no-interaction", "--no-ansi"]
    else:
        command = [str(installed.executable), "lock"]
        if python:
            command += ["--python", python]
    run = run_tool(command, project, env=env, timeout=300)
    assert run.ok, run.output
    return run.output


def pip_environment(index: str, cache: Path) -> dict[str, str]:
    """pip (and check-reqs) pointed at ``index`` only; the tools cache stays shared."""
    from homedeploy.project.tools import tools_root

    return {
        "HOMEDEPLOY_TOOLS_DIR": str(tools_root()),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": index,
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "HOMEDEPLOY_CACHE_DIR": str(cache),
    }
