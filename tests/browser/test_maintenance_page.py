"""The maintenance page in headless Chromium on the whole stack: app.py's server (security, engine, work orders),
real redis-server, the real lighting simulator with lamps failing. Orders listed and mapped, one moved, rounds computed.

`python -m tests.browser.test_maintenance_page` takes the screenshots of docs/screenshots/ (1920x1080 and 1366x768).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from services.settings import PROJECT_ROOT, Settings
from tests.command_world import SimDriver

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
PARIS = ZoneInfo("Europe/Paris")
FAULTS = ("defectiveLamp", "brokenLantern", "columnIssue")


@dataclass
class MaintenanceStack:
    url: str
    server: object
    runtime: object
    lum: SimDriver
    _stops: list = field(default_factory=list)

    @property
    def service(self):
        return self.server.extensions["vigie.workorders"]

    def stop(self) -> None:
        for stop in reversed(self._stops):
            with contextlib.suppress(Exception):  # best effort at teardown
                stop()


def start_stack(redis_url: str | None, state_dir: Path, faults: int = 40) -> MaintenanceStack:
    """The app factory's control room, Montpellier's lamps (the simulator's standing faults), `faults` more failing."""
    from services.simulators import build

    from .harness import serve_room, stack_settings, stop_http

    settings = stack_settings(Settings(redis_url=redis_url, run_simulators=False, state_dir=state_dir, secret_key="test-secret",
                                       snapshot_interval_s=1.0)).with_(anonymous_role=None)
    room, url, http = serve_room(settings)
    stops: list = [room.stop, lambda: stop_http(http)]
    try:
        lum = SimDriver(build("lighting", seed=7, start=datetime(2026, 1, 15, 20, 0, tzinfo=PARIS)), room.runtime.redis_url)
        lum.sim.lamp_failures_per_day = lum.sim.cabinet_trips_per_day = 0.0
        stops.append(lum.close)
        security = room.server.extensions["vigie.security"]
        for name, role, domains in (("olga", "operator", "lighting"), ("vera", "viewer", None)):
            security.store.create_user(name, role, domains, PASSWORD, now=time.time())
        lum.publish(lum.sim.state())
        engine = room.runtime.engine
        deadline = time.monotonic() + 60
        while len(engine.core.state.domain("lighting")) < 30000 and time.monotonic() < deadline:
            time.sleep(0.1)
        lamps = [a for a in engine.core.state.domain("lighting").values() if a.type == "Streetlight"]
        for n, lamp in enumerate(lamps[:: max(1, len(lamps) // faults)][:faults]):
            lum.sim.fail_lamp(lamp.id, FAULTS[n % 3] if n % 7 else "columnIssue", repair_after_s=86400)
        lum.step()
        stops.append(lum.run_prompt())  # heartbeats: the supervisor stays live
        service = room.server.extensions["vigie.workorders"]
        while len(service.book) < faults + 100 and time.monotonic() < deadline + 30:
            time.sleep(0.1)
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    return MaintenanceStack(url, room.server, room.runtime, lum, stops)


def sign_in(driver, stack: MaintenanceStack, name: str, path: str = "/maintenance") -> None:
    from urllib.parse import quote

    driver.get(f"{stack.url}/auth/signin?next={quote(path, safe='/?=&')}")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button, form [type=submit]").click()


def wait_js(driver, script: str, timeout: float = 10.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    import redis

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    s = start_stack(url, tmp_path_factory.mktemp("vigie"))
    yield s
    s.stop()


def test_an_operator_lists_plans_an_order_and_computes_the_rounds(dash_duo, stack: MaintenanceStack) -> None:
    driver = dash_duo.driver
    sign_in(driver, stack, "olga")
    dash_duo.wait_for_contains_text("#mnt-count", "bon(s) de travail", timeout=20)
    shown = int(dash_duo.find_element("#mnt-count").text.split()[0].replace("\u202f", ""))
    assert shown == len(stack.service.pending("lighting")) >= 40  # the supervisor's standing faults and the 40 failed here
    assert "Maintenance" in dash_duo.find_element("#nav-maintenance").text
    wait_js(driver, "return document.querySelectorAll('#mnt-grid .ag-row').length >= 10", 10, "the grid's rows")
    first = dash_duo.find_element("#mnt-grid .ag-center-cols-container .ag-row[row-index='0']")
    assert "Haute" in first.text  # a column issue first: high priority, then the oldest
    first.click()
    dash_duo.wait_for_contains_text("#mnt-detail", "Historique", timeout=10)
    order_id = dash_duo.find_element(".mnt-detail-id").text
    dash_duo.find_element("#mnt-note").send_keys("nacelle réservée")
    next(b for b in driver.find_elements(By.CSS_SELECTOR, "#mnt-detail button") if b.text == "Planifier").click()
    dash_duo.wait_for_contains_text("#mnt-feedback", "Planifié", timeout=10)
    dash_duo.wait_for_contains_text("#mnt-detail", "nacelle réservée", timeout=10)
    assert stack.service.get(order_id)["status"] == "planned"
    audited = stack.server.extensions["vigie.security"].audit.search(action="workorder.update")
    assert any(e.actor == "olga" and e.target == order_id for e in audited)
    from selenium.webdriver.common.action_chains import ActionChains

    the_map = dash_duo.find_element("#mnt-map")
    # selenium 4.2: offsets from the top-left corner; the map's top right is outside the territory (no order there)
    ActionChains(driver).move_to_element_with_offset(the_map, the_map.size["width"] - 25, 25).click().perform()
    dash_duo.wait_for_contains_text("#mnt-depot-text", "le dépôt placé sur la carte", timeout=10)  # the depot, top right
    dash_duo.find_element("#mnt-compute").click()
    dash_duo.wait_for_contains_text("#mnt-rounds", "défaut(s) en 2 tournée(s)", timeout=60)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#mnt-rounds a[href*='format=gpx']")) >= 1
    wait_js(driver, "return document.querySelectorAll('.mnt-stop').length >= 10", 10, "the rounds' stops on the map")
    csv_href = dash_duo.find_element("#mnt-csv").get_attribute("href")
    assert "format=csv" in csv_href and "status=pending" in csv_href
    errors = [e for e in dash_duo.get_logs() if "favicon" not in e.get("message", "")]
    assert errors == []


def test_a_viewer_reads_in_english_and_cannot_change(dash_duo, stack: MaintenanceStack) -> None:
    driver = dash_duo.driver
    sign_in(driver, stack, "vera", "/maintenance?lang=en")
    dash_duo.wait_for_contains_text("#mnt-count", "work order(s)", timeout=20)
    dash_duo.find_element("#mnt-grid .ag-center-cols-container .ag-row[row-index='1']").click()
    dash_duo.wait_for_contains_text("#mnt-detail", "Your role may read", timeout=10)
    assert not driver.find_elements(By.CSS_SELECTOR, "#mnt-detail button")
    dash_duo.find_element("#mnt-compute").click()
    dash_duo.wait_for_contains_text("#mnt-rounds", "Rounds not computed", timeout=10)


def screenshots(out: Path = PROJECT_ROOT / "docs" / "screenshots") -> None:
    """The maintenance page at 1920x1080 and 1366x768: the list and map, then the rounds computed for 3 crews."""
    import tempfile

    from .chrome import chromium

    out.mkdir(parents=True, exist_ok=True)
    stack = start_stack(None, Path(tempfile.mkdtemp()), faults=120)
    try:
        for width, height in ((1920, 1080), (1366, 768)):
            driver = chromium(width, height, still=True)
            size = f"{width}x{height}"
            try:
                sign_in(driver, stack, "olga")
                wait_js(driver, "return document.querySelectorAll('#mnt-grid .ag-row').length >= 10", 30, "the grid")
                driver.find_element(By.CSS_SELECTOR, "#mnt-grid .ag-center-cols-container .ag-row[row-index='0']").click()
                wait_js(driver, "return /Historique/.test(document.querySelector('#mnt-detail').textContent)", 10, "the detail")
                time.sleep(1.5)
                driver.save_screenshot(str(out / f"maintenance-orders-{size}.png"))
                driver.execute_script("window.dash_clientside.set_props('mnt-crews', {value: 3});")
                time.sleep(0.3)
                driver.find_element(By.ID, "mnt-compute").click()
                wait_js(driver, "return document.querySelectorAll('.mnt-stop').length >= 10", 60, "the rounds")
                time.sleep(1.5)
                driver.save_screenshot(str(out / f"maintenance-rounds-{size}.png"))
            finally:
                driver.quit()
    finally:
        stack.stop()


if __name__ == "__main__":
    screenshots()
