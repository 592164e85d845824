"""The ISA-18.2 transition table, cell by cell: every trigger in every reachable (state, condition)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.core.alarm_states import TRANSITIONS, AlarmState, Trigger, TransitionRefused, next_state

# The reachable columns: a state and whether the process condition is active in it.
COLUMNS = [
    ("normal", False), ("active_unack", True), ("active_ack", True), ("rtn_unack", False),
    ("shelved", True), ("shelved", False), ("shelved_one_shot", True),
    ("suppressed", True), ("suppressed", False), ("out_of_service", True), ("out_of_service", False),
]
U, A, N, R = "active_unack", "active_ack", "normal", "rtn_unack"
SH, OS, SU, OOS = "shelved", "shelved_one_shot", "suppressed", "out_of_service"
# The specification: trigger -> next state in each column above ("-": refused).
SPEC = {
    "raise":               [U, U, A, U, SH, SH, OS, SU, SU, OOS, OOS],
    "clear":               [N, R, N, R, SH, SH, N, SU, SU, OOS, OOS],
    "acknowledge":         ["-", A, "-", N, "-", "-", "-", "-", "-", "-", "-"],
    "shelve":              [SH, SH, SH, SH, SH, SH, SH, "-", "-", "-", "-"],
    "shelve_one_shot":     ["-", OS, OS, "-", OS, "-", OS, "-", "-", "-", "-"],
    "unshelve":            ["-", "-", "-", "-", U, N, U, "-", "-", "-", "-"],
    "shelf_expired":       ["-", "-", "-", "-", U, N, U, "-", "-", "-", "-"],
    "suppress":            [SU, SU, SU, SU, "-", "-", "-", "-", "-", "-", "-"],
    "unsuppress":          ["-", "-", "-", "-", "-", "-", "-", U, N, "-", "-"],
    "remove_from_service": [OOS, OOS, OOS, OOS, OOS, OOS, OOS, OOS, OOS, "-", "-"],
    "return_to_service":   ["-", "-", "-", "-", "-", "-", "-", "-", "-", U, N],
}
CELLS = [(trigger, state, active, expected) for trigger, row in SPEC.items() for (state, active), expected in zip(COLUMNS, row)]


def test_the_spec_covers_every_trigger():
    assert set(SPEC) == {str(t) for t in Trigger}


@pytest.mark.parametrize("trigger, state, active, expected", CELLS, ids=[f"{t}-{s}-{'on' if a else 'off'}" for t, s, a, _ in CELLS])
def test_transition(trigger, state, active, expected):
    if expected == "-":
        with pytest.raises(TransitionRefused):
            next_state(AlarmState(state), Trigger(trigger), active)
    else:
        assert next_state(AlarmState(state), Trigger(trigger), active) == AlarmState(expected)


def test_the_code_table_has_no_operator_transition_outside_the_spec():
    for (state, trigger, active), nxt in TRANSITIONS.items():
        if trigger not in (Trigger.RAISE, Trigger.CLEAR) and (str(state), active) in COLUMNS:
            assert SPEC[str(trigger)][COLUMNS.index((str(state), active))] == str(nxt)


def test_refusals_say_why_in_words():
    with pytest.raises(TransitionRefused, match="nothing to acknowledge in state active ack"):
        next_state(AlarmState.ACTIVE_ACK, Trigger.ACKNOWLEDGE, True)


def test_docs_show_the_same_table():
    """docs/alarms.md carries the table an operator reads; it must say what the code does."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "alarms.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `(\w+)` \|(.+)\|\s*$", line)
        if m and m.group(1) in SPEC:
            rows[m.group(1)] = [c.strip().strip("`") or "-" for c in m.group(2).split("|")]
    assert rows == SPEC
