"""The work-order book: maintenance conditions become work orders with a lifecycle that telemetry verifies.

Pure: no Redis, no clock (`now` is a parameter). One owner (services/maintenance/service.py) applies every change
in order. The lifecycle is one table (`MANUAL`) that people and an external GMAO walk; telemetry adds two
transitions of its own: `done -> verified` once the fault has not been reported for `verify_s`, and
`done -> reopened` when it is reported again (or still) after the repair was declared.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec


class Status(StrEnum):
    """Where a work order stands."""

    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"  # the crew (or the GMAO) says it is repaired
    VERIFIED = "verified"  # telemetry confirms: no fault reported since
    REOPENED = "reopened"  # telemetry (or a person) says it is not repaired


# Who may move an order from one status to another by hand (people, the GMAO); telemetry has its own two.
MANUAL: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.PLANNED, Status.IN_PROGRESS, Status.DONE}),
    Status.PLANNED: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.DONE}),
    Status.IN_PROGRESS: frozenset({Status.PLANNED, Status.DONE}),
    Status.REOPENED: frozenset({Status.PLANNED, Status.IN_PROGRESS, Status.DONE}),
    Status.DONE: frozenset({Status.REOPENED}),
    Status.VERIFIED: frozenset({Status.REOPENED}),
}
PENDING = frozenset({Status.OPEN, Status.PLANNED, Status.IN_PROGRESS, Status.REOPENED})  # work still to do (rounds)
PRIORITIES = ("high", "normal", "low")

# Maintenance-class conditions when the alarm record does not carry its class (docs/alarms.md: `alarm_class`).
MAINTENANCE_CODES = frozenset({"lamp_fault", "lamp_off", "sensor_drift"})
LAMP_FAULTS = ("defectiveLamp", "brokenLantern", "columnIssue")
FAULTS = (*LAMP_FAULTS, "intermittent", "lamp_off", "sensor_drift")
FAULT_PRIORITY = {"columnIssue": "high", "brokenLantern": "normal", "lamp_off": "normal", "sensor_drift": "normal",
                  "defectiveLamp": "low", "intermittent": "low"}
HISTORY_MAX = 100
NOTE_MAX = 500


class WorkOrderInvalid(ValueError):
    """A change the book refuses; the message says why in words."""


class WorkOrderNotFound(KeyError):
    """No work order of that id."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A maintenance condition as telemetry reports it (one alarm of one asset)."""

    alarm: str
    domain: str
    asset: str
    code: str
    fault: str
    active: bool
    asset_name: str = ""
    supervisor: str = ""
    cabinet: str = ""
    street: str = ""
    street_name: str = ""
    district: str = ""
    lon: float | None = None
    lat: float | None = None
    message: str = ""
    cabinet_name: str = ""
    raised_at: float | None = None  # when the alarm was last raised (a later one while active: it cleared and came back)


class WorkOrder(msgspec.Struct, kw_only=True):
    """One work order, as stored, listed and sent to the GMAO (`history` newest last)."""

    id: str
    rev: int = 1
    domain: str
    asset: str
    asset_name: str = ""
    fault: str
    code: str = ""
    alarm: str = ""
    priority: str = "normal"
    status: str = Status.OPEN
    source: str = "telemetry"  # telemetry, manual, gmao
    supervisor: str = ""
    cabinet: str = ""
    cabinet_name: str = ""
    street: str = ""
    street_name: str = ""
    district: str = ""
    lon: float | None = None
    lat: float | None = None
    opened_at: float = 0.0
    updated_at: float = 0.0
    done_at: float | None = None
    verified_at: float | None = None
    verify_from: float | None = None  # since when telemetry has reported no fault, after `done`
    fault_active: bool = True
    fault_since: float | None = None  # when the fault it follows was last raised (the alarm's raised_at)
    raises: int = 1
    assignee: str = ""
    external_ref: str = ""
    note: str = ""
    previous: str = ""  # the verified order this one follows (the same fault came back)
    history: list[dict[str, Any]] = []

    def to_dict(self, *, history: bool = True) -> dict[str, Any]:
        """The order as JSON-ready data (without its history for listings)."""
        d = msgspec.structs.asdict(self)
        if not history:
            d.pop("history")
        return d


def classify(alarm: dict[str, Any], lamp_status: str | None = None) -> str | None:
    """The fault type of an alarm record if it is a maintenance condition, else None.

    An alarm carrying `alarm_class` is taken at its word; without it, the maintenance codes decide.
    """
    cls = alarm.get("alarm_class")
    code = str(alarm.get("code") or "")
    if cls is not None and cls != "maintenance":
        return None
    if cls is None and code not in MAINTENANCE_CODES:
        return None
    if code == "lamp_fault":
        if str(alarm.get("message") or "").lower().startswith("intermittent"):
            return "intermittent"
        return lamp_status if lamp_status in LAMP_FAULTS else "defectiveLamp"
    return code or "maintenance"


def new_order_id(now: float) -> str:
    """A unique, sortable, readable id: `wo-20261208-013000-1a2b3c`."""
    return f"wo-{datetime.fromtimestamp(now, UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class WorkOrderBook:
    """Every work order kept; `open_for_alarm` finds the order an alarm belongs to while it is not verified."""

    def __init__(self, verify_s: float = 600.0) -> None:
        self.verify_s = verify_s
        self.orders: dict[str, WorkOrder] = {}
        self._by_alarm: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.orders)

    def get(self, order_id: str) -> WorkOrder | None:
        """One order, or None."""
        return self.orders.get(order_id)

    def open_for_alarm(self, alarm_id: str) -> WorkOrder | None:
        """The order still in progress (not verified) for an alarm."""
        oid = self._by_alarm.get(alarm_id)
        return self.orders.get(oid) if oid else None

    def restore(self, records: Iterable[dict[str, Any]]) -> int:
        """Take back stored orders (after a restart); return how many."""
        n = 0
        for raw in records:
            order = msgspec.convert(raw, WorkOrder)
            self.orders[order.id] = order
            if order.alarm and order.status != Status.VERIFIED:
                self._by_alarm[order.alarm] = order.id
            n += 1
        return n

    # --- telemetry ---------------------------------------------------------------------------

    def observe(self, fault: Fault, now: float) -> list[WorkOrder]:
        """A maintenance condition was raised or cleared; return the orders changed."""
        order = self.open_for_alarm(fault.alarm)
        if order is None:
            if not fault.active:
                return []
            return [self._open(fault, now)]
        # The engine hands over an alarm's state after each batch: a clear and the raise after it in one batch read
        # as "still active", but the alarm was raised anew (a later raised_at): the fault came back all the same.
        came_back = (fault.active and order.fault_active and fault.raised_at is not None and order.fault_since is not None
                     and fault.raised_at > order.fault_since)
        if fault.active and fault.raised_at is not None:
            order.fault_since = fault.raised_at
        if fault.active == order.fault_active and not came_back:
            return []
        order.fault_active = fault.active
        if fault.active:
            order.raises += 1
            if fault.fault != order.fault and fault.fault in FAULTS:
                order.fault = fault.fault
        if order.status == Status.DONE:
            if fault.active:
                self._move(order, Status.REOPENED, "vigie", now, "telemetry: the fault is reported again after the repair")
            else:
                order.verify_from = now
        self._touch(order, now)
        return [order]

    def tick(self, now: float) -> list[WorkOrder]:
        """Verify or reopen the orders declared done once `verify_s` has passed; return those changed."""
        changed = []
        for order in self.orders.values():
            if order.status != Status.DONE or order.done_at is None:
                continue
            if not order.fault_active and order.verify_from is not None and now - order.verify_from >= self.verify_s:
                self._move(order, Status.VERIFIED, "vigie", now,
                           f"telemetry: no fault reported for {self.verify_s / 60:.0f} min after the repair")
                order.verified_at = now
                self._by_alarm.pop(order.alarm, None)
                changed.append(order)
            elif order.fault_active and now - order.done_at >= self.verify_s:
                self._move(order, Status.REOPENED, "vigie", now, "telemetry: the fault is still reported after the repair")
                changed.append(order)
        return changed

    # --- people and the GMAO --------------------------------------------------------------------

    def create(self, fault: Fault, now: float, *, who: str, source: str, priority: str | None = None, note: str = "",
               external_ref: str = "") -> WorkOrder:
        """Open an order by hand (a person, the GMAO), for an asset whether or not telemetry reports it."""
        if priority is not None and priority not in PRIORITIES:
            raise WorkOrderInvalid(f"priority must be one of {', '.join(PRIORITIES)}")
        if fault.alarm:
            existing = self.open_for_alarm(fault.alarm)
            if existing is not None:
                raise WorkOrderInvalid(f"work order {existing.id} is already open for this fault")
        return self._open(fault, now, who=who, source=source, priority=priority, note=note, external_ref=external_ref)

    def update(self, order_id: str, changes: dict[str, Any], *, who: str, now: float) -> WorkOrder:
        """Apply a person's or the GMAO's change (status, priority, assignee, note, external_ref); refuse with a reason."""
        order = self.orders.get(order_id)
        if order is None:
            raise WorkOrderNotFound(order_id)
        unknown = set(changes) - {"status", "priority", "assignee", "note", "external_ref"}
        if unknown:
            raise WorkOrderInvalid(f"cannot change {', '.join(sorted(unknown))}")
        status = changes.get("status")
        if status is not None:
            try:
                target = Status(status)
            except ValueError:
                raise WorkOrderInvalid(f"status must be one of {', '.join(Status)}") from None
            if target == Status.VERIFIED:
                raise WorkOrderInvalid("only telemetry verifies a repair: set the status to done")
        priority = changes.get("priority")
        if priority is not None and priority not in PRIORITIES:
            raise WorkOrderInvalid(f"priority must be one of {', '.join(PRIORITIES)}")
        note = str(changes.get("note") or "")[:NOTE_MAX]
        if status is not None and Status(status) != order.status:
            if Status(status) not in MANUAL[Status(order.status)]:
                raise WorkOrderInvalid(f"a work order {order.status} cannot become {status}")
            self._move(order, Status(status), who, now, note)
            if status == Status.DONE:
                order.done_at = now
                order.verify_from = None if order.fault_active else now
            elif status == Status.REOPENED and order.alarm:
                self._by_alarm[order.alarm] = order.id
        elif note:
            self._log(order, who, now, "note", "", "", note)
        for key in ("priority", "assignee", "external_ref"):
            value = changes.get(key)
            if value is not None and str(value)[:120] != getattr(order, key):
                self._log(order, who, now, key, getattr(order, key), str(value)[:120])
                setattr(order, key, str(value)[:120])
        if note:
            order.note = note
        self._touch(order, now)
        return order

    def prune(self, before: float) -> list[str]:
        """Forget verified orders last changed before `before`; return their ids."""
        gone = [o.id for o in self.orders.values() if o.status == Status.VERIFIED and o.updated_at < before]
        for oid in gone:
            del self.orders[oid]
        return gone

    # --- inside -----------------------------------------------------------------------------------

    def _open(self, fault: Fault, now: float, *, who: str = "vigie", source: str = "telemetry", priority: str | None = None,
              note: str = "", external_ref: str = "") -> WorkOrder:
        earlier = [o for o in self.orders.values() if fault.alarm and o.alarm == fault.alarm and o.status == Status.VERIFIED]
        previous = max(earlier, key=lambda o: o.updated_at).id if earlier else ""
        order = WorkOrder(
            id=new_order_id(now), domain=fault.domain, asset=fault.asset, asset_name=fault.asset_name, fault=fault.fault,
            code=fault.code, alarm=fault.alarm, priority=priority or FAULT_PRIORITY.get(fault.fault, "normal"), source=source,
            supervisor=fault.supervisor, cabinet=fault.cabinet, cabinet_name=fault.cabinet_name, street=fault.street,
            street_name=fault.street_name,
            district=fault.district, lon=fault.lon, lat=fault.lat, opened_at=now, updated_at=now,
            fault_active=fault.active if fault.alarm else False, fault_since=fault.raised_at if fault.active else None,
            external_ref=external_ref[:120], note=note[:NOTE_MAX],
            previous=previous)
        why = fault.message[:200] if source == "telemetry" else note[:NOTE_MAX]
        self._log(order, who, now, "open", "", Status.OPEN, why)
        self.orders[order.id] = order
        if fault.alarm:
            self._by_alarm[fault.alarm] = order.id
        return order

    def _move(self, order: WorkOrder, target: Status, who: str, now: float, why: str) -> None:
        self._log(order, who, now, "status", order.status, target, why)
        order.status = target
        if target == Status.REOPENED:
            order.done_at = None
            order.verify_from = None
        self._touch(order, now)

    def _log(self, order: WorkOrder, who: str, now: float, action: str, before: str, after: str, note: str = "") -> None:
        order.history.append({"at": now, "who": who[:120], "action": action, "before": str(before), "after": str(after),
                              "note": note[:NOTE_MAX]})
        if len(order.history) > HISTORY_MAX:
            del order.history[1: len(order.history) - HISTORY_MAX + 1]  # the opening entry stays

    @staticmethod
    def _touch(order: WorkOrder, now: float) -> None:
        order.rev += 1
        order.updated_at = now


def group_key(order: WorkOrder | dict[str, Any], by: str) -> str:
    """The group an order falls in: its cabinet, its street, or its district."""
    get = order.get if isinstance(order, dict) else (lambda k, d="": getattr(order, k, d))
    return str(get(by, "") or "")


def groups(orders: Iterable[WorkOrder], by: str) -> list[dict[str, Any]]:
    """Orders counted by cabinet or street: [{key, name, count, pending, high}], largest first."""
    out: dict[str, dict[str, Any]] = {}
    for o in orders:
        key = group_key(o, by) or "-"
        g = out.setdefault(key, {"key": key, "name": (o.street_name if by == "street" else o.cabinet_name) or key, "count": 0, "pending": 0,
                                 "high": 0, "orders": []})
        g["count"] += 1
        g["pending"] += o.status in PENDING
        g["high"] += o.priority == "high"
        g["orders"].append(o.id)
    return sorted(out.values(), key=lambda g: (-g["pending"], -g["count"], g["key"]))
