"""Hypothesis: arbitrary bytes in each input file never escape as an exception.

For each file homedeploy parses (requirements.txt, Procfile, .env, .python-version and
runtime.txt, pyproject.toml, netrc) the parser either returns a result or raises a
:class:`HomedeployError` with a message: nothing else. Examples are bounded so the module runs
in seconds; byte strategies mix random bytes with fragments of the real syntax.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homedeploy.errors import HomedeployError

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def syntax_bytes(*fragments: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, or lines glued from syntax fragments and random bytes."""
    piece = st.one_of(st.sampled_from(fragments), st.binary(max_size=12))
    glued = st.lists(piece, max_size=12).map(b"".join)
    return st.one_of(st.binary(max_size=300), glued)


_BASE = tempfile.TemporaryDirectory(prefix="hd-fuzz-")  # removed when the run ends


def _write(data: bytes, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(dir=_BASE.name))
    path = folder / name
    path.write_bytes(data)
    return path


REQUIREMENTS = syntax_bytes(
    b"flask==3.0\n", b"-r other.txt\n", b"-r ~nobody/x\n", b"-c c.txt\n", b"-e .\n",
    b"--hash=sha256:00\n", b"\\\n", b"; python_version<'3'", b"git+https://h/x#egg=x\n",
    b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"# -*- coding: latin-1 -*-\n", b"[extra]", b"@ file:///",
)  # fmt: skip


@FUZZ
@given(data=REQUIREMENTS)
def test_requirements_never_raise(data: bytes) -> None:
    from homedeploy.requirements.file import read_requirements

    path = _write(data, "requirements.txt")
    (path.parent / "other.txt").write_bytes(data[:50])
    with contextlib.suppress(HomedeployError):
        read_requirements(path)


@FUZZ
@given(data=syntax_bytes(b"web: gunicorn app:app\n", b"worker: ", b"\x00", b"'", b'"', b"\r\n"))
def test_procfile_never_raises(data: bytes) -> None:
    from homedeploy.project.procfile import read_procfile

    try:
        procfile = read_procfile(_write(data, "Procfile"))
    except HomedeployError:
        return
    for process in procfile.processes.values():
        assert "\x00" not in process.command


@FUZZ
@given(data=syntax_bytes(b"A=1\n", b"export B='x'\n", b'C="\\n"\n', b"PORT=abc\n", b"\x00", b"#"))
def test_dotenv_never_raises(data: bytes) -> None:
    from homedeploy.project.dotenv_file import read_dotenv

    try:
        parsed = read_dotenv(_write(data, ".env"))
    except HomedeployError:
        return
    for key, value in parsed.values.items():
        assert "\x00" not in key and "\x00" not in (value or "")


@FUZZ
@given(
    data=syntax_bytes(b"3.12\n", b"python-3.12.1\n", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"#")
)
@pytest.mark.parametrize("name", [".python-version", "runtime.txt"])
def test_python_version_never_raises(name: str, data: bytes) -> None:
    from homedeploy.project.python_version import requested_python

    path = _write(data, name)
    with contextlib.suppress(HomedeployError):
        requested_python(path.parent)


@FUZZ
@given(
    data=syntax_bytes(
        b"[tool]\n", b"homedeploy = 'x'\n", b"[tool.homedeploy]\n", b'app = "a"\n', b"app = 1\n",
        b"[project]\n", b"dependencies = ['flask']\n", b"[[", b"]]", b"{a=", b"}", b"[" * 50,
    )
)  # fmt: skip
def test_pyproject_never_raises(data: bytes) -> None:
    from homedeploy import settings as hd_settings
    from homedeploy.requirements.declared import _pyproject_dependencies

    path = _write(data, "pyproject.toml")
    with contextlib.suppress(HomedeployError):
        hd_settings.pyproject_app(path.parent)
    _pyproject_dependencies(path)


@FUZZ
@given(
    data=syntax_bytes(
        b"machine api.heroku.com\n", b" login me@x", b" password k-123\n", b"default\n",
        b"macdef x\n", b'"', b"\xff", b"\x00",
    )
)  # fmt: skip
def test_netrc_never_raises(data: bytes) -> None:
    from homedeploy.heroku.credentials import find_credential

    path = _write(data, ".netrc")
    path.chmod(0o600)
    with contextlib.suppress(HomedeployError):
        find_credential({"NETRC": str(path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
