"""doctor on small app folders built here: one case per rule, each with its verdict and code."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from homedeploy.doctor.codes import CODES
from homedeploy.doctor.engine import run_doctor
from homedeploy.doctor.findings import SEVERITIES, STAGES
from tests.doctor_apps import GOOD_APP, fake_venv, git, make_app

FACTORY_APP = (
    "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"
)
HELLO_APPLICATION = "from flask import Flask\n\napplication = Flask(__name__)\n"
FREEZE = "".join(f"package{n}=={n}.0\n" for n in range(60)) + "Flask==3.1.0\ngunicorn==23.0.0\n"


def _commit_all(project: Path) -> None:
    git(project, "add", "--all")
    git(project, "commit", "-q", "-m", "more")


def _sparse(size_mb: int) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        venv = fake_venv(project / ".venv")
        blob = venv / "lib" / "python3.12" / "site-packages" / "big.so"
        with blob.open("wb") as handle:
            handle.truncate(size_mb * 1024 * 1024)  # sparse: no disk used

    return setup


def _write(name: str, text: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        (project / name).write_text(text)

    return setup


def _git(*args: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        git(project, *args)

    return setup


def _steps(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        for step in steps:
            step(project)

    return setup


def _venv(name: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        fake_venv(project / name, python=False)

    return setup


def _commit_venv(name: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        fake_venv(project / name, python=False)
        git(project, "add", "-f", name)
        git(project, "commit", "-q", "-m", "venv")

    return setup


@dataclass(frozen=True)
class Case:
    id: str
    changes: dict[str, str | bytes | None] = field(default_factory=dict)
    verdict: str = "fail"
    codes: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = None
    git_init: bool = True
    commit: bool = True
    line: int | None = None  # expected line of the first expected code


CASES = [
    Case("good-app", verdict="pass"),
    # --- build: detection and package managers
    Case(
        "not-python-app",
        {"app.py": None, "requirements.txt": None, ".python-version": None, "index.html": "x"},
        codes=("not-python-app",),
    ),
    Case(
        "pipfile-without-lock",
        {"Pipfile": "[packages]\nflask = '*'\n"},
        codes=("pipfile-without-lock",),
    ),
    Case(
        "multiple-package-managers",
        {"poetry.lock": 'name = "flask"\nname = "gunicorn"\n'},
        codes=("multiple-package-managers",),
    ),
    Case(
        "setup-py-only", {"requirements.txt": None, "setup.py": "x = 1\n"}, codes=("setup-py-only",)
    ),
    Case(
        "requirements-misspelt",
        {"requirements.txt": None, "requirments.txt": "Flask\ngunicorn\n"},
        codes=("requirements-misspelt",),
    ),
    Case(
        "pyproject-only",
        {"requirements.txt": None, "pyproject.toml": "[project]\nname='x'\n"},
        codes=("pyproject-only",),
    ),
    Case("no-package-manager", {"requirements.txt": None}, codes=("no-package-manager",)),
    # --- build: Python version files
    Case(
        "python-version-comments-crlf-ok",
        {".python-version": b"# Heroku\r\n\r\n  3.12  \r\n# done\r\n"},
        verdict="pass",
    ),
    Case(
        "python-version-bom",
        {".python-version": b"\xef\xbb\xbf3.12\n"},
        codes=("python-version-encoding",),
    ),
    Case(
        "python-version-utf16",
        {".python-version": "3.12\n".encode("utf-16")},
        codes=("python-version-encoding",),
    ),
    Case(
        "python-version-multiple",
        {".python-version": "3.12\n3.13\n"},
        codes=("python-version-multiple",),
        line=2,
    ),
    Case(
        "python-version-invalid",
        {".python-version": "python-3.12\n"},
        codes=("python-version-invalid",),
        line=1,
    ),
    Case(
        "python-version-empty",
        {".python-version": "# nothing\n\n"},
        codes=("python-version-empty",),
    ),
    Case(
        "python-version-misspelt",
        {".python-version": None, ".python_version": "3.12\n"},
        codes=("python-version-misspelt",),
    ),
    Case(
        "python-version-misspelt-beside-correct",
        {"python-version.txt": "3.12\n"},
        codes=("python-version-misspelt",),
    ),
    Case(
        "runtime-txt-deprecated",
        {".python-version": None, "runtime.txt": "python-3.12\n"},
        verdict="pass",
        codes=("runtime-txt-deprecated",),
    ),
    Case(
        "runtime-txt-wins-over-python-version",
        {"runtime.txt": "python-3.9\n"},
        codes=("python-eol", "runtime-txt-deprecated"),
    ),
    Case("runtime-txt-invalid", {"runtime.txt": "3.12\n"}, codes=("runtime-txt-invalid",)),
    Case("python-eol", {".python-version": "3.9\n"}, codes=("python-eol",), line=1),
    Case("python-unknown", {".python-version": "3.99\n"}, codes=("python-unknown",)),
    Case(
        "python-deprecated",
        {".python-version": "3.10\n"},
        verdict="pass",
        codes=("python-deprecated",),
    ),
    Case("python-unknown-patch", {".python-version": "3.12.99\n"}, codes=("python-unknown-patch",)),
    Case(
        "python-patch-outdated",
        {".python-version": "3.12.1\n"},
        verdict="pass",
        codes=("python-patch-outdated",),
    ),
    Case(
        "python-version-missing",
        {".python-version": None},
        verdict="pass",
        codes=("python-version-missing",),
    ),
    Case(
        "uv-needs-python-version",
        {
            ".python-version": None,
            "requirements.txt": None,
            "pyproject.toml": "[project]\nname='x'\n",
            "uv.lock": 'name = "flask"\nname = "gunicorn"\n',
        },
        codes=("python-version-missing",),
    ),
    Case(
        "uv-rejects-runtime-txt",
        {
            ".python-version": None,
            "runtime.txt": "python-3.12\n",
            "requirements.txt": None,
            "uv.lock": 'name = "flask"\nname = "gunicorn"\n',
        },
        codes=("runtime-txt-uv",),
    ),
    Case(
        "pipfile-lock-invalid-json",
        {
            ".python-version": None,
            "requirements.txt": None,
            "Pipfile": "[packages]\n",
            "Pipfile.lock": "{not json",
        },
        codes=("pipfile-lock-invalid",),
    ),
    Case(
        "pipfile-lock-eol-python",
        {
            ".python-version": None,
            "requirements.txt": None,
            "Pipfile": "[packages]\n",
            "Pipfile.lock": json.dumps(
                {
                    "_meta": {"requires": {"python_version": "3.9"}},
                    "default": {"flask": {}, "gunicorn": {}},
                }
            ),
        },
        codes=("python-eol",),
    ),
    # --- build: things in the source
    Case(
        "dot-venv-committed",
        {".gitignore": ""},
        setup=_commit_venv(".venv"),
        codes=("venv-in-source",),
    ),
    Case("venv-committed", setup=_commit_venv("venv"), codes=("venv-in-source",)),
    Case(
        "other-venv-committed",
        setup=_commit_venv("helloprojenv"),
        verdict="pass",
        codes=("venv-committed",),
    ),
    Case(
        "venv-not-ignored",
        {".gitignore": ""},
        setup=_venv(".venv"),
        verdict="pass",
        codes=("venv-not-ignored",),
    ),
    Case(
        "venv-in-plain-folder",
        {".gitignore": None},
        setup=_venv("venv"),
        git_init=False,
        codes=("venv-in-source",),
    ),
    Case("heroku-python-dir", {".heroku/python/bin/python3": "x"}, codes=("heroku-python-dir",)),
    # --- build: requirement lines
    Case(
        "requirement-invalid",
        {"requirements.txt": "Flask\ngunicorn\nan-invalid-requirement!\n"},
        codes=("requirement-invalid",),
        line=3,
    ),
    Case(
        "requirement-missing-include",
        {"requirements.txt": "-r base.txt\nFlask\ngunicorn\n"},
        codes=("requirement-invalid",),
        line=1,
    ),
    Case(
        "requirement-unknown-option",
        {"requirements.txt": "--frobnicate\nFlask\ngunicorn\n"},
        codes=("requirement-invalid",),
    ),
    Case(
        "requirement-local-path",
        {
            "requirements.txt": "Flask\ngunicorn\nmkl-fft @ file:///Users/me/anaconda3/conda-bld/mkl-fft.tar.gz\n"
        },
        codes=("requirement-local-path",),
        line=3,
    ),
    Case(
        "requirement-windows-only",
        {"requirements.txt": "Flask\ngunicorn\npywin32==306\n"},
        codes=("requirement-never-installs",),
        line=3,
    ),
    Case(
        "requirement-conda-only",
        {"requirements.txt": "conda==4.5.11\nFlask\ngunicorn\n"},
        codes=("requirement-never-installs",),
        line=1,
    ),
    Case(
        "requirement-os-only-behind-a-marker",
        {"requirements.txt": 'Flask\ngunicorn\npywin32==306; sys_platform == "win32"\n'},
        verdict="pass",
    ),
    Case(
        "requirement-missing-hash",
        {"requirements.txt": "Flask==3.1.0 --hash=sha256:" + "a" * 64 + "\ngunicorn==23.0.0\n"},
        codes=("requirement-missing-hash",),
        line=2,
    ),
    Case(
        "requirement-conflict",
        {"requirements.txt": "Flask==3.1.0\ngunicorn\nflask==2.0.0\n"},
        codes=("requirement-conflict",),
        line=3,
    ),
    Case(
        "requirements-freeze",
        {"requirements.txt": FREEZE},
        verdict="pass",
        codes=("requirements-freeze",),
    ),
    Case(
        "compiled-requirements-are-not-a-freeze",
        {"requirements.txt": FREEZE.replace("\n", "\n    # via -r requirements.in\n")},
        verdict="pass",
    ),
    Case(
        "requirements-include-ok",
        {"requirements.txt": "-r base.txt\n", "base.txt": "Flask\ngunicorn\n"},
        verdict="pass",
    ),
    # --- boot: Procfile
    Case("procfile-missing", {"Procfile": None}, codes=("procfile-missing",)),
    Case(
        "procfile-misnamed",
        {"Procfile": None, "procfile.txt": "web: gunicorn app:app\n"},
        codes=("procfile-misnamed",),
    ),
    Case(
        "procfile-not-at-root",
        {"Procfile": None, "deploy/Procfile": "web: gunicorn app:app\n"},
        codes=("procfile-not-at-root",),
    ),
    Case(
        "procfile-bom",
        {"Procfile": b"\xef\xbb\xbfweb: gunicorn app:app\n"},
        codes=("procfile-bom",),
        line=1,
    ),
    Case(
        "procfile-web-case", {"Procfile": "Web: gunicorn app:app\n"}, codes=("procfile-web-case",)
    ),
    Case("procfile-no-web", {"Procfile": "worker: python worker.py\n"}, codes=("procfile-no-web",)),
    Case(
        "procfile-invalid-line",
        {"Procfile": "web: gunicorn app:app\njust words\n"},
        verdict="pass",
        codes=("procfile-invalid-line",),
        line=2,
    ),
    Case(
        "procfile-python-app-py",
        {"Procfile": "web: python app.py\n"},
        codes=("procfile-dev-server",),
    ),
    Case("procfile-flask-run", {"Procfile": "web: flask run\n"}, codes=("procfile-dev-server",)),
    Case(
        "procfile-target-file",
        {"Procfile": "web: gunicorn wsgi.py\n", "wsgi.py": "from app import app\n"},
        codes=("procfile-target-file",),
    ),
    Case(
        "procfile-attr-missing",
        {"app.py": None, "hello.py": HELLO_APPLICATION, "Procfile": "web: gunicorn hello:app\n"},
        codes=("procfile-attr-missing",),
        line=1,
    ),
    Case(
        "app-syntax-error",
        {"app.py": "from flask import Flask\napp = Flask(__name__\n"},
        codes=("app-syntax-error",),
        line=2,
    ),
    Case(
        "procfile-module-missing",
        {"Procfile": "web: gunicorn nothere:app\n"},
        codes=("procfile-module-missing",),
    ),
    Case(
        "procfile-unquoted-parentheses",
        {"app.py": FACTORY_APP, "Procfile": "web: gunicorn app:create_app()\n"},
        codes=("procfile-shell-syntax",),
        line=1,
    ),
    Case("procfile-no-target", {"Procfile": "web: gunicorn\n"}, codes=("procfile-no-target",)),
    Case(
        "procfile-factory-not-called",
        {"app.py": FACTORY_APP, "Procfile": "web: gunicorn app:create_app\n"},
        codes=("procfile-factory-not-called",),
    ),
    Case(
        "factory-called",
        {"app.py": FACTORY_APP, "Procfile": "web: gunicorn 'app:create_app()'\n"},
        verdict="pass",
    ),
    Case(
        "procfile-object-called",
        {"Procfile": "web: gunicorn 'app:app()'\n"},
        codes=("procfile-object-called",),
    ),
    Case(
        "src-layout-with-chdir",
        {
            "app.py": None,
            "src/web.py": GOOD_APP["app.py"],
            "Procfile": "web: gunicorn --chdir src web:app\n",
        },
        verdict="pass",
    ),
    Case(
        "wsgi-reexport",
        {
            "app.py": None,
            "hello.py": GOOD_APP["app.py"],
            "wsgi.py": "from hello import app\n",
            "Procfile": "web: gunicorn wsgi:app\n",
        },
        verdict="pass",
    ),
    Case(
        "hardcoded-port",
        {"Procfile": "web: gunicorn -b 0.0.0.0:8000 app:app\n"},
        codes=("hardcoded-port",),
    ),
    Case(
        "bind-localhost",
        {"Procfile": "web: gunicorn --bind 127.0.0.1:$PORT app:app\n"},
        codes=("bind-localhost",),
    ),
    Case(
        "bind-port-ok", {"Procfile": "web: gunicorn --bind 0.0.0.0:$PORT app:app\n"}, verdict="pass"
    ),
    Case(
        "hardcoded-port-in-config",
        {"gunicorn.conf.py": 'bind = "0.0.0.0:5000"\n'},
        codes=("hardcoded-port",),
    ),
    Case(
        "gunicorn-config-missing",
        {"Procfile": "web: gunicorn -c conf.py app:app\n"},
        codes=("gunicorn-config-missing",),
    ),
    Case(
        "gunicorn-not-installed", {"requirements.txt": "Flask\n"}, codes=("gunicorn-not-installed",)
    ),
    Case("flask-not-installed", {"requirements.txt": "gunicorn\n"}, codes=("flask-not-installed",)),
    Case(
        "import-not-installed",
        {"app.py": "import numpy\n" + GOOD_APP["app.py"]},
        verdict="pass",
        codes=("import-not-installed",),
        line=1,
    ),
    Case(
        "app-run-at-import",
        {"app.py": GOOD_APP["app.py"] + "app.run(debug=True)\n"},
        codes=("app-run-at-import",),
    ),
    Case(
        "guarded-debug-under-gunicorn",
        {"app.py": GOOD_APP["app.py"] + 'if __name__ == "__main__":\n    app.run(debug=True)\n'},
        verdict="pass",
    ),
    Case(
        "flask-debug-dev-server",
        {
            "app.py": GOOD_APP["app.py"] + 'if __name__ == "__main__":\n    app.run(debug=True)\n',
            "Procfile": "web: python app.py\n",
        },
        codes=("flask-debug", "procfile-dev-server"),
    ),
    Case(
        "flask-debug-in-procfile",
        {"Procfile": "web: FLASK_DEBUG=1 flask run --host 0.0.0.0 --port $PORT\n"},
        codes=("flask-debug",),
    ),
    Case(
        "flask-debug-config",
        {"app.py": GOOD_APP["app.py"] + "app.debug = True\n"},
        verdict="pass",
        codes=("flask-debug-config",),
    ),
    # --- repository
    Case("not-a-git-repository", git_init=False, verdict="pass"),
    Case("repo-no-commits", commit=False, codes=("repo-no-commits",)),
    Case(
        "procfile-untracked",
        {"Procfile": None},
        setup=_write("Procfile", "web: gunicorn app:app\n"),
        codes=("file-untracked",),
    ),
    Case(
        "requirements-ignored",
        {".gitignore": "*.txt\n"},
        codes=("file-ignored",),
        line=1,
    ),
    Case(
        "procfile-staged-not-committed",
        {"Procfile": None},
        setup=_steps(_write("Procfile", "web: gunicorn app:app\n"), _git("add", "Procfile")),
        codes=("file-not-committed",),
    ),
    Case(
        "procfile-uncommitted-edit",
        setup=_write("Procfile", "web: gunicorn app:app --workers 2\n"),
        verdict="pass",
        codes=("file-uncommitted",),
    ),
    Case(
        "uncommitted-changes",
        setup=_write("helpers.py", "X = 1\n"),
        verdict="pass",
        codes=("uncommitted-changes",),
    ),
    Case(
        "env-committed", {".env": "SECRET_KEY=abc\n"}, verdict="pass", codes=("secret-committed",)
    ),
    Case(
        "branch-not-main",
        setup=_git("switch", "-q", "-c", "feature"),
        verdict="pass",
        codes=("branch-not-main",),
    ),
    Case(
        "detached-head",
        setup=_git("switch", "-q", "--detach"),
        verdict="pass",
        codes=("detached-head",),
    ),
    Case("slug-too-large", setup=_sparse(600), codes=("slug-too-large",)),
    Case("slug-over-soft-limit", setup=_sparse(350), verdict="pass", codes=("slug-large",)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_doctor_case(case: Case, tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", case.changes, git_init=case.git_init, commit=case.commit)
    if case.setup is not None:
        case.setup(project)
    report = run_doctor(project, offline=True)
    codes = [finding.code for finding in report.findings]
    summary = "\n".join(f"{f.severity} {f.code} {f.location}: {f.message}" for f in report.findings)
    assert report.verdict == case.verdict, summary
    for code in case.codes:
        assert code in codes, summary
    if not case.codes and case.verdict == "pass":
        assert not report.findings, summary
    if case.line is not None:
        first = next(f for f in report.findings if f.code == case.codes[0])
        assert first.line == case.line, summary
    for finding in report.findings:
        assert finding.stage in STAGES and finding.severity in SEVERITIES
        info = CODES[finding.code]
        assert finding.stage == info.stage, finding
        assert finding.severity == info.severity or info.severity_varies, finding
        assert finding.message and finding.fix, finding


def test_table_covers_forty_apps() -> None:
    assert len(CASES) >= 40


def test_outside_git_repository_checks_are_skipped_with_a_note(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", git_init=False)
    report = run_doctor(project)
    assert report.verdict == "pass"
    assert not [f for f in report.findings if f.stage == "repository"]
    assert any("Not a git repository" in note for note in report.notes)


def test_project_in_a_subfolder_of_a_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_app(repo / "site", git_init=False)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "-q", "-m", "x")
    report = run_doctor(repo / "site")
    assert "project-not-repo-root" in [f.code for f in report.findings]


def test_buildpack_headlines_are_verbatim(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app", {".python-version": "3.9\n", "Pipfile": "[packages]\n"}, git_init=False
    )
    headlines = {f.code: f.heroku for f in run_doctor(project).findings}
    assert headlines["pipfile-without-lock"] == "Error: No 'Pipfile.lock' found!"
    assert headlines["python-eol"] == "Error: The requested Python version has reached end-of-life."


def test_import_check_in_the_project_venv(tmp_path: Path) -> None:
    """With a venv holding gunicorn, doctor loads the app there and reports a crash at import."""
    root = Path(__file__).resolve().parent.parent / ".venv" / "bin"
    if not (root / "gunicorn").exists():
        pytest.skip("homedeploy's .venv has no gunicorn")
    project = make_app(
        tmp_path / "app",
        {"app.py": GOOD_APP["app.py"] + "raise RuntimeError('no DATABASE_URL')\n"},
    )
    venv = fake_venv(project / ".venv", python=False)
    (venv / "bin" / "python").symlink_to(root / "python")
    (venv / "bin" / "gunicorn").symlink_to(root / "gunicorn")
    report = run_doctor(project)
    failed = [f for f in report.findings if f.code == "app-import-failed"]
    assert failed and "RuntimeError: no DATABASE_URL" in failed[0].message
    (project / "app.py").write_text(GOOD_APP["app.py"])
    (project / "Procfile").write_text("web: gunicorn -w ${WEB_CONCURRENCY:-2} app:app\n")
    report = run_doctor(project)
    assert not [f for f in report.findings if f.code == "app-import-failed"]
    assert any("loads in .venv/" in note for note in report.notes)


def test_bad_path_is_a_usage_error(tmp_path: Path) -> None:
    from homedeploy.errors import UsageError

    with pytest.raises(UsageError):
        run_doctor(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UsageError):
        run_doctor(tmp_path / "file.txt")


def test_environment_is_not_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor reads files only: it works with an empty PATH (no network, no tools but git)."""
    project = make_app(tmp_path / "app", git_init=False)
    monkeypatch.setenv("PATH", os.defpath)
    assert run_doctor(project).verdict == "pass"
