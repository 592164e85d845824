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
from .alarm_rationale import AlarmClass, Rationale, RationaleBook
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
from .derived_alarms import StreetDark
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
                 policy: AlarmPolicy | None = None, rationale: RationaleBook | None = None,
                 assets_of: Callable[[str], dict[str, Any]] | None = None) -> None:
        self.max_returned = max_returned
        self.policy = policy or AlarmPolicy()
        # the master alarm database; without one (a test's core) every code is an operator alarm as its severity says
        self.rationale = rationale or RationaleBook(strict=False)
        self._pending: dict[str, tuple[float, dict]] = {}  # alarm id -> (due, raise arguments): waiting for its on-delay
        self._clearing: set[str] = set()  # alarms whose clear waits for their off-delay
        self._chatter_held: set[str] = set()  # alarms suppressed because they chatter
        self.events_only: dict[str, int] = {}  # code -> raises of "event only" types (recorded, never shown)
        self.street_dark = StreetDark(lambda asset_id: self.asset_of(asset_id),
                                      lighting=(lambda: assets_of("lighting")) if assets_of is not None else None)
        self._dark: set[str] = set()  # streets with an active street_dark alarm
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
        out = {"unacknowledged": 0, "shelved": 0, "suppressed": 0, "out_of_service": 0, "stale": 0, "maintenance": 0}
        stale_after = self.policy.stale_after_s
        for a in self._alarms.values():
            if a.alarm_class != "operator":  # maintenance conditions go to work orders, not to the operator's figures
                out["maintenance"] += a.active
                continue
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
        out["chattering"] = len(self._chattering())
        out["chatter_suppressed"] = len(self._chatter_held)
        return out

    def maintenance(self) -> list[AlarmRecord]:
        """Active maintenance conditions (class `maintenance`), oldest first: what the work orders are made of."""
        return sorted((a for a in self._alarms.values() if a.active and a.alarm_class == "maintenance"),
                      key=lambda a: (a.seen_at, a.id))

    def release_chatter(self, alarm_id: str, who: str, now: float, reason: str = "") -> Outcome:
        """An operator ends a chattering suppression: the alarm is shown again (annunciated if still active)."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return Outcome(alarm_id, "not_found", "no such alarm")
        if not a.chatter_held:
            return Outcome(alarm_id, "refused", "not suppressed as chattering", state=str(a.state))
        self._release_chatter(alarm_id, who, reason or "released by an operator", now)
        return Outcome(alarm_id, "done", state=str(a.state))

    def maintenance_view(self) -> list[dict]:
        """Active maintenance conditions as work-order material: the alarm, its asset's fault and grouping refs."""
        out = []
        for a in self.maintenance():
            rec = self.asset_of(a.asset)
            refs = dict(getattr(rec, "refs", None) or {})
            values = getattr(rec, "values", None) or {}
            out.append({"id": a.id, "code": a.code, "domain": a.domain, "supervisor": a.supervisor, "asset": a.asset,
                        "fault": values.get("status") or a.code, "message": a.message, "opened_at": a.seen_at,
                        "raised_at": a.raised_at, "priority": str(a.priority), "chattering": a.chattering,
                        "refs": {k: refs[k] for k in ("cabinet", "street", "district", "commune", "zone", "pipe") if k in refs}})
        return out

    def set_rationale(self, rationale: RationaleBook) -> None:
        """Take a new master alarm database (an engineer's edit): effective for the next raise of each code."""
        rationale.unknown = {**self.rationale.unknown, **rationale.unknown}
        for code in list(rationale.unknown):
            if code in rationale.records:
                del rationale.unknown[code]
        self.rationale = rationale

    def kpis(self, now: float, full: bool = False) -> dict:
        """The alarm-system KPIs: live tiles, or the whole report (distribution, bad actors)."""
        stale = self.counts(now)["stale"]
        if full:
            return self.stats.report(now, self._chattering(), stale)
        return self.stats.tiles(now, len(self._chattering()), stale)

    def _chattering(self) -> list[str]:
        """Operator alarms flagged as chattering (a maintenance condition's chatter is its work order's business)."""
        return [aid for aid in self.chatter.flagged if (a := self._alarms.get(aid)) is not None and a.alarm_class == "operator"]

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
        r = self.rationale.note(code, domain, supervisor, message, now)
        if r.alarm_class is AlarmClass.EVENT:
            self.events_only[code] = self.events_only.get(code, 0) + 1
            return None
        priority = r.priority_for(severity)
        a = self._alarms.get(alarm_id)
        if a is not None and a.active:
            if a.clear_due is not None:  # back before its off-delay ran out: it never cleared
                a.clear_due = None
                self._clearing.discard(a.id)
            if a.message == message and a.severity == severity and a.priority is priority:
                return None
            a.message, a.severity, a.priority, a.updated_at = message, severity, priority, now
            self._touched.add(a.id)
            return a
        if r.on_delay_s > 0 and (a is None or not a.active):
            args = {"source": source, "domain": domain, "supervisor": supervisor, "asset": asset, "code": code,
                    "severity": severity, "message": message, "at": at, "cause": cause, "counted": counted}
            due = self._pending.get(alarm_id, (now + r.on_delay_s, args))[0]
            self._pending[alarm_id] = (due, args)
            if due > now:
                return None
            del self._pending[alarm_id]
        return self._raise_now(alarm_id, r, priority, source=source, domain=domain, supervisor=supervisor, asset=asset,
                               code=code, severity=severity, message=message, at=at, now=now, cause=cause, counted=counted)

    def _raise_now(self, alarm_id: str, r: Rationale, priority: Priority, *, source: str, domain: str, supervisor: str,
                   asset: str, code: str, severity: str, message: str, at: float, now: float, cause: str | None,
                   counted: bool) -> AlarmRecord:
        a = self._alarms.get(alarm_id)
        if a is None:
            a = AlarmRecord(alarm_id, source, domain, supervisor, asset, code, severity, priority, message, raise_count=0,
                            area=self._area(asset))
            self._alarms[alarm_id] = a
        a.message, a.severity, a.priority, a.alarm_class = message, severity, priority, str(r.alarm_class)
        a.raised_at, a.seen_at, a.cleared_at, a.raise_count = at, now, None, a.raise_count + 1
        before = a.state
        self._move(a, T.RAISE, source, message, now)
        self.flood.activate(a)
        self._note_toggle(a, now, r)
        self._place(a, now, cause)
        if a.code in self.flood.by_parent:
            self._adopt_children(a, now)
        if a.chattering and a.alarm_class == "operator" and a.state in (S.ACTIVE_UNACK, S.ACTIVE_ACK) and before is not S.ACTIVE_UNACK:
            self._hold_chatter(a, now)  # announced once: its later raises are not presented again while it chatters
        if counted and a.state is S.ACTIVE_UNACK and before is not S.ACTIVE_UNACK and a.alarm_class == "operator":
            self.stats.annunciated(a, now)
        if a.code == "lamp_fault":
            self.street_dark.fault(a.id, a.asset)
        if counted and a.alarm_class == "maintenance" and before is not S.ACTIVE_UNACK:
            self.stats.maintenance_opened(now)
        return a

    def clear(self, alarm_id: str, at: float, who: str = "supervisor", now: float | None = None) -> AlarmRecord | None:
        """The condition returned to normal; return the alarm if it changed."""
        now = at if now is None else now
        if self._pending.pop(alarm_id, None) is not None:  # cleared within its on-delay: never raised
            return None
        a = self._alarms.get(alarm_id)
        if a is None or not a.active:
            return None
        delay = self.rationale.lookup(a.code).off_delay_s if who == "supervisor" else 0.0
        if delay > 0 and a.clear_due is None:
            a.clear_due, a.cleared_at = now + delay, at
            self._clearing.add(a.id)
            return None
        return self._clear_now(a, a.cleared_at if a.clear_due is not None else at, who, now)

    def _clear_now(self, a: AlarmRecord, at: float, who: str, now: float) -> AlarmRecord:
        alarm_id = a.id
        self.street_dark.repaired(alarm_id)
        a.clear_due = None
        self._clearing.discard(alarm_id)
        a.cleared_at = at
        self.flood.deactivate(alarm_id)
        self._note_toggle(a, now)
        for cid in self._children.get(alarm_id, ()):  # children wait a little: they usually clear right after
            child = self._alarms.get(cid)
            if child is not None and child.release_at is None:
                child.release_at = now + self.policy.release_delay_s
                self._releasing.add(cid)
        self._move(a, T.CLEAR, who, "", now)
        if a.state is S.RTN_UNACK and a.alarm_class != "operator":  # nobody was asked to acknowledge it
            self._move(a, T.ACKNOWLEDGE, "vigie", "maintenance condition ended", now)
            self._forget_if_normal(a)
        self._trim()
        return a

    def withdraw(self, alarm_id: str, who: str, why: str, now: float) -> bool:
        """Its source is gone (the supervisor left the registry): back to normal and forgotten, each step journaled."""
        self._pending.pop(alarm_id, None)
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
        for aid in [aid for aid, (due, _) in self._pending.items() if due <= now]:
            args = self._pending.pop(aid)[1]
            r = self.rationale.lookup(args["code"])
            self._raise_now(aid, r, r.priority_for(args["severity"]), now=now, **args)
        for aid in [aid for aid in self._clearing if (a := self._alarms.get(aid)) is None or (a.clear_due or 0) <= now]:
            a = self._alarms.get(aid)
            self._clearing.discard(aid)
            if a is not None and a.active and a.clear_due is not None:
                self._clear_now(a, a.cleared_at or now, "supervisor", now)
        for aid in self.chatter.expire(now):
            a = self._alarms.get(aid)
            if a is not None and a.chattering:
                a.chattering = False
                self._touched.add(aid)
        for aid in list(self._chatter_held):
            a = self._alarms.get(aid)
            r = self.rationale.lookup(a.code) if a is not None else None
            steady = a is not None and a.active and now - a.seen_at >= (r.chatter_window_s or self.policy.chatter_window_s)
            if a is None or not a.chattering or steady:  # quiet again, or steadily active: a true alarm, shown again
                self._release_chatter(aid, "vigie", "steady: no longer chattering" if steady else "no longer chattering", now)
        for a in [self._alarms[i] for i in self._out_of_service if self._alarms[i].out_of_service_by == "vigie"]:
            if not self._in_maintenance(a.asset):
                self._move(a, T.RETURN_TO_SERVICE, "vigie", "asset back in service", now)
                self._settle(a, now)
        self._derive(now)
        if self.stats.standing_due(now):
            self.stats.standing(sum(1 for a in self._alarms.values()
                                    if a.active and a.alarm_class == "operator" and a.state not in HIDDEN), now)
        self.stats.trim(now)

    def _derive(self, now: float) -> None:
        """Streets dark at night: raised and cleared by Vigie from the lamp faults and the cabinets' schedule."""
        dark = self.street_dark.dark()
        for street, (n, lamp) in dark.items():
            a = self._alarms.get(f"vigie/street_dark/{street}")
            msg = f"{street}: {n} lampes en panne, rue dans le noir"
            if a is None or not a.active or a.message != msg:
                self.raise_(f"vigie/street_dark/{street}", source="vigie", domain="lighting", supervisor="vigie", asset=lamp,
                            code="street_dark", severity="minor", message=msg, at=now)
        for street in self._dark - set(dark):
            self.clear(f"vigie/street_dark/{street}", now, who="vigie")
        self._dark = set(dark)

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
            if a.code == "lamp_fault" and a.active:
                self.street_dark.fault(a.id, a.asset)
            if a.chatter_held:  # the detector starts afresh: released at the next tick unless it chatters again
                self._chatter_held.add(a.id)
            if a.clear_due is not None:
                self._clearing.add(a.id)
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

    def _hold_chatter(self, a: AlarmRecord, now: float) -> None:
        self._move(a, T.SUPPRESS, "vigie", "chattering: suppressed until it steadies or an operator releases it", now)
        a.chatter_held = True
        self._chatter_held.add(a.id)

    def _release_chatter(self, alarm_id: str, who: str, why: str, now: float) -> bool:
        """End a chattering suppression: back in view (annunciated if still active), or normal."""
        self._chatter_held.discard(alarm_id)
        a = self._alarms.get(alarm_id)
        if a is None or not a.chatter_held:
            return False
        a.chatter_held = False
        self.chatter.reset(alarm_id)
        if a.chattering:
            a.chattering = False
        if a.state is S.SUPPRESSED and a.parent is None:
            self._move(a, T.UNSUPPRESS, who, why, now)
            if a.state is S.ACTIVE_UNACK:
                self.stats.annunciated(a, now)
                self._settle(a, now)
        self._touched.add(alarm_id)
        return True

    def _note_toggle(self, a: AlarmRecord, now: float, r: Rationale | None = None) -> None:
        r = r or self.rationale.lookup(a.code)
        flag = self.chatter.note(a.id, now, r.chatter_toggles, r.chatter_window_s)
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
