"""The domain maps in headless Chromium on the full stack: road segments drawn by speed band, traffic incidents listed,
water points by pressure band, lamp clusters coloured by the worst active alarm priority they hold. All live."""
from __future__ import annotations

import pytest

from services.contract import Alarm, AlarmEvent, LightingReading, Point, State, Telemetry, TrafficReading, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .domain_stack import start_domain_stack
from .harness import Stack

pytestmark = pytest.mark.browser

CENTER = (3.8767, 43.6108)
LAMPS = 30
# five segments in a row (each shares an end with the next): their speeds against a free flow of 50 km/h
SPEEDS = {"seg-free": 48.0, "seg-slow": 35.0, "seg-cong": 20.0, "seg-jam": 5.0, "seg-shut": 0.0}


def segment(i: int, sid: str) -> AssetDef:
    x0 = 3.85 + i * 2e-3
    return AssetDef(id=sid, type="RoadSegment", name=f"Rue {sid[4:].capitalize()}", props={"freeFlowSpeed": 50.0},
                    geometry={"type": "LineString", "coordinates": [[x0, 43.61], [x0 + 2e-3, 43.61]]})


def territory(stack: Stack) -> None:
    """Lamps in one cluster, five segments and a junction, two pressure points (one low)."""
    lamps = [AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}",
                      geometry=Point(coordinates=(CENTER[0] + (i % 6) * 1e-4, CENTER[1] + (i // 6) * 1e-4))) for i in range(LAMPS)]
    stack.publish(State[LightingReading](**stack.env("state", "lighting", "lum-test"), snapshot="s1", assets=lamps,
                                         readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on") for i in range(LAMPS)]))
    stack.publish(State[TrafficReading](**stack.env("state", "traffic", "trafic-test"), snapshot="s1", assets=[
        *(segment(i, sid) for i, sid in enumerate(SPEEDS)),
        AssetDef(id="sig-1", type="TrafficSignal", name="Carrefour Comédie", geometry=Point(coordinates=(3.852, 43.61)),
                 refs={"seg1": "seg-free", "seg2": "seg-slow"})],
        readings=[TrafficReading(asset=sid, averageVehicleSpeed=v, closed=sid == "seg-shut") for sid, v in SPEEDS.items()]
        + [TrafficReading(asset="sig-1", signalPlan="normal", status="ok")]))
    stack.publish(State[WaterReading](**stack.env("state", "water", "eau-test"), snapshot="s1", assets=[
        AssetDef(id="junction-ok", type="Junction", name="Nœud 1", geometry=Point(coordinates=(3.87, 43.62))),
        AssetDef(id="junction-low", type="Junction", name="Nœud 2", geometry=Point(coordinates=(3.872, 43.62)))],
        readings=[WaterReading(asset="junction-ok", pressure=3.5), WaterReading(asset="junction-low", pressure=1.1)]))


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"),
                           Settings(coalesce_ms=250))
    territory(s)
    s.wait_for(lambda: all(s.reader.asset(a) for a in ("lamp-29", "seg-shut", "sig-1", "junction-low")), 10, "territory")
    yield s
    s.stop()


def raise_alarm(stack: Stack, domain: str, sup: str, aid: str, asset: str, severity: str, code: str, message: str) -> None:
    stack.publish(Alarm(**stack.env("alarm", domain, sup), events=[
        AlarmEvent(id=aid, asset=asset, action="raise", severity=severity, code=code, message=message)]))


def clear_alarm(stack: Stack, domain: str, sup: str, aid: str, asset: str, code: str) -> None:
    stack.publish(Alarm(**stack.env("alarm", domain, sup), events=[AlarmEvent(id=aid, asset=asset, action="clear", code=code)]))


def traffic(stack: Stack, **speeds: float) -> None:
    stack.publish(Telemetry[TrafficReading](**stack.env("telemetry", "traffic", "trafic-test"), readings=[
        TrafficReading(asset=sid.replace("_", "-"), averageVehicleSpeed=v) for sid, v in speeds.items()]))


def open_map(dash_duo, stack: Stack, path: str, domain: str, n: int) -> None:
    dash_duo.driver.get(stack.url + path)
    stack.wait_for(lambda: dash_duo.driver.execute_script(
        f"return !!(window.vigie && vigie.live.ready && vigie.map.registry.{domain}.size >= {n})"), 15, f"the {domain} layer")


STYLE = """var l = vigie.map.registry.traffic.get(arguments[0]); if (!l || !l._map) return null;
  return [l.options.color, l.options.weight, l.options.dashArray || ''];"""


def style(dash_duo, sid: str):
    return dash_duo.driver.execute_script(STYLE, sid)


def test_road_segments_are_drawn_above_the_base_map_and_coloured_by_speed_band(dash_duo, stack):
    open_map(dash_duo, stack, "/traffic", "traffic", 6)
    pal = dash_duo.driver.execute_script("return vigie.live.cfg.palette")
    bands = pal["speed_bands"]
    stack.wait_for(lambda: style(dash_duo, "seg-jam") == [bands["3"]["color"], bands["3"]["weight"], ""], 8, "the bands")
    assert style(dash_duo, "seg-free") == [pal["neutral"]["asset_line"], bands["0"]["weight"], ""]  # normal: grey and thin
    assert style(dash_duo, "seg-slow")[0] == bands["1"]["color"]
    assert style(dash_duo, "seg-cong")[0] == bands["2"]["color"]
    assert style(dash_duo, "seg-shut") == [pal["neutral"]["ink"], bands["4"]["weight"], bands["4"]["dash"]]  # closed: ink, dashed
    weights = [style(dash_duo, s)[1] for s in list(SPEEDS)[:4]]
    assert weights == sorted(weights)  # heavier as it gets worse
    # the base map has a pane (and a canvas) of its own, under the domain layers: it can never cover them
    panes = dash_duo.driver.execute_script("""var l = vigie.map.registry.traffic.get('seg-jam');
        return [l._renderer._container.parentNode.className, document.querySelectorAll('.leaflet-vigie-base-pane canvas').length]""")
    assert "leaflet-overlay-pane" in panes[0] and panes[1] == 1
    assert dash_duo.find_element("#map-legend .speed-jammed")
    assert dash_duo.get_logs() == []


def test_a_segment_speeding_up_turns_grey_live(dash_duo, stack):
    open_map(dash_duo, stack, "/traffic", "traffic", 6)
    grey = dash_duo.driver.execute_script("return vigie.live.cfg.palette.neutral.asset_line")
    stack.wait_for(lambda: style(dash_duo, "seg-cong")[0] != grey, 8, "congested")
    dash_duo.driver.execute_script("window.__notReloaded = true")
    try:
        traffic(stack, seg_cong=47.0)
        stack.wait_for(lambda: style(dash_duo, "seg-cong")[0] == grey, 8, "free again")
        assert dash_duo.driver.execute_script("return window.__notReloaded === true")
    finally:
        traffic(stack, seg_cong=SPEEDS["seg-cong"])


def test_the_slowest_segments_list_only_slowed_ones_and_says_when_none(dash_duo, stack):
    open_map(dash_duo, stack, "/traffic", "traffic", 6)
    dash_duo.wait_for_contains_text("#congested-top", "Rue Jam", timeout=10)
    text = dash_duo.find_element("#congested-top").text
    assert text.startswith("1.\nRue Jam") and "Rue Free" not in text and "Rue Shut" not in text  # flowing, closed: not listed
    try:
        traffic(stack, seg_slow=50.0, seg_cong=50.0, seg_jam=50.0)
        dash_duo.wait_for_contains_text("#congested-top", "Aucune congestion", timeout=10)
    finally:
        traffic(stack, seg_slow=SPEEDS["seg-slow"], seg_cong=SPEEDS["seg-cong"], seg_jam=SPEEDS["seg-jam"])


def test_incidents_are_listed_newest_first_with_place_priority_and_slowed_neighbours_live(dash_duo, stack):
    open_map(dash_duo, stack, "/traffic", "traffic", 6)
    dash_duo.wait_for_contains_text("#traffic-incidents", "Aucun incident", timeout=10)
    try:
        raise_alarm(stack, "traffic", "trafic-test", "seg-cong:incident", "seg-cong", "major", "incident", "Incident on Rue Cong")
        dash_duo.wait_for_element("#traffic-incidents .incident-row", timeout=10)
        row = dash_duo.find_element("#traffic-incidents .incident-row")
        assert "prio-high" in row.get_attribute("class") and row.get_attribute("data-asset") == "seg-cong"
        assert "Incident, voie bloquée" in row.text and "Haute" in row.text and "◆" in row.text
        assert "Rue Jam" in row.text and "Rue Slow" in row.text  # its slowed neighbours (sharing an end)
        link = row.find_element("css selector", "a")
        assert link.text == "Rue Cong" and link.get_attribute("href").endswith("/asset/seg-cong")
        stack.wait_for(lambda: dash_duo.driver.execute_script(
            "return document.querySelector('#traffic-incidents .incident-age').textContent") != "", 4, "the age")

        raise_alarm(stack, "traffic", "trafic-test", "sig-1:signal_fault", "sig-1", "major", "signal_fault", "Signal fault")
        stack.wait_for(lambda: len(dash_duo.find_elements("#traffic-incidents .incident-row")) == 2, 10, "the second incident")
        rows = dash_duo.find_elements("#traffic-incidents .incident-row")
        assert rows[0].get_attribute("data-asset") == "sig-1" and "Panne de feux" in rows[0].text  # newest first
        assert "Rue Slow" in rows[0].text  # the junction's segments (refs seg1..): the slowed one
    finally:
        clear_alarm(stack, "traffic", "trafic-test", "seg-cong:incident", "seg-cong", "incident")
        clear_alarm(stack, "traffic", "trafic-test", "sig-1:signal_fault", "sig-1", "signal_fault")
    dash_duo.wait_for_contains_text("#traffic-incidents", "Aucun incident", timeout=10)


ICON = "var l = vigie.map.registry.water.get(arguments[0]); var e = l && l._icon && l._icon.firstChild; return e ? e.className : null;"


def test_water_points_out_of_pressure_range_are_coloured_and_normal_ones_grey(dash_duo, stack):
    open_map(dash_duo, stack, "/water", "water", 2)
    stack.wait_for(lambda: dash_duo.driver.execute_script(ICON, "junction-low") == "vm-pb vm-pb1", 8, "low pressure")
    assert dash_duo.driver.execute_script(ICON, "junction-ok") == "vm-dot vm-water"
    color = dash_duo.driver.execute_script(
        "return getComputedStyle(vigie.map.registry.water.get('junction-low')._icon.firstChild).backgroundColor")
    assert color == "rgb(64, 200, 232)"  # the palette's low pressure (cyan since issue 18: never an alarm colour)
    try:
        stack.publish(Telemetry[WaterReading](**stack.env("telemetry", "water", "eau-test"),
                                              readings=[WaterReading(asset="junction-ok", pressure=9.0)]))
        stack.wait_for(lambda: dash_duo.driver.execute_script(ICON, "junction-ok") == "vm-pb vm-pb2", 8, "high pressure")
    finally:
        stack.publish(Telemetry[WaterReading](**stack.env("telemetry", "water", "eau-test"),
                                              readings=[WaterReading(asset="junction-ok", pressure=3.5)]))
    assert dash_duo.find_element("#map-legend .vm-pb2")


def cluster(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "var e = document.querySelector('.vc'); return e ? [e.className, e.dataset.faults, e.dataset.prio] : null;")


def lamps(stack: Stack, status: str, *indexes: int) -> None:
    stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "lum-test"),
                                             readings=[LightingReading(asset=f"lamp-{i}", status=status) for i in indexes]))


def test_a_cluster_takes_the_colour_of_the_worst_alarm_it_holds_and_a_fault_without_alarm_stays_neutral(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/lighting")
    dash_duo.wait_for_element(".vc", timeout=10)
    try:
        lamps(stack, "defectiveLamp", 3)  # a fault, no alarm: counted, shaped, not coloured
        stack.wait_for(lambda: cluster(dash_duo) == ["vc vc-pn vc-w4", "1", "-1"], 8, "the neutral fault")
        raise_alarm(stack, "lighting", "lum-test", "lamp_off:lamp-3", "lamp-3", "minor", "lamp_off", "Lampe HS")
        stack.wait_for(lambda: cluster(dash_duo) == ["vc vc-p2 vc-w4", "1", "2"], 8, "the low alarm's colour")
        raise_alarm(stack, "lighting", "lum-test", "cabinet:lamp-5", "lamp-5", "critical", "cabinet_fault", "Armoire")
        stack.wait_for(lambda: cluster(dash_duo)[2] == "0", 8, "the urgent alarm's colour")
        assert cluster(dash_duo)[0] == "vc vc-p0 vc-w4"
        ring = dash_duo.driver.execute_script("return getComputedStyle(document.querySelector('.vc')).borderTopColor")
        assert ring == "rgb(215, 25, 28)"  # the palette's urgent
        clear_alarm(stack, "lighting", "lum-test", "cabinet:lamp-5", "lamp-5", "cabinet_fault")
        stack.wait_for(lambda: cluster(dash_duo)[2] == "2", 8, "back to the low alarm")
    finally:
        clear_alarm(stack, "lighting", "lum-test", "lamp_off:lamp-3", "lamp-3", "lamp_off")
        clear_alarm(stack, "lighting", "lum-test", "cabinet:lamp-5", "lamp-5", "cabinet_fault")
        lamps(stack, "ok", 3)
    stack.wait_for(lambda: cluster(dash_duo) == ["vc vc-pn vc-w0", "0", "-1"], 8, "all normal again")
