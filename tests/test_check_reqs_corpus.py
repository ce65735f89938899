"""A corpus of real-world-shaped Flask projects: each line's verdict and doctor's verdict.

Every case is a small tree with one trait seen on real public projects (a chained Procfile,
workers, lazily imported extras, imports only dependencies install, test/migration/CLI code,
conditional imports, import names that differ from their distribution, psycopg 2 vs 3, a curated
file with unused lines, a framework major upgrade with its extensions, a pre-release newest
version, an edited requirements.in, old pins that cannot build on the target Python). The index
is tests/local_index.py's CORPUS on 127.0.0.1, with real wheels pip resolves against.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import invoke
from doctor_apps import make_app
from local_index import CORPUS, LocalIndex, pip_env

from homedeploy.doctor.engine import run_doctor

APP = (
    "from flask import Flask\n\n"
    "app = Flask(__name__)\n\n\n"
    '@app.route("/")\n'
    "def index():\n"
    '    return "hello"\n'
)


@dataclass
class Case:
    """A project (files over the good app), the verdicts expected per requirement name
    (``(verdict, severity)``), the doctor verdict, and names that must not get a row."""

    files: dict[str, str]
    lines: dict[str, tuple[str, str]]
    doctor: str
    absent: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    replacements: dict[str, str] = field(default_factory=dict)
    mode: str = "curated"


FREEZE_FILLER = "".join(f"unusedpkg{n}==1.0\n" for n in range(44))

CASES: dict[str, Case] = {
    "chained-procfile": Case(
        {
            "Procfile": "web: flask db upgrade; flask translate compile && gunicorn app:app\n",
            "app.py": APP.replace(
                "app = Flask(__name__)\n",
                "from flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n"
                "app = Flask(__name__)\ndb = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n",
            ),
            "requirements.txt": "Flask==3.1.1\nFlask-SQLAlchemy==3.1.1\nFlask-Migrate==4.0.5\n"
            "gunicorn==23.0.0\n",
            "migrations/env.py": "from alembic import context\n",
        },
        {"gunicorn": ("keep", "info"), "flask-migrate": ("keep", "info")},
        "pass",
        reasons={"gunicorn": "the Procfile's web process runs gunicorn"},
    ),
    "chained-procfile-missing-gunicorn": Case(
        {
            "Procfile": "web: flask db upgrade; gunicorn app:app\n",
            "requirements.txt": "Flask==3.1.1\n",
        },
        {"gunicorn": ("add", "error")},
        "fail",
    ),
    "workers": Case(
        {
            "Procfile": "web: gunicorn app:app\nworker: celery -A tasks worker\n"
            "jobs: rq worker default\n",
            "tasks.py": "import redis\n",
            "requirements.txt": "Flask\ngunicorn\ncelery==5.3.6\n",
        },
        {"celery": ("keep", "info"), "rq": ("add", "error")},
        "fail",
        absent=("redis",),  # rq installs it
        reasons={"celery": "worker process runs celery"},
    ),
    "lazily-imported-extra": Case(
        {
            "forms.py": "from flask_wtf import FlaskForm\nfrom wtforms import StringField\n"
            "from wtforms.validators import DataRequired, Email\n\n"
            "class Register(FlaskForm):\n"
            "    email = StringField(validators=[DataRequired(), Email()])\n",
            "app.py": APP + "import forms  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\nFlask-WTF==1.2.1\n",
        },
        {"email-validator": ("add", "error")},
        "fail",
        reasons={"email-validator": "'email' extra"},
    ),
    "extra-kept-in-a-freeze": Case(
        {
            "forms.py": "from wtforms.validators import Email\n",
            "app.py": APP + "import forms  # noqa\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==23.0.0\nWTForms==3.1.2\n"
            "email-validator==2.1.0\nsix==1.17.0\n" + FREEZE_FILLER,
        },
        {
            "email-validator": ("keep", "info"),
            "wtforms": ("keep", "info"),
            "six": ("drop", "warning"),
            "unusedpkg0": ("drop", "error"),  # not on the index: the build fails as it stands
        },
        "fail",
        mode="freeze",
    ),
    "transitive-only-imports": Case(
        {
            "app.py": APP
            + "import click\nimport werkzeug\nimport sqlalchemy\nimport wtforms\nimport alembic\n"
            "import flask_wtf\nimport flask_migrate\n",
            "requirements.txt": "Flask-WTF==1.2.1\nFlask-Migrate==4.0.5\ngunicorn\n",
        },
        {"flask-wtf": ("keep", "info"), "flask-migrate": ("keep", "info")},
        "pass",
        absent=("flask", "click", "werkzeug", "sqlalchemy", "wtforms", "alembic"),
    ),
    "tests-migrations-cli": Case(
        {
            "tests/test_app.py": "import pytest\nimport faker\n",
            "migrations/versions/001.py": "import sqlalchemy_utils\n",
            "scripts/seed.py": "import faker\n",
            "manage.py": "from flask_script import Manager\n",
            "docs/conf.py": "import sphinx_rtd_theme\n",
            "requirements.txt": "Flask\ngunicorn\n",
        },
        {"flask": ("keep", "info")},
        "pass",
        absent=("pytest", "faker", "sqlalchemy-utils", "flask-script", "sphinx-rtd-theme"),
    ),
    "conditional-and-function-imports": Case(
        {
            "app.py": APP
            + "import os\n\nif os.environ.get('EXPORT', ''):\n    import requests\n\n\n"
            "def export():\n    import openpyxl\n    return openpyxl\n",
            "requirements.txt": "Flask\ngunicorn\n",
        },
        {"openpyxl": ("add", "warning"), "requests": ("add", "warning")},
        "pass",
    ),
    "import-names-differ": Case(
        {
            "bot.py": "import linebot\nimport opencc\nfrom PIL import Image\nimport yaml\n",
            "app.py": APP + "import bot  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\nline-bot-sdk==3.5.0\n"
            "opencc-python-reimplemented==0.1.7\nPillow==10.4.0\nPyYAML==6.0.2\n",
        },
        {
            "line-bot-sdk": ("keep", "info"),
            "opencc-python-reimplemented": ("keep", "info"),
            "pillow": ("keep", "info"),
        },
        "pass",
        absent=("linebot", "opencc", "opencc-python"),
    ),
    "psycopg-3": Case(
        {
            "db.py": "import psycopg\nURL = 'postgresql+psycopg://localhost/app'\n",
            "app.py": APP + "import db  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\npsycopg==3.1.18\n",
        },
        {"psycopg": ("keep", "info")},
        "pass",
        absent=("psycopg2-binary", "psycopg2"),
    ),
    "psycopg-3-plain-url": Case(
        {
            "db.py": "import psycopg\nURL = 'postgres://localhost/app'\n",
            "app.py": APP + "import db  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\npsycopg==3.1.18\n",
        },
        {"psycopg": ("keep", "info")},
        "pass",
        absent=("psycopg2-binary", "psycopg2"),
    ),
    "optional-import-of-a-kept-package": Case(
        {
            "app.py": APP
            + "from whitenoise import WhiteNoise\napp.wsgi_app = WhiteNoise(app.wsgi_app)\n",
            "requirements.txt": "Flask\ngunicorn\nwhitenoise==6.6.0\nBrotli==1.1.0\n",
        },
        {"whitenoise": ("keep", "info"), "brotli": ("keep", "info")},
        "pass",
    ),
    "old-gunicorn-imports-pkg-resources": Case(
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==19.9.0\n",
        },
        {"gunicorn": ("keep", "info"), "setuptools": ("add", "error")},
        "fail",
        reasons={"setuptools": "gunicorn 19.9.0 imports pkg_resources at module level"},
        replacements={"setuptools": "setuptools==70.3.0"},
    ),
    "old-gunicorn-with-its-own-six": Case(
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==19.7.1\n",
        },
        # 19.10.0, the newest 19.x, ships the same six: the nearest release that starts is
        # in the next major.
        {"gunicorn": ("repin", "error")},
        "fail",
        absent=("setuptools",),
        reasons={
            "gunicorn": "cannot start on Python 3.14: it ships its own six 1.8.0 (gunicorn.six) "
            "and imports gunicorn.six.moves at module level (gunicorn/_compat.py:6"
        },
        replacements={"gunicorn": "gunicorn==21.2.0"},
    ),
    "old-gunicorn-with-its-own-six-before-3.12": Case(
        {
            ".python-version": "3.11\n",
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==19.7.1\n",
        },
        {"gunicorn": ("keep", "info")},  # six's old import hook still works there
        "pass",
        absent=("setuptools",),  # Heroku installs it for 3.10-3.12
    ),
    "gunicorn-guarding-pkg-resources": Case(
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==21.2.0\n",
        },
        {"gunicorn": ("keep", "info")},
        "pass",
        absent=("setuptools",),
    ),
    "gevent-worker-extra": Case(
        {
            "Procfile": "web: gunicorn -k gevent app:app\n",
            "requirements.txt": "Flask\ngevent\ngunicorn\n",
        },
        {"gevent": ("keep", "info"), "packaging": ("add", "error")},
        "fail",
        reasons={"packaging": "gunicorn 23.0.0's 'gevent' extra requires it"},
    ),
    "pure-wheel-of-a-compiled-release": Case(
        {
            "app.py": APP + "import ormlib\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==23.0.0\normlib==2.0.0\n",
        },
        {"ormlib": ("repin", "warning"), "flask": ("keep", "info")},
        "pass",
        reasons={"ormlib": "only from its pure-Python wheel"},
        replacements={"ormlib": "ormlib==2.0.40"},
    ),
    "psycopg2-pinned": Case(
        {
            "db.py": "import psycopg2\nURL = 'postgresql://localhost/app'\n",
            "app.py": APP + "import db  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\npsycopg2==2.9.9\n",
        },
        {"psycopg2": ("keep", "warning")},
        "pass",
        absent=("psycopg2-binary",),
    ),
    "exported-with-markers": Case(
        {
            # poetry export / uv export style: every line carries the project's Python range,
            # which holds on the target (3.14) but not for the interpreter running pip here.
            "requirements.txt": 'flask==3.1.1 ; python_version >= "3.12"\n'
            'gunicorn==23.0.0 ; python_version >= "3.12"\n'
            'click==8.1.7 ; python_version >= "3.12"\n'
            'colorama==0.4.6 ; platform_system == "Windows"\n',
        },
        {"flask": ("keep", "info"), "gunicorn": ("keep", "info"), "colorama": ("keep", "info")},
        "pass",
    ),
    "psycopg2-unpinned": Case(
        {
            "db.py": "import psycopg2\n",
            "app.py": APP + "import db  # noqa\n",
            "requirements.txt": "Flask\ngunicorn\npsycopg2\n",
        },
        {"psycopg2": ("keep", "warning"), "flask": ("keep", "info")},
        "pass",
        absent=("psycopg2-binary",),
        reasons={"psycopg2": "builds 2.9.9 from source"},
    ),
    "curated-unused-lines": Case(
        {"requirements.txt": "Flask\ngunicorn\nrequests==2.31.0\nsix==1.17.0\n"},
        {"requests": ("keep", "info"), "six": ("keep", "info")},
        "pass",
        reasons={"six": "nothing the app runs imports it"},
    ),
    "framework-major-upgrade": Case(
        {
            "app.py": APP + "from flask_login import LoginManager\n",
            "requirements.txt": "Flask==0.12.5\nFlask-Login==0.4.0\ngunicorn==23.0.0\n",
        },
        {"flask": ("repin", "error"), "flask-login": ("repin", "error")},
        "fail",
        replacements={"flask": "Flask==3.0.0", "flask-login": "Flask-Login==0.6.3"},
        reasons={"flask-login": "Flask moves from 0.12.5 to 3.0.0"},
    ),
    "working-pins-stay": Case(
        {
            "app.py": APP + "from flask_caching import Cache\n",
            "requirements.txt": "Flask==3.0.0\nFlask-Caching==2.1.0\ngunicorn==21.2.0\n",
        },
        {
            "flask": ("keep", "info"),
            "flask-caching": ("keep", "info"),
            "gunicorn": ("keep", "info"),
        },
        "pass",
    ),
    "source-pin-the-set-outgrew": Case(
        {
            "app.py": APP + "import needsnew\n",
            "requirements.txt": "Flask\ngunicorn\nneedsnew==1.0\noldpure==0.24\n",
        },
        {"oldpure": ("repin", "error"), "needsnew": ("keep", "info")},
        "fail",
        replacements={"oldpure": "oldpure==2.2.0"},
        reasons={"oldpure": "does not fit what needsnew require(s)"},
    ),
    "pre-release-newest": Case(
        {
            "app.py": APP + "import heavylib\n",
            "requirements.txt": "Flask\ngunicorn\nheavylib==2.15.0\n",
        },
        {"heavylib": ("repin", "error")},
        "fail",
        replacements={"heavylib": "heavylib==2.16.1"},
    ),
    "old-pins-cannot-build": Case(
        {
            "app.py": APP + "import numpy\nimport scipy\nimport sqlalchemy\n",
            "requirements.txt": "Flask\ngunicorn\nnumpy==1.15.4\nscipy==0.11.0\n"
            "SQLAlchemy==2.0.30\ngreenlet==3.0.1\nFlask-Mail==0.9.1\n",
        },
        {
            "numpy": ("repin", "error"),
            "scipy": ("repin", "error"),
            "greenlet": ("repin", "error"),
            "flask-mail": ("keep", "warning"),
        },
        "fail",
        replacements={
            "numpy": "numpy==2.3.0",
            "scipy": "scipy==1.16.0",
            "greenlet": "greenlet==3.2.3",
        },
        reasons={"numpy": "building it from source fails there"},
    ),
    "conflicting-pin-set": Case(
        {
            "Procfile": "web: gunicorn app:app\nworker: taskq worker\n",
            "app.py": APP + "import redisish\nimport stayput\nimport taskq\n",
            "requirements.txt": "Flask==3.1.1\ngunicorn==23.0.0\ntaskq==4.4.1\n"
            "kombuish==4.6.8\nredisish==3.4.1\nstayput==1.0.0\n",
        },
        {
            "taskq": ("repin", "error"),
            "kombuish": ("repin", "error"),
            "redisish": ("keep", "info"),
            "stayput": ("keep", "info"),
            "flask": ("keep", "info"),
        },
        "fail",
        reasons={
            "taskq": "rejects as invalid metadata",
            "kombuish": "taskq 5.2.1 (moved from 4.4.1) requires kombuish",
        },
        replacements={"taskq": "taskq==5.2.1", "kombuish": "kombuish==5.2.2"},
    ),
}


@pytest.fixture(scope="module")
def corpus_index() -> Iterator[LocalIndex]:
    with LocalIndex(CORPUS) as served:
        yield served


@pytest.fixture
def env(corpus_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in pip_env(corpus_index.url, tmp_path / "cache").items():
        monkeypatch.setenv(key, value)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    return make_app(tmp_path / "app", {".python-version": "3.14\n", **files}, git_init=False)


def check(app: Path, *args: str) -> tuple[int, dict]:
    result = invoke("check-reqs", "--app", str(app), *args, "--json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def rows(report: dict) -> dict[str, dict]:
    from packaging.utils import canonicalize_name

    return {canonicalize_name(line["name"] or line["text"]): line for line in report["lines"]}


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("name", list(CASES))
def test_corpus_verdicts(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    app = project(tmp_path, case.files)
    _, report = check(app)
    assert report["mode"] == case.mode
    found = rows(report)
    for dist, (verdict, severity) in case.lines.items():
        assert dist in found, (dist, sorted(found))
        line = found[dist]
        assert (line["verdict"], line["severity"]) == (verdict, severity), line
    for dist, text in case.reasons.items():
        assert text in found[dist]["reason"], found[dist]
    for dist, replacement in case.replacements.items():
        assert found[dist]["replacement"] == replacement, found[dist]
    for dist in case.absent:
        assert dist not in found, found[dist]
    doctor = run_doctor(app, offline=False)
    assert doctor.verdict == case.doctor, [(f.code, f.severity, f.message) for f in doctor.errors]


@pytest.mark.usefixtures("env")
def test_write_then_doctor_passes_for_the_cases_that_fail(tmp_path: Path) -> None:
    for name in (
        "framework-major-upgrade",
        "pre-release-newest",
        "old-pins-cannot-build",
        "source-pin-the-set-outgrew",
        "conflicting-pin-set",
        "old-gunicorn-imports-pkg-resources",
        "old-gunicorn-with-its-own-six",
        "gevent-worker-extra",
    ):
        app = project(tmp_path / name, CASES[name].files)
        code, report = check(app, "--write")
        assert code == 0, report
        assert run_doctor(app, offline=False).verdict == "pass", name
        written = (app / "requirements.txt").read_text()
        for replacement in CASES[name].replacements.values():
            assert replacement.lower() in written.lower(), (replacement, written)
            package = replacement.partition("==")[0].lower()
            pinned = [row for row in written.lower().splitlines() if row.startswith(package + "==")]
            assert len(pinned) == 1, written  # one version per package


@pytest.mark.usefixtures("env")
def test_write_keeps_every_line_of_an_exported_file(tmp_path: Path) -> None:
    app = project(tmp_path, CASES["exported-with-markers"].files)
    code, _ = check(app, "--write")
    assert code == 0
    written = (app / "requirements.txt").read_text()
    for pin in ("flask==3.1.1", "gunicorn==23.0.0", "click==8.1.7", "werkzeug==", "colorama"):
        assert pin in written, written


@pytest.mark.usefixtures("env")
def test_write_keeps_a_curated_file_whole(tmp_path: Path) -> None:
    app = project(tmp_path, CASES["curated-unused-lines"].files)
    code, _ = check(app, "--write")
    assert code == 0
    written = (app / "requirements.txt").read_text()
    assert "requests==2.31.0" in written
    assert "six==1.17.0" in written
    assert "gunicorn==" in written


@pytest.mark.usefixtures("env")
def test_edited_requirements_in_is_the_source_of_truth(tmp_path: Path) -> None:
    app = project(tmp_path, {"requirements.txt": "Flask\ngunicorn\nWTForms\n"})
    (app / "forms.py").write_text("import wtforms\n")
    code, _ = check(app, "--write")
    assert code == 0
    assert "wtforms==3.1.2" in (app / "requirements.txt").read_text()
    # The user edits requirements.in, as the header says, and writes again.
    source = app / "requirements.in"
    edited = source.read_text().replace("WTForms", "WTForms<3")
    source.write_text(edited)
    result = invoke("check-reqs", "--app", str(app), "--write")
    assert result.exit_code == 0, result.output
    assert "requirements.in is the source of truth" in result.stdout
    assert "wtforms==2.3.3" in (app / "requirements.txt").read_text()
    assert source.read_text() == edited
    backups = sorted(p.name for p in app.iterdir() if ".bak" in p.name)
    # A third run changes nothing: no new backup.
    result = invoke("check-reqs", "--app", str(app), "--write")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in app.iterdir() if ".bak" in p.name) == backups
    assert "unchanged" in result.stdout


@pytest.mark.usefixtures("env")
def test_doctor_fix_rewrites_requirements_as_check_reqs_write_does(tmp_path: Path) -> None:
    app = project(tmp_path, CASES["conflicting-pin-set"].files)
    before = (app / "requirements.txt").read_bytes()
    report = run_doctor(app, offline=False, fix=True)
    assert report.verdict == "pass", [(f.code, f.message) for f in report.errors]
    rewrites = [fix for fix in report.fixes_applied if fix.path == "requirements.txt"]
    assert len(rewrites) == 1, report.fixes_applied  # one rewrite answers every finding
    change = rewrites[0].change
    assert "check-reqs --write" in change
    assert "taskq==4.4.1 -> taskq==5.2.1 (" in change and "invalid metadata" in change
    assert "kombuish==4.6.8 -> kombuish==5.2.2 (taskq 5.2.1" in change
    assert rewrites[0].backup is not None
    assert (app / rewrites[0].backup).read_bytes() == before
    written = (app / "requirements.txt").read_text()
    assert "taskq==5.2.1" in written and "stayput==1.0.0" in written
    assert (app / "requirements.in").is_file()
    again = run_doctor(app, offline=False, fix=True)
    assert again.verdict == "pass" and not again.fixes_applied
    assert len(list(app.glob("requirements.txt.bak*"))) == 1
