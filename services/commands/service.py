"""The command service: checks and opens commands on the engine thread, publishes them, persists, audits and pushes.

`submit()` runs the check (services/core/command_effects.py) and opens the record on the engine
thread (the Hypervisor's command book is the single writer), then publishes the `Command` on
`cmd.<domain>.<supervisor>` through the injected publisher (a sandbox in training sessions).
Answers, telemetry and deadlines are applied by the core; each `CommandsChanged` wakes the
service's writer thread, which persists the record in Redis, audits outcomes and pushes progress.
"""
from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Protocol

from services.audit import AuditLog, Outcome
from services.commands.progress import Actor, CommandProgress, Emit, audit_entry
from services.commands.store import CommandFilter, CommandStore
from services.contract import Command, cmd_channel, encode
from services.core.command_book import CommandConflict
from services.core.command_effects import (
    CommandRequest, Plan, Selection, confirmation_problem, plan_command, plan_features, selection_bbox,
)
from services.core.command_specs import CommandInvalid, LargeRules
from services.core.water_isolation import WaterNet, node_of
from services.redis_conn import BusUnavailable

log = logging.getLogger(__name__)
RESTORE_S = 24 * 3600.0  # commands of the last day come back into the book after a restart

__all__ = ["Actor", "CommandService", "CommandConflict", "CommandInvalid", "ConfirmationNeeded", "CommandsUnavailable",
           "CommandRequest", "Selection", "Publisher"]


class Publisher(Protocol):
    """Where commands go: the bus (`services.feed.bus.CommandPublisher`), or a training sandbox."""

    def publish(self, channel: str, payload: bytes) -> int: ...


class ConfirmationNeeded(Exception):
    """A large-effect command without its reason or second confirmation; carries the plan to show."""

    def __init__(self, message: str, plan: dict[str, Any]) -> None:
        super().__init__(message)
        self.plan = plan


class CommandsUnavailable(RuntimeError):
    """Commands cannot be sent from here right now (no engine in this process, or it does not answer)."""


def new_command_id(now: float) -> str:
    """A unique, sortable, readable command id: `c-20260621-231000-1a2b3c`."""
    return f"c-{datetime.fromtimestamp(now, timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def describe(doc: Mapping[str, Any]) -> str:
    """One line for the audit trail: action, parameters, how many assets, where."""
    params = " ".join(f"{k}={v}" for k, v in doc["params"].items())
    why = f"; reason: {doc['reason']}" if doc.get("reason") else ""
    return f"{doc['action']} {params} on {doc['assets_count']} assets ({doc['label']}) via {doc['supervisor']}{why}".replace("  ", " ")


class CommandService:
    """Commands for one Vigie: submit, preview, cancel, read; progress persisted, audited and pushed."""

    def __init__(self, engine: Any, publisher: Publisher, store: CommandStore, audit: AuditLog | None = None, *,
                 names: Mapping[str, str] | None = None, rules: LargeRules | None = None, send_expiry: bool = True,
                 clock: Callable[[], float] = time.time, window_s: float = 0.05) -> None:
        self.engine = engine  # services.feed.engine.Engine, or None in a web-only worker
        self.publisher = publisher
        self.store = store
        self.audit = audit
        self.names = dict(names or {})
        self.rules = rules or LargeRules()
        self.send_expiry = send_expiry
        self.clock = clock
        self.progress = CommandProgress(engine, store, audit, clock=clock, window_s=window_s)
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def emitters(self) -> list[Emit]:
        """Where progress is pushed: `emit(event, payload)` functions (the Socket.IO server's)."""
        return self.progress.emitters

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "CommandService":
        """Take back the last day's commands, listen to the engine, start the writer thread."""
        if self.engine is not None:
            self._restore()
            self._unsubscribe = self.engine.subscribe(self.progress.on_events)
        self.progress.start()
        return self

    def stop(self) -> None:
        """Stop listening, write what is pending, stop the writer."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.progress.stop()

    def _restore(self) -> None:
        try:
            docs = self.store.recent(self.clock() - RESTORE_S)
        except BusUnavailable as err:
            log.warning("command log not restored: %s", err)
            return
        self.progress.seed(docs)
        from services.feed.engine import EngineUnavailable

        try:
            self.engine.execute(lambda core, now: (None, core.commands.restore(docs, core.state, now)), timeout=30)
        except EngineUnavailable as err:
            log.warning("command log not restored into the engine: %s", err)
            return
        log.info("restored %d commands of the last day", len(docs))

    # --- sending ----------------------------------------------------------------------------

    def _engine(self) -> Any:
        if self.engine is None or not self.engine.running:
            raise CommandsUnavailable("commands are sent by the engine's process; it is not running here")
        return self.engine

    def preview(self, request: CommandRequest, *, geo: bool = False) -> dict[str, Any]:
        """What the command would do (count, assets, effect, current state, large effects), without sending it.

        With `geo`, also the targets (and what they affect) as GeoJSON points and lines, to show them on the map.
        """
        def run(core: Any, now: float) -> tuple[dict, list]:
            plan = self._plan(request, core)
            doc = plan.to_dict()
            if geo:
                doc["points"], doc["lines"] = plan_features(plan, core.state)
            return doc, []

        return self._run_on_engine(run)

    def bounds_of(self, domain: str, ids: list[str]) -> tuple[float, float, float, float] | None:
        """The (min lon, min lat, max lon, max lat) of a selection, to open the map on it; None when unknown."""
        if self.engine is None or not self.engine.running or domain not in ("lighting", "water", "traffic"):
            return None
        with self.engine.lock:
            return selection_bbox(domain, ids, self.engine.core.state)

    def isolation(self, pipe_id: str) -> dict[str, Any] | None:
        """The valves that isolate a water pipe, nearest first, with what each cuts off; None when it is not a pipe."""
        engine = self._engine()
        with engine.lock:  # a copy of the water assets' relations; the graph is walked outside the lock
            nodes = [node_of(a) for a in engine.core.state.domain("water").values()]
        net = WaterNet(nodes)
        if not net.is_pipe(pipe_id):
            return None
        here, down = net.affected_sensors(pipe_id)
        options = net.isolation(pipe_id)
        shown = [(pipe_id, 0)] + [(o.valve, 0) for o in options] + [(p, 1) for p in (options[0].pipes if options else ())[:2000]]
        with engine.lock:  # the map: the pipe and the valves offered (bold), what the nearest valve cuts off (dashed)
            geo = [(aid, h, a.geometry) for aid, h in shown if (a := engine.core.state.get(aid)) is not None and a.geometry]
        points = [{"type": "Feature", "geometry": g, "properties": {"id": aid, "h": h}} for aid, h, g in geo if g["type"] == "Point"]
        lines = [{"type": "Feature", "geometry": g, "properties": {"id": aid, "h": h}} for aid, h, g in geo if g["type"] != "Point"]
        return {"pipe": pipe_id, "name": net.nodes[pipe_id].name or pipe_id, "options": [o.to_dict() for o in options],
                "sensors_here": [[n.id, n.name or n.id] for n in here], "sensors_down": [[n.id, n.name or n.id] for n in down],
                "points": {"type": "FeatureCollection", "features": points}, "lines": {"type": "FeatureCollection", "features": lines}}

    def valve_position(self, ids: list[str]) -> float | None:
        """The mean opening (0..1) of the selected valves now, None when unknown (the form's "no change")."""
        engine = self._engine()
        with engine.lock:
            found = [a.values.get("position") for i in ids[:5000] if (a := engine.core.state.get(str(i))) is not None and a.type == "Valve"]
        pos = [float(p) for p in found if isinstance(p, (int, float)) and not isinstance(p, bool)]
        return sum(pos) / len(pos) if pos else None

    def choices(self, domain: str, kind: str) -> list[dict[str, str]]:
        """What an operator may pick by name in a domain: cabinets, streets, districts, communes, groups, assets."""
        engine = self._engine()
        with engine.lock:
            state = engine.core.state
            pool = list(state.domain(domain).values()) if domain in ("lighting", "water", "traffic") else []
            streets = {a.refs["street"]: a.name for a in state.domain("traffic").values() if a.refs.get("street") and a.name}
        by_type = {("lighting", "cabinet"): ("StreetlightControlCabinet",), ("lighting", "group"): ("StreetlightGroup",),
                   ("water", "asset"): ("Valve", "Pump"), ("traffic", "asset"): ("TrafficSignal",)}
        if (domain, kind) in by_type:
            found = {a.id: f"{a.name or a.id} ({a.id})" for a in pool if a.type in by_type[domain, kind]}
        else:
            ref = "street" if kind == "corridor" else kind
            refs = {a.refs[ref] for a in pool if a.refs.get(ref)}
            found = {r: f"{self.names.get(r) or streets.get(r) or r}" + ("" if r in self.names else f" ({r})") for r in refs}
        return [{"value": k, "label": v} for k, v in sorted(found.items(), key=lambda kv: kv[1].lower())]

    def _plan(self, request: CommandRequest, core: Any) -> Plan:
        return plan_command(request, core.state, names=self.names, rules=self.rules)

    def submit(self, request: CommandRequest, actor: Actor, *, cancels: str | None = None) -> tuple[dict[str, Any], bool]:
        """Check, open and send the command, and audit it; return (its summary, whether it already existed under this key)."""
        try:
            doc, existed = self.open(request, actor, cancels=cancels)
        except (CommandInvalid, ConfirmationNeeded, CommandConflict) as err:
            audit_entry(self.audit, actor, "command.send", Outcome.REFUSED, request.domain, ",".join(request.selection.ids)[:200] or "drawn area", str(err))
            raise
        if not existed:
            audit_entry(self.audit, actor, "command.cancel" if cancels else "command.send", Outcome.OK, request.domain, doc["id"], describe(doc))
        return doc, existed

    def open(self, request: CommandRequest, actor: Actor, *, cancels: str | None = None) -> tuple[dict[str, Any], bool]:
        """Check, open and send on the engine thread, without auditing (the worker that took the request audits).

        Publishing there, between two batches, records `sent` before any answer can be applied.
        """
        fingerprint = request.fingerprint()

        def open_(core: Any, now: float) -> tuple[tuple[dict, bool], list]:
            existing = core.commands.by_key(actor.user, request.key, fingerprint)
            if existing is not None:
                return (existing.to_dict(full=False), True), []
            plan = self._plan(request, core)
            problem = None if cancels else confirmation_problem(plan)
            if problem:
                raise ConfirmationNeeded(problem, plan.to_dict())
            rec, events = core.commands.open(plan, command_id=new_command_id(now), user=actor.user, now=now, role=actor.role,
                                             actor_kind=actor.kind, ip=actor.ip, cancels=cancels)
            events += self._publish(core, rec.id, self._message(plan, rec.id, actor.user, now), now)
            return (rec.to_dict(full=False), False), events

        return self._run_on_engine(open_)

    def _message(self, plan: Plan, command_id: str, user: str, now: float) -> tuple[str, bytes]:
        r = plan.request
        expires = None
        if self.send_expiry and not plan.params.get("override_s"):
            apply_s = self.engine.core.commands.config.apply_timeout_s.get(r.domain, 120.0)
            expires = datetime.fromtimestamp(now, timezone.utc) + timedelta(seconds=apply_s)
        cmd = Command(domain=r.domain, supervisor=plan.supervisor, ts=datetime.fromtimestamp(now, timezone.utc), command_id=command_id,
                      action=r.action, targets=list(plan.targets), params=dict(plan.params), expires_at=expires, user=user[:120])
        return cmd_channel(r.domain, plan.supervisor), encode(cmd)

    def _publish(self, core: Any, command_id: str, message: tuple[str, bytes], now: float) -> list:
        channel, payload = message
        try:
            receivers = self.publisher.publish(channel, payload)
        except BusUnavailable as err:
            return core.commands.not_sent(command_id, now, f"the bus is unavailable ({err})")
        return core.commands.sent(command_id, now, receivers)

    def cancel(self, command_id: str, actor: Actor, key: str | None = None) -> tuple[dict[str, Any], bool]:
        """Hand an override's targets back to automatic control (a new command, linked to the original)."""
        return self.submit(self.revert_request(command_id, key), actor, cancels=command_id)

    def revert_request(self, command_id: str, key: str | None = None) -> CommandRequest:
        """The command that hands a command's targets back to automatic control; CommandInvalid says why not."""
        def revert(core: Any, now: float) -> tuple[CommandRequest, list]:
            rec = core.commands.revert_of(command_id)
            action, params = rec.revert
            return CommandRequest(rec.domain, action, params, Selection(rec.targets), reason=f"cancels {command_id}",
                                  key=key or f"cancel:{command_id}"), []

        return self._run_on_engine(revert)

    def domain_of(self, command_id: str) -> str | None:
        """The domain of a command (to authorise acting on it), or None when unknown."""
        doc = self.get(command_id, full=False)
        return doc["domain"] if doc else None

    def _run_on_engine(self, fn: Callable[[Any, float], tuple[Any, list]]) -> Any:
        from services.feed.engine import EngineUnavailable

        try:
            return self._engine().execute(fn)
        except EngineUnavailable as err:
            raise CommandsUnavailable(str(err)) from err

    # --- reading ----------------------------------------------------------------------------

    def get(self, command_id: str, *, full: bool = True) -> dict[str, Any] | None:
        """A command: live from the book when the engine runs here, else from the persisted log."""
        if self.engine is not None and self.engine.running:
            with self.engine.lock:
                rec = self.engine.core.commands.get(command_id)
                if rec is not None:
                    return rec.to_dict(full=full)
        doc = self.store.get(command_id)
        return doc if doc is None or full else {k: v for k, v in doc.items() if k != "assets"}

    def list(self, f: CommandFilter, *, offset: int = 0, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """Commands matching a filter, newest first (from the persisted log, complete across workers)."""
        return self.store.query(f, offset=offset, limit=limit)

    def for_asset(self, asset_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """An asset's pending and latest commands (for its popup and detail)."""
        if self.engine is None or not self.engine.running:
            return self.store.query(CommandFilter(target=asset_id), limit=limit)[1]
        with self.engine.lock:
            return [r.to_dict(full=False, cap=10) for r in self.engine.core.commands.for_asset(asset_id, limit)]

def area_names(territory: str) -> dict[str, str]:
    """District and commune ids -> their names (the dialog and large-effect messages speak names)."""
    from services.territory.geo import communes, districts

    try:
        return {a.id: a.name for a in (*districts(territory), *communes(territory))}
    except Exception as err:  # noqa: BLE001 - names are a nicety; ids still work
        log.warning("area names of %r not readable: %s", territory, err)
        return {}
