"""Repository-stage rules: what ``git push`` would (not) deliver to Heroku.

Heroku builds the pushed commit, not the folder: files the build needs must be committed, edits
made since the last commit are not deployed, secrets committed once travel with every push, and a
push to a branch other than main/master is accepted but never built. Outside a git repository
these rules are skipped (doctor says so in a note).
"""

from __future__ import annotations

import os
from pathlib import Path

from homedeploy.doctor.findings import Finding, finding
from homedeploy.doctor.rules import Rule
from homedeploy.doctor.rules.boot import web_command
from homedeploy.doctor.snapshot import ProjectSnapshot

SLUG_LIMIT = 500 * 1024 * 1024
SLUG_SOFT_LIMIT = 300 * 1024 * 1024


_repo = finding  # a finding's stage comes from its code's entry in doctor/codes.py


def needed_files(project: ProjectSnapshot) -> list[tuple[str, str]]:
    """(file, what Heroku says without it) for every file the build or the boot needs."""
    needed: list[tuple[str, str]] = []
    for name, _ in project.package_managers:
        needed.append((name, "Error: Couldn't find any supported Python package manager files."))
    requirements = project.requirements
    if requirements is not None:
        for include in requirements.files[1:]:
            rel = project.relative(include)
            if not rel.startswith("/"):
                needed.append((rel, "Error: Unable to install dependencies using pip."))
    for name in (".python-version", "runtime.txt"):
        if project.is_file(name):
            needed.append((name, "Warning: No Python version was specified."))
    if project.procfile is not None:
        needed.append(("Procfile", "H14 (No web processes running)"))
    web = web_command(project)
    if web is not None and web.gunicorn is not None and web.gunicorn.module:
        from homedeploy.doctor.rules.boot import module_search_dirs
        from homedeploy.project.app_source import module_file

        path = module_file(module_search_dirs(project, web.gunicorn), web.gunicorn.module)
        if path is not None:
            needed.append((path.relative_to(project.root).as_posix(), "H10 (App crashed)"))
    return needed


def repository_shape(project: ProjectSnapshot) -> list[Finding]:
    """A repository with commits whose root is the project (Heroku builds the repository root)."""
    tree = project.worktree
    if tree is None:
        return []
    findings: list[Finding] = []
    if tree.prefix:
        findings.append(
            _repo(
                "project-not-repo-root",
                "error",
                f"The project is the folder {tree.prefix}/ of the repository at {tree.repo_root}; "
                "Heroku builds the repository's root, where this Procfile and requirements are "
                "not.",
                fix=f"make {tree.prefix}/ a repository of its own, or push it with "
                f"`git subtree push --prefix {tree.prefix} heroku main`.",
            )
        )
    if tree.head is None:
        findings.append(
            _repo(
                "repo-no-commits",
                "error",
                "The repository has no commit yet: there is nothing to push.",
                fix="git add --all && git commit -m 'First commit'",
            )
        )
    return findings


def needed_files_committed(project: ProjectSnapshot) -> list[Finding]:
    """requirements.txt, Procfile, .python-version and the app module must be in HEAD."""
    tree = project.worktree
    if tree is None or tree.head is None:
        return []
    from homedeploy.project.worktree import ignore_source

    findings: list[Finding] = []
    for rel, outcome in needed_files(project):
        state = tree.state(rel)
        if state == "untracked":
            findings.append(
                _repo(
                    "file-untracked",
                    "error",
                    f"{rel} is not in git: the push would not include it.",
                    path=rel,
                    heroku=outcome,
                    fix=f"git add {rel} && git commit",
                )
            )
        elif state == "ignored":
            source = ignore_source(tree.repo_root, project.root / rel)
            where = f" by {source[0]}:{source[1]}" if source and source[1] else ""
            findings.append(
                _repo(
                    "file-ignored",
                    "error",
                    f"{rel} is ignored{where}: git will never push it.",
                    path=source[0] if source else rel,
                    line=source[1] if source else None,
                    heroku=outcome,
                    fix=f"remove that pattern from the ignore file, then git add {rel} && "
                    "git commit",
                )
            )
        elif state == "staged":
            findings.append(
                _repo(
                    "file-not-committed",
                    "error",
                    f"{rel} is added but not committed: the push sends commits, not the index.",
                    path=rel,
                    heroku=outcome,
                    fix="git commit",
                )
            )
        elif state == "changed":
            findings.append(
                _repo(
                    "file-uncommitted",
                    "warning",
                    f"{rel} has uncommitted changes: Heroku would build the committed version.",
                    path=rel,
                    fix=f"git commit {rel}",
                )
            )
    return findings


def uncommitted_changes(project: ProjectSnapshot) -> list[Finding]:
    """Other edits and new files that a push would leave behind."""
    tree = project.worktree
    if tree is None or tree.head is None:
        return []
    needed = {rel for rel, _ in needed_files(project)}
    changed = sorted(rel for rel in tree.changed if rel not in needed)
    untracked = sorted(
        rel for rel in tree.untracked if rel not in needed and not _is_venv(project, rel)
    )
    if not changed and not untracked:
        return []
    parts = []
    if changed:
        parts.append(f"{len(changed)} changed file(s)")
    if untracked:
        parts.append(f"{len(untracked)} untracked path(s)")
    sample = ", ".join([*changed, *untracked][:5])
    more = "" if len(changed) + len(untracked) <= 5 else ", ..."
    return [
        _repo(
            "uncommitted-changes",
            "warning",
            f"{' and '.join(parts)} will not be deployed: {sample}{more}.",
            fix="commit what the app needs (git add <files> && git commit); ignore the rest.",
        )
    ]


def virtualenvs_ignored(project: ProjectSnapshot) -> list[Finding]:
    """A venv git does not ignore is one `git add .` away from breaking the build."""
    if project.worktree is None:
        return []
    from homedeploy.doctor.rules import source_state

    findings = []
    for rel in project.virtualenvs:
        if source_state(project, rel) == "untracked":
            findings.append(
                _repo(
                    "venv-not-ignored",
                    "warning",
                    f"The virtual environment {rel}/ is not in .gitignore: `git add .` would "
                    "commit it"
                    + (
                        f" and the build would fail (Existing '{rel}/' directory found)."
                        if rel in (".venv", "venv")
                        else "."
                    ),
                    path=f"{rel}/",
                    fix=f"add /{rel}/ to .gitignore (doctor --fix does it).",
                )
            )
    return findings


def _is_venv(project: ProjectSnapshot, rel: str) -> bool:
    return rel.rstrip("/") in project.virtualenvs


def secrets_committed(project: ProjectSnapshot) -> list[Finding]:
    """.env files, private keys and credential files in the commit go to Heroku with every push.

    Files are recognised by name and by content (a PEM private key, a service-account JSON, an
    AWS key, a config file with a password), see :mod:`homedeploy.project.secret_files`; a CA
    bundle of certificates only is not a secret.
    """
    tree = project.worktree
    if tree is None:
        return []
    from homedeploy.project.secret_files import secret_reason

    findings: list[Finding] = []
    for rel in sorted({*tree.committed, *(r for r, c in tree.changed.items() if c[0] == "A")}):
        if tree.committed.get(rel, 0) > 4 * 1024 * 1024:
            continue
        reason = secret_reason(project.root, rel)
        if reason is not None:
            findings.append(
                _repo(
                    "secret-committed",
                    "warning",
                    f"{rel} is committed and is {reason}; secrets in it are copied into every "
                    "deploy and stay in the git history.",
                    path=rel,
                    fix=f"git rm --cached {rel}, add it to .gitignore, rotate the secrets, and "
                    "set them on Heroku with `homedeploy config push`.",
                )
            )
    return findings


SESSION_DIRS = ("flask_session",)
"""Flask-Session's filesystem store: users' session data, never something to deploy."""


def junk_committed(project: ProjectSnapshot) -> list[Finding]:
    """Byte-code caches and session stores in the commit (they belong in .gitignore)."""
    tree = project.worktree
    if tree is None:
        return []
    committed = sorted(tree.committed)
    pycache = [r for r in committed if "__pycache__/" in f"/{r}" or r.endswith((".pyc", ".pyo"))]
    sessions = [r for r in committed if r.split("/", 1)[0] in SESSION_DIRS]
    findings: list[Finding] = []
    if pycache:
        findings.append(
            _repo(
                "pycache-committed",
                "warning",
                f"{len(pycache)} byte-code file(s) are committed (e.g. {pycache[0]}); they are "
                "stale on the dyno's Python and bloat the slug.",
                path=pycache[0],
                fix="git rm -r --cached $(git ls-files '*__pycache__*' '*.pyc') and add "
                "__pycache__/ and *.pyc to .gitignore.",
            )
        )
    if sessions:
        folder = sessions[0].split("/", 1)[0]
        findings.append(
            _repo(
                "sessions-committed",
                "warning",
                f"{len(sessions)} session file(s) in {folder}/ are committed: users' session "
                "data would be deployed and kept in the git history.",
                path=f"{folder}/",
                fix=f"git rm -r --cached {folder} and add /{folder}/ to .gitignore.",
            )
        )
    return findings


def gitignore_patterns(project: ProjectSnapshot) -> list[Finding]:
    """``.gitignore`` lines git never matches: ``./x/`` and ``../x`` (git has no ``.`` segments)
    and a trailing backslash (an escape in git, not a folder separator)."""
    if ".gitignore" not in project.names:
        return []
    text = project.read_text(".gitignore") or ""
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        body = pattern.removeprefix("!")
        if body.startswith(("./", "../")) or body.endswith("\\"):
            fixed = "/" + body.removeprefix("./").rstrip("\\").replace("\\", "/")
            findings.append(
                _repo(
                    "gitignore-pattern-unmatched",
                    "warning",
                    f".gitignore line {number} ({pattern!r}) matches nothing: git ignores no "
                    "file by it.",
                    path=".gitignore",
                    line=number,
                    fix=f"write it as {fixed!r} (a leading / anchors it to the project root).",
                )
            )
    return findings


def branch(project: ProjectSnapshot) -> list[Finding]:
    """Heroku builds only main/master; other branches are accepted and silently skipped."""
    tree = project.worktree
    if tree is None or tree.head is None:
        return []
    if tree.branch is None:
        return [
            _repo(
                "detached-head",
                "warning",
                f"HEAD is detached at {tree.head[:12]}: `homedeploy push` deploys this commit "
                "to Heroku's main, but it is on no branch of yours.",
                fix="git switch main (or create a branch for this commit).",
            )
        ]
    if tree.branch in ("main", "master"):
        return []
    return [
        _repo(
            "branch-not-main",
            "warning",
            f"You are on branch {tree.branch!r}. `homedeploy push` deploys HEAD to Heroku's main, "
            f"so this branch's commit is what ships; a plain `git push heroku {tree.branch}` would "
            "be accepted and never built.",
            heroku="Pushed to branch other than [main, master], skipping build.",
            fix="merge into main and deploy from there, or push with "
            f"`git push heroku {tree.branch}:main`.",
        )
    ]


def _folder_bytes(folder: Path) -> int:
    total = 0
    for current, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(current, name)).st_size
            except OSError:
                continue
    return total


def installed_bytes(venv: Path) -> int:
    """Size of a venv's site-packages: what pip would install into the slug."""
    return sum(_folder_bytes(site) for site in venv.glob("lib/python*/site-packages"))


def slug_size(project: ProjectSnapshot) -> list[Finding]:
    """Committed tree plus installed packages against Heroku's 500 MB slug limit."""
    tree = project.worktree
    if tree is None or tree.head is None:
        return []
    total = tree.committed_bytes
    venv = project.local_venv
    if venv is not None:
        total += installed_bytes(venv)
    megabytes = total / (1024 * 1024)
    source = "the committed files" + (
        f" plus the packages installed in {venv.name}/" if venv else ""
    )
    if total > SLUG_LIMIT:
        return [
            _repo(
                "slug-too-large",
                "error",
                f"Estimated slug {megabytes:.0f} MB ({source}) exceeds Heroku's 500 MB limit.",
                heroku=f"Compiled slug size: {megabytes:.0f}M is too large (max is 500M).",
                fix="drop unused requirements (`homedeploy check-reqs`), keep data files and "
                "virtual environments out of git, or list them in .slugignore.",
            )
        ]
    if total > SLUG_SOFT_LIMIT:
        return [
            _repo(
                "slug-large",
                "warning",
                f"Estimated slug {megabytes:.0f} MB ({source}) is over Heroku's 300 MB soft "
                "limit; boots get slower.",
                heroku=f"Warning: Your slug size ({megabytes:.0f} MB) exceeds our soft limit "
                "(300 MB) which may affect boot time.",
                fix="drop unused requirements and keep large files out of git or in .slugignore.",
            )
        ]
    return []


RULES: tuple[Rule, ...] = (
    repository_shape,
    needed_files_committed,
    uncommitted_changes,
    virtualenvs_ignored,
    secrets_committed,
    junk_committed,
    gitignore_patterns,
    branch,
    slug_size,
)
