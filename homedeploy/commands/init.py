"""``homedeploy init``: scaffold a Flask app done right, or adopt the one already in a folder.

For an empty folder we write the seed tutorial's layout with its mistakes fixed: the Procfile names
the real object (``wsgi:app``), gunicorn binds ``$PORT`` by itself, the venv and ``.env`` are
ignored from the first commit. For an existing project we find the app statically and generate only
what is missing, pointing at the user's own object under the user's own name. Nothing existing is
overwritten without ``force`` (and then a backup is kept).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError, UsageError
from homedeploy.fileio import (
    atomic_write_bytes,
    make_backup,
    read_bytes,
    read_text_format,
    rewrite_text,
    write_new_file,
)
from homedeploy.project import gitrepo
from homedeploy.project.discovery import AppCandidate, Discovery, SourceProblem, find_flask_apps
from homedeploy.project.package_manager import MANAGERS, ProjectManager
from homedeploy.project.python_version import DEFAULT_MAJOR, LATEST_PATCH, VERSION_RE
from homedeploy.project.venv import Interpreter, VenvResult, create_venv, find_interpreter
from homedeploy.resources import example_app_dir, procfile_template

HELLO_PY = '''"""A minimal Flask app, scaffolded by homedeploy."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "Hello from Flask, served by gunicorn the way Heroku runs it."
'''

GITIGNORE = """# Virtual environments: Heroku refuses a committed .venv/ or venv/
.venv/
venv/
env/
# Secrets and local settings: config vars belong in Heroku, not in git
.env
# Backups homedeploy keeps when it replaces a file (--force, --fix, --write)
*.bak
*.bak.[0-9]*
# Python build and cache files
__pycache__/
*.py[cod]
*.egg-info/
build/
dist/
.pytest_cache/
"""

REQUIREMENTS_IN = "flask\ngunicorn\n"

IGNORED_WHEN_EMPTY = frozenset({".git", ".DS_Store"})
EXAMPLE_SKIP = frozenset({"__pycache__", ".venv", "venv", ".pytest_cache", ".mypy_cache", "build"})
"""Never copied by init --example: caches, venvs and build/ (assets bin/post_compile makes)."""


@dataclass(frozen=True)
class FileAction:
    """One file init wrote, kept or replaced."""

    path: str
    action: str  # "created", "kept" (existed; left alone), "replaced" (--force, backed up)
    # or "updated" (.gitignore: init's lines added to the user's, backed up)
    backup: str | None = None
    note: str | None = None


@dataclass
class InitResult:
    """Everything ``init`` did, for the console and ``--json``."""

    project: str
    mode: str  # "scaffold", "adopt" or "example"
    app_target: str | None = None
    procfile_command: str | None = None
    files: list[FileAction] = field(default_factory=list)
    git: gitrepo.GitOutcome | None = None
    venv: VenvResult | None = None
    source_problems: list[SourceProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _validate_python(python: str | None) -> str:
    version = python or DEFAULT_MAJOR
    if not VERSION_RE.match(version):
        raise UsageError(
            f"--python {version!r} is not a version Heroku accepts.",
            fix=f"give the major version, e.g. --python {DEFAULT_MAJOR}.",
        )
    major = ".".join(version.split(".")[:2])
    if major not in LATEST_PATCH:
        raise UsageError(
            f"Heroku does not build Python {major}.",
            fix=f"use one of {', '.join(LATEST_PATCH)}.",
        )
    return version


def _prepare_folder(path: Path) -> Path:
    """Create the folder if needed; refuse files, unreadable folders and nested repositories."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file, not a folder.", fix="pass a folder (new or existing).")
    root = gitrepo.enclosing_repo_root(path.resolve())
    target = path.resolve()
    if root is not None and root != target:
        raise ProjectError(
            f"{path} is inside another git repository ({root}); a Heroku app needs its own "
            "repository at its root.",
            fix=f"run init at {root} itself, or choose a folder outside that repository.",
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise ProjectError(f"{path} is not readable and writable.", fix="check its permissions.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ProjectError(f"cannot create {path}: {error.strerror}.") from error
    return target


def _is_empty(project: Path) -> bool:
    return not any(entry.name not in IGNORED_WHEN_EMPTY for entry in project.iterdir())


def _pinned_requirements() -> str:
    """requirements.txt for a new app: the flask and gunicorn versions homedeploy runs with."""
    lines = [
        "# Written by homedeploy init; `homedeploy check-reqs --write` pins the whole tree.",
    ]
    for name in ("flask", "gunicorn"):
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


class _Writer:
    """Writes generated files: new ones atomically, existing ones only with force (and backup)."""

    def __init__(self, project: Path, force: bool, result: InitResult) -> None:
        self.project = project
        self.force = force
        self.result = result

    def write(self, name: str, text: str, note: str | None = None) -> bool:
        path = self.project / name
        if any(action.path == name for action in self.result.files):
            return False  # already handled in this run (e.g. copied from the example)
        if path.exists() and not self.force:
            self.result.files.append(FileAction(name, "kept", note="exists; left untouched"))
            return False
        backup = write_new_file(path, text, force=self.force)
        action = "replaced" if backup else "created"
        backup_name = str(backup.relative_to(self.project)) if backup else None
        self.result.files.append(FileAction(name, action, backup_name, note))
        return True


def _choose_app(discovery: Discovery, requested: str | None, project: Path) -> AppCandidate:
    apps = discovery.distinct
    if requested:
        wanted = requested.strip()
        for candidate in discovery.candidates:
            if wanted in (candidate.target, f"{candidate.module}:{candidate.attr}"):
                return candidate
        listing = ", ".join(c.target for c in apps) or "none"
        raise UsageError(
            f"--target {wanted} is not a Flask app found in {project} (found: {listing}).",
            fix="pass one of the found targets as module:variable or module:factory().",
        )
    if not apps:
        detail = ""
        if discovery.problems:
            first = discovery.problems[0]
            detail = f" ({len(discovery.problems)} file(s) could not be parsed, e.g. {first.path}"
            detail += f":{first.line})" if first.line else ")"
        raise ProjectError(
            f"no Flask app found in {project}{detail}.",
            fix="create one with `app = Flask(__name__)` (or a create_app() factory), "
            "or run init in an empty folder to scaffold one.",
        )
    if len(apps) > 1:
        listing = "; ".join(f"{c.target} ({c.path}:{c.line})" for c in apps)
        raise UsageError(
            f"several Flask apps found: {listing}.",
            fix=f"choose one with --target, e.g. --target {apps[0].target}",
        )
    chosen = apps[0]
    if chosen.kind == "factory" and chosen.factory_args_required:
        raise ProjectError(
            f"{chosen.module}.{chosen.attr}() needs arguments, so gunicorn cannot call it as is.",
            path=chosen.path,
            line=chosen.line,
            fix="give its parameters defaults, or write wsgi.py yourself: app = create_app(...)",
        )
    return chosen


def _wsgi_for(candidate: AppCandidate) -> tuple[str, str]:
    """(wsgi.py source, gunicorn target in wsgi) that exposes the user's object unchanged."""
    header = '"""WSGI entry point: gunicorn loads it as named in the Procfile."""\n\n'
    if candidate.kind == "factory":
        body = f"from {candidate.module} import {candidate.attr}\n\napp = {candidate.attr}()\n"
        return header + body, "wsgi:app"
    body = f"from {candidate.module} import {candidate.attr}\n"
    body += f"\n__all__ = [{candidate.attr!r}]\n"
    body += f'\nif __name__ == "__main__":\n    {candidate.attr}.run()\n'
    return header + body, f"wsgi:{candidate.attr}"


def _procfile_text(target: str, pythonpath: str) -> str:
    template = procfile_template().read_text(encoding="utf-8")
    args = f"--pythonpath {pythonpath} " if pythonpath != "." else ""
    quoted = f'"{target}"' if "(" in target else target
    return template.replace("{target}", f"{args}{quoted}")


def _copy_example(project: Path, force: bool, result: InitResult) -> None:
    source = example_app_dir()
    if not source.is_dir():
        raise ProjectError(
            f"the bundled example app is missing from this installation ({source}).",
            fix="reinstall homedeploy.",
        )
    for current, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in EXAMPLE_SKIP)
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            origin = Path(current) / name
            relative = origin.relative_to(source)
            destination = project / relative
            if destination.exists():
                if not force:
                    result.files.append(FileAction(str(relative), "kept", note="exists"))
                    continue
                backup = make_backup(destination)
                result.files.append(
                    FileAction(str(relative), "replaced", str(backup.relative_to(project)))
                )
            else:
                result.files.append(FileAction(str(relative), "created"))
            atomic_write_bytes(destination, read_bytes(origin), mode=origin.stat().st_mode & 0o777)


def _adopt(project: Path, writer: _Writer, app: str | None, result: InitResult) -> None:
    discovery = find_flask_apps(project)
    result.source_problems = discovery.problems
    chosen = _choose_app(discovery, app, project)
    original = next(
        (c for c in discovery.candidates if c.target == chosen.identity and not c.reexport_of),
        chosen,
    )
    if original.kind == "factory" and original.factory_args_required:
        original = chosen  # `app = create_app(Config)`: the object, not a call without arguments
    result.app_target = original.target
    wsgi_exists = (project / "wsgi.py").exists()
    in_wsgi = next(
        (c for c in discovery.candidates if c.module == "wsgi" and c.identity == chosen.identity),
        None,
    )
    if in_wsgi is not None:
        target, pythonpath = in_wsgi.target, in_wsgi.pythonpath
    elif not wsgi_exists and original.module != "wsgi":
        text, target = _wsgi_for(original)
        writer.write("wsgi.py", text, note=f"imports {original.module}.{original.attr}")
        pythonpath = original.pythonpath
    else:
        target, pythonpath = original.target, original.pythonpath
    procfile = _procfile_text(target, pythonpath)
    if writer.write("Procfile", procfile):
        result.procfile_command = procfile.split(":", 1)[1].strip()
    else:
        result.procfile_command = _existing_web_command(project / "Procfile")


def _existing_web_command(path: Path) -> str | None:
    """The web command of a Procfile init kept, so the summary shows what will really run."""
    from homedeploy.project.procfile import read_procfile

    web = read_procfile(path).web
    return web.command if web else None


CI_SYSTEMS = ("github",)
GITHUB_WORKFLOW = """\
# Deploy to Heroku on every push to main, written by `homedeploy init --ci github`.
# doctor stops the job on anything that would fail the build or the boot; push deploys the
# commit and only succeeds once the new release answers over HTTP.
# Needs, in the repository's Settings > Secrets and variables > Actions:
#   secret   HEROKU_API_KEY  (an API key: https://dashboard.heroku.com/account)
#   variable HEROKU_APP      (the app's name; or set app under [tool.homedeploy] in pyproject.toml)
name: deploy
on:
  push:
    branches: [main]
concurrency:
  group: heroku-deploy
  cancel-in-progress: false
jobs:
  deploy:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # Heroku refuses pushes from a shallow clone
      - uses: actions/setup-python@v5
        with:
          python-version-file: .python-version
      - name: Install homedeploy
        run: python -m pip install "homedeploy=={version}"
      - name: Check the project
        run: homedeploy doctor
      - name: Deploy
        run: homedeploy push
        env:
          HEROKU_API_KEY: ${{{{ secrets.HEROKU_API_KEY }}}}
          HEROKU_APP: ${{{{ vars.HEROKU_APP }}}}
"""


def _write_ci(project: Path, writer: _Writer, ci: str) -> None:
    """The CI workflow that doctors and deploys every push to main."""
    from homedeploy import __version__

    if ci not in CI_SYSTEMS:
        raise UsageError(f"--ci {ci}: unknown CI system", fix="use --ci github.")
    (project / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    writer.write(
        ".github/workflows/deploy.yml",
        GITHUB_WORKFLOW.format(version=__version__),
        note="add the HEROKU_API_KEY secret and HEROKU_APP variable on GitHub",
    )


def _adopted_manager(project: Path) -> ProjectManager:
    from homedeploy.project.package_manager import project_manager

    return project_manager(project)


def _version_for(project: Path, tool: str | None, python: str) -> str | None:
    """The .python-version to write: ``python`` unless the manifest's Python requirement
    excludes it (then the newest supported major it admits); None to leave the version to
    Pipfile.lock, which the buildpack reads when there is no version file."""
    from homedeploy.project.pyproject import requires_python
    from homedeploy.project.python_version import LATEST_PATCH, requested_python

    if tool == "pipenv" and requested_python(project).origin == "Pipfile.lock":
        return None
    wanted = requires_python(project, tool)
    major = ".".join(python.split(".")[:2])
    if wanted is None or wanted.admits(LATEST_PATCH.get(major, python)):
        return python
    for candidate, patch in LATEST_PATCH.items():  # newest first
        if wanted.admits(patch):
            return candidate
    return python


def _write_common(
    project: Path, writer: _Writer, python: str, result: InitResult, manager: str
) -> None:
    used = _adopted_manager(project) if result.mode == "adopt" else None
    tool = used.tool if used is not None else manager
    if (project / "runtime.txt").exists() and not (project / ".python-version").exists():
        result.notes.append(
            "runtime.txt is deprecated and wins over .python-version on Heroku; "
            "`homedeploy doctor --fix` moves it to .python-version."
        )
    else:
        version = _version_for(project, tool, python)
        if version is None:
            result.notes.append(
                "no .python-version written: Heroku takes the Python from Pipfile.lock."
            )
        else:
            if version != python:
                result.notes.append(
                    f".python-version is {version}: the project's Python requirement excludes "
                    f"{python}."
                )
            writer.write(".python-version", version + "\n")
    if used is not None and (used.conflicts or used.tool not in (None, "pip")):
        from homedeploy.project.package_manager import DISPLAY

        if used.conflicts:
            result.notes.append(
                "several package-manager files (" + ", ".join(used.conflicts) + "): Heroku "
                "stops there; keep one (`homedeploy doctor` says which)."
            )
        else:
            assert used.tool is not None
            result.notes.append(
                f"the project uses {DISPLAY[used.tool]} ({used.decided_by}): no requirements.txt "
                "written (Heroku rejects two package managers); `homedeploy check-reqs` checks "
                "its lock."
            )
    elif result.mode != "adopt" and manager != "pip":
        _scaffold_manager(project, writer, manager, python, result)
    elif not (project / "requirements.txt").exists() or writer.force:
        writer.write("requirements.in", REQUIREMENTS_IN)
        writer.write("requirements.txt", _pinned_requirements())
        if result.mode == "adopt":
            result.notes.append(
                "requirements.txt lists flask and gunicorn only: run "
                "`homedeploy check-reqs --write` to add what your app imports."
            )
    elif result.mode == "adopt":
        writer.write("requirements.txt", "")  # records it as kept
        result.notes.append(
            "requirements.txt exists: run `homedeploy check-reqs` to check it installs on Heroku."
        )
    _merge_gitignore(project, result)


def _merge_gitignore(project: Path, result: InitResult) -> None:
    """Add init's ignore lines the user's ``.gitignore`` lacks; never drop one of theirs.

    Even with ``--force`` the file is extended, not replaced: replacing it would un-ignore what
    the user ignored (``secrets.json``, ``credentials/``) right before the first commit. The
    user's encoding and line endings are kept; a backup is made before the change.
    """
    path = project / ".gitignore"
    if not os.path.lexists(path):
        write_new_file(path, GITIGNORE)
        result.files.append(FileAction(".gitignore", "created"))
        return
    text, fmt = read_text_format(path)
    present = {line.strip().rstrip("/") for line in text.splitlines()}
    missing = [
        line
        for line in GITIGNORE.splitlines()
        if line.strip() and not line.startswith("#") and line.strip().rstrip("/") not in present
    ]
    if not missing:
        result.files.append(FileAction(".gitignore", "kept", note="has every line init adds"))
        return
    backup = make_backup(path)
    prefix = "" if not text or text.endswith(("\n", "\r")) else "\n"
    addition = "# Added by homedeploy init\n" + "\n".join(missing) + "\n"
    rewrite_text(path, f"{text}{prefix}{addition}", fmt)
    result.files.append(
        FileAction(
            ".gitignore",
            "updated",
            str(backup.relative_to(project)),
            note=f"added {', '.join(missing)}",
        )
    )


def _scaffold_manager(
    project: Path, writer: _Writer, manager: str, python: str, result: InitResult
) -> None:
    """A new app's manifest for uv, Poetry or Pipenv, locked by the buildpack's own tool."""
    from homedeploy.project.lock_write import relock

    major = ".".join(python.split(".")[:2])
    deps = ["flask", "gunicorn"]  # the manifest names them; the lock pins them
    name = re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-") or "app"
    listed = ", ".join(f'"{dep}"' for dep in deps)
    if manager in ("uv", "poetry"):
        text = (
            "[project]\n"
            f'name = "{name}"\n'
            'version = "0.1.0"\n'
            f'requires-python = ">={major}"\n'
            f"dependencies = [{listed}]\n"
        )
        if manager == "poetry":
            text += "\n[tool.poetry]\npackage-mode = false\n"
        writer.write("pyproject.toml", text)
    else:
        packages = "".join(f'{dep} = "*"\n' for dep in deps)
        writer.write(
            "Pipfile",
            "[[source]]\n"
            f'url = "{_index_url()}"\n'
            "verify_ssl = true\n"
            'name = "pip-index"\n\n'
            f"[packages]\n{packages}\n[dev-packages]\n\n"
            f'[requires]\npython_version = "{major}"\n',
        )
    for written in relock(project, manager, major=major, upgrade=[]):  # type: ignore[arg-type]
        rel = Path(written.path).relative_to(project).as_posix()
        result.files.append(FileAction(rel, "created", None, written.how))


def _index_url() -> str:
    """The index pip is configured with (a Pipfile names its source explicitly)."""
    from homedeploy.requirements.index import pip_index_sources

    sources = pip_index_sources([])
    return sources.index_urls[0]


def init_project(
    path: Path,
    *,
    app: str | None = None,
    python: str | None = None,
    force: bool = False,
    example: bool = False,
    venv: bool = False,
    git: bool = True,
    ci: str | None = None,
    progress: Callable[[str], None] | None = None,
    manager: str = "pip",
) -> InitResult:
    """Scaffold or adopt the project at ``path``; see the module docstring for the rules."""
    version = _validate_python(python)
    if ci is not None and ci not in CI_SYSTEMS:
        raise UsageError(f"--ci {ci}: unknown CI system", fix="use --ci github.")
    if manager not in MANAGERS:
        raise UsageError(
            f"--manager {manager!r} is not one the buildpack supports",
            fix="use one of pip, uv, poetry, pipenv.",
        )
    project = _prepare_folder(path)
    new_repo = not gitrepo.is_repo_root(project)
    if git and new_repo:
        problem = gitrepo.identity_problem()
        if problem is not None:
            raise problem
    empty = _is_empty(project)
    mode = "example" if example else ("scaffold" if empty else "adopt")
    result = InitResult(str(project), mode)
    writer = _Writer(project, force, result)
    if example:
        _copy_example(project, force, result)
        _adopt(project, writer, app, result)
    elif empty:
        writer.write("hello.py", HELLO_PY)
        wsgi_text = '"""WSGI entry point: gunicorn loads wsgi:app (see Procfile)."""\n\n'
        wsgi_text += 'from hello import app\n\n__all__ = ["app"]\n'
        writer.write("wsgi.py", wsgi_text)
        procfile = _procfile_text("wsgi:app", ".")
        writer.write("Procfile", procfile)
        result.app_target = "hello:app"
        result.procfile_command = procfile.split(":", 1)[1].strip()
    else:
        _adopt(project, writer, app, result)
    _write_common(project, writer, version, result, manager)
    if ci is not None:
        _write_ci(project, writer, ci)
    if git:
        if new_repo:
            result.git = gitrepo.init_and_commit(project, "Initial commit (homedeploy init)")
            for rel, reason in result.git.withheld:
                result.notes.append(
                    f"{rel} was not committed: it is {reason}. Keep it out of git (add it to "
                    ".gitignore) and set its values with `homedeploy config push`."
                )
        else:
            changed = [f.path for f in result.files if f.action != "kept"]
            result.git = gitrepo.GitOutcome(False, False, None, None)
            if changed:
                result.notes.append(
                    "this folder already is a git repository, so nothing was committed: "
                    f"git add {' '.join(changed)} && git commit"
                )
    if venv and manager != "pip" and result.mode != "adopt":
        result.notes.append(
            f"--venv builds from requirements.txt; for {manager}, run `{manager} "
            + ("sync`" if manager in ("uv", "poetry") else "install`")
            + " to create the environment."
        )
    elif venv:
        result.venv = build_project_venv(project, version, progress)
    return result


def build_project_venv(
    project: Path, python: str, progress: Callable[[str], None] | None = None
) -> VenvResult:
    """Build ``.venv`` with a matching interpreter when installed, and install requirements.txt."""
    venv_dir = project / ".venv"
    if venv_dir.exists():
        raise ProjectError(
            f"{venv_dir} already exists; homedeploy will not replace it.",
            fix="delete it first if you want a fresh one (rm -rf .venv).",
        )
    major = ".".join(python.split(".")[:2])
    interpreter: Interpreter = find_interpreter(major)
    requirements = project / "requirements.txt"
    return create_venv(
        venv_dir,
        interpreter,
        requirements if requirements.exists() else None,
        progress=progress,
    )
