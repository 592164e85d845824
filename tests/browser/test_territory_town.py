"""The control room in headless Chromium on the synthetic town built by `territory new` from roads and communes alone
(tests/territory_town.py): the three simulators run there, the base map draws what the package has, and what the
simulators invent says so."""
from __future__ import annotations

import time

import pytest

from services.settings import Settings
from services.territory.package import load_territory
from tests.territory_town import PACKAGE

from .harness import start_stack

pytestmark = pytest.mark.browser

TOWN = str(PACKAGE)


@pytest.fixture(scope="module")
def stack(redis_server):
    s = start_stack(f"redis://{redis_server.host}:{redis_server.port}/0", Settings(territory=TOWN, simulator_speed=10.0), simulators=True)
    try:
        s.wait_for(lambda: all(len(s.reader.assets_geo(d)) >= n for d, n in (("lighting", 538), ("water", 50), ("traffic", 137))),
                   60, "the town's assets")
        yield s
    finally:
        s.stop()


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_overview_shows_the_town_its_supervisors_its_map_and_its_three_layers(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/")
    dash_duo.wait_for_element(".vc", timeout=20)
    header = dash_duo.driver.execute_script("return document.querySelector('header').textContent")  # narrow screens hide some
    assert "Bourg-Synthétique" in header
    for sid in load_territory(TOWN).supervisors.values():
        assert sid in header
    end = time.monotonic() + 20
    counts = {}
    while time.monotonic() < end:  # the offline base map (communes, roads) and the three live layers are drawn
        counts = dash_duo.driver.execute_script(
            "const m = document.querySelector('.leaflet-container');"
            "return {paths: m ? m.querySelectorAll('path').length : 0, markers: m ? m.querySelectorAll('.leaflet-marker-icon').length : 0};")
        if counts["paths"] >= 3 and counts["markers"] >= 1:
            break
        time.sleep(0.5)
    assert counts["paths"] >= 3 and counts["markers"] >= 1, counts
    assert _severe(dash_duo.driver) == []


def test_an_invented_lamp_says_it_is_simulated_on_its_page(dash_duo, stack):
    dash_duo.driver.get(stack.url + "/asset/lamp-00001")
    dash_duo.wait_for_contains_text(".asset-identity", "Lanterne 00001", timeout=20)
    identity = dash_duo.find_element(".asset-identity").text
    assert "Origine" in identity and "simulé" in identity
    assert _severe(dash_duo.driver) == []
