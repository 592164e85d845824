"""A headless Chromium for scripts (benchmarks, screenshots) outside pytest's dash_duo."""
from __future__ import annotations

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
