"""The work-order book: telemetry opens, verifies and reopens; people and the GMAO walk the lifecycle table."""
from __future__ import annotations

import pytest

from services.maintenance.orders import (
    MANUAL,
    Fault,
    Status,
    WorkOrderBook,
    WorkOrderInvalid,
    WorkOrderNotFound,
    classify,
    groups,
)


def fault(active: bool = True, alarm: str = "lum/lamp_fault:l1", kind: str = "defectiveLamp", **kw) -> Fault:
    base = {"alarm": alarm, "domain": "lighting", "asset": alarm.rsplit(":", 1)[-1], "code": "lamp_fault", "fault": kind, "active": active,
                "cabinet": "cab-1", "street": "street-1", "street_name": "Rue de la Loge", "lon": 3.87, "lat": 43.61, "message": "Defective lamp"}
    return Fault(**{**base, **kw})


@pytest.mark.parametrize(("alarm", "status", "expected"), [
    ({"code": "lamp_fault", "message": "Broken lantern: x"}, "brokenLantern", "brokenLantern"),
    ({"code": "lamp_fault", "message": "Intermittent lamp fault: x"}, "defectiveLamp", "intermittent"),
    ({"code": "lamp_fault", "message": ""}, None, "defectiveLamp"),
    ({"code": "lamp_fault", "alarm_class": "maintenance"}, "columnIssue", "columnIssue"),
    ({"code": "lamp_off", "alarm_class": "operator"}, None, None),  # the master alarm database's word wins
    ({"code": "lamp_off"}, None, "lamp_off"),  # no class on the record: the maintenance codes decide
    ({"code": "sensor_drift", "alarm_class": "maintenance"}, None, "sensor_drift"),
    ({"code": "cabinet_trip", "alarm_class": "operator"}, None, None),
    ({"code": "pump_fault"}, None, None),
    ({"code": "leak_suspected", "alarm_class": "event"}, None, None),
])
def test_which_alarms_are_maintenance(alarm, status, expected):
    assert classify(alarm, status) == expected


def test_a_raised_fault_opens_one_order_and_chattering_keeps_it_one():
    book = WorkOrderBook(verify_s=60)
    (o,) = book.observe(fault(), 100.0)
    assert (o.status, o.priority, o.fault_active, o.rev) == (Status.OPEN, "low", True, 1)
    for t, active in ((101, False), (102, True), (103, False), (104, True)):
        book.observe(fault(active), t)
    assert len(book) == 1 and o.raises == 3 and o.fault_active


def test_a_fault_cleared_and_raised_again_between_two_looks_still_counts_as_its_return():
    """The engine hands over an alarm's state after each batch: a clear and a raise in one batch read as 'active',
    with a later raised_at; the order counts the return (and a repair declared done is reopened)."""
    book = WorkOrderBook(verify_s=60)
    (o,) = book.observe(fault(raised_at=100.0), 100.0)
    assert book.observe(fault(raised_at=100.0), 101.0) == []  # the same raise seen again (a message update): nothing
    assert book.observe(fault(raised_at=102.0), 102.0) == [o] and o.raises == 2 and o.fault_active
    book.update(o.id, {"status": Status.DONE}, who="olga", now=103.0)
    assert book.observe(fault(raised_at=104.0), 104.0) == [o] and (o.status, o.raises) == (Status.REOPENED, 3)


def test_a_cleared_fault_without_order_opens_nothing():
    assert WorkOrderBook().observe(fault(False), 1.0) == []


@pytest.mark.parametrize(("start", "target"), [(s, t) for s in Status for t in Status if t != s])
def test_the_lifecycle_table(start, target):
    book = WorkOrderBook()
    (o,) = book.observe(fault(), 0.0)
    o.status = start
    allowed = target in MANUAL[start] and target != Status.VERIFIED
    if allowed:
        assert book.update(o.id, {"status": target}, who="olga", now=1.0).status == target
        assert o.history[-1] == {"at": 1.0, "who": "olga", "action": "status", "before": start, "after": target, "note": ""}
    else:
        with pytest.raises(WorkOrderInvalid):
            book.update(o.id, {"status": target}, who="olga", now=1.0)


@pytest.mark.parametrize(("events", "expected"), [
    # (time, what): "done" by a person, "clear"/"raise" by telemetry, "tick" the verification clock; verify_s = 60
    ([(10, "clear"), (20, "done"), (79, "tick")], Status.DONE),  # not yet 60 s without the fault
    ([(10, "clear"), (20, "done"), (80, "tick")], Status.VERIFIED),
    ([(20, "done"), (30, "clear"), (89, "tick")], Status.DONE),  # the 60 s count from the clear after the repair
    ([(20, "done"), (30, "clear"), (90, "tick")], Status.VERIFIED),
    ([(20, "done"), (79, "tick")], Status.DONE),  # still reported after the repair, but the wait is not over
    ([(20, "done"), (80, "tick")], Status.REOPENED),  # still reported 60 s after the repair
    ([(10, "clear"), (20, "done"), (40, "raise")], Status.REOPENED),  # reported again after the repair
    ([(10, "clear"), (20, "done"), (40, "raise"), (50, "clear"), (200, "tick")], Status.REOPENED),  # reopened stays until done again
])
def test_telemetry_verifies_or_reopens_a_repair(events, expected):
    book = WorkOrderBook(verify_s=60)
    (o,) = book.observe(fault(), 0.0)
    for t, what in events:
        if what == "done":
            book.update(o.id, {"status": "done"}, who="gmao", now=t)
        elif what == "tick":
            book.tick(t)
        else:
            book.observe(fault(what == "raise"), t)
    assert o.status == expected
    if expected == Status.VERIFIED:
        assert o.verified_at is not None and book.open_for_alarm(o.alarm) is None and o.history[-1]["who"] == "vigie"


def test_the_same_fault_after_verification_is_a_new_order_that_names_the_previous():
    book = WorkOrderBook(verify_s=10)
    (first,) = book.observe(fault(), 0.0)
    book.observe(fault(False), 1.0)
    book.update(first.id, {"status": "done"}, who="gmao", now=2.0)
    book.tick(20.0)
    (second,) = book.observe(fault(), 30.0)
    assert second.id != first.id and second.previous == first.id and len(book) == 2


def test_changes_other_than_status_are_kept_in_the_history_and_bad_ones_refused():
    book = WorkOrderBook()
    (o,) = book.observe(fault(), 0.0)
    book.update(o.id, {"priority": "high", "assignee": "crew 2", "external_ref": "CARL-1", "note": "ladder needed"}, who="olga", now=5.0)
    assert (o.priority, o.assignee, o.external_ref, o.note) == ("high", "crew 2", "CARL-1", "ladder needed")
    assert [h["action"] for h in o.history] == ["open", "note", "priority", "assignee", "external_ref"]
    for bad in ({"priority": "urgent"}, {"colour": "red"}, {"status": "closed"}, {"status": "verified"}):
        with pytest.raises(WorkOrderInvalid):
            book.update(o.id, bad, who="olga", now=6.0)
    with pytest.raises(WorkOrderNotFound):
        book.update("wo-none", {"status": "done"}, who="olga", now=6.0)


def test_a_second_order_by_hand_for_a_fault_already_open_is_refused():
    book = WorkOrderBook()
    (o,) = book.observe(fault(), 0.0)
    with pytest.raises(WorkOrderInvalid, match=o.id):
        book.create(fault(), 1.0, who="olga", source="manual")
    manual = book.create(fault(alarm="", kind="columnIssue"), 1.0, who="olga", source="manual", note="seen by a patrol")
    assert (manual.priority, manual.source, manual.fault_active) == ("high", "manual", False)


def test_restore_gives_back_the_book_and_its_index():
    book = WorkOrderBook()
    (o,) = book.observe(fault(), 0.0)
    again = WorkOrderBook()
    assert again.restore([o.to_dict()]) == 1
    assert again.open_for_alarm(o.alarm).to_dict() == o.to_dict()


def test_groups_by_cabinet_and_street():
    book = WorkOrderBook()
    for n in range(5):
        book.observe(fault(alarm=f"lum/lamp_fault:l{n}", cabinet=f"cab-{n % 2}", street="street-1"), float(n))
    by_cabinet = groups(book.orders.values(), "cabinet")
    assert [(g["key"], g["count"], g["pending"]) for g in by_cabinet] == [("cab-0", 3, 3), ("cab-1", 2, 2)]
    (street,) = groups(book.orders.values(), "street")
    assert (street["name"], street["count"]) == ("Rue de la Loge", 5)
