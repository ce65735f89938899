"""Version files read exactly as the buildpack reads them; Procfile and gunicorn parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from homedeploy.project.procfile import parse_gunicorn, read_procfile
from homedeploy.project.python_version import requested_python


@pytest.mark.parametrize(
    ("content", "major", "full", "codes"),
    [
        (b"3.12\n", "3.12", None, []),
        (b"# pinned for heroku\n\n  3.13  \r\n", "3.13", None, []),
        (b"3.14.7\n", "3.14", "3.14.7", []),
        (b"3.14.2\n", "3.14", "3.14.2", ["python-patch-outdated"]),
        (b"3.12.999\n", "3.12", "3.12.999", ["python-unknown-patch"]),
        (b"3.10\n", "3.10", None, ["python-deprecated"]),
        (b"3.9\n", "3.9", None, ["python-eol"]),
        (b"2.7\n", "2.7", None, ["python-eol"]),
        (b"3.99\n", "3.99", None, ["python-unknown"]),
        (b"python-3.12\n", "3.14", None, ["python-version-invalid"]),
        (b"3.12 # comment\n", "3.14", None, ["python-version-invalid"]),
        (b"3.12\n3.13\n", "3.14", None, ["python-version-multiple"]),
        (b"# nothing\n\n", "3.14", None, ["python-version-empty"]),
        (b"\xef\xbb\xbf3.12\n", "3.14", None, ["python-version-encoding"]),
        ("3.12\n".encode("utf-16"), "3.14", None, ["python-version-encoding"]),
    ],
)
def test_python_version_file(
    tmp_path: Path, content: bytes, major: str, full: str | None, codes: list[str]
) -> None:
    (tmp_path / ".python-version").write_bytes(content)
    requested = requested_python(tmp_path)
    assert (requested.major, requested.full) == (major, full)
    assert [p.code for p in requested.problems] == codes
    assert requested.origin == ".python-version"


def test_runtime_txt_wins_and_is_deprecated(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_text("3.13\n")
    (tmp_path / "runtime.txt").write_text("python-3.12\n")
    requested = requested_python(tmp_path)
    assert (requested.major, requested.origin) == ("3.12", "runtime.txt")
    assert [p.code for p in requested.problems] == ["runtime-txt-deprecated"]


def test_invalid_runtime_txt(tmp_path: Path) -> None:
    (tmp_path / "runtime.txt").write_text("3.12\n")
    assert "runtime-txt-invalid" in [p.code for p in requested_python(tmp_path).problems]


def test_misspelt_version_file_fires_even_beside_a_correct_one(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_text("3.13\n")
    (tmp_path / "python-version.txt").write_text("3.13\n")
    requested = requested_python(tmp_path)
    assert requested.problems[0].code == "python-version-misspelt"
    assert requested.problems[0].headline == (
        "Error: Your .python-version file is spelled incorrectly."
    )


def test_no_version_uses_default(tmp_path: Path) -> None:
    requested = requested_python(tmp_path)
    assert (requested.major, requested.origin) == ("3.14", "default")
    assert requested.problems[0].severity == "warning"


def test_procfile_parsing(tmp_path: Path) -> None:
    path = tmp_path / "Procfile"
    path.write_bytes(
        b"\xef\xbb\xbf# comment\r\nweb: gunicorn hello:application\r\n"
        b"worker: python jobs.py\nnot a process line\nweb: ignored duplicate\n"
    )
    procfile = read_procfile(path)
    assert procfile.web is not None
    assert (procfile.web.command, procfile.web.line) == ("gunicorn hello:application", 2)
    assert set(procfile.processes) == {"web", "worker"}
    assert procfile.invalid_lines == [(4, "not a process line")]


@pytest.mark.parametrize(
    ("command", "target", "chdir", "pythonpath", "bind"),
    [
        ("gunicorn hello:app", "hello:app", None, [], []),
        ("gunicorn wsgi.py", "wsgi.py", None, [], []),
        ("gunicorn --chdir my_folder my_module:app", "my_module:app", "my_folder", [], []),
        (
            "gunicorn -w 3 -b 0.0.0.0:5000 'pkg:create_app()'",
            "pkg:create_app()",
            None,
            [],
            ["0.0.0.0:5000"],
        ),
        ("python -m gunicorn --pythonpath=src,lib wsgi:app", "wsgi:app", None, ["src", "lib"], []),
        (
            "gunicorn --timeout 20 --log-file - wsgi:app --access-logfile -",
            "wsgi:app",
            None,
            [],
            [],
        ),
        ("gunicorn --bind=0.0.0.0:$PORT wsgi", "wsgi", None, [], ["0.0.0.0:$PORT"]),
    ],
)
def test_parse_gunicorn(
    command: str, target: str, chdir: str | None, pythonpath: list[str], bind: list[str]
) -> None:
    parsed = parse_gunicorn(command)
    assert parsed is not None
    assert (parsed.target, parsed.chdir, parsed.pythonpath, parsed.bind) == (
        target,
        chdir,
        pythonpath,
        bind,
    )


def test_parse_gunicorn_defaults_and_non_gunicorn() -> None:
    parsed = parse_gunicorn("gunicorn wsgi")
    assert parsed is not None and parsed.variable == "application"
    assert parse_gunicorn("python app.py") is None
    assert parse_gunicorn("waitress-serve --port=$PORT app:app") is None
