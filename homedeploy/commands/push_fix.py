"""``homedeploy push --fix``: doctor's safe fixes and check-reqs' rewrite as one commit, rehearsed.

The whole path of a first deploy in one command, without touching the user's branch until the
fixed commit has passed the rehearsal:

1. :func:`prepare_fix` clones the repository (``git clone --shared``: a checkout of HEAD, so
   exactly what would be deployed) into a temporary folder and applies there doctor's safe fixes
   and, when check-reqs finds problems, its ``--write`` rewrite. ``git diff`` of that clone is
   the diff shown to the user, each changed file with the reasons. A fixed file that
   ``.gitignore`` hides (GitHub's Python template ignores ``.python-version``) is added anyway,
   and doctor runs on the result: errors no safe fix can mend stop here (``blocking``).
2. :func:`commit_fix` commits it in the clone (the user's git identity, one clear message); the
   CLI then rehearses the clone's HEAD like ``push --local``.
3. :func:`adopt_fix` fast-forwards the user's branch to that commit (``git merge --ff-only``),
   after which the CLI pushes as usual. When the user declines, or the rehearsal fails, the
   clone is simply removed (:meth:`FixPlan.discard`): nothing was committed or changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.doctor.engine import run_doctor
from homedeploy.errors import HomedeployError, ProjectError
from homedeploy.heroku.git import open_repo
from homedeploy.project.python_version import requested_python
from homedeploy.project.venv import VenvSync, ensure_project_venv, project_venv
from homedeploy.requirements.check import check_requirements

BACKUP_GLOBS = (":(exclude)*.bak", ":(exclude)*.bak.*")


@dataclass
class FixReason:
    path: str
    why: str


@dataclass
class FixPlan:
    """The fixes, made in a temporary clone; the user's repository is untouched so far."""

    project: str
    branch: str | None
    base: str
    diff: str
    reasons: list[FixReason]
    files: list[str]
    clone: Path = field(repr=False)
    commit: str | None = None
    notes: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)  # doctor errors the fixes leave

    @property
    def empty(self) -> bool:
        return not self.files

    def discard(self) -> None:
        shutil.rmtree(self.clone.parent, ignore_errors=True)


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise ProjectError(
            f"git {args[0]} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}",
            path=cwd,
            fix="check the repository with `git status`.",
        )
    return done.stdout


def prepare_fix(path: Path, *, offline: bool = False) -> FixPlan:
    """Make the fixes in a temporary clone of HEAD and describe them (diff and reasons)."""
    repo = open_repo(path)
    root = Path(repo.working_tree_dir or path).resolve()
    if root != path.resolve():
        raise ProjectError(
            f"{path} is inside the repository at {root}; push --fix works on a repository root",
            path=path,
            fix=f"run it from {root}.",
        )
    branch = None if repo.head.is_detached else repo.active_branch.name
    base = repo.head.commit.hexsha
    holder = Path(tempfile.mkdtemp(prefix="homedeploy-fix-"))
    clone = holder / root.name
    try:
        _git(holder, "clone", "--quiet", "--shared", "--no-checkout", str(root), str(clone))
        _git(clone, "checkout", "--quiet", "--detach", base)
        reasons: list[FixReason] = []
        report = run_doctor(clone, offline=True, fix=True)
        for change in report.fixes_applied:
            reasons.append(FixReason(change.path, f"{change.change} ({change.code})"))
        requirements = clone / "requirements.txt"
        notes: list[str] = []
        if requirements.is_file():
            try:
                checked = check_requirements(None, clone, write=True, offline=offline)
            except HomedeployError as error:  # the other fixes still stand; the rehearsal judges
                notes.append(f"check-reqs could not rewrite requirements.txt: {error.message}")
                checked = None
            for written in checked.written if checked else []:
                if written.how == "unchanged":
                    continue
                relative = os.path.relpath(written.path, clone)
                reasons.append(FixReason(relative, f"check-reqs --write: {written.how}"))
        _git(clone, "add", "--all", "--", ".", *BACKUP_GLOBS)
        for reason in reasons:  # a fixed file .gitignore hides would not reach Heroku
            if (clone / reason.path).is_file() and _ignored(clone, reason.path):
                _git(clone, "add", "--force", "--", reason.path)
                reason.why += " (.gitignore ignores it; committed anyway: Heroku reads the commit)"
        _git(clone, "clean", "--quiet", "--force")  # the fixers' .bak copies: not deployed
        files = [f for f in _git(clone, "diff", "--cached", "--name-only").splitlines() if f]
        diff = _git(clone, "diff", "--cached", "--stat", "--patch") if files else ""
        after = run_doctor(clone, offline=True).findings  # the staged fixes are not committed yet:
        remaining = [f for f in after if f.is_error and f.stage != "repository"]  # git's own
    except BaseException:
        shutil.rmtree(holder, ignore_errors=True)
        raise
    blocking = [
        f"{f.location + ': ' if f.location else ''}{f.message} (fix: {f.fix})" for f in remaining
    ]
    return FixPlan(
        str(root), branch, base, diff, reasons, files, clone, notes=notes, blocking=blocking
    )


def _ignored(clone: Path, relative: str) -> bool:
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", "--", relative],
        cwd=clone,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


def _identity_env(root: Path) -> dict[str, str]:
    """The user's own git identity (any way git accepts it) for the commit made in the clone."""
    env: dict[str, str] = {}
    for role, variable in (("AUTHOR", "GIT_AUTHOR_IDENT"), ("COMMITTER", "GIT_COMMITTER_IDENT")):
        ident = _git(root, "var", variable).strip()
        name, _, rest = ident.partition(" <")
        env[f"GIT_{role}_NAME"] = name
        env[f"GIT_{role}_EMAIL"] = rest.split(">", 1)[0]
    return env


def commit_message(plan: FixPlan) -> str:
    lines = ["Fix the deploy (homedeploy push --fix)", ""]
    lines += [f"- {reason.path}: {reason.why}" for reason in plan.reasons]
    return "\n".join(lines) + "\n"


def commit_fix(plan: FixPlan) -> str:
    """One commit in the clone; returns its sha (the user's branch is not touched)."""
    _git(
        plan.clone,
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        commit_message(plan),
        env=_identity_env(Path(plan.project)),
    )
    plan.commit = _git(plan.clone, "rev-parse", "HEAD").strip()
    return plan.commit


def adopt_fix(plan: FixPlan, *, progress: Callable[[str], None] | None = None) -> VenvSync | None:
    """Fast-forward the user's branch to the rehearsed commit; the temporary clone goes.

    A ``.venv`` the project already has is then synced with the fixed requirements.txt, so
    doctor (which loads the app in it before the push) sees what the commit holds.
    """
    assert plan.commit is not None
    root = Path(plan.project)
    try:
        dirty = _git(root, "status", "--porcelain", "--", *plan.files).strip()
        if dirty:
            raise ProjectError(
                "files the fix changes have uncommitted changes here: "
                + ", ".join(line[3:] for line in dirty.splitlines()),
                path=root,
                fix="commit or stash them, then run push --fix again.",
            )
        _git(root, "fetch", "--quiet", str(plan.clone), plan.commit)
        _git(root, "merge", "--quiet", "--ff-only", plan.commit)
    finally:
        plan.discard()
    if project_venv(root) is None:
        return None
    return ensure_project_venv(root, requested_python(root).major, progress=progress)
