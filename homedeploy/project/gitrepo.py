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
    """A ready-to-raise error when git has no user.name/user.email, else None."""
    import git

    try:
        if repo_dir is not None and (repo_dir / ".git").exists():
            reader = git.Repo(repo_dir).config_reader()
            name = reader.get_value("user", "name", default="")
            email = reader.get_value("user", "email", default="")
        else:
            runner = git.Git()
            name = runner.config("--get", "user.name", with_exceptions=False)
            email = runner.config("--get", "user.email", with_exceptions=False)
    except (git.GitCommandError, OSError):
        name = email = ""
    missing = [key for key, value in (("user.name", name), ("user.email", email)) if not value]
    if not missing:
        return None
    return ProjectError(
        f"git has no {' or '.join(missing)} configured, so the first commit cannot be made.",
        fix='run  git config --global user.name "Your Name"  and  '
        'git config --global user.email "you@example.com"  then run init again '
        "(or pass --no-git to skip git).",
    )


def init_and_commit(project_dir: Path, message: str) -> GitOutcome:
    """``git init`` (branch ``main``), add everything not ignored, and commit."""
    import git

    repo: Repo = git.Repo.init(project_dir, initial_branch="main")
    repo.git.add(A=True)
    repo.git.commit("--quiet", "--no-verify", "-m", message)
    return GitOutcome(True, True, repo.active_branch.name, repo.head.commit.hexsha[:12])


def is_repo_root(project_dir: Path) -> bool:
    return (project_dir / ".git").exists()
