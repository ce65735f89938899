"""The dashboard in a real browser: Debian's chromium, headless, against real gunicorn.

Skipped when chromium or chromedriver is absent (``.ci/run`` installs them). Selenium is told
exactly which driver to use, so selenium-manager never downloads anything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from example_app_support import serve_example

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
CHARTS = [
    "chart-temperature",
    "chart-humidity",
    "chart-daily",
    "chart-outdoor",
    "chart-doors-heatmap",
    "chart-doors-longest",
    "chart-air-profile",
    "chart-air-daily",
    "chart-health",
    "chart-workouts",
]


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not (CHROMEDRIVER.exists() and CHROMIUM.exists() and shutil.which("chromium")):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,2400",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for_charts(driver, timeout: float = 30) -> list[str]:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    script = (
        "return arguments[0].filter(id => {"
        " const el = document.getElementById(id);"
        " return !(el && el.querySelector('.plot-container svg.main-svg')); });"
    )
    missing: list[str] = []

    def done(d) -> bool:  # type: ignore[no-untyped-def]
        nonlocal missing
        missing = d.execute_script(script, CHARTS)
        return not missing

    with contextlib.suppress(Exception):
        WebDriverWait(driver, timeout, poll_frequency=0.25).until(done)
    return missing


# Per chart: {room name: colour} as drawn (series lines, the daily mean, indoor-vs-outdoor dots).
ROOM_COLOURS_JS = """
const out = {};
const add = (chart, name, colour) => { (out[chart] = out[chart] || {})[name] = colour; };
for (const id of ['chart-temperature', 'chart-humidity']) {
  for (const t of document.getElementById(id).data) add(id, t.name, t.line.color);
}
const daily = document.getElementById('chart-daily').data.find(t => t.name.endsWith(' mean'));
add('chart-daily', daily.name.replace(/ mean$/, ''), daily.line.color);
const room = document.getElementById('outdoor-room');
add('chart-outdoor', room.options[room.selectedIndex].text,
    document.getElementById('chart-outdoor').data[0].marker.color);
for (const td of document.querySelectorAll('#health-table tbody td:first-child')) {
  add('health-table', td.textContent, td.querySelector('.swatch').style.backgroundColor);
}
return out;
"""

# Layout checks: nothing wider than the screen, the toolbar on no legend, tick labels inside.
LAYOUT_JS = """
const problems = [];
if (document.documentElement.scrollWidth > window.innerWidth)
  problems.push('page wider than screen');
for (const gd of document.querySelectorAll('.js-plotly-plot')) {
  const box = gd.getBoundingClientRect();
  const bar = gd.querySelector('.modebar');
  const legend = gd.querySelector('.legend');
  if (bar && legend && getComputedStyle(bar).display !== 'none' && bar.offsetParent !== null) {
    const a = bar.getBoundingClientRect(), b = legend.getBoundingClientRect();
    const o = 2;  // px of touching edges that cover nothing
    const across = a.left + o < b.right && b.left + o < a.right;
    if (a.width && across && a.top + o < b.bottom && b.top + o < a.bottom)
      problems.push(gd.id + ': toolbar over legend');
  }
  for (const tick of gd.querySelectorAll('.ytick text, .xtick text')) {
    const r = tick.getBoundingClientRect();
    if (r.width && (r.left < box.left - 1 || r.right > box.right + 1))
      problems.push(gd.id + ': label clipped: ' + tick.textContent);
  }
}
return problems;
"""


def _rgb(colour: str) -> str:
    """'#1f77b4' and 'rgb(31, 119, 180)' alike as '31,119,180'."""
    colour = colour.strip()
    if colour.startswith("#"):
        return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return ",".join(part.strip() for part in colour[colour.index("(") + 1 : -1].split(",")[:3])


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HOMEDATA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.timeout(180)
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_dashboard_draws_every_chart_honestly(
    browser, port: int, tmp_path: Path, size: str
) -> None:  # type: ignore[no-untyped-def]
    if size == "phone":  # an iPhone-sized viewport, touch, as the page sees it on a phone
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
        )
    else:
        browser.set_window_size(1280, 2400)
    with serve_example(port):
        browser.get(f"http://127.0.0.1:{port}/")
        missing = _wait_for_charts(browser)
        traces = browser.execute_script(
            "return arguments[0].map(id => (document.getElementById(id).data || []).length);",
            CHARTS,
        )
        banner = browser.find_element("id", "sample-banner").text
        badges = browser.execute_script(
            "return Array.from(document.querySelectorAll('.card')).map(card => ["
            " Array.from(card.querySelectorAll('.chart, table.facts')).map(e => e.id).join(' '),"
            " !!card.querySelector('.card-head .sample-badge')]);"
        )
        tables = browser.execute_script(
            "return ['doors-table','health-table','cleaning-table'].map("
            "id => document.querySelectorAll('#' + id + ' tbody tr').length);"
        )
        colours = browser.execute_script(ROOM_COLOURS_JS)
        problems = browser.execute_script(LAYOUT_JS)
        height = browser.execute_script("return document.documentElement.scrollHeight;")
        if size == "phone":
            browser.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": min(height, 9000), "deviceScaleFactor": 1, "mobile": True},
            )
        else:
            browser.set_window_size(1280, min(height + 100, 9000))
        shot = _screenshot_dir(tmp_path) / f"dashboard-{size}.png"
        browser.save_screenshot(str(shot))
        log = browser.get_log("browser")
    errors = [entry for entry in log if entry["level"] == "SEVERE"]
    assert not missing, f"charts not drawn: {missing}"
    assert all(n > 0 for n in traces), dict(zip(CHARTS, traces, strict=False))
    assert "Sample data" in banner
    unflagged = [ids for ids, flagged in badges if not flagged]
    assert not unflagged, f"cards fed by sample data without the notice: {unflagged}"
    assert all(n > 0 for n in tables), tables
    by_room: dict[str, set[str]] = {}
    for chart in colours.values():
        for room, colour in chart.items():
            by_room.setdefault(room, set()).add(_rgb(colour))
    assert len(by_room) == 4 and all(len(c) == 1 for c in by_room.values()), colours
    assert set(colours) == {
        "chart-temperature",
        "chart-humidity",
        "chart-daily",
        "chart-outdoor",
        "health-table",
    }
    assert not problems, problems
    assert not errors, errors
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


@pytest.mark.timeout(120)
def test_zooming_fetches_full_resolution(browser, port: int) -> None:  # type: ignore[no-untyped-def]
    with serve_example(port):
        browser.get(f"http://127.0.0.1:{port}/")
        assert not _wait_for_charts(browser)
        browser.execute_script(
            "Plotly.relayout('chart-temperature',"
            " {'xaxis.range': ['2018-03-01 00:00:00', '2018-03-04 00:00:00']});"
        )
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 20).until(
            lambda d: "Full 10-minute resolution" in d.find_element("id", "note-temperature").text
        )
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
