"""The spot-check report of a real run, opened in headless Chromium (Debian ``chromium`` +
``chromium-driver``, driven by Selenium): every audio element loads a playable source and
plays, every image decodes, nothing is fetched from anywhere, and a screenshot is saved to
``out/test-artifacts/``.

Locally the test skips, with the reason, when Chromium or its driver is absent; under CI
(``CI=true``) their absence is a failure.
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest

from tests.conftest import REPO, SAMPLE_MANIFEST, run_cli
from tests.test_spotcheck import FULL_REPORT, write_run

ARTIFACTS = os.path.join(REPO, "out", "test-artifacts")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=1280,1800",
)


def _missing(reason: str):
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (required under CI: apt-get install chromium chromium-driver)")
    pytest.skip(f"{reason}; install Debian chromium + chromium-driver to run the browser test")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        _missing(f"chromium ({binary or 'missing'}) or chromedriver ({driver_path or 'missing'}) not found")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # Explicit driver path: Selenium Manager never runs, so nothing is downloaded.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def real_report(tmp_path_factory):
    """The spot-check of a real run of the job over data/samples, written by the CLI."""
    work = tmp_path_factory.mktemp("spot-real")
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(work / "out"), "--ephemeral-key")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = work / "report.html"
    proc = run_cli("spotcheck", "--output", str(work / "out"), "--sample", "6", "--seed", "11", "--report", str(report))
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1 = a check failed; the page is still written
    assert "spot-check: 6 of" in proc.stdout
    return report


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory):
    """A run with muted intervals and every governance field recorded."""
    from pipeline.spotcheck.build import spot_check

    work = tmp_path_factory.mktemp("spot-synth")
    write_run(work / "run", FULL_REPORT)
    report = work / "report.html"
    report.write_text(spot_check(str(work / "run"), sample=10, seed=7).html, encoding="utf-8")
    return report


AUDIO_STATE = """
return Array.from(document.querySelectorAll('audio')).map(a => ({
  readyState: a.readyState, duration: a.duration, error: a.error ? a.error.code : null,
  mime: a.src.slice(5, a.src.indexOf(';')), canPlay: a.canPlayType(a.src.slice(5, a.src.indexOf(';'))), expected: parseFloat(a.dataset.duration),
  isData: a.currentSrc.startsWith('data:')}));
"""

PLAY_ALL = """
const done = arguments[arguments.length - 1];
const players = Array.from(document.querySelectorAll('audio'));
Promise.all(players.map(a => { a.muted = true; return a.play().then(
    () => new Promise(r => setTimeout(() => { const t = a.currentTime; a.pause(); r(t); }, 400)),
    e => 'play() rejected: ' + e.name); })).then(done);
"""


def open_page(driver, path):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.as_uri())
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)"
        )
    )


def save_screenshot(driver, name: str) -> bytes:
    png = driver.get_screenshot_as_png()
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, name), "wb") as handle:
        handle.write(png)
    return png


def assert_not_blank(png: bytes) -> None:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert pixels.shape[0] > 500 and pixels.std() > 15, "screenshot looks blank"


@pytest.mark.parametrize("which", ["real_report", "synthetic_report"])
def test_every_audio_element_loads_and_plays(browser, which, request):
    report = request.getfixturevalue(which)
    open_page(browser, report)
    states = browser.execute_script(AUDIO_STATE)
    assert states, "no audio elements"
    for state in states:
        assert state["isData"] and state["error"] is None, state
        assert state["canPlay"] in ("probably", "maybe"), state
        assert state["readyState"] >= 1, state
        assert abs(state["duration"] - state["expected"]) < 0.05, state
    if which == "synthetic_report":
        assert {s["mime"] for s in states} == {"audio/flac", "audio/ogg"}, "both formats the job writes"
    browser.set_script_timeout(60)
    played = browser.execute_async_script(PLAY_ALL)
    assert all(isinstance(t, int | float) and t > 0 for t in played), played


@pytest.mark.parametrize("which", ["real_report", "synthetic_report"])
def test_images_decode_and_nothing_is_fetched(browser, which, request):
    report = request.getfixturevalue(which)
    open_page(browser, report)
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);"
    )
    assert len(images) >= 2
    assert all(done and w > 400 and h > 150 for done, w, h in images), images
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert all(name.startswith("data:") for name in fetched), fetched


def test_screenshot_shows_a_readable_page(browser, real_report, synthetic_report):
    open_page(browser, real_report)
    assert "Compliance spot-check" in browser.title or "Spot-check" in browser.title
    assert_not_blank(save_screenshot(browser, "spotcheck-real-run.png"))
    open_page(browser, synthetic_report)
    clip = browser.find_element("css selector", "article.clip:has(.timeline .muted)")
    browser.execute_script("arguments[0].scrollIntoView()", clip)
    png = clip.screenshot_as_png
    with open(os.path.join(ARTIFACTS, "spotcheck-clip-with-muting.png"), "wb") as handle:
        handle.write(png)
    browser.execute_script("window.scrollTo(0, 0)")
    assert_not_blank(save_screenshot(browser, "spotcheck-synthetic-run.png"))
    muted = browser.execute_script(
        "return Array.from(document.querySelectorAll('.timeline .muted')).map(m => m.getBoundingClientRect().width);"
    )
    assert muted and all(w > 2 for w in muted), muted
