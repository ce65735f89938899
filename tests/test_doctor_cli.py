"""doctor through the CLI: the seed's real case, --json, exit codes, and --fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homedeploy.doctor.engine import run_doctor
from tests.conftest import invoke, run_homedeploy
from tests.doctor_apps import GOOD_APP, fake_venv, git, make_app

HELLO = (
    "from flask import Flask\n\n"
    "application = Flask(__name__)\n\n\n"
    '@application.route("/")\n'
    "def hello():\n"
    '    return "Hello World!"\n\n\n'
    'if __name__ == "__main__":\n'
    '    application.run(debug=True, host="0.0.0.0")\n'
)


def seed_project(root: Path, shared: Path) -> Path:
    """homedataflask as first pushed: the Anaconda freeze, hello:app, a committed virtualenv."""
    realworld = shared / "realworld"
    files: dict[str, str | bytes | None] = {
        "requirements.txt": (realworld / "homedataflask-anaconda-freeze.txt").read_text(),
        "Procfile": (realworld / "homedataflask-Procfile.first").read_text(),
        "hello.py": HELLO,
        "wsgi.py": (
            'from hello import application\n\nif __name__ == "__main__":\n    application.run()\n'
        ),
    }
    project = make_app(root, base=files, git_init=False)
    fake_venv(project / "helloprojenv", python=False)
    git(project, "init", "-q", "-b", "master")
    git(project, "add", "--all")
    git(project, "commit", "-q", "-m", "make it better")
    return project


def test_seed_real_case_gives_every_finding_at_once(tmp_path: Path, shared_dir: Path) -> None:
    project = seed_project(tmp_path / "homedataflask", shared_dir)
    assert len((project / "requirements.txt").read_text().splitlines()) == 234
    result = invoke("doctor", str(project), "--json", "--offline")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "fail"
    codes = {f["code"]: f for f in data["findings"]}
    assert {
        "procfile-attr-missing",
        "requirements-freeze",
        "venv-committed",
        "python-version-missing",
    } <= set(codes)
    target = codes["procfile-attr-missing"]
    assert (target["path"], target["line"], target["heroku"]) == (
        "Procfile",
        1,
        "H10 (App crashed)",
    )
    assert "hello:application" in target["fix"]
    for finding in data["findings"]:
        assert set(finding) == {
            "code",
            "stage",
            "severity",
            "message",
            "path",
            "line",
            "heroku",
            "fix",
        }
    assert "branch-not-main" not in codes  # master is built by Heroku


def test_seed_fix_points_the_procfile_at_application(tmp_path: Path, shared_dir: Path) -> None:
    project = seed_project(tmp_path / "homedataflask", shared_dir)
    report = run_doctor(project, fix=True)
    assert (project / "Procfile").read_text() == "web: gunicorn hello:application\n"
    assert (project / "Procfile.bak").read_text() == "web: gunicorn hello:app\n"
    assert "/helloprojenv/" in (project / ".gitignore").read_text().splitlines()
    changed = {fix.code for fix in report.fixes_applied}
    assert {"procfile-attr-missing", "venv-committed"} <= changed
    assert "procfile-attr-missing" not in {f.code for f in report.findings}


def test_human_output_groups_by_stage(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {"Procfile": "web: gunicorn hello:app\n", ".python-version": "3.9\n"},
    )
    result = invoke("doctor", str(project))
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("Build (Heroku's Python buildpack)") < out.index("Boot (the web dyno)")
    assert "Procfile:1" in out and "H10 (App crashed)" in out
    assert "Error: The requested Python version has reached end-of-life." in out
    assert "fail: 2 errors" in out


def test_pass_exits_zero_and_bad_path_exits_two(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    result = invoke("doctor", str(project), "--offline")
    assert result.exit_code == 0, result.stdout
    assert "pass" in result.stdout
    missing = invoke("doctor", str(tmp_path / "nope"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_json_for_a_passing_project_in_a_subprocess(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    completed = run_homedeploy("doctor", "--json", "--offline", cwd=project)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["verdict"] == "pass"


FIX_CASES = [
    (
        "runtime-txt",
        {".python-version": None, "runtime.txt": "python-3.12\n"},
        {".python-version": "3.12\n"},
    ),
    (
        "misspelt-version",
        {".python-version": None, ".python_version": "3.13\n"},
        {".python-version": "3.13\n"},
    ),
    ("version-bom", {".python-version": b"\xef\xbb\xbf3.12\r\n"}, {".python-version": "3.12\n"}),
    (
        "misspelt-requirements",
        {"requirements.txt": None, "Requirements.txt": "Flask\ngunicorn\n"},
        {"requirements.txt": "Flask\ngunicorn\n"},
    ),
    (
        "misnamed-procfile",
        {"Procfile": None, "Procfile.txt": "web: gunicorn app:app\n"},
        {"Procfile": "web: gunicorn app:app\n"},
    ),
    (
        "procfile-bom",
        {"Procfile": b"\xef\xbb\xbfweb: gunicorn app:app\n"},
        {"Procfile": "web: gunicorn app:app\n"},
    ),
    ("procfile-missing", {"Procfile": None}, {"Procfile": "web: gunicorn app:app\n"}),
    (
        "wsgi-file",
        {"Procfile": "web: gunicorn wsgi.py --workers 2\n", "wsgi.py": "from app import app\n"},
        {"Procfile": "web: gunicorn wsgi:app --workers 2\n"},
    ),
    (
        "factory",
        {
            "app.py": (
                "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n"
            ),
            "Procfile": "web: gunicorn app:create_app\n",
        },
        {"Procfile": "web: gunicorn 'app:create_app()'\n"},
    ),
    ("add-gunicorn", {"requirements.txt": "Flask"}, {"requirements.txt": "Flask\ngunicorn\n"}),
]


@pytest.mark.parametrize(("name", "changes", "expected"), FIX_CASES, ids=[c[0] for c in FIX_CASES])
def test_fix(
    name: str, changes: dict[str, str | bytes | None], expected: dict[str, str], tmp_path: Path
) -> None:
    project = make_app(tmp_path / "app", changes, git_init=False)
    report = run_doctor(project, fix=True)
    for file, content in expected.items():
        assert (project / file).read_text() == content
    assert report.fixes_applied, report
    assert report.verdict == "pass", report.findings
    for fix in report.fixes_applied:
        if fix.backup:
            assert (project / fix.backup).exists()


def test_fix_ignores_an_untracked_venv_and_reports_it(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {".gitignore": "__pycache__/\n"})
    fake_venv(project / ".venv", python=False)
    result = invoke("doctor", str(project), "--fix")
    assert result.exit_code == 0, result.stdout
    assert "fixed .gitignore: added /.venv/" in result.stdout
    assert (project / ".gitignore").read_text() == "__pycache__/\n/.venv/\n"
    assert (project / ".gitignore.bak").read_text() == "__pycache__/\n"


def test_fix_leaves_a_good_project_alone(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    before = {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()}
    report = run_doctor(project, fix=True)
    assert report.fixes_applied == []
    assert {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()} == before
    assert GOOD_APP["Procfile"] == before["Procfile"].decode()
