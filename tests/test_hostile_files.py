"""Hostile project files: no traceback, no hang, nothing written outside the project.

Each case builds a small app folder with one bad trait and runs the real command in-process;
the command must end with a clear error (or carry on) instead of an exception or a block.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import pytest

from homedeploy import fileio
from homedeploy.errors import HomedeployError, ProjectError
from tests.conftest import invoke

pytestmark = pytest.mark.timeout(60)

APP = "from flask import Flask\napp = Flask(__name__)\n"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP)
    (root / "requirements.txt").write_text("flask\ngunicorn\n")
    (root / "Procfile").write_text("web: gunicorn app:app\n")
    (root / ".python-version").write_text("3.12\n")
    return root


def no_traceback(result: object) -> None:
    exception = getattr(result, "exception", None)
    assert exception is None or isinstance(exception, SystemExit), repr(exception)


# ---------------------------------------------------------------- non-regular and huge files


@pytest.mark.parametrize("name", ["requirements.txt", "Procfile", ".env", "pyproject.toml"])
@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_doctor_refuses_fifos_and_devices(tmp_path: Path, name: str, kind: str) -> None:
    project = make_project(tmp_path / "app")
    (project / name).unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(project / name)
    else:
        os.symlink("/dev/zero", project / name)
    result = invoke("doctor", "--offline", str(project))
    no_traceback(result)
    if name in ("requirements.txt", "Procfile"):
        assert result.exit_code != 0


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_check_reqs_refuses_a_fifo_or_device(tmp_path: Path, kind: str) -> None:
    project = make_project(tmp_path / "app")
    (project / "requirements.txt").unlink()
    if kind == "fifo":
        os.mkfifo(project / "requirements.txt")
    else:
        os.symlink("/dev/zero", project / "requirements.txt")
    result = invoke("check-reqs", "--offline", str(project))
    no_traceback(result)
    assert result.exit_code == 2
    assert "not a regular file" in result.output


def test_read_bytes_caps_the_size(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2048)
    assert fileio.read_bytes(big, limit=4096) == b"a" * 2048
    with pytest.raises(ProjectError, match="larger than"):
        fileio.read_bytes(big, limit=1024)


def test_init_force_refuses_a_fifo_in_place_of_a_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / "Procfile").unlink()
    os.mkfifo(project / "Procfile")
    result = invoke("init", "--force", "--no-git", str(project))
    no_traceback(result)
    assert result.exit_code == 2
    assert (project / "Procfile").is_fifo()


# ---------------------------------------------------------------- symlinks and backups


def test_backup_never_follows_a_dangling_symlink(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    outside = tmp_path / "outside.txt"
    os.symlink(outside, project / "Procfile.bak")
    result = invoke("init", "--force", "--no-git", str(project))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert not outside.exists()
    assert (project / "Procfile.bak").is_symlink()
    assert (project / "Procfile.bak.1").read_text() == "web: gunicorn app:app\n"


def test_make_backup_skips_a_name_taken_by_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "requirements.txt"
    target.write_text("flask\n")
    os.symlink(tmp_path / "nowhere", tmp_path / "requirements.txt.bak")
    os.symlink(tmp_path / "nowhere", tmp_path / "requirements.txt.bak.1")
    backup = fileio.make_backup(target)
    assert backup.name == "requirements.txt.bak.2"
    assert not (tmp_path / "nowhere").exists()


def test_atomic_write_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("theirs\n")
    link = tmp_path / "project" / "Procfile"
    link.parent.mkdir()
    os.symlink(outside, link)
    fileio.atomic_write_text(link, "web: gunicorn app:app\n")
    assert outside.read_text() == "theirs\n"
    assert not link.is_symlink()


# ---------------------------------------------------------------- encodings kept on rewrite


@pytest.mark.parametrize(
    "raw",
    [
        "flask\r\ngunicorn\r\n".encode("utf-16"),
        "flask\ngunicorn\n".encode("utf-16-be"),
        b"\xef\xbb\xbfflask\r\n",
        b"# caf\xe9 au lait\nflask\n",
        b"flask\rgunicorn\r",
        b"",
    ],
)
def test_text_format_round_trips(raw: bytes) -> None:
    text, fmt = fileio.TextFormat.detect(raw)
    assert fmt.encode(text) == raw


def test_doctor_fix_keeps_a_utf16_requirements_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / "requirements.txt").write_bytes("flask\r\n".encode("utf-16"))
    result = invoke("doctor", "--fix", "--offline", str(project))
    no_traceback(result)
    raw = (project / "requirements.txt").read_bytes()
    assert raw.startswith(b"\xff\xfe")
    assert raw.decode("utf-16") == "flask\r\ngunicorn\r\n"
    assert (project / "requirements.txt.bak").read_bytes() == "flask\r\n".encode("utf-16")


def test_doctor_fix_keeps_latin1_bytes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / "requirements.txt").write_bytes(b"# d\xe9pendances\nflask\n")
    result = invoke("doctor", "--fix", "--offline", str(project))
    no_traceback(result)
    assert (project / "requirements.txt").read_bytes() == b"# d\xe9pendances\nflask\ngunicorn\n"


def test_rewrite_refuses_a_character_the_encoding_cannot_hold() -> None:
    _, fmt = fileio.TextFormat.detect(b"caf\xe9\n")
    with pytest.raises(ProjectError, match="cannot hold"):
        fmt.encode("caf\xe9 \u20ac\n")


# ---------------------------------------------------------------- full disk, immutable file


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EPERM])
def test_a_failed_write_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    project = make_project(tmp_path / "app")
    (project / "requirements.txt").write_text("flask\n")
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        if str(dst).endswith("requirements.txt"):
            raise OSError(code, os.strerror(code))
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", failing_replace)
    result = invoke("doctor", "--fix", "--offline", str(project))
    no_traceback(result)
    assert result.exit_code == 2
    assert "the original file is unchanged" in result.output
    if code == errno.ENOSPC:
        assert "disk is full" in result.output
    assert (project / "requirements.txt").read_text() == "flask\n"
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- .env, pyproject, includes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"A=1\n\xff\xfe=2\n", "not UTF-8"),
        (b"A=1\nB=x\x00y\n", "NUL byte"),
    ],
)
def test_bad_env_file_is_a_clear_error(tmp_path: Path, raw: bytes, expected: str) -> None:
    project = make_project(tmp_path / "app")
    (project / ".env").write_bytes(raw)
    result = invoke("serve", "--check", str(project))
    no_traceback(result)
    assert result.exit_code == 2
    assert expected in result.output and ".env:2" in result.output
    doctor = invoke("doctor", "--offline", str(project))
    no_traceback(doctor)


def test_env_port_that_is_not_a_number(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / ".env").write_text("DEBUG=0\nPORT=abc\n")
    result = invoke("serve", "--check", str(project))
    no_traceback(result)
    assert result.exit_code == 2
    assert "PORT='abc'" in result.output and ".env:2" in result.output


def test_nul_byte_in_the_procfile(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / "Procfile").write_bytes(b"web: gunicorn app:app\x00\n")
    result = invoke("doctor", "--offline", str(project))
    no_traceback(result)
    assert "procfile-invalid-line" in invoke("doctor", "--offline", "--json", str(project)).output


@pytest.mark.parametrize(
    "text",
    [
        b'[tool]\nhomedeploy = "x"\n',
        b'tool = "x"\n',
        b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        b"a = " + b"{b=" * 3000 + b"1" + b"}" * 3000 + b"\n",
        b"project = [1]\n",
        b'[project]\nname = "x"\ndependencies = "flask"\n',
        b'[project]\nname = "x"\ndependencies = [1, {a = 1}]\n',
        b'[project]\nname = "caf\xe9"\n',
    ],
)
def test_hostile_pyproject(tmp_path: Path, text: bytes) -> None:
    from homedeploy import settings

    project = make_project(tmp_path / "app")
    (project / "requirements.txt").write_text("-e .\nflask\ngunicorn\n")
    (project / "pyproject.toml").write_bytes(text)
    no_traceback(invoke("doctor", "--offline", str(project)))
    with contextlib.suppress(HomedeployError):
        settings.pyproject_app(project)


def test_include_of_an_unknown_users_home(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / "requirements.txt").write_text("-r ~nosuchuser4711/x.txt\nflask\ngunicorn\n")
    result = invoke("check-reqs", "--offline", str(project / "requirements.txt"))
    no_traceback(result)
    no_traceback(invoke("doctor", "--offline", str(project)))


# ---------------------------------------------------------------- credentials


def test_non_utf8_netrc(tmp_path: Path) -> None:
    from homedeploy.heroku.credentials import CredentialError, find_credential

    netrc = tmp_path / ".netrc"
    netrc.write_bytes(b"machine api.heroku.com login me\xff password abc\n")
    netrc.chmod(0o600)
    with pytest.raises(CredentialError, match="not UTF-8") as caught:
        find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
    assert caught.value.location == f"{netrc}:1"


def test_netrc_fifo_is_refused(tmp_path: Path) -> None:
    from homedeploy.heroku.credentials import CredentialError, find_credential

    os.mkfifo(tmp_path / ".netrc")
    with pytest.raises(CredentialError, match="not a regular file"):
        find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})


def test_non_latin1_api_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    key = "abc\u201c123-secret"
    result = invoke(
        "apps", env={"HEROKU_API_KEY": key, "HOMEDEPLOY_HEROKU_API_URL": "http://127.0.0.1:9"}
    )
    no_traceback(result)
    assert result.exit_code == 2
    assert "123-secret" not in result.output
    assert "contains a character" in result.output


# ---------------------------------------------------------------- init and secrets

PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest\n-----END RSA PRIVATE KEY-----\n"
)
CA_BUNDLE = "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----\n"
SERVICE_ACCOUNT = (
    '{"type": "service_account", "project_id": "p", "private_key_id": "1", '
    '"private_key": "-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END PRIVATE KEY-----\\n"}'
)


def _committed(project: Path) -> set[str]:
    import subprocess

    out = subprocess.run(
        ["git", "-C", str(project), "ls-files"], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_init_force_merges_the_users_gitignore_and_commits_no_secrets(tmp_path: Path) -> None:
    project = make_project(tmp_path / "app")
    (project / ".gitignore").write_bytes(b"secrets.json\r\ncredentials/\r\n")
    (project / "secrets.json").write_text('{"token": "x"}')
    (project / "credentials").mkdir()
    (project / "credentials" / "key.pem").write_text(PRIVATE_KEY)
    (project / ".env").write_text("SECRET_KEY=abc\n")
    (project / "server.pem").write_text(PRIVATE_KEY)
    (project / "deploy-1234.json").write_text(SERVICE_ACCOUNT)
    (project / "aws.cfg").write_text("[default]\naws_access_key_id = AKIAABCDEFGHIJKLMNOP\n")
    (project / "config.ini").write_text("[db]\npassword = hunter2\n")
    (project / "cacert.pem").write_text(CA_BUNDLE)
    result = invoke("init", "--force", str(project))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    raw = (project / ".gitignore").read_bytes()
    assert raw.startswith(b"secrets.json\r\ncredentials/\r\n") and b".env\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    committed = _committed(project)
    for secret in (
        ".env",
        "secrets.json",
        "credentials/key.pem",
        "server.pem",
        "deploy-1234.json",
        "aws.cfg",
        "config.ini",
    ):
        assert secret not in committed, secret
    assert {"app.py", "Procfile", ".gitignore", "cacert.pem"} <= committed
    assert "server.pem was not committed" in result.output


def test_doctor_recognises_secrets_by_content_and_junk(tmp_path: Path) -> None:
    import json
    import subprocess

    project = make_project(tmp_path / "app")
    (project / ".gitignore").write_text("./venv/\n.venv/\nbuild\\\n")
    (project / "server.pem").write_text(PRIVATE_KEY)
    (project / "cacert.pem").write_text(CA_BUNDLE)
    (project / "gcp.json").write_text(SERVICE_ACCOUNT)
    (project / "settings.ini").write_text("[app]\nsecret_key = s3cr3t\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\x00\x01")
    (project / "flask_session").mkdir()
    (project / "flask_session" / "2029f3").write_bytes(b"\x80session")
    subprocess.run(["git", "init", "-q", "-b", "main", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A", "-f"], check=True)
    subprocess.run(["git", "-C", str(project), "commit", "-qm", "all"], check=True)
    result = invoke("doctor", "--offline", "--json", str(project))
    no_traceback(result)
    findings = json.loads(result.output)["findings"]
    secret_paths = {f["path"] for f in findings if f["code"] == "secret-committed"}
    assert {"server.pem", "gcp.json", "settings.ini"} <= secret_paths
    assert "cacert.pem" not in secret_paths
    codes = [f["code"] for f in findings]
    assert "pycache-committed" in codes and "sessions-committed" in codes
    unmatched = [f["line"] for f in findings if f["code"] == "gitignore-pattern-unmatched"]
    assert unmatched == [1, 3]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("Pipfile.lock", b"[" * 100_000 + b"]" * 100_000),
        ("Pipfile.lock", b"\xff\xfe{}"),
        ("Pipfile.lock", "fifo"),
        ("app.json", b"[" * 100_000 + b"]" * 100_000),
        ("app.json", b'{"name": "caf\xe9"}'),
        ("app.json", "fifo"),
        ("pyproject.toml", b"x = " + b"[" * 100_000 + b"]" * 100_000),
        ("Pipfile", b"[packages]\n" + b"a = " + b"{b=" * 3000 + b"1" + b"}" * 3000),
        ("Pipfile", "fifo"),
    ],
)
def test_hostile_lock_and_manifest_files(tmp_path: Path, name: str, data: bytes | str) -> None:
    project = make_project(tmp_path / "app")
    if data == "fifo":
        os.mkfifo(project / name)
    else:
        assert isinstance(data, bytes)
        (project / name).write_bytes(data)
    no_traceback(invoke("doctor", "--offline", str(project)))
