"""Flood grouping in the alarm book: suppress an alarm under its active cause, release it when the cause clears.

A mixin of AlarmBook (services/core/alarms.py); the rules that relate alarms are in flood.py. Children
of a cleared parent wait `release_delay_s`: those that clear meanwhile never reach the operator.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .alarm_record import AlarmRecord
from .alarm_states import SHELVED_STATES, AlarmState, Trigger

if TYPE_CHECKING:
    from .alarm_kpis import AlarmStats
    from .flood import Flood

S, T = AlarmState, Trigger


class FloodGrouping:
    """Parents, their suppressed children, and the release of children when a parent clears."""

    _alarms: dict[str, AlarmRecord]
    _children: dict[str, set[str]]
    _releasing: set[str]
    _touched: set[str]
    flood: "Flood"
    stats: "AlarmStats"
    # provided by AlarmBook
    _move: Callable[[AlarmRecord, Trigger, str, str, float], None]
    _in_maintenance: Callable[[str], bool]
    _clear_now: Callable[[AlarmRecord, float, str, float], AlarmRecord]

    def _place(self, a: AlarmRecord, now: float, cause: str | None = None) -> None:
        """Suppress `a` under its cause when one is active; take it out of service when its asset is in maintenance."""
        if a.state is S.OUT_OF_SERVICE or a.state in SHELVED_STATES:
            return
        if self._in_maintenance(a.asset):
            a.out_of_service_by, a.out_of_service_reason = "vigie", "asset in maintenance"
            self._move(a, T.REMOVE_FROM_SERVICE, "vigie", "asset in maintenance", now)
            return
        named = self._alarms.get(cause) if cause else None
        parent = named if named is not None and named.active else self.flood.parent_of(a)
        if parent is not None and parent.id != a.id:
            self._suppress(a, parent, now)

    def _settle(self, a: AlarmRecord, now: float) -> None:
        """After an alarm came back into view: suppress it again if its cause is still active."""
        if self._alarms.get(a.id) is a and a.active and a.state in (S.ACTIVE_UNACK, S.ACTIVE_ACK):
            self._place(a, now)

    def _suppress(self, child: AlarmRecord, parent: AlarmRecord, now: float) -> None:
        if child.state is S.SUPPRESSED:
            if child.parent == parent.id:
                return
            self._detach(child)
        else:
            self._move(child, T.SUPPRESS, "vigie", f"caused by {parent.id}", now)
        child.parent, child.release_at = parent.id, None
        self._releasing.discard(child.id)
        kids = self._children.setdefault(parent.id, set())
        kids.add(child.id)
        parent.children = len(kids)
        self._touched.update((child.id, parent.id))

    def _detach(self, child: AlarmRecord) -> None:
        pid, child.parent, child.release_at = child.parent, None, None
        self._releasing.discard(child.id)
        kids = self._children.get(pid or "")
        if kids is not None:
            kids.discard(child.id)
            if not kids:
                del self._children[pid]
            p = self._alarms.get(pid or "")
            if p is not None:
                p.children = len(kids)
                self._touched.add(p.id)

    def _adopt_children(self, parent: AlarmRecord, now: float) -> None:
        for cid in self._children.get(parent.id, ()):  # raised again before its children were released
            child = self._alarms.get(cid)
            if child is not None:
                child.release_at = None
                self._releasing.discard(cid)
        for child in self.flood.children_of(parent):
            if child.state in (S.ACTIVE_UNACK, S.ACTIVE_ACK, S.RTN_UNACK) or (child.state is S.SUPPRESSED and child.parent is None):
                self._suppress(child, parent, now)
        parent.children = len(self._children.get(parent.id, ()))

    def _release(self, child_id: str, now: float) -> None:
        self._releasing.discard(child_id)
        child = self._alarms.get(child_id)
        if child is None or child.state is not S.SUPPRESSED:
            return
        former = child.parent
        if child.active and child.clear_due is not None:  # its supervisor cleared it; only the off-delay kept it: cleared
            self._clear_now(child, child.cleared_at or now, "supervisor", now)
        other = self.flood.parent_of(child) if child.active else None
        if other is not None and other.id != former:
            self._suppress(child, other, now)
            return
        self._move(child, T.UNSUPPRESS, "vigie", f"cause {former} cleared", now)
        if child.state is S.ACTIVE_UNACK:
            self.stats.annunciated(child, now)
