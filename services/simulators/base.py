"""What every simulated supervisor shares: envelope, sequence numbers, chunking, commands, acks, retained state.

A simulator is a world (`SupervisorSim` subclass) that advances in fixed steps of simulated
time, so a given seed and start give the same messages whatever the machine's speed. The
`Runner` (services/simulators/runner.py) drives one against Redis in wall-clock time with a
speed factor; tests can also call `step()` directly and collect the messages.

A simulator speaks contract v2 when its runner keeps its state retained (`retains`): `retained()`
builds a version for Redis, and a `state_request` is answered by the runner (the state written again
if Redis lost it), never with a full `state` on the bus. `state()` is the v1 full state.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, ClassVar, Iterable

from services.contract import (
    Ack,
    Alarm,
    AlarmEvent,
    AssetDef,
    Codec,
    Command,
    Heartbeat,
    Rejection,
    State,
    StateReady,
    StateRequest,
    Telemetry,
    encode,
    sup_channel,
)
from services.contract.messages import READING_TYPES
from services.contract.retained import RetainedVersion

Outgoing = list[tuple[str, bytes]]  # (channel, payload) pairs to publish, in order

TELEMETRY_CHUNK = 500  # readings per telemetry message
STATE_CHUNK = 2000  # assets per state part


@dataclass(slots=True)
class CommandResult:
    """What applying a command did: the assets that took it and those that did not."""

    applied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    reason: str | None = None


class SupervisorSim(ABC):
    """A simulated domain supervisor speaking the feed contract.

    Subclasses build their world in `__init__` and implement `asset_defs`, `advance`,
    `current_readings`, `check_command` and `apply_command`. They report changes with
    `self.changed(reading)` and alarms with `self.raise_alarm(...)` / `self.clear_alarm(...)`.
    """

    domain: ClassVar[str]
    step_s: ClassVar[float] = 10.0  # simulated seconds per step

    def __init__(self, supervisor_id: str, seed: int, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.supervisor_id = supervisor_id
        self.rng = random.Random(seed)
        self.now = start
        self.started = start
        self.seq = 0
        self.silenced = False  # a silent supervisor publishes nothing (fault injection)
        self.retains = False  # contract v2: the runner keeps the state retained in Redis and answers state requests
        self.state_requested = False  # (v2) a state request came: the runner checks the retained state and announces it
        self.dirty = False  # telemetry or alarms went out since the runner last looked
        self._changed: dict[str, object] = {}
        self._alarm_events: list[AlarmEvent] = []
        self._active_alarms: dict[str, AlarmEvent] = {}
        self._pending: list[Command] = []  # accepted, applied at the next step
        self._codec = Codec()
        self._snapshots = 0

    # --- what a subclass provides ---------------------------------------------------------

    @abstractmethod
    def asset_defs(self) -> list[AssetDef]:
        """Every asset of the supervisor, with geometry and relations."""

    @abstractmethod
    def current_readings(self) -> list:
        """The current reading of every asset (for `state`)."""

    @abstractmethod
    def advance(self, now: datetime, dt_s: float) -> None:
        """Move the world forward by dt_s simulated seconds, ending at `now`."""

    @abstractmethod
    def check_command(self, cmd: Command) -> str | None:
        """Return why a command is refused (unknown action, bad parameter, unknown target), or None."""

    @abstractmethod
    def apply_command(self, cmd: Command) -> CommandResult:
        """Apply an accepted command to the world."""

    # --- helpers for subclasses -----------------------------------------------------------

    def changed(self, reading) -> None:
        """Queue a reading for the next telemetry batch (the last one per asset wins)."""
        self._changed[reading.asset] = reading

    def raise_alarm(self, alarm_id: str, asset: str, code: str, severity: str, message: str) -> None:
        """Raise an alarm once (raising an active alarm again does nothing)."""
        if alarm_id in self._active_alarms:
            return
        ev = AlarmEvent(id=alarm_id, asset=asset, action="raise", severity=severity, code=code, message=message, ts=self.now)
        self._active_alarms[alarm_id] = ev
        self._alarm_events.append(ev)

    def clear_alarm(self, alarm_id: str) -> None:
        """Clear an active alarm (clearing an inactive one does nothing)."""
        ev = self._active_alarms.pop(alarm_id, None)
        if ev is not None:
            self._alarm_events.append(
                AlarmEvent(id=alarm_id, asset=ev.asset, action="clear", severity=ev.severity, code=ev.code, message=ev.message, ts=self.now)
            )

    def alarm_active(self, alarm_id: str) -> bool:
        """Is this alarm currently raised?"""
        return alarm_id in self._active_alarms

    # --- the contract ---------------------------------------------------------------------

    def _env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": self.domain, "supervisor": self.supervisor_id, "ts": self.now, "seq": self.seq}

    def _channel(self, kind: str) -> str:
        return sup_channel(self.domain, self.supervisor_id, kind)

    def step(self) -> Outgoing:
        """Advance one step; return the messages (telemetry, alarms, acks) to publish."""
        self.now = self.now + timedelta(seconds=self.step_s)
        out: Outgoing = []
        pending, self._pending = self._pending, []
        for cmd in pending:
            out.extend(self._finish(cmd))
        self.advance(self.now, self.step_s)
        out.extend(self.flush())
        return [] if self.silenced else out

    def step_readings(self) -> list:
        """Advance one step and return the changed readings unencoded, dropping alarms (offline runs: the day backfill)."""
        self.now = self.now + timedelta(seconds=self.step_s)
        self.advance(self.now, self.step_s)
        readings = list(self._changed.values())
        self._changed.clear()
        self._alarm_events.clear()
        return readings

    def flush(self) -> Outgoing:
        """Return queued telemetry and alarm events as messages, and forget them."""
        out: Outgoing = []
        readings = list(self._changed.values())
        self._changed.clear()
        rtype = READING_TYPES[self.domain]
        for i in range(0, len(readings), TELEMETRY_CHUNK):
            msg = Telemetry[rtype](**self._env("telemetry"), readings=readings[i : i + TELEMETRY_CHUNK])
            out.append((self._channel("telemetry"), encode(msg)))
        events, self._alarm_events = self._alarm_events, []
        for i in range(0, len(events), TELEMETRY_CHUNK):
            out.append((self._channel("alarm"), encode(Alarm(**self._env("alarm"), events=events[i : i + TELEMETRY_CHUNK]))))
        self.dirty = self.dirty or bool(out)
        return out

    def _state_parts(self, snapshot: str, envelope: Callable[[], dict]) -> list[State]:
        """The full snapshot in parts of STATE_CHUNK assets (readings with their assets, active alarms in the last)."""
        assets = self.asset_defs()
        readings = {r.asset: r for r in self.current_readings()}
        rtype = READING_TYPES[self.domain]
        chunks = [assets[i : i + STATE_CHUNK] for i in range(0, len(assets), STATE_CHUNK)] or [[]]
        return [
            State[rtype](
                **envelope(), snapshot=snapshot, part=n, parts=len(chunks), assets=chunk,
                readings=[readings[a.id] for a in chunk if a.id in readings],
                alarms=list(self._active_alarms.values()) if n == len(chunks) else [],
            )
            for n, chunk in enumerate(chunks, start=1)
        ]

    def state(self) -> Outgoing:
        """The full snapshot as one or more `state` parts to publish (contract v1)."""
        self._snapshots += 1
        parts = self._state_parts(f"{self.supervisor_id}-{self._snapshots}-{self.seq}", lambda: self._env("state"))
        self._changed.clear()
        return [] if self.silenced else [(self._channel("state"), encode(m)) for m in parts]

    def retained(self, boot: str, version: int, definitions: int, refresh_s: float) -> RetainedVersion:
        """The full snapshot as a retained version (contract v2): parts for Redis and the `state_ready` announcing them.

        The announcement takes the next sequence number; the parts, never published, carry the same one.
        Queued telemetry stays queued: a reader of the bus that does not read this version still gets it.
        """
        envelope = self._env("state")
        snapshot = f"{boot}-{version}"
        parts = self._state_parts(snapshot, lambda: envelope)
        ready = StateReady(v=2, kind="state_ready", domain=self.domain, supervisor=self.supervisor_id, ts=self.now, seq=envelope["seq"],
                           boot=boot, version=version, snapshot=snapshot, parts=len(parts), assets=sum(len(p.assets) for p in parts),
                           definitions=definitions, refresh_s=refresh_s)
        return RetainedVersion(ready, tuple(encode(p) for p in parts))

    def heartbeat(self, uptime_s: float, speed: float = 1.0) -> Outgoing:
        """One heartbeat message; `speed`: the pace of the territory clock this world runs on."""
        if self.silenced:
            return []
        msg = Heartbeat(**self._env("heartbeat"), uptime_s=max(0.0, uptime_s), assets=len(self.asset_defs()), speed=speed)
        return [(self._channel("heartbeat"), encode(msg))]

    def handle_command(self, payload: bytes) -> Outgoing:
        """Answer what arrived on our `cmd.` channel: a state request, or a command (ack now, apply next step)."""
        msg = self._codec.decode_command(payload)
        if isinstance(msg, Rejection):
            return []  # nothing to answer: no command id to answer to
        if msg.domain != self.domain or msg.supervisor != self.supervisor_id:
            return []
        if isinstance(msg, StateRequest):
            if self.retains:  # v2: the runner makes sure the retained state is whole and announces it
                self.state_requested = True
                return []
            return self.state()
        reason = self.check_command(msg)
        if reason is not None:
            return self._ack(msg.command_id, "rejected", reason=reason)
        self._pending.append(msg)
        return self._ack(msg.command_id, "accepted")

    def _finish(self, cmd: Command) -> Outgoing:
        if cmd.expires_at is not None and cmd.expires_at < self.now and cmd.params.get("override_s") is None:
            return self._ack(cmd.command_id, "failed", reason="expired before it could be applied")
        res = self.apply_command(cmd)
        if res.failed and res.applied:
            status = "partial"
        elif res.failed:
            status = "failed"
        else:
            status = "applied"
        return self._ack(cmd.command_id, status, reason=res.reason, applied=res.applied, failed=res.failed)

    def _ack(self, command_id: str, status: str, *, reason: str | None = None, applied: Iterable[str] = (), failed: Iterable[str] = ()) -> Outgoing:
        if self.silenced:
            return []
        msg = Ack(**self._env("ack"), command_id=command_id, status=status, reason=reason, applied=list(applied), failed=list(failed))
        return [(self._channel("ack"), encode(msg))]
