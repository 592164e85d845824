"""The alarm lifecycle of ISA-18.2 / IEC 62682 (OPC UA Part 9 as the model) as one transition table.

An alarm has a *state* (what the operator sees) and a *condition* (is the process abnormal right
now?). A trigger moves the state; `raise` and `clear` also set the condition. The table is keyed by
(state, trigger, condition after the trigger): a missing key means the trigger is refused in that
state, with the reason from `REFUSALS`. docs/alarms.md shows the same table; the tests walk it.
"""
from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """Four alarm priorities, one colour-and-shape code everywhere (layouts/palette.py)."""

    URGENT = "urgent"
    HIGH = "high"
    LOW = "low"
    DIAGNOSTIC = "diagnostic"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.LOW: 2, Priority.DIAGNOSTIC: 3}
SEVERITY_TO_PRIORITY = {
    "critical": Priority.URGENT,
    "major": Priority.HIGH,
    "minor": Priority.LOW,
    "warning": Priority.LOW,
    "info": Priority.DIAGNOSTIC,
}


class AlarmState(StrEnum):
    """What the operator sees of an alarm."""

    NORMAL = "normal"
    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    RTN_UNACK = "rtn_unack"  # returned to normal, not yet acknowledged
    SHELVED = "shelved"  # timed: back after the shelf time (at most the engineer's maximum)
    SHELVED_ONE_SHOT = "shelved_one_shot"  # until the condition returns to normal (or the maximum)
    SUPPRESSED = "suppressed"  # by design: its cause is an active parent alarm upstream
    OUT_OF_SERVICE = "out_of_service"  # its asset is in maintenance, or taken out by an engineer


class Trigger(StrEnum):
    """What moves an alarm: the process, an operator, an engineer, or Vigie's own rules."""

    RAISE = "raise"
    CLEAR = "clear"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    SHELVE_ONE_SHOT = "shelve_one_shot"
    UNSHELVE = "unshelve"
    SHELF_EXPIRED = "shelf_expired"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"


S, T = AlarmState, Trigger
VISIBLE = (S.NORMAL, S.ACTIVE_UNACK, S.ACTIVE_ACK, S.RTN_UNACK)  # states shown in the operator's list
SHELVED_STATES = frozenset({S.SHELVED, S.SHELVED_ONE_SHOT})
HIDDEN = frozenset({S.SHELVED, S.SHELVED_ONE_SHOT, S.SUPPRESSED, S.OUT_OF_SERVICE})  # not annunciated
UNACKED = frozenset({S.ACTIVE_UNACK, S.RTN_UNACK})
ON, OFF = True, False  # the condition after the trigger

# (state, trigger, condition after) -> next state. This is the specification.
TRANSITIONS: dict[tuple[AlarmState, Trigger, bool], AlarmState] = {
    # the process goes abnormal
    (S.NORMAL, T.RAISE, ON): S.ACTIVE_UNACK,
    (S.ACTIVE_UNACK, T.RAISE, ON): S.ACTIVE_UNACK,
    (S.ACTIVE_ACK, T.RAISE, ON): S.ACTIVE_ACK,
    (S.RTN_UNACK, T.RAISE, ON): S.ACTIVE_UNACK,
    (S.SHELVED, T.RAISE, ON): S.SHELVED,
    (S.SHELVED_ONE_SHOT, T.RAISE, ON): S.SHELVED_ONE_SHOT,
    (S.SUPPRESSED, T.RAISE, ON): S.SUPPRESSED,
    (S.OUT_OF_SERVICE, T.RAISE, ON): S.OUT_OF_SERVICE,
    # the process returns to normal
    (S.NORMAL, T.CLEAR, OFF): S.NORMAL,
    (S.ACTIVE_UNACK, T.CLEAR, OFF): S.RTN_UNACK,
    (S.ACTIVE_ACK, T.CLEAR, OFF): S.NORMAL,
    (S.RTN_UNACK, T.CLEAR, OFF): S.RTN_UNACK,
    (S.SHELVED, T.CLEAR, OFF): S.SHELVED,
    (S.SHELVED_ONE_SHOT, T.CLEAR, OFF): S.NORMAL,  # one-shot: the shelf ends when the alarm returns to normal
    (S.SUPPRESSED, T.CLEAR, OFF): S.SUPPRESSED,
    (S.OUT_OF_SERVICE, T.CLEAR, OFF): S.OUT_OF_SERVICE,
    # an operator acknowledges
    (S.ACTIVE_UNACK, T.ACKNOWLEDGE, ON): S.ACTIVE_ACK,
    (S.RTN_UNACK, T.ACKNOWLEDGE, OFF): S.NORMAL,
    # an operator shelves (with a reason), for a time or until it returns to normal
    **{(s, T.SHELVE, c): S.SHELVED for s in (*VISIBLE, S.SHELVED, S.SHELVED_ONE_SHOT) for c in (ON, OFF)},
    **{(s, T.SHELVE_ONE_SHOT, ON): S.SHELVED_ONE_SHOT for s in (S.ACTIVE_UNACK, S.ACTIVE_ACK, S.SHELVED, S.SHELVED_ONE_SHOT)},
    # the shelf ends: an operator unshelves, or its time is over
    **{(s, t, ON): S.ACTIVE_UNACK for s in SHELVED_STATES for t in (T.UNSHELVE, T.SHELF_EXPIRED)},
    **{(s, t, OFF): S.NORMAL for s in SHELVED_STATES for t in (T.UNSHELVE, T.SHELF_EXPIRED)},
    # suppressed by design while a parent alarm upstream is active
    **{(s, T.SUPPRESS, c): S.SUPPRESSED for s in VISIBLE for c in (ON, OFF)},
    (S.SUPPRESSED, T.UNSUPPRESS, ON): S.ACTIVE_UNACK,
    (S.SUPPRESSED, T.UNSUPPRESS, OFF): S.NORMAL,
    # out of service: asset in maintenance, or an engineer's decision
    **{(s, T.REMOVE_FROM_SERVICE, c): S.OUT_OF_SERVICE for s in (*VISIBLE, *SHELVED_STATES, S.SUPPRESSED) for c in (ON, OFF)},
    (S.OUT_OF_SERVICE, T.RETURN_TO_SERVICE, ON): S.ACTIVE_UNACK,
    (S.OUT_OF_SERVICE, T.RETURN_TO_SERVICE, OFF): S.NORMAL,
}

# Why a trigger is refused, by trigger then state (the operator reads these words).
REFUSALS: dict[Trigger, str] = {
    T.ACKNOWLEDGE: "nothing to acknowledge in state {state}",
    T.SHELVE: "a {state} alarm cannot be shelved",
    T.SHELVE_ONE_SHOT: "one-shot shelving needs an active alarm (state {state})",
    T.UNSHELVE: "the alarm is not shelved (state {state})",
    T.SHELF_EXPIRED: "the alarm is not shelved (state {state})",
    T.SUPPRESS: "a {state} alarm is not suppressed",
    T.UNSUPPRESS: "the alarm is not suppressed (state {state})",
    T.REMOVE_FROM_SERVICE: "the alarm is already out of service",
    T.RETURN_TO_SERVICE: "the alarm is not out of service (state {state})",
}
PROCESS_TRIGGERS = frozenset({T.RAISE, T.CLEAR})


class TransitionRefused(ValueError):
    """A trigger the table does not allow in the alarm's state; the text says why."""


def next_state(state: AlarmState, trigger: Trigger, active: bool) -> AlarmState:
    """Return the state after `trigger` (the condition after it is `active`), or raise TransitionRefused."""
    if trigger is T.RAISE:
        active = True
    elif trigger is T.CLEAR:
        active = False
    nxt = TRANSITIONS.get((state, trigger, active))
    if nxt is None:
        raise TransitionRefused(REFUSALS.get(trigger, "not allowed in state {state}").format(state=state.replace("_", " ")))
    return nxt
