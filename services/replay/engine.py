"""What a replay session offers in place of the live engine: the same seams, over the session's own core.

`SessionEngine` answers what `LocalReader`, `AlarmActions`, `CommandService` and `PushHub` use of an
`Engine` (lock, core, clock, execute, subscribe), so a session reuses them all unchanged and nothing
of it reaches the live engine or Redis. `MemoryCommandStore` keeps a session's command log in memory
(the live log in Redis never sees exercise commands).
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from services.commands.store import CommandFilter, summary
from services.contract.messages import SupervisorMessage
from services.core import Hypervisor
from services.core.events import Event

log = logging.getLogger(__name__)
Listener = Callable[[list[Event]], None]


class SessionEngine:
    """An engine-shaped handle on a session's core: one lock, a session clock, listeners."""

    def __init__(self, core: Hypervisor, clock: Callable[[], float]) -> None:
        self.core = core
        self.clock = clock  # the session's position on the journal's clock
        self.lock = threading.RLock()
        self.running = True
        self.bus_up = True  # a replay has no bus of its own: the replayed supervisors' health says it all
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(events)` after each change; return a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def execute(self, fn: Callable[[Hypervisor, float], tuple[Any, list[Event]]], timeout: float = 5.0) -> Any:
        """Run `fn(core, now)` under the session's lock, at the session's clock; return its value."""
        with self.lock:
            value, events = fn(self.core, self.clock())
        self.deliver(events)
        return value

    def acknowledge(self, alarm_id: str, user: str, timeout: float = 5.0) -> bool:
        """Acknowledge an alarm of the session's copy."""
        return self.execute(lambda core, now: (bool(evs := core.acknowledge(alarm_id, user, now)), evs))

    def deliver(self, events: list[Event]) -> None:
        """Hand events to every listener; a listener's error is logged, never raised."""
        if not events:
            return
        for listener in list(self._listeners):
            try:
                listener(events)
            except Exception:  # noqa: BLE001 - a listener's bug never stops a session
                log.exception("session listener %r failed", listener)

    def stop(self) -> None:
        """The session is over: actions are refused from now on."""
        self.running = False


def handle_unsequenced(core: Hypervisor, msg: SupervisorMessage, now: float) -> list[Event]:
    """Apply a sandbox message without touching the replayed supervisor's sequence numbers.

    The sandbox speaks under the recorded supervisor's id (its assets are that supervisor's) but
    counts its own sequence; checked against the recording's, its messages would read as gaps or
    duplicates. The core has no entry point for that (yet), so the known sequence is set aside
    while the message is applied and put back after.
    """
    h = core.health.get(msg.supervisor)
    saved = h.seq if h is not None else None
    if h is not None:
        h.seq = None
    try:
        return core.handle(msg, now)
    finally:
        h = core.health.get(msg.supervisor)
        if h is not None:
            h.seq = saved


class MemoryCommandStore:
    """The command log of one session (CommandStore's interface, in memory, newest version wins)."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def save(self, docs: Iterable[dict[str, Any]]) -> int:
        """Keep records (an older version never replaces a newer one); return how many were written."""
        written = 0
        with self._lock:
            for d in docs:
                old = self._docs.get(d["id"])
                if old is None or old.get("rev", 0) <= d.get("rev", 0):
                    self._docs[d["id"]] = d
                    written += 1
        return written

    def get(self, command_id: str) -> dict[str, Any] | None:
        """A full record, or None."""
        with self._lock:
            return self._docs.get(command_id)

    def recent(self, since: float) -> list[dict[str, Any]]:
        """Records requested since `since`, oldest first."""
        with self._lock:
            return sorted((d for d in self._docs.values() if d["requested_at"] >= since), key=lambda d: d["requested_at"])

    def query(self, f: CommandFilter, *, offset: int = 0, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """(matching count, one page of summaries), newest first."""
        with self._lock:
            docs = sorted(self._docs.values(), key=lambda d: -d["requested_at"])
        found = [s for d in docs if (f.since is None or d["requested_at"] >= f.since)
                 and (f.until is None or d["requested_at"] <= f.until) and f.keeps(s := summary(d))]
        return len(found), found[offset:offset + limit]

    def trim(self, now: float) -> int:
        """Nothing to trim: a session's log lives as long as the session."""
        return 0

    def all(self) -> list[dict[str, Any]]:
        """Every record, oldest first (the debrief)."""
        return self.recent(float("-inf"))
