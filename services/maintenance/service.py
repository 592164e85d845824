"""The work-order service: the single writer of the work-order book, where the engine runs.

Telemetry: after each engine batch (on the engine thread) the changed maintenance-class alarms are turned into
`Fault`s and handed over; the service's thread applies them to the book in order, verifies repairs on a tick,
and hands each changed order to the store, which writes it and publishes it on `gmao.workorders`. People and
an external GMAO change orders through `create` / `update` (the same lock, the same order), audited. On a
web-only worker `RemoteWorkOrders` reads from Redis and forwards changes to the engine's process.
"""
from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from services.audit import Outcome
from services.commands.progress import Actor, audit_entry
from services.core.events import AlarmsChanged, Event
from services.maintenance.orders import (
    FAULTS,
    PENDING,
    Fault,
    Status,
    WorkOrder,
    WorkOrderBook,
    WorkOrderInvalid,
    WorkOrderNotFound,
    classify,
    groups,
)
from services.maintenance.rounds import RoundsInvalid, RoundsRequest, Stop, plan_rounds
from services.maintenance.store import WorkOrderStore, gmao_message
from services.redis_conn import BusUnavailable

if TYPE_CHECKING:
    from services.audit import AuditLog

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
TICK_S = 5.0
KEEP_VERIFIED_S = 30 * 86400.0
QUEUE_MAX = 200_000

__all__ = ["Actor", "WorkOrderFilter", "WorkOrderInvalid", "WorkOrderNotFound", "WorkOrderService", "WorkOrdersUnavailable"]


class WorkOrdersUnavailable(RuntimeError):
    """Work orders cannot be changed from here right now (no engine here, or it does not answer)."""


@dataclass(frozen=True, slots=True)
class WorkOrderFilter:
    """What a listing keeps: every given field must match (`status` any of a set; `q` a word of asset, name, street)."""

    domain: str | None = None
    status: frozenset[str] | None = None
    priority: str | None = None
    fault: str | None = None
    cabinet: str | None = None
    street: str | None = None
    q: str | None = None

    def keeps(self, o: dict[str, Any]) -> bool:
        q = (self.q or "").lower()
        return ((self.domain is None or o["domain"] == self.domain) and (self.status is None or o["status"] in self.status)
                and (self.priority is None or o["priority"] == self.priority) and (self.fault is None or o["fault"] == self.fault)
                and (self.cabinet is None or o["cabinet"] == self.cabinet) and (self.street is None or o["street"] == self.street)
                and (not q or q in f"{o['id']} {o['asset']} {o['asset_name']} {o['street_name']} {o['cabinet']} {o.get('cabinet_name', '')}".lower()))


def order_sort_key(o: dict[str, Any]) -> tuple:
    """Pending first, then high priority, then oldest."""
    return (o["status"] not in PENDING, {"high": 0, "normal": 1, "low": 2}.get(o["priority"], 1), o["opened_at"], o["id"])


def fault_of(core: Any, a: Any, names: dict[str, str]) -> Fault | None:
    """The maintenance condition an alarm record stands for (None when it is not maintenance); on the engine thread."""
    asset = core.state.get(a.asset)
    status = asset.values.get("status") if asset is not None else None
    kind = classify({"code": a.code, "message": a.message, "alarm_class": getattr(a, "alarm_class", None)},
                    status if isinstance(status, str) else None)
    if kind is None:
        return None
    refs = asset.refs if asset is not None else {}
    point = asset.point if asset is not None else None
    street = refs.get("street", "")
    name = (asset.name if asset is not None else "") or ""
    street_name = names.get(street) or (name.split(", ", 1)[1] if street and ", " in name else "")  # "Lanterne 12, Rue de la Loge"
    cabinet = core.state.get(refs["cabinet"]) if refs.get("cabinet") else None
    return Fault(alarm=a.id, domain=a.domain, asset=a.asset, code=a.code, fault=kind, active=bool(a.active),
                 asset_name=name, supervisor=a.supervisor, cabinet=refs.get("cabinet", ""),
                 cabinet_name=(cabinet.name if cabinet is not None else "") or "",
                 street=street, street_name=street_name, district=refs.get("district", ""),
                 lon=point[0] if point else None, lat=point[1] if point else None, message=a.message or "",
                 raised_at=a.raised_at if a.active else None)


class WorkOrderService:
    """Work orders of one Vigie: telemetry opens and verifies them, people and the GMAO move them; persisted and published."""

    def __init__(self, store: WorkOrderStore, audit: AuditLog | None = None, engine: Any = None, *, verify_s: float = 600.0,
                 street_names: dict[str, str] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.audit = audit
        self.engine = engine
        self.clock = clock
        self.book = WorkOrderBook(verify_s)
        self.names = dict(street_names or {})
        self._segments = -1 if not self.names else 0
        self.rejected = 0  # telemetry dropped (queue full)
        self._lock = threading.RLock()
        self._queue: queue.Queue = queue.Queue(QUEUE_MAX)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.emitters: list[Callable[[str, Any], None]] = []  # where changes are pushed (the Socket.IO server's emit)
        self._pushed: set[str] = set()
        self._pushed_at = 0.0

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> WorkOrderService:
        """Take back the stored orders, follow the engine's alarms, catch up with those already active, start the thread."""
        try:
            n = self.book.restore(self.store.load())
            log.info("restored %d work orders", n)
        except BusUnavailable as err:
            log.warning("work orders not restored: %s", err)
        self.store.start()
        if self.engine is not None:
            self._unsubscribe = self.engine.subscribe(self.on_events)
            self._catch_up()
        self._thread = threading.Thread(target=self._run, name="vigie-workorders", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following the engine, apply what is queued, write what is pending."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.store.stop(timeout)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until telemetry handed over is applied and written (tests)."""
        end = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.01)
        return self.store.flush(max(0.1, end - time.monotonic()))

    def _catch_up(self) -> None:
        """Maintenance conditions already active (and orders whose alarm went meanwhile) after a restart."""
        from services.feed.engine import EngineUnavailable

        def snapshot(core: Any, _now: float) -> tuple[list[Fault], list]:
            names = self._street_names(core)
            return [f for a in core.alarms.all() if (f := fault_of(core, a, names)) is not None], []

        try:
            faults = self.engine.execute(snapshot, timeout=30)
        except EngineUnavailable as err:
            log.warning("work orders not caught up with the active alarms: %s", err)
            return
        seen = {f.alarm for f in faults}
        with self._lock:
            gone = [Fault(alarm=o.alarm, domain=o.domain, asset=o.asset, code=o.code, fault=o.fault, active=False)
                    for o in self.book.orders.values() if o.alarm and o.fault_active and o.status != Status.VERIFIED and o.alarm not in seen]
        for f in [*faults, *gone]:
            self._queue.put(f)

    def _street_names(self, core: Any) -> dict[str, str]:
        """Street ids -> names, from the traffic segments (read again when their number changes)."""
        segments = core.state.domain("traffic")
        if len(segments) != self._segments:
            self._segments = len(segments)
            self.names = {a.refs["street"]: a.name for a in segments.values() if a.refs.get("street") and a.name}
        return self.names

    # --- telemetry (engine thread hands over, the service's thread applies) -----------------------

    def on_events(self, events: list[Event]) -> None:
        """Hand the maintenance conditions the batch changed to the service's thread (on the engine thread)."""
        ids = [aid for ev in events if type(ev) is AlarmsChanged for aid in ev.alarm_ids]
        if not ids:
            return
        core = self.engine.core
        names = self._street_names(core)
        for aid in ids:
            a = core.alarms.get(aid)
            if a is None:
                f: Fault | None = Fault(alarm=aid, domain="", asset="", code="", fault="", active=False)  # forgotten: cleared
            else:
                f = fault_of(core, a, names)
            if f is None:
                continue
            try:
                self._queue.put_nowait(f)
            except queue.Full:
                self.rejected += 1
                if self.rejected == 1 or self.rejected % 1000 == 0:
                    log.warning("work-order telemetry queue full: %d conditions dropped", self.rejected)

    def _run(self) -> None:
        next_tick = time.monotonic() + TICK_S
        while not self._stop.is_set() or not self._queue.empty():
            try:
                f = self._queue.get(timeout=max(0.05, min(1.0, next_tick - time.monotonic())))
            except queue.Empty:
                f = None
            if f is not None:
                batch = [f]
                while len(batch) < 5000:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                try:
                    self.observe(batch)
                finally:
                    for _ in batch:
                        self._queue.task_done()
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_S
                self.tick()
            self._push()

    def _push(self, min_gap_s: float = 1.0) -> None:
        """Tell the pages which orders moved, at most once a second (a chattering lamp toggles its order often)."""
        if not self._pushed or time.monotonic() - self._pushed_at < min_gap_s:
            return
        with self._lock:
            moved, self._pushed = sorted(self._pushed)[:500], set()
        self._pushed_at = time.monotonic()
        payload = {"v": 1, "deltas": [{"v": 1, "ch": "workorders", "t": round(self.clock(), 3), "ids": moved}]}
        for emit in list(self.emitters):
            try:
                emit("push", payload)
            except Exception:
                log.exception("pushing work orders failed")

    def observe(self, faults: Iterable[Fault]) -> list[WorkOrder]:
        """Apply telemetry in order; persist and publish what changed."""
        now = self.clock()
        changed: dict[str, tuple[WorkOrder, str]] = {}
        with self._lock:
            for f in faults:
                prev = self.book.open_for_alarm(f.alarm)
                if not f.asset and prev is None:
                    continue  # a forgotten alarm that had no work order
                seen = (prev.status, prev.fault) if prev is not None else None
                for o in self.book.observe(f, now):
                    if o.rev == 1:
                        changed[o.id] = (o, "opened")
                    elif (o.status, o.fault) != seen:
                        changed[o.id] = (o, "changed")
                    else:  # the fault toggled on an order still to do (a loose contact): only telemetry moved
                        changed.setdefault(o.id, (o, "telemetry"))
            self._persist(changed.values(), now)
        return [o for o, _ in changed.values()]

    def tick(self) -> list[WorkOrder]:
        """Verify or reopen repairs declared done; forget verified orders older than 30 days."""
        now = self.clock()
        with self._lock:
            changed = self.book.tick(now)
            for o in changed:
                audit_entry(self.audit, Actor("vigie", kind="system"), "workorder.verify" if o.status == Status.VERIFIED else "workorder.reopen",
                            Outcome.OK, o.domain, o.id, o.history[-1]["note"])
            self._persist(((o, "changed") for o in changed), now)
            gone = self.book.prune(now - KEEP_VERIFIED_S)
            if gone:
                self.store.submit(dict.fromkeys(gone), [])
        return changed

    def _persist(self, changed: Iterable[tuple[WorkOrder, str]], now: float) -> None:
        records, messages, moved = {}, [], []
        for o, event in changed:
            d = o.to_dict()
            records[o.id] = _encode(d)
            messages.append(gmao_message(d, event, now))  # every change, for a mirror; "telemetry" ones a GMAO may skip
            if event != "telemetry":  # the pages are redrawn for what a person acts on
                moved.append(o.id)
        if records:
            self.store.submit(records, messages)
            self._pushed.update(moved)

    # --- people and the GMAO ----------------------------------------------------------------------

    def _engine(self) -> Any:
        if self.engine is None or not self.engine.running:
            raise WorkOrdersUnavailable("work orders are changed by the engine's process; it is not running here")
        return self.engine

    def create(self, body: dict[str, Any], actor: Actor, source: str = "manual") -> dict[str, Any]:
        """Open an order for an asset by hand (or from the GMAO); audited."""
        asset_id = str(body.get("asset") or "")[:128]
        fault_kind = str(body.get("fault") or "")
        if fault_kind not in FAULTS:
            raise WorkOrderInvalid(f"fault must be one of {', '.join(FAULTS)}")
        from services.feed.engine import EngineUnavailable

        def describe(core: Any, _now: float) -> tuple[Fault | None, list]:
            asset = core.state.get(asset_id)
            if asset is None:
                return None, []
            names = self._street_names(core)
            refs, point = asset.refs, asset.point
            alarm = next((a for a in core.alarms.all() if a.asset == asset_id and a.active and fault_of(core, a, names) is not None), None)
            return Fault(alarm=alarm.id if alarm else "", domain=asset.domain, asset=asset.id, code=alarm.code if alarm else "",
                         fault=fault_kind, active=alarm is not None, asset_name=asset.name or "", supervisor=asset.supervisor,
                         cabinet=refs.get("cabinet", ""), street=refs.get("street", ""), street_name=names.get(refs.get("street", ""), ""),
                         cabinet_name=getattr(core.state.get(refs.get("cabinet", "")), "name", "") or "",
                         district=refs.get("district", ""), lon=point[0] if point else None, lat=point[1] if point else None), []

        try:
            fault = self._engine().execute(describe)
        except EngineUnavailable as err:
            raise WorkOrdersUnavailable(str(err)) from err
        if fault is None:
            raise WorkOrderInvalid(f"no asset {asset_id!r}")
        now = self.clock()
        try:
            with self._lock:
                order = self.book.create(fault, now, who=actor.user, source=source, priority=body.get("priority"),
                                         note=str(body.get("note") or ""), external_ref=str(body.get("external_ref") or ""))
                self._persist([(order, "opened")], now)
                doc = order.to_dict()
        except WorkOrderInvalid as err:
            audit_entry(self.audit, actor, "workorder.create", Outcome.REFUSED, fault.domain, asset_id, str(err))
            raise
        audit_entry(self.audit, actor, "workorder.create", Outcome.OK, doc["domain"], doc["id"], f"{fault_kind} on {asset_id}")
        return doc

    def update(self, order_id: str, changes: dict[str, Any], actor: Actor) -> dict[str, Any]:
        """Move an order (status, priority, assignee, note, external_ref); audited, refusals too."""
        self._engine()
        now = self.clock()
        try:
            with self._lock:
                before = self.book.get(order_id)
                was = before.status if before is not None else ""
                order = self.book.update(order_id, changes, who=actor.user, now=now)
                self._persist([(order, "changed")], now)
                doc = order.to_dict()
        except (WorkOrderInvalid, WorkOrderNotFound) as err:
            domain = before.domain if before is not None else ""
            audit_entry(self.audit, actor, "workorder.update", Outcome.REFUSED, domain, order_id[:64], str(err))
            raise
        what = " ".join(f"{k}={v}" for k, v in changes.items() if k != "note")
        status = f"{was} -> {doc['status']}" if doc["status"] != was else ""
        audit_entry(self.audit, actor, "workorder.update", Outcome.OK, doc["domain"], order_id, f"{status} {what}".strip()[:300])
        return doc

    # --- reading ------------------------------------------------------------------------------------

    def _all(self) -> list[dict[str, Any]]:
        if self.engine is not None:
            with self._lock:
                return [o.to_dict(history=False) for o in self.book.orders.values()]
        return [{k: v for k, v in o.items() if k != "history"} for o in self.store.load()]

    def get(self, order_id: str) -> dict[str, Any] | None:
        """One order with its history."""
        if self.engine is not None:
            with self._lock:
                o = self.book.get(order_id)
                return o.to_dict() if o is not None else None
        return self.store.get(order_id)

    def domain_of(self, order_id: str) -> str | None:
        doc = self.get(order_id)
        return doc["domain"] if doc else None

    def list(self, f: WorkOrderFilter, *, offset: int = 0, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """Orders matching a filter: pending first, high priority first, oldest first."""
        found = sorted((o for o in self._all() if f.keeps(o)), key=order_sort_key)
        return len(found), found[offset:offset + limit]

    def groups(self, f: WorkOrderFilter, by: str) -> list[dict[str, Any]]:
        """Orders counted by cabinet or street."""
        orders = [msgspec.convert(o, WorkOrder) for o in self._all() if f.keeps(o)]
        return groups(orders, by)

    def pending(self, domain: str) -> list[dict[str, Any]]:
        """A domain's orders still to do, with a place (what a round is made of)."""
        return [o for o in self._all() if o["domain"] == domain and o["status"] in PENDING and o["lon"] is not None]


def new_plan_id() -> str:
    """A plan of rounds' id: `r-` and 10 hex digits."""
    return f"r-{secrets.token_hex(5)}"


def plan_for(service: WorkOrderService, territory: str, domain: str, req: RoundsRequest, ids: list[str] | None = None,
             clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Rounds for a domain's pending orders (or those of `ids`) over the territory's road graph; kept a day for the exports."""
    from services.maintenance.roads import territory_graph

    orders = service.pending(domain)
    if ids:
        wanted = set(ids)
        orders = [o for o in orders if o["id"] in wanted]
    stops = [Stop(o["id"], o["lon"], o["lat"], o["fault"], o["opened_at"], o["priority"], o["asset_name"] or o["asset"]) for o in orders]
    try:
        graph = territory_graph(territory)
    except (OSError, KeyError, ValueError) as err:
        raise RoundsInvalid(f"the territory {territory!r} has no road network to plan rounds on ({err})") from err
    plan = plan_rounds(graph, stops, req).to_dict()
    plan.update(id=new_plan_id(), domain=domain, created_at=clock(), crews=req.crews, shift_h=round(req.shift_s / 3600, 2),
                speed_kmh=req.speed_kmh, service_min=req.service_min)
    service.store.save_plan(plan["id"], plan)
    return plan


class RemoteWorkOrders(WorkOrderService):
    """On a web-only worker: reads from Redis, changes forwarded to the engine's process."""

    def __init__(self, client: Any, store: WorkOrderStore, audit: AuditLog | None = None) -> None:
        super().__init__(store, audit, None)
        self.client = client

    def start(self) -> RemoteWorkOrders:
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.store.client.close()

    def _call(self, op: str, args: dict[str, Any]) -> Any:
        from services.feed.engine_rpc import EngineUnreachable, RemoteRefusal

        try:
            return self.client.call(op, args)
        except EngineUnreachable as err:
            raise WorkOrdersUnavailable(str(err)) from err
        except RemoteRefusal as err:
            if err.kind == "not_found":
                raise WorkOrderNotFound(str(err)) from None
            if err.kind == "invalid":
                raise WorkOrderInvalid(str(err)) from None
            raise WorkOrdersUnavailable(str(err)) from None

    def create(self, body: dict[str, Any], actor: Actor, source: str = "manual") -> dict[str, Any]:
        return self._call("workorder.create", {"body": body, "actor": _actor(actor), "source": source})

    def update(self, order_id: str, changes: dict[str, Any], actor: Actor) -> dict[str, Any]:
        return self._call("workorder.update", {"order_id": order_id, "changes": changes, "actor": _actor(actor)})


def _actor(actor: Actor) -> dict[str, str]:
    return {"user": actor.user, "role": actor.role, "kind": actor.kind, "ip": actor.ip}
