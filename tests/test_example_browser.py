"""The dashboard in a real browser: Debian's chromium, headless, against real gunicorn.

Skipped when chromium or chromedriver is absent (``.ci/run`` installs them). Selenium is told
exactly which driver to use, so selenium-manager never downloads anything.
"""

from __future__ import annotations

import contextlib
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


@pytest.mark.timeout(120)
def test_dashboard_draws_every_chart_without_console_errors(
    browser, port: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with serve_example(port):
        browser.get(f"http://127.0.0.1:{port}/")
        missing = _wait_for_charts(browser)
        # Every chart has data drawn in it, not just axes: at least one trace layer.
        traces = browser.execute_script(
            "return arguments[0].map(id => (document.getElementById(id).data || []).length);",
            CHARTS,
        )
        banner = browser.find_element("id", "sample-banner").text
        tables = browser.execute_script(
            "return ['doors-table','health-table','cleaning-table'].map("
            "id => document.querySelectorAll('#' + id + ' tbody tr').length);"
        )
        shot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(shot))
        browser.set_window_size(390, 2400)  # a phone
        browser.execute_script("window.dispatchEvent(new Event('resize'));")
        from selenium.webdriver.support.ui import WebDriverWait

        # Responsive: once Plotly has redrawn, nothing sticks out sideways.
        fits = "return document.documentElement.scrollWidth <= window.innerWidth;"
        with contextlib.suppress(Exception):
            WebDriverWait(browser, 10, poll_frequency=0.25).until(lambda d: d.execute_script(fits))
        fits_phone = browser.execute_script(fits)
        phone = tmp_path / "dashboard-phone.png"
        browser.save_screenshot(str(phone))
        log = browser.get_log("browser")
    errors = [entry for entry in log if entry["level"] == "SEVERE"]
    assert not missing, f"charts not drawn: {missing}"
    assert all(n > 0 for n in traces), dict(zip(CHARTS, traces, strict=False))
    assert "Sample data" in banner
    assert all(n > 0 for n in tables), tables
    assert not errors, errors
    assert shot.stat().st_size > 10_000
    assert fits_phone, "the page is wider than a 390 px phone screen"
    print(f"screenshots: {shot} {phone}")


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
