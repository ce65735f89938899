"""How check-reqs reads index pages: the JSON page reader, the background prefetch and the
HTTP session's shared TLS context and environment settings (all against 127.0.0.1)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st
from local_index import PROJECTS, LocalIndex, pip_env

from homedeploy import netio
from homedeploy.errors import NetworkError
from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements import index as index_module
from homedeploy.requirements.index import IndexSources, PackageIndex


def _read(text: str, name: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in index_module._files_from_json(text, name)]


def _entry(filename: object, **extra: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "core-metadata": {"sha256": "ab" * 32},
        "data-dist-info-metadata": {"sha256": "ab" * 32},
        "filename": filename,
        "hashes": {"sha256": "cd" * 32},
        "requires-python": ">=3.8",
        "size": 1234,
        "upload-time": "2024-01-02T03:04:05.000000Z",
        "url": f"https://files.example.invalid/packages/ab/cd/{filename}",
        "yanked": False,
    }
    entry.update(extra)
    return entry


def _page(entries: list[dict[str, object]], **dump: Any) -> str:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": "demo", "files": entries, "versions": []},
        **dump,
    )


TRICKY: list[dict[str, object]] = [
    _entry("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
    _entry("demo-1.0-cp312-cp312-win_amd64.whl"),
    _entry("demo-1.0-cp312-cp312-win32.whl"),  # a second Windows wheel: not kept
    _entry("demo-1.0-cp312-cp312-musllinux_1_1_aarch64.whl"),
    _entry("demo-1.0-cp312-cp312-macosx_11_0_arm64.whl"),
    # A yanked reason that looks like the start of another entry.
    _entry("demo-1.0.tar.gz", yanked='bad, {"filename": "demo-9.9.tar.gz", "x": [1]}'),
    _entry("demo-1.1-py3-none-any.whl", **{"requires-python": None}),
    _entry("Demo_Pkg-1.2-py3-none-any.whl"),  # another project's file on the page
    _entry("demo-1.3-py3-none-any.whl", url="x,{y}"),
    _entry(12345),  # not a string: nothing
    {"url": "no-filename-at-all"},
    _entry("demo-1.4.zip"),
]


@pytest.mark.parametrize(
    "dump",
    [{}, {"indent": 2}, {"separators": (",", ":")}, {"indent": "\t", "sort_keys": True}],
)
def test_a_page_keeps_what_installs_and_one_sample_of_each_other_kind(
    dump: dict[str, Any],
) -> None:
    kept = [row[0] for row in _read(_page(TRICKY, **dump), "demo")]
    assert kept == [
        "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-1.0-cp312-cp312-win_amd64.whl",  # the Windows/macOS sample
        "demo-1.0-cp312-cp312-musllinux_1_1_aarch64.whl",  # the sample of the rest
        "demo-1.0.tar.gz",
        "demo-1.1-py3-none-any.whl",
        "demo-1.3-py3-none-any.whl",
        "demo-1.4.zip",
    ]


def test_a_page_that_is_not_json_of_that_shape_lists_nothing() -> None:
    escaped = _page([_entry("demo-2.0-py3-none-any.whl")]).replace(
        "demo-2.0-py3-none-any.whl", "demo-2.0-py3-none-any\\u002ewhl"
    )
    assert [row[0] for row in _read(escaped, "demo")] == ["demo-2.0-py3-none-any.whl"]
    assert _read(_page(TRICKY)[:-40], "demo") == []  # truncated
    assert _read("[]", "demo") == []


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    with LocalIndex(PROJECTS, max_age=0) as index:
        for key, value in pip_env(index.url, tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        yield index


def _pages_asked(served: LocalIndex) -> list[str]:
    return [path.split("/")[2] for path in served.requests if path.startswith("/simple/")]


def test_a_prefetched_page_is_fetched_once(served: LocalIndex) -> None:
    names = sorted(PROJECTS)
    index = PackageIndex(IndexSources((served.url,)))
    index.prefetch(names)
    found = index.projects(["Flask", *names])
    assert set(found) == set(names) and found["flask"].found
    assert index._prefetching is not None
    index._prefetching.join(10)
    asked = _pages_asked(served)
    assert sorted(asked) == names  # each page once, whoever fetched it


def test_a_stricter_look_up_asks_again_what_a_day_old_page_answered(served: LocalIndex) -> None:
    first = PackageIndex(IndexSources((served.url,)))
    first.projects(["flask", "six"])  # max-age=0: stale from now on
    before = len(served.requests)
    index = PackageIndex(IndexSources((served.url,)))
    index.prefetch(["flask", "six"], stale_ok=86400.0)
    assert index._prefetching is not None
    index._prefetching.join(10)
    assert len(served.requests) == before  # a day-old page answers "does it exist"
    index.projects(["six"], stale_ok=86400.0)
    index.projects(["flask"])  # the newest release matters: revalidated
    assert _pages_asked(served)[before:] == ["flask"]
    assert served.not_modified == 1


def test_a_failed_prefetch_is_met_again_by_the_look_up() -> None:
    index = PackageIndex(IndexSources(("http://127.0.0.1:9/simple",)))
    index.prefetch(["flask", "six"])
    with pytest.raises(NetworkError, match="cannot reach the package index"):
        index.projects(["six"])


def test_a_closed_index_fetches_no_more_prefetched_pages(served: LocalIndex) -> None:
    index = PackageIndex(IndexSources((served.url,)), workers=1)
    index.close()
    index.prefetch(sorted(PROJECTS))
    assert index._prefetching is not None
    index._prefetching.join(10)
    assert _pages_asked(served) == []
    assert index.projects(["six"])["six"].found  # a look-up itself still works
    assert _pages_asked(served) == ["six"]


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[str, trustme.CA]]:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", authority
    server.shutdown()
    server.server_close()


def test_connections_share_one_verifying_context_per_bundle(
    tls_server: tuple[str, trustme.CA],
) -> None:
    url, authority = tls_server
    with authority.cert_pem.tempfile() as bundle:
        sessions = [netio.guarded_session() for _ in range(3)]
        for session in sessions:
            assert session.get(url, verify=bundle, timeout=5).text == "ok"
        contexts = [key for key in netio._CONTEXTS if key[0] == bundle]
        assert contexts == [(bundle, False)]  # loaded once for the three connections
        with pytest.raises(requests.exceptions.SSLError):
            sessions[0].get(url, verify=True, timeout=5)  # the default bundle: not trusted
    with pytest.raises(requests.exceptions.SSLError):
        netio.guarded_session().get(url, timeout=5)


TARGET = "http://127.0.0.2:9/simple/six/"
"""Nothing listens there: only a proxy answers for it."""


def test_proxy_settings_come_from_the_environment_of_each_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            seen.append(self.path)  # a proxy is sent the absolute URL
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        session = netio.guarded_session()
        for _ in range(2):  # the second answer comes from the session's remembered settings
            session.get(TARGET, timeout=5)
        assert seen == [TARGET] * 2
        monkeypatch.setenv("NO_PROXY", "127.0.0.2")
        with pytest.raises(requests.exceptions.ConnectionError):
            netio.guarded_session().get(TARGET, timeout=5)
        assert len(seen) == 2
    finally:
        server.shutdown()
        server.server_close()


def test_a_file_index_is_parsed_once_and_read_back_a_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "simple"
    names = [f"proj{number:02d}" for number in range(40)]  # more than one chunk
    for name in names:
        (root / name).mkdir(parents=True)
        links = "".join(
            f'<a href="../../files/{name}-{version}-py3-none-any.whl">x</a>\n'
            for version in ("1.0", "2.0")
        )
        (root / name / "index.html").write_text(f"<html><body>{links}</body></html>")
    parsed: list[str] = []
    feed = index_module._LinkParser.feed

    def counted(self: Any, data: str) -> None:
        parsed.append(data)
        feed(self, data)

    monkeypatch.setattr(index_module._LinkParser, "feed", counted)
    queries: list[int] = []
    read_many = disk_cache.read_many

    def counted_reads(section: str, keys: Any) -> Any:
        keys = list(keys)
        queries.append(len(keys))
        return read_many(section, keys)

    monkeypatch.setattr(disk_cache, "read_many", counted_reads)
    sources = IndexSources((root.as_uri(),))
    first = PackageIndex(sources).projects([*names, "absent"])
    assert len(parsed) == len(names) and not first["absent"].found
    assert first["proj07"].versions() == ["1.0", "2.0"]
    parsed.clear()
    queries.clear()
    again = PackageIndex(sources).projects([*names, "absent"])
    assert parsed == []  # every page came from the cache
    assert len(queries) <= 2 * 2  # two chunks, one query per chunk and section at most
    assert {name: again[name].files for name in names} == {
        name: first[name].files for name in names
    }


_RELEASES = st.lists(st.integers(0, 12), min_size=1, max_size=4)
_SUFFIX = st.tuples(
    st.one_of(
        st.none(), st.tuples(st.sampled_from(["a", "b", "rc", "alpha", "c"]), st.integers(0, 3))
    ),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.sampled_from(["ubuntu.1", "2", "abc.5", "1.x-y", "local7"])),
    st.sampled_from([0, 0, 0, 1, 2]),
)


def _spelled(release: list[int], suffix: tuple[Any, ...]) -> str:
    pre, post, dev, local, epoch = suffix
    text = (f"{epoch}!" if epoch else "") + ".".join(map(str, release))
    text += f"{pre[0]}{pre[1]}" if pre else ""
    text += f".post{post}" if post is not None else ""
    text += f".dev{dev}" if dev is not None else ""
    return text + (f"+{local}" if local else "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_RELEASES, _SUFFIX), min_size=2, max_size=8))
def test_versions_sort_as_packaging_sorts_them(drawn: list[tuple[list[int], Any]]) -> None:
    from packaging.version import Version

    spelled = [_spelled(release, suffix) for release, suffix in drawn]
    normal = [index_module._normal_version(text) for text in spelled]
    assert normal == [str(Version(text)) for text in spelled]
    keys = [index_module._version_order(text) for text in normal if text is not None]
    parsed = [Version(text) for text in spelled]
    for left in range(len(keys)):
        for right in range(len(keys)):
            assert (keys[left] < keys[right]) == (parsed[left] < parsed[right])
            assert (keys[left] == keys[right]) == (parsed[left] == parsed[right])


@pytest.mark.parametrize(
    "damage", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_a_corrupt_cache_file_is_set_aside_and_started_again(
    damage: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path))
    (tmp_path / disk_cache.DATABASE).write_bytes(damage)
    assert disk_cache.read_entry("index-pages", "k") is None  # reads as empty, no error
    disk_cache.write_entry("index-pages", "k", {"status": 404})
    assert disk_cache.read_entry("index-pages", "k") == {"status": 404}
    assert (tmp_path / (disk_cache.DATABASE + ".corrupt")).read_bytes() == damage
