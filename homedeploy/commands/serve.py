"""``homedeploy serve``: run the app under gunicorn exactly as Heroku's web dyno will.

The Procfile's ``web`` command is what Heroku runs, so that is what we run, with ``PORT`` set,
``.env`` loaded (as config vars would be), and the project's ``.venv`` first on PATH. Without a
Procfile we fall back to gunicorn on the app that discovery finds, so a new project can be tried
before it has one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError, UsageError
from homedeploy.project.procfile import command_words, parse_gunicorn, read_procfile
from homedeploy.project.venv import VenvSync, ensure_project_venv, project_venv, venv_bin
from homedeploy.runtime.serving import (
    BOOT_TIMEOUT,
    STOP_TIMEOUT,
    ServeReport,
    WebProcess,
    check_web_process,
    port_in_use,
)

DEFAULT_PORT = 8000


@dataclass
class ServePlan:
    """What ``serve`` will run, where, and with which environment (values never shown)."""

    project: Path
    command: str
    source: str
    port: int
    environment: str
    bin_dir: Path
    env: dict[str, str] = field(repr=False)
    dotenv_keys: list[str] = field(default_factory=list)


def project_folder(path: Path) -> Path:
    """Validate the PATH argument: an existing, readable folder."""
    if not path.exists():
        raise UsageError(f"{path} does not exist.", fix="pass the folder that holds your app.")
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder.", fix="pass the folder that holds your app.")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ProjectError(f"{path} is not readable.", fix="check the folder's permissions.")
    return path.resolve()


def _environment(project: Path) -> tuple[Path, str]:
    venv = project_venv(project)
    if venv is not None:
        return venv_bin(venv), f"the project's virtual environment ({venv.name}/)"
    bin_dir = Path(sys.executable).parent
    version = ".".join(map(str, sys.version_info[:3]))
    return bin_dir, f"homedeploy's own interpreter (Python {version} at {sys.executable}; no .venv)"


def _load_dotenv(project: Path) -> dict[str, str]:
    env_file = project / ".env"
    if not env_file.exists():
        return {}
    from homedeploy.project.dotenv_file import read_dotenv

    return read_dotenv(env_file).set_values()


def _dotenv_port(project: Path, dotenv: dict[str, str]) -> int:
    """``PORT`` from ``.env`` (default 8000); a value that is no port number is an error."""
    value = (dotenv.get("PORT") or "").strip()
    if not value:
        return DEFAULT_PORT
    if value.isdigit() and 0 < int(value) < 65536:
        return int(value)
    from homedeploy.project.dotenv_file import read_dotenv

    raise ProjectError(
        f"PORT={value!r} in .env is not a port number.",
        path=project / ".env",
        line=read_dotenv(project / ".env").lines.get("PORT"),
        fix="write e.g. PORT=8000, or remove the line (serve picks 8000, or pass --port).",
    )


def _discovered_command(project: Path, app: str | None) -> tuple[str, str]:
    from homedeploy.project.discovery import find_flask_apps

    if app:
        _check_target(project, app)
        return f"gunicorn {shlex.quote(app)}", f"--target {app}"
    found = find_flask_apps(project)
    apps = found.distinct
    if not apps:
        raise ProjectError(
            "no Procfile and no Flask app found in this folder.",
            path=project,
            fix="run `homedeploy init` to create a Procfile (and an app if you have none).",
        )
    if len(apps) > 1:
        listing = ", ".join(candidate.target for candidate in apps)
        raise ProjectError(
            f"no Procfile, and several Flask apps were found: {listing}.",
            path=project,
            fix="pick one with --target MODULE:VAR, or run `homedeploy init --target ...`.",
        )
    chosen = apps[0]
    pythonpath = "" if chosen.pythonpath == "." else f"--pythonpath {chosen.pythonpath} "
    return f"gunicorn {pythonpath}{shlex.quote(chosen.target)}", f"{chosen.path}:{chosen.line}"


_TARGET_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(:.+)?$")


def _check_target(project: Path, target: str) -> None:
    """A ``--target`` that cannot name a module of the project is refused before gunicorn runs.

    Only what is certainly wrong is refused: the form (gunicorn's ``MODULE[:VAR]``) and a
    module with no file or package in the project. The variable part is left to gunicorn,
    which also takes expressions like ``create_app()``.
    """
    from homedeploy.project.discovery import find_flask_apps

    module = target.split(":", 1)[0]
    found = ", ".join(c.target for c in find_flask_apps(project).distinct) or "none"
    if not _TARGET_RE.match(target):
        raise UsageError(
            f"--target {target!r} is not MODULE:VAR",
            fix=f"e.g. --target hello:app (Flask apps found here: {found}).",
        )
    base = project.joinpath(*module.split("."))
    if not (base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()):
        raise UsageError(
            f"--target {target}: there is no module {module} in {project}",
            fix=f"Flask apps found here: {found}; e.g. --target {found.split(', ')[0]}"
            if found != "none"
            else "give MODULE:VAR of your Flask object, e.g. --target hello:app.",
        )


def _check_runnable(command: str, where: str, bin_dir: Path, env: dict[str, str]) -> None:
    """Catch a web command that cannot start before launching it."""
    words = command_words(command)
    if not words:
        raise ProjectError(
            "the web command is empty or its quotes do not match.",
            path=where,
            fix="write e.g.  web: gunicorn wsgi:app",
        )
    program = next((w for w in words if "=" not in w or w.startswith(("-", "/"))), words[0])
    if shutil.which(program, path=env.get("PATH")) is None:
        if Path(program).name == "gunicorn":
            raise ProjectError(
                f"gunicorn is not installed in {bin_dir}.",
                path=where,
                fix=f"{bin_dir / 'pip'} install gunicorn, and list gunicorn in requirements.txt.",
            )
        raise ProjectError(
            f"the web command runs {program!r}, which is not installed here.",
            path=where,
            fix="install it in the project's .venv, or fix the Procfile's web: line.",
        )
    gunicorn = parse_gunicorn(command)
    if gunicorn is not None:
        if gunicorn.target is None:
            raise ProjectError(
                "gunicorn is given no app to load.",
                path=where,
                fix="name it as module:variable, e.g.  web: gunicorn wsgi:app",
            )
        if gunicorn.target.endswith(".py"):
            module = gunicorn.target[:-3].replace("/", ".")
            raise ProjectError(
                f"gunicorn needs module:variable, not a file name ({gunicorn.target}).",
                path=where,
                fix=f"write  web: gunicorn {module}:app  (with your Flask object's real name).",
            )


def _venv_note(sync: VenvSync | None) -> str | None:
    if sync is None or sync.action == "fresh":
        return None
    if sync.action == "created":
        note = (
            f"created .venv with Python {sync.python} and installed {sync.requirements} "
            f"({sync.seconds:.1f} s)"
        )
        if not sync.interpreter_matches:
            note += "; no interpreter matching .python-version is installed"
        return note
    missing = ", ".join(sync.unsatisfied[:5]) + (" ..." if len(sync.unsatisfied) > 5 else "")
    return f"synced .venv with {sync.requirements} ({missing}; {sync.seconds:.1f} s)"


def plan_serve(
    path: Path,
    *,
    port: int | None = None,
    app: str | None = None,
    sync: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ServePlan:
    """Decide what to run for ``path``; raises ProjectError for anything that cannot start.

    Like ``uv run``, a missing ``.venv`` is first created from requirements.txt, and one whose
    packages no longer satisfy it is synced (``progress`` gets pip's lines); not with
    ``sync=False`` or ``HOMEDEPLOY_NO_SYNC``.
    """
    from homedeploy import settings
    from homedeploy.project.python_version import requested_python

    project = project_folder(path)
    done = None
    if sync and not settings.no_sync():
        done = ensure_project_venv(project, requested_python(project).major, progress=progress)
    bin_dir, environment = _environment(project)
    note = _venv_note(done)
    if note:
        environment = f"{environment}; {note}"
    dotenv = _load_dotenv(project)
    chosen_port = port or _dotenv_port(project, dotenv)
    procfile_path = project / "Procfile"
    if app is None and procfile_path.is_file():
        procfile = read_procfile(procfile_path)
        web = procfile.web
        if web is None:
            raise ProjectError(
                "the Procfile has no web: line, so Heroku would start no web process (H14).",
                path=procfile_path,
                fix="add a line like  web: gunicorn wsgi:app",
            )
        command, source = web.command, f"{procfile_path.name}:{web.line}"
    else:
        command, source = _discovered_command(project, app)
    env = dict(os.environ)
    env.update(dotenv)
    env["PORT"] = str(chosen_port)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("GUNICORN_CMD_ARGS", "--access-logfile -")
    env.setdefault("FORWARDED_ALLOW_IPS", "*")
    if project_venv(project) is not None:
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    env.pop("PYTHONHOME", None)
    _check_runnable(
        command, source if source.startswith("Procfile") else str(project), bin_dir, env
    )
    if port_in_use(chosen_port):
        raise UsageError(
            f"port {chosen_port} is already in use on this machine.",
            fix=f"pass --port {chosen_port + 1} (or stop whatever listens on {chosen_port}).",
        )
    return ServePlan(
        project, command, source, chosen_port, environment, bin_dir, env, sorted(dotenv)
    )


def check(
    plan: ServePlan,
    *,
    paths: list[str],
    boot_timeout: float = BOOT_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
    while_booting: Callable[[], None] | None = None,
) -> ServeReport:
    """``serve --check``: boot, probe ``/`` and ``paths``, stop; a report whatever happens."""
    probe_paths = ["/", *[p if p.startswith("/") else f"/{p}" for p in paths if p != "/"]]
    process = WebProcess(plan.command, cwd=plan.project, env=plan.env)
    return check_web_process(
        process,
        port=plan.port,
        paths=probe_paths,
        environment=plan.environment,
        boot_timeout=boot_timeout,
        stop_timeout=stop_timeout,
        while_booting=while_booting,
    )


def run_foreground(
    plan: ServePlan,
    *,
    echo: Callable[[str], None],
    on_bound: Callable[[float], None],
    boot_timeout: float = BOOT_TIMEOUT,
) -> int:
    """Serve until the process exits or the user presses Ctrl-C; returns an exit code.

    Ctrl-C (or SIGTERM to homedeploy) stops the app like Heroku stops a dyno: SIGTERM to the
    whole process group, SIGKILL after 30 s.
    """
    import signal

    process = WebProcess(plan.command, cwd=plan.project, env=plan.env, echo=echo)

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    process.start()
    try:
        on_bound(process.wait_until_bound(plan.port, boot_timeout))
        return process.wait()
    except KeyboardInterrupt:
        stopped = process.stop()
        return 0 if stopped.clean else 1
    except BaseException:
        process.stop()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
