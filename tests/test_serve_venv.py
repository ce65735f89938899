"""serve builds .venv from requirements.txt when it is missing and syncs a stale one (uv run's
habit), with pip from the local package indexes pip is configured with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke, run_homedeploy

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def local_indexes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip reads only the file:// indexes of its own configuration; serve may sync .venv."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    urls: list[str] = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("index-url", "extra-index-url")):
            urls += [u for u in value.strip("'\"").split() if u.startswith("file:")]
    if not urls:
        pytest.skip("pip has no local (file://) index configured")
    monkeypatch.setenv("PIP_INDEX_URL", urls[0])
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", " ".join(urls[1:]))
    monkeypatch.delenv("HOMEDEPLOY_NO_SYNC")


def test_serve_creates_then_syncs_the_venv(tmp_project: Path, port: int) -> None:
    assert invoke("init", str(tmp_project), "--no-git").exit_code == 0
    (tmp_project / "requirements.txt").write_text("flask\ngunicorn\n")  # what the index has
    first = run_homedeploy("serve", str(tmp_project), "--check", "--port", str(port), timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (
        "created .venv with Python" in first.stdout and "installed requirements.txt" in first.stdout
    )
    assert (tmp_project / ".venv" / ".gitignore").read_text().endswith("*\n")
    assert "project's virtual environment" in first.stdout
    again = run_homedeploy(
        "serve", str(tmp_project), "--check", "--json", "--port", str(port), timeout=600
    )
    report = json.loads(again.stdout)
    assert report["ok"] is True
    assert "created" not in report["environment"] and "synced" not in report["environment"]
    requirements = tmp_project / "requirements.txt"
    text = requirements.read_text()
    requirements.write_text(text.replace("gunicorn", "gunicorn>=999"))
    stale = run_homedeploy("serve", str(tmp_project), "--check", "--port", str(port), timeout=600)
    assert stale.returncode != 0  # pip cannot satisfy it: the error names pip's reason
    assert "gunicorn>=999" in stale.stdout + stale.stderr and "Traceback" not in stale.stderr
    requirements.write_text(text)
    skipped = run_homedeploy(
        "serve", str(tmp_project), "--check", "--no-sync", "--port", str(port), timeout=600
    )
    assert skipped.returncode == 0 and "synced" not in skipped.stdout


def test_stale_venv_is_synced(tmp_project: Path) -> None:
    from homedeploy.project.venv import ensure_project_venv, unsatisfied_requirements

    (tmp_project / "requirements.txt").write_text("packaging\n")
    created = ensure_project_venv(tmp_project, None)
    assert created is not None and created.action == "created"
    venv = tmp_project / ".venv"
    assert unsatisfied_requirements(venv, tmp_project / "requirements.txt") == []
    (tmp_project / "requirements.txt").write_text("packaging\nsix\n")
    assert unsatisfied_requirements(venv, tmp_project / "requirements.txt") == ["six"]
    synced = ensure_project_venv(tmp_project, None)
    assert synced is not None and synced.action == "synced" and synced.unsatisfied == ("six",)
    fresh = ensure_project_venv(tmp_project, None)
    assert fresh is not None and fresh.action == "fresh"
