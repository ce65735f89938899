"""Static files under content-hashed names, pre-compressed, served by WhiteNoise.

The dashboard's own files (``static/``) are copied once under names that carry a hash of their
content (``dashboard.3f2a9c1b0d4e.js``), next to ``.gz`` copies (and ``.br`` ones when brotli is
installed) made by WhiteNoise's compressor. WhiteNoise serves them with the best encoding the
browser accepts and, because the name changes whenever the content does, a far-future
``Cache-Control: immutable``: a repeat visit fetches none of them again.

WhiteNoise's own hashed-name machinery is Django's ``ManifestStaticFilesStorage``; a Flask app
has no ``collectstatic``, so :func:`build` does that small part here (copy under a hashed name,
write a manifest) and leaves compression and serving to WhiteNoise.

Where the files come from:

* ``build/assets`` in the app folder, made at build time by ``python -m
  homedata_dashboard.assets`` (the Heroku Python buildpack runs it from ``bin/post_compile``),
  with brotli: used when its manifest matches the current sources;
* otherwise a temporary folder built at boot with gzip only (brotli's best level is kept for
  the build step, so a boot never spends CPU on it).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREBUILT_DIR = Path(__file__).resolve().parent.parent / "build" / "assets"
MANIFEST = "manifest.json"
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Assets:
    """Where the built files are and the URL path (under ``/static/``) of each logical name."""

    root: Path
    names: dict[str, str]  # logical name ("dashboard.js") -> file name under root

    def url(self, name: str) -> str:
        return "/static/" + self.names[name]


def sources() -> dict[str, Path]:
    """Logical name -> source file: everything in ``static/``."""
    return {p.name: p for p in sorted(STATIC_DIR.iterdir()) if p.is_file()}


def _fingerprint(files: dict[str, Path]) -> dict[str, list[int | str]]:
    return {name: [str(p), p.stat().st_size, p.stat().st_mtime_ns] for name, p in files.items()}


def _hashed_name(name: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"


def build(out: Path, files: dict[str, Path], *, brotli: bool, quiet: bool = True) -> Assets:
    """Copy ``files`` into ``out`` under hashed names, compress them, write the manifest."""
    from whitenoise.compress import Compressor

    out.mkdir(parents=True, exist_ok=True)
    compressor = Compressor(use_brotli=brotli, quiet=quiet, log=lambda _msg: None)
    names: dict[str, str] = {}
    for name, path in files.items():
        data = path.read_bytes()
        hashed = _hashed_name(name, data)
        target = out / hashed
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            os.replace(partial, target)
            if compressor.should_compress(hashed):
                list(compressor.compress(str(target)))
        names[name] = hashed
    manifest = {"sources": _fingerprint(files), "names": names}
    partial = out / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=1))
    os.replace(partial, out / MANIFEST)
    return Assets(out, names)


def _prebuilt(out: Path, files: dict[str, Path]) -> Assets | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("sources") != json.loads(json.dumps(_fingerprint(files))):
        return None
    names = manifest.get("names") or {}
    if not all((out / str(n)).is_file() for n in names.values()):
        return None
    return Assets(out, {str(k): str(v) for k, v in names.items()})


def prepare() -> Assets:
    """The prebuilt assets when they match the sources, else a fresh gzip-only build."""
    files = sources()
    found = _prebuilt(PREBUILT_DIR, files)
    if found is not None:
        return found
    folder = Path(tempfile.mkdtemp(prefix="homedata-assets-"))
    owner = os.getpid()

    def remove() -> None:  # forked gunicorn workers inherit this; only the builder removes
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return build(folder, files, brotli=False)


def main(argv: list[str] | None = None) -> int:
    """``python -m homedata_dashboard.assets [OUT]``: build with brotli (at deploy time)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else PREBUILT_DIR
    try:
        import brotli  # noqa: F401  (WhiteNoise's compressor uses it when it is installed)
    except ImportError:
        print("brotli is not installed: gzip copies only")
        use_brotli = False
    else:
        use_brotli = True
    assets = build(out, sources(), brotli=use_brotli)
    for name, hashed in assets.names.items():
        sizes = [
            f"{suffix or 'raw'} {(out / (hashed + suffix)).stat().st_size:,}"
            for suffix in ("", ".gz", ".br")
            if (out / (hashed + suffix)).exists()
        ]
        print(f"{name:<20} {hashed:<36} " + "  ".join(sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
