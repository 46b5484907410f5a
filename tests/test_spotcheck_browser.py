"""The spot-check report of a real run, opened in headless Chromium (Debian ``chromium`` +
``chromium-driver``, driven by Selenium): every audio element loads a playable source and
plays, every image decodes, nothing is fetched from anywhere, and a screenshot is saved to
``out/test-artifacts/``. Then the sign-off workflow as a compliance checker does it: verdicts
clicked for every sampled clip, the verdict file exported and fed to ``signoff`` (supported); a
second run of the job into the same output, one clip marked "PII audible" (not supported); and
the audit trail holding both runs and both sign-offs with no raw identifier in it.

Locally the test skips, with the reason, when Chromium or its driver is absent; under CI
(``CI=true``) their absence is a failure.
"""

from __future__ import annotations

import io
import json
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


def record_run_as_launcher(output) -> None:
    """Append the run's audit line the way the launcher does at the end of a run, unless it already
    did (``pipeline.run`` calls ``pipeline.audit.record_run``; until it does, the test stands in)."""
    from pipeline import audit

    with open(output / "run_report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    trail = audit.default_audit_path(str(output))
    if any(r.get("kind") == "run" and r.get("run_id") == report["run_id"] for r in audit.read(trail)):
        return
    audit.record_run(report, manifest=SAMPLE_MANIFEST, output_root=str(output), key_kind=report["key_source"])


def run_and_spotcheck(output, report, seed: int) -> None:
    """A real run of the job over data/samples into ``output`` and its claim-sized spot-check page."""
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(output), "--ephemeral-key", "--overwrite")
    assert proc.returncode == 0, proc.stderr[-3000:]
    record_run_as_launcher(output)
    proc = run_cli(
        "spotcheck", "--output", str(output), "--max-leak-rate", "0.01", "--confidence", "0.95",
        "--seed", str(seed), "--report", str(report),
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1 = a check failed; the page is still written
    # 1 % of the 8 reviewer clips is less than one clip: the claim needs every clip checked.
    assert "spot-check: 8 of 8 reviewer clips" in proc.stdout and "fewer than 1 %" in proc.stdout


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """(output directory, spot-check page) of a real run of the job over data/samples, via the CLI."""
    work = tmp_path_factory.mktemp("spot-real")
    run_and_spotcheck(work / "out", work / "report.html", seed=11)
    return work / "out", work / "report.html"


@pytest.fixture(scope="module")
def real_report(real_run):
    return real_run[1]


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


def give_verdicts(driver, page, checker: str, special: dict[int, str] | None = None, note: str = "") -> str:
    """Open the page fresh, click a verdict for every clip (clean unless ``special`` says otherwise),
    export, and return the exported JSON as the page shows it."""
    from selenium.webdriver.common.keys import Keys

    open_page(driver, page)
    driver.execute_script("window.localStorage.clear()")
    open_page(driver, page)
    clips = driver.find_elements("css selector", "article.clip")
    assert clips and driver.find_element("id", "progress").text == f"0 of {len(clips)} clips judged"
    for number, clip in enumerate(clips):
        kind = (special or {}).get(number, "clean")
        if number == 0 and kind == "clean":
            # Keyboard: focus the radio and press space, as a checker without a mouse would.
            radio = clip.find_element("css selector", "input.verdict-input[value='clean']")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", radio)
            radio.send_keys(Keys.SPACE)
            assert radio.is_selected()
            continue
        label = clip.find_element("css selector", f"label.verdict-choice[for$='-{kind}']")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
        label.click()
        if kind != "clean" and note:
            clip.find_element("css selector", "textarea.verdict-note").send_keys(note)
    assert driver.find_element("id", "progress").text.startswith(f"{len(clips)} of {len(clips)} clips judged")
    export = driver.find_element("id", "export-verdicts")
    export.click()  # no checker name yet: refused
    assert "Enter your name" in driver.find_element("id", "export-status").text
    driver.find_element("id", "checker-name").send_keys(checker)
    export.click()
    assert driver.find_element("id", "export-status").text.startswith(f"Exported {len(clips)} verdicts")
    exported = driver.find_element("id", "verdict-json").get_property("value")
    # Progress survives a reload (localStorage, per run and seed).
    open_page(driver, page)
    assert driver.find_element("id", "progress").text.startswith(f"{len(clips)} of {len(clips)} clips judged")
    assert driver.find_element("id", "checker-name").get_property("value") == checker
    return exported


def test_verdicts_given_in_the_page_sign_off_two_runs_and_land_in_the_audit_trail(browser, real_run, tmp_path, capsys):
    from pipeline import audit
    from pipeline.cli import main
    from pipeline.config import load_config
    from pipeline.verify import needles_from_rows, read_manifest_rows, scan_file

    output, page = real_run
    # First run: every clip clean -> the claim is supported.
    exported = give_verdicts(browser, page, "Compliance Checker One")
    doc = json.loads(exported)
    assert doc["checker"] == "Compliance Checker One" and doc["claim"] == {"max_leak_rate": 0.01, "confidence": 0.95}
    assert len(doc["verdicts"]) == len(doc["sample"]["review_ids"]) == 8
    assert {v["verdict"] for v in doc["verdicts"]} == {"clean"}
    first_ids = doc["sample"]["review_ids"]
    (tmp_path / "first.json").write_text(exported, encoding="utf-8")
    assert main(["signoff", "--output", str(output), "--verdicts", str(tmp_path / "first.json")]) == 0
    assert "sign-off SUPPORTED" in capsys.readouterr().out
    with open(output / "signoff.json", encoding="utf-8") as handle:
        first = json.load(handle)
    assert first["supported"] and first["run_id"] == doc["run_id"] and first["checked"] == 8

    # Second run into the same output: one clip "PII audible" -> the sign-off fails.
    second_page = tmp_path / "second.html"
    run_and_spotcheck(output, second_page, seed=12)
    exported = give_verdicts(browser, second_page, "Compliance Checker Two", {3: "pii_audible"}, "a number is audible")
    doc = json.loads(exported)
    assert doc["run_id"] != first["run_id"]
    flagged = doc["sample"]["review_ids"][3]
    (tmp_path / "second.json").write_text(exported, encoding="utf-8")
    proc = run_cli("signoff", "--output", str(output), "--verdicts", str(tmp_path / "second.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert "sign-off NOT SUPPORTED" in proc.stdout and "1 clip(s) routed to the restricted side" in proc.stdout
    assert flagged not in proc.stdout + proc.stderr
    (restricted,) = (output / "escalation" / "signoff").glob("findings-*.jsonl")
    lines = [json.loads(line) for line in restricted.read_text(encoding="utf-8").splitlines()]
    assert [(r["review_id"], r["verdict"], r["note"]) for r in lines] == [
        (flagged, "pii_audible", "a number is audible")
    ]

    # The audit trail: two runs, two sign-offs (supported, then not), as a table and as records.
    assert main(["audit", str(output)]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[2] for row in rows] == ["run", "signoff", "run", "signoff"]
    assert "supported <1 % @95 %" in rows[1] and "NOT supported" in rows[3] and "pii_audible=1" in rows[3]
    records = audit.read(audit.default_audit_path(str(output)))
    assert [(r["kind"], r.get("supported")) for r in records] == [
        ("run", None), ("signoff", True), ("run", None), ("signoff", False),
    ]  # fmt: skip
    assert records[0]["run_id"] == first["run_id"] and records[2]["run_id"] == doc["run_id"]
    assert all(r["leak_check"]["passed"] for r in records if r["kind"] == "run")
    assert all(r["manifest_sha256"] == records[0]["manifest_sha256"] for r in records if r["kind"] == "run")

    # No raw identifier, and no clip named, anywhere in the trail: the leak check scans it.
    trail = audit.default_audit_path(str(output))
    allowed = load_config().transcript.allow_list
    needles = needles_from_rows(read_manifest_rows(SAMPLE_MANIFEST), allowed)
    assert needles.count > 20
    assert scan_file(trail, needles) == []
    with open(trail, encoding="utf-8") as handle:
        text = handle.read()
    assert not any(rid in text for rid in first_ids + doc["sample"]["review_ids"])
    assert "a number is audible" not in text
