"""Honest freshness, on a fixed clock: judged by when messages were received, one alarm for a lost bus, a grace after it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.contract import Heartbeat, LightingReading, State
from services.core import CoreConfig, Hypervisor, StateNeeded
from services.core.hypervisor import BUS_ALARM

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
NOW = T0.timestamp()
LATE, STALE, GRACE = 10.0, 30.0, 5.0


def heartbeat(sup: str, seq: int) -> Heartbeat:
    return Heartbeat(v=1, kind="heartbeat", domain="lighting", supervisor=sup, ts=T0, seq=seq, assets=0)


def state(sup: str, seq: int) -> State:
    return State[LightingReading](v=1, kind="state", domain="lighting", supervisor=sup, ts=T0, seq=seq, snapshot=f"s{seq}",
                                  assets=[], readings=[], alarms=[])


@pytest.fixture
def hv() -> Hypervisor:
    h = Hypervisor(CoreConfig(late_after_s=LATE, stale_after_s=STALE, bus_grace_s=GRACE, language="fr"))
    h.handle(heartbeat("lum", 1), NOW)
    h.handle(heartbeat("eau", 1), NOW)
    return h


def statuses(hv: Hypervisor) -> dict[str, tuple[str, str]]:
    return {h.id: (str(h.status), h.reason) for h in hv.health.all()}


def active_vigie_alarms(hv: Hypervisor) -> list[str]:
    return sorted(a.id for a in hv.active_alarms() if a.source == "vigie")


def test_a_message_applied_late_counts_from_when_it_was_received():
    """The engine was busy 54 s: the heartbeat it applies now was received 54 s ago, and the supervisor is that old."""
    hv = Hypervisor(CoreConfig(late_after_s=LATE, stale_after_s=60.0))
    hv.handle(heartbeat("lum", 1), NOW + 54, heard_at=NOW)
    assert hv.health.get("lum").age(NOW + 54) == 54
    hv.tick(NOW + 54)
    assert statuses(hv)["lum"] == ("late", "silent")


def test_messages_waiting_in_the_queue_keep_a_supervisor_from_looking_silent(hv):
    hv.tick(NOW + 40, heard={"lum": NOW + 39})  # lum's heartbeat is received, not applied yet; eau said nothing
    assert statuses(hv) == {"lum": ("live", ""), "eau": ("stale", "silent")}
    assert active_vigie_alarms(hv) == ["vigie/supervisor_stale/eau"]


def test_nobody_is_judged_silent_past_a_bus_loss_the_engine_has_not_applied_yet(hv):
    hv.tick(NOW + 40, lost_at=NOW + 5)
    assert statuses(hv) == {"lum": ("live", ""), "eau": ("live", "")}


@pytest.mark.parametrize("language, text", [
    ("fr", "Liaison Redis perdue : Vigie n'entend plus aucun superviseur"),
    ("en", "Redis link lost: Vigie cannot hear any supervisor"),
])
def test_a_lost_bus_is_one_alarm_in_the_site_language_and_no_supervisor_goes_stale(language, text):
    hv = Hypervisor(CoreConfig(late_after_s=LATE, stale_after_s=STALE, language=language))
    for i in range(5):
        hv.handle(heartbeat(f"sup-{i}", 1), NOW)
    hv.bus_lost(NOW + 1)
    for t in (2, 60, 600):
        hv.tick(NOW + t)
    assert active_vigie_alarms(hv) == [BUS_ALARM]
    alarm = hv.alarms.get(BUS_ALARM)
    assert (alarm.code, str(alarm.priority), alarm.message, alarm.raised_at) == ("bus_lost", "urgent", text, NOW + 1)
    assert set(statuses(hv).values()) == {("unknown", "bus_down")}
    assert hv.summary(NOW + 600)["supervisors"] == {"live": 0, "late": 0, "stale": 0, "unknown": 5}


def test_the_bus_alarm_is_raised_when_the_reader_lost_the_bus_not_when_the_engine_learnt_it(hv):
    hv.bus_lost(NOW + 20, since=NOW + 3)
    assert hv.alarms.get(BUS_ALARM).raised_at == NOW + 3


def test_a_supervisor_already_stale_keeps_its_alarm_through_an_outage(hv):
    hv.tick(NOW + 31)
    hv.bus_lost(NOW + 32)
    hv.tick(NOW + 40)
    assert active_vigie_alarms(hv) == [BUS_ALARM, "vigie/supervisor_stale/eau", "vigie/supervisor_stale/lum"]


@pytest.mark.parametrize("after_s, spoke, expected", [
    (1.0, False, ("unknown", "bus_restored")),  # within the grace: not judged yet
    (GRACE - 0.1, False, ("unknown", "bus_restored")),
    (GRACE, False, ("stale", "silent")),  # the grace is over: judged on its last message (before the outage)
    (1.0, True, ("live", "")),  # it spoke after the bus came back
])
def test_after_the_bus_returns_supervisors_get_a_grace_period(hv, after_s, spoke, expected):
    hv.bus_lost(NOW + 1)
    back = NOW + 100
    events = hv.bus_restored(back)
    assert StateNeeded("lighting", "lum", "reconnect") in events
    assert hv.alarms.get(BUS_ALARM).active is False
    if spoke:
        hv.handle(heartbeat("lum", 2), back + 0.5)
    hv.tick(back + after_s)
    assert statuses(hv)["lum"] == expected


def test_a_message_queued_after_the_bus_returned_ends_the_grace(hv):
    hv.bus_lost(NOW + 1)
    hv.bus_restored(NOW + 100)
    hv.tick(NOW + 101, heard={"lum": NOW + 100.5})
    assert statuses(hv) == {"lum": ("live", ""), "eau": ("unknown", "bus_restored")}


def test_the_grace_ends_late_then_stale_for_a_short_outage(hv):
    hv.bus_lost(NOW + 1)
    hv.bus_restored(NOW + 2)
    hv.tick(NOW + 2 + GRACE)
    assert statuses(hv)["lum"] == ("live", "")
    hv.tick(NOW + LATE)
    assert statuses(hv)["lum"] == ("late", "silent")
    hv.tick(NOW + STALE)
    assert statuses(hv)["lum"] == ("stale", "silent") and "vigie/supervisor_stale/lum" in active_vigie_alarms(hv)


def test_an_overflow_asks_each_supervisor_for_its_state_once_until_the_state_comes(hv):
    assert hv.overflowed("lighting", "lum") == [StateNeeded("lighting", "lum", "overflow")]
    assert hv.overflowed("lighting", "lum") == []  # still waiting for that state: not asked again
    assert hv.overflowed("lighting", "new-one") == [StateNeeded("lighting", "new-one", "overflow")]
    hv.handle(state("lum", 5), NOW + 1)  # the whole state arrived
    assert hv.overflowed("lighting", "lum") == [StateNeeded("lighting", "lum", "overflow")]
