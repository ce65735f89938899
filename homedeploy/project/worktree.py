"""What git would deploy from a project folder: committed, changed, untracked and ignored files.

Heroku builds exactly the commit that is pushed, so a Procfile that was never added, a
requirements.txt listed in .gitignore or an edit that was not committed never reaches the dyno,
however well the app runs locally. :func:`read_worktree` takes one snapshot of that state with a
handful of git calls (GitPython) so the repository checks can ask about any path cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Worktree:
    """Git's view of a project folder; every path is relative to the project folder."""

    repo_root: Path
    prefix: str  # the project folder relative to the repository root ("" at the root)
    branch: str | None  # None when HEAD is detached
    head: str | None  # None before the first commit
    committed: dict[str, int] = field(default_factory=dict)  # path -> size in bytes at HEAD
    changed: dict[str, str] = field(default_factory=dict)  # path -> porcelain XY code
    untracked: set[str] = field(default_factory=set)  # folders end with "/"
    ignored: set[str] = field(default_factory=set)  # folders end with "/"

    def state(self, rel: str) -> str:
        """``committed``, ``changed``, ``staged`` (added, never committed), ``untracked``,
        ``ignored`` or ``absent`` for the file ``rel``."""
        if rel in self.changed:
            code = self.changed[rel]
            if rel not in self.committed:
                return "staged" if code[0] in "AR" else "absent"
            return "changed"
        if rel in self.committed:
            return "committed"
        if _covered(rel, self.ignored):
            return "ignored"
        if _covered(rel, self.untracked):
            return "untracked"
        return "absent"

    def committed_under(self, folder: str) -> list[str]:
        """Committed files inside ``folder`` (relative path, no trailing slash)."""
        start = folder.rstrip("/") + "/"
        return [path for path in self.committed if path.startswith(start)]

    @property
    def committed_bytes(self) -> int:
        return sum(self.committed.values())


def _covered(rel: str, entries: set[str]) -> bool:
    if rel in entries:
        return True
    parts = rel.split("/")
    return any("/".join(parts[:depth]) + "/" in entries for depth in range(1, len(parts)))


def _relative(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    start = prefix.rstrip("/") + "/"
    if path.startswith(start):
        return path[len(start) :]
    return None


def find_repository(project_dir: Path) -> Path | None:
    """The work-tree root of the repository containing ``project_dir``, or None."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(project_dir, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    return Path(repo.working_tree_dir).resolve()


def read_worktree(project_dir: Path, repo_root: Path) -> Worktree:
    """Snapshot HEAD's files (with sizes), changes, untracked and ignored files of the project."""
    from git import GitCommandError, Repo

    repo = Repo(repo_root)
    project = project_dir.resolve()
    prefix = "" if project == repo_root else project.relative_to(repo_root).as_posix()
    try:
        head: str | None = repo.git.rev_parse("--verify", "--quiet", "HEAD")
    except GitCommandError:
        head = None
    try:
        branch: str | None = repo.git.symbolic_ref("--quiet", "--short", "HEAD")
    except GitCommandError:
        branch = None
    tree = Worktree(repo_root, prefix, branch, head or None)
    pathspec = prefix or "."
    if head:
        listing = repo.git.ls_tree("-r", "-l", "-z", "HEAD", "--", pathspec)
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            size = meta.split()[-1]
            rel = _relative(path, prefix)
            if rel is not None:
                tree.committed[rel] = int(size) if size.isdigit() else 0
    status = repo.git.status(
        "--porcelain=v1", "-z", "--ignored", "--untracked-files=normal", "--", pathspec
    )
    entries = status.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":
            index += 1  # the original name follows a rename or copy
        rel = _relative(path, prefix)
        if rel is None:
            continue
        if code == "??":
            tree.untracked.add(rel)
        elif code == "!!":
            tree.ignored.add(rel)
        else:
            tree.changed[rel] = code
    return tree


def ignore_source(repo_root: Path, path: Path) -> tuple[str, int | None] | None:
    """(ignore file, line) of the pattern that makes git ignore ``path``, or None."""
    from git import GitCommandError, Repo

    try:
        output = Repo(repo_root).git.check_ignore("-v", "--", str(path))
    except GitCommandError:
        return None
    source, _, rest = output.partition(":")
    number = rest.split(":", 1)[0]
    try:
        source_path = Path(source)
        shown = (
            source_path.relative_to(repo_root).as_posix()
            if source_path.is_absolute()
            else source_path.as_posix()
        )
    except ValueError:
        shown = source
    return shown, int(number) if number.isdigit() else None
