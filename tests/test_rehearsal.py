"""push --local: the committed app is exported, built in a clean venv and booted like a dyno.

These build real venvs with pip, from the local package indexes pip is configured with (so no
traffic leaves the machine), and run real gunicorn on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from homedeploy.commands.rehearse import RehearsalOptions, run_rehearsal
from tests.conftest import invoke
from tests.doctor_apps import GOOD_APP, make_app

pytestmark = pytest.mark.slow

PY311 = {".python-version": "3.11\n"}


@pytest.fixture(autouse=True)
def local_indexes_only(local_pip_indexes: None) -> None:
    """Point pip at the file:// indexes from its own configuration, never at a remote index."""


def test_good_app_builds_boots_and_stops(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", PY311)
    (project / "notes.txt").write_text("not committed\n")
    report = run_rehearsal(project)
    assert report.ok, (report.reason, report.message, report.log_tail)
    assert report.build_seconds is not None and (report.build_reused or report.build_seconds > 0)
    assert report.boot_seconds is not None and report.boot_seconds < 60
    assert [p.status for p in report.probes] == [200]
    assert report.rss_bytes and 0 < report.rss_bytes < report.memory_limit_bytes
    assert report.stop_clean is True and report.stop_seconds is not None
    assert any("uncommitted" in note for note in report.notes)
    assert report.workdir is None  # cleaned up


def test_keep_leaves_it_serving(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", PY311)
    result = invoke("push", "--local", "--keep", "--json", str(project))
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    try:
        assert data["ok"] and data["url"].startswith("http://127.0.0.1:")
        with urllib.request.urlopen(data["url"], timeout=10) as response:
            assert response.status == 200
        assert Path(data["log_file"]).is_file()
    finally:
        os.killpg(data["pid"], signal.SIGTERM)
    assert data["workdir"]


def test_module_missing_from_requirements(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {**PY311, "app.py": "import yaml\n" + GOOD_APP["app.py"]})
    report = run_rehearsal(project)
    assert not report.ok
    assert report.reason == "missing-module", report.message
    assert "'yaml'" in (report.message or "")
    assert "add PyYAML" in (report.fix or "")
    assert report.heroku == "H10 (App crashed)"
    assert any("ModuleNotFoundError" in line for line in report.log_tail)


def test_crash_at_import(tmp_path: Path) -> None:
    """A config var read at import: set in the developer's shell, absent on a fresh dyno."""
    app = "import os\n" + GOOD_APP["app.py"] + "SENTRY_DSN = os.environ['SENTRY_DSN']\n"
    project = make_app(tmp_path / "app", {**PY311, "app.py": app})
    result = invoke("push", "--local", str(project), env={"SENTRY_DSN": "https://x@y/1"})
    assert result.exit_code == 1
    assert "[import-crash]" in result.stderr
    assert "KeyError: 'SENTRY_DSN'" in result.stderr
    assert "H10" in result.stderr and "config push" in result.stderr


def test_never_binds_is_r10(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {
            **PY311,
            "requirements.txt": "",
            "Procfile": 'web: python -c "import time; time.sleep(120)"\n',
        },
    )
    report = run_rehearsal(project, boot_timeout=2)
    assert report.reason == "boot-timeout", report.message
    assert report.heroku == "R10 (Boot timeout)"


def test_uncommitted_procfile(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {**PY311, "Procfile": None})
    (project / "Procfile").write_text(GOOD_APP["Procfile"])
    report = run_rehearsal(project)
    assert report.reason == "not-committed"
    assert "Procfile" in (report.message or "") and report.build_seconds is None
    assert report.fix == "git add Procfile && git commit"


def test_not_a_repository(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", git_init=False)
    result = invoke("push", "--local", "--json", str(project))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["reason"] == "not-a-repository" and "git init" in data["fix"]


def test_buildpack_rejection_stops_before_pip(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {".python-version": "3.8\n"})
    report = run_rehearsal(project)
    assert report.reason == "build-rejected"
    assert report.heroku == "Error: The requested Python version has reached end-of-life."


def _commit_all(project: Path, message: str) -> None:
    from tests.doctor_apps import git

    git(project, "add", "--all")
    git(project, "commit", "-q", "-m", message)


def _slots(cache: Path) -> list[Path]:
    root = cache / "rehearsal-builds"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def test_unchanged_inputs_reuse_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Heroku restores its build cache when nothing the install depends on changed: so does the
    rehearsal, and says so; the reused build gives the same verdict."""
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    project = make_app(tmp_path / "app", PY311)
    first = run_rehearsal(project)
    assert first.ok and not first.build_reused, (first.reason, first.message)
    (project / "README.md").write_text("a change the install does not read\n")
    _commit_all(project, "docs")
    result = invoke("push", "--local", str(project))
    assert result.exit_code == 0, result.stderr
    assert "build reused (inputs unchanged)" in result.stdout
    second = run_rehearsal(project)
    assert second.ok and second.build_reused and second.build_key == first.build_key
    assert [p.status for p in second.probes] == [200]
    assert {"export", "checks", "build", "boot", "routes", "stop"} <= set(second.phases)
    assert len(_slots(tmp_path / "cache")) == 1
    fresh = run_rehearsal(project, options=RehearsalOptions(fresh_build=True))
    assert fresh.ok and not fresh.build_reused


def test_one_byte_in_requirements_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A requirements change is never masked: one byte (even one that means the same) rebuilds,
    and a requirement removed is really gone from the new venv."""
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    project = make_app(tmp_path / "app", PY311)
    first = run_rehearsal(project)
    assert first.ok, (first.reason, first.message)
    (project / "requirements.txt").write_text("flask\ngunicorn\n")  # F -> f
    _commit_all(project, "lower case")
    second = run_rehearsal(project)
    assert second.ok and not second.build_reused and second.build_key != first.build_key
    (project / "requirements.txt").write_text("gunicorn\n")  # Flask dropped: the app breaks
    _commit_all(project, "drop flask")
    third = run_rehearsal(project)
    assert not third.build_reused and third.reason == "missing-module", third.message


def test_failed_or_damaged_build_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    cache = tmp_path / "cache"
    broken = make_app(tmp_path / "broken", {**PY311, "requirements.txt": "Flask\nno-such-dist-x\n"})
    failed = run_rehearsal(broken)
    assert failed.reason == "build-failed" and _slots(cache) == []  # nothing kept of it
    again = run_rehearsal(broken)
    assert again.reason == "build-failed" and not again.build_reused
    project = make_app(tmp_path / "app", PY311)
    assert run_rehearsal(project).ok
    (slot,) = _slots(cache)
    (slot / "build.json").unlink()  # as if the build had been interrupted before its end
    rebuilt = run_rehearsal(project)
    assert rebuilt.ok and not rebuilt.build_reused
    (flask_init,) = slot.glob("venv/lib/python*/site-packages/flask/__init__.py")
    flask_init.unlink()  # a damaged venv: a file of its RECORD is gone
    repaired = run_rehearsal(project)
    assert repaired.ok and not repaired.build_reused, (repaired.reason, repaired.message)
    assert run_rehearsal(project).build_reused


def test_two_rehearsals_at_once_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same inputs rehearsed twice at the same time: one builds, the other waits for that
    build and uses it (and neither removes what the other runs on)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    projects = [make_app(tmp_path / name, PY311) for name in ("one", "two")]
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(run_rehearsal, projects))
    assert all(r.ok for r in reports), [(r.reason, r.message) for r in reports]
    assert sorted(r.build_reused for r in reports) == [False, True]
    assert len(_slots(tmp_path / "cache")) == 1


def test_an_unusable_build_cache_builds_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "not-a-folder" / "cache"))
    project = make_app(tmp_path / "app", PY311)
    report = run_rehearsal(project)
    assert report.ok and not report.build_reused, (report.reason, report.message)


def test_a_build_lock_never_let_go_costs_a_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another rehearsal holding the build's lock for good (stopped with Ctrl-Z, a hung build):
    this one waits LOCK_WAIT at most, says so, and builds without the cache."""
    import fcntl

    from homedeploy.runtime import build_cache

    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    project = make_app(tmp_path / "app", PY311)
    assert run_rehearsal(project).ok
    (slot,) = _slots(tmp_path / "cache")
    monkeypatch.setattr(build_cache, "LOCK_WAIT", 0.5)
    lines: list[str] = []
    with (slot.parent / f"{slot.name}.lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        stuck = run_rehearsal(project, progress=lines.append)
    assert stuck.ok and not stuck.build_reused, (stuck.reason, stuck.message)
    assert any(line.startswith("waiting for another rehearsal") for line in lines)
    assert any("building without it" in line for line in lines)
    with (slot.parent / f"{slot.name}.lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)  # in use (shared): --fresh-build must not wait forever
        fresh = run_rehearsal(project, options=RehearsalOptions(fresh_build=True))
    assert fresh.ok and not fresh.build_reused, (fresh.reason, fresh.message)
    assert run_rehearsal(project).build_reused  # the cached build was left alone
