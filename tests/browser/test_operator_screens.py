"""Operator screens at 1366x768 (issue 18, point 2), in headless Chromium on the full stack: no essential text under
13 px, the header on one line with five supervisors, alarm messages and assets readable in full, each domain's alarm
list above the fold; and the replay page's clock in the territory's time like every other page."""
from __future__ import annotations

import time

import pytest

from services.contract import (
    Alarm,
    AlarmEvent,
    LineString,
    Point,
    State,
    TrafficReading,
    WaterReading,
)
from services.contract.messages import AssetDef
from services.settings import Settings

from .chrome import console_errors
from .domain_stack import start_domain_stack

pytestmark = pytest.mark.browser

PIPE = "Conduite DN300, Avenue du Professeur Louis Ravas (tronçon de la Croix d'Argent)"
MESSAGE = "Fuite probable : débit de nuit 38 % au-dessus de la référence depuis 02:10, pression en baisse de 0,6 bar"

# Visible text nodes with their size and whether their box cuts them (same walk as the wall's test).
TEXTS = """
var out = [];
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  var n = walker.currentNode, e = n.parentElement;
  if (!n.textContent.trim() || !e) continue;
  var r = e.getBoundingClientRect(), st = getComputedStyle(e);
  if (!r.width || !r.height || r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) continue;
  var hidden = false;
  for (var p = e; p; p = p.parentElement) { var s = getComputedStyle(p); if (s.display === 'none' || s.visibility === 'hidden') { hidden = true; break; } }
  if (hidden || e.closest('.leaflet-control-attribution, .js-plotly-plot, .visually-hidden, .sr-only')) continue;
  out.push({text: n.textContent.trim().slice(0, 60), px: parseFloat(st.fontSize),
            cut: e.scrollWidth > e.clientWidth + 1 && st.overflow !== 'visible' && st.textOverflow === 'ellipsis'});
}
return out;
"""


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"),
                           Settings(coalesce_ms=250))
    for sup in ("eau-nord", "eau-sud"):
        s.publish(State[WaterReading](**s.env("state", "water", sup), snapshot="s1", assets=[
            AssetDef(id=f"pipe-{sup}", type="Pipe", name=PIPE, geometry=LineString(coordinates=((3.86, 43.60), (3.87, 43.61))))],
            readings=[WaterReading(asset=f"pipe-{sup}", flow=12.0)]))
    for sup in ("trafic-est", "trafic-ouest", "trafic-centre"):
        s.publish(State[TrafficReading](**s.env("state", "traffic", sup), snapshot="t1", assets=[
            AssetDef(id=f"sig-{sup}", type="TrafficSignal", name=f"Carrefour {sup}", geometry=Point(coordinates=(3.88, 43.61)))],
            readings=[TrafficReading(asset=f"sig-{sup}", signalPlan="flashingAmber")]))
    s.wait_for(lambda: all(s.reader.asset(a) for a in ("pipe-eau-nord", "pipe-eau-sud", "sig-trafic-est")), what="assets")
    s.publish(Alarm(**s.env("alarm", "water", "eau-nord"), events=[
        AlarmEvent(id="leak:pipe-eau-nord", asset="pipe-eau-nord", action="raise", severity="major", code="leak_suspected",
                   message=MESSAGE)]))
    s.wait_for(lambda: any(a.get("asset") == "pipe-eau-nord" for a in s.reader.alarms()), what="the leak alarm")
    yield s
    s.stop()


def open_page(dash_duo, url: str) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(".vigie-header", timeout=40)
    end = time.monotonic() + 20
    while not dash_duo.driver.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready)") and time.monotonic() < end:
        time.sleep(0.1)
    time.sleep(1.5)


@pytest.mark.parametrize("path", ["/", "/lighting", "/water", "/traffic", "/commands", "/asset/pipe-eau-nord", "/asset/sig-trafic-est"])
def test_no_essential_text_under_13_px_and_the_header_on_one_line(dash_duo, stack, path):
    open_page(dash_duo, stack.url + path)
    small = [(t["text"], t["px"]) for t in dash_duo.driver.execute_script(TEXTS) if t["px"] < 13]
    assert not small, f"{path}: text under 13 px at 1366x768: {small[:8]}"
    badges = dash_duo.driver.execute_script("return document.querySelectorAll('.sup-badge').length")
    header = dash_duo.driver.execute_script("return document.querySelector('.vigie-header').getBoundingClientRect().height")
    assert badges >= 5 and header <= 56, f"{path}: {badges} badges, header {header} px high (wrapped)"
    assert not console_errors(dash_duo.driver)


@pytest.mark.parametrize("path", ["/", "/asset/pipe-eau-nord"])
def test_the_header_stays_on_one_line_at_1920(dash_duo, stack, path):
    open_page(dash_duo, stack.url + path)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(1)
    header = dash_duo.driver.execute_script("return document.querySelector('.vigie-header').getBoundingClientRect().height")
    tops = dash_duo.driver.execute_script("return [...document.querySelectorAll('.sup-badge')].map(b => Math.round(b.getBoundingClientRect().top))")
    assert header <= 56 and len(set(tops)) == 1, f"{path}: header {header} px, badges at {tops}"


def test_alarm_messages_and_assets_are_read_in_full_and_the_water_list_is_above_the_fold(dash_duo, stack):
    open_page(dash_duo, stack.url + "/water")
    row = dash_duo.wait_for_element(".alarm-list .alarm-row", timeout=10)
    r = row.rect
    assert r["y"] + r["height"] <= 768, f"the water alarm list starts below the fold ({r})"
    assert MESSAGE in row.text and PIPE in row.text  # message and asset whole, not cut at 12 characters
    cut = [t["text"] for t in dash_duo.driver.execute_script(TEXTS) if t["cut"]]
    assert not [c for c in cut if c in (MESSAGE[:60], PIPE[:60])], cut
    assert not console_errors(dash_duo.driver)


@pytest.mark.parametrize("domain", ["lighting", "traffic"])
def test_every_domain_alarm_list_is_above_the_fold(dash_duo, stack, domain):
    open_page(dash_duo, stack.url + f"/{domain}")
    top = dash_duo.driver.execute_script("return document.querySelector('.alarm-panel').getBoundingClientRect().top")
    assert top < 768 - 120, f"/{domain}: the alarm list starts at {top} px"


def test_the_replay_page_clock_is_the_territorys(dash_duo, stack):
    open_page(dash_duo, stack.url + "/replay")
    tz = stack.server.extensions["vigie.ui"].territory.timezone
    end = time.monotonic() + 15
    shown = expected = utc = ""
    while time.monotonic() < end:
        shown, expected, utc = dash_duo.driver.execute_script(
            "var n = vigie.live.now() * 1000, o = {hour: '2-digit', minute: '2-digit', second: '2-digit'};"
            "return [document.getElementById('clock-text').textContent,"
            " new Date(n).toLocaleTimeString('fr-FR', Object.assign({timeZone: arguments[0]}, o)),"
            " new Date(n).toLocaleTimeString('fr-FR', Object.assign({timeZone: 'UTC'}, o))]", tz)
        if shown[:8] == expected:
            break
        time.sleep(0.2)
    assert shown[:8] == expected, f"the replay page shows {shown}, the territory's time ({tz}) is {expected}"
    assert tz == "UTC" or shown[:5] != utc[:5]  # not the browser's UTC
    assert not console_errors(dash_duo.driver)
