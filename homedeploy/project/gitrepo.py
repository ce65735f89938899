"""The local git repository of a project: find it, check identity, make the first commit.

Heroku deploys what is committed, so ``init`` puts a new project under git at once. Git's own
failures here are obscure ("Please tell me who you are", a repository nested inside another), so
each is turned into a message that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homedeploy.errors import ProjectError

if TYPE_CHECKING:
    from git import Repo


@dataclass(frozen=True)
class GitOutcome:
    """What ``init`` did with git."""

    initialized: bool
    committed: bool
    branch: str | None
    commit: str | None
    note: str | None = None
    withheld: tuple[tuple[str, str], ...] = ()
    """(file, why) for secret-looking files left out of the first commit."""


def enclosing_repo_root(path: Path) -> Path | None:
    """The top folder of the git work tree containing ``path``, or None outside any repository."""
    from git import InvalidGitRepositoryError, NoSuchPathError
    from git import Repo as GitRepo

    probe = path if path.exists() else path.parent
    while not probe.exists():
        probe = probe.parent
    try:
        repo = GitRepo(probe, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    if repo.working_tree_dir is None:
        return None
    return Path(repo.working_tree_dir).resolve()


def identity_problem(repo_dir: Path | None = None) -> ProjectError | None:
    """A ready-to-raise error when git cannot make a commit for lack of an identity, else None.

    git itself is asked (``git var GIT_AUTHOR_IDENT`` and ``GIT_COMMITTER_IDENT``), so every
    identity git accepts counts: user.name/user.email in any config, or the environment
    (``GIT_AUTHOR_NAME``/``GIT_AUTHOR_EMAIL``, ``GIT_COMMITTER_*``, ``EMAIL``) as CI systems set
    it, or what git can detect from the machine.
    """
    import git

    where = repo_dir if repo_dir is not None and (repo_dir / ".git").exists() else None
    runner = git.Git(str(where) if where else None)
    missing: list[str] = []
    for role, variable in (("author", "GIT_AUTHOR_IDENT"), ("committer", "GIT_COMMITTER_IDENT")):
        try:
            runner.var(variable)
        except (git.GitCommandError, OSError):
            missing.append(role)
    if not missing:
        return None
    return ProjectError(
        f"git has no {' or '.join(missing)} identity (user.name and user.email), so the first "
        "commit cannot be made.",
        fix='run  git config --global user.name "Your Name"  and  '
        'git config --global user.email "you@example.com"  (or set GIT_AUTHOR_NAME, '
        "GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL), then run init again "
        "(or pass --no-git to skip git).",
    )


def init_and_commit(project_dir: Path, message: str) -> GitOutcome:
    """``git init`` (branch ``main``), add everything not ignored except secrets, and commit.

    ``.env``, key files and files whose content is a credential (see
    :mod:`homedeploy.project.secret_files`) are never added, whatever ``.gitignore`` says; they
    are returned in ``withheld``.
    """
    import git

    from homedeploy.project.secret_files import secret_reason

    repo: Repo = git.Repo.init(project_dir, initial_branch="main")
    repo.git.add(A=True)
    staged = repo.git.diff("--cached", "--name-only", "-z").split("\0")
    withheld = []
    for rel in staged:
        if not rel:
            continue
        reason = secret_reason(project_dir, rel)
        if reason is not None:
            withheld.append((rel, reason))
    if withheld:
        repo.git.rm("--cached", "--quiet", "--", *(rel for rel, _ in withheld))
    repo.git.commit("--quiet", "--no-verify", "--allow-empty", "-m", message)
    return GitOutcome(
        True,
        True,
        repo.active_branch.name,
        repo.head.commit.hexsha[:12],
        withheld=tuple(withheld),
    )


def is_repo_root(project_dir: Path) -> bool:
    return (project_dir / ".git").exists()
