"""homedata dashboard: a Flask app that analyses the LinkNLearn/homedata house sensors.

``create_app()`` loads every table once (real files from ``HOMEDATA_DIR`` where present, the
bundled sample otherwise), cleans the room series, and serves the dashboard page plus the JSON
API its charts draw from. Gunicorn runs it through ``wsgi.py``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask

from .assets import HASHED
from .config import gap_seconds_from_env, rules_from_env

__all__ = ["create_app"]

log = logging.getLogger(__name__)


# glibc's mallopt parameters (malloc.h): fixing either one turns off the dynamic thresholds.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def _libc() -> Any:
    """glibc through ctypes, or None (musl, macOS: nothing to tune)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim, libc.mallopt  # noqa: B018  (both or neither)
    except (OSError, AttributeError):
        return None
    return libc


def keep_big_blocks_off_the_heap() -> None:
    """Fix glibc's thresholds so that large temporaries go back to the OS when freed.

    Loading (numpy chunks, COPY buffers) and every request (a window's slices, a CSV's chunks)
    allocate large blocks, which glibc serves with ``mmap`` and unmaps when freed -- until the
    first such free, after which glibc's *dynamic* threshold rises to that block's size and
    later ones come from the heap, where they stay as RSS. Measured at ten times the sample:
    workers grew from 131 to 181 MB over 500 requests; with the thresholds fixed (blocks of
    128 KB and more on ``mmap``, the heap's free top trimmed beyond 1 MB) they stayed near
    130 MB, latencies unchanged. The same as ``MALLOC_MMAP_THRESHOLD_=131072
    MALLOC_TRIM_THRESHOLD_=1048576`` in the environment, without asking every deployment to
    set them. Runs first thing in :func:`create_app`; gunicorn's forked workers inherit it.
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024)


def release_freed_memory() -> None:
    """Hand the loader's freed heap back to the OS (glibc's ``malloc_trim``), where there is one.

    Parsing the exports creates and frees millions of small objects; glibc keeps the freed
    pages in its arenas, so a worker would carry them for its whole life (about 40 MB at ten
    times the sample). With ``--preload`` this runs in the master before the workers fork.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def create_app(
    data_dir: str | Path | None = None,
    config: dict[str, Any] | None = None,
    sample_dir: Path | None = None,
) -> Flask:
    """Build the app; ``data_dir`` defaults to ``$HOMEDATA_DIR`` (unset: the bundled sample).

    With ``DATABASE_URL`` set (and no ``data_dir`` given), the tables come from PostgreSQL
    instead, as the release phase loaded them (see :mod:`.db`). ``sample_dir`` replaces the
    bundled sample folder (tests use an empty one).
    """
    from .api import bp, cache_from_env
    from .assets import ONE_YEAR, prepare
    from .db import database_url, load_dataset_from_db
    from .loading import SAMPLE_DIR, load_dataset
    from .security import install_security, static_headers
    from .store import build_store
    from .views import views

    keep_big_blocks_off_the_heap()
    # Static files are WhiteNoise's (hashed names, pre-compressed), not Flask's.
    app = Flask(__name__, static_folder=None)
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=16 * 1024)
    if config:
        app.config.update(config)
    url = database_url() if data_dir is None else None
    if data_dir is None:
        data_dir = os.environ.get("HOMEDATA_DIR") or None
    started = time.perf_counter()
    if url is not None:
        dataset = load_dataset_from_db(url, sample_dir or SAMPLE_DIR)
    else:
        dataset = load_dataset(Path(data_dir) if data_dir else None, sample_dir or SAMPLE_DIR)
    app.extensions["homedata_mode"] = "postgres" if url else "files"
    app.extensions["homedata"] = build_store(dataset, rules_from_env(), gap_seconds_from_env())
    release_freed_memory()
    app.extensions["homedata_cache"] = cache_from_env()
    assets = prepare()
    app.extensions["homedata_assets"] = assets
    # Under gunicorn, its error log is where a Heroku log drain sees boot messages.
    boot_log = logging.getLogger("gunicorn.error")
    (boot_log if boot_log.handlers else log).info(
        "homedata: loaded %s from %s in %.2fs (%s)",
        ", ".join(f"{s.table}={s.rows}" for s in dataset.sources),
        "PostgreSQL" if url else "files",
        time.perf_counter() - started,
        "sample: " + ", ".join(dataset.sample_tables()) if dataset.uses_sample else "all real",
    )
    app.register_blueprint(bp)
    app.register_blueprint(views)
    install_security(app)
    from whitenoise import WhiteNoise

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(assets.root),
        prefix="/static/",
        max_age=ONE_YEAR,
        immutable_file_test=lambda _path, url: bool(HASHED.search(url)),
        add_headers_function=static_headers,
    )
    return app
