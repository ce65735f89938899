"""Reading the Python buildpack's own spec fixtures from a checkout of its repository.

Nothing of the buildpack is copied into this repository: ``HOMEDEPLOY_BUILDPACK_REPO`` points at a
checkout (a work tree, or a bare git directory, read with ``git archive``), and each fixture's
expected outcome is read from the hatchet specs in that checkout: a fixture deployed with
``allow_failure: true`` fails with the first ``Error:`` headline its spec quotes; one deployed
without it builds.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

UNDECIDABLE = {
    "ci_pip": "Heroku CI's bin/test-compile (test dependencies), not a git push build",
    "ci_pipenv": "Heroku CI's bin/test-compile (test dependencies), not a git push build",
    "ci_poetry": "Heroku CI's bin/test-compile (test dependencies), not a git push build",
    "ci_uv": "Heroku CI's bin/test-compile (test dependencies), not a git push build",
    "django_invalid_settings_module": "decided by running collectstatic, and by config vars",
    "django_staticfiles_app_not_enabled": "decided by running collectstatic",
    "django_staticfiles_latest_django": "decided by running collectstatic",
    "django_staticfiles_legacy_django": "decided by running collectstatic",
    "django_staticfiles_misconfigured": "decided by running collectstatic",
    "hooks_delete_cache_dir": "decided by running the app's bin/pre_compile hook",
    "hooks_pre_compile_fail": "decided by running the app's bin/pre_compile hook",
    "hooks_pre_compile_pass_post_compile_fail": "decided by running bin/post_compile",
    "nltk_dependency_and_nltk_txt": "decided by downloading NLTK corpora at build time",
    "nltk_dependency_only": "decided by downloading NLTK corpora at build time",
    "nltk_txt_invalid": "decided by downloading NLTK corpora at build time",
    "pip_gdal": "a source build that needs the GDAL library (only a real build shows it)",
    "pip_pysqlite3": "a source build that needs SQLite headers (only a real build shows it)",
    "pip_legacy_celery": "broken metadata found by pip while installing (a real build)",
    "python_version_eol_cached": "depends on the build cache of an earlier deploy",
    "python_version_non_existent_major_cached": "depends on the build cache of an earlier deploy",
    "python_version_unspecified": "specs deploy it with other buildpacks and stacks, both ways",
    "procfile": "tests the dyno's run-time environment, not the build",
    "pipenv_mismatched_python_version": "its spec is skipped upstream (pypa/pipenv#6514)",
    "poetry_mismatched_python_version": "its spec is commented out upstream (poetry#10226)",
}
"""Fixtures whose outcome the tree alone does not decide, and why."""


@dataclass(frozen=True)
class Expectation:
    fixture: str
    fails: bool
    headline: str | None


def buildpack_repo() -> Path | None:
    value = os.environ.get("HOMEDEPLOY_BUILDPACK_REPO")
    if not value:
        return None
    path = Path(value)
    return path if path.exists() else None


def _is_bare(repo: Path) -> bool:
    return not (repo / "spec").is_dir()


def _read(repo: Path, rel: str) -> str:
    if not _is_bare(repo):
        return (repo / rel).read_text(encoding="utf-8")
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{rel}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def _spec_files(repo: Path) -> list[str]:
    if not _is_bare(repo):
        return sorted(p.relative_to(repo).as_posix() for p in (repo / "spec/hatchet").glob("*.rb"))
    listing = subprocess.run(
        ["git", "--git-dir", str(repo), "ls-tree", "--name-only", "HEAD", "spec/hatchet/"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return sorted(line for line in listing.splitlines() if line.endswith(".rb"))


def fixture_names(repo: Path) -> list[str]:
    if not _is_bare(repo):
        return sorted(p.name for p in (repo / "spec/fixtures").iterdir() if p.is_dir())
    listing = subprocess.run(
        ["git", "--git-dir", str(repo), "ls-tree", "-d", "--name-only", "HEAD", "spec/fixtures/"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return sorted(line.rsplit("/", 1)[-1] for line in listing.splitlines())


_RUNNER_RE = re.compile(r"Hatchet::Runner\.new\('spec/fixtures/([^']+)'([^)]*)\)")
_HEADLINE_RE = re.compile(r"!\s+((?:Error|Internal Error): [^\n]*)")


def expectations(repo: Path) -> dict[str, Expectation]:
    """Each fixture's outcome as the specs state it (commented-out lines ignored)."""
    found: dict[str, list[Expectation]] = {}
    for rel in _spec_files(repo):
        text = "\n".join(
            line for line in _read(repo, rel).splitlines() if not line.lstrip().startswith("#")
        )
        for match in _RUNNER_RE.finditer(text):
            segment = text[match.end() : match.end() + 6000]
            following = _RUNNER_RE.search(segment)
            if following:
                segment = segment[: following.start()]
            headline = _HEADLINE_RE.search(segment)
            fails = "allow_failure: true" in match.group(2)
            found.setdefault(match.group(1), []).append(
                Expectation(match.group(1), fails, headline.group(1).strip() if headline else None)
            )
    result = {}
    for name, items in found.items():
        outcomes = {(item.fails, item.headline if item.fails else None) for item in items}
        if len(outcomes) == 1:
            result[name] = items[0]
    return result


def export_fixture(repo: Path, name: str, destination: Path) -> Path:
    """A copy of one fixture in ``destination`` (a temporary folder of the test)."""
    target = destination / name
    if not _is_bare(repo):
        import shutil

        shutil.copytree(repo / "spec/fixtures" / name, target, symlinks=True)
        return target
    archive = destination / f"{name}.tar"
    with archive.open("wb") as stream:
        subprocess.run(
            ["git", "--git-dir", str(repo), "archive", "HEAD", f"spec/fixtures/{name}"],
            stdout=stream,
            check=True,
            timeout=60,
        )
    target.mkdir()
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            member.name = member.name.split("/", 3)[3] if member.name.count("/") >= 3 else ""
            if member.name:
                tar.extract(member, target, filter="data")
    archive.unlink()
    return target
