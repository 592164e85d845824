"""EEMUA 191 alarm-system KPIs on a fixed clock: rates per operator, floods, distribution, MTTA, bad actors."""
from __future__ import annotations

import pytest

from services.core.alarm_kpis import AlarmStats
from services.core.alarm_record import AlarmPolicy, AlarmRecord, JournalEntry
from services.core.alarm_states import Priority
from services.core.alarms import AlarmBook

T0 = 1_750_000_000.0 - (1_750_000_000.0 % 600)  # the start of a 10-minute period


def rec(aid: str, priority: Priority = Priority.LOW) -> AlarmRecord:
    return AlarmRecord(aid, "supervisor", "lighting", "sup", f"asset-{aid}", "lamp_fault", "minor", priority, f"msg {aid}")


def stats(**policy) -> AlarmStats:
    return AlarmStats(AlarmPolicy(**policy), started=T0)


@pytest.mark.parametrize("n, operators, per10, status", [(1, 1, 1.0, "ok"), (2, 1, 2.0, "warning"), (5, 1, 5.0, "bad"), (4, 2, 2.0, "warning")])
def test_rate_per_operator_per_10_minutes_against_eemua(n, operators, per10, status):
    s = stats(operators=operators)
    for i in range(n):
        s.annunciated(rec(f"a{i}"), T0 + i)
    t = s.tiles(T0 + 60, chattering=0, stale=0)
    assert (t["per_10min"], t["per_10min_status"]) == (per10, status)


def test_rates_slide_with_the_clock():
    s = stats()
    s.annunciated(rec("a"), T0)
    assert s.tiles(T0 + 599, 0, 0)["per_10min"] == 1
    t = s.tiles(T0 + 601, 0, 0)
    assert (t["per_10min"], t["per_hour"]) == (0, 1)
    assert s.tiles(T0 + 3601, 0, 0)["per_hour"] == 0


def test_share_of_ten_minute_periods_in_flood():
    s = stats()
    for i in range(10):  # a flood in the first period
        s.annunciated(rec(f"a{i}"), T0 + i)
    assert s.tiles(T0 + 30, 0, 0)["in_flood"] is True
    s.annunciated(rec("b"), T0 + 700)
    t = s.tiles(T0 + 4 * 600 - 1, 0, 0)  # four periods observed
    assert t["flood_share_pct"] == 25.0 and t["flood_share_status"] == "bad" and t["in_flood"] is False


def test_priority_distribution_against_80_15_5_and_diagnostic_apart():
    s = stats()
    for i, p in enumerate([Priority.LOW] * 6 + [Priority.HIGH] * 3 + [Priority.URGENT] + [Priority.DIAGNOSTIC] * 2):
        s.annunciated(rec(f"a{i}", p), T0 + i)
    r = s.report(T0 + 20, [], 0)
    assert [(d["priority"], d["pct"], d["target_pct"]) for d in r["distribution"]] == [
        ("low", 60.0, 80.0), ("high", 30.0, 15.0), ("urgent", 10.0, 5.0)]
    assert r["diagnostic"] == 2


def test_mean_time_to_acknowledge_and_top_ten_bad_actors():
    s = stats()
    for i in range(12):
        for k in range(i + 1):
            s.annunciated(rec(f"a{i:02d}"), T0 + k)
    s.acknowledged("a00", 30.0, T0 + 30)
    s.acknowledged("a01", 90.0, T0 + 90)
    r = s.report(T0 + 100, ["a11"], stale=2)
    assert r["mtta_s"] == 60.0 and r["acks"] == 2 and r["stale"] == 2 and r["chattering"] == 1
    assert [b["alarm"] for b in r["bad_actors"]] == [f"a{i:02d}" for i in range(11, 1, -1)]
    assert r["bad_actors"][0] == {"alarm": "a11", "count": 12, "domain": "lighting", "code": "lamp_fault",
                                  "asset": "asset-a11", "message": "msg a11", "chattering": True}


def test_counters_rebuild_from_the_journal_after_a_restart():
    entries = [JournalEntry(T0, "a", "raise", "sup", "", "normal", "active_unack", "water", "urgent"),
               JournalEntry(T0 + 1, "b", "raise", "sup", "", "normal", "suppressed", "water", "low"),
               JournalEntry(T0 + 40, "a", "acknowledge", "alice", "", "active_unack", "active_ack", "water", "urgent")]
    s = AlarmStats(AlarmPolicy())
    s.replay(entries)
    t = s.tiles(T0 + 60, 0, 0)
    assert (t["per_10min"], t["mtta_s"], t["annunciated"]) == (1, 40.0, 1)


def test_stale_alarms_are_active_for_more_than_a_day():
    book = AlarmBook()
    book.raise_("a", source="supervisor", domain="water", supervisor="s", asset="x", code="c", severity="major", message="m", at=T0)
    assert book.kpis(T0 + 86_399)["stale"] == 0
    assert book.kpis(T0 + 86_401)["stale"] == 1


def test_standing_alarms_learnt_from_a_state_are_shown_but_not_counted_as_annunciations():
    from datetime import datetime, timezone

    from services.contract import AlarmEvent, LightingReading, State
    from services.contract.messages import AssetDef
    from services.core import Hypervisor

    hv = Hypervisor()
    standing = [AlarmEvent(id=f"f{i}", asset="lamp-0", action="raise", severity="minor", code="lamp_fault") for i in range(20)]
    hv.handle(State[LightingReading](v=1, kind="state", domain="lighting", supervisor="lum", ts=datetime.fromtimestamp(T0, timezone.utc),
                                     seq=1, snapshot="s1", assets=[AssetDef(id="lamp-0", type="Streetlight")], alarms=standing), T0)
    assert hv.summary(T0)["unacknowledged"] == 20
    assert hv.alarms.kpis(T0 + 1)["annunciated"] == 0 and hv.alarms.kpis(T0 + 1)["in_flood"] is False
