"""push --local as the dyno: add-ons as real servers, config vars, release phase, every route,
other process types, the real cause of a crash, and Heroku's Python.

Real venvs built by pip from the local file:// indexes, real gunicorn, a real PostgreSQL
(Debian's ``postgresql``: initdb into the rehearsal folder) and a real ``redis-server``, all on
127.0.0.1 and free ports. Tests that need a server skip when its binaries are absent (.ci/run
installs them).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from homedeploy.commands.rehearse import RehearsalOptions, run_rehearsal
from homedeploy.jsonout import to_json
from homedeploy.runtime import services
from homedeploy.runtime.rehearsal import RehearsalReport
from tests.conftest import invoke
from tests.doctor_apps import GOOD_APP, git, make_app
from tests.heroku_standin import HerokuStandIn
from tests.test_rehearsal import local_indexes_only

pytestmark = pytest.mark.slow
__all__ = ["local_indexes_only"]  # the autouse fixture: pip sees only the local indexes

PY311 = {".python-version": "3.11\n"}

needs_postgres = pytest.mark.skipif(
    not services.installed(services.POSTGRES), reason="PostgreSQL's server is not installed"
)
needs_redis = pytest.mark.skipif(
    not services.installed(services.REDIS), reason="redis-server is not installed"
)

POSTGRES_APP = """\
import os

from flask import Flask, redirect
from sqlalchemy import create_engine, text

SECRET_KEY = os.environ["SECRET_KEY"]
url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
engine = create_engine(url)
app = Flask(__name__)


def create_tables():
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (name text)"))
        connection.execute(text("INSERT INTO items VALUES ('first')"))


@app.route("/")
def index():
    return redirect("/items")


@app.route("/items")
def items():
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name FROM items")).scalars().all()
    return {"items": rows, "key_length": len(SECRET_KEY)}
"""

APP_JSON = {
    "name": "pg-app",
    "env": {"SECRET_KEY": {"description": "Flask's key", "generator": "secret"}},
    "addons": ["heroku-postgresql:essential-0"],
}


def _postgres_running(port: int | None) -> bool:
    if port is None:
        return False
    done = subprocess.run(["pgrep", "-f", f"-p {port}"], capture_output=True)
    return done.returncode == 0


@needs_postgres
def test_postgres_app_with_release_and_worker(tmp_path: Path) -> None:
    """app.json: heroku-postgresql and a generated SECRET_KEY; release creates the table;
    / redirects to a route that reads it; a worker must stay up 10 s."""
    project = make_app(
        tmp_path / "app",
        {
            **PY311,
            "app.py": POSTGRES_APP,
            "requirements.txt": "Flask\ngunicorn\nSQLAlchemy\npsycopg[binary]\n",
            "Procfile": (
                "web: gunicorn app:app\n"
                'release: python -c "import app; app.create_tables()"\n'
                'worker: python -c "import time; time.sleep(60)"\n'
            ),
            "app.json": json.dumps(APP_JSON),
        },
    )
    report = run_rehearsal(project)
    assert report.ok, (report.reason, report.message, report.log_tail)
    assert report.verdict == "pass"
    (postgres,) = report.services
    assert postgres.state == "started" and postgres.variable == "DATABASE_URL"
    assert report.config["DATABASE_URL"].startswith("heroku-postgresql")
    assert report.config["SECRET_KEY"] == "app.json generator: secret"
    assert report.release is not None and report.release.state == "done"
    assert [(p.path, p.status, p.redirects) for p in report.probes] == [("/", 200, ["/items"])]
    routes = {p.path: p for p in report.routes}
    assert routes["/items"].status == 200
    assert [p.state for p in report.processes] == ["up"]
    assert report.workdir is None and not _postgres_running(postgres.port)
    dumped = json.dumps(to_json(report))
    assert "postgres://" not in dumped  # the URL (and its password) is never in the report


COUNTING_RELEASE = """\
import os

import psycopg

with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
    connection.execute("CREATE TABLE IF NOT EXISTS deploys (n serial)")
    connection.execute("INSERT INTO deploys DEFAULT VALUES")
    print("deploys:", connection.execute("SELECT count(*) FROM deploys").fetchone()[0])
"""


@needs_postgres
def test_the_addon_database_outlives_the_rehearsal(tmp_path: Path) -> None:
    """As a Heroku Postgres add-on outlives releases, the project's database is kept: the next
    rehearsal's release phase finds the rows the previous one wrote; --fresh-addons starts
    empty again (and the server itself never outlives a rehearsal)."""
    project = make_app(
        tmp_path / "app",
        {
            **PY311,
            "requirements.txt": "Flask\ngunicorn\nSQLAlchemy\npsycopg[binary]\n",
            "release.py": COUNTING_RELEASE,
            "Procfile": "web: gunicorn app:app\nrelease: python release.py\n",
            "app.json": json.dumps({"addons": ["heroku-postgresql"]}),
        },
    )

    def deploys(report: RehearsalReport) -> tuple[bool, list[str]]:
        assert report.ok and report.release is not None, (report.reason, report.message)
        (postgres,) = report.services
        assert not _postgres_running(postgres.port)
        lines = [line for line in report.release.log_tail if line.startswith("deploys:")]
        return postgres.kept, lines

    store = services.project_store(f"{project.resolve()}:")
    try:
        _kept_database_across_rehearsals(project, deploys, store)
    finally:
        # The kept cluster lives outside tmp_path (the cache, or as root a folder of the
        # temporary directory): leave none behind to crowd out a user's kept databases.
        shutil.rmtree(store.parent, ignore_errors=True)


def _kept_database_across_rehearsals(
    project: Path, deploys: Callable[[RehearsalReport], tuple[bool, list[str]]], store: Path
) -> None:
    assert deploys(run_rehearsal(project)) == (False, ["deploys: 1"])
    assert deploys(run_rehearsal(project)) == (True, ["deploys: 2"])
    result = invoke("push", "--local", str(project))
    assert result.exit_code == 0 and "data kept from the last rehearsal" in result.stdout
    fresh = run_rehearsal(project, options=RehearsalOptions(fresh_addons=True))
    assert deploys(fresh) == (False, ["deploys: 1"])
    assert deploys(run_rehearsal(project)) == (True, ["deploys: 2"])
    # In use by another rehearsal of the project: this one gets a throwaway database.
    with (store.parent / "lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        busy = run_rehearsal(project)
    assert deploys(busy) == (False, ["deploys: 1"])
    assert "in use by another rehearsal" in (busy.services[0].detail or "")
    assert deploys(run_rehearsal(project)) == (True, ["deploys: 3"])


@needs_redis
def test_redis_app_and_a_config_var_from_dotenv(tmp_path: Path) -> None:
    app = (
        "import os\n\nimport redis\nfrom flask import Flask\n\n"
        'API_TOKEN = os.environ["API_TOKEN"]\n'
        'client = redis.from_url(os.environ["REDIS_URL"])\n'
        "app = Flask(__name__)\n\n\n"
        '@app.route("/")\ndef index():\n    return "ok"\n\n\n'
        '@app.route("/hits")\ndef hits():\n    return str(client.incr("hits"))\n'
    )
    project = make_app(
        tmp_path / "app",
        {
            **PY311,
            "app.py": app,
            "requirements.txt": "Flask\ngunicorn\nredis\n",
            ".gitignore": ".env\n__pycache__/\n",
        },
    )
    (project / ".env").write_text("API_TOKEN=from-dotenv\n")  # never committed
    report = run_rehearsal(project)
    assert report.ok, (report.reason, report.message, report.log_tail)
    (redis,) = report.services
    assert redis.addon == "heroku-redis" and "REDIS_URL" in redis.why
    assert report.config["API_TOKEN"] == ".env"
    assert {p.path: p.status for p in report.routes} == {"/hits": 200}


def test_release_phase_failure_stops_before_web(tmp_path: Path) -> None:
    release = (
        "release: python -c \"import sys; print('migrating...'); "
        "sys.exit('relation users does not exist')\"\n"
    )
    project = make_app(tmp_path / "app", {**PY311, "Procfile": GOOD_APP["Procfile"] + release})
    report = run_rehearsal(project)
    assert report.reason == "release-failed", report.message
    assert report.release is not None and report.release.returncode == 1
    assert "relation users does not exist" in (report.message or "")
    assert "migrating..." in report.log_tail
    assert report.boot_seconds is None  # web never started
    assert "not deployed" in (report.heroku or "")


def test_500_on_a_route_other_than_root(tmp_path: Path) -> None:
    app = GOOD_APP["app.py"] + (
        '\n\n@app.route("/report")\ndef report():\n    return str(1 / 0)\n'
        '\n\n@app.route("/user/<name>")\ndef user(name):\n    return 1 / 0\n'
    )
    project = make_app(tmp_path / "app", {**PY311, "app.py": app})
    report = run_rehearsal(project)
    assert report.reason == "route-error", report.message
    assert [p.status for p in report.probes] == [200]
    failing = {p.path: p for p in report.routes}
    assert list(failing) == ["/report"]  # /user/<name> needs a parameter: not requested
    assert failing["/report"].status == 500
    assert any("ZeroDivisionError" in line for line in failing["/report"].log)
    assert report.cause is not None and report.cause.path == "app.py"
    assert "ZeroDivisionError" in (report.message or "")


def test_crashed_worker(tmp_path: Path) -> None:
    worker = "worker: python -c \"import sys; sys.exit('no queue configured')\"\n"
    project = make_app(tmp_path / "app", {**PY311, "Procfile": GOOD_APP["Procfile"] + worker})
    report = run_rehearsal(project)
    assert report.reason == "process-crashed", report.message
    assert "worker" in (report.message or "") and "code 1" in (report.message or "")
    assert "no queue configured" in report.log_tail


def test_crash_cause_is_printed_first(tmp_path: Path) -> None:
    settings = (
        "import os\n\n"
        'if not os.environ.get("MAIL_SERVER"):\n'
        '    raise Exception("MAIL_SERVER is required.")\n'
    )
    app = "import settings\n" + GOOD_APP["app.py"]
    project = make_app(tmp_path / "app", {**PY311, "app.py": app, "settings.py": settings})
    result = invoke("push", "--local", str(project), env={"MAIL_SERVER": "set in my shell"})
    assert result.exit_code == 1
    err = result.stderr
    assert "[import-crash]" in err
    assert "cause: Exception: MAIL_SERVER is required." in err
    assert "at: settings.py:4: raise Exception" in err
    assert err.index("cause:") < err.index("--- log")


def test_config_var_from_env_option_and_required_in_app_json(tmp_path: Path) -> None:
    app = "import os\n" + GOOD_APP["app.py"] + 'TOKEN = os.environ["TOKEN"]\n'
    app_json = {"env": {"TOKEN": {"description": "an API token"}}}
    project = make_app(tmp_path / "app", {**PY311, "app.py": app, "app.json": json.dumps(app_json)})
    missing = run_rehearsal(project)
    assert missing.reason == "config-missing" and "TOKEN" in (missing.message or "")
    report = run_rehearsal(project, options=RehearsalOptions(env=["TOKEN=abc"]))
    assert report.ok, (report.reason, report.message, report.log_tail)
    assert report.config == {"TOKEN": "--env"}


def test_missing_server_is_not_rehearsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "redis_binary", lambda: None)
    app_json = {"addons": ["heroku-redis:mini"]}
    project = make_app(tmp_path / "app", {**PY311, "app.json": json.dumps(app_json)})
    result = invoke("push", "--local", "--json", str(project))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "not rehearsed" and data["ok"] is False
    assert data["reason"] == "service-missing" and "apt-get install redis-server" in data["fix"]


def test_python_fallback_is_said_loudly(tmp_path: Path) -> None:
    """Heroku's default (3.14.x) is not installed here: the nearest Python runs, and it says so."""
    from homedeploy.project.python_version import requested_python
    from homedeploy.runtime.build import heroku_python

    # The stdlib's server: the local indexes may hold no wheels for the fallback Python.
    web = "web: python -m http.server $PORT --bind 0.0.0.0\n"
    files = {".python-version": "3.14\n", "requirements.txt": "", "Procfile": web}
    project = make_app(tmp_path / "app", files)
    choice = heroku_python(requested_python(project), try_uv=False)
    if choice.exact:
        pytest.skip("Heroku's exact Python 3.14 is installed here")
    result = invoke("push", "--local", str(project))
    assert result.exit_code == 0, result.stderr
    assert f"APPROXIMATE: Heroku uses {choice.heroku_version}" in result.stdout
    assert "note: APPROXIMATE" in result.stdout
    result = invoke("push", "--local", "--json", str(project))
    data = json.loads(result.stdout)
    assert data["python_exact"] is False and data["python_heroku"] == choice.heroku_version
    assert data["python"] == choice.interpreter.version


def test_pins_for_heroku_python_are_relaxed_on_another_minor(tmp_path: Path) -> None:
    from homedeploy.runtime.build import _top_level_requirements

    (tmp_path / "requirements.txt").write_text(
        "flask==3.1.3 --hash=sha256:abc\ngunicorn==23.0.0 ; sys_platform == 'linux'\n"
        "-r more.txt\nrequests[socks]>=2\n"
    )
    relaxed = _top_level_requirements(tmp_path, tmp_path / "out.txt")
    assert relaxed is not None and relaxed[1] == "requirements.txt without its pins"
    assert (tmp_path / "out.txt").read_text().splitlines() == [
        "flask",
        'gunicorn; sys_platform == "linux"',
        "-r more.txt",
        "requests[socks]",
    ]
    (tmp_path / "requirements.in").write_text("flask\n")
    assert _top_level_requirements(tmp_path, tmp_path / "out.txt") == (
        tmp_path / "requirements.in",
        "requirements.in",
    )


def test_env_file_option_and_bad_env_pair(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", PY311, commit=False)
    git(project, "add", "--all")
    git(project, "commit", "-qm", "app")
    result = invoke("push", "--local", "--env", "NOT VALID", str(project))
    assert result.exit_code == 2 and "NAME=value" in result.stderr
    result = invoke("push", "--local", "--env-file", str(tmp_path / "nope.env"), str(project))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not os.environ.get("HOMEDEPLOY_SYS_PATH")


def test_real_config_vars_of_the_app_without_its_database(
    tmp_path: Path, standin: HerokuStandIn
) -> None:
    """--app NAME with a key: the app's config vars (never printed), its add-on URLs left out."""
    app = standin.add_app("real-app")
    app.config.update({"API_TOKEN": "secret-from-heroku", "DATABASE_URL": "postgres://real/db"})
    code = "import os\n" + GOOD_APP["app.py"] + 'TOKEN = os.environ["API_TOKEN"]\n'
    project = make_app(tmp_path / "app", {**PY311, "app.py": code})
    result = invoke("push", "--local", "--app", "real-app", "--json", str(project))
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["config"] == {"API_TOKEN": "config vars of real-app"}
    assert any("DATABASE_URL of real-app not used" in note for note in data["notes"])
    assert "secret-from-heroku" not in result.stdout + result.stderr


def test_other_redis_addon_names_get_the_local_server(tmp_path: Path) -> None:
    from homedeploy.commands.rehearse import _needed_services
    from homedeploy.runtime.dyno_config import DynoConfig

    (tmp_path / "app.py").write_text(
        'import os\nURL = os.environ.get("REDISCLOUD_URL") or os.environ.get("REDISTOGO_URL")\n'
    )
    needed, variables = _needed_services(tmp_path, None, DynoConfig())
    assert needed == {"heroku-redis": "the code reads REDISTOGO_URL (app.py:2)"}
    assert variables["heroku-redis"] == ["REDIS_URL", "REDISTOGO_URL", "REDISCLOUD_URL"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the temporary folder is used only as root")
def test_kept_databases_never_live_in_a_temporary_folder_someone_else_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root the kept clusters live in the world-writable temporary directory when the server's
    user cannot reach the cache: a symlink or a folder another user made (or can write) there is
    refused (its clusters, credentials and configuration would be theirs), not followed."""
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="homedeploy-test-tmp-"))  # the server's user reaches it
    shared.chmod(0o1777)
    try:
        _refuse_planted_folders(tmp_path, shared, monkeypatch)
    finally:
        shutil.rmtree(shared)


def _refuse_planted_folders(tmp_path: Path, shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "private" / "cache"))
    (tmp_path / "private").mkdir(mode=0o700)
    planted = shared / f"homedeploy-addons-{os.geteuid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted.symlink_to(elsewhere)
    with pytest.raises(OSError):
        services.addons_root()
    planted.unlink()
    planted.mkdir()
    os.chown(planted, 65534, 65534)  # made by nobody
    with pytest.raises(OSError):
        services.addons_root()
    planted.rmdir()
    assert services.addons_root() == planted  # made by us now: private (0711)
    assert planted.stat().st_mode & 0o777 == 0o711
    planted.chmod(0o777)
    with pytest.raises(OSError):
        services.addons_root()
    planted.rmdir()
    planted.symlink_to(elsewhere)
    if services.postgres_bindir() is None:
        return
    service = services.start_service(
        services.POSTGRES, shared / "run" / "pg", "test", project_key="some project"
    )
    try:
        assert service.report.state == "started" and not service.report.kept
        assert "cannot be kept" in (service.report.detail or "")
    finally:
        service.stop()
    assert list(elsewhere.iterdir()) == []  # nothing written through the symlink


@needs_postgres
def test_a_killed_rehearsal_leaves_its_kept_database_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rehearsal killed with SIGKILL (or SIGTERM) stops nothing: its postgres keeps serving the
    kept cluster. The next rehearsal of the project stops that server and starts the same cluster
    again (its data and credentials), instead of finding it "broken" (postmaster.pid in use),
    replacing it with an empty one and leaving the old server running."""
    import shutil
    import tempfile

    cache = Path(tempfile.mkdtemp(prefix="homedeploy-test-cache-"))  # the server's user reaches it
    cache.chmod(0o755)
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(cache))
    run = cache / "run"
    run.mkdir()
    run.chmod(0o711)
    first = services.start_service(services.POSTGRES, run / "one", "test", project_key="killed")
    second = None
    try:
        assert first.report.state == "started", first.report.detail
        orphan = first.process
        assert orphan is not None and first.store_lock is not None
        first.store_lock.close()  # the rehearsal dies: its lock goes, its server stays
        first.store_lock = None
        second = services.start_service(
            services.POSTGRES, run / "two", "test", project_key="killed"
        )
        assert second.report.state == "started", second.report.detail
        assert second.report.kept and second.report.detail is None
        assert second.report.url == first.report.url.replace(
            f":{first.report.port}/", f":{second.report.port}/"
        )  # the same user, password and database
        assert orphan.poll() is not None  # the old server was stopped
    finally:
        first.stop()
        if second is not None:
            second.stop()
        shutil.rmtree(cache, ignore_errors=True)


def test_ctrl_c_during_the_release_phase_stops_the_release(tmp_path: Path) -> None:
    """The release command runs in its own session, so the terminal's Ctrl-C reaches only
    homedeploy: the interrupted rehearsal must stop the release itself, not leave it running."""
    import _thread
    import threading
    import time

    from homedeploy.runtime.rehearsal import run_release

    pid_file = tmp_path / "release.pid"
    (tmp_path / "app").mkdir()
    report = RehearsalReport(ok=False, project=str(tmp_path))

    def interrupt_once_started() -> None:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_release(
            tmp_path / "app",
            tmp_path,
            f"echo $$ > {pid_file}; exec sleep 60",
            {"PATH": os.environ["PATH"]},
            report,
            lambda _line: None,
        )
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
