"""Water operations and command drift in headless Chromium, on the app factory's control room (issue 18, points 5 and 6).

A leaking pipe: its page lists the sensors it affects and its 24 h chart ends at the latest value; "Isoler" opens the
command panel on the pipe, which offers the valves that isolate it (no error); choosing one prepares its closing.
A valve command starts from "no change". A valve moved by its supervisor after the command was confirmed: the command
says "écart constaté" and Vigie raises an alarm.

`python -m tests.browser.test_water_operations` takes the screenshots of docs/screenshots/.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from services.settings import PROJECT_ROOT

from .test_commands import CommandStack, sign_in, start_command_stack, wait_js

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    import redis

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    s = start_command_stack(url, tmp_path_factory.mktemp("vigie"), water=True)
    yield s
    s.stop()


def water(stack: CommandStack) -> dict:
    return stack.runtime.engine.core.state.domain("water")


def leaking_pipe(stack: CommandStack) -> str:
    """A pipe with a valve two pipes up and sensors downstream, made to leak."""
    from services.core.water_isolation import WaterNet

    net = WaterNet(water(stack).values())
    for pid in sorted(n.id for n in net.nodes.values() if n.type == "Pipe"):
        opts = net.isolation(pid)
        if opts and opts[0].hops >= 1 and opts[0].sensors and net.affected_sensors(pid)[1]:
            eau = stack.extra["eau"]
            eau.sim.start_leak(pid, flow_m3h=40.0, detect_after_s=0.0)
            eau.step(2)
            return pid
    raise AssertionError("no pipe with a valve upstream and sensors downstream")


@pytest.fixture(scope="module")
def pipe(stack: CommandStack) -> str:
    return leaking_pipe(stack)


def test_the_pipe_page_lists_the_sensors_it_affects_and_charts_up_to_the_latest_value(dash_duo, stack: CommandStack, pipe: str) -> None:
    driver = dash_duo.driver
    sign_in(driver, stack, "claire", f"/asset/{pipe}")
    dash_duo.wait_for_element("#wiso-sensors", timeout=20)
    text = dash_duo.find_element("#wiso-sensors").text
    assert "CAPTEURS CONCERNÉS" in text.upper() and "En aval" in text
    links = driver.find_elements(By.CSS_SELECTOR, "#wiso-sensors a.asset-link")
    assert links and all("/asset/eau-sensor-" in a.get_attribute("href") for a in links)
    flow = stack.runtime.engine.core.state.get(pipe).values["flow"]
    last = wait_js(driver, "var g = document.querySelector('#asset-chart-flow .js-plotly-plot');"
                           "return g && g.data && g.data[0].y[g.data[0].y.length - 1];", 20, "the flow chart")
    top = driver.execute_script("var g = document.querySelector('#asset-chart-flow .js-plotly-plot'); return g._fullLayout.yaxis.range[1];")
    assert last == pytest.approx(flow) and top >= flow
    assert [e for e in dash_duo.get_logs() if "favicon" not in e.get("message", "")] == []


def test_commanding_a_pipe_offers_the_valves_that_isolate_it(dash_duo, stack: CommandStack, pipe: str) -> None:
    driver = dash_duo.driver
    sign_in(driver, stack, "claire", f"/asset/{pipe}")
    link = dash_duo.wait_for_element("#wiso-isolate-link", timeout=20)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link)
    dash_duo.wait_for_element(".wiso-option", timeout=20)
    assert dash_duo.find_element("#cmd-error").text == ""
    assert "choisissez ci-dessous la vanne" in dash_duo.find_element("#cmd-selection-summary").text
    first = driver.execute_script("return document.querySelector('.wiso-option').textContent")
    assert "Vanne" in first and "conduite(s) en amont" in first and "capteur(s) privé(s) d'eau" in first
    driver.execute_script("var b = document.querySelector('.wiso-choose'); b.scrollIntoView({block: 'center'}); b.click();")
    dash_duo.wait_for_element("#cmd-review:not([disabled])", timeout=15).click()
    dash_duo.wait_for_contains_text("#cmd-modal-body", "Vanne(s) à 0 %", timeout=10)
    assert [e for e in dash_duo.get_logs() if "favicon" not in e.get("message", "")] == []


def test_a_valve_command_starts_from_no_change(dash_duo, stack: CommandStack) -> None:
    valve = next(a.id for a in water(stack).values() if a.type == "Valve")
    sign_in(dash_duo.driver, stack, "claire", f"/commands?domain=water&target={valve}")
    dash_duo.wait_for_contains_text("#cmd-selection-summary", "inchangée", timeout=20)
    assert dash_duo.find_element("#cmd-position").get_attribute("value") == ""
    assert dash_duo.find_element("#cmd-review").get_attribute("disabled") is not None
    assert dash_duo.find_element("#cmd-error").text == ""


def test_a_valve_leaving_its_commanded_position_is_a_drift_the_operator_is_told(dash_duo, stack: CommandStack) -> None:
    core = stack.runtime.engine.core
    valve = next(a.id for a in water(stack).values() if a.type == "Valve" and not a.props.get("main"))
    driver = dash_duo.driver
    sign_in(driver, stack, "claire", f"/commands?domain=water&target={valve}")
    dash_duo.wait_for_contains_text("#cmd-selection-summary", "inchangée", timeout=20)
    driver.execute_script("window.dash_clientside.set_props('cmd-position', {value: 60});")
    dash_duo.wait_for_element("#cmd-review:not([disabled])", timeout=15).click()
    dash_duo.wait_for_element("#cmd-send", timeout=5).click()
    dash_duo.wait_for_contains_text("#cmd-detail", "confirmée par la télémétrie", timeout=30)
    eau = stack.extra["eau"]
    eau.sim.model.valve_target[eau.sim._ord(valve, "Valve")] = 1.0  # the valve opens by itself (a local action)
    eau.step(2)
    dash_duo.wait_for_contains_text("#cmd-detail", "écart constaté", timeout=20)
    assert core.state.get(valve).name in dash_duo.find_element("#cmd-detail").text  # which valve, by its name
    alarms = [a for a in core.alarms.all() if a.code == "command_drift" and a.active]
    assert alarms and alarms[0].asset == valve and alarms[0].message.startswith("Écart constaté")
    audit = stack.server.extensions["vigie.commands"].audit
    assert audit.search(action="command.drift", limit=10)


def screenshots(out: Path = PROJECT_ROOT / "docs" / "screenshots") -> None:
    """The pipe page with its sensors, the command panel's isolation offer, a drifting command, at both sizes."""
    import tempfile

    from .chrome import chromium

    out.mkdir(parents=True, exist_ok=True)
    stack = start_command_stack(None, Path(tempfile.mkdtemp()), water=True)
    try:
        pid = leaking_pipe(stack)
        for width, height in ((1920, 1080), (1366, 768)):
            driver = chromium(width, height)
            size = f"{width}x{height}"
            try:
                sign_in(driver, stack, "claire", f"/asset/{pid}")
                wait_js(driver, "return document.querySelector('#wiso-sensors')", 20, "the pipe page")
                wait_js(driver, "var g = document.querySelector('#asset-chart-flow .js-plotly-plot'); return g && g.data", 30, "the chart")
                time.sleep(2.0)
                driver.save_screenshot(str(out / f"water-pipe-page-{size}.png"))
                driver.get(f"{stack.url}/commands?domain=water&target={pid}")
                wait_js(driver, "return document.querySelector('.wiso-option')", 20, "the isolation offer")
                time.sleep(2.0)
                driver.save_screenshot(str(out / f"water-isolation-{size}.png"))
                if width == 1920:  # one drifting command, shown at both sizes below
                    valve = next(a.id for a in water(stack).values() if a.type == "Valve" and not a.props.get("main"))
                    driver.get(f"{stack.url}/commands?domain=water&target={valve}")
                    wait_js(driver, "return /inchangée/.test((document.querySelector('#cmd-selection-summary')||{}).textContent||'')", 20,
                            "the valve's form")
                    driver.execute_script("window.dash_clientside.set_props('cmd-position', {value: 60});")
                    wait_js(driver, "return (document.querySelector('#cmd-review')||{}).disabled === false", 20, "the preview")
                    driver.find_element(By.ID, "cmd-review").click()
                    wait_js(driver, "return document.querySelector('#cmd-send')", 10, "the dialog")
                    time.sleep(1.0)
                    driver.find_element(By.ID, "cmd-send").click()
                    wait_js(driver, "return /confirmée/.test((document.querySelector('#cmd-detail')||{}).textContent||'')", 30, "the confirmation")
                    eau = stack.extra["eau"]
                    eau.sim.model.valve_target[eau.sim._ord(valve, "Valve")] = 1.0
                    eau.step(2)
                    wait_js(driver, "return /écart constaté/.test((document.querySelector('#cmd-detail')||{}).textContent||'')", 30, "the drift")
                    command = driver.execute_script("return (document.querySelector('#cmd-detail .cmd-id')||{}).textContent")
                time.sleep(1.0)
                driver.get(f"{stack.url}/commands?domain=water&command={command}")
                wait_js(driver, "return /écart constaté/.test((document.querySelector('#cmd-detail')||{}).textContent||'')", 30, "the drift")
                time.sleep(1.5)
                driver.save_screenshot(str(out / f"commands-drift-{size}.png"))
            finally:
                driver.quit()
    finally:
        stack.stop()


if __name__ == "__main__":
    screenshots()
