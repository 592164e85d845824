"""The master alarm database: its shipped file, classing (maintenance is not an operator alarm), delays, chattering
suppression that never hides a true alarm, unknown codes, and a leak grouping its downstream low-pressure sensors."""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import yaml

from services.alarms.rationale_store import SCHEMA, SHIPPED, shipped_book
from services.core.alarm_rationale import (
    AlarmClass,
    RationaleBook,
    RationaleError,
    parse_rationale,
)
from services.core.alarm_record import AlarmPolicy
from services.core.alarms import AlarmBook

T0 = 1_750_000_000.0
ROOT = Path(__file__).resolve().parents[2]


def asset(id: str, **refs: str) -> SimpleNamespace:
    return SimpleNamespace(id=id, refs=refs, geometry=None, condition="ok")


ASSETS = {a.id: a for a in [
    asset("main-1"), asset("pipe-1", upstream="main-1", zone="z-1"), asset("pipe-2", upstream="pipe-1", zone="z-1"),
    asset("pipe-3", upstream="main-1", zone="z-1"),
    asset("sensor-a", pipe="pipe-2", zone="z-1"), asset("sensor-b", pipe="pipe-1", zone="z-1"),
    asset("sensor-c", pipe="pipe-3", zone="z-1"), asset("lamp-1", cabinet="cab-1", street="Rue A"),
    *[asset(f"lamp-a{i}", cabinet="cab-1", street="Rue A") for i in range(4)], asset("lamp-b1", cabinet="cab-1", street="Rue B"),
    asset("cab-1"),
]}


def record(code: str, **over) -> dict:
    base = {"code": code, "class": "operator", "priority": "high", "label": {"fr": code, "en": code},
            "consequence": {"fr": "c", "en": "c"}, "action": {"fr": "a", "en": "a"}}
    return {**base, **over}


def book_with(*records: dict) -> AlarmBook:
    return AlarmBook(asset_of=ASSETS.get, policy=AlarmPolicy(), rationale=RationaleBook.from_dicts(records))


def up(book: AlarmBook, aid: str, code: str, asset: str = "x", at: float = T0, severity: str = "minor", domain: str = "water"):
    return book.raise_(aid, source="supervisor", domain=domain, supervisor="sup", asset=asset, code=code,
                       severity=severity, message=f"{code} on {asset}", at=at)


# --- the shipped file ---------------------------------------------------------------------------------------------


def test_the_shipped_database_follows_its_json_schema() -> None:
    jsonschema.validate(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")), json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_every_code_vigie_and_the_simulators_raise_has_a_record() -> None:
    sources = [*ROOT.joinpath("services/simulators").glob("*.py"), ROOT / "services/core/hypervisor.py",
               ROOT / "services/core/identity.py", ROOT / "services/core/derived_alarms.py"]
    raised = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r'raise_alarm\([^,]+, [^,]+, "(\w+)"', text))
        raised |= set(re.findall(r'code="(\w+)"', text))
    assert {"cabinet_trip", "lamp_fault", "pump_fault", "leak_suspected", "incident", "bus_lost"} <= raised
    assert raised <= set(shipped_book().records), raised - set(shipped_book().records)


def test_lamp_faults_are_maintenance_and_what_the_control_room_must_act_on_is_an_operator_alarm() -> None:
    book = shipped_book()
    assert book.lookup("lamp_fault").alarm_class is AlarmClass.MAINTENANCE
    for code in ("cabinet_trip", "street_dark", "pump_fault", "leak_suspected", "incident"):
        assert book.lookup(code).alarm_class is AlarmClass.OPERATOR, code
        assert book.lookup(code).on_delay_s <= 5, code  # an incident's alarm within 10 s


@pytest.mark.parametrize(("change", "why"), [
    ({"class": "nuisance"}, "class"), ({"priority": "medium"}, "priority"), ({"on_delay_s": -1}, "on_delay_s"),
    ({"chatter": {"toggles": 0, "window_s": 60}}, "chatter.toggles"), ({"label": {"fr": ""}}, "label.fr"),
    ({"consequence": {}}, "consequence.fr"), ({"extra": 1}, "unknown field"), ({"code": "a b"}, "code"),
    ({"action": {"fr": "x\x00y", "en": "y"}}, "action.fr"),
])
def test_a_bad_record_is_refused_with_the_field_and_why(change: dict, why: str) -> None:
    with pytest.raises(RationaleError, match=re.escape(why)):
        parse_rationale({**record("x"), **change})


# --- classing ---------------------------------------------------------------------------------------------------


def test_a_maintenance_condition_is_held_but_never_annunciated_nor_counted_and_leaves_when_it_ends() -> None:
    book = book_with(record("lamp_fault", **{"class": "maintenance", "priority": "low"}))
    a = up(book, "l/1", "lamp_fault", "lamp-1", domain="lighting")
    assert a.alarm_class == "maintenance" and a.to_dict()["alarm_class"] == "maintenance"
    counts = book.counts(T0)
    assert counts["maintenance"] == 1 and counts["unacknowledged"] == 0 and sum(counts["by_priority"].values()) == 0
    assert book.kpis(T0 + 1)["annunciated"] == 0
    assert [m.id for m in book.maintenance()] == ["l/1"]
    book.clear("l/1", T0 + 5)
    assert book.get("l/1") is None and book.maintenance() == []  # no "returned unacknowledged" left behind


def test_an_event_only_type_is_counted_and_never_held() -> None:
    book = book_with(record("door_open", **{"class": "event"}))
    assert up(book, "s/1", "door_open") is None and len(book) == 0 and book.events_only == {"door_open": 1}


def test_the_priority_is_the_rationalised_one_unless_it_follows_the_supervisor() -> None:
    book = book_with(record("pump_fault", priority="urgent"), record("water_quality", priority="supervisor"))
    assert str(up(book, "w/1", "pump_fault", severity="minor").priority) == "urgent"
    assert str(up(book, "w/2", "water_quality", severity="major").priority) == "high"


def test_an_unknown_code_gets_the_default_record_and_is_listed_to_rationalise() -> None:
    book = book_with(record("pump_fault"))
    a = up(book, "w/9", "valve_stuck", severity="major")
    assert a.alarm_class == "operator" and str(a.priority) == "high"
    up(book, "w/10", "valve_stuck", severity="major")
    listed = book.rationale.to_rationalise()
    assert [(u["code"], u["count"], u["domain"]) for u in listed] == [("valve_stuck", 2, "water")]
    assert book.rationale.lookup("valve_stuck").default
    book.rationale.put(parse_rationale(record("valve_stuck", **{"class": "maintenance"})))
    assert book.rationale.to_rationalise() == []  # rationalised: effective for the next raise, no restart


# --- delays -----------------------------------------------------------------------------------------------------


def test_an_on_delay_hides_a_blip_and_raises_what_lasts() -> None:
    book = book_with(record("low_level", on_delay_s=20))
    assert up(book, "w/1", "low_level") is None
    book.clear("w/1", T0 + 5)
    book.tick(T0 + 30)
    assert book.get("w/1") is None  # a 5 s blip never reached anyone
    up(book, "w/1", "low_level", at=T0 + 40)
    book.tick(T0 + 50)
    assert book.get("w/1") is None
    book.tick(T0 + 61)
    assert book.get("w/1").state == "active_unack" and book.kpis(T0 + 62)["annunciated"] == 1


def test_an_off_delay_keeps_a_flickering_alarm_one_alarm() -> None:
    book = book_with(record("low_pressure", off_delay_s=30))
    up(book, "w/1", "low_pressure")
    for k in range(5):  # cleared and raised again within the off-delay: never toggles
        book.clear("w/1", T0 + 10 * k + 1)
        up(book, "w/1", "low_pressure", at=T0 + 10 * k + 5)
    a = book.get("w/1")
    assert a.active and a.raise_count == 1 and not a.chattering
    book.clear("w/1", T0 + 100)
    book.tick(T0 + 120)
    assert book.get("w/1").active
    book.tick(T0 + 131)
    assert book.get("w/1").state == "rtn_unack"


# --- chattering -------------------------------------------------------------------------------------------------


def chatter(book: AlarmBook, aid: str, times: int, start: float = T0, step: float = 5.0) -> float:
    t = start
    for k in range(times):
        if k % 2 == 0:
            up(book, aid, "low_pressure", "sensor-c", at=t)
        else:
            book.clear(aid, t)
        t += step
    return t


def test_a_chattering_alarm_is_suppressed_announced_once_visible_and_reversible() -> None:
    book = book_with(record("low_pressure", chatter={"toggles": 3, "window_s": 60}))
    chatter(book, "w/1", 12)
    a = book.get("w/1")
    assert a.chatter_held and a.chattering and a.state == "suppressed" and a.parent is None
    assert book.counts(T0)["chatter_suppressed"] == 1
    annunciated = book.kpis(T0 + 60)["annunciated"]
    assert annunciated <= 2  # the first raises, not one per toggle (6 raises)
    assert [h.action for h in a.history].count("suppress") == 1
    assert book.release_chatter("w/1", "ana", T0 + 61, "contact repaired").result == "done"
    assert book.get("w/1") is None or book.get("w/1").state == "active_unack"  # cleared: gone; active: shown again
    assert book.release_chatter("w/1", "ana", T0 + 62).result in ("refused", "not_found")


def test_suppression_never_hides_a_true_alarm() -> None:
    """A chattering alarm and a flood of maintenance conditions hide nothing: every true alarm is annunciated at once,
    and a chattering one that then stays active comes back within its window."""
    book = book_with(record("low_pressure", chatter={"toggles": 3, "window_s": 60}),
                     record("lamp_fault", **{"class": "maintenance", "priority": "low"}), record("pump_fault", priority="urgent"),
                     record("leak_suspected"))
    t = chatter(book, "w/noisy", 12)
    for i in range(500):
        up(book, f"l/{i}", "lamp_fault", f"lamp-{i}", at=t, domain="lighting")
    for k, (aid, code, where) in enumerate([("w/pump", "pump_fault", "pump-9"), ("w/leak", "leak_suspected", "pipe-9")]):
        a = up(book, aid, code, where, at=t + k)
        assert a.state == "active_unack" and not a.chatter_held, aid
    up(book, "w/noisy", "low_pressure", "sensor-c", at=t)  # the condition now stays
    book.tick(t + 30)
    assert book.get("w/noisy").state == "suppressed"
    book.tick(t + 61)
    assert book.get("w/noisy").state == "active_unack" and not book.get("w/noisy").chatter_held


# --- grouping via the water network -----------------------------------------------------------------------------


def test_a_leak_and_its_downstream_low_pressure_sensors_are_one_root_cause() -> None:
    book = book_with(record("leak_suspected"), record("low_pressure"))
    up(book, "w/p-a", "low_pressure", "sensor-a", at=T0)  # before the leak is detected
    leak = up(book, "w/leak", "leak_suspected", "pipe-1", at=T0 + 10)
    up(book, "w/p-b", "low_pressure", "sensor-b", at=T0 + 20)  # on the leaking pipe itself
    up(book, "w/p-c", "low_pressure", "sensor-c", at=T0 + 30)  # another branch: not downstream
    assert {c.id for c in book.children("w/leak")} == {"w/p-a", "w/p-b"} and leak.children == 2
    assert book.get("w/p-c").state == "active_unack"
    assert book.counts(T0 + 31)["by_priority"]["high"] == 2  # the leak and the other branch's sensor


# --- a street dark at night -------------------------------------------------------------------------------------


def test_three_dead_lamps_on_one_street_at_night_are_one_operator_alarm_and_clear_by_day_or_repair() -> None:
    book = book_with(record("lamp_fault", **{"class": "maintenance", "priority": "low"}), record("street_dark", priority="low"))
    ASSETS["cab-1"].values = {"powerState": "on"}
    try:
        for i in range(2):
            up(book, f"l/a{i}", "lamp_fault", f"lamp-a{i}", domain="lighting")
        up(book, "l/b1", "lamp_fault", "lamp-b1", domain="lighting")
        book.tick(T0 + 1)
        assert book.get("vigie/street_dark/Rue A") is None  # two lamps: maintenance only
        up(book, "l/a2", "lamp_fault", "lamp-a2", domain="lighting")
        book.tick(T0 + 2)
        dark = book.get("vigie/street_dark/Rue A")
        assert dark.state == "active_unack" and dark.alarm_class == "operator" and book.counts(T0 + 2)["by_priority"]["low"] == 1
        ASSETS["cab-1"].values = {"powerState": "off"}  # daylight: the schedule switched the street off
        book.tick(T0 + 3)
        assert not book.get("vigie/street_dark/Rue A").active
        ASSETS["cab-1"].values = {"powerState": "low"}
        book.tick(T0 + 4)
        assert book.get("vigie/street_dark/Rue A").active
        book.clear("l/a0", T0 + 5)  # a crew repaired one
        book.tick(T0 + 6)
        assert not book.get("vigie/street_dark/Rue A").active
    finally:
        del ASSETS["cab-1"].values


def test_a_child_cleared_during_its_off_delay_is_not_annunciated_when_its_cause_clears() -> None:
    """The off-delay only holds a clear back; it must not make a suppressed child look active at its release."""
    book = book_with(record("leak_suspected"), record("low_pressure", off_delay_s=30))
    up(book, "w/leak", "leak_suspected", "pipe-1", at=T0)
    up(book, "w/p-a", "low_pressure", "sensor-a", at=T0 + 1)
    assert book.get("w/p-a").state == "suppressed"
    book.clear("w/leak", T0 + 100)
    book.clear("w/p-a", T0 + 110)  # the pressure comes back; its clear waits for the off-delay
    book.tick(T0 + 131)  # the release delay (30 s) is over before the off-delay (30 s from 110)
    assert book.get("w/p-a") is None and book.kpis(T0 + 132)["annunciated"] == 1  # the leak only


# --- the engineers' form ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(shipped_book().records))
def test_the_engineers_form_gives_back_the_record_it_shows(code: str) -> None:
    from layouts.alarms_rationale import form_values, record_from_form

    record = shipped_book().records[code]
    values = form_values(record.to_dict(), "fr")
    values["domain"] = values["domain"] or "vigie"  # how the page shows Vigie's own types
    back = parse_rationale(record_from_form(code, values))
    assert back.to_dict() | {"source": record.source, "domain": record.domain} == record.to_dict()
