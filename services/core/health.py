"""Supervisor health: last message, lag, sequence tracking, live / late / stale."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Liveness(StrEnum):
    """How fresh a supervisor's feed is."""

    LIVE = "live"
    LATE = "late"
    STALE = "stale"


@dataclass(slots=True)
class SupervisorHealth:
    """What Vigie knows about one supervisor's feed."""

    id: str
    domain: str
    first_seen: float
    last_seen: float
    last_ts: float | None = None  # the supervisor's own clock, from its last message
    lag_s: float = 0.0
    seq: int | None = None
    gaps: int = 0
    restarts: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    assets: int = 0
    status: Liveness = Liveness.LIVE
    reason: str = ""
    bus_down: bool = False

    def age(self, now: float) -> float:
        """Seconds since Vigie last heard from the supervisor."""
        return max(0.0, now - self.last_seen)

    def to_dict(self, now: float) -> dict:
        """JSON-ready view."""
        return {
            "id": self.id, "domain": self.domain, "status": str(self.status), "reason": self.reason,
            "last_seen": self.last_seen, "age_s": round(self.age(now), 1), "lag_s": round(self.lag_s, 3),
            "last_ts": self.last_ts, "seq": self.seq, "gaps": self.gaps, "restarts": self.restarts,
            "messages": dict(self.messages), "assets": self.assets,
        }


class SeqVerdict(StrEnum):
    """What a message's sequence number says about the feed."""

    NEXT = "next"
    FIRST = "first"
    GAP = "gap"
    DUPLICATE = "duplicate"
    RESTART = "restart"


class SupervisorRegistry:
    """Health of every supervisor seen; the Hypervisor is its only writer."""

    def __init__(self, late_after_s: float, stale_after_s: float) -> None:
        self.late_after_s = late_after_s
        self.stale_after_s = stale_after_s
        self._sups: dict[str, SupervisorHealth] = {}

    def get(self, supervisor: str) -> SupervisorHealth | None:
        """Return one supervisor's health, or None if never seen."""
        return self._sups.get(supervisor)

    def all(self) -> list[SupervisorHealth]:
        """Every supervisor, ordered by domain then id."""
        return sorted(self._sups.values(), key=lambda h: (h.domain, h.id))

    def seen(self, domain: str, supervisor: str, kind: str, seq: int, ts: float, now: float) -> tuple[SupervisorHealth, SeqVerdict, bool]:
        """Record a message; return the health, the sequence verdict and whether the status changed."""
        h = self._sups.get(supervisor)
        if h is None:
            h = self._sups[supervisor] = SupervisorHealth(supervisor, domain, first_seen=now, last_seen=now)
            verdict = SeqVerdict.FIRST
        elif h.seq is None:
            verdict = SeqVerdict.FIRST
        elif seq == h.seq + 1:
            verdict = SeqVerdict.NEXT
        elif seq > h.seq + 1:
            verdict = SeqVerdict.GAP
            h.gaps += 1
        elif seq == h.seq:
            verdict = SeqVerdict.DUPLICATE
        else:
            verdict = SeqVerdict.RESTART
            h.restarts += 1
        if verdict is not SeqVerdict.DUPLICATE:
            h.seq = seq
        h.last_seen = now
        h.last_ts = ts
        h.lag_s = now - ts
        h.messages[kind] = h.messages.get(kind, 0) + 1
        changed = h.status is not Liveness.LIVE
        if changed and not h.bus_down:
            h.status, h.reason = Liveness.LIVE, ""
        return h, verdict, changed and not h.bus_down

    def refresh(self, now: float) -> list[SupervisorHealth]:
        """Recompute every status from message age; return those whose status changed."""
        changed = []
        for h in self._sups.values():
            age = h.age(now)
            if h.bus_down:
                status, reason = Liveness.STALE, "bus_down"
            elif age >= self.stale_after_s:
                status, reason = Liveness.STALE, "silent"
            elif age >= self.late_after_s:
                status, reason = Liveness.LATE, "silent"
            else:
                status, reason = Liveness.LIVE, ""
            if status != h.status:
                h.status, h.reason = status, reason
                changed.append(h)
        return changed

    def set_bus_down(self, down: bool) -> None:
        """Mark every feed as cut off (or not) because Vigie lost Redis."""
        for h in self._sups.values():
            h.bus_down = down
