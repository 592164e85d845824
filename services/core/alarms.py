"""The alarm book: every alarm not in `normal`, moved only through the transition table (alarm_states.py).

Operator actions are in alarm_operators.py, flood grouping in alarm_grouping.py (mixins of AlarmBook).

The Hypervisor is its only writer. Process triggers come from supervisor events, operator triggers
from `AlarmBook` methods run on the engine thread (one owner, in order). Every transition leaves a
JournalEntry (who, when, why, before, after) in the record's history and in `journal`, an outbox
the alarm store drains to Redis; `take_touched()` names the alarms to push.
"""
from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any, Callable, Iterable

from .alarm_grouping import FloodGrouping
from .alarm_kpis import AlarmStats
from .alarm_operators import OperatorActions
from .alarm_record import HISTORY_MAX, AlarmPolicy, AlarmRecord, JournalEntry, Outcome
from .alarm_states import (
    HIDDEN,
    PRIORITY_RANK,
    SEVERITY_TO_PRIORITY,
    SHELVED_STATES,
    UNACKED,
    AlarmState,
    Priority,
    Trigger,
    next_state,
)
from .chatter import ChatterDetector
from .flood import Flood

__all__ = ["AlarmBook", "AlarmRecord", "AlarmState", "Outcome", "Priority", "PRIORITY_RANK", "SEVERITY_TO_PRIORITY"]

JOURNAL_MAX = 200_000  # entries kept for the store to drain (the oldest go first if nobody drains)
S, T = AlarmState, Trigger
# what returns a cleared alarm to normal, by state, when its source is withdrawn (`AlarmBook.withdraw`)
WITHDRAW = {S.RTN_UNACK: T.ACKNOWLEDGE, S.SHELVED: T.UNSHELVE, S.SHELVED_ONE_SHOT: T.UNSHELVE, S.SUPPRESSED: T.UNSUPPRESS,
            S.OUT_OF_SERVICE: T.RETURN_TO_SERVICE}


class AlarmBook(OperatorActions, FloodGrouping):
    """Every alarm that needs the operator or is held back, with flood, chatter and KPI bookkeeping."""

    def __init__(self, max_returned: int = 20000, *, asset_of: Callable[[str], Any] | None = None,
                 policy: AlarmPolicy | None = None) -> None:
        self.max_returned = max_returned
        self.policy = policy or AlarmPolicy()
        self.asset_of = asset_of or (lambda _id: None)
        self.flood = Flood(self.asset_of)
        self.chatter = ChatterDetector(self.policy.chatter_toggles, self.policy.chatter_window_s, self.policy.chatter_hold_s)
        self.stats = AlarmStats(self.policy)
        self.journal: deque[JournalEntry] = deque(maxlen=JOURNAL_MAX)
        self._alarms: dict[str, AlarmRecord] = {}
        self._returned: set[str] = set()  # alarms in rtn_unack (bounded by max_returned)
        self._children: dict[str, set[str]] = {}  # parent id -> suppressed children
        self._shelved: set[str] = set()
        self._out_of_service: set[str] = set()
        self._releasing: set[str] = set()
        self._recent_acks: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._touched: set[str] = set()

    # --- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._alarms)

    def get(self, alarm_id: str) -> AlarmRecord | None:
        """Return an alarm by id, or None."""
        return self._alarms.get(alarm_id)

    def all(self) -> list[AlarmRecord]:
        """Every alarm held, newest change first."""
        return sorted(self._alarms.values(), key=lambda a: a.updated_at, reverse=True)

    def active(self) -> list[AlarmRecord]:
        """Alarms whose condition is active, most urgent then newest first."""
        return sorted((a for a in self._alarms.values() if a.active), key=lambda a: (PRIORITY_RANK[a.priority], -a.raised_at))

    def by_supervisor(self, supervisor: str) -> list[AlarmRecord]:
        """Active alarms raised by one supervisor."""
        return [a for a in self._alarms.values() if a.supervisor == supervisor and a.active and a.source == "supervisor"]

    def children(self, parent_id: str) -> list[AlarmRecord]:
        """The alarms `parent_id` suppresses."""
        return [self._alarms[c] for c in sorted(self._children.get(parent_id, ())) if c in self._alarms]

    def history(self, alarm_id: str) -> list[dict]:
        """The alarm's recent journal entries, oldest first (empty when not held)."""
        a = self._alarms.get(alarm_id)
        return [h.to_dict() for h in a.history] if a else []

    def counts(self, now: float) -> dict:
        """Annunciated active alarms by priority, unacknowledged, and how many are held back and why."""
        by_priority = {str(p): 0 for p in Priority}
        out = {"unacknowledged": 0, "shelved": 0, "suppressed": 0, "out_of_service": 0, "stale": 0}
        stale_after = self.policy.stale_after_s
        for a in self._alarms.values():
            if a.active and a.state not in HIDDEN:
                by_priority[str(a.priority)] += 1
                if now - a.seen_at > stale_after:
                    out["stale"] += 1
            if a.state in UNACKED:
                out["unacknowledged"] += 1
            elif a.state in SHELVED_STATES:
                out["shelved"] += 1
            elif a.state is S.SUPPRESSED:
                out["suppressed"] += 1
            elif a.state is S.OUT_OF_SERVICE:
                out["out_of_service"] += 1
        out["by_priority"] = by_priority
        out["chattering"] = len(self.chatter.flagged)
        return out

    def kpis(self, now: float, full: bool = False) -> dict:
        """The alarm-system KPIs: live tiles, or the whole report (distribution, bad actors)."""
        stale = self.counts(now)["stale"]
        if full:
            return self.stats.report(now, self.chatter.flagged, stale)
        return self.stats.tiles(now, len(self.chatter.flagged), stale)

    def take_touched(self) -> list[str]:
        """The ids changed (or gone) since the last call."""
        touched, self._touched = self._touched, set()
        return sorted(touched)

    def take_journal(self) -> list[JournalEntry]:
        """The journal entries since the last call, oldest first."""
        out = list(self.journal)
        self.journal.clear()
        return out

    # --- the process -----------------------------------------------------------------------

    def raise_(self, alarm_id: str, *, source: str, domain: str, supervisor: str, asset: str, code: str, severity: str,
               message: str, at: float, now: float | None = None, cause: str | None = None,
               counted: bool = True) -> AlarmRecord | None:
        """The condition is (still) abnormal; return the alarm if anything changed.

        `counted` False: a standing alarm learnt from a supervisor's `state` (at start or after a gap), shown to
        the operator but not an annunciation for the KPIs (they would read a flood at every restart).
        """
        now = at if now is None else now
        priority = SEVERITY_TO_PRIORITY.get(severity, Priority.LOW)
        a = self._alarms.get(alarm_id)
        if a is not None and a.active:
            if a.message == message and a.severity == severity:
                return None
            a.message, a.severity, a.priority, a.updated_at = message, severity, priority, now
            self._touched.add(a.id)
            return a
        if a is None:
            a = AlarmRecord(alarm_id, source, domain, supervisor, asset, code, severity, priority, message, raise_count=0,
                            area=self._area(asset))
            self._alarms[alarm_id] = a
        a.message, a.severity, a.priority = message, severity, priority
        a.raised_at, a.seen_at, a.cleared_at, a.raise_count = at, now, None, a.raise_count + 1
        before = a.state
        self._move(a, T.RAISE, source, message, now)
        self.flood.activate(a)
        self._note_toggle(a, now)
        self._place(a, now, cause)
        if a.code in self.flood.by_parent:
            self._adopt_children(a, now)
        if counted and a.state is S.ACTIVE_UNACK and before is not S.ACTIVE_UNACK:
            self.stats.annunciated(a, now)
        return a

    def clear(self, alarm_id: str, at: float, who: str = "supervisor", now: float | None = None) -> AlarmRecord | None:
        """The condition returned to normal; return the alarm if it changed."""
        now = at if now is None else now
        a = self._alarms.get(alarm_id)
        if a is None or not a.active:
            return None
        a.cleared_at = at
        self.flood.deactivate(alarm_id)
        self._note_toggle(a, now)
        for cid in self._children.get(alarm_id, ()):  # children wait a little: they usually clear right after
            child = self._alarms.get(cid)
            if child is not None and child.release_at is None:
                child.release_at = now + self.policy.release_delay_s
                self._releasing.add(cid)
        self._move(a, T.CLEAR, who, "", now)
        self._trim()
        return a

    def withdraw(self, alarm_id: str, who: str, why: str, now: float) -> bool:
        """Its source is gone (the supervisor left the registry): back to normal and forgotten, each step journaled."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return False
        if a.active:
            self.clear(alarm_id, now, who=who, now=now)
        a = self._alarms.get(alarm_id)
        trigger = WITHDRAW.get(a.state) if a is not None else None
        if a is not None and trigger is not None:
            self._move(a, trigger, who, why, now)
            self._forget_if_normal(a)
        return True

    # --- time --------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Expire shelves, release children of cleared parents, drop quiet chatter flags, follow maintenance."""
        for aid in [aid for aid in self._shelved if (a := self._alarms.get(aid)) and a.shelved_until is not None and a.shelved_until <= now]:
            a = self._alarms[aid]
            self._move(a, T.SHELF_EXPIRED, "vigie", "shelf time over", now)
            self._settle(a, now)
        for cid in [c for c in self._releasing if (a := self._alarms.get(c)) is None or (a.release_at or 0) <= now]:
            self._release(cid, now)
        for aid in self.chatter.expire(now):
            a = self._alarms.get(aid)
            if a is not None and a.chattering:
                a.chattering = False
                self._touched.add(aid)
        for a in [self._alarms[i] for i in self._out_of_service if self._alarms[i].out_of_service_by == "vigie"]:
            if not self._in_maintenance(a.asset):
                self._move(a, T.RETURN_TO_SERVICE, "vigie", "asset back in service", now)
                self._settle(a, now)
        self.stats.trim(now)

    def set_policy(self, policy: AlarmPolicy) -> None:
        """Take an engineer's new policy (existing shelves keep their end time)."""
        self.policy = self.stats.policy = policy
        self.chatter.configure(policy.chatter_toggles, policy.chatter_window_s, policy.chatter_hold_s)

    # --- persistence -------------------------------------------------------------------------

    def restore(self, records: Iterable[dict]) -> int:
        """Load alarms saved by `AlarmRecord.to_record()` (at start, before any message); return how many."""
        n = 0
        for raw in records:
            a = AlarmRecord.from_record(raw)
            if a.state is S.NORMAL:
                continue
            a.chattering = False  # the detector starts afresh
            self._alarms[a.id] = a
            if a.active:
                self.flood.activate(a)
            if a.state is S.RTN_UNACK:
                self._returned.add(a.id)
            if a.state in SHELVED_STATES:
                self._shelved.add(a.id)
            if a.state is S.OUT_OF_SERVICE:
                self._out_of_service.add(a.id)
            if a.parent is not None:
                self._children.setdefault(a.parent, set()).add(a.id)
                if a.release_at is not None:
                    self._releasing.add(a.id)
            n += 1
        for pid, kids in self._children.items():
            if pid in self._alarms:
                self._alarms[pid].children = len(kids)
        return n

    # --- inside ------------------------------------------------------------------------------

    def _move(self, a: AlarmRecord, trigger: Trigger, who: str, why: str, now: float) -> None:
        before = a.state
        after = next_state(before, trigger, a.active)  # raises TransitionRefused
        if trigger is T.RAISE:
            a.active = True
        elif trigger is T.CLEAR:
            a.active = False
        a.state, a.updated_at = after, now
        if after is S.ACTIVE_UNACK and before is not S.ACTIVE_UNACK:
            a.acked_by, a.acked_at, a.ack_comment = None, None, ""
        if before in SHELVED_STATES and after not in SHELVED_STATES:
            a.shelved_by, a.shelved_at, a.shelved_until, a.shelve_reason = None, None, None, ""
        if before is S.OUT_OF_SERVICE and after is not S.OUT_OF_SERVICE:
            a.out_of_service_by, a.out_of_service_reason = None, ""
        (self._shelved.add if after in SHELVED_STATES else self._shelved.discard)(a.id)
        (self._returned.add if after is S.RTN_UNACK else self._returned.discard)(a.id)
        (self._out_of_service.add if after is S.OUT_OF_SERVICE else self._out_of_service.discard)(a.id)
        if before is S.SUPPRESSED and after is not S.SUPPRESSED:
            self._detach(a)
        self._note(a, JournalEntry(now, a.id, str(trigger), who, why, str(before), str(after), a.domain, str(a.priority)))
        if trigger is not T.ACKNOWLEDGE:  # ack forgets after recording who did it
            self._forget_if_normal(a)

    def _note(self, a: AlarmRecord, entry: JournalEntry) -> None:
        a.history.append(entry)
        if len(a.history) > HISTORY_MAX:
            del a.history[: len(a.history) - HISTORY_MAX]
        self.journal.append(entry)
        self._touched.add(a.id)

    def _forget_if_normal(self, a: AlarmRecord) -> None:
        if a.state is S.NORMAL and self._alarms.get(a.id) is a:
            del self._alarms[a.id]
            self.flood.deactivate(a.id)
            self._shelved.discard(a.id)
            self._out_of_service.discard(a.id)
            self._touched.add(a.id)

    def _note_toggle(self, a: AlarmRecord, now: float) -> None:
        flag = self.chatter.note(a.id, now)
        if flag != a.chattering:
            a.chattering = flag
            self._touched.add(a.id)

    def _in_maintenance(self, asset_id: str) -> bool:
        rec = self.asset_of(asset_id)
        return rec is not None and str(getattr(rec, "condition", "")) == "maintenance"

    def _area(self, asset_id: str) -> str:
        rec = self.asset_of(asset_id)
        refs = getattr(rec, "refs", None) or {}
        return str(refs.get("district") or refs.get("commune") or "")

    def _trim(self) -> None:
        if len(self._returned) <= self.max_returned:
            return
        returned = sorted((self._alarms[i] for i in self._returned), key=lambda a: a.updated_at)
        for a in returned[: len(returned) - self.max_returned]:
            del self._alarms[a.id]
            self._returned.discard(a.id)
            self._touched.add(a.id)
