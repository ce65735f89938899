"""``homedeploy push --local``: rehearse a Heroku deploy of the committed app on this machine.

Orchestrates :mod:`homedeploy.runtime.rehearsal`: check that there is a commit, export it, run the
buildpack's own pre-install checks (doctor's build rules) on the export, build a clean venv, boot
the web process like a dyno and report. Nothing here talks to Heroku.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.runtime.rehearsal import (
    RehearsalFailed,
    RehearsalReport,
    boot_like_a_dyno,
    build_venv,
    export_head,
    log_lines,
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


def run_rehearsal(
    path: Path,
    *,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
    detail: Callable[[str], None] | None = None,
    boot_timeout: float = BOOT_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
    paths: list[str] | None = None,
) -> RehearsalReport:
    """Build and boot the committed HEAD of ``path`` like Heroku; a report either way.

    With ``keep`` a web process that booted is left running (``url``, ``pid`` and ``workdir``
    say where); otherwise it is stopped and the temporary folder removed. ``progress`` gets one
    line per step; ``detail`` gets pip's own output (shown transiently by the CLI).
    """
    if not path.is_dir():
        raise UsageError(
            f"{path} is not a folder",
            path=path,
            fix="pass the folder of your Flask app (default: the current folder).",
        )
    project_dir = path.resolve()
    tell = progress or (lambda _line: None)
    report = RehearsalReport(ok=False, project=str(project_dir))
    workdir: Path | None = None
    try:
        repo_root, prefix = _prepare(project_dir, report)
        workdir = Path(tempfile.mkdtemp(prefix="homedeploy-rehearsal-"))
        report.workdir = str(workdir)
        app_dir, venv_dir = workdir / "app", workdir / "venv"
        tell(f"exporting commit {report.commit} (git archive) to {workdir}")
        export_head(repo_root, prefix, app_dir)
        _check_export(project_dir, app_dir, report.commit or "HEAD")
        tell("building a clean venv with the buildpack's package manager")
        build_venv(app_dir, venv_dir, report, tell, detail)
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
        )
        report.ok = True
    except RehearsalFailed as failure:
        report.reason, report.message = failure.reason, failure.message
        report.fix, report.heroku = failure.fix, failure.heroku
    finally:
        if report.log_file:
            report.log_tail = log_lines(Path(report.log_file))[-40:]
        if workdir is not None and not (keep and report.ok):
            shutil.rmtree(workdir, ignore_errors=True)
            report.workdir = None
            report.log_file = None
    return report
