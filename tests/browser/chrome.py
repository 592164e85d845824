"""A headless Chromium for scripts (benchmarks, screenshots) outside pytest's dash_duo."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options


def chromium(width: int = 1366, height: int = 768, still: bool = False) -> webdriver.Chrome:
    """Headless Chromium with the browser console captured; `still`: no blinking, sound allowed (screenshots)."""
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(arg)
    if still:
        options.add_argument("--autoplay-policy=no-user-gesture-required")
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    if still:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    return driver


def console_errors(driver: webdriver.Chrome) -> list[dict]:
    """Severe browser console entries since the last call."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def shot_options(doc: str, out: Path, warm: float, speed: float) -> argparse.ArgumentParser:
    """The options every screenshot script takes: --out, --warm (seconds of simulation), --speed, --only."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--out", default=str(out))
    p.add_argument("--warm", type=float, default=warm, help="seconds of simulation before the shots")
    p.add_argument("--speed", type=float, default=speed)
    p.add_argument("--only", default="", help="shoot only files containing this")
    return p


def shoot(url: str, file: Path, width: int, height: int, settle_s: float = 6.0, timeout_s: float = 30.0) -> list[dict]:
    """Open `url` in a still Chromium, wait for the live page, let it settle, save `file`; print and return console errors."""
    d = chromium(width, height, still=True)
    try:
        d.get(url)
        end = time.monotonic() + timeout_s
        while not d.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready)"):
            if time.monotonic() > end:
                raise TimeoutError(f"{url}: the live page did not load")
            time.sleep(0.2)
        time.sleep(settle_s)  # deferred layers, trend charts
        d.save_screenshot(str(file))
        errors = console_errors(d)
        print(f"{file.name} {url}: {len(errors)} console errors", *[e["message"][:200] for e in errors], sep="\n  ")
        return errors
    finally:
        d.quit()
