"""Supervisor health: last message, lag, sequence tracking, live / late / stale / unknown.

A supervisor is judged by when Vigie *received* its last message (the bus reader's clock, which keeps
running while the engine is busy), not by when the engine applied it; messages still waiting in the
engine's queue count as heard. While the bus is down nobody can be heard: every supervisor is
`unknown` (reason `bus_down`), and when the bus returns each gets a grace period to speak before it
is judged again (reason `bus_restored` meanwhile).

Silence and clock drift are properties of the link, counted in wall seconds. Vigie's `now` is the
territory clock (services/contract/clock.py): when the simulated territory runs at `pace` (x60), a
threshold of 15 s is 15 x 60 territory seconds. A supervisor whose own clock (its messages' `ts`) is
further than `drift_after_s` (wall) from Vigie's, ahead or behind, is flagged (`clock_drift`): a real
supervisor with a wrong clock, or a simulator not on the territory's clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping


class Liveness(StrEnum):
    """How fresh a supervisor's feed is."""

    LIVE = "live"
    LATE = "late"
    STALE = "stale"
    UNKNOWN = "unknown"  # Vigie cannot tell: the bus is down, or it just came back and the supervisor has not spoken yet


@dataclass(slots=True)
class SupervisorHealth:
    """What Vigie knows about one supervisor's feed."""

    id: str
    domain: str
    first_seen: float
    last_seen: float  # when Vigie received its last applied message
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
    grace_until: float | None = None  # the bus came back: not judged before this, unless it speaks
    clock_drift: bool = False  # its clock is further than the registry's drift_after_s from Vigie's
    drifts: int = 0  # times it was flagged

    def age(self, now: float) -> float:
        """Seconds since Vigie last heard from the supervisor."""
        return max(0.0, now - self.last_seen)

    def to_dict(self, now: float) -> dict:
        """JSON-ready view."""
        return {
            "id": self.id, "domain": self.domain, "status": str(self.status), "reason": self.reason,
            "last_seen": self.last_seen, "age_s": round(self.age(now), 1), "lag_s": round(self.lag_s, 3),
            "last_ts": self.last_ts, "seq": self.seq, "gaps": self.gaps, "restarts": self.restarts,
            "messages": dict(self.messages), "assets": self.assets, "clock_drift": self.clock_drift, "drifts": self.drifts,
            **({"clock_drift_text": drift_text(self.lag_s)} if self.clock_drift else {}),
        }


def _span(seconds: float, lang: str) -> str:
    s = round(abs(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m:02d} min" if h < 48 else (f"{h // 24} j" if lang == "fr" else f"{h // 24} d")


def drift_text(lag_s: float) -> dict[str, str]:
    """Words for a drifting clock, in French and English (`lag_s`: Vigie's time of hearing minus the supervisor's timestamp)."""
    ahead = lag_s < 0
    return {
        "fr": f"Horloge décalée : {_span(lag_s, 'fr')} {'en avance sur' if ahead else 'en retard sur'} celle de Vigie",
        "en": f"Clock drift: {_span(lag_s, 'en')} {'ahead of' if ahead else 'behind'} Vigie's",
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

    def __init__(self, late_after_s: float, stale_after_s: float, drift_after_s: float = 30.0) -> None:
        self.late_after_s = late_after_s
        self.stale_after_s = stale_after_s
        self.drift_after_s = drift_after_s
        self.pace = 1.0  # territory seconds per wall second (the territory clock's speed)
        self._sups: dict[str, SupervisorHealth] = {}
        self.drift_changed: list[SupervisorHealth] = []  # flagged or cleared since the owner last took them

    def get(self, supervisor: str) -> SupervisorHealth | None:
        """Return one supervisor's health, or None if never seen."""
        return self._sups.get(supervisor)

    def all(self) -> list[SupervisorHealth]:
        """Every supervisor, ordered by domain then id."""
        return sorted(self._sups.values(), key=lambda h: (h.domain, h.id))

    def seen(self, domain: str, supervisor: str, kind: str, seq: int, ts: float, now: float,
             heard_at: float | None = None) -> tuple[SupervisorHealth, SeqVerdict, bool]:
        """Record a message received at `heard_at` (default `now`); return the health, the sequence verdict and whether the status changed."""
        heard = now if heard_at is None else heard_at
        h = self._sups.get(supervisor)
        if h is None:
            h = self._sups[supervisor] = SupervisorHealth(supervisor, domain, first_seen=heard, last_seen=heard)
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
        h.last_seen = heard
        h.last_ts = ts
        h.lag_s = heard - ts
        drifting = abs(h.lag_s) > self.drift_after_s * self.pace
        if drifting is not h.clock_drift:
            h.clock_drift = drifting
            h.drifts += drifting
            self.drift_changed.append(h)
        h.grace_until = None
        h.messages[kind] = h.messages.get(kind, 0) + 1
        changed = h.status is not Liveness.LIVE
        if changed and not h.bus_down:
            h.status, h.reason = Liveness.LIVE, ""
        return h, verdict, changed and not h.bus_down

    def sign_of_life(self, supervisor: str, now: float) -> tuple[SupervisorHealth | None, bool]:
        """A message heard but not applied (two publishers on its id): it is alive; its counter is left alone."""
        h = self._sups.get(supervisor)
        if h is None:
            return None, False
        h.last_seen = now
        changed = h.status is not Liveness.LIVE and not h.bus_down
        if changed:
            h.status, h.reason = Liveness.LIVE, ""
        return h, changed

    def forget(self, supervisor: str) -> SupervisorHealth | None:
        """Drop a supervisor removed from the registry; return what was known of it."""
        return self._sups.pop(supervisor, None)

    def refresh(self, now: float, heard: Mapping[str, float] | None = None, lost_at: float | None = None) -> list[SupervisorHealth]:
        """Recompute every status from message age; return those whose status changed.

        `heard`: supervisor -> when its latest message still waiting to be applied was received (it spoke;
        it is not silent). `lost_at`: the bus was lost then and the loss is not applied yet: nobody is judged
        silent past that instant.
        """
        judged_at = now if lost_at is None else min(now, lost_at)
        changed = []
        for h in self._sups.values():
            queued = heard.get(h.id) if heard else None
            last = h.last_seen if queued is None or queued < h.last_seen else queued
            age = max(0.0, judged_at - last)
            if h.grace_until is not None and (queued is not None or judged_at >= h.grace_until):
                h.grace_until = None  # it spoke, or its time to speak is over: judged from here on
            if h.bus_down:
                status, reason = Liveness.UNKNOWN, "bus_down"
            elif h.grace_until is not None:
                status, reason = Liveness.UNKNOWN, "bus_restored"
            elif age >= self.stale_after_s * self.pace:
                status, reason = Liveness.STALE, "silent"
            elif age >= self.late_after_s * self.pace:
                status, reason = Liveness.LATE, "silent"
            else:
                status, reason = Liveness.LIVE, ""
            if status != h.status or reason != h.reason:
                h.status, h.reason = status, reason
                changed.append(h)
        return changed

    def set_bus_down(self, down: bool, now: float = 0.0, grace_s: float = 0.0) -> None:
        """Mark every feed as cut off because Vigie lost Redis, or back with `grace_s` to speak from `now`."""
        for h in self._sups.values():
            h.bus_down = down
            h.grace_until = None if down or grace_s <= 0 else now + grace_s * self.pace

    def take_drift_changes(self) -> list[SupervisorHealth]:
        """The supervisors flagged or cleared for clock drift since the last call."""
        out, self.drift_changed = self.drift_changed, []
        return out
