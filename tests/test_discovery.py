"""Static Flask app discovery over the layouts real projects use."""

from __future__ import annotations

from pathlib import Path

import pytest

from homedeploy.project.discovery import find_flask_apps


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


FLASK_APP = "from flask import Flask\n{name} = Flask(__name__)\n"

LAYOUTS: list[tuple[str, dict[str, str], list[str], str]] = [
    ("seed hello app", {"hello.py": FLASK_APP.format(name="app")}, ["hello:app"], "."),
    (
        "seed's renamed object",
        {"hello.py": FLASK_APP.format(name="application")},
        ["hello:application"],
        ".",
    ),
    (
        "thisapp in app.py",
        {"app.py": FLASK_APP.format(name="thisapp")},
        ["app:thisapp"],
        ".",
    ),
    (
        "annotated assignment and alias",
        {"server.py": "from flask import Flask as F\nweb: F = F('x')\n"},
        ["server:web"],
        ".",
    ),
    (
        "module-qualified flask.Flask",
        {"main.py": "import flask\nsite = flask.Flask(__name__)\n"},
        ["main:site"],
        ".",
    ),
    (
        "import flask as fl",
        {"main.py": "import flask as fl\nsite = fl.Flask(__name__)\n"},
        ["main:site"],
        ".",
    ),
    (
        "factory in package",
        {
            "myapp/__init__.py": (
                "from flask import Flask\n\ndef create_app(config=None):\n"
                "    app = Flask(__name__)\n    return app\n"
            )
        },
        ["myapp:create_app()"],
        ".",
    ),
    (
        "make_app factory in a module of a package",
        {
            "pkg/__init__.py": "",
            "pkg/factory.py": (
                "import flask\n\ndef make_app():\n    return flask.Flask(__name__)\n"
            ),
        },
        ["pkg.factory:make_app()"],
        ".",
    ),
    (
        "src layout",
        {
            "src/shop/__init__.py": (
                "from flask import Flask\n\ndef create_app():\n    app = Flask('shop')\n"
                "    return app\n"
            ),
            "pyproject.toml": "[project]\nname='shop'\n",
        },
        ["shop:create_app()"],
        "src",
    ),
    (
        "app in a plain subfolder (seed's --chdir case)",
        {"my_folder/my_module.py": FLASK_APP.format(name="app")},
        ["my_module:app"],
        "my_folder",
    ),
    (
        "nested package object",
        {
            "web/__init__.py": "",
            "web/api/__init__.py": "",
            "web/api/main.py": FLASK_APP.format(name="api"),
        },
        ["web.api.main:api"],
        ".",
    ),
    (
        "wsgi re-export counts once",
        {
            "hello.py": FLASK_APP.format(name="application"),
            "wsgi.py": "from hello import application\n",
        },
        ["hello:application"],
        ".",
    ),
    (
        "wsgi calling an imported factory counts once",
        {
            "app/__init__.py": (
                "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n"
            ),
            "wsgi.py": "from app import create_app\n\napp = create_app()\n",
        },
        ["app:create_app()"],
        ".",
    ),
]


@pytest.mark.parametrize(
    ("title", "files", "expected", "pythonpath"), LAYOUTS, ids=[layout[0] for layout in LAYOUTS]
)
def test_layouts(
    tmp_path: Path, title: str, files: dict[str, str], expected: list[str], pythonpath: str
) -> None:
    found = find_flask_apps(make_tree(tmp_path, files))
    assert [c.target for c in found.distinct] == expected, title
    assert found.distinct[0].pythonpath == pythonpath
    assert not found.problems


def test_several_candidates_are_all_listed(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"one.py": FLASK_APP.format(name="app"), "two.py": FLASK_APP.format(name="admin")},
    )
    assert sorted(c.target for c in find_flask_apps(tmp_path).distinct) == ["one:app", "two:admin"]


def test_syntax_errors_are_reported_with_line_and_scan_goes_on(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "broken.py": "x = 1\n\ndef oops(:\n    pass\n",
            "hello.py": FLASK_APP.format(name="app"),
        },
    )
    found = find_flask_apps(tmp_path)
    assert [c.target for c in found.distinct] == ["hello:app"]
    assert [(p.path, p.line) for p in found.problems] == [("broken.py", 3)]
    assert "syntax error" in found.problems[0].message


def test_null_bytes_and_unreadable_files_are_problems(tmp_path: Path) -> None:
    make_tree(tmp_path, {"hello.py": FLASK_APP.format(name="app")})
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    found = find_flask_apps(tmp_path)
    assert [c.target for c in found.distinct] == ["hello:app"]
    assert any(p.path == "nul.py" for p in found.problems)


def test_virtualenvs_and_caches_are_skipped(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "hello.py": FLASK_APP.format(name="app"),
            "helloprojenv/pyvenv.cfg": "home = /usr/bin\n",
            "helloprojenv/lib/python3.11/site-packages/flask/app.py": FLASK_APP.format(name="x"),
            "node_modules/thing/app.py": FLASK_APP.format(name="y"),
            ".hidden/app.py": FLASK_APP.format(name="z"),
        },
    )
    assert [c.target for c in find_flask_apps(tmp_path).distinct] == ["hello:app"]


def test_factory_needing_arguments_is_flagged(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"factory.py": "from flask import Flask\n\ndef create_app(cfg):\n    return Flask('a')\n"},
    )
    (candidate,) = find_flask_apps(tmp_path).distinct
    assert candidate.kind == "factory" and candidate.factory_args_required


def test_no_app_and_non_flask_code(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"util.py": "class Flask:\n    pass\n\nthing = Flask()\n", "main.py": "print('hi')\n"},
    )
    found = find_flask_apps(tmp_path)
    assert found.candidates == [] and found.problems == []
    assert found.files_scanned == 2


def test_user_code_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    make_tree(
        tmp_path,
        {"hello.py": (f"open({str(marker)!r}, 'w').write('x')\n" + FLASK_APP.format(name="app"))},
    )
    assert [c.target for c in find_flask_apps(tmp_path).distinct] == ["hello:app"]
    assert not marker.exists()
