"""Issue 15 in the browser: the console's fixes (a marker blinks, a shelved alarm leaves "to handle" at once, Back from
an asset page keeps the selection and its detail, the overview's list is not redrawn when nothing changed), maintenance
kept from the operator, and the engineers' page of the master alarm database."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from .alarm_stack import start_secured

pytestmark = pytest.mark.browser


@pytest.fixture
def vigie(redis_url):
    s = start_secured(redis_url, users=("alice",), engineers=("eve",))
    s.lamps(40)
    s.wait_for(lambda: len(s.runtime.reader.assets_geo("lighting")) == 40, what="lamps")
    yield s
    s.stop()


def shown_ids(driver) -> list[str]:
    return driver.execute_script("var ids = []; if (vigie.console.api) vigie.console.api.forEachNodeAfterFilterAndSort("
                                 "function (n) { ids.push(n.data.id); }); return ids;")


def detail_text(driver) -> str:
    """The detail pane's text, found and read in one step (Dash replaces the pane while the console comes back)."""
    return driver.execute_script("var e = document.getElementById('alarms-detail'); return e ? e.innerText : '';")


def test_a_shelved_alarm_leaves_to_handle_as_soon_as_the_feedback_says_so(vigie):
    driver = vigie.browser("alice")
    vigie.alarms(("low_level:lamp-1", "lamp-1", "major"), ("low_level:lamp-2", "lamp-2", "major"))
    aid = "lum/low_level:lamp-1"
    vigie.wait_for(lambda: aid in shown_ids(driver), what="the alarm in 'to handle'")
    driver.execute_script("vigie.console.api.getRowNode(arguments[0]).setSelected(true)", aid)
    driver.execute_script("document.getElementById('alarms-shelve').click()")
    vigie.wait_for(lambda: driver.execute_script("var e = document.getElementById('alarms-shelve-reason');"
                                                 "return !!e && e.offsetParent !== null"), 10, "the shelve dialog")
    driver.find_element(By.ID, "alarms-shelve-reason").send_keys("équipe sur place")
    driver.execute_script("document.getElementById('alarms-shelve-ok').click()")
    vigie.wait_for(lambda: "veille" in driver.find_element(By.ID, "alarms-feedback").text, 5, "the feedback")
    # the feedback and the row's move come from the same answer: no wait for the push
    vigie.wait_for(lambda: aid not in shown_ids(driver), 1.0, "the shelved alarm out of 'to handle'")
    assert "lum/low_level:lamp-2" in shown_ids(driver)


def test_back_from_an_asset_page_keeps_the_selection_and_its_detail(vigie):
    driver = vigie.browser("alice")
    vigie.alarms(("low_level:lamp-3", "lamp-3", "major"), ("low_level:lamp-4", "lamp-4", "minor"))
    aid = "lum/low_level:lamp-3"
    vigie.wait_for(lambda: aid in shown_ids(driver), what="the alarm")
    driver.execute_script("document.querySelector('.ag-row[row-id=\"' + arguments[0] + '\"] [col-id=message]').click()", aid)
    vigie.wait_for(lambda: "Apparition" in detail_text(driver), 5, "the detail")
    driver.find_element(By.ID, "alarms-filter-text").send_keys("lamp-3")
    vigie.wait_for(lambda: shown_ids(driver) == [aid], 3, "the text filter")
    driver.execute_script("document.querySelector('#alarms-detail a.asset-link').click()")
    vigie.wait_for(lambda: "/asset/lamp-3" in driver.current_url, 5, "the asset page")
    driver.back()
    vigie.wait_for(lambda: driver.execute_script("return !!document.getElementById('alarms-detail')"), 10, "the console again")
    vigie.wait_for(lambda: "lamp-3" in (text := detail_text(driver)) and "Apparition" in text, 10, "the same detail")
    assert driver.execute_script("return vigie.console.selected") == aid
    vigie.wait_for(lambda: shown_ids(driver) == [aid], 5, "the filters kept")
    assert driver.execute_script("return document.getElementById('alarms-filter-text').value") == "lamp-3"


def test_the_overview_list_is_not_redrawn_when_nothing_changed(vigie):
    driver = vigie.browser("alice", path="/")
    vigie.alarms(("low_level:lamp-5", "lamp-5", "major"))
    button = "#alarm-list [data-alarm-ack='lum/low_level:lamp-5']"
    vigie.wait_for(lambda: driver.execute_script(f"return !!document.querySelector(\"{button}\")"), 5, "the row")
    driver.execute_script(f"window.__row = document.querySelector(\"{button}\").closest('.alarm-row');"
                          "window.__age = window.__row.querySelector('.alarm-age').textContent;")
    for i in range(3):  # pushes that change nothing in the list (maintenance conditions are not the operator's)
        vigie.alarms((f"lamp_fault:lamp-{10 + i}", f"lamp-{10 + i}", "minor"))
        time.sleep(1.5)
    assert driver.execute_script("return window.__row.isConnected"), "the row was replaced"
    vigie.alarms(("low_level:lamp-20", "lamp-20", "info"))  # a new row below it: the others stay the same elements
    vigie.wait_for(lambda: driver.execute_script("return document.querySelectorAll('#alarm-list .alarm-row').length") == 2, 5, "2 rows")
    assert driver.execute_script("return window.__row.isConnected"), "the row was replaced"
    assert driver.execute_script("return window.__row.querySelector('.alarm-age').textContent") != \
        driver.execute_script("return window.__age"), "its age moved in place"
    found = driver.find_element(By.CSS_SELECTOR, button)  # found, then clicked in a later call: still the same element
    time.sleep(1.0)
    found.click()
    vigie.wait_for(lambda: driver.execute_script("return vigie.live.alarms.get('lum/low_level:lamp-5').acknowledged"), 3, "acked")


def test_maintenance_stays_out_of_the_operators_views(vigie):
    driver = vigie.browser("alice")
    vigie.alarms(("lamp_fault:lamp-6", "lamp-6", "minor"), ("low_level:lamp-7", "lamp-7", "major"))
    vigie.wait_for(lambda: driver.execute_script("return vigie.console.present.size") == 2, what="both in the browser")
    vigie.wait_for(lambda: shown_ids(driver) == ["lum/low_level:lamp-7"], 3, "only the operator alarm to handle")
    assert vigie.runtime.reader.summary()["unacknowledged"] == 1
    driver.execute_script("document.querySelector('#alarms-filter-view input[value=maintenance]').click()")
    vigie.wait_for(lambda: shown_ids(driver) == ["lum/lamp_fault:lamp-6"], 3, "the maintenance view")
    label = driver.execute_script("return document.querySelector('.ag-row[row-id=\"lum/lamp_fault:lamp-6\"] [col-id=message]').textContent")
    assert label.startswith("Lampe en panne — ") and "Défaut sur lamp-6" in label  # the type's name, the supervisor's text after


def test_engineers_edit_the_database_on_its_page_and_operators_cannot(vigie):
    eve = vigie.browser("eve", path="/alarms/rationalisation", width=1920, height=1080)
    vigie.wait_for(lambda: "cabinet_trip" in eve.find_element(By.ID, "rat-grid").text, 10, "the records")
    eve.execute_script("window.dash_clientside.set_props('rat-code', {value: 'cabinet_trip'})")
    vigie.wait_for(lambda: eve.find_element(By.ID, "rat-f-label-fr").get_attribute("value") == "Disjonction d'armoire", 5, "the form")
    assert eve.find_element(By.ID, "rat-save").is_enabled()
    eve.execute_script("window.dash_clientside.set_props('rat-f-priority', {value: 'urgent'});"
                       "window.dash_clientside.set_props('rat-f-respond-min', {value: 7})")
    eve.execute_script("document.getElementById('rat-save').click()")
    vigie.wait_for(lambda: "enregistrée" in eve.find_element(By.ID, "rat-feedback").text, 5, "saved")
    rec = vigie.runtime.engine.execute(lambda core, now: (core.alarms.rationale.lookup("cabinet_trip"), []))
    assert (rec.priority, rec.respond_min) == ("urgent", 7.0)
    vigie.alarms(("cabinet_trip:cab-1", "cab-1", "major"))  # in force for the next raise, no restart
    vigie.wait_for(lambda: any(a["id"] == "lum/cabinet_trip:cab-1" and a["priority"] == "urgent"
                               for a in vigie.runtime.reader.alarms()), 5, "the new priority")
    eve.execute_script("window.dash_clientside.set_props('rat-f-chatter-toggles', {value: 0})")
    eve.execute_script("document.getElementById('rat-save').click()")
    vigie.wait_for(lambda: "Refusé" in eve.find_element(By.ID, "rat-feedback").text, 5, "a bad value refused")
    assert "chatter.toggles" in eve.find_element(By.ID, "rat-feedback").text

    alice = vigie.browser("alice", path="/alarms/rationalisation")
    vigie.wait_for(lambda: "cabinet_trip" in alice.find_element(By.ID, "rat-grid").text, 10, "the records, read-only")
    alice.execute_script("window.dash_clientside.set_props('rat-code', {value: 'pump_fault'})")
    vigie.wait_for(lambda: "ingénieurs" in alice.find_element(By.ID, "rat-feedback").text, 5, "why not")
    assert not alice.find_element(By.ID, "rat-save").is_enabled()
