"""The engineers' supervisors page in headless Chromium on the full secured stack (approval required).

An engineer sees a quarantined supervisor appear while the page is open (pushed, no reload), approves it through
the confirmation dialog, and its assets and alarm reach the operators; an operator sees the decisions but cannot take them.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from services.accounts import AccountStore
from services.contract import AlarmEvent, AssetDef, Point, State, WaterReading

from .alarm_stack import CHEAP, PW, start_secured

pytestmark = pytest.mark.browser


@pytest.fixture
def vigie(redis_url):
    s = start_secured(redis_url, users=("olga",), supervisors_approval="required")
    AccountStore(s.client, CHEAP).create_user("erin", "engineer", "water", PW, now=time.time())
    yield s
    s.stop()


def quarantined(vigie, sup: str = "eau-nord") -> None:
    """A water supervisor nobody declared publishes its state with one active alarm."""
    assets = [AssetDef(id=f"{sup}-valve-{i}", type="Valve", name=f"Vanne {i}", geometry=Point(coordinates=(3.87 + i * 1e-3, 43.61)))
              for i in range(3)]
    vigie.publish(State[WaterReading](v=1, kind="state", domain="water", supervisor=sup, ts=datetime.now(timezone.utc), seq=1,
                                      snapshot="s1", assets=assets,
                                      alarms=[AlarmEvent(id="leak", asset=f"{sup}-valve-1", action="raise", severity="major",
                                                         code="leak", message="Fuite suspectée")]))


def row_in(driver, section: str, sup: str) -> bool:
    return driver.execute_script("return !!document.querySelector('#sup-section-' + arguments[0] + ' #sup-row-' + arguments[1])",
                                 section, sup)


def button(driver, sup: str, label: str):
    return driver.execute_script("var label = arguments[1]; return Array.from(document.querySelectorAll('#sup-row-' + arguments[0] + "
                                 "' button')).find(function (b) { return b.textContent === label; }) || null", sup, label)


def test_an_engineer_approves_a_quarantined_supervisor_and_its_data_reaches_the_operators(vigie):
    d = vigie.browser("erin", "/supervisors", width=1366, height=768)
    vigie.wait_for(lambda: d.execute_script("return !!document.getElementById('sup-section-quarantined')"), 10, "the page")
    quarantined(vigie)  # while the page is open: it appears without a reload
    vigie.wait_for(lambda: row_in(d, "quarantined", "eau-nord"), 15, "the quarantined supervisor on the page")
    text = d.execute_script("return document.getElementById('sup-row-eau-nord').textContent")
    assert "3 équipement(s)" in text and "Fuite suspectée" in text
    assert vigie.runtime.reader.asset("eau-nord-valve-1") is None and vigie.runtime.reader.alarms() == []
    button(d, "eau-nord", "Approuver").click()
    vigie.wait_for(lambda: "eau-nord" in (d.execute_script(
        "return (document.getElementById('supervisors-confirm-text') || {}).textContent") or ""), 5, "the confirmation")
    d.execute_script("document.getElementById('supervisors-confirm-ok').click()")
    vigie.wait_for(lambda: d.execute_script("return document.getElementById('supervisors-feedback').textContent") == "eau-nord approuvé.",
                   10, "the feedback")
    vigie.wait_for(lambda: row_in(d, "approved", "eau-nord"), 5, "the supervisor among the approved")
    assert "approuvé par erin" in d.execute_script("return document.getElementById('sup-row-eau-nord').textContent")
    vigie.wait_for(lambda: vigie.runtime.reader.asset("eau-nord-valve-1") is not None, 5, "its assets")
    assert [a["id"] for a in vigie.runtime.reader.alarms()] == ["eau-nord/leak"]


def test_an_operator_sees_the_registry_but_cannot_decide(vigie):
    quarantined(vigie, "eau-sud")
    vigie.wait_for(lambda: any(r["id"] == "eau-sud" for r in vigie.runtime.engine.execute(lambda c, n: (c.registry_view(n), []))),
                   10, "the newcomer")
    d = vigie.browser("olga", "/supervisors?lang=en")
    vigie.wait_for(lambda: row_in(d, "quarantined", "eau-sud"), 10, "the row")
    approve = button(d, "eau-sud", "Approve")
    assert approve is not None and not approve.is_enabled()
    assert approve.get_attribute("title") == "for engineers of the Water domain"
    assert d.execute_script("return document.querySelector('h1').textContent") == "Registry of supervisors"
