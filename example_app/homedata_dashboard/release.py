"""The release phase: ``python -m homedata_dashboard.release`` (the Procfile's ``release:``).

Loads the exports in ``HOMEDATA_DIR`` (or the bundled sample) into the ``DATABASE_URL``
database, table by table, skipping tables that have not changed since the last release (see
:mod:`.db`). Without ``DATABASE_URL`` there is nothing to do: the app reads the files itself.
Exit status 0 when the database is ready, 1 with a one-line reason otherwise.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> int:
    from .db import DatabaseError, database_url, release
    from .loading import DataFormatError

    url = database_url()
    if url is None:
        print("homedata release: DATABASE_URL is not set; the app reads the JSON exports itself")
        return 0
    raw_dir = os.environ.get("HOMEDATA_DIR") or None
    started = time.perf_counter()
    try:
        results = release(url, Path(raw_dir) if raw_dir else None)
    except (DatabaseError, DataFormatError) as exc:
        print(f"homedata release: {exc}", file=sys.stderr)
        return 1
    for r in results:
        what = f"loaded {r.rows:,} rows in {r.seconds:.1f} s" if r.loaded else "up to date"
        source = f"{r.origin} {r.file}" if r.file else r.origin
        print(f"homedata release: {r.table:<13} {what} ({source}){'; ' + r.note if r.note else ''}")
    changed = sum(r.loaded for r in results)
    print(
        f"homedata release: {changed} of {len(results)} tables loaded, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
