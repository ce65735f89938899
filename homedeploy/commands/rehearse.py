"""``homedeploy push --local``: rehearse a Heroku deploy of the committed app on this machine.

Orchestrates :mod:`homedeploy.runtime.rehearsal`: check that there is a commit, export it, run the
buildpack's own pre-install checks (doctor's build rules) on the export, build a clean venv, boot
the web process like a dyno and report. Nothing here talks to Heroku.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homedeploy.errors import UsageError
from homedeploy.runtime.dyno_config import DynoConfig, compose_config, parse_env_pairs
from homedeploy.runtime.rehearsal import (
    RehearsalFailed,
    RehearsalReport,
    boot_like_a_dyno,
    build_venv,
    dyno_environment,
    export_head,
    log_lines,
    phase,
    run_release,
)
from homedeploy.runtime.serving import BOOT_TIMEOUT, STOP_TIMEOUT


def _prepare(project_dir: Path, report: RehearsalReport) -> tuple[Path, str]:
    from homedeploy.project.worktree import find_repository, read_worktree

    repo_root = find_repository(project_dir)
    if repo_root is None:
        raise RehearsalFailed(
            "not-a-repository",
            f"{project_dir} is not in a git repository; Heroku deploys what git has committed.",
            "git init && git add --all && git commit -m 'First commit'",
        )
    tree = read_worktree(project_dir, repo_root)
    if tree.head is None:
        raise RehearsalFailed(
            "no-commits",
            "the repository has no commit yet: there is nothing to deploy.",
            "git add --all && git commit -m 'First commit'",
        )
    report.commit = tree.head[:12]
    if tree.prefix:
        report.notes.append(
            f"this rehearses {tree.prefix}/ of the repository; `git push heroku` would build the "
            "repository's root (see `homedeploy doctor`)."
        )
    pending = len(tree.changed) + len(tree.untracked)
    if pending:
        report.notes.append(
            f"{pending} uncommitted change(s) are not part of this rehearsal: Heroku builds the "
            f"commit {report.commit}, and so does this."
        )
    return repo_root, tree.prefix


def _check_export(project_dir: Path, app_dir: Path, commit: str) -> None:
    """What the buildpack checks before installing anything, on the exported commit."""
    from homedeploy.doctor.engine import collect_build_errors
    from homedeploy.project.package_manager import NONE_FOUND, choose_manager, found_managers

    if choose_manager(app_dir).tool is None and not found_managers(app_dir):
        for name, _tool in found_managers(project_dir):
            raise RehearsalFailed(
                "not-committed",
                f"{name} is in your folder but not in commit {commit}: Heroku would build "
                "without it.",
                f"git add {name} && git commit",
                NONE_FOUND,
            )
    name = "Procfile"
    if not (app_dir / name).is_file():
        outcome = "H14 (No web processes running)"
        if (project_dir / name).is_file():
            raise RehearsalFailed(
                "not-committed",
                f"{name} is in your folder but not in commit {commit}: Heroku would build without "
                "it.",
                f"git add {name} && git commit",
                outcome,
            )
        raise RehearsalFailed(
            "no-procfile",
            f"the commit has no {name}; the rehearsal (like a web dyno on Heroku) needs one.",
            "run `homedeploy doctor --fix`, or `homedeploy init` to create it.",
            outcome,
        )
    errors = collect_build_errors(app_dir)
    if errors:
        first = errors[0]
        where = f"{first.location}: " if first.location else ""
        raise RehearsalFailed("build-rejected", f"{where}{first.message}", first.fix, first.heroku)
    from homedeploy.project.procfile import read_procfile

    if read_procfile(app_dir / "Procfile").web is None:
        raise RehearsalFailed(
            "no-web-process",
            f"the Procfile in commit {commit} declares no web process.",
            "add `web: gunicorn <module>:<app>` and commit.",
            "H14 (No web processes running)",
        )


def _needed_services(
    app_dir: Path, app_json: Any, config: DynoConfig
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Add-on -> why the rehearsal needs it (declared in app.json, or its variable is read by the
    code and no config var provides it), and add-on -> the config vars its URL is set on."""
    from homedeploy.project.config_vars import scan_env_reads
    from homedeploy.runtime.services import OTHER_VARIABLES, SERVICE_VARIABLES

    needed: dict[str, str] = {}
    if app_json is not None:
        for addon in app_json.addons:
            if addon in SERVICE_VARIABLES:
                needed[addon] = f"app.json declares {app_json.addons[addon]}"
    reads = {read.name: read for read in scan_env_reads(app_dir)}
    variables: dict[str, list[str]] = {}
    for addon, primary in SERVICE_VARIABLES.items():
        names = [primary, *OTHER_VARIABLES[addon]]
        wanted = [n for n in names if n in reads and n not in config.values]
        variables[addon] = [primary, *(n for n in wanted if n != primary)]
        if addon not in needed and wanted:
            read = reads[wanted[0]]
            needed[addon] = f"the code reads {read.name} ({read.path}:{read.line})"
    return needed, variables


def _remote_config(heroku_app: str, report: RehearsalReport) -> dict[str, str] | None:
    """The real app's config vars, when a key is at hand (values stay in memory only)."""
    from homedeploy.heroku.app_choice import connect
    from homedeploy.heroku.credentials import CredentialError, find_credential

    try:
        credential = find_credential()
    except CredentialError:
        report.notes.append(
            f"no Heroku API key found: the config vars of {heroku_app} were not used."
        )
        return None
    client, _account = connect(credential)
    return client.config_vars(heroku_app)


def _configure(
    project_dir: Path,
    app_dir: Path,
    options: RehearsalOptions,
    report: RehearsalReport,
) -> tuple[DynoConfig, Any]:
    from homedeploy.errors import HomedeployError
    from homedeploy.project.config_vars import read_app_json

    try:
        app_json = read_app_json(app_dir)
    except HomedeployError as error:
        raise RehearsalFailed(
            "app-json-invalid", f"{error.location}: {error.message}", error.fix
        ) from None
    env_file = options.env_file
    if env_file is None and (project_dir / ".env").is_file():
        env_file = project_dir / ".env"
    if env_file is not None and not env_file.is_file():
        raise UsageError(f"--env-file {env_file} does not exist", fix="pass an existing file.")
    remote = _remote_config(options.heroku_app, report) if options.heroku_app else None
    config = compose_config(
        app_json, env_file, parse_env_pairs(options.env), remote, options.heroku_app
    )
    report.notes.extend(config.notes)
    report.config = dict(config.sources)
    if config.missing:
        names = ", ".join(config.missing)
        raise RehearsalFailed(
            "config-missing",
            f"app.json requires {names}, and nothing provides a value (no value, no generator, "
            "not in .env, not given with --env).",
            f"pass --env {config.missing[0]}=..., add it to .env, or give it a value or "
            "`generator: secret` in app.json.",
            "Heroku asks for required config vars when the app is created from app.json",
        )
    return config, app_json


@dataclass
class RehearsalOptions:
    """Where the dyno's config vars come from (see :mod:`homedeploy.runtime.dyno_config`)."""

    env_file: Path | None = None
    env: list[str] = field(default_factory=list)
    heroku_app: str | None = None
    all_routes: bool = True
    fresh_build: bool = False
    """Build the venv anew even when a previous build of the same inputs is cached."""
    fresh_addons: bool = False
    """Start the add-on databases empty instead of keeping them between rehearsals."""


def run_rehearsal(
    path: Path,
    *,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
    detail: Callable[[str], None] | None = None,
    boot_timeout: float = BOOT_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
    paths: list[str] | None = None,
    options: RehearsalOptions | None = None,
) -> RehearsalReport:
    """Build and run the committed HEAD of ``path`` like Heroku; a report either way.

    With ``keep`` a web process that booted is left running (``url``, ``pid`` and ``workdir``
    say where) with its add-on servers; otherwise everything is stopped and the temporary folder
    removed. ``progress`` gets one line per step; ``detail`` gets pip's own output (shown
    transiently by the CLI).
    """
    if not path.is_dir():
        raise UsageError(
            f"{path} is not a folder",
            path=path,
            fix="pass the folder of your Flask app (default: the current folder).",
        )
    options = options or RehearsalOptions()
    project_dir = path.resolve()
    tell = progress or (lambda _line: None)
    report = RehearsalReport(ok=False, project=str(project_dir))
    workdir: Path | None = None
    services: list[Any] = []
    slot: Any = None
    try:
        repo_root, prefix = _prepare(project_dir, report)
        workdir = Path(tempfile.mkdtemp(prefix="homedeploy-rehearsal-"))
        report.workdir = str(workdir)
        app_dir, venv_dir = workdir / "app", workdir / "venv"
        tell(f"exporting commit {report.commit} (git archive) to {workdir}")
        with phase(report, "export"):
            export_head(repo_root, prefix, app_dir)
            tree = _tree_id(repo_root, prefix)
        with phase(report, "checks"):
            _check_export(project_dir, app_dir, report.commit or "HEAD")
            config, app_json = _configure(project_dir, app_dir, options, report)
            needed, variables = _needed_services(app_dir, app_json, config)
        # The add-on database outlives the rehearsal (as a Heroku add-on outlives releases),
        # except with --keep, whose servers outlive homedeploy: they get throwaway ones.
        kept_as = None if keep else f"{repo_root}:{prefix}"
        starter = _ServiceStarter(
            needed, workdir / "services", tell, project_key=kept_as, fresh=options.fresh_addons
        )
        starter.start()  # the servers start while pip builds the venv
        try:
            tell("building a clean venv with the buildpack's package manager")
            with phase(report, "build"):
                reuse = not options.fresh_build
                slot = build_venv(app_dir, venv_dir, report, tell, detail, tree=tree, reuse=reuse)
        finally:
            with phase(report, "services"):
                services = starter.join()
            report.services = [service.report for service in services]
        _check_services(services, config, report, variables)
        report.config = dict(config.sources)
        env = dyno_environment(app_dir, venv_dir, 0, config.values)
        release = _release_command(app_dir)
        if release is not None:
            with phase(report, "release"):
                run_release(app_dir, workdir, release, env, report, tell)
        boot_like_a_dyno(
            app_dir,
            venv_dir,
            workdir,
            report,
            keep=keep,
            boot_timeout=boot_timeout,
            stop_timeout=stop_timeout,
            paths=paths or ["/"],
            tell=tell,
            config=config.values,
            all_routes=options.all_routes,
            tree=tree,
        )
        report.ok = True
        report.verdict = "pass"
    except RehearsalFailed as failure:
        report.reason, report.message = failure.reason, failure.message
        report.fix, report.heroku = failure.fix, failure.heroku
        report.cause, report.verdict = failure.cause, failure.verdict
    finally:
        if report.log_file:
            report.log_tail = log_lines(Path(report.log_file))[-40:]
        if report.release is not None and report.reason == "release-failed":
            report.log_tail = report.release.log_tail
        crashed = [p for p in report.processes if p.state == "crashed"]
        if report.reason == "process-crashed" and crashed:
            report.log_tail = crashed[0].log_tail
        if not (keep and report.ok):
            for service in services:
                service.stop()
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
                report.workdir = None
                report.log_file = None
        if slot is not None:
            slot.release()  # with --keep the served venv stays until newer builds prune it
    return report


def _tree_id(repo_root: Path, prefix: str) -> str | None:
    """The git tree id of the exported commit (or of its ``prefix`` folder): equal ids, equal
    files. None when git cannot tell (then a build from the project's own files is not reused)."""
    from git import Repo

    try:
        tree = Repo(repo_root).head.commit.tree
        return str((tree / prefix).hexsha if prefix else tree.hexsha)
    except (KeyError, ValueError, OSError):
        return None


def _release_command(app_dir: Path) -> str | None:
    from homedeploy.project.procfile import read_procfile

    release = read_procfile(app_dir / "Procfile").processes.get("release")
    return release.command if release is not None else None


def _check_services(
    services: list[Any],
    config: DynoConfig,
    report: RehearsalReport,
    variables: dict[str, list[str]] | None = None,
) -> None:
    """Every needed add-on started (its URL set like Heroku's), else not rehearsed / failed."""
    for service in services:
        state = service.report
        if state.state == "missing":
            raise RehearsalFailed(
                "service-missing",
                f"the app needs {state.addon} ({state.why}), and {state.detail}: nothing was "
                "proven either way.",
                f"install it: {state.fix}; then run the rehearsal again.",
                None,
                verdict="not rehearsed",
            )
        if state.state != "started" or not state.url:
            raise RehearsalFailed(
                "service-failed",
                f"the local {state.addon} server did not start: {state.detail}",
                "see the detail above; the rehearsal starts its own server on a free port.",
                None,
                verdict="not rehearsed",
            )
        if state.variable in config.values and config.sources.get(state.variable) != "--env":
            report.notes.append(
                f"{state.variable} from {config.sources[state.variable]} replaced by the "
                f"{state.addon} add-on's own, as on Heroku (the add-on owns that config var)."
            )
        if config.sources.get(state.variable) != "--env":
            config.set(state.variable, state.url, f"{state.addon} (local {state.version})")
        for alias in (variables or {}).get(state.addon, [])[1:]:
            config.set(alias, state.url, f"{state.addon} (local {state.version}, as {alias})")


class _ServiceStarter:
    """Starts the needed add-on servers in a thread, so they come up while pip works."""

    def __init__(
        self,
        needed: dict[str, str],
        folder: Path,
        tell: Callable[[str], None],
        *,
        project_key: str | None = None,
        fresh: bool = False,
    ) -> None:
        self.needed, self.folder, self.tell = needed, folder, tell
        self.project_key, self.fresh = project_key, fresh
        self.services: list[Any] = []
        self.thread: Any = None

    def start(self) -> None:
        if not self.needed:
            return
        import threading

        from homedeploy.runtime.services import INSTALL_HINTS, SERVICE_VARIABLES, installed

        for addon, why in self.needed.items():
            if not installed(addon):
                raise RehearsalFailed(
                    "service-missing",
                    f"the app needs {addon} ({why}) for {SERVICE_VARIABLES[addon]}, and its "
                    "server is not installed on this machine: nothing was proven either way.",
                    f"install it ({INSTALL_HINTS[addon]}), then run the rehearsal again.",
                    None,
                    verdict="not rehearsed",
                )

        for addon, why in self.needed.items():
            self.tell(f"starting a local {addon} ({why})")
        self.thread = threading.Thread(target=self._run, name="addons", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from homedeploy.runtime.services import start_service

        # PostgreSQL runs as an unprivileged user when we are root: it must traverse the
        # rehearsal folder (mkdtemp makes it 0700) to reach its data directory; nothing is
        # readable by that (traverse-only, 0711).
        self.folder.parent.chmod(0o711)
        for addon, why in self.needed.items():
            self.services.append(
                start_service(
                    addon,
                    self.folder / addon,
                    why,
                    project_key=self.project_key,
                    fresh=self.fresh,
                )
            )

    def join(self) -> list[Any]:
        if self.thread is not None:
            self.thread.join()
        return self.services
