"""Commands in headless Chromium on the whole stack: app.py's server (security, engine, push), real redis-server,
the real lighting simulator answering promptly. From the map selection to the applied state, as an operator.

`python -m tests.browser.test_commands` takes the screenshots of docs/screenshots/.
"""
from __future__ import annotations

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


@dataclass
class CommandStack:
    """A running Vigie with commands, an operator and a viewer, and the lighting supervisor answering at once."""

    url: str
    server: object
    runtime: object
    lum: SimDriver
    _stops: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # other simulators driven by the test ("eau": the water supervisor)

    @property
    def service(self):
        return self.server.extensions["vigie.commands"]

    def stop(self) -> None:
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


def start_command_stack(redis_url: str | None, state_dir: Path, start: datetime | None = None, water: bool = False) -> CommandStack:
    """The app factory's control room on a free port, the lighting simulator stepped as soon as a command arrives."""
    from services.simulators import build

    from .harness import serve_room, stop_http, stack_settings

    settings = stack_settings(Settings(redis_url=redis_url, run_simulators=False, state_dir=state_dir, secret_key="test-secret",
                                      command_rate_per_min=1000, snapshot_interval_s=1.0)).with_(anonymous_role=None)
    room, url, http = serve_room(settings)
    runtime, server = room.runtime, room.server
    stops: list = [room.stop, lambda: stop_http(http)]
    extra: dict = {}
    try:
        lum = SimDriver(build("lighting", seed=11, start=start or datetime.now(PARIS)), runtime.redis_url)
        lum.sim.lamp_failures_per_day = lum.sim.cabinet_trips_per_day = 0.0
        stops.append(lum.close)
        security = server.extensions["vigie.security"]
        for name, role, domains in (("claire", "operator", "lighting,water"), ("victor", "viewer", None)):
            security.store.create_user(name, role, domains, PASSWORD, now=time.time())
        lum.publish(lum.sim.state())
        engine = runtime.engine
        deadline = time.monotonic() + 60
        while len(engine.core.state.domain("lighting")) < 30000 and time.monotonic() < deadline:
            time.sleep(0.1)
        stops.append(lum.run_prompt())
        if water:
            eau = SimDriver(build("water", seed=11, start=start or datetime.now(PARIS)), runtime.redis_url)
            eau.sim.incident_rate = 0.0
            extra["eau"] = eau
            stops.append(eau.close)
            eau.publish(eau.sim.state())
            while len(engine.core.state.domain("water")) < 1000 and time.monotonic() < deadline + 30:
                time.sleep(0.1)
            stops.append(eau.run_prompt())
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    return CommandStack(url, server, runtime, lum, stops, extra)


def sign_in(driver, stack: CommandStack, name: str, path: str = "/commands") -> None:
    from urllib.parse import quote

    driver.get(f"{stack.url}/auth/signin?next={quote(path, safe='/')}")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button, form [type=submit]").click()


def open_asset(driver, stack: CommandStack, path: str, asset_id: str) -> None:
    """Open a map page and an asset's details panel, as a click on the map does."""
    driver.get(stack.url + path)
    wait_js(driver, "return window.dash_clientside && window.dash_clientside.set_props && document.getElementById('details-frame')", 20,
            "the map page")
    time.sleep(1.0)
    driver.execute_script("window.dash_clientside.set_props('selected-asset', {data: arguments[0]});"
                          "window.dash_clientside.set_props('details-refresh', {data: Date.now()});", asset_id)
    wait_js(driver, "return document.querySelector('.cmd-asset-row')", 10, "the asset's commands")
    driver.execute_script("document.querySelector('.cmd-asset-row').scrollIntoView({block: 'center'})")
    time.sleep(0.5)


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
    s = start_command_stack(url, tmp_path_factory.mktemp("vigie"))
    yield s
    s.stop()


def test_from_the_map_selection_to_the_applied_state(dash_duo, stack: CommandStack) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    driver = dash_duo.driver
    sign_in(driver, stack, "claire", "/commands?domain=lighting")
    dash_duo.wait_for_element(".vc", timeout=20)  # the lamps are on the map
    dash_duo.find_element(".leaflet-draw-draw-rectangle").click()
    the_map = dash_duo.find_element("#cmd-map")
    x, y = the_map.size["width"] // 2 - 40, the_map.size["height"] // 2 - 20  # selenium 4.2: offsets from the top-left corner
    ActionChains(driver).move_to_element_with_offset(the_map, x, y).click_and_hold().move_by_offset(60, 50).release().perform()
    dash_duo.wait_for_contains_text("#cmd-selection-summary", "zone dessinée", timeout=10)
    count = int(dash_duo.find_element("#cmd-selection-summary").text.split("(")[1].split(")")[0])  # "zone dessinée (1543) — ..."
    assert count > 10
    wait_js(driver, "return document.querySelectorAll('.cmd-sel-icon').length + document.querySelectorAll('.leaflet-overlay-pane path').length",
            what="the selection highlighted on the map")
    dash_duo.wait_for_element("#cmd-review:not([disabled])", timeout=5).click()
    dash_duo.wait_for_contains_text("#cmd-modal-body", "Puissance", timeout=5)
    body = dash_duo.find_element("#cmd-modal-body").text.lower().replace("\u202f", "")
    assert "état actuel" in body and "effet attendu" in body and f"{count} équipement" in body
    from .chrome import chromium

    other = chromium(1366, 768)  # another console, a viewer's, sees the command and its progress live
    try:
        sign_in(other, stack, "victor", "/commands")
        wait_js(other, "return document.querySelector('#cmd-list')", 20, "the other console")
        before = other.execute_script("return document.querySelectorAll('.cmd-row').length")
        dash_duo.find_element("#cmd-send").click()
        dash_duo.wait_for_contains_text("#cmd-notice", "envoyée", timeout=5)
        wait_js(other, f"return document.querySelectorAll('.cmd-row').length > {before} && "
                "/confirmée par la télémétrie/.test(document.querySelector('.cmd-row').textContent)", 20, "the push on the other console")
    finally:
        other.quit()
    dash_duo.wait_for_contains_text("#cmd-detail", "confirmée par la télémétrie", timeout=20)
    detail = dash_duo.find_element("#cmd-detail").text.replace("\u202f", "")
    obeyed = count - int(next((x.split("(")[1].split(")")[0] for x in detail.splitlines() if x.upper().startswith("N'ONT PAS OBÉI")), "0"))
    assert f"{obeyed} / {obeyed} montrent la valeur commandée" in detail
    row = dash_duo.wait_for_element(".cmd-row[data-status='applied'], .cmd-row[data-status='partial']", timeout=5)
    assert "Gradation 50 %" in row.text and "claire" in row.text
    errors = [e for e in dash_duo.get_logs() if "favicon" not in e.get("message", "")]
    assert errors == []


def test_a_viewer_is_refused_with_the_reason(dash_duo, stack: CommandStack) -> None:
    lamps = [a for a in stack.runtime.engine.core.state.domain("lighting").values() if a.type == "Streetlight"]
    driver = dash_duo.driver
    sign_in(driver, stack, "victor", f"/commands?domain=lighting&target={lamps[10].id}")
    dash_duo.wait_for_element("#cmd-review:not([disabled])", timeout=15).click()
    dash_duo.wait_for_element("#cmd-send", timeout=5).click()
    dash_duo.wait_for_contains_text("#cmd-modal-error", "needs the role", timeout=5)


def screenshots(out: Path = PROJECT_ROOT / "docs" / "screenshots") -> None:
    """The commands page at 1920x1080 and 1366x768: a large command's dialog, a valve's downstream area,
    a partial outcome with its countdown, the log, and an asset's panel with its commands."""
    import tempfile

    from .chrome import chromium

    out.mkdir(parents=True, exist_ok=True)
    stack = start_command_stack(None, Path(tempfile.mkdtemp()), water=True)
    try:
        core = stack.runtime.engine.core
        lamps = [a for a in core.state.domain("lighting").values() if a.type == "Streetlight"]
        cabinet = lamps[2000].refs["cabinet"]
        for lamp in [a.id for a in lamps if a.refs["cabinet"] == cabinet][:3]:
            stack.lum.sim.fail_lamp(lamp, "brokenLantern", repair_after_s=86400)
        valve = next(a.id for a in core.state.domain("water").values() if a.type == "Valve" and a.props.get("downstreamSensors", 0) >= 4)
        for width, height in ((1920, 1080), (1366, 768)):
            driver = chromium(width, height)
            size = f"{width}x{height}"

            def review(path: str, name: str) -> None:
                driver.get(stack.url + path)
                wait_js(driver, "return (document.querySelector('#cmd-review')||{}).disabled === false", 20, "the preview")
                time.sleep(1.5)
                driver.find_element(By.ID, "cmd-review").click()
                wait_js(driver, "return document.querySelector('#cmd-modal-body h3')", 10, "the dialog")
                time.sleep(0.8)
                driver.save_screenshot(str(out / f"commands-{name}-{size}.png"))

            try:
                sign_in(driver, stack, "claire", "/commands")
                wait_js(driver, "return document.querySelector('#cmd-form, .cmd-form')", 20, "the page")
                review("/commands?domain=lighting&action=switch&target=commune-34129", "large")
                driver.find_element(By.ID, "cmd-modal-close").click()
                driver.get(f"{stack.url}/commands?domain=water&target={valve}")
                wait_js(driver, "return /inchangée/.test((document.querySelector('#cmd-selection-summary')||{}).textContent||'')", 20,
                        "the valve's form (no change by default)")
                driver.execute_script("window.dash_clientside.set_props('cmd-position', {value: 0});")
                wait_js(driver, "return (document.querySelector('#cmd-review')||{}).disabled === false", 20, "the valve preview")
                time.sleep(2.5)
                driver.save_screenshot(str(out / f"commands-valve-{size}.png"))
                review(f"/commands?domain=lighting&target={cabinet}", "confirm")
                driver.find_element(By.ID, "cmd-send").click()
                wait_js(driver, "return /télémétrie/.test((document.querySelector('#cmd-detail')||{}).textContent||'')", 15, "the outcome")
                time.sleep(1.5)
                driver.save_screenshot(str(out / f"commands-detail-{size}.png"))
                driver.get(f"{stack.url}/commands?domain=lighting")
                wait_js(driver, "return document.querySelectorAll('.cmd-row').length", 15, "the log")
                time.sleep(1.5)
                driver.save_screenshot(str(out / f"commands-log-{size}.png"))
                open_asset(driver, stack, "/lighting", [a.id for a in lamps if a.refs["cabinet"] == cabinet][5])
                driver.save_screenshot(str(out / f"commands-asset-panel-{size}.png"))
            finally:
                driver.quit()
    finally:
        stack.stop()


if __name__ == "__main__":
    screenshots()
