"""The ``--json`` contract: each command's output validates against its schema in tests/schemas/.

These are the shapes users script against; a change to one is a change to the contract, made on
purpose in the schema file too. Each case runs the real command (the Heroku stand-in, the local
package index, real gunicorn) the way the other tests do. With JSON_CONTRACT_RECORD=DIR each
output is also written to DIR/<schema>.<case>.json, to look at when a schema has to change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import free_port, invoke
from heroku_standin import HerokuStandIn

from tests.doctor_apps import make_app

SCHEMAS = Path(__file__).resolve().parent / "schemas"
APP = "contract-app"


def _validate(schema_name: str, case: str, result: Result, *, exit_codes: tuple[int, ...]) -> Any:
    import jsonschema

    assert result.exit_code in exit_codes, result.stdout + result.stderr
    data = json.loads(result.stdout)
    record = os.environ.get("JSON_CONTRACT_RECORD")
    if record:
        out = Path(record) / f"{schema_name}.{case}.json"
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    schema_path = SCHEMAS / f"{schema_name}.json"
    if record and not schema_path.exists():
        return data  # recording the first outputs, to write the schema from
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    return data


def test_every_schema_is_exercised() -> None:
    exercised = {
        "init",
        "serve",
        "check-reqs",
        "doctor",
        "push",
        "push-local",
        "apps",
        "config",
        "scale",
        "releases",
        "rollback",
        "ps",
        "addons",
        "addons-create",
        "error",
    }
    assert {path.stem for path in SCHEMAS.glob("*.json")} == exercised


def test_init(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "new"), "--json")
    _validate("init", "scaffold", result, exit_codes=(0,))


def test_serve_check(tmp_path: Path) -> None:
    project = tmp_path / "app"
    assert invoke("init", str(project), "--no-git").exit_code == 0
    result = invoke(
        "serve", str(project), "--check", "--json", "--port", str(free_port()), "--path", "/no"
    )
    data = _validate("serve", "ok", result, exit_codes=(0,))
    assert data["ok"] is True


@pytest.mark.usefixtures("local_package_index")
def test_check_reqs(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {
            ".python-version": "3.14\n",
            "requirements.txt": "Flask==1.0.2\ngunicorn\npywin32==306\nconda==4.3.16\n"
            "six==1.17.0\n",
        },
        git_init=False,
    )
    result = invoke("check-reqs", "--json", cwd=project)
    _validate("check-reqs", "problems", result, exit_codes=(1,))
    result = invoke("check-reqs", "--json", "--write", cwd=project)
    data = _validate("check-reqs", "written", result, exit_codes=(0,))
    assert data["written"]


@pytest.mark.usefixtures("local_package_index")
def test_doctor(tmp_path: Path) -> None:
    project = make_app(
        tmp_path / "app",
        {
            "Procfile": "web: gunicorn wsgi:app\n",
            "runtime.txt": "python-3.14\n",
            ".python-version": "3.14\n",
            "requirements.txt": "Flask\ngunicorn\npywin32==306\nsix==1.17.0\n",
        },
    )
    result = invoke("doctor", str(project), "--json")
    _validate("doctor", "online", result, exit_codes=(0, 1))
    result = invoke("doctor", str(project), "--json", "--offline", "--fix")
    data = _validate("doctor", "fixed", result, exit_codes=(0, 1))
    assert data["fixes_applied"]


def test_error_payload(tmp_path: Path) -> None:
    result = invoke("doctor", str(tmp_path / "absent"), "--json")
    data = _validate("error", "doctor", result, exit_codes=(2,))
    assert data["ok"] is False


@pytest.mark.slow
@pytest.mark.usefixtures("local_pip_indexes")
def test_push_local(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app", {".python-version": "3.11\n"})
    result = invoke("push", "--local", "--json", str(project))
    data = _validate("push-local", "ok", result, exit_codes=(0,))
    assert data["ok"] is True
    bare = make_app(tmp_path / "bare", git_init=False)
    result = invoke("push", "--local", "--json", str(bare))
    _validate("push-local", "not-a-repository", result, exit_codes=(1, 2))


def test_push(standin: HerokuStandIn, flask_project: Path) -> None:
    result = invoke("push", str(flask_project), "--create", "--app", APP, "--json")
    data = _validate("push", "deployed", result, exit_codes=(0,))
    assert data["ok"] is True


@pytest.fixture
def deployed(standin: HerokuStandIn) -> Callable[..., Result]:
    app = standin.add_app(APP)
    app.set_process_types({"web": "gunicorn wsgi:app"})
    app.add_release("Deploy 0123abcd", slug="6a1c9c8e-4f1e-4a55-9d1d-1f7d2b3c4d5e")
    app.add_release("Deploy 4567cdef", slug="6a1c9c8e-4f1e-4a55-9d1d-1f7d2b3c4d5f")
    app.config.update({"SECRET_KEY": "s3cr3t-value"})
    return lambda *args: invoke(*args, "--app", APP, cwd=standin.root)


def test_heroku_management(deployed: Callable[..., Result], standin: HerokuStandIn) -> None:
    _validate("apps", "one", invoke("apps", "--json", cwd=standin.root), exit_codes=(0,))
    _validate("config", "masked", deployed("config", "--json"), exit_codes=(0,))
    _validate("config", "revealed", deployed("config", "--json", "--reveal"), exit_codes=(0,))
    _validate("scale", "shown", deployed("scale", "--json"), exit_codes=(0,))
    _validate("scale", "changed", deployed("scale", "web=2", "--json"), exit_codes=(0,))
    _validate("releases", "list", deployed("releases", "--json"), exit_codes=(0,))
    _validate("rollback", "previous", deployed("rollback", "--json"), exit_codes=(0,))


def test_dynos_and_addons(deployed: Callable[..., Result], standin: HerokuStandIn) -> None:
    _validate("ps", "web", deployed("ps", "--json"), exit_codes=(0,))
    standin.state.addon_provision_polls = 1
    created = deployed("addons", "create", "heroku-postgresql:essential-0", "--json")
    _validate("addons-create", "provisioned", created, exit_codes=(0,))
    _validate("addons", "one", deployed("addons", "--json"), exit_codes=(0,))
