"""Domain pages (level 2) in headless Chromium on the full stack: their own content, their alarms only, live updates, URL."""
from __future__ import annotations

import urllib.request

import pytest

from services.contract import Alarm, AlarmEvent, LightingReading, Point, State, Telemetry, TrafficReading, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .domain_stack import start_domain_stack
from .harness import Stack

pytestmark = pytest.mark.browser

CENTER = (3.8767, 43.6108)


def territory(stack: Stack) -> None:
    """Two cabinets of four lamps (lamp-0 already faulty), and a reservoir."""
    lamps = [AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}", geometry=Point(coordinates=(CENTER[0] + i * 1e-4, CENTER[1])),
                      refs={"cabinet": f"cab-{i // 4}", "street": "street-loge" if i < 4 else "street-foch"}) for i in range(8)]
    stack.publish(State[LightingReading](
        **stack.env("state", "lighting", "lum-test"), snapshot="s1", assets=lamps,
        readings=[LightingReading(asset=f"lamp-{i}", status="defectiveLamp" if i == 0 else "ok", powerState="on",
                                  controlMode="override" if i == 3 else "schedule") for i in range(8)]))
    stack.publish(State[WaterReading](**stack.env("state", "water", "eau-test"), snapshot="s1", assets=[
        AssetDef(id="res-1", type="Reservoir", name="Réservoir Aiguelongue", geometry=Point(coordinates=(3.87, 43.63)),
                 props={"capacity": 2000, "maxLevel": 4}),
        AssetDef(id="pump-1", type="Pump", name="Pompe Lez", geometry=Point(coordinates=(3.88, 43.62))),
        AssetDef(id="pipe-9", type="Pipe", name="Conduite rue Foch", refs={"zone": "zone-nord", "district": "Centre"},
                 geometry={"type": "LineString", "coordinates": [[3.87, 43.61], [3.871, 43.611]]})],
        readings=[WaterReading(asset="res-1", level=2.0, flow=100.0), WaterReading(asset="pump-1", running=False)]))
    stack.publish(State[TrafficReading](**stack.env("state", "traffic", "trafic-test"), snapshot="s1", assets=[
        AssetDef(id=f"seg-{k}", type="RoadSegment", name=f"Avenue {k.upper()}", props={"freeFlowSpeed": 50},
                 geometry={"type": "LineString", "coordinates": [[3.85, 43.61 + i * 1e-3], [3.86, 43.61 + i * 1e-3]]})
        for i, k in enumerate("ab")] + [
        AssetDef(id="sig-1", type="TrafficSignal", name="Carrefour Comédie", geometry=Point(coordinates=(3.88, 43.608)))],
        readings=[TrafficReading(asset="seg-a", averageVehicleSpeed=10.0), TrafficReading(asset="seg-b", averageVehicleSpeed=45.0),
                  TrafficReading(asset="sig-1", signalPlan="peak")]))


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"),
                           Settings(coalesce_ms=250))
    territory(s)
    s.wait_for(lambda: all(s.reader.asset(a) for a in ("res-1", "lamp-7", "sig-1")), what="territory")
    s.publish(Alarm(**s.env("alarm", "water", "eau-test"), events=[
        AlarmEvent(id="low_level:res-1", asset="res-1", action="raise", severity="major", code="low_level", message="Niveau bas")]))
    s.publish(Alarm(**s.env("alarm", "water", "eau-test"), events=[
        AlarmEvent(id="pipe-9:leak_suspected", asset="pipe-9", action="raise", severity="major", code="leak_suspected",
                   message="Fuite suspectée")]))
    s.publish(Alarm(**s.env("alarm", "lighting", "lum-test"), events=[
        AlarmEvent(id="lamp_off:lamp-0", asset="lamp-0", action="raise", severity="minor", code="lamp_off", message="Lampe HS")]))
    s.wait_for(lambda: len(s.reader.alarms()) >= 3, what="alarms")
    yield s
    s.stop()


def test_lighting_lists_its_faults_by_cabinet_and_only_its_alarms(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/lighting")
    dash_duo.wait_for_contains_text("#lighting-faults", "Lanterne 0", timeout=10)
    text = dash_duo.find_element("#lighting-faults").text
    assert "Armoire cab-0" in text and "Lampe défectueuse" in text and "Lanterne 1" not in text
    dash_duo.wait_for_contains_text("#alarm-list", "Lampe HS", timeout=5)
    assert "Niveau bas" not in dash_duo.find_element("#alarm-list").text  # the domain's alarms only
    modes = dash_duo.find_element("#lighting-modes").text
    assert "programme horaire\n7" in modes and "forçage opérateur\n1" in modes and "Lanterne 3" in modes  # in words (issue 18)
    assert dash_duo.find_element("#lighting-command-link").get_attribute("href").endswith("/commands?domain=lighting")


def test_a_new_fault_joins_the_list_live(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/lighting")
    dash_duo.wait_for_contains_text("#lighting-faults", "Lanterne 0", timeout=10)
    stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "lum-test"),
                                             readings=[LightingReading(asset="lamp-6", status="defectiveLamp")]))
    dash_duo.wait_for_contains_text("#lighting-faults", "Lanterne 6", timeout=6)
    assert "Armoire cab-1" in dash_duo.find_element("#lighting-faults").text


def test_the_faults_export_is_csv_for_a_gmao(stack):
    with urllib.request.urlopen(stack.url + "/vigie/lighting/faults.csv") as r:
        body = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/csv")
    lines = body.strip().splitlines()
    assert lines[0] == "cabinet,street,district,lamp,name,condition,status,since,age_h"
    assert lines[1].startswith("cab-0,street-loge,,lamp-0,Lanterne 0,fault,defectiveLamp,")


def test_the_url_restores_the_same_view(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/lighting?lang=en")
    dash_duo.wait_for_contains_text(".faults-panel", "FAULTS TO FIX", timeout=10)
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text(".faults-panel", "FAULTS TO FIX", timeout=10)
    assert dash_duo.find_element("#nav-lighting").get_attribute("class").endswith("active")


def test_water_shows_reservoirs_as_gauges_with_autonomy_and_pumps_live(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/water")
    dash_duo.wait_for_contains_text("#gauge-res-1", "10 h", timeout=10)
    assert "50 %" in dash_duo.find_element("#gauge-res-1").text
    assert "low" in dash_duo.find_element("#gauge-res-1").get_attribute("class")  # < 12 h: the one abnormal mark
    assert "arrêtée" in dash_duo.find_element(".pumps").text
    assert "Conduite rue Foch" in dash_duo.find_element("#water-leaks").text
    assert "zone-nord · Centre" in dash_duo.find_element("#water-leaks").text  # its probable area
    stack.publish(Telemetry[WaterReading](**stack.env("telemetry", "water", "eau-test"),
                                          readings=[WaterReading(asset="res-1", level=4.0, flow=100.0)]))
    dash_duo.wait_for_contains_text("#gauge-res-1", "20 h", timeout=8)
    assert "low" not in dash_duo.find_element("#gauge-res-1").get_attribute("class")


def test_traffic_ranks_the_most_congested_segments_live(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/traffic")
    dash_duo.wait_for_contains_text("#congested-top", "Avenue A", timeout=10)
    assert dash_duo.find_element("#congested-top .congested-row").text.startswith("1.\nAvenue A")
    assert "heure de pointe" in dash_duo.find_element(".plans").text  # the plan in words, not `peak` (issue 18)
    stack.publish(Telemetry[TrafficReading](**stack.env("telemetry", "traffic", "trafic-test"),
                                            readings=[TrafficReading(asset="seg-b", averageVehicleSpeed=4.0)]))
    top = "return document.querySelector('#congested-top .congested-row').textContent"
    stack.wait_for(lambda: "Avenue B" in dash_duo.driver.execute_script(top), 8, "Avenue B on top")
