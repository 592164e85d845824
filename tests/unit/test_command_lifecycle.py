"""The command lifecycle as a table, then the book: answers, timeouts, telemetry, overrides, idempotency, restarts."""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import pytest

from services.contract import LightingReading, Telemetry
from services.core import Hypervisor
from services.core.command_book import CommandBook, CommandConfig, CommandConflict
from services.core.command_effects import CommandRequest, Selection, plan_command
from services.core.command_specs import CommandInvalid
from services.core.commands import TRANSITIONS, CommandRecord, Status, Step
from services.core.events import CommandsChanged
from tests.command_world import LUM, TS, ack, world

# --- the state machine: every (status, step) pair; "-" means the step is ignored ----------------

STEPS = ("sent", "not_sent", "accepted", "rejected", "applied", "partial", "failed", "timeout")
GRID = {
    "requested": ("sent", "failed", "accepted", "rejected", "applied", "partial", "failed", "timed_out"),
    "sent": ("-", "-", "accepted", "rejected", "applied", "partial", "failed", "timed_out"),
    "accepted": ("-", "-", "-", "-", "applied", "partial", "failed", "timed_out"),
    "rejected": ("-",) * 8,
    "applied": ("-",) * 8,
    "partial": ("-",) * 8,
    "failed": ("-",) * 8,
    "timed_out": ("-", "-", "accepted", "rejected", "applied", "partial", "failed", "-"),  # a late answer still wins
}


@pytest.mark.parametrize("status, step", [(s, e) for s in GRID for e in STEPS])
def test_transition_table(status: str, step: str) -> None:
    expected = GRID[status][STEPS.index(step)]
    got = TRANSITIONS.get((Status(status), Step(step)))
    assert (str(got) if got else "-") == expected


def test_every_open_status_can_time_out_so_nothing_stays_sent_forever() -> None:
    for status in (Status.REQUESTED, Status.SENT, Status.ACCEPTED):
        assert TRANSITIONS[(status, Step.TIMEOUT)] is Status.TIMED_OUT


# --- the book -----------------------------------------------------------------------------------

CFG = CommandConfig(ack_timeout_s=10.0, apply_timeout_s={"lighting": 60.0, "water": 120.0, "traffic": 240.0}, verify_s=30.0)


@pytest.fixture
def state():
    return world()


@pytest.fixture
def book():
    return CommandBook(CFG)


def open_cmd(book, state, params=None, ids=("d1",), key=None, cid="c-1", now=TS, cancels=None, action="set_dimming"):
    plan = plan_command(CommandRequest("lighting", action, {"level": 30} if params is None else params, Selection(ids), key=key), state)
    rec, events = book.open(plan, command_id=cid, user="alice", now=now, role="operator", cancels=cancels)
    assert events == [CommandsChanged((cid,))]
    return rec


def report(state, ids, **values) -> list[str]:
    changed, _ = state.apply_readings("lighting", LUM, [LightingReading(asset=a, **values) for a in ids], TS)
    return changed


D1 = [f"lamp-{n:03d}" for n in range(10)]


def test_applied_then_confirmed_by_telemetry(book, state) -> None:
    rec = open_cmd(book, state)
    assert (rec.status, rec.deadline) == (Status.REQUESTED, TS + 10)
    book.sent("c-1", TS + 0.01, receivers=1)
    book.on_ack(ack("c-1", "accepted"), state, TS + 0.1)
    assert (rec.status, rec.deadline) == (Status.ACCEPTED, TS + 60.1)
    events = book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 10)
    assert events == [CommandsChanged(("c-1",))]
    assert (rec.status, rec.to_dict()["actual"]["verification"], rec.deadline) == (Status.APPLIED, "pending", None)
    changed = report(state, D1[:4], illuminanceLevel=0.3, controlMode="manual")
    book.observe(changed, state, TS + 10)
    assert (len(rec.confirmed), str(rec.verification)) == (4, "pending")
    book.observe(report(state, D1[4:], illuminanceLevel=0.3, controlMode="manual"), state, TS + 11)
    assert str(rec.verification) == "confirmed"
    assert [h["status"] for h in rec.history] == ["requested", "sent", "accepted", "applied"]
    assert book.watching and not book._verify  # confirmed: now watched only for drift (issue 18)


def test_a_rejection_keeps_the_supervisors_reason(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "rejected", reason="level must be a number from 0 to 100, got 140"), state, TS + 1)
    assert (rec.status, rec.message, str(rec.verification)) == (Status.REJECTED, "level must be a number from 0 to 100, got 140", "not_applicable")


def test_a_silent_supervisor_times_out_and_it_says_so(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    assert book.tick(TS + 9.9) == [] and rec.status is Status.SENT
    assert book.tick(TS + 10) == [CommandsChanged(("c-1",))]
    assert rec.status is Status.TIMED_OUT
    assert rec.message == f"no answer from {LUM} within 10 s: the supervisor may be down or silent"


def test_accepted_without_a_result_times_out_too(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "accepted"), state, TS + 1)
    book.tick(TS + 60.9)
    assert rec.status is Status.ACCEPTED
    book.tick(TS + 61)
    assert (rec.status, rec.message) == (Status.TIMED_OUT, f"{LUM} accepted the command but reported no result within 60 s")


def test_a_late_answer_after_the_timeout_tells_the_truth(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.tick(TS + 11)
    book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 15)
    assert (rec.status, rec.late) == (Status.APPLIED, True)
    assert "after the timeout" in rec.history[-1]["detail"]


def test_nobody_listening_fails_at_once(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, receivers=0)
    assert (rec.status, rec.message) == (Status.FAILED, f"not delivered: no supervisor listens on cmd.lighting.{LUM}")


def test_a_bus_failure_means_not_sent(book, state) -> None:
    rec = open_cmd(book, state)
    book.not_sent("c-1", TS, "Redis unavailable")
    assert (rec.status, rec.message) == (Status.FAILED, "not sent: Redis unavailable")


def test_a_partial_outcome_lists_who_took_it_who_failed_and_who_did_not_answer(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "partial", applied=D1[:7], failed=D1[7:9], reason="2 lamps out of order"), state, TS + 10)
    d = rec.to_dict()
    assert (d["status"], d["message"]) == ("partial", "2 lamps out of order")
    assert d["feedback"] == {"applied": 7, "failed": 2, "missing": 1, "applied_ids": D1[:7], "failed_ids": D1[7:9], "missing_ids": D1[9:]}
    assert d["actual"]["checked"] == 7


def test_duplicate_foreign_and_unknown_answers_are_ignored_and_counted(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 1)
    assert book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 2) == []
    assert book.on_ack(ack("c-1", "failed", supervisor="lum-other"), state, TS + 2) == []
    assert book.on_ack(ack("c-404", "accepted"), state, TS + 2) == []
    assert (rec.status, book.ignored_acks) == (Status.APPLIED, 3)


def test_telemetry_that_never_shows_the_command_is_a_mismatch(book, state) -> None:
    rec = open_cmd(book, state)
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 1)
    book.observe(report(state, D1[:8], illuminanceLevel=0.3), state, TS + 2)
    book.tick(TS + 31)
    assert (str(rec.verification), rec.unconfirmed) == ("mismatch", D1[8:])


def test_an_idempotency_key_names_one_command(book, state) -> None:
    rec = open_cmd(book, state, key="dialog-42")
    fp = rec.fingerprint
    assert book.by_key("alice", "dialog-42", fp) is rec
    assert book.by_key("bob", "dialog-42", fp) is None  # keys are per user
    with pytest.raises(CommandConflict, match="used for another command"):
        book.by_key("alice", "dialog-42", "another-fingerprint")


def test_an_override_counts_down_ends_by_itself_and_lamps_return_to_schedule(book, state) -> None:
    rec = open_cmd(book, state, params={"level": 30, "override_s": 600})
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 10)
    assert (str(rec.override), rec.override_until) == ("active", TS + 610)
    book.observe(report(state, D1, illuminanceLevel=0.3, controlMode="override"), state, TS + 11)
    assert book.tick(TS + 609) == []
    assert book.tick(TS + 610) == [CommandsChanged(("c-1",))]
    assert str(rec.override) == "ended"
    book.observe(report(state, D1, controlMode="schedule", illuminanceLevel=1.0), state, TS + 620)
    assert rec.to_dict()["override"]["returned"] == 10


def test_an_override_can_be_cancelled(book, state) -> None:
    rec = open_cmd(book, state, params={"level": 30, "override_s": 600})
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "applied", applied=D1), state, TS + 10)
    assert book.revert_of("c-1") is rec and rec.revert == ("release", {})
    cancel = open_cmd(book, state, params={}, action="release", cid="c-2", cancels="c-1", now=TS + 20)
    book.sent("c-2", TS + 20, 1)
    book.on_ack(ack("c-2", "applied", applied=D1), state, TS + 30)
    assert (str(rec.override), rec.cancelled_by, cancel.cancels) == ("cancelled", "c-2", "c-1")
    with pytest.raises(CommandInvalid, match="already over"):
        book.revert_of("c-1")


def test_only_an_applied_command_with_an_automatic_mode_can_be_cancelled(book, state) -> None:
    open_cmd(book, state)
    with pytest.raises(CommandInvalid, match="only an applied command"):
        book.revert_of("c-1")
    open_cmd(book, state, params={"dim_level": 40}, ids=("group-d1",), action="set_schedule", cid="c-2")
    with pytest.raises(CommandInvalid, match="cannot be cancelled"):
        book.revert_of("c-2")


def test_a_restart_restores_open_commands_with_their_deadlines(book, state) -> None:
    rec = open_cmd(book, state, key="k")
    book.sent("c-1", TS, 1)
    doc = msgspec.json.decode(msgspec.json.encode(rec.to_dict()))
    again = CommandBook(CFG)
    again.restore([doc], state, TS + 5)
    back = again.get("c-1")
    assert (back.status, back.deadline, back.assets, again.by_key("alice", "k", rec.fingerprint)) == (Status.SENT, TS + 10, rec.assets, back)
    again.tick(TS + 10)
    assert back.status is Status.TIMED_OUT


def test_the_record_round_trips_through_json(book, state) -> None:
    rec = open_cmd(book, state, params={"level": 30, "override_s": 600})
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "partial", applied=D1[:5], failed=D1[5:]), state, TS + 1)
    doc = msgspec.json.decode(msgspec.json.encode(rec.to_dict()))
    back = CommandRecord.from_dict(doc)
    assert {k: v for k, v in back.to_dict().items() if k != "actual"} == {k: v for k, v in doc.items() if k != "actual"}


def test_finished_commands_are_forgotten_after_a_day(book, state) -> None:
    open_cmd(book, state, key="k")
    book.sent("c-1", TS, 1)
    book.on_ack(ack("c-1", "rejected", reason="no"), state, TS + 1)
    book.tick(TS + 2)
    book.tick(TS + 86400 + 100)
    assert book.get("c-1") is None and book.by_key("alice", "k", "x") is None


def test_the_hypervisor_applies_acks_and_telemetry_to_its_commands() -> None:
    core = Hypervisor()
    core.state = world()
    plan = plan_command(CommandRequest("lighting", "set_dimming", {"level": 30}, Selection(("lamp-001",))), core.state)
    rec, _ = core.commands.open(plan, command_id="c-9", user="alice", now=TS)
    core.commands.sent("c-9", TS, 1)
    ts = datetime.fromtimestamp(TS + 1, timezone.utc)
    events = core.handle(ack("c-9", "applied", applied=["lamp-001"], seq=1), TS + 1)
    assert CommandsChanged(("c-9",)) in events
    tel = Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor=LUM, ts=ts, seq=2,
                                     readings=[LightingReading(asset="lamp-001", illuminanceLevel=0.3)])
    assert CommandsChanged(("c-9",)) in core.handle(tel, TS + 1)
    assert str(rec.verification) == "confirmed"
    core.commands.open(plan, command_id="c-10", user="alice", now=TS + 2)
    assert CommandsChanged(("c-10",)) in core.tick(TS + 20)
