"""Drift: a confirmed target leaving the commanded state while the command should hold is noticed, said and alarmed.

The table is the spec: a junction override of 1 h (plan greenWave), confirmed at TS+10, then the junction's telemetry at
a given time; the verdict the command must give, and whether the core's drift alarm is up.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.contract import Telemetry, TrafficReading
from services.core import Hypervisor
from services.core.command_book import CommandBook, CommandConfig
from services.core.command_effects import CommandRequest, Selection, plan_command
from tests.command_world import TRAF, TS, ack, world

CFG = CommandConfig(verify_s=30.0, hold_s=3600.0, drift_grace_s=30.0)
DRIFT_ALARM = "vigie/command_drift/c-1"


def applied_override(book: CommandBook, state, plan: str = "greenWave", override_s: float | None = 3600.0, cid: str = "c-1",
                     ids=("sig-1",), now: float = TS):
    params = {"plan": plan} | ({"override_s": override_s} if override_s else {})
    p = plan_command(CommandRequest("traffic", "signal_plan", params, Selection(ids)), state)
    rec, _ = book.open(p, command_id=cid, user="alice", now=now)
    book.sent(cid, now, 1)
    book.on_ack(ack(cid, "applied", applied=list(ids), supervisor=TRAF, domain="traffic"), state, now + 5)
    return rec


def show(book: CommandBook, state, at: float, plan: str, status: str = "ok", ids=("sig-1",)) -> None:
    changed, _ = state.apply_readings("traffic", TRAF, [TrafficReading(asset=a, signalPlan=plan, status=status) for a in ids], at)
    book.observe(changed, state, at)


# (telemetry before, then: time after TS, what the junction reports) -> verification, drifting ids, news for the alarm
TABLE = [
    # confirmed and holding: nothing to say
    ([(10, "greenWave")], "confirmed", [], {}),
    # back to the automatic plan with 1 h 29 min... left: drift observed, alarm raised
    ([(10, "greenWave"), (60, "normal")], "drift", ["sig-1"], {"c-1": True}),
    # a fault puts it on flashing amber: drift too
    ([(10, "greenWave"), (60, "flashingAmber")], "drift", ["sig-1"], {"c-1": True}),
    # the drift ends when the junction shows the commanded plan again: confirmed, alarm cleared
    ([(10, "greenWave"), (60, "normal"), (120, "greenWave")], "confirmed", [], {"c-1": False}),
    # never confirmed yet: a different plan is a pending verification, not a drift
    ([(1, "normal")], "pending", [], {}),
    # in the override's last 30 s the supervisor's own countdown may end first: not a drift
    ([(10, "greenWave"), (3600 + 5 - 20, "normal")], "confirmed", [], {}),
]


@pytest.mark.parametrize("readings, verdict, drifting, news", TABLE)
def test_drift_table(readings, verdict, drifting, news) -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state)
    book.take_drift()
    seen: dict = {}
    for dt, plan in readings:
        show(book, state, TS + dt, plan)
        seen.update(book.take_drift())
    assert (str(rec.verification), list(rec.drifted), seen) == (verdict, drifting, news)
    assert rec.to_dict()["actual"]["drifted_ids"] == drifting


def test_a_target_in_fault_drifts_without_a_second_alarm_its_fault_alarm_says_it() -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state)
    show(book, state, TS + 10, "greenWave")
    show(book, state, TS + 60, "flashingAmber", status="fault")
    assert str(rec.verification) == "drift" and book.drift_target(rec, state) is None
    book.take_drift()
    show(book, state, TS + 90, "flashingAmber", status="ok")  # repaired but still not on the commanded plan
    assert book.drift_target(rec, state) == "sig-1" and book.take_drift() == {"c-1": True}


def test_the_drift_is_in_the_commands_story_with_what_the_telemetry_shows() -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state)
    show(book, state, TS + 10, "greenWave")
    show(book, state, TS + 60, "normal")
    last = rec.history[-1]
    assert (last["status"], last["at"]) == ("drift", TS + 60)
    assert "sig-1" in last["detail"] and "'normal'" in last["detail"] and "'greenWave'" in last["detail"]
    assert rec.to_dict()["actual"]["drifted_values"] == {"sig-1": "normal"} and rec.drift_at == TS + 60
    assert rec.to_dict()["actual"]["confirmed"] == 0  # the "actual" column: none shows the commanded value now


def test_the_override_ending_stops_the_watch_and_ends_the_alarm() -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state)
    show(book, state, TS + 10, "greenWave")
    show(book, state, TS + 60, "normal")
    book.take_drift()
    book.tick(TS + 5 + 3600)
    assert (str(rec.override), book.take_drift(), rec.drifted) == ("ended", {"c-1": False}, {})
    show(book, state, TS + 3700, "peak")
    assert book.take_drift() == {} and str(rec.verification) == "drift"  # its story keeps the verdict


def test_a_newer_command_on_the_same_junction_is_not_a_drift_of_the_older_one() -> None:
    state, book = world(), CommandBook(CFG)
    old = applied_override(book, state)
    show(book, state, TS + 10, "greenWave")
    new = applied_override(book, state, plan="peak", cid="c-2", now=TS + 100)
    show(book, state, TS + 110, "peak")
    assert (str(old.verification), old.drifted, str(new.verification)) == ("confirmed", {}, "confirmed")
    assert book.take_drift() == {}


def test_a_permanent_command_is_watched_for_hold_s_then_let_go() -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state, override_s=None)
    show(book, state, TS + 10, "greenWave")
    show(book, state, TS + 600, "normal")
    assert str(rec.verification) == "drift"
    book.tick(TS + 5 + 3600)
    assert rec.hold_until is None and book.take_drift() == {"c-1": False}
    assert not book.watching


def test_a_restart_keeps_watching_a_drifting_command() -> None:
    state, book = world(), CommandBook(CFG)
    rec = applied_override(book, state)
    show(book, state, TS + 10, "greenWave")
    show(book, state, TS + 60, "normal")
    again = CommandBook(CFG)
    again.restore([rec.to_dict()], state, TS + 70)
    back = again.get("c-1")
    assert (str(back.verification), list(back.drifted)) == ("drift", ["sig-1"])
    show(again, state, TS + 80, "greenWave")
    assert (str(back.verification), again.take_drift()) == ("confirmed", {"c-1": False})


@pytest.mark.parametrize("field, got, want, lang, text", [
    ("position", 1.0, 0.6, "fr", "Écart constaté : Vanne V2 montre une ouverture de 100 % au lieu de 60 %"),
    ("signalPlan", "flashingAmber", "greenWave", "en", "Drift observed: Vanne V2 shows the plan flashing amber instead of green wave"),
    ("closed", False, True, "fr", "Écart constaté : Vanne V2 montre fermée : non au lieu de oui"),
])
def test_the_drift_alarm_says_it_in_words(field, got, want, lang, text) -> None:
    from services.core.command_book import drift_message
    from services.core.command_specs import Expect

    rec = type("Rec", (), {"expect": Expect(field, want), "drifted": {"v-2": got}, "assets": ("v-2",), "label": "x"})()
    assert drift_message(rec, "Vanne V2", lang) == text


def _tel(plan: str, seq: int, at: float) -> Telemetry:
    return Telemetry[TrafficReading](v=1, kind="telemetry", domain="traffic", supervisor=TRAF, ts=datetime.fromtimestamp(at, UTC),
                                     seq=seq, readings=[TrafficReading(asset="sig-1", signalPlan=plan, status="ok")])


def test_the_core_raises_an_alarm_on_drift_and_clears_it_when_the_junction_is_back() -> None:
    core = Hypervisor()
    core.state = world()
    p = plan_command(CommandRequest("traffic", "signal_plan", {"plan": "greenWave", "override_s": 3600}, Selection(("sig-1",))), core.state)
    core.commands.open(p, command_id="c-1", user="alice", now=TS)
    core.commands.sent("c-1", TS, 1)
    core.handle(ack("c-1", "applied", applied=["sig-1"], supervisor=TRAF, domain="traffic", seq=1), TS + 1)
    core.handle(_tel("greenWave", 2, TS + 2), TS + 2)
    assert core.alarms.get(DRIFT_ALARM) is None
    core.handle(_tel("normal", 3, TS + 60), TS + 60)
    alarm = core.alarms.get(DRIFT_ALARM)
    assert alarm is not None and alarm.active and alarm.code == "command_drift" and alarm.asset == "sig-1"
    assert alarm.message == "Écart constaté : sig-1 montre le plan normal au lieu de onde verte"
    core.handle(_tel("greenWave", 4, TS + 90), TS + 90)
    assert not core.alarms.get(DRIFT_ALARM).active
