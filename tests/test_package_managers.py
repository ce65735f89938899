"""uv, Poetry and Pipenv projects end to end: the buildpack's choice, doctor's lock checks by the
real tools, check-reqs on the locked set, init adopting them, and the rehearsal's build.

The tools are the buildpack's pinned versions, installed once into the tools cache from the
package index pip is configured with (skipped when that fails); the projects' own packages come
from indexes on 127.0.0.1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from homedeploy.doctor.engine import run_doctor
from homedeploy.project.package_manager import choose_manager
from tests.doctor_apps import git
from tests.local_index import MANYLINUX, FakeFile, LocalIndex
from tests.manager_projects import (
    STATIC_INDEX,
    WRITERS,
    lock,
    pip_environment,
    static_index,
)

MANAGERS = ["uv", "poetry", "pipenv"]
LOCK = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"

FAKE = {
    "flask": [FakeFile("flask-3.1.1-py3-none-any.whl", ["werkzeug>=3.0"])],
    "werkzeug": [FakeFile("werkzeug-3.1.0-py3-none-any.whl")],
    "gunicorn": [FakeFile("gunicorn-23.0.0-py3-none-any.whl")],
    "six": [FakeFile("six-1.17.0-py2.py3-none-any.whl")],
    "pytest": [FakeFile("pytest-8.0.0-py3-none-any.whl")],
    "oldbin": [
        FakeFile(f"oldbin-1.0-cp{HERE.replace('.', '')}-cp{HERE.replace('.', '')}-{MANYLINUX}.whl"),
        FakeFile("oldbin-2.0-py3-none-any.whl"),
    ],
}


@pytest.fixture(scope="module")
def tools() -> None:
    from homedeploy.project.tools import ToolUnavailable, ensure_tool

    try:
        for name in MANAGERS:
            ensure_tool(name)  # type: ignore[arg-type]
    except ToolUnavailable as error:
        pytest.skip(f"the buildpack's tools could not be installed: {error.message}")


@pytest.fixture
def fake_index(
    tools: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalIndex]:
    with LocalIndex(FAKE) as index:
        for key, value in pip_environment(index.url + "/", tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        yield index


def project_for(tool: str, root: Path, index: str, deps: list[str], **kw: str) -> Path:
    WRITERS[tool](root, index, deps, **kw)  # type: ignore[operator]
    lock(root, tool)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


def build_errors(root: Path) -> list[tuple[str, str | None]]:
    report = run_doctor(root, offline=True)
    return [(f.code, f.heroku) for f in report.findings if f.is_error and f.stage == "build"]


@pytest.mark.parametrize("tool", MANAGERS)
def test_good_project_passes_doctor(tool: str, fake_index: LocalIndex, tmp_path: Path) -> None:
    root = project_for(
        tool, tmp_path / "app", fake_index.url + "/", ["flask", "gunicorn"], python=HERE
    )
    assert choose_manager(root).tool == tool
    report = run_doctor(root, offline=True)
    assert report.errors == [], [(f.code, f.message) for f in report.errors]
    assert not (root / "requirements.txt").exists()


@pytest.mark.parametrize("tool", MANAGERS)
def test_out_of_date_lock_is_the_buildpack_error(
    tool: str, fake_index: LocalIndex, tmp_path: Path
) -> None:
    root = project_for(
        tool, tmp_path / "app", fake_index.url + "/", ["flask", "gunicorn"], python=HERE
    )
    WRITERS[tool](root, fake_index.url + "/", ["flask", "gunicorn", "six"], python=HERE)  # type: ignore[operator]
    errors = build_errors(root)
    display = {"uv": "uv", "poetry": "Poetry", "pipenv": "Pipenv"}[tool]
    assert ("lock-out-of-date", f"Error: Unable to install dependencies using {display}.") in errors


@pytest.mark.parametrize("tool", MANAGERS)
def test_python_mismatch(tool: str, fake_index: LocalIndex, tmp_path: Path) -> None:
    requires = {"uv": "==3.12.*", "poetry": "==3.12.*", "pipenv": "3.12"}[tool]
    WRITERS[tool](
        tmp_path / "app", fake_index.url + "/", ["flask"], python="3.13", requires=requires
    )  # type: ignore[operator]
    placeholder = {"uv": "version = 1\n", "poetry": "", "pipenv": "{}\n"}[tool]
    (tmp_path / "app" / LOCK[tool]).write_text(placeholder)  # the buildpack's choice only
    report = run_doctor(tmp_path / "app", offline=True)
    found = [f for f in report.findings if f.code == "requires-python-mismatch"]
    assert len(found) == 1
    assert found[0].severity == ("warning" if tool == "pipenv" else "error")
    assert "3.13.15" in found[0].message


def test_several_and_none(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    assert choose_manager(root).problem.code == "no-package-manager"  # type: ignore[union-attr]
    (root / "uv.lock").write_text("version = 1\n")
    (root / "requirements.txt").write_text("flask\n")
    problem = choose_manager(root).problem
    assert problem is not None and problem.headline.startswith("Error: Multiple Python")
    assert "requirements.txt" in problem.fix


def test_vcs_lines_install_on_heroku(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text(
        "-e git+https://example.invalid/org/pkg@0123456789abcdef0123456789abcdef01234567#egg=pkg\n"
        "other @ git+https://example.invalid/org/other@main\n"
    )
    report = run_doctor(root, offline=True)
    codes = {(f.code, f.line) for f in report.findings}
    assert not any(code == "requirement-local-path" for code, _ in codes)
    assert ("requirement-vcs-unpinned", 2) in codes


@pytest.mark.slow
@pytest.mark.parametrize("tool", MANAGERS)
def test_rehearsal_builds_with_the_buildpack_command(
    tool: str, tools: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (STATIC_INDEX / "simple" / "gunicorn").is_dir():
        pytest.skip("no local folder index with real flask and gunicorn")
    from homedeploy.commands.rehearse import run_rehearsal

    with static_index() as url:
        for key, value in pip_environment(url, tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        root = project_for(tool, tmp_path / "app", url, ["flask", "gunicorn"], python=HERE)
        report = run_rehearsal(root)
        assert report.ok, (report.reason, report.message, report.log_tail)
        assert report.package_manager == tool
        assert report.build_command and report.build_command.startswith(
            {
                "uv": "uv sync --locked",
                "poetry": "poetry sync --only main",
                "pipenv": "pipenv install --deploy",
            }[tool]
        )
        # a stale lock is rejected before anything is installed, with the buildpack's headline
        WRITERS[tool](root, url, ["flask", "gunicorn", "six"], python=HERE)  # type: ignore[operator]
        git(root, "commit", "-qam", "add six")
        stale = run_rehearsal(root)
        assert not stale.ok and stale.reason == "build-rejected"
        assert stale.heroku and stale.heroku.startswith(
            "Error: Unable to install dependencies using"
        )


@pytest.mark.parametrize("tool", MANAGERS)
def test_init_adopts_without_adding_files(
    tool: str, fake_index: LocalIndex, tmp_path: Path
) -> None:
    from homedeploy.commands.init import init_project

    root = tmp_path / "app"
    WRITERS[tool](root, fake_index.url + "/", ["flask", "gunicorn"], python=HERE)  # type: ignore[operator]
    lock(root, tool)
    (root / "Procfile").unlink()
    result = init_project(root, git=False)
    assert result.mode == "adopt"
    assert not (root / "requirements.txt").exists() and not (root / "requirements.in").exists()
    assert (root / "Procfile").exists()
    assert choose_manager(root).tool == tool
    assert any("no requirements.txt written" in note for note in result.notes)


@pytest.mark.parametrize("tool", MANAGERS)
def test_check_reqs_reads_the_lock_and_write_relocks(
    tool: str, fake_index: LocalIndex, tmp_path: Path
) -> None:
    from homedeploy.commands.check_reqs import run_check_reqs
    from homedeploy.project.lock_check import FRESH, check_lock

    root = tmp_path / "app"
    WRITERS[tool](root, fake_index.url + "/", ["flask", "gunicorn"], python=HERE)  # type: ignore[operator]
    lock(root, tool)
    report = run_check_reqs(root, python=HERE)
    names = {v.name.lower() for v in report.lines if v.name}
    assert {"flask", "gunicorn", "werkzeug"} <= names
    assert all(v.file == LOCK[tool] and v.line for v in report.lines if v.name == "flask")
    # out of date: --write re-locks with the tool, keeps a backup, adds no second manager
    WRITERS[tool](root, fake_index.url + "/", ["flask", "gunicorn", "six"], python=HERE)  # type: ignore[operator]
    written = run_check_reqs(root, python=HERE, write=True)
    assert written.wrote and written.written[0].backup
    assert check_lock(root, tool, major=HERE, offline=True).state == FRESH  # type: ignore[arg-type]
    assert not (root / "requirements.txt").exists()
    assert "six" in (root / LOCK[tool]).read_text()


@pytest.mark.parametrize("tool", MANAGERS)
def test_locked_pin_without_a_wheel_for_the_target(
    tool: str, fake_index: LocalIndex, tmp_path: Path
) -> None:
    from homedeploy.commands.check_reqs import run_check_reqs

    root = tmp_path / "app"
    WRITERS[tool](root, fake_index.url + "/", ["flask", "gunicorn", "oldbin==1.0"], python=HERE)  # type: ignore[operator]
    lock(root, tool)
    (root / "app.py").write_text((root / "app.py").read_text() + "import oldbin\n")
    report = run_check_reqs(root, python="3.14")  # oldbin 1.0 has a wheel for this Python only
    row = next(v for v in report.lines if v.name and v.name.lower() == "oldbin")
    assert row.verdict == "repin" and "no wheel" in row.reason, row
    assert row.file == LOCK[tool]
    (root / ".python-version").write_text("3.14\n")  # doctor judges for Heroku's Python
    doctor = run_doctor(root, offline=False)
    repins = [f for f in doctor.findings if f.code == "check-reqs-repin" and "oldbin" in f.message]
    assert repins and repins[0].path == LOCK[tool] and repins[0].line, doctor.findings


def test_check_reqs_cli_takes_a_folder_or_a_file(fake_index: LocalIndex, tmp_path: Path) -> None:
    from tests.conftest import invoke

    root = tmp_path / "app"
    WRITERS["uv"](root, fake_index.url + "/", ["flask", "gunicorn"], python=HERE)
    lock(root, "uv")
    for argument in (str(root), str(root / "uv.lock"), str(root / "pyproject.toml")):
        result = invoke("check-reqs", argument, "--python", HERE, "--json")
        assert result.exit_code in (0, 1), result.output
        assert '"uv.lock"' in result.output
    (root / "req.txt").write_text("flask\n")
    result = invoke("check-reqs", "--requirements", str(root / "req.txt"), "--app", str(root))
    assert result.exit_code in (0, 1), result.output


def test_to_requirements_converts_with_backups(fake_index: LocalIndex, tmp_path: Path) -> None:
    from homedeploy.commands.check_reqs import run_check_reqs

    root = tmp_path / "app"
    WRITERS["poetry"](root, fake_index.url + "/", ["flask", "gunicorn"], python=HERE)
    lock(root, "poetry")
    report = run_check_reqs(root, python=HERE, to="requirements")
    assert report.wrote
    assert choose_manager(root).tool == "pip"
    assert (root / "poetry.lock.bak").exists()
    text = (root / "requirements.txt").read_text()
    assert "flask==3.1.1" in text and "gunicorn==23.0.0" in text


def test_init_manager_scaffolds_a_locked_project(
    fake_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homedeploy.commands.init import init_project

    monkeypatch.setenv("UV_DEFAULT_INDEX", fake_index.url + "/")
    root = tmp_path / "fresh"
    result = init_project(root, manager="uv", python=HERE, git=False)
    assert (root / "uv.lock").is_file() and not (root / "requirements.txt").exists()
    assert choose_manager(root).tool == "uv"
    assert any(f.path == "uv.lock" for f in result.files)
