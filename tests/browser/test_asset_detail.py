"""The asset page (level 3) in headless Chromium on the full stack: relations, 24 h charts from the journal, live values, URL."""
from __future__ import annotations

import pytest

from services.contract import Alarm, AlarmEvent, LightingReading, Point, State, Telemetry
from services.contract.messages import AssetDef
from services.settings import Settings

from .domain_stack import start_domain_stack
from .harness import Stack

pytestmark = pytest.mark.browser

CENTER = (3.8767, 43.6108)


def lighting_territory(stack: Stack) -> None:
    """A cabinet feeding three lamps in one street."""
    cabinet = AssetDef(id="cab-1", type="StreetlightControlCabinet", name="Armoire Loge", geometry=Point(coordinates=CENTER),
                       refs={"group": "grp-1", "district": "Centre"})
    lamps = [AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}, Rue de la Loge",
                      geometry=Point(coordinates=(CENTER[0] + i * 1e-4, CENTER[1])),
                      refs={"cabinet": "cab-1", "group": "grp-1", "district": "Centre"}) for i in range(3)]
    stack.publish(State[LightingReading](
        **stack.env("state", "lighting", "lum-test"), snapshot="s1", assets=[cabinet, *lamps],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on", powerConsumption=90.0) for i in range(3)]))


def lamp_reading(stack: Stack, **values) -> None:
    stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "lum-test"),
                                             readings=[LightingReading(asset="lamp-1", **values)]))


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"),
                           Settings(coalesce_ms=250))
    lighting_territory(s)
    s.wait_for(lambda: s.reader.asset("lamp-1") is not None, what="lamps defined")
    for watts in (88.0, 72.0, 55.0):
        lamp_reading(s, powerConsumption=watts)
    s.wait_for(lambda: (s.reader.asset("lamp-1") or {}).get("values", {}).get("powerConsumption") == 55.0, what="readings")
    yield s
    s.stop()


def test_the_page_shows_identity_relations_and_the_day_as_charts(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/asset/lamp-1")
    dash_duo.wait_for_text_to_equal(".asset-name", "Lanterne 1, Rue de la Loge", timeout=10)
    relations = dash_duo.find_element("#asset-relations").text
    assert "Armoire Loge" in relations and "grp-1" in relations and "Centre" in relations  # the cabinet by its name (issue 18)
    assert relations.index("Armoire Loge") < relations.index("grp-1") < relations.index("Centre")  # lamp -> cabinet -> group -> district
    dash_duo.wait_for_element("#asset-chart-powerConsumption .main-svg", timeout=10)
    ys = dash_duo.driver.execute_script(
        "return document.getElementById('asset-chart-powerConsumption').querySelector('.js-plotly-plot').data[0].y")
    assert ys[-3:] == [88.0, 72.0, 55.0]  # the recorded feed, not only the latest value
    assert "55" in dash_duo.find_element("#asset-values").text
    assert dash_duo.get_logs() == []


def test_a_new_reading_is_applied_live(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/asset/lamp-1")
    dash_duo.wait_for_contains_text("#asset-values", "55", timeout=10)
    lamp_reading(stack, status="defectiveLamp", powerState="off", powerConsumption=0.0)
    dash_duo.wait_for_contains_text("#asset-condition", "Défaut", timeout=5)
    assert "55" not in dash_duo.find_element("#asset-values").text
    lamp_reading(stack, status="ok", powerState="on", powerConsumption=91.5)
    dash_duo.wait_for_contains_text("#asset-values", "91,5", timeout=5)


def test_the_url_restores_the_view_and_relations_are_links(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/asset/lamp-1?lang=en")
    dash_duo.wait_for_text_to_equal(".asset-name", "Lanterne 1, Rue de la Loge", timeout=10)
    assert "latest values" in dash_duo.find_element(".asset-identity").text.lower()
    dash_duo.find_element("#asset-relations a.asset-link").click()  # the cabinet is an asset: its own page
    dash_duo.wait_for_text_to_equal(".asset-name", "Armoire Loge", timeout=10)
    assert dash_duo.driver.current_url.endswith("/asset/cab-1?lang=en")
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal(".asset-name", "Armoire Loge", timeout=10)


def test_an_unknown_asset_says_so(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/asset/nope-42")
    dash_duo.wait_for_contains_text(".asset-name", "nope-42", timeout=10)


def test_an_alarm_row_leads_to_its_asset_page_with_the_alarm_in_its_history(dash_duo, stack):
    stack.publish(Alarm(**stack.env("alarm", "lighting", "lum-test"), events=[
        AlarmEvent(id="lamp_off:lamp-2", asset="lamp-2", action="raise", severity="major", code="lamp_off", message="Lampe éteinte")]))
    dash_duo.driver.get(stack.url + "/lighting")
    dash_duo.wait_for_element("#alarm-list .alarm-row", timeout=10)
    link = "#alarm-list a.alarm-asset[href^='/asset/lamp-2']"
    dash_duo.wait_for_element(link, timeout=10)
    dash_duo.driver.execute_script("document.querySelector(arguments[0]).click()", link)  # redrawn as ages tick: find and click at once
    dash_duo.wait_for_text_to_equal(".asset-name", "Lanterne 2, Rue de la Loge", timeout=10)
    assert dash_duo.driver.current_url.endswith("/asset/lamp-2")
    assert dash_duo.find_elements("#asset-alarms .asset-alarm.held")
