"""doctor's config-var and data rules: variables read at import with nothing to provide them,
SQLite on the ephemeral disk, and Heroku's postgres:// handed to SQLAlchemy unrewritten."""

from __future__ import annotations

import json
from pathlib import Path

from homedeploy.doctor.engine import run_doctor
from homedeploy.project.config_vars import scan_source
from tests.doctor_apps import GOOD_APP, make_app


def _codes(project: Path) -> dict[str, list[tuple[str | None, int | None, str]]]:
    found: dict[str, list[tuple[str | None, int | None, str]]] = {}
    for finding in run_doctor(project).findings:
        found.setdefault(finding.code, []).append((finding.path, finding.line, finding.severity))
    return found


CONFIG = """\
import os
from os import environ as env


class Config:
    SECRET_KEY = os.environ["SECRET_KEY"]
    MAIL = env.get("MAIL_SERVER", "localhost")
    TOKEN = os.getenv("API_TOKEN")


def later():
    return os.environ["ONLY_AT_REQUEST"]


if __name__ == "__main__":
    print(os.environ["ONLY_WHEN_RUN"])
"""


def test_scan_finds_reads_with_and_without_defaults(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text(CONFIG)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import os\nos.environ['TEST_ONLY']\n")
    reads = {(r.name, r.line, r.has_default, r.at_import) for r in scan_source(tmp_path).reads}
    assert reads == {
        ("SECRET_KEY", 6, False, True),
        ("MAIL_SERVER", 7, True, True),
        ("API_TOKEN", 8, False, True),
        ("ONLY_AT_REQUEST", 12, False, False),
        ("ONLY_WHEN_RUN", 16, False, False),
    }


def test_unset_config_vars_are_errors_and_defaults_a_warning(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {"config.py": CONFIG})
    codes = _codes(project)
    # os.environ["SECRET_KEY"] raises KeyError; os.getenv("API_TOKEN") gives None (a warning).
    assert sorted(codes["config-var-unset"]) == [("config.py", 6, "error")]
    assert codes["config-var-defaulted"] == [("config.py", 7, "warning")]


def test_providers_silence_the_rule(tmp_path: Path) -> None:
    app_json = {"env": {"SECRET_KEY": {"generator": "secret"}}, "addons": ["heroku-redis"]}
    code = CONFIG + 'REDIS = os.environ["REDIS_URL"]\nPORT = os.environ["PORT"]\n'
    project = make_app(tmp_path / "app", {"config.py": code, "app.json": json.dumps(app_json)})
    (project / ".env").write_text("API_TOKEN=abc\nMAIL_SERVER=mail\n")
    codes = _codes(project)
    assert "config-var-unset" not in codes and "config-var-defaulted" not in codes


def test_database_url_without_addon_names_the_addon(tmp_path: Path) -> None:
    app = 'import os\n\nDATABASE = os.environ["DATABASE_URL"]\n' + GOOD_APP["app.py"]
    project = make_app(tmp_path / "app", {"app.py": app})
    report = run_doctor(project)
    (finding,) = [f for f in report.findings if f.code == "config-var-unset"]
    assert "heroku-postgresql" in (finding.fix or "")
    assert finding.heroku == "H10 (App crashed)"


def test_sqlite_file_on_the_dyno(tmp_path: Path) -> None:
    app = GOOD_APP["app.py"] + 'app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///site.db"\n'
    project = make_app(tmp_path / "app", {"app.py": app})
    assert _codes(project)["sqlite-on-dyno"] == [("app.py", 9, "warning")]


def test_sqlite_as_a_fallback_is_fine_when_the_addon_is_declared(tmp_path: Path) -> None:
    app = (
        "import os\n"
        + GOOD_APP["app.py"]
        + 'URL = os.environ.get("DATABASE_URL", "sqlite:///local.db")\n'
        + 'URL = URL.replace("postgres://", "postgresql://", 1)\n'
    )
    base = {"app.py": app, "db.py": "import sqlalchemy\n"}
    without = make_app(tmp_path / "a", base)
    assert "sqlite-on-dyno" in _codes(without)
    declared = make_app(
        tmp_path / "b", {**base, "app.json": json.dumps({"addons": ["heroku-postgresql"]})}
    )
    codes = _codes(declared)
    assert "sqlite-on-dyno" not in codes and "postgres-scheme" not in codes


def test_postgres_scheme_passed_to_sqlalchemy_unrewritten(tmp_path: Path) -> None:
    app = (
        "import os\n\nfrom flask_sqlalchemy import SQLAlchemy\n"
        + GOOD_APP["app.py"]
        + 'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n'
        + "db = SQLAlchemy(app)\n"
    )
    app_json = {"addons": ["heroku-postgresql:essential-0"]}
    project = make_app(tmp_path / "app", {"app.py": app, "app.json": json.dumps(app_json)})
    codes = _codes(project)
    assert codes["postgres-scheme"] == [("app.py", 12, "warning")]
    assert "config-var-unset" not in codes
