"""What operators and engineers do to alarms: acknowledge, shelve, unshelve, take out of service, assign, comment.

A mixin of AlarmBook (services/core/alarms.py): every method moves the alarm through the transition
table, keeps who, when and why, and answers one Outcome (done, already with who did it, refused with
why, not found).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Callable

from .alarm_record import AlarmRecord, JournalEntry, Outcome
from .alarm_states import HIDDEN, UNACKED, AlarmState, TransitionRefused, Trigger

if TYPE_CHECKING:
    from .alarm_kpis import AlarmStats
    from .alarm_record import AlarmPolicy

RECENT_ACKS = 10_000  # acknowledged alarms remembered, to tell a late second operator who did it
S, T = AlarmState, Trigger


class OperatorActions:
    """The operator side of the alarm book."""

    _alarms: dict[str, AlarmRecord]
    _recent_acks: OrderedDict[str, tuple[str, float]]
    policy: "AlarmPolicy"
    stats: "AlarmStats"
    # provided by AlarmBook
    _move: Callable[[AlarmRecord, Trigger, str, str, float], None]
    _note: Callable[[AlarmRecord, JournalEntry], None]
    _settle: Callable[[AlarmRecord, float], None]
    _forget_if_normal: Callable[[AlarmRecord], None]

    def acknowledge(self, alarm_id: str, user: str, at: float, comment: str = "") -> AlarmRecord | None:
        """Acknowledge an alarm; return it if it changed (a second ack changes nothing)."""
        a = self._alarms.get(alarm_id)
        return a if self.ack(alarm_id, user, at, comment).result == "done" else None

    def ack(self, alarm_id: str, who: str, now: float, comment: str = "") -> Outcome:
        """Acknowledge; a second operator gets `already` with who did it first."""
        a = self._alarms.get(alarm_id)
        if a is None:
            if alarm_id in self._recent_acks:
                by, at = self._recent_acks[alarm_id]
                return Outcome(alarm_id, "already", f"already acknowledged by {by}", by, at, str(S.NORMAL))
            return Outcome(alarm_id, "not_found", "no such alarm")
        if a.state not in UNACKED and a.acked_by and a.state not in HIDDEN:
            return Outcome(alarm_id, "already", f"already acknowledged by {a.acked_by}", a.acked_by, a.acked_at, str(a.state))
        outcome = self._operator(a, T.ACKNOWLEDGE, who, comment, now)
        if outcome.result == "done":
            a.acked_by, a.acked_at, a.ack_comment = who, now, comment
            self.stats.acknowledged(a.id, now - a.seen_at, now)
            self._recent_acks[a.id] = (who, now)
            while len(self._recent_acks) > RECENT_ACKS:
                self._recent_acks.popitem(last=False)
            self._forget_if_normal(a)
        return outcome

    def shelve(self, alarm_id: str, who: str, now: float, reason: str, duration_s: float | None = None,
               one_shot: bool = False) -> Outcome:
        """Shelve for `duration_s` (default and maximum from the policy), or one-shot until it returns to normal."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return Outcome(alarm_id, "not_found", "no such alarm")
        if not reason.strip():
            return Outcome(alarm_id, "refused", "shelving needs a reason", state=str(a.state))
        max_s = self.policy.max_shelf_s
        duration = max_s if one_shot else (self.policy.default_shelf_s if duration_s is None else duration_s)
        if not 0 < duration <= max_s:
            return Outcome(alarm_id, "refused", f"a shelf lasts more than 0 and at most {max_s / 3600:g} h", state=str(a.state))
        outcome = self._operator(a, T.SHELVE_ONE_SHOT if one_shot else T.SHELVE, who, reason, now)
        if outcome.result == "done":
            a.shelved_by, a.shelved_at, a.shelved_until, a.shelve_reason = who, now, now + duration, reason
        return outcome

    def unshelve(self, alarm_id: str, who: str, now: float, reason: str = "") -> Outcome:
        """Take an alarm off the shelf before its time."""
        return self._simple(alarm_id, T.UNSHELVE, who, reason, now)

    def remove_from_service(self, alarm_id: str, who: str, now: float, reason: str) -> Outcome:
        """Take an alarm out of service (asset in maintenance, broken sensor): an engineer's decision with a reason."""
        a = self._alarms.get(alarm_id)
        if a is not None and not reason.strip():
            return Outcome(alarm_id, "refused", "taking an alarm out of service needs a reason", state=str(a.state))
        outcome = self._simple(alarm_id, T.REMOVE_FROM_SERVICE, who, reason, now)
        if outcome.result == "done" and a is not None:
            a.out_of_service_by, a.out_of_service_reason = who, reason
        return outcome

    def return_to_service(self, alarm_id: str, who: str, now: float, reason: str = "") -> Outcome:
        """Put an alarm back in service."""
        return self._simple(alarm_id, T.RETURN_TO_SERVICE, who, reason, now)

    def assign(self, alarm_id: str, who: str, now: float, to: str | None) -> Outcome:
        """Say who handles the alarm ("I am on it"); `to=None` releases it."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return Outcome(alarm_id, "not_found", "no such alarm")
        if a.assignee == to:
            return Outcome(alarm_id, "already", f"already assigned to {to}" if to else "not assigned", a.assignee, a.assigned_at, str(a.state))
        a.assignee, a.assigned_at = to, now
        self._note(a, JournalEntry(now, a.id, "assign", who, to or "", str(a.state), str(a.state), a.domain, str(a.priority)))
        return Outcome(alarm_id, "done", state=str(a.state))

    def comment(self, alarm_id: str, who: str, now: float, text: str) -> Outcome:
        """Add a comment to the alarm's history."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return Outcome(alarm_id, "not_found", "no such alarm")
        if not text.strip():
            return Outcome(alarm_id, "refused", "an empty comment", state=str(a.state))
        a.comments += 1
        self._note(a, JournalEntry(now, a.id, "comment", who, text, str(a.state), str(a.state), a.domain, str(a.priority)))
        return Outcome(alarm_id, "done", state=str(a.state))

    def _simple(self, alarm_id: str, trigger: Trigger, who: str, why: str, now: float) -> Outcome:
        a = self._alarms.get(alarm_id)
        if a is None:
            return Outcome(alarm_id, "not_found", "no such alarm")
        outcome = self._operator(a, trigger, who, why, now)
        if outcome.result == "done":
            self._settle(a, now)
        return outcome

    def _operator(self, a: AlarmRecord, trigger: Trigger, who: str, why: str, now: float) -> Outcome:
        try:
            self._move(a, trigger, who, why, now)
        except TransitionRefused as err:
            return Outcome(a.id, "refused", str(err), state=str(a.state))
        return Outcome(a.id, "done", state=str(a.state))
