"""The live control room in headless Chromium, on the full stack (real redis-server, engine, push).

Simulators are off: each test publishes hand-made contract messages, so what the page must show is known.
"""
from __future__ import annotations

import time

import pytest

from services.contract import Heartbeat, LightingReading, Point, State, Telemetry, TrafficReading, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .harness import Stack, start_stack

pytestmark = pytest.mark.browser

CENTER = (3.8767, 43.6108)
LAMPS = 40


def lamp(i: int) -> AssetDef:
    return AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}, Rue de la Loge",
                    geometry=Point(coordinates=(CENTER[0] + (i % 8) * 1e-4, CENTER[1] + (i // 8) * 1e-4)),
                    refs={"cabinet": "cab-1"}, props={"powerRating": 100})


def publish_territory(stack: Stack) -> None:
    """A small territory: 40 lamps in one street, a pressure sensor, a road segment; all normal."""
    stack.publish(State[LightingReading](
        **stack.env("state", "lighting", "lum-test"), snapshot="s1", assets=[lamp(i) for i in range(LAMPS)],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on", powerConsumption=90.0) for i in range(LAMPS)]))
    stack.publish(State[WaterReading](
        **stack.env("state", "water", "eau-test"), snapshot="s1",
        assets=[AssetDef(id="sensor-1", type="Device", name="Capteur Comédie", geometry=Point(coordinates=(3.88, 43.608)))],
        readings=[WaterReading(asset="sensor-1", pressure=3.2)]))
    stack.publish(State[TrafficReading](
        **stack.env("state", "traffic", "trafic-test"), snapshot="s1",
        assets=[AssetDef(id="road-1", type="RoadSegment", name="Avenue de Lodève",
                         geometry={"type": "LineString", "coordinates": [[3.85, 43.61], [3.86, 43.612]]})],
        readings=[TrafficReading(asset="road-1", averageVehicleSpeed=42.0, intensity=600.0, congested=False)]))


def set_lamps(stack: Stack, status: str, *indexes: int) -> None:
    stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "lum-test"),
                                             readings=[LightingReading(asset=f"lamp-{i}", status=status) for i in indexes]))


def open_page(dash_duo, stack: Stack, path: str = "/") -> None:
    dash_duo.driver.get(stack.url + path)
    dash_duo.wait_for_element(".vc", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{_kpi_css('lighting', 'lamps_faulty')}", "0", timeout=5)


def _kpi_css(domain: str, key: str) -> str:
    """CSS id selector of a KPI value (Dash renders dict ids as sorted JSON)."""
    raw = '{"domain":"%s","key":"%s","type":"kpi-value"}' % (domain, key)
    return "".join("\\" + ch if ch in '{}":,' else ch for ch in raw)


@pytest.fixture(scope="module")
def stack(redis_server):
    """One stack for the module (starting one costs seconds); tests put back what they change."""
    s = start_stack(f"redis://{redis_server.host}:{redis_server.port}/0", Settings(coalesce_ms=250))
    publish_territory(s)
    s.wait_for(lambda: len(s.reader.assets_geo("lighting")) == LAMPS, what="lamps defined")
    yield s
    s.stop()


def test_the_overview_loads_live_with_no_console_errors(dash_duo, stack):
    open_page(dash_duo, stack)
    dash_duo.wait_for_contains_text("#supervisor-badges", "lum-test", timeout=5)
    assert dash_duo.find_element(".vc").get_attribute("class").split()[-1] == "vc-w0"
    assert dash_duo.driver.execute_script("return window.vigie.live.ready") is True
    assert dash_duo.get_logs() == []


def test_a_lamp_failure_published_on_redis_turns_its_cluster_within_2s_without_reload(dash_duo, stack):
    driver = dash_duo.driver
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")  # a second page, with its own socket: several operators see the change
    driver.get(stack.url + "/lighting")
    second = driver.current_window_handle
    stack.wait_for(lambda: driver.execute_script("return !!(window.vigie && vigie.live.ready)"), 10, "second page")
    driver.switch_to.window(first)
    open_page(dash_duo, stack)
    driver.execute_script("window.__notReloaded = true")
    try:
        t0 = time.monotonic()
        set_lamps(stack, "defectiveLamp", 7)
        dash_duo.wait_for_element(".vc.vc-w4", timeout=2)
        elapsed = time.monotonic() - t0
        assert dash_duo.find_element(".vc.vc-w4").get_attribute("data-faults") == "1"
        assert driver.execute_script("return window.__notReloaded === true")
        assert elapsed < 2.0
        driver.switch_to.window(second)
        stack.wait_for(lambda: driver.execute_script("return document.querySelectorAll('.vc.vc-w4').length") == 1, 2,
                       "the change on the second page")
    finally:
        set_lamps(stack, "ok", 7)
        driver.switch_to.window(first)


def test_kpi_tiles_change_when_telemetry_changes(dash_duo, stack):
    open_page(dash_duo, stack)
    try:
        set_lamps(stack, "brokenLantern", 1, 2, 3)
        dash_duo.wait_for_text_to_equal(f"#{_kpi_css('lighting', 'lamps_faulty')}", "3", timeout=4)
    finally:
        set_lamps(stack, "ok", 1, 2, 3)
    dash_duo.wait_for_text_to_equal(f"#{_kpi_css('lighting', 'lamps_faulty')}", "0", timeout=4)


def test_feed_text_is_shown_as_text_never_as_markup(dash_duo, stack):
    open_page(dash_duo, stack)
    hostile = "<img src=x onerror=alert(1)>"
    # Applied as a delta's payload, past the sequence check: a real delta landing meanwhile (or a replay) would drop a
    # hand-numbered one. The contract refuses markup in text, so only the browser side can be fed this.
    dash_duo.driver.execute_script("""
        var live = window.vigie.live;
        live.apply("alarms", {v: 1, ch: "alarms", t: live.now(), removed: [], alarms: [{
            id: "x/1", domain: "lighting", supervisor: "lum-test", asset: "lamp-1", asset_name: arguments[0],
            code: "lamp_off", priority: "urgent", message: arguments[0], active: true, acknowledged: false,
            raised_at: live.now(), updated_at: live.now()}]});
    """, hostile)
    dash_duo.wait_for_contains_text("#alarm-list", hostile, timeout=3)
    assert dash_duo.driver.execute_script("return document.querySelectorAll('#alarm-list img').length") == 0


def test_losing_the_push_connection_marks_the_data_not_live(dash_duo, stack):
    open_page(dash_duo, stack)
    dash_duo.driver.execute_script("window.vigie.live.onConnected(false)")
    dash_duo.wait_for_contains_text("#live-banner", "Connexion temps réel interrompue", timeout=2)
    assert "not-live" in dash_duo.driver.execute_script("return document.body.className")


def test_a_domain_page_shows_that_domain_only(dash_duo, stack):
    open_page(dash_duo, stack)
    dash_duo.find_element("#nav-water").click()
    dash_duo.wait_for_text_to_equal(f"#{_kpi_css('water', 'pressure_compliance_pct')}", "100", timeout=5)
    assert dash_duo.driver.execute_script("return document.querySelectorAll('.kpi-lighting').length") == 0


@pytest.fixture
def quick_stale_stack(tmp_path):
    """A stack of its own on a private Redis: the module's stack never hears its silent supervisor (it would raise a
    "supervisor stale" alarm there a minute later) and it hears nothing of the module's supervisors (stale by then)."""
    s = start_stack(None, Settings(late_after_s=1.0, stale_after_s=2.0, state_dir=tmp_path))  # its Redis keeps nothing after
    yield s
    s.stop()


def test_a_silent_supervisor_shows_as_stale(dash_duo, quick_stale_stack):
    stack = quick_stale_stack
    stack.publish(Heartbeat(**stack.env("heartbeat", "lighting", "lum-silent"), uptime_s=1.0, assets=0))
    stack.wait_for(lambda: any(s["id"] == "lum-silent" for s in stack.reader.supervisors()), what="supervisor seen")
    dash_duo.driver.get(stack.url + "/")
    dash_duo.wait_for_element(".sup-badge", timeout=10)
    dash_duo.wait_for_element(".sup-badge.live-stale", timeout=5)
    badge = dash_duo.driver.execute_script("return document.querySelector('.sup-badge.live-stale').textContent")
    assert "lum-silent" in badge and "muet" in badge
    # the page judges age itself and may see "stale" before the engine's next health tick says so: wait for the engine
    stack.wait_for(lambda: next(s for s in stack.reader.supervisors() if s["id"] == "lum-silent")["status"] == "stale",
                   5, "the engine's verdict: stale")
