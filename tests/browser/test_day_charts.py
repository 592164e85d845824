"""The domain pages' "over the day" charts in headless Chromium: today's data shown, extended live by the push, URL restored."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time

import pytest

from services.contract import LightingReading, Point, State, Telemetry, TrafficReading, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .domain_stack import start_domain_stack
from .harness import Stack

pytestmark = pytest.mark.browser

T0 = datetime.now(timezone.utc).replace(second=0, microsecond=0)
GRAPHS = {"lighting": ["#day-lighting-lighting"], "water": ["#day-water-chlorine", "#day-water-turbidity"],
          "traffic": ["#day-traffic-speed", "#day-traffic-congestion"]}


def env(stack: Stack, kind: str, domain: str, sup: str, at: datetime) -> dict:
    return {**stack.env(kind, domain, sup), "ts": at}


def territory(stack: Stack, at: datetime) -> None:
    """Four lamps (two dimmed), two water quality sensors, two road segments, stamped `at`."""
    stack.publish(State[LightingReading](
        **env(stack, "state", "lighting", "lum-day", at), snapshot="s1",
        assets=[AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}", props={"powerRating": 100.0},
                         geometry=Point(coordinates=(3.87 + i * 1e-4, 43.61))) for i in range(4)],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on" if i < 2 else "low",
                                  powerConsumption=100.0 if i < 2 else 50.0) for i in range(4)]))
    stack.publish(State[WaterReading](
        **env(stack, "state", "water", "eau-day", at), snapshot="s1",
        assets=[AssetDef(id=f"q-{i}", type="Device", name=f"Sonde {i}", geometry=Point(coordinates=(3.87, 43.62 + i * 1e-3)))
                for i in range(2)],
        readings=[WaterReading(asset="q-0", chlorine=0.3, turbidity=0.2), WaterReading(asset="q-1", chlorine=0.5, turbidity=0.4)]))
    stack.publish(State[TrafficReading](
        **env(stack, "state", "traffic", "trafic-day", at), snapshot="s1",
        assets=[AssetDef(id=f"seg-{i}", type="RoadSegment", name=f"Avenue {i}", props={"freeFlowSpeed": 50},
                         geometry={"type": "LineString", "coordinates": [[3.85, 43.61 + i * 1e-3], [3.86, 43.61 + i * 1e-3]]})
                for i in range(2)],
        readings=[TrafficReading(asset="seg-0", averageVehicleSpeed=20.0, intensity=100.0, congested=True),
                  TrafficReading(asset="seg-1", averageVehicleSpeed=40.0, intensity=100.0, congested=False)]))


def later(stack: Stack, at: datetime) -> None:
    """New readings of every domain stamped `at` (the domain's clock moved on: a new bucket)."""
    stack.publish(Telemetry[LightingReading](**env(stack, "telemetry", "lighting", "lum-day", at),
                                             readings=[LightingReading(asset="lamp-0", powerState="low", powerConsumption=50.0)]))
    stack.publish(Telemetry[WaterReading](**env(stack, "telemetry", "water", "eau-day", at),
                                          readings=[WaterReading(asset="q-0", chlorine=0.35)]))
    stack.publish(Telemetry[TrafficReading](**env(stack, "telemetry", "traffic", "trafic-day", at),
                                            readings=[TrafficReading(asset="seg-0", averageVehicleSpeed=25.0)]))


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"),
                           Settings(coalesce_ms=250, late_after_s=3600, stale_after_s=7200))
    territory(s, T0)
    s.wait_for(lambda: all(s.reader.asset(a) for a in ("lamp-3", "q-1", "seg-1")), 10, "territory")
    s.wait_for(lambda: all(s.redis.hget("vigie:day-latest", d) for d in GRAPHS), 10, "the first buckets")
    yield s
    s.stop()


def today_points(dash_duo, graph: str) -> int:
    """How many points today's line has in a chart (0 if not drawn yet)."""
    return dash_duo.driver.execute_script(
        "var g = document.querySelector(arguments[0] + ' .js-plotly-plot'), name = arguments[1]; if (!g || !g.data) return 0;"
        "var t = g.data.filter(function (t) { return t.name === name && t.type === 'scatter'; })[0];"
        "return t ? t.x.length : 0;", graph, "Aujourd'hui")


def wait_until(predicate, timeout: float, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def test_each_domain_page_shows_todays_charts(dash_duo, stack):
    for domain, graphs in GRAPHS.items():
        dash_duo.driver.get(f"{stack.url}/{domain}")
        for g in graphs:
            dash_duo.wait_for_element(g + " .js-plotly-plot", timeout=15)
            wait_until(lambda g=g: today_points(dash_duo, g) >= 1, timeout=10)
    dash_duo.driver.get(f"{stack.url}/lighting")
    dash_duo.wait_for_contains_text("#day-lighting-savings", "kWh économisés", timeout=10)
    assert "ÉCONOMIES DE GRADATION" in dash_duo.find_element(".side-column").text.upper()


def test_a_push_extends_todays_lines(dash_duo, stack):
    dash_duo.driver.get(f"{stack.url}/traffic")
    wait_until(lambda: today_points(dash_duo, "#day-traffic-speed") >= 1, timeout=15)
    before = today_points(dash_duo, "#day-traffic-speed")
    later(stack, T0 + timedelta(minutes=10))
    wait_until(lambda: today_points(dash_duo, "#day-traffic-speed") > before, timeout=30)
    dash_duo.driver.get(f"{stack.url}/water")
    wait_until(lambda: today_points(dash_duo, "#day-water-chlorine") > before, timeout=15)


def test_the_url_restores_the_charts_in_its_language(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/water?lang=en")
    dash_duo.wait_for_contains_text(".side-column", "FREE CHLORINE OVER THE DAY", timeout=10)
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text(".side-column", "FREE CHLORINE OVER THE DAY", timeout=10)
    assert dash_duo.find_element("#nav-water").get_attribute("class").endswith("active")
