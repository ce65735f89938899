"""doctor against the Python buildpack's own spec fixtures, read from a checkout when present.

Set ``HOMEDEPLOY_BUILDPACK_REPO`` to a checkout of heroku/heroku-buildpack-python (a work tree or
a bare git directory); without it the test is skipped. Every fixture whose outcome the tree
decides must agree: a build the specs expect to pass has no build error, and one they expect to
fail has, as its first build error, the headline the spec quotes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from homedeploy.doctor.rules import build
from homedeploy.doctor.snapshot import ProjectSnapshot
from tests.buildpack_fixtures import (
    UNDECIDABLE,
    buildpack_repo,
    expectations,
    export_fixture,
    fixture_names,
)

REPO = buildpack_repo()
pytestmark = pytest.mark.skipif(REPO is None, reason="HOMEDEPLOY_BUILDPACK_REPO not set")


@pytest.fixture(scope="module")
def tools() -> None:
    from homedeploy.project.tools import ToolUnavailable, ensure_tool

    try:
        for name in ("uv", "poetry", "pipenv"):
            ensure_tool(name)  # type: ignore[arg-type]
    except ToolUnavailable as error:
        pytest.skip(f"the buildpack's tools could not be installed: {error.message}")


def test_doctor_agrees_with_every_decidable_fixture(tools: None, tmp_path: Path) -> None:
    assert REPO is not None
    expected = expectations(REPO)
    misses, decided = [], 0
    for name in fixture_names(REPO):
        if name in UNDECIDABLE:
            continue
        outcome = expected.get(name)
        assert outcome is not None, f"{name}: no spec states its outcome; list it as undecidable"
        root = export_fixture(REPO, name, tmp_path)
        project = ProjectSnapshot(root, offline=True)
        errors = [f for rule in build.RULES for f in rule(project) if f.is_error]
        decided += 1
        if not outcome.fails:
            if errors:
                misses.append(f"{name}: builds on Heroku, doctor says {errors[0].code}")
            continue
        first = errors[0].heroku or "" if errors else ""
        if not (outcome.headline and outcome.headline in first):
            misses.append(f"{name}: Heroku fails with {outcome.headline!r}, doctor says {first!r}")
    assert decided >= 45
    assert misses == [], f"{len(misses)}/{decided} disagree:\n" + "\n".join(misses)
