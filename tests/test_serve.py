"""``homedeploy serve``: real gunicorn processes on 127.0.0.1, checked and stopped like a dyno."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, invoke, run_homedeploy

FLASK_APP = "from flask import Flask\n{name} = Flask(__name__)\n"


def scaffold(project: Path) -> Path:
    result = invoke("init", str(project), "--no-git")
    assert result.exit_code == 0, result.output
    return project


def test_init_then_serve_check(tmp_project: Path, port: int) -> None:
    scaffold(tmp_project)
    completed = run_homedeploy("serve", str(tmp_project), "--check", "--port", str(port))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "200" in completed.stdout and "ok" in completed.stdout


def test_serve_check_json_shape(tmp_project: Path, port: int) -> None:
    scaffold(tmp_project)
    completed = run_homedeploy(
        "serve", str(tmp_project), "--check", "--json", "--port", str(port), "--path", "/missing"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout)
    assert report["ok"] is True
    assert isinstance(report["boot_seconds"], float)
    assert [(p["path"], p["status"]) for p in report["probes"]] == [("/", 200), ("/missing", 404)]
    assert all(isinstance(p["seconds"], float) for p in report["probes"])
    assert any("Listening at" in line for line in report["log_tail"])


def test_dotenv_is_loaded_and_500_fails(tmp_project: Path, port: int) -> None:
    (tmp_project / "app.py").write_text(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n\n"
        "@app.get('/')\ndef index():\n    return os.environ['GREETING']\n\n"
        "@app.get('/boom')\ndef boom():\n    raise RuntimeError('kaboom')\n"
    )
    (tmp_project / "Procfile").write_text("web: gunicorn app:app\n")
    (tmp_project / ".env").write_text("GREETING=hello from dotenv\n")
    ok = run_homedeploy("serve", str(tmp_project), "--check", "--json", "--port", str(port))
    assert json.loads(ok.stdout)["ok"] is True, ok.stdout
    bad = run_homedeploy(
        "serve", str(tmp_project), "--check", "--json", "--port", str(port), "--path", "/boom"
    )
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert report["probes"][1]["status"] == 500
    assert any("kaboom" in line for line in report["log_tail"])


def test_crash_at_import_shows_log(tmp_project: Path, port: int) -> None:
    (tmp_project / "app.py").write_text("import no_such_module_here\n")
    (tmp_project / "Procfile").write_text("web: gunicorn app:app\n")
    completed = run_homedeploy("serve", str(tmp_project), "--check", "--port", str(port))
    assert completed.returncode == 1
    assert "no_such_module_here" in completed.stdout
    assert "H10" in completed.stdout or "exited" in completed.stdout


def test_wrong_object_name_like_the_seed(tmp_project: Path, port: int) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="application"))
    (tmp_project / "Procfile").write_text("web: gunicorn hello:app\n")
    completed = run_homedeploy("serve", str(tmp_project), "--check", "--json", "--port", str(port))
    assert completed.returncode == 1
    report = json.loads(completed.stdout)
    assert any("Failed to find attribute 'app'" in line for line in report["log_tail"])


def test_never_binds_is_r10(tmp_project: Path, port: int) -> None:
    (tmp_project / "Procfile").write_text("web: sleep 30\n")
    started = time.monotonic()
    completed = run_homedeploy(
        "serve", str(tmp_project), "--check", "--port", str(port), "--boot-timeout", "1"
    )
    assert completed.returncode == 1
    assert "R10" in completed.stdout
    assert time.monotonic() - started < 20


def test_worker_timeout_is_detected(tmp_project: Path, port: int) -> None:
    (tmp_project / "app.py").write_text(
        "import time\nfrom flask import Flask\napp = Flask(__name__)\n\n"
        "@app.get('/')\ndef index():\n    return 'ok'\n\n"
        "@app.get('/slow')\ndef slow():\n    time.sleep(10)\n    return 'late'\n"
    )
    (tmp_project / "Procfile").write_text("web: gunicorn --timeout 1 app:app\n")
    completed = run_homedeploy(
        "serve", str(tmp_project), "--check", "--json", "--port", str(port), "--path", "/slow"
    )
    assert completed.returncode == 1
    report = json.loads(completed.stdout)
    assert any("WORKER TIMEOUT" in line for line in report["log_tail"])


def test_port_in_use(tmp_project: Path) -> None:
    scaffold(tmp_project)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = invoke("serve", str(tmp_project), "--check", "--port", str(busy))
    assert result.exit_code == 2
    assert f"port {busy} is already in use" in result.output and "--port" in result.output


def test_no_procfile_and_no_app(tmp_project: Path) -> None:
    (tmp_project / "util.py").write_text("x = 1\n")
    result = invoke("serve", str(tmp_project), "--check")
    assert result.exit_code == 2
    assert "no Procfile and no Flask app" in result.output and "homedeploy init" in result.output


def test_no_procfile_uses_discovered_app(tmp_project: Path, port: int) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="thisapp"))
    completed = run_homedeploy("serve", str(tmp_project), "--check", "--json", "--port", str(port))
    report = json.loads(completed.stdout)
    assert report["command"] == "gunicorn hello:thisapp"
    assert [p["status"] for p in report["probes"]] == [404]  # the app has no routes
    assert completed.returncode == 0


@pytest.mark.parametrize(
    ("procfile", "fragment"),
    [
        ("worker: python jobs.py\n", "no web: line"),
        ("web: gunicorn wsgi.py\n", "not a file name"),
        ("web: definitely-not-a-program --x\n", "not installed"),
        ("web: gunicorn 'unterminated\n", "quotes"),
        ("web: gunicorn --workers 2\n", "no app"),
    ],
)
def test_unrunnable_procfile(tmp_project: Path, procfile: str, fragment: str) -> None:
    (tmp_project / "Procfile").write_text(procfile)
    result = invoke("serve", str(tmp_project), "--check")
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Procfile" in result.output


def test_gunicorn_missing_from_project_venv(tmp_project: Path) -> None:
    scaffold(tmp_project)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_project / ".venv")], check=True
    )
    result = invoke("serve", str(tmp_project), "--check")
    assert result.exit_code == 2
    assert "gunicorn is not installed" in result.output and ".venv" in result.output


def test_path_errors(tmp_path: Path) -> None:
    assert invoke("serve", str(tmp_path / "nope")).exit_code == 2
    file = tmp_path / "f"
    file.write_text("")
    result = invoke("serve", str(file))
    assert result.exit_code == 2 and "not a folder" in result.output


def _terminal_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_foreground_streams_logs_and_stops_on_sigint(tmp_project: Path, port: int) -> None:
    scaffold(tmp_project)
    process = subprocess.Popen(
        [sys.executable, "-m", "homedeploy", "serve", str(tmp_project), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell that starts pytest in the background leaves SIGINT ignored, and a Python
        # started with it ignored never raises KeyboardInterrupt: give the child a terminal's.
        preexec_fn=_terminal_sigint,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None and "Hello" in body
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        stdout, stderr = process.communicate(timeout=35)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr
    assert "Listening at" in stdout and "GET /" in stdout
    assert "Serving on" in stderr and "stopped" in stderr
    assert "homedeploy's own interpreter" in stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_free_port_helper_is_free() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.slow
def test_init_venv_with_matching_interpreter_then_serve_uses_it(
    tmp_project: Path, port: int
) -> None:
    from homedeploy.project.venv import find_interpreter

    wanted = (
        "3.12" if find_interpreter("3.12").matches else ".".join(map(str, sys.version_info[:2]))
    )
    completed = run_homedeploy("init", str(tmp_project), "--venv", "--python", wanted, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Python {wanted}." in completed.stdout and "matches" in completed.stdout
    python = tmp_project / ".venv" / "bin" / "python"
    version = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == wanted
    check = run_homedeploy("serve", str(tmp_project), "--check", "--json", "--port", str(port))
    report = json.loads(check.stdout)
    assert report["ok"] is True, check.stdout
    assert "project's virtual environment" in report["environment"]
    again = invoke("init", str(tmp_project), "--venv")
    assert again.exit_code == 2 and ".venv already exists" in again.output
