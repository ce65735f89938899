"""doctor's rules, one module per stage: ``build`` (what the Python buildpack would reject or warn
about), ``boot`` (why the dyno would not serve) and ``repository`` (what git would not deploy).

Each rule is a small function ``(ProjectSnapshot) -> list[Finding]``; a stage module lists its rules
in ``RULES`` in the order the buildpack or the dyno would meet the problems.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from homedeploy.doctor.findings import Finding
from homedeploy.doctor.snapshot import ProjectSnapshot

Rule = Callable[[ProjectSnapshot], list[Finding]]


def _gitignore_patterns(project: ProjectSnapshot) -> list[str]:
    text = project.read_text(".gitignore") if ".gitignore" in project.names else None
    if not text:
        return []
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith(("#", "!"))
    ]


def listed_in_gitignore(project: ProjectSnapshot, rel: str) -> bool:
    """Whether the root .gitignore names ``rel`` (simple patterns; used outside a repository)."""
    name = rel.rstrip("/")
    for pattern in _gitignore_patterns(project):
        bare = pattern.strip("/")
        if fnmatch.fnmatchcase(name, bare) or fnmatch.fnmatchcase(name.split("/")[-1], bare):
            return True
    return False


def source_state(project: ProjectSnapshot, rel: str) -> str:
    """How ``rel`` (a file or folder) stands for a deploy.

    ``committed`` (at least partly in HEAD), ``staged``, ``untracked`` (git add . would pick it
    up), ``ignored``, or ``absent``; outside a repository, ``present`` or ``ignored`` by the root
    .gitignore.
    """
    tree = project.worktree
    rel = rel.rstrip("/")
    if tree is None:
        return "ignored" if listed_in_gitignore(project, rel) else "present"
    if rel in tree.committed or tree.committed_under(rel):
        return "committed"
    state = tree.state(rel)
    if state != "absent":
        return state
    folder = rel + "/"
    if folder in tree.ignored:
        return "ignored"
    if folder in tree.untracked:
        return "untracked"
    if any(path.startswith(folder) for path in tree.changed):
        return "staged"
    if any(path.startswith(folder) for path in tree.ignored):
        return "ignored"
    if any(path.startswith(folder) for path in tree.untracked):
        return "untracked"
    return "absent"


def in_build(state: str) -> bool:
    """Whether a path in ``state`` reaches Heroku's build (or will with the next commit)."""
    return state in ("committed", "staged", "present")
