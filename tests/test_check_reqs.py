"""check-reqs against a local package index (PEP 691 JSON and PEP 503 HTML) on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, invoke, run_homedeploy
from local_index import PROJECTS, LocalIndex, pip_env

FREEZE = """\
# an Anaconda freeze, abridged
Flask==1.0.2
Werkzeug==0.14.1
MarkupSafe==1.0
gunicorn==19.9.0
numpy==1.15.4
PyYAML==6.0.2
conda==4.5.11
anaconda-navigator==1.9.2
pywin32==306
appnope==0.1.4
six==1.17.0
mkl-fft @ file:///croot/mkl_fft_1234/work
Flask=1.0
"""

APP = """\
import os
import yaml
import numpy as np
from flask import Flask
from . import helpers  # noqa

application = Flask(__name__)
"""


@pytest.fixture(params=["json", "html"])
def index(request: pytest.FixtureRequest) -> Iterator[LocalIndex]:
    with LocalIndex(PROJECTS, mode=request.param) as served:
        yield served


@pytest.fixture
def env(index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = pip_env(index.url, tmp_path / "cache")
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def make_app(folder: Path, requirements: str = FREEZE, procfile: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.py").write_text(APP)
    (folder / "helpers.py").write_text("import flask\n")
    if procfile:
        (folder / "Procfile").write_text("web: gunicorn hello:application\n")
    (folder / "requirements.txt").write_text(requirements)
    return folder


def check(*args: str, cwd: Path | None = None) -> tuple[int, dict]:
    result = invoke("check-reqs", *args, "--json", cwd=cwd)
    return result.exit_code, json.loads(result.stdout)


def by_name(report: dict) -> dict[str, dict]:
    return {(line["name"] or line["text"]).lower(): line for line in report["lines"]}


@pytest.mark.usefixtures("env")
def test_every_line_gets_a_distinguishable_verdict(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")
    code, report = check(str(app / "requirements.txt"))
    assert code == 1
    assert report["target"] == {"python": "3.14", "platform": "manylinux_2_39_x86_64"}
    assert set(report) == {"target", "lines", "mode", "requirements_in", "written"}
    assert report["mode"] == "freeze"
    lines = by_name(report)
    assert set(lines["flask"]) >= {"line", "text", "name", "verdict", "reason", "replacement"}
    assert lines["flask"]["verdict"] == "repin"
    assert lines["flask"]["replacement"] == "Flask==3.1.1"
    assert lines["flask"]["line"] == 2
    assert lines["werkzeug"]["verdict"] == "repin"
    assert "needed by flask" in lines["werkzeug"]["reason"]
    markupsafe = lines["markupsafe"]
    assert markupsafe["verdict"] == "repin"
    assert "no wheel for CPython 3.14" in markupsafe["reason"]
    assert "nearest with one: 3.0.2" in markupsafe["reason"]
    assert lines["numpy"]["verdict"] == "repin"
    assert "no wheel" in lines["numpy"]["reason"]
    assert lines["pyyaml"]["verdict"] == "keep"
    assert lines["gunicorn"]["verdict"] == "repin"
    assert "Procfile" in lines["gunicorn"]["reason"]
    assert lines["conda"]["verdict"] == "drop"
    assert "4.5.11 is not on the package index" in lines["conda"]["reason"]
    assert lines["anaconda-navigator"]["verdict"] == "drop"
    assert "not on the package index at all" in lines["anaconda-navigator"]["reason"]
    assert lines["pywin32"]["verdict"] == "drop"
    assert "Windows or macOS" in lines["pywin32"]["reason"]
    assert "Windows or macOS" in lines["appnope"]["reason"]
    assert lines["six"]["verdict"] == "drop"
    assert "not used by the app" in lines["six"]["reason"]
    assert lines["mkl-fft"]["verdict"] == "drop"
    assert "local path" in lines["mkl-fft"]["reason"]
    invalid = by_name(report)["flask=1.0"]
    assert invalid["verdict"] == "error"
    assert invalid["line"] == 14
    assert "Invalid requirement: 'Flask=1.0'" in invalid["reason"]
    assert sorted(r.lower() for r in report["requirements_in"]) == [
        "flask",
        "gunicorn",
        "numpy",
        "pyyaml",
    ]
    assert report["written"] == []


@pytest.mark.usefixtures("env")
def test_write_compiles_for_the_target_and_keeps_a_backup(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")
    result = invoke("check-reqs", "--app", str(app), "--write")
    assert result.exit_code == 0, result.output
    assert "resolved by pip for CPython 3.14" in result.stdout
    assert (app / "requirements.txt.bak").read_text() == FREEZE
    written = (app / "requirements.txt").read_text()
    pins = [line for line in written.splitlines() if line and not line.startswith(("#", " "))]
    assert pins == [
        "flask==3.1.1",
        "gunicorn==23.0.0",
        "markupsafe==3.0.2",
        "numpy==2.3.0",
        "pyyaml==6.0.2",
        "werkzeug==3.0.0",
    ]
    requirements_in = (app / "requirements.in").read_text()
    assert "gunicorn  # the Procfile's web process runs gunicorn" in requirements_in
    # The written file is clean on a second look.
    code, report = check("--app", str(app))
    assert code == 0, report
    assert {line["verdict"] for line in report["lines"]} == {"keep"}


@pytest.mark.usefixtures("env")
def test_sound_pins_are_kept_and_the_file_is_clean(tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "app",
        "Flask==3.1.0\nwerkzeug==3.0.0\nmarkupsafe==3.0.2\ngunicorn==23.0.0\n"
        "numpy==2.3.0\npyyaml==6.0.2\n",
    )
    code, report = check("--app", str(app))
    assert code == 0, report
    assert by_name(report)["flask"]["reason"] == "imported by hello.py:4"


@pytest.mark.usefixtures("env")
def test_missing_gunicorn_is_added_and_missing_import_reported(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", "Flask\n")
    code, report = check("--app", str(app))
    assert code == 1
    lines = by_name(report)
    assert lines["gunicorn"]["verdict"] == "add"
    assert lines["gunicorn"]["line"] is None
    assert lines["numpy"]["verdict"] == "add"
    assert lines["flask"]["verdict"] == "keep"


@pytest.mark.usefixtures("env")
def test_an_imported_package_with_nothing_installable_is_an_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", "Flask\ngunicorn\noldbin==1.0\npywin32\n")
    (app / "legacy.py").write_text("import oldbin\nimport win32api\n")
    result = invoke("check-reqs", "--app", str(app), "--write", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    lines = by_name(report)
    assert lines["oldbin"]["verdict"] == "error"
    assert "no release of oldbin installs" in lines["oldbin"]["reason"]
    assert "imported by legacy.py:1" in lines["oldbin"]["reason"]
    assert lines["pywin32"]["verdict"] == "error"
    assert report["written"] == []
    assert not (app / "requirements.in").exists()


@pytest.mark.usefixtures("env")
def test_source_only_package_is_kept_not_dropped(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", "Flask\ngunicorn\nnumpy\npyyaml\npurelib==0.3\n")
    (app / "extra.py").write_text("import purelib\n")
    code, report = check("--app", str(app), "--write")
    assert code == 0
    assert "source" in by_name(report)["purelib"]["reason"]
    assert "purelib==0.3" in (app / "requirements.txt").read_text()


@pytest.mark.usefixtures("env")
def test_markers_options_includes_and_local_paths(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", procfile=False)
    (app / "base.txt").write_text("Flask>=3\r\nsix==1.17.0\r\n")
    (app / "requirements.txt").write_text(
        "-r base.txt\n"
        "--find-links /opt/not-on-heroku\n"
        'pywin32==306; sys_platform == "win32"\n'
        "-e .\n"
        "numpy\npyyaml\n"
    )
    code, report = check("--app", str(app))
    lines = report["lines"]
    assert [(line["file"], line["line"]) for line in lines][:3] == [
        ("requirements.txt", 1),
        ("base.txt", 1),
        ("base.txt", 2),
    ]
    verdicts = {line["text"]: line["verdict"] for line in lines}
    assert verdicts["-r base.txt"] == "keep"
    assert verdicts["Flask>=3"] == "keep"
    assert verdicts["--find-links /opt/not-on-heroku"] == "drop"
    # A curated file: a line whose marker excludes Linux is harmless there, so it stays.
    assert verdicts['pywin32==306; sys_platform == "win32"'] == "keep"
    assert verdicts["-e ."] == "keep"
    added = [line for line in lines if line["verdict"] == "add"]
    assert [line["name"] for line in added] == ["gunicorn"]
    assert "no Procfile" in added[0]["reason"]
    assert code == 1


@pytest.mark.usefixtures("env")
def test_cache_answers_the_second_run_and_offline(index: LocalIndex, tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")
    check("--app", str(app))
    first = len(index.requests)
    assert first > 0
    check("--app", str(app))
    assert len(index.requests) == first  # max-age=600: nothing asked again
    code, report = check("--app", str(app), "--offline")
    assert code == 1
    assert by_name(report)["flask"]["replacement"] == "Flask==3.1.1"
    assert len(index.requests) == first


def test_index_credentials_never_reach_the_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIndex(PROJECTS) as served:
        url = served.url.replace("http://", "http://alice:s3cret-token@")
        for key, value in pip_env(url, tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        app = make_app(tmp_path / "app")
        code, report = check("--app", str(app))
        first = len(served.requests)
        assert first > 0 and "s3cret" not in json.dumps(report)
        stored = b"".join(path.read_bytes() for path in (tmp_path / "cache").rglob("*.sqlite3*"))
        assert b"alice" not in stored and b"s3cret" not in stored
        assert check("--app", str(app)) == (code, report)  # answered from the cache
        assert len(served.requests) == first


def test_offline_with_empty_cache_is_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in pip_env(f"http://127.0.0.1:{free_port()}/simple", tmp_path / "c").items():
        monkeypatch.setenv(key, value)
    app = make_app(tmp_path / "app")
    result = invoke("check-reqs", "--app", str(app), "--offline")
    assert result.exit_code == 3
    assert "--offline" in result.stderr
    assert "Traceback" not in result.output


def test_unreachable_index_is_exit_3_without_traceback(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")
    env = pip_env(f"http://127.0.0.1:{free_port()}/simple", tmp_path / "c")
    done = run_homedeploy("check-reqs", "--app", str(app), env=env, timeout=60)
    assert done.returncode == 3
    assert "cannot reach the package index at http://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    result = invoke("check-reqs", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2
    assert "no requirements file" in result.stderr
    (tmp_path / "requirements.txt").write_text("flask\n")
    result = invoke("check-reqs", str(tmp_path / "requirements.txt"), "--python", "three")
    assert result.exit_code == 2
    assert "--python 'three'" in result.stderr


@pytest.mark.usefixtures("env")
def test_python_version_file_and_override_choose_the_target(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", "Flask\ngunicorn\nnumpy\npyyaml\n")
    (app / ".python-version").write_text("3.11\n")
    code, report = check("--app", str(app))
    assert report["target"]["python"] == "3.11"
    code, report = check("--app", str(app), "--python", "3.14")
    assert report["target"]["python"] == "3.14"
    assert code == 0


@pytest.mark.slow
@pytest.mark.usefixtures("env")
def test_write_uses_pip_tools_when_the_interpreter_matches(tmp_path: Path) -> None:
    import sys

    local = f"{sys.version_info[0]}.{sys.version_info[1]}"
    app = make_app(tmp_path / "app", "Flask\ngunicorn\nnumpy\npyyaml\n")
    result = invoke("check-reqs", "--app", str(app), "--python", local, "--write")
    assert result.exit_code == 0, result.output
    assert f"compiled with pip-tools under {sys.executable}" in result.stdout
    assert "flask==3.1.1" in (app / "requirements.txt").read_text()


@pytest.mark.usefixtures("env")
def test_source_only_driver_is_kept_and_its_binary_twin_named(tmp_path: Path) -> None:
    # psycopg2 builds from source on Heroku (libpq is there): a curated pin stays, as a warning.
    app = make_app(tmp_path / "app", "Flask\ngunicorn\nnumpy\npyyaml\npsycopg2==2.9.10\n")
    (app / "db.py").write_text("import psycopg2\n")
    code, report = check("--app", str(app), "--write")
    assert code == 0
    line = by_name(report)["psycopg2"]
    assert line["verdict"] == "keep"
    assert line["severity"] == "warning"
    assert "builds it from source" in line["reason"]
    assert "psycopg2-binary" in line["reason"]
    assert "psycopg2==2.9.10" in (app / "requirements.txt").read_text()


@pytest.mark.usefixtures("env")
def test_optional_imports_and_platform_markers_are_respected(tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "app", 'Flask\ngunicorn\nnumpy\npyyaml\npywin32; sys_platform == "win32"\n'
    )
    (app / "compat.py").write_text(
        "try:\n    import six\nexcept ImportError:\n    six = None\nimport win32api\n"
    )
    code, report = check("--app", str(app))
    lines = by_name(report)
    assert "six" not in lines  # optional, and not in the file: not added
    assert lines["pywin32"]["verdict"] == "keep"
    assert "pip skips it there" in lines["pywin32"]["reason"]
    assert code == 0


@pytest.mark.usefixtures("env")
def test_index_options_in_the_file_are_used_and_carried_over(tmp_path: Path) -> None:
    from local_index import MANYLINUX, FakeFile

    private = {"privpkg": [FakeFile(f"privpkg-1.2-cp314-cp314-{MANYLINUX}.whl")]}
    with LocalIndex(private) as extra:
        option = f"--extra-index-url {extra.url}"
        app = make_app(tmp_path / "app", f"{option}\nFlask\ngunicorn\nnumpy\npyyaml\nprivpkg\n")
        (app / "private.py").write_text("import privpkg\n")
        code, report = check("--app", str(app), "--write")
    assert code == 0, report
    lines = by_name(report)
    assert lines[option.lower()]["verdict"] == "keep"
    assert lines["privpkg"]["verdict"] == "keep"
    written = (app / "requirements.txt").read_text()
    assert option in written
    assert "privpkg==1.2" in written
    assert option in (app / "requirements.in").read_text()


def test_stale_pages_are_revalidated_with_their_etag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIndex(PROJECTS, max_age=0) as served:
        for key, value in pip_env(served.url, tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        app = make_app(tmp_path / "app")
        first_code, first = check("--app", str(app))
        assert served.not_modified == 0
        asked_before = len(served.requests)
        second_code, second = check("--app", str(app))
        asked = {path.split("/")[2] for path in served.requests[asked_before:]}
    # What the app needs is revalidated (the newest release matters); the freeze's other lines
    # only ask whether their release exists, which a day-old page answers without a request.
    needed = {"flask", "gunicorn", "numpy", "pyyaml"}
    assert needed <= asked
    assert served.not_modified >= len(needed)
    assert not asked & {"six", "conda", "pywin32", "appnope"}
    assert (first_code, first) == (second_code, second)
