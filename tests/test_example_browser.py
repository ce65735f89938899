"""The dashboard in a real browser: Debian's chromium, headless, against real gunicorn.

Skipped when chromium or chromedriver is absent (``.ci/run`` installs them). Selenium is told
exactly which driver to use, so selenium-manager never downloads anything.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest
from example_app_support import serve_example

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
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
        " return !(el && el.chart && el.querySelector('.chart-area svg[role=img]')); });"
    )
    missing: list[str] = []

    def done(d) -> bool:  # type: ignore[no-untyped-def]
        nonlocal missing
        missing = d.execute_script(script, CHARTS)
        return not missing

    with contextlib.suppress(Exception):
        WebDriverWait(driver, timeout, poll_frequency=0.25).until(done)
    return missing


# Per chart: {room name: colour} as drawn: the series lines' strokes in the SVG matched with
# their legend entries, the daily mean, the indoor-vs-outdoor dots, the health table's swatches.
ROOM_COLOURS_JS = """
const out = {};
const add = (chart, name, colour) => { (out[chart] = out[chart] || {})[name] = colour; };
for (const id of ['chart-temperature', 'chart-humidity']) {
  const el = document.getElementById(id);
  const strokes = new Set(Array.from(el.querySelectorAll('svg path[stroke]'))
    .map(p => p.getAttribute('stroke')));
  for (const item of el.querySelectorAll('.chart-legend .legend-item')) {
    const colour = item.querySelector('.swatch').style.backgroundColor;
    const layer = el.chart.layers.find(l => l.name === item.textContent);
    if (!strokes.has(layer.color)) add(id, 'not drawn: ' + layer.name, layer.color);
    add(id, item.textContent, colour);
  }
}
const daily = document.getElementById('chart-daily').chart.layers
  .find(l => l.name.endsWith(' mean'));
add('chart-daily', daily.name.replace(/ mean$/, ''), daily.color);
const room = document.getElementById('outdoor-room');
const dots = document.querySelector('#chart-outdoor svg g[fill-opacity] circle');
add('chart-outdoor', room.options[room.selectedIndex].text, dots.parentNode.getAttribute('fill'));
for (const td of document.querySelectorAll('#health-table tbody td:first-child')) {
  add('health-table', td.textContent, td.querySelector('.swatch').style.backgroundColor);
}
return out;
"""

# Layout checks: nothing wider than the screen; in every chart each label inside the SVG,
# no two labels on top of each other, and an accessible name (role=img, aria-label, <title>).
LAYOUT_JS = """
const problems = [];
if (document.documentElement.scrollWidth > window.innerWidth)
  problems.push('page wider than screen');
for (const el of document.querySelectorAll('.chart')) {
  const svg = el.querySelector('svg');
  if (!svg) { problems.push(el.id + ': no svg'); continue; }
  if (svg.getAttribute('role') !== 'img' || !svg.getAttribute('aria-label')
      || !svg.querySelector('title') || !svg.querySelector('title').textContent)
    problems.push(el.id + ': no accessible name');
  const box = svg.getBoundingClientRect();
  const card = el.closest('.card').getBoundingClientRect();
  if (box.right > card.right + 1 || box.left < card.left - 1)
    problems.push(el.id + ': wider than its card');
  const rects = [];
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    if (!r.width) continue;
    if (r.left < box.left - 1 || r.right > box.right + 1
        || r.top < box.top - 1 || r.bottom > box.bottom + 1)
      problems.push(el.id + ': label clipped: ' + t.textContent);
    for (const [o, text] of rects) {
      if (r.left < o.right - 1 && o.left < r.right - 1
          && r.top < o.bottom - 1 && o.top < r.bottom - 1)
        problems.push(el.id + ': labels overlap: ' + text + ' / ' + t.textContent);
    }
    rects.push([r, t.textContent]);
  }
  const legend = el.querySelector('.chart-legend');
  if (legend && !legend.hidden && legend.getBoundingClientRect().bottom > box.top + 1)
    problems.push(el.id + ': legend over the plot');
}
return problems;
"""

# Hover: a pointer over the middle of each chart's plot shows a tooltip with values.
HOVER_JS = """
const out = {};
for (const id of arguments[0]) {
  const el = document.getElementById(id);
  const overlay = el.querySelector('svg rect[fill=transparent]');
  const r = overlay.getBoundingClientRect();
  let text = '';
  for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.5], [0.7, 0.3], [0.5, 0.8], [0.9, 0.2], [0.1, 0.9]]) {
    overlay.dispatchEvent(new PointerEvent('pointermove', {bubbles: true,
      clientX: r.left + r.width * fx, clientY: r.top + r.height * fy}));
    const tip = el.querySelector('.chart-tip');
    if (!tip.hidden && tip.textContent) { text = tip.textContent; break; }
  }
  overlay.dispatchEvent(new PointerEvent('pointerleave', {bubbles: false}));
  out[id] = text;
}
return out;
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
            "return arguments[0].map(id => (document.getElementById(id).chart || {layers: []})"
            ".layers.length);",
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
        hovers = browser.execute_script(HOVER_JS, CHARTS)
        dates = browser.execute_script(
            "return Array.from(document.querySelectorAll('#chart-temperature svg text'))"
            ".map(t => t.textContent);"
        )
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
    assert all(hovers.values()), hovers
    assert any(re.fullmatch(r"20\d\d", d) for d in dates), dates  # a date axis, with years
    assert any(d[:3] in MONTHS for d in dates) or size == "phone", dates
    assert not errors, errors
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


@pytest.mark.timeout(120)
def test_dragging_zooms_and_a_narrow_window_fetches_full_resolution(  # type: ignore[no-untyped-def]
    browser, port: int
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(1280, 1600)
    with serve_example(port):
        browser.get(f"http://127.0.0.1:{port}/")
        assert not _wait_for_charts(browser)
        before = browser.find_element("id", "note-temperature").text
        overlay = browser.find_element(
            "css selector", "#chart-temperature svg rect[fill=transparent]"
        )
        width = overlay.rect["width"]
        # A drag across the middle fifth of the plot: the chart shows that window, fetched anew.
        ActionChains(browser).move_to_element_with_offset(
            overlay, -width // 10, 0
        ).click_and_hold().move_by_offset(width // 5, 0).release().perform()
        WebDriverWait(browser, 20).until(
            lambda d: d.find_element("id", "note-temperature").text != before
        )
        spec_range = browser.execute_script(
            "return document.getElementById('chart-temperature').chartSpec.range;"
        )
        assert spec_range and spec_range[1] > spec_range[0]
        csv = browser.find_element("css selector", 'a[data-csv="temperature"]')
        assert "start=" in csv.get_attribute("href") and "end=" in csv.get_attribute("href")
        assert browser.find_elements("css selector", "#chart-temperature .legend-item.reset")
        # Three days: every 10-minute reading, from the zoom endpoint.
        browser.execute_script(
            "document.getElementById('chart-temperature').chartSpec"
            ".zoom([Date.UTC(2018, 2, 1), Date.UTC(2018, 2, 4)]);"
        )
        WebDriverWait(browser, 20).until(
            lambda d: "Full 10-minute resolution" in d.find_element("id", "note-temperature").text
        )
        browser.find_element("css selector", "#chart-temperature .legend-item.reset").click()
        WebDriverWait(browser, 20).until(
            lambda d: "Min/max per bucket" in d.find_element("id", "note-temperature").text
        )
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


@pytest.mark.timeout(120)
def test_without_javascript_every_chart_says_where_its_numbers_are(  # type: ignore[no-untyped-def]
    browser, port: int
) -> None:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    with serve_example(port):
        browser.get(f"http://127.0.0.1:{port}/")
        shown = browser.execute_script(
            "return Array.from(document.querySelectorAll('.chart')).map(el => {"
            " const p = el.querySelector('p.fallback');"
            " return [el.id, !!p && p.getBoundingClientRect().height > 0"
            " && el.getBoundingClientRect().height < 200]; });"
        )
    assert len(shown) == len(CHARTS) and all(ok for _, ok in shown), shown
