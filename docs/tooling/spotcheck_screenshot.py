"""Screenshot of a spot-check page for the documentation (``make docs-screenshot``).

In:  a spot-check page written by ``python -m pipeline spotcheck`` and the PNG path to write.
Out: the PNG: the page opened in headless Chromium (Debian ``chromium`` + ``chromium-driver``,
     driven by Selenium with an explicit driver path, so nothing is downloaded), the top of the page
     at a fixed window size once every audio element has loaded; with ``--clip PNG``, also the first
     sampled clip with a muted interval (else with a redaction, else the first) as it is judged.
Fails: exit 2 when Chromium, its driver or Selenium is missing; exit 1 when the page does not load,
     or the screenshot comes out blank.
"""

from __future__ import annotations

import argparse
import io
import pathlib
import shutil
import sys

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
ALL_AUDIO_LOADED = "return Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)"


FIRST_CLIP = """
const clips = Array.from(document.querySelectorAll('article.clip'));
return clips.find(c => c.querySelector('.timeline .muted')) || clips.find(c => c.querySelector('.ent')) || clips[0];
"""


def screenshot(page: pathlib.Path, width: int, height: int, clip: bool = False) -> tuple[bytes, bytes | None]:
    """The PNG of ``page``'s top ``width`` × ``height`` pixels in headless Chromium, and of one clip."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        raise FileNotFoundError("chromium or chromedriver not found (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.set_page_load_timeout(60)
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(ALL_AUDIO_LOADED))
        top = driver.get_screenshot_as_png()
        if not clip:
            return top, None
        card = driver.execute_script(FIRST_CLIP)
        driver.execute_script("arguments[0].scrollIntoView()", card)
        return top, card.screenshot_as_png
    finally:
        driver.quit()


def looks_blank(png: bytes) -> bool:
    """True when the image is (nearly) one colour."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return pixels.std() < 15


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=pathlib.Path, help="spot-check HTML page")
    parser.add_argument("png", type=pathlib.Path, help="PNG to write")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument("--clip", type=pathlib.Path, default=None, help="also write one sampled clip's card here")
    args = parser.parse_args(argv)
    try:
        top, card = screenshot(args.page, args.width, args.height, clip=args.clip is not None)
    except (ImportError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, png in ((args.png, top), (args.clip, card)):
        if path is None:
            continue
        if looks_blank(png):
            print(f"error: the screenshot of {args.page} is blank", file=sys.stderr)
            return 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        print(f"wrote {path} ({len(png) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
