"""Benchmark the bundled homedata dashboard under real gunicorn (2 workers) on 127.0.0.1.

Measures, on the bundled sample (283k room readings, every table), in both modes: files (the
JSON exports, the default) and PostgreSQL (``DATABASE_URL``, the release phase's tables, on a
throwaway server started here from Debian's PostgreSQL):

* boot: from starting gunicorn to the first answer of ``/healthz``;
* p50/p95 latency of every API endpoint called with its defaults (what the dashboard asks for;
  the first call renders, the rest come from the worker's cache) and of ``/api/series`` with
  random zoom windows (each one computed);
* memory from /proc: RSS and PSS of each worker and of the master;
* bytes on the wire for a first and a repeat visit of the page, as headless Chromium counts
  them (Debian's chromium and chromedriver; skipped when absent);
* peak RSS of master + 2 workers while 1,000 distinct heavy queries arrive from 4 clients
  (decimated series at every ``points``, raw series, zoom windows, full CSV downloads, cleaning
  rule previews), sampled every 20 ms;
* the 10x dataset (``--scale 10``): generation time, the release phase's load time into
  PostgreSQL, a re-run (nothing to load), boot, p95 per endpoint and RSS at that size.

Targets: p95 <= 25 ms per endpoint in both modes, RSS <= 150 MB per worker, 2 workers + master
<= 400 MB under any query mix, first load <= 900 KB over the wire, a repeat visit <= 100 KB.

    .venv/bin/python benchmarks/example_app.py [--requests 200] [--skip-scale] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_app"
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL the tests use

from example_app_support import free_port, postgres_bin, postgres_server  # noqa: E402


def get(port: int, path: str, gzip: bool = False) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip" if gzip else "identity"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit("gunicorn did not answer in time")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB from /proc."""
    rss = pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextmanager
def gunicorn(env_extra: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen[bytes], float]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HOMEDATA_DIR", "DATABASE_URL")}
    env.update(env_extra)
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--preload",
        "--timeout",
        "120",
        "wsgi:app",
    ]
    proc = subprocess.Popen(
        cmd, cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        boot = wait_ready(port, proc)
        yield port, proc, boot
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def zoom_windows(count: int, first: int, last: int) -> list[str]:
    """Random 1-to-10-day windows: each is a fresh request for the series endpoint."""
    rng = random.Random(6)
    out = []
    fmt = "%Y-%m-%dT%H:%M:%S"
    for _ in range(count):
        start = rng.randrange(first, last - 10 * 86400)
        end = start + rng.randrange(86400, 10 * 86400)
        out.append(
            f"/api/series?start={time.strftime(fmt, time.gmtime(start))}"
            f"&end={time.strftime(fmt, time.gmtime(end))}"
        )
    return out


def latencies(port: int, rounds: int, span: tuple[int, int]) -> dict[str, dict[str, float]]:
    index = json.loads(get(port, "/api")[1])
    results: dict[str, dict[str, float]] = {}
    plans = [(e["path"], [e["path"]]) for e in index["endpoints"]]
    plans.append(("/api/series (zoom windows)", zoom_windows(rounds, *span)))
    for name, paths in plans:
        times = []
        for i in range(rounds):
            t0 = time.perf_counter()
            status, _ = get(port, paths[i % len(paths)], gzip=True)
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise SystemExit(f"{paths[i % len(paths)]}: HTTP {status}")
        results[name] = {
            "first": round(times[0], 2),
            "p50": round(statistics.median(times), 2),
            "p95": round(percentile(times, 95), 2),
        }
    return results


def memory(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    workers = children(proc.pid)
    mem = {pid: memory_mb(pid) for pid in workers}
    master = memory_mb(proc.pid)
    return {
        "worker_rss_mb": [round(m[0], 1) for m in mem.values()],
        "worker_pss_mb": [round(m[1], 1) for m in mem.values()],
        "master_rss_mb": round(master[0], 1),
        "total_rss_mb": round(master[0] + sum(m[0] for m in mem.values()), 1),
    }


def span_of(port: int) -> tuple[int, int]:
    sources = json.loads(get(port, "/api/sources")[1])

    def seconds(stamp: str) -> int:
        return int(time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)

    return seconds(sources["first"]), seconds(sources["last"])


def heavy_queries(count: int, span: tuple[int, int]) -> list[str]:
    """``count`` distinct requests, each costly: the query mix issue 13 measured."""
    rng = random.Random(13)
    first, last = span
    fmt = "%Y-%m-%dT%H:%M:%S"
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        kind = rng.random()
        if kind < 0.45:
            url = f"/api/series?points={rng.randrange(100, 10001)}"
            if rng.random() < 0.5:
                url += "&cleaned=0"
        elif kind < 0.7:
            a = rng.randrange(first, last - 30 * 86400)
            b = a + rng.randrange(3600, 60 * 86400)
            url = (
                f"/api/series?start={time.strftime(fmt, time.gmtime(a))}"
                f"&end={time.strftime(fmt, time.gmtime(b))}&points={rng.randrange(100, 10001)}"
            )
        elif kind < 0.8:
            a = rng.randrange(first, last - 30 * 86400)
            b = a + rng.randrange(86400, 400 * 86400)
            url = (
                f"/api/series?format=csv&cleaned={rng.randrange(2)}"
                f"&start={time.strftime(fmt, time.gmtime(a))}"
                f"&end={time.strftime(fmt, time.gmtime(b))}"
            )
        elif kind < 0.95:
            url = (
                f"/api/cleaning?low={rng.uniform(-60, 40):.3f}&high={rng.uniform(80, 200):.3f}"
                f"&spike={rng.uniform(1, 30):.3f}"
            )
        else:
            url = (
                f"/api/air-quality?threshold={rng.uniform(1, 5000):.2f}"
                f"&min_days={rng.randrange(1, 61)}"
            )
        if url not in seen:
            seen.add(url)
            out.append(url)
    return out


def peak_rss(port: int, proc: subprocess.Popen[bytes], urls: list[str]) -> dict[str, Any]:
    pids = [proc.pid, *children(proc.pid)]
    peak = {"total": 0.0, "per_process": {pid: 0.0 for pid in pids}}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = {pid: memory_mb(pid)[0] for pid in pids}
            peak["total"] = max(peak["total"], sum(rss.values()))
            for pid, value in rss.items():
                peak["per_process"][pid] = max(peak["per_process"][pid], value)
            time.sleep(0.02)

    errors = 0
    lock = threading.Lock()
    queue = list(urls)

    def client() -> None:
        nonlocal errors
        while True:
            with lock:
                if not queue:
                    return
                url = queue.pop()
            try:
                status, _ = get(port, url, gzip=random.random() < 0.8)
            except OSError:
                status = 0
            if status != 200:
                with lock:
                    errors += 1

    before = memory(proc)
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    clients = [threading.Thread(target=client) for _ in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return {
        "queries": len(urls),
        "errors": errors,
        "seconds": round(elapsed, 1),
        "rss_before_mb": before["total_rss_mb"],
        "peak_total_rss_mb": round(peak["total"], 1),
        "peak_rss_mb_master_then_workers": [round(v, 1) for v in peak["per_process"].values()],
        "rss_after_mb": memory(proc)["total_rss_mb"],
    }


def run_mode(name: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    with gunicorn(env) as (port, proc, boot):
        span = span_of(port)
        figures: dict[str, Any] = {"mode": name, "boot_s": round(boot, 2)}
        figures["latency_ms"] = latencies(port, args.requests, span)
        figures["memory"] = memory(proc)
        if name == "files" and not args.skip_browser:
            figures["wire"] = wire(port)
        if not args.skip_heavy:
            figures["heavy"] = peak_rss(port, proc, heavy_queries(1000, span))
    return figures


def wire(port: int) -> dict[str, Any] | str:
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        return "skipped: Debian's chromium and chromium-driver are not installed"
    with tempfile.TemporaryDirectory() as profile:
        found = wire_bytes(port, Path(profile))
    # Chromium offers brotli only over HTTPS, as a Heroku app is served: fetch the first
    # visit's URLs again offering br, for the size with prebuilt brotli files.
    total = 0
    for path in found["first"]["paths"]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", path, headers={"Accept-Encoding": "br, gzip, deflate"})
            response = conn.getresponse()
            body = response.read()
            total += len(body) + sum(len(k) + len(v) + 4 for k, v in response.getheaders())
        finally:
            conn.close()
    found["first_offering_br_bytes"] = total
    return found


def wire_bytes(port: int, profile: Path) -> dict[str, Any]:
    """Bytes over the wire for a first and a repeat visit, as headless Chromium counts them.

    Chromium's DevTools ``Network.loadingFinished`` events carry ``encodedDataLength``: what
    crossed the socket for each response (headers and compressed body). The repeat visit is a
    second navigation in the same browser profile, as a returning visitor makes it.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,2400",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    charts_drawn = (
        "return Array.from(document.querySelectorAll('.chart'))"
        ".every(el => el.querySelector('.chart-area svg[role=img]'));"
    )
    out: dict[str, Any] = {}
    try:
        for visit in ("first", "repeat"):
            driver.get_log("performance")  # drop what came before
            driver.get(f"http://127.0.0.1:{port}/")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not driver.execute_script(charts_drawn):
                time.sleep(0.2)
            time.sleep(1.0)  # late responses (the second chart of a card) settle
            urls: dict[str, str] = {}
            sizes: dict[str, int] = {}
            cached: set[str] = set()
            for entry in driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                params = msg.get("params", {})
                if msg["method"] == "Network.requestWillBeSent":
                    urls[params["requestId"]] = params["request"]["url"]
                elif msg["method"] == "Network.requestServedFromCache":
                    cached.add(params["requestId"])
                elif msg["method"] == "Network.loadingFinished":
                    sizes[params["requestId"]] = int(params["encodedDataLength"])
            per_url: dict[str, int] = {}
            origin = f"http://127.0.0.1:{port}"
            ours = {rid: url for rid, url in urls.items() if url.startswith(origin)}
            for rid, url in ours.items():
                path = url.removeprefix(origin)
                per_url[path] = per_url.get(path, 0) + (0 if rid in cached else sizes.get(rid, 0))
            out[visit] = {
                "bytes": sum(per_url.values()),
                "requests": len(ours),
                "from_cache": len(cached & set(ours)),
                "largest": sorted(per_url.items(), key=lambda kv: -kv[1])[:5],
                "paths": sorted(per_url),
            }
    finally:
        driver.quit()
    return out


def release(url: str, data_dir: Path | None) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOMEDATA_DIR", "DATABASE_URL")}
    env["DATABASE_URL"] = url
    if data_dir:
        env["HOMEDATA_DIR"] = str(data_dir)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "homedata_dashboard.release"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        raise SystemExit(f"release failed: {done.stderr}")
    return time.perf_counter() - t0, done.stdout.strip().splitlines()[-1]


def new_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


def scale_run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "homedata-10x"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "scripts/generate_sample.py", "--scale", "10", "--out", str(folder)],
            cwd=EXAMPLE,
            check=True,
            capture_output=True,
            timeout=1800,
        )
        generated = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in folder.iterdir())
        db = new_database(url, "homedata_10x")
        load_s, load_line = release(db, folder)
        rerun_s, rerun_line = release(db, folder)
        figures: dict[str, Any] = {
            "generate_s": round(generated, 1),
            "files_mb": round(size / 1e6, 1),
            "release_load_s": round(load_s, 1),
            "release_load": load_line,
            "release_rerun_s": round(rerun_s, 1),
            "release_rerun": rerun_line,
        }
        for mode, env in (
            ("postgres", {"DATABASE_URL": db}),
            ("files", {"HOMEDATA_DIR": str(folder)}),
        ):
            with gunicorn(env) as (port, proc, boot):
                span = span_of(port)
                figures[mode] = {
                    "boot_s": round(boot, 2),
                    "latency_ms": latencies(port, args.requests // 2, span),
                    "memory": memory(proc),
                }
    return figures


def print_mode(f: dict[str, Any]) -> None:
    print(f"\n== {f['mode']} mode: gunicorn, 2 workers, --preload, 127.0.0.1 ==")
    print(f"boot to first answer: {f['boot_s']:.2f} s")
    print(f"{'endpoint':<34} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}   (target p95 <= 25 ms)")
    for path, r in f["latency_ms"].items():
        print(f"{path:<34} {r['first']:>9.2f} {r['p50']:>8.2f} {r['p95']:>8.2f}")
    m = f["memory"]
    print(
        f"RSS: workers {m['worker_rss_mb']} MB (PSS {m['worker_pss_mb']}), master "
        f"{m['master_rss_mb']} MB, total {m['total_rss_mb']} MB   (target <= 150 MB per worker)"
    )
    w = f.get("wire")
    if isinstance(w, dict):
        for visit in ("first", "repeat"):
            v = w[visit]
            print(
                f"{visit} visit: {v['bytes'] / 1024:,.0f} KB over the wire, {v['requests']} "
                f"requests ({v['from_cache']} from the browser cache); largest: "
                + ", ".join(f"{u} {n / 1024:,.0f} KB" for u, n in v["largest"][:3])
            )
        print(
            f"first visit offering brotli (as browsers do over HTTPS): "
            f"{w['first_offering_br_bytes'] / 1024:,.0f} KB   (targets: first <= 900 KB, "
            "repeat <= 100 KB)"
        )
    elif w:
        print(f"bytes on the wire: {w}")
    h = f.get("heavy")
    if h:
        print(
            f"{h['queries']} distinct heavy queries ({h['errors']} errors, {h['seconds']} s): "
            f"RSS {h['rss_before_mb']} -> peak {h['peak_total_rss_mb']} MB (master + 2 workers; "
            f"per process {h['peak_rss_mb_master_then_workers']}), {h['rss_after_mb']} MB after"
            "   (target <= 400 MB)"
        )


RELEASE_PHASE_LIMIT_S = 3600  # Heroku's release phase has a 1-hour timeout (Dev Center)


def targets(figures: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) for every figure the issue sets a target for."""
    out: list[tuple[str, str, str, bool]] = []
    wire = figures["files"].get("wire")
    if isinstance(wire, dict):
        first = wire["first_offering_br_bytes"] / 1024
        repeat = wire["repeat"]["bytes"] / 1024
        out.append(("first load over the wire (br)", f"{first:,.0f} KB", "<= 900 KB", first <= 900))
        out.append(("repeat visit over the wire", f"{repeat:,.0f} KB", "<= 100 KB", repeat <= 100))
    runs = [("files", figures["files"])]
    if isinstance(figures.get("postgres"), dict):
        runs.append(("postgres", figures["postgres"]))
    scale = figures.get("scale_10x")
    if scale:
        runs += [("10x postgres", scale["postgres"]), ("10x files", scale["files"])]
    for name, f in runs:
        for path, r in f["latency_ms"].items():
            out.append((f"{name} p95 {path}", f"{r['p95']:.1f} ms", "<= 25 ms", r["p95"] <= 25))
        worst = max(f["memory"]["worker_rss_mb"])
        out.append((f"{name} RSS per worker", f"{worst:.0f} MB", "<= 150 MB", worst <= 150))
        heavy = f.get("heavy")
        if heavy:
            peak = heavy["peak_total_rss_mb"]
            out.append((f"{name} peak RSS, heavy mix", f"{peak:.0f} MB", "<= 400 MB", peak <= 400))
    if scale:
        load = scale["release_load_s"]
        out.append(
            (
                "10x release-phase load",
                f"{load:.0f} s",
                f"< {RELEASE_PHASE_LIMIT_S} s",
                load < RELEASE_PHASE_LIMIT_S,
            )
        )
    return out


def print_targets(figures: dict[str, Any]) -> None:
    rows = targets(figures)
    print("\n== targets ==")
    for what, value, target, met in rows:
        print(f"{'met ' if met else 'MISS'}  {what:<52} {value:>10}   {target}")
    missed = [r for r in rows if not r[3]]
    print(f"{len(rows) - len(missed)} of {len(rows)} targets met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--skip-browser", action="store_true", help="no bytes-on-the-wire run")
    parser.add_argument("--skip-heavy", action="store_true", help="no 1,000-heavy-query run")
    parser.add_argument("--skip-scale", action="store_true", help="no 10x dataset run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--prebuilt",
        action="store_true",
        help="build the brotli assets into example_app/build/assets first (as bin/post_compile "
        "does on Heroku) and remove them afterwards",
    )
    args = parser.parse_args()

    prebuilt = EXAMPLE / "build" / "assets"
    if args.prebuilt and prebuilt.parent.exists():
        raise SystemExit(f"{prebuilt.parent} exists already: remove it or drop --prebuilt")
    if args.prebuilt:
        subprocess.run(
            [sys.executable, "-m", "homedata_dashboard.assets", str(prebuilt)],
            cwd=EXAMPLE,
            check=True,
            capture_output=True,
        )
    try:
        figures: dict[str, Any] = {"files": run_mode("files", {}, args)}
    finally:
        if args.prebuilt:
            import shutil

            shutil.rmtree(prebuilt.parent, ignore_errors=True)
    if postgres_bin() is None:
        figures["postgres"] = "skipped: Debian's postgresql is not installed"
    else:
        with postgres_server(free_port()) as url:
            db = new_database(url, "homedata_bench")
            load_s, _ = release(db, None)
            figures["release_sample_s"] = round(load_s, 2)
            figures["postgres"] = run_mode("postgres", {"DATABASE_URL": db}, args)
            if not args.skip_scale:
                figures["scale_10x"] = scale_run(url, args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_mode(figures["files"])
    if isinstance(figures["postgres"], str):
        print(f"\npostgres mode: {figures['postgres']}")
    else:
        print(f"\nrelease phase, sample into an empty database: {figures['release_sample_s']} s")
        print_mode(figures["postgres"])
    s = figures.get("scale_10x")
    if s:
        print("\n== 10x dataset (generate_sample.py --scale 10) ==")
        print(f"generate: {s['generate_s']} s, {s['files_mb']} MB of exports")
        print(f"release load into PostgreSQL: {s['release_load_s']} s ({s['release_load']})")
        print(f"release re-run: {s['release_rerun_s']} s ({s['release_rerun']})")
        for mode in ("postgres", "files"):
            f = s[mode]
            worst = max(f["latency_ms"].items(), key=lambda kv: kv[1]["p95"])
            print(
                f"{mode}: boot {f['boot_s']} s; worst p95 {worst[1]['p95']} ms ({worst[0]}); "
                f"RSS workers {f['memory']['worker_rss_mb']} MB (PSS "
                f"{f['memory']['worker_pss_mb']}), master {f['memory']['master_rss_mb']} MB"
            )
            for path, r in f["latency_ms"].items():
                print(f"   {path:<34} p50 {r['p50']:>7.2f}  p95 {r['p95']:>7.2f}")
    print_targets(figures)


if __name__ == "__main__":
    main()
