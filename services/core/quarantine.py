"""What a quarantined supervisor sent, held in order until an engineer approves (applied) or rejects it (dropped)."""
from __future__ import annotations

from typing import Callable

from services.contract.messages import Ack, Alarm, State, SupervisorMessage, Telemetry

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3, "info": 4}
SAMPLE = 5  # conflicts and alarms shown by name on the engineers' page


def size(msg: SupervisorMessage) -> int:
    """How many items a message holds (assets, readings, alarm events), at least 1."""
    if isinstance(msg, State):
        return 1 + len(msg.assets) + len(msg.readings) + len(msg.alarms)
    if isinstance(msg, Telemetry):
        return 1 + len(msg.readings)
    if isinstance(msg, Alarm):
        return 1 + len(msg.events)
    if isinstance(msg, Ack):
        return 1 + len(msg.applied) + len(msg.failed)
    return 1


class Hold:
    """A quarantined supervisor's messages since its latest snapshot began, within a budget of items."""

    __slots__ = ("messages", "items", "truncated", "snapshot", "parts", "received", "by_kind")

    def __init__(self) -> None:
        self.messages: list[SupervisorMessage] = []
        self.items = 0
        self.truncated = False  # something was not held: an approval asks for a fresh state
        self.snapshot = ""
        self.parts: set[int] = set()
        self.received = 0
        self.by_kind: dict[str, int] = {}

    @property
    def complete(self) -> bool:
        """Is a whole snapshot held (every part of it)?"""
        last = next((m for m in reversed(self.messages) if isinstance(m, State)), None)
        return last is not None and len(self.parts) == last.parts

    def add(self, msg: SupervisorMessage, room: int, max_messages: int) -> int:
        """Hold `msg` if the budget allows (`room` items left overall); return the change in items held."""
        self.received += 1
        self.by_kind[msg.kind] = self.by_kind.get(msg.kind, 0) + 1
        freed = 0
        if isinstance(msg, State) and msg.snapshot != self.snapshot:  # a new full picture supersedes what came before
            freed = self.items
            self.messages, self.items, self.truncated = [], 0, False
            self.snapshot, self.parts = msg.snapshot, set()
        n = size(msg)
        if n > room + freed or len(self.messages) >= max_messages:
            self.truncated = True
            return -freed
        self.messages.append(msg)
        self.items += n
        if isinstance(msg, State):
            self.parts.add(msg.part)
        return n - freed

    def summary(self, owner_of: Callable[[str], str | None], supervisor: str) -> dict:
        """What an engineer needs to decide: assets declared, alarms it would raise, what belongs to someone else."""
        assets: set[str] = set()
        alarms: dict[str, tuple[str, str, str]] = {}  # alarm id -> (asset, severity, message)
        for m in self.messages:
            if isinstance(m, State):
                assets.update(a.id for a in m.assets)
                events = m.alarms
            elif isinstance(m, Alarm):
                events = m.events
            else:
                continue
            for ev in events:
                if ev.action == "raise":
                    alarms[ev.id] = (ev.asset, ev.severity, ev.message or ev.code)
                else:
                    alarms.pop(ev.id, None)
        conflicts = sorted({(a, o) for a in assets if (o := owner_of(a)) not in (None, supervisor)})
        alarm_conflicts = sorted({(a, o) for a, _s, _m in alarms.values() if (o := owner_of(a)) not in (None, supervisor)})
        worst = sorted(alarms.values(), key=lambda x: (SEVERITY_RANK.get(x[1], 9), x[0]))[:SAMPLE]
        return {
            "received": self.received, "held": len(self.messages), "by_kind": dict(self.by_kind), "truncated": self.truncated,
            "complete_state": self.complete, "assets": len(assets), "alarms": len(alarms),
            "foreign_assets": len(conflicts), "foreign_sample": [{"asset": a, "owner": o} for a, o in conflicts[:SAMPLE]],
            "foreign_alarms": len(alarm_conflicts),
            "alarm_sample": [{"asset": a, "severity": s, "message": t, "owner": owner_of(a)} for a, s, t in worst],
        }
