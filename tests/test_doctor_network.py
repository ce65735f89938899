"""doctor with the network: check-reqs' verdicts, against a package index on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.doctor_apps import make_app
from tests.local_index import LocalIndex, pip_env

REQUIREMENTS = """\
Flask==3.1.0
gunicorn
conda==4.5.11
appnope==0.1.4
six==1.17.0
"""


@pytest.fixture
def index(local_package_index: LocalIndex) -> LocalIndex:
    return local_package_index


@pytest.mark.usefixtures("index")
def test_check_reqs_verdicts_join_the_report(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {"requirements.txt": REQUIREMENTS, ".python-version": "3.14\n"},
        git_init=False,
    )
    result = invoke("doctor", str(project), "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    lines = {f["line"]: f for f in data["findings"] if f["code"] == "requirement-uninstallable"}
    assert set(lines) == {3, 4}  # conda (not installable) and appnope (macOS only)
    assert all(
        f["heroku"] == "Error: Unable to install dependencies using pip." for f in lines.values()
    )
    # A curated file: six installs, so nothing imports it is no finding (keep by default).
    assert not [f for f in data["findings"] if "six" in f["message"]]
    assert any("check-reqs judged" in note for note in data["notes"])


@pytest.mark.usefixtures("index")
def test_offline_skips_the_index(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {"requirements.txt": REQUIREMENTS, ".python-version": "3.14\n"},
        git_init=False,
    )
    data = json.loads(invoke("doctor", str(project), "--json", "--offline").stdout)
    codes = {f["code"] for f in data["findings"]}
    assert not codes & {"requirement-uninstallable", "check-reqs-unneeded"}
    # Known conda-only and macOS-only names are caught without the index, with their lines.
    never = [f for f in data["findings"] if f["code"] == "requirement-never-installs"]
    assert [(f["line"], f["message"].split("'")[1]) for f in never] == [
        (3, "conda==4.5.11"),
        (4, "appnope==0.1.4"),
    ]


def test_unreachable_index_is_a_note_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    for key, value in pip_env(f"http://127.0.0.1:{free_port()}/simple/", tmp_path / "c").items():
        monkeypatch.setenv(key, value)
    project = make_app(tmp_path / "app", git_init=False)
    result = invoke("doctor", str(project), "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, data
    assert any("could not judge" in note for note in data["notes"])
