"""Finding the Heroku API key: env, ~/.netrc (good, malformed, too open), keychain; never shown."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from homedeploy.heroku.credentials import (
    Credential,
    CredentialError,
    find_credential,
    from_keychain,
)


def netrc(home: Path, text: str, mode: int = 0o600) -> Path:
    path = home / ".netrc"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_env_wins_over_netrc(tmp_path: Path) -> None:
    netrc(tmp_path, "machine api.heroku.com login me@example.com password NETRC_TOKEN\n")
    found = find_credential({"HOME": str(tmp_path), "HEROKU_API_KEY": " ENV_TOKEN \n"})
    assert found.key == "ENV_TOKEN" and "HEROKU_API_KEY" in found.source


def test_netrc_entry(tmp_path: Path) -> None:
    path = netrc(
        tmp_path,
        "machine git.heroku.com\n  login me@example.com\n  password GIT\n"
        "machine api.heroku.com\n  login me@example.com\n  password NETRC_TOKEN\n",
    )
    found = find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
    assert found.key == "NETRC_TOKEN" and found.login == "me@example.com"
    assert str(path) in found.source


def test_netrc_env_variable_is_honoured(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    netrc(other, "machine api.heroku.com login a password FROM_NETRC_VAR\n")
    env = {"HOME": str(tmp_path), "NETRC": str(other / ".netrc"), "HOMEDEPLOY_NO_KEYCHAIN": "1"}
    assert find_credential(env).key == "FROM_NETRC_VAR"


def test_malformed_netrc_names_file_and_line(tmp_path: Path) -> None:
    path = netrc(tmp_path, "machine api.heroku.com\n  login me@example.com\n  passwd\n")
    with pytest.raises(CredentialError) as caught:
        find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
    error = caught.value
    assert error.path == str(path) and error.line == 3
    assert "cannot parse the netrc file" in error.message
    assert "HEROKU_API_KEY" in (error.fix or "")


@pytest.mark.skipif(os.geteuid() == 0 and sys.platform != "linux", reason="permissions")
def test_world_readable_netrc_is_refused_with_chmod_fix(tmp_path: Path) -> None:
    netrc(tmp_path, "machine api.heroku.com login me@example.com password T\n", mode=0o644)
    try:
        found = find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
    except CredentialError as error:
        assert error.fix == f"chmod 600 {tmp_path / '.netrc'}"
    else:  # Python only checks ~/.netrc of the real home; any other file is read as is.
        assert found.key == "T"


def test_nothing_found_explains_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as caught:
        find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})
    assert "looked in HEROKU_API_KEY" in caught.value.message
    assert "export HEROKU_API_KEY" in (caught.value.fix or "")
    with pytest.raises(CredentialError) as caught:
        find_credential(
            {"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1", "HEROKU_API_TOKEN": "x"}
        )
    assert "HEROKU_API_TOKEN is set" in caught.value.message


def test_netrc_without_heroku_entry(tmp_path: Path) -> None:
    netrc(tmp_path, "machine example.com login a password b\n")
    with pytest.raises(CredentialError):
        find_credential({"HOME": str(tmp_path), "HOMEDEPLOY_NO_KEYCHAIN": "1"})


def test_repr_and_str_never_show_the_key() -> None:
    credential = Credential(key="SUPERSECRETKEY", source="test", login="me@example.com")
    assert "SUPERSECRETKEY" not in repr(credential)
    assert "SUPERSECRETKEY" not in str(credential)
    assert "SUPERSECRETKEY" not in f"{credential}"
    assert "SUPERSECRETKEY" not in repr([credential])


@pytest.mark.skipif(sys.platform != "linux", reason="secret-tool is the Linux keychain tool")
def test_keychain_through_secret_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    args_log = tmp_path / "args"
    tool = bin_dir / "secret-tool"
    tool.write_text(f'#!/bin/sh\necho "$@" > "{args_log}"\necho KEYCHAIN_TOKEN\n')
    tool.chmod(0o755)
    data = tmp_path / "home" / ".local" / "share" / "heroku"
    data.mkdir(parents=True)
    (data / "login.json").write_text('{"account": "me@example.com"}')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env = {"HOME": str(tmp_path / "home")}
    found = from_keychain(env)
    assert found is not None and found.key == "KEYCHAIN_TOKEN"
    assert args_log.read_text().split() == [
        "lookup",
        "service",
        "heroku-cli",
        "account",
        "me@example.com",
    ]
    assert find_credential(env).key == "KEYCHAIN_TOKEN"
    assert from_keychain({**env, "HOMEDEPLOY_NO_KEYCHAIN": "1"}) is None


def test_no_keychain_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert from_keychain({"HOME": str(tmp_path)}) is None
