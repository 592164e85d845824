"""The replay sessions of one Vigie: create, find, list, end; one driver thread moves every session's clock.

Sessions share nothing but the journal they read: each has its own core, sandbox, command log and
(when the UI runs here) its own push hub, built by the `hub_factory` the UI layer gives.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any, Callable

import msgspec

from services.core import CoreConfig

from services.journal.store import Journal
from services.replay.session import ReplayError, ReplaySession
from services.replay.debrief import debrief, on_duty_acks
from services.replay.scenario import Scenario, reference_of

log = logging.getLogger(__name__)
PUMP_S = 0.05
HubFactory = Callable[[ReplaySession], Any]  # returns a started hub with `on_events`, `emit` and `stop()`


class ReplayManager:
    """Every session of this process, by id."""

    def __init__(self, journal: Journal, *, config: CoreConfig | None = None, seed: int = 42, territory: str = "montpellier",
                 timezone: str = "Europe/Paris", names: dict[str, str] | None = None, max_sessions: int = 4,
                 hub_factory: HubFactory | None = None) -> None:
        self.journal = journal
        self.config = config or CoreConfig()
        self.seed, self.territory, self.timezone = seed, territory, timezone
        self.names = names or {}
        self.max_sessions = max_sessions
        self.hub_factory = hub_factory
        self.hubs: dict[str, Any] = {}
        self._sessions: dict[str, ReplaySession] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drive, name="vigie-replay", daemon=True)
        self._thread.start()
        threading.Thread(target=self._warm_up, name="vigie-replay-warm", daemon=True).start()

    def create(self, *, name: str, start: float, end: float, trainer: str, speed: float = 1.0,
               scenario: Scenario | None = None, scenario_file: str | None = None) -> ReplaySession:
        """Open a session over a recorded period (clamped to what the journal holds), paused at its start."""
        span = self.journal.span()
        if span is None:
            raise ReplayError("nothing recorded yet: the journal is empty")
        start, end = max(start, span[0]), min(end, span[1])
        if end - start < 1.0:
            raise ReplayError("no recording in that period")
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise ReplayError(f"{self.max_sessions} sessions already run here: end one first")
        session = ReplaySession(self.journal, id=secrets.token_urlsafe(8), name=name, start=start, end=end, trainer=trainer,
                                config=self.config, seed=self.seed, territory=self.territory, timezone=self.timezone,
                                speed=speed, scenario=scenario, scenario_file=scenario_file, names=self.names)
        with self._lock:
            self._sessions[session.id] = session
        self.hub_of(session)
        log.info("replay session %s (%r) opened by %s over %.0f s of recording", session.id, name, trainer, end - start)
        return session

    def hub_of(self, session: ReplaySession) -> Any:
        """The session's push hub, made by `hub_factory` on first need (None: no UI here)."""
        with self._lock:
            hub = self.hubs.get(session.id)
            if hub is not None or self.hub_factory is None or session.id not in self._sessions:
                return hub
            hub = self.hubs[session.id] = self.hub_factory(session)
        session.engine.subscribe(hub.on_events)
        session.commands.emitters.append(hub.emit)
        return hub

    def get(self, session_id: str) -> ReplaySession | None:
        """A session by id, or None."""
        with self._lock:
            return self._sessions.get(session_id)

    def list(self) -> list[dict[str, Any]]:
        """Every session's status, newest first."""
        with self._lock:
            sessions = list(self._sessions.values())
        return sorted((s.status() for s in sessions), key=lambda s: -s["created_at"])

    def close(self, session_id: str) -> bool:
        """End a session; False when there is none by that id."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        hub = self.hubs.pop(session_id, None)
        if hub is not None:
            hub.stop()
        session.close()
        log.info("replay session %s ended", session_id)
        return True

    def debrief(self, session_id: str, reference: dict | None = None) -> dict[str, Any] | None:
        """The exercise's report (None: no such session)."""
        s = self.get(session_id)
        if s is None:
            return None
        if reference is None and s.scenario is not None:
            reference = reference_of(s.scenario)
        on_duty = [r.a | {"at": float(r.a.get("at", r.t))} for r in self.journal.records(s.start, s.end) if r.k == "a" and r.src == "alarms"]
        s.advance_to(s.position)  # takes in what people did since the clock last moved
        with s.engine.lock:
            watched = dict(s.watch.alarms)
        status = s.status()
        session = {k: status[k] for k in ("id", "name", "trainer", "start", "end", "position", "speed", "scenario", "trainees")}
        return debrief(session=session, watched=watched, commands=s.command_log.all(), injections=status["injections"],
                       actions=[plain(a) for a in s.log], reference=reference, on_duty=on_duty_acks(on_duty, watched),
                       now=time.time())

    def stop(self) -> None:
        """End every session and the driver."""
        self._stop.set()
        for sid in [s["id"] for s in self.list()]:
            self.close(sid)
        self._thread.join(2)

    def _warm_up(self) -> None:
        """Decode the latest asset definitions and full image ahead of the first session (its first seek is then quick)."""
        span = self.journal.span()
        snap = self.journal.snapshot_before(span[1]) if span else None
        if snap is not None:
            try:
                self.journal.load_snapshot(snap)
            except Exception as err:  # noqa: BLE001 - an optimisation: the first seek reads it anyway
                log.warning("replay: warming the latest snapshot failed: %s", err)

    def _drive(self) -> None:
        while not self._stop.wait(PUMP_S):
            with self._lock:
                sessions = list(self._sessions.values())
            for s in sessions:
                try:
                    s.pump()
                except Exception:  # noqa: BLE001 - one session's bug never stops the others
                    log.exception("replay session %s: pump failed", s.id)


def plain(entry: dict[str, Any]) -> dict[str, Any]:
    """A log entry, JSON-ready (typed alarm parameters become plain values)."""
    return {k: (msgspec.to_builtins(v) if k == "params" else v) for k, v in entry.items()}
