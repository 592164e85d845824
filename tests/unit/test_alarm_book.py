"""The alarm book: operator actions with who/when/why, shelving, flood suppression, maintenance, persistence."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.core.alarm_record import AlarmPolicy
from services.core.alarms import AlarmBook

T0 = 1_750_000_000.0


def asset(id: str, condition: str = "ok", geometry: dict | None = None, **refs: str) -> SimpleNamespace:
    return SimpleNamespace(id=id, refs=refs, geometry=geometry, condition=condition)


def line(*coords: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


ASSETS = {a.id: a for a in [
    asset("cab-1", district="d-1"), asset("cab-2"),
    *[asset(f"lamp-{i}", cabinet="cab-1", district="d-1") for i in range(5)], asset("lamp-9", cabinet="cab-2"),
    asset("pump-1", zone="z-1"), asset("sensor-1", zone="z-1"), asset("sensor-2", zone="z-2"),
    asset("seg-1", geometry=line((3.0, 43.0), (3.001, 43.0))), asset("seg-2", geometry=line((3.001, 43.0), (3.002, 43.0))),
    asset("seg-3", geometry=line((3.1, 43.1), (3.2, 43.2))),
]}


@pytest.fixture
def book() -> AlarmBook:
    return AlarmBook(asset_of=ASSETS.get, policy=AlarmPolicy(max_shelf_s=3600, default_shelf_s=600, release_delay_s=30))


def up(book: AlarmBook, aid: str, code: str, asset: str, at: float = T0, severity: str = "minor", message: str = "m",
       domain: str = "lighting", cause: str | None = None):
    return book.raise_(aid, source="supervisor", domain=domain, supervisor="sup", asset=asset, code=code,
                       severity=severity, message=message, at=at, cause=cause)


def state(book: AlarmBook, aid: str) -> str | None:
    a = book.get(aid)
    return str(a.state) if a else None


# --- acknowledgement ----------------------------------------------------------------------------


def test_two_operators_acknowledging_get_one_result_and_the_second_sees_who():
    book = AlarmBook()
    up(book, "a", "lamp_fault", "lamp-0")
    first, second = book.ack("a", "alice", T0 + 5, "on it"), book.ack("a", "bob", T0 + 6)
    assert (first.result, second.result) == ("done", "already")
    assert second.by == "alice" and second.at == T0 + 5 and "alice" in second.message
    assert book.get("a").ack_comment == "on it"


def test_a_late_second_ack_of_an_alarm_gone_to_normal_still_names_the_first():
    book = AlarmBook()
    up(book, "a", "lamp_fault", "lamp-0")
    book.clear("a", T0 + 1)
    assert book.ack("a", "alice", T0 + 2).result == "done" and book.get("a") is None
    late = book.ack("a", "bob", T0 + 3)
    assert (late.result, late.by) == ("already", "alice")


def test_every_transition_keeps_who_when_why():
    book = AlarmBook()
    up(book, "a", "lamp_fault", "lamp-0", message="Lampe HS")
    book.ack("a", "alice", T0 + 5, "seen")
    book.take_journal()
    book.comment("a", "bob", T0 + 6, "crew called")
    book.assign("a", "bob", T0 + 7, "bob")
    entries = book.take_journal()
    assert [(e.action, e.who, e.why, e.at) for e in entries] == [("comment", "bob", "crew called", T0 + 6), ("assign", "bob", "bob", T0 + 7)]
    assert [h["action"] for h in book.history("a")] == ["raise", "acknowledge", "comment", "assign"]
    assert book.history("a")[1] == {"at": T0 + 5, "alarm": "a", "action": "acknowledge", "who": "alice", "why": "seen",
                                    "before": "active_unack", "after": "active_ack", "domain": "lighting", "priority": "low"}
    assert book.get("a").assignee == "bob" and book.assign("a", "carol", T0 + 8, "bob").result == "already"


# --- shelving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason, duration, why", [
    ("", None, "needs a reason"), ("  ", 60, "needs a reason"), ("noisy", 3601, "at most 1 h"), ("noisy", 0, "at most 1 h"),
])
def test_shelving_needs_a_reason_and_respects_the_maximum(book, reason, duration, why):
    up(book, "a", "lamp_fault", "lamp-0")
    out = book.shelve("a", "alice", T0, reason, duration)
    assert out.result == "refused" and why in out.message and state(book, "a") == "active_unack"


def test_a_timed_shelf_returns_the_alarm_when_it_expires(book):
    up(book, "a", "lamp_fault", "lamp-0")
    assert book.shelve("a", "alice", T0 + 1, "crew on site", 120).result == "done"
    book.tick(T0 + 100)
    assert state(book, "a") == "shelved"
    book.tick(T0 + 121)
    a = book.get("a")
    assert str(a.state) == "active_unack" and a.shelved_until is None
    assert a.history[-1].action == "shelf_expired" and a.history[-1].who == "vigie"


def test_an_expired_shelf_of_a_cleared_alarm_leaves_nothing(book):
    up(book, "a", "lamp_fault", "lamp-0")
    book.shelve("a", "alice", T0, "noisy")
    book.clear("a", T0 + 10)
    assert state(book, "a") == "shelved"
    book.tick(T0 + 601)
    assert book.get("a") is None


def test_one_shot_shelf_ends_when_the_alarm_returns_to_normal(book):
    up(book, "a", "lamp_fault", "lamp-0")
    book.shelve("a", "alice", T0, "until it clears", one_shot=True)
    assert state(book, "a") == "shelved_one_shot" and book.get("a").shelved_until == T0 + 3600
    book.clear("a", T0 + 5)
    assert book.get("a") is None


# --- flood --------------------------------------------------------------------------------------


def test_a_tripped_cabinet_groups_its_lamps_off_alarms_under_one_parent(book):
    up(book, "sup/cabinet_trip:cab-1", "cabinet_trip", "cab-1", severity="major")
    for i in range(5):
        up(book, f"sup/lamp_off:lamp-{i}", "lamp_off", f"lamp-{i}")
    up(book, "sup/lamp_off:lamp-9", "lamp_off", "lamp-9")  # another cabinet's lamp
    parent = book.get("sup/cabinet_trip:cab-1")
    assert parent.children == 5 and [c.id for c in book.children(parent.id)] == [f"sup/lamp_off:lamp-{i}" for i in range(5)]
    assert {state(book, f"sup/lamp_off:lamp-{i}") for i in range(5)} == {"suppressed"}
    assert state(book, "sup/lamp_off:lamp-9") == "active_unack"
    counts = book.counts(T0)
    assert counts["by_priority"] == {"urgent": 0, "high": 1, "low": 1, "diagnostic": 0} and counts["suppressed"] == 5
    assert book.kpis(T0)["per_10min"] == 2  # the operator was shown two alarms, not seven


def test_children_raised_before_their_parent_are_suppressed_when_it_comes(book):
    up(book, "sup/lamp_off:lamp-0", "lamp_off", "lamp-0")
    up(book, "sup/cabinet_trip:cab-1", "cabinet_trip", "cab-1", at=T0 + 1)
    assert state(book, "sup/lamp_off:lamp-0") == "suppressed" and book.get("sup/lamp_off:lamp-0").parent == "sup/cabinet_trip:cab-1"


def test_children_clearing_with_their_parent_never_reach_the_operator(book):
    up(book, "p", "cabinet_trip", "cab-1")
    up(book, "c", "lamp_off", "lamp-0")
    book.ack("p", "alice", T0 + 1)
    book.clear("p", T0 + 60)  # the breaker is reset: the lamps come back right after
    assert state(book, "c") == "suppressed"
    book.clear("c", T0 + 61)
    book.tick(T0 + 91)
    assert book.get("c") is None and book.get("p") is None


def test_a_child_still_active_after_its_parent_cleared_comes_back_to_the_operator(book):
    up(book, "p", "cabinet_trip", "cab-1")
    up(book, "c", "lamp_off", "lamp-0")
    book.clear("p", T0 + 60)
    book.tick(T0 + 80)
    assert state(book, "c") == "suppressed"
    book.tick(T0 + 90)
    assert state(book, "c") == "active_unack" and book.get("c").parent is None
    assert book.get("c").history[-1].why == "cause p cleared"


@pytest.mark.parametrize("parent, child, domain", [
    (("pump_fault", "pump-1"), ("low_pressure", "sensor-1"), "water"),
    (("incident", "seg-1"), ("congestion", "seg-2"), "traffic"),
])
def test_water_and_traffic_flood_rules(book, parent, child, domain):
    up(book, "p", *parent, domain=domain, severity="critical")
    up(book, "c", *child, domain=domain)
    assert state(book, "c") == "suppressed"


@pytest.mark.parametrize("child, message, expected", [
    (("low_pressure", "sensor-2"), "m", "active_unack"),  # another zone
    (("congestion", "seg-3"), "heavy traffic", "active_unack"),  # not adjacent
    (("congestion", "seg-3"), "queue behind the incident on seg-1", "suppressed"),  # the message names it
])
def test_unrelated_alarms_are_not_suppressed(book, child, message, expected):
    domain = "water" if child[0] == "low_pressure" else "traffic"
    up(book, "p", "pump_fault" if domain == "water" else "incident", "pump-1" if domain == "water" else "seg-1", domain=domain)
    up(book, "c", *child, domain=domain, message=message)
    assert state(book, "c") == expected


def test_a_supervisor_can_name_the_cause(book):
    up(book, "sup/x", "breaker_open", "cab-2")
    up(book, "sup/y", "lamp_fault", "lamp-9", cause="sup/x")
    assert state(book, "sup/y") == "suppressed" and book.get("sup/x").children == 1


# --- chatter, maintenance -----------------------------------------------------------------------


def test_an_alarm_toggling_more_than_three_times_a_minute_is_flagged_then_forgotten(book):
    up(book, "a", "lamp_fault", "lamp-0", at=T0)
    book.clear("a", T0 + 20)
    up(book, "a", "lamp_fault", "lamp-0", at=T0 + 40)
    assert book.get("a").chattering is False  # three toggles
    book.clear("a", T0 + 55)
    a = book.get("a")
    assert a.chattering is True and book.counts(T0)["chattering"] == 1  # four in 55 s
    book.tick(T0 + 55 + 600)
    assert a.chattering is False


def test_toggles_spread_over_more_than_a_minute_are_not_chattering(book):
    for k in range(3):
        up(book, "a", "lamp_fault", "lamp-0", at=T0 + 40 * k)
        book.clear("a", T0 + 40 * k + 20)
    assert book.get("a").chattering is False


def test_an_alarm_on_an_asset_in_maintenance_is_out_of_service_until_it_returns(book):
    ASSETS["lamp-4"].condition = "maintenance"
    try:
        up(book, "a", "lamp_fault", "lamp-4")
        assert state(book, "a") == "out_of_service" and book.get("a").out_of_service_reason == "asset in maintenance"
    finally:
        ASSETS["lamp-4"].condition = "ok"
    book.tick(T0 + 1)
    assert state(book, "a") == "active_unack"


# --- persistence --------------------------------------------------------------------------------


def test_a_book_restored_from_records_holds_the_same_alarms(book):
    up(book, "p", "cabinet_trip", "cab-1")
    up(book, "c", "lamp_off", "lamp-0")
    up(book, "s", "lamp_fault", "lamp-1")
    book.shelve("s", "alice", T0, "crew on site", 300)
    book.assign("p", "bob", T0, "bob")
    records = [a.to_record() for a in book.all()]
    again = AlarmBook(asset_of=ASSETS.get, policy=book.policy)
    assert again.restore(records) == 3
    assert [a.to_dict() for a in again.all()] == [a.to_dict() for a in book.all()]
    assert again.history("p") == book.history("p")
    again.tick(T0 + 301)
    assert state(again, "s") == "active_unack"
    again.clear("p", T0 + 302)
    again.tick(T0 + 333)
    assert state(again, "c") == "active_unack"
