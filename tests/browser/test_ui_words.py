"""No raw code reaches a page (issue 18, point 3): asset pages, the map's details panel and the domain lists show
enum values, relations and places by their labels and names, in French and in English, on the full stack."""
from __future__ import annotations

import re
import time

import pytest

from services.contract import LightingReading, LineString, Point, State, TrafficReading
from services.contract.messages import AssetDef
from services.settings import Settings

from .chrome import console_errors
from .domain_stack import start_domain_stack

pytestmark = pytest.mark.browser

# What must never be read on a page: enum codes, catalog keys, place ids.
CODES = re.compile(r"\b(defectiveLamp|brokenLantern|columnIssue|flashingAmber|greenWave|bootingUp|signalPlan|controlMode|"
                   r"powerState|illuminanceLevel|(?:enum|ref|value|type|condition|journal|status)\.[A-Za-z_]+|"
                   r"district-\d+|commune-\d+|street-\d+|zone-\d+)\b")


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    s = start_domain_stack(f"redis://{redis_server.host}:{redis_server.port}/0", tmp_path_factory.mktemp("state"), Settings())
    places = {"district": "district-4", "commune": "commune-34172"}
    s.publish(State[LightingReading](**s.env("state", "lighting", "lum-words"), snapshot="l1", assets=[
        AssetDef(id="cab-w", type="StreetlightControlCabinet", name="Armoire A12, Rue Foch", geometry=Point(coordinates=(3.876, 43.611)),
                 refs=places),
        AssetDef(id="lamp-w", type="Streetlight", name="Lanterne 00042, Rue Foch", geometry=Point(coordinates=(3.877, 43.611)),
                 refs={"cabinet": "cab-w", **places})],
        readings=[LightingReading(asset="lamp-w", powerState="off", status="defectiveLamp", controlMode="schedule", illuminanceLevel=0.5),
                  LightingReading(asset="cab-w", powerState="on", status="ok")]))
    s.publish(State[TrafficReading](**s.env("state", "traffic", "trafic-words"), snapshot="t1", assets=[
        AssetDef(id="seg-w", type="RoadSegment", name="Avenue de Lodève", refs=places,
                 geometry=LineString(coordinates=((3.85, 43.61), (3.86, 43.61)))),
        AssetDef(id="sig-w", type="TrafficSignal", name="Carrefour Lodève / Gambetta", geometry=Point(coordinates=(3.86, 43.61)),
                 refs={"seg1": "seg-w", **places})],
        readings=[TrafficReading(asset="sig-w", signalPlan="flashingAmber", status="fault"),
                  TrafficReading(asset="seg-w", averageVehicleSpeed=20.0, congested=True)]))
    s.wait_for(lambda: s.reader.asset("lamp-w") is not None and s.reader.asset("sig-w") is not None, what="assets")
    yield s
    s.stop()


def body_text(dash_duo, url: str, ready: str) -> str:
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(ready, timeout=30)
    time.sleep(1.5)
    return dash_duo.driver.execute_script("return document.body.innerText")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_lamp_page_says_everything_in_words(dash_duo, stack, lang):
    text = body_text(dash_duo, stack.url + f"/asset/lamp-w?lang={lang}", "#asset-relations")
    assert not CODES.findall(text), CODES.findall(text)
    words = {"fr": ("lampe défectueuse", "programme horaire", "éteint", "50\u202f%", "Port Marianne", "Montpellier", "Armoire A12, Rue Foch"),
             "en": ("defective lamp", "schedule", "off", "50\u202f%", "Port Marianne", "Montpellier", "Armoire A12, Rue Foch")}[lang]
    for w in words:
        assert w in text, (w, lang)
    link = dash_duo.driver.execute_script("return [...document.querySelectorAll('#asset-relations a')].map(a => [a.textContent, a.getAttribute('href')])")
    assert ["Armoire A12, Rue Foch", f"/asset/cab-w{'?lang=en' if lang == 'en' else ''}"] in link  # the related asset by name, linked
    assert not console_errors(dash_duo.driver)


def test_the_junction_page_and_the_traffic_lists_say_the_plan_in_words(dash_duo, stack):
    text = body_text(dash_duo, stack.url + "/asset/sig-w", "#asset-relations")
    assert "orange clignotant" in text and "Tronçon 1" in text and "Avenue de Lodève" in text
    assert not CODES.findall(text), CODES.findall(text)
    text = body_text(dash_duo, stack.url + "/traffic", "#traffic-lists .plans")
    assert "orange clignotant" in text
    assert not CODES.findall(text), CODES.findall(text)


def test_the_lighting_page_says_the_control_modes_in_words(dash_duo, stack):
    text = body_text(dash_duo, stack.url + "/lighting", "#lighting-modes")
    assert "programme horaire" in dash_duo.find_element("#lighting-modes").text
    assert not CODES.findall(text), CODES.findall(text)
