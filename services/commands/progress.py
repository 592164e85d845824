"""Command progress: each change of a command is persisted in Redis, its outcome audited, its progress pushed.

One writer thread: the engine's listener only notes which commands moved (`on_events`, on the
engine thread); the writer copies them under the engine's lock after a short coalescing window
(an ack and its telemetry arrive together), then writes, audits and emits. Redis being away
delays the writes (capped back-off), never the engine.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from services.audit import AuditLog, Outcome
from services.commands.store import CommandStore
from services.core.events import CommandsChanged
from services.redis_conn import BusUnavailable

log = logging.getLogger(__name__)
Emit = Callable[[str, dict], None]
PUSH_EVENT = "push"  # services.web.push.EVENT: one Socket.IO event, {"v": 1, "deltas": [...]}; ours is the "commands" channel
OPEN = ("requested", "sent", "accepted")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sends a command, as the audit trail names them."""

    user: str
    role: str = ""
    kind: str = "user"
    ip: str = ""


def audit_entry(audit: AuditLog | None, actor: Actor, action: str, outcome: str, domain: str, target: str, detail: str) -> None:
    """Append to the audit trail; an unreachable trail is logged, never raised."""
    if audit is None:
        return
    try:
        audit.record(actor=actor.user, actor_kind=actor.kind, role=actor.role, ip=actor.ip, action=action,
                     domain=domain, target=target, outcome=outcome, detail=detail)
    except BusUnavailable as err:
        log.warning("audit log unreachable; %s of %s not recorded: %s", action, target, err)


class CommandProgress:
    """Persists, audits and pushes what the core's command book changed."""

    def __init__(self, engine: Any, store: CommandStore, audit: AuditLog | None, *, clock: Callable[[], float] = time.time,
                 window_s: float = 0.05) -> None:
        self.engine = engine
        self.store = store
        self.audit = audit
        self.clock = clock
        self.window_s = window_s
        self.emitters: list[Emit] = []
        self._dirty: set[str] = set()
        self._audited: dict[str, str] = {}  # command id -> "status/override" last written to the audit trail
        self._drift_audited: dict[str, float] = {}  # command id -> the drift (its start) already in the audit trail
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seed(self, docs: Iterable[dict[str, Any]]) -> None:
        """Remember the outcomes already audited before a restart (they are not audited twice)."""
        for d in docs:
            ov = (d.get("override") or {}).get("state", "")
            self._audited[d["id"]] = "" if d["status"] in OPEN else f"{d['status']}/{ov}"
            if (d.get("actual") or {}).get("drift_at"):
                self._drift_audited[d["id"]] = d["actual"]["drift_at"]

    def start(self) -> "CommandProgress":
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="vigie-commands", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the writer (what is pending is written first)."""
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(5)

    def on_events(self, events: list[Any]) -> None:
        """Note the commands that moved (called on the engine thread: keep it cheap)."""
        ids = [cid for ev in events if type(ev) is CommandsChanged for cid in ev.command_ids]
        if ids:
            with self._cond:
                self._dirty.update(ids)
                self._cond.notify()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set() or self._dirty:
            with self._cond:
                if not self._dirty and not self._stop.is_set():
                    self._cond.wait(1.0)
                ids, self._dirty = self._dirty, set()
            if not ids:
                continue
            self._stop.wait(self.window_s)  # coalesce a burst (an ack and its telemetry arrive together)
            with self._cond:
                ids |= self._dirty
                self._dirty = set()
            try:
                self._flush(ids)
                backoff = 0.1
            except BusUnavailable as err:
                if self._stop.is_set():
                    log.warning("command log: %s; %d command(s) not written at shutdown", err, len(ids))
                    return
                log.warning("command log: %s; retrying in %.1f s", err, backoff)
                with self._cond:
                    self._dirty |= ids
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # noqa: BLE001 - the writer never dies; a bug is logged
                log.exception("command writer failed")

    def _flush(self, ids: set[str]) -> None:
        engine = self.engine
        with engine.lock:
            docs = [r.to_dict() for cid in ids if (r := engine.core.commands.get(cid)) is not None]
        if not docs:
            return
        self.store.save(docs)  # first: a console refreshing on the push reads the log from Redis
        self._emit([{k: v for k, v in d.items() if k != "assets"} | _capped(d) for d in docs])
        for d in docs:
            self._audit_outcome(d)

    def _emit(self, summaries: list[dict[str, Any]]) -> None:
        payload = {"v": 1, "deltas": [{"v": 1, "ch": "commands", "t": round(self.clock(), 3), "commands": summaries}]}
        for emit in list(self.emitters):
            try:
                emit(PUSH_EVENT, payload)
            except Exception:  # noqa: BLE001 - a transport failure never stops the writer
                log.exception("pushing command progress failed")

    def _audit_drift(self, d: dict[str, Any]) -> None:
        """A drift (a target left the commanded state) goes to the audit trail once, with what the telemetry shows."""
        actual = d.get("actual") or {}
        since = actual.get("drift_at")
        if not since or self._drift_audited.get(d["id"]) == since:
            return
        self._drift_audited[d["id"]] = since
        shown = ", ".join(f"{k}: {v!r}" for k, v in list((actual.get("drifted_values") or {}).items())[:5])
        expect = actual.get("expect") or {}
        actor = Actor("vigie", kind="system")
        audit_entry(self.audit, actor, "command.drift", Outcome.FAILED, d["domain"], d["id"],
                    f"drift observed on {actual.get('drifted', 0)} target(s), commanded {expect.get('field')} = {expect.get('value')!r}: {shown}")

    def _audit_outcome(self, d: dict[str, Any]) -> None:
        self._audit_drift(d)
        status, ov = d["status"], (d.get("override") or {}).get("state", "")
        mark = f"{status}/{ov}"
        if status in OPEN or self._audited.get(d["id"]) == mark:
            return
        previous = self._audited.get(d["id"], "")
        self._audited[d["id"]] = mark
        actor = Actor(d["user"], d.get("role", ""), d.get("actor_kind", "user"), d.get("ip", ""))
        if previous.split("/")[0] != status:
            fb = d["feedback"]
            detail = f"{status}: {fb['applied']} applied, {fb['failed']} failed, {fb['missing']} did not answer"
            detail += f"; {d['message']}" if d["message"] else ""
            outcome = Outcome.OK if status == "applied" else Outcome.EXPIRED if status == "timed_out" else Outcome.FAILED
            audit_entry(self.audit, actor, "command.result", outcome, d["domain"], d["id"], detail)
        if ov in ("ended", "cancelled") and not previous.endswith(ov):
            audit_entry(self.audit, actor, "command.override", Outcome.OK, d["domain"], d["id"], f"override {ov}: back to automatic control")


def _capped(d: dict[str, Any], cap: int = 50) -> dict[str, Any]:
    """The id lists of a pushed record, capped (a console asks for the full record when it shows one)."""
    fb, actual = d["feedback"], d["actual"]
    return {"targets": d["targets"][:cap],
            "feedback": {k: (v[:cap] if isinstance(v, list) else v) for k, v in fb.items()},
            "actual": {k: (v[:cap] if isinstance(v, list) else v) for k, v in actual.items()}}
