"""The pieces under check-reqs: app needs, the Heroku target, pip's index settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homedeploy.errors import UsageError
from homedeploy.requirements.app_needs import app_needs, dist_for_import
from homedeploy.requirements.index import DistFile, PackageIndex, ProjectFiles, pip_index_sources
from homedeploy.requirements.platform import TargetPlatform, parse_python_option, target_for_app


def needs_of(app: Path) -> dict[str, str]:
    return {need.dist: need.why for need in app_needs(app)}


def test_imports_map_to_distributions_and_skip_stdlib_local_and_venvs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os, json\nimport yaml\nfrom sklearn.linear_model import X\nfrom PIL import Image\n"
        "import bs4, cv2\nfrom dateutil import parser\nimport dotenv\nimport git\nimport jwt\n"
        "import helpers\nfrom . import sibling\nfrom flask_sqlalchemy import SQLAlchemy\n"
    )
    (tmp_path / "helpers.py").write_text("import requests\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "plots.py").write_text("import matplotlib.pyplot\nimport mpld3\n")
    venv = tmp_path / "helloprojenv"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (venv / "lib" / "junk.py").write_text("import should_not_appear\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.py").write_text("import nor_this\n")
    needs = needs_of(tmp_path)
    assert set(needs) == {
        "PyYAML",
        "scikit-learn",
        "Pillow",
        "beautifulsoup4",
        "opencv-python",
        "python-dateutil",
        "python-dotenv",
        "GitPython",
        "PyJWT",
        "Flask-SQLAlchemy",
        "requests",
        "matplotlib",
        "mpld3",
    }
    assert needs["mpld3"] == "imported by templates/plots.py:2"


def test_procfile_worker_class_names_loaded_by_name_and_optional_imports(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text(
        "web: gunicorn -k gevent --bind 0.0.0.0:$PORT app:app\nworker: celery -A app worker\n"
    )
    (tmp_path / "app.py").write_text(
        "import importlib\n"
        "plotly = importlib.util.find_spec('plotly')\n"
        "importlib.import_module('markdown')\n"
        "DB = 'postgresql://localhost/db'\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
    )
    needs = {need.dist: need for need in app_needs(tmp_path)}
    assert needs["gunicorn"].why == "the Procfile's web process runs gunicorn"
    assert needs["gunicorn"].source == "Procfile:1"
    assert "gevent" in needs
    assert "celery" in needs
    assert "plotly" in needs
    assert "Markdown" in needs
    assert "psycopg2-binary" in needs
    assert needs["ujson"].optional is True


def test_unknown_import_falls_back_to_its_name() -> None:
    assert dist_for_import("some_pkg.sub") == "some-pkg"
    assert dist_for_import("yaml.loader") == "PyYAML"


def test_target_wheels_and_markers() -> None:
    target = TargetPlatform("3.14")
    assert target.wheel_fits(
        "numpy-2.3.0-cp314-cp314-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    )
    assert target.wheel_fits("x-1.0-cp311-abi3-manylinux2014_x86_64.whl")
    assert target.wheel_fits("flask-3.1.0-py3-none-any.whl")
    assert not target.wheel_fits("x-1.0-cp314-cp314-manylinux_2_40_x86_64.whl")
    assert not target.wheel_fits("x-1.0-cp314-cp314-musllinux_1_2_x86_64.whl")
    assert not target.wheel_fits("x-1.0-cp313-cp313-manylinux_2_17_x86_64.whl")
    assert not target.wheel_fits("x-1.0-cp314-cp314-win_amd64.whl")
    assert not target.wheel_fits("x-1.0-cp314-cp314t-manylinux_2_17_x86_64.whl")
    assert not target.wheel_fits("x-1.0-py2-none-any.whl")
    assert target.python_fits(">=3.10")
    assert not target.python_fits("<3.12")
    assert target.marker_holds('sys_platform == "linux" and python_version >= "3.14"')
    assert not target.marker_holds('sys_platform == "win32"')
    assert target.marker_holds("not a marker ==")


def test_target_follows_the_buildpack_and_the_option(tmp_path: Path) -> None:
    assert target_for_app(tmp_path).python == "3.14"
    assert target_for_app(tmp_path).origin == "default"
    (tmp_path / ".python-version").write_text("3.12\n")
    assert target_for_app(tmp_path).python == "3.12"
    (tmp_path / "runtime.txt").write_text("python-3.11.9\n")
    assert target_for_app(tmp_path).python == "3.11"  # runtime.txt wins, as on Heroku
    assert target_for_app(tmp_path, "3.13").origin == "--python"
    assert parse_python_option("3.13.1") == "3.13"
    with pytest.raises(UsageError):
        parse_python_option("py3")


def _wheel(folder: Path, filename: str) -> None:
    import zipfile

    with zipfile.ZipFile(folder / filename, "w") as archive:
        archive.writestr("x.txt", "")


def test_index_sources_come_from_pip_settings_and_file_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    links = tmp_path / "wheels"
    links.mkdir()
    _wheel(links, "localonly-1.0-py3-none-any.whl")
    file_index = tmp_path / "simple"
    (file_index / "filepkg").mkdir(parents=True)
    (file_index / "filepkg" / "index.html").write_text(
        '<a href="../../files/filepkg-2.0-py3-none-any.whl" data-requires-python="&gt;=3.8">'
        "filepkg-2.0-py3-none-any.whl</a>"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", file_index.as_uri())
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://example.invalid/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    sources = pip_index_sources([("--extra-index-url", "https://mirror.invalid/simple")])
    assert sources.index_urls == (
        file_index.as_uri(),
        "https://example.invalid/simple",
        "https://mirror.invalid/simple",
    )
    assert sources.find_links == (str(links),)
    only_local = type(sources)((file_index.as_uri(),), (str(links),))
    found = PackageIndex(only_local).projects(["LocalOnly", "filepkg", "absent"])
    assert [f.filename for f in found["localonly"].files] == ["localonly-1.0-py3-none-any.whl"]
    assert found["filepkg"].files[0].requires_python == ">=3.8"
    assert found["absent"].found is False
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert pip_index_sources().index_urls == ()


def test_default_index_comes_from_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    from pip._internal.models.index import PyPI

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    assert pip_index_sources().index_urls == (PyPI.simple_url.rstrip("/"),)


def test_every_command_of_a_procfile_chain_is_a_need(tmp_path: Path) -> None:
    from homedeploy.requirements.app_needs import simple_commands

    assert simple_commands("flask db upgrade; flask translate compile && exec gunicorn a:b") == [
        ["flask", "db", "upgrade"],
        ["flask", "translate", "compile"],
        ["gunicorn", "a:b"],
    ]
    assert simple_commands("FLASK_APP=x newrelic-admin run-program gunicorn x:app") == [
        ["newrelic-admin", "run-program", "gunicorn", "x:app"]
    ]
    (tmp_path / "Procfile").write_text(
        "release: python -m flask db upgrade\n"
        "web: flask db upgrade; gunicorn app:app\n"
        "worker: rq worker\n"
    )
    (tmp_path / "app.py").write_text("from flask import Flask\n")
    needs = {need.dist: need for need in app_needs(tmp_path)}
    assert needs["gunicorn"].source == "Procfile:2"
    assert needs["rq"].why == "the Procfile's worker process runs rq"
    assert needs["Flask"].certainty == "certain"


def test_certainty_follows_the_import_path(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: gunicorn 'app:create_app()'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text(
        "import os\nfrom flask import Flask\n\n"
        "def create_app():\n    from app import views  # noqa\n    return Flask(__name__)\n\n"
        "def report():\n    import openpyxl\n\n"
        "if os.environ.get('SENTRY'):\n    import sentry_sdk\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
    )
    (tmp_path / "app" / "views.py").write_text("import markdown\n")
    (tmp_path / "cli.py").write_text("import click_plugins\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import pytest\n")
    needs = {need.dist: need.certainty for need in app_needs(tmp_path)}
    assert needs["Markdown"] == "certain"  # imported by the factory gunicorn calls
    assert needs["openpyxl"] == "likely"
    assert needs["sentry-sdk"] == "likely"
    assert needs["ujson"] == "optional"
    assert needs["click-plugins"] == "likely"  # a module no process is seen to load
    assert "pytest" not in needs


def test_the_import_check_runs_gunicorn_alone_from_a_chain() -> None:
    from homedeploy.doctor.import_check import check_config_command

    command = check_config_command("flask db upgrade; flask translate compile; gunicorn m:app")
    assert command == "gunicorn --check-config m:app"
    assert check_config_command("gunicorn app:app | tee log") is None
    assert check_config_command("a; gunicorn 'x:y;z'") is None


def test_a_pin_without_trailing_zeros_finds_the_release_it_names() -> None:
    # ``six==1.17`` installs 1.17.0 (PEP 440): it is on the index, not "missing".
    wheel = DistFile("six-1.17.0-py2.py3-none-any.whl", "u", "1.17.0", True, None, False, None)
    project = ProjectFiles("six", True, [wheel])
    assert project.files_for("1.17") == project.files_for("1.17.0") == [wheel]
    assert project.files_for("1.18") == []


def test_an_old_vendored_six_is_found_with_the_imports_of_its_moves() -> None:
    import io
    import zipfile

    from homedeploy.requirements import startup_imports

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("srv/six.py", '__version__ = "1.10.0"\n')
        archive.writestr("srv/vendor/six.py", '__version__ = "1.16.0"\n')  # fixed: ignored
        archive.writestr("srv/a.py", "from .six.moves import urllib\n")  # relative
        archive.writestr("srv/sub/b.py", "from ..six.moves.urllib.parse import quote\n")
        archive.writestr("srv/c.py", "import srv.six.moves.queue\n")
        archive.writestr("srv/d.py", "from srv.six import moves\n")  # an attribute: fine
        archive.writestr(
            "srv/e.py", "try:\n    from srv.six.moves import x\nexcept ImportError:\n    x = 1\n"
        )
        archive.writestr("srv/f.py", "def later():\n    from srv.six.moves import y\n")
        archive.writestr("srv/tests/test_g.py", "from srv.six.moves import z\n")
    with zipfile.ZipFile(buffer) as archive:
        copies = startup_imports._vendored_six(archive)
        assert copies == {"srv.six": "1.10.0", "srv.vendor.six": "1.16.0"}
        old = sorted(module for module, version in copies.items() if startup_imports._old(version))
        hits = startup_imports._six_moves_imports(archive, old)
    assert sorted((file, line) for file, line, _ in hits) == [
        ("srv/a.py", 1),
        ("srv/c.py", 1),
        ("srv/sub/b.py", 1),
    ]
