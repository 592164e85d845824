"""Chattering alarms: more than N raises and clears in a window flags the alarm (the book then suppresses it).

N and the window are the engineer's policy, or the alarm type's own rule in the master alarm database.
"""
from __future__ import annotations

from collections import deque


class ChatterDetector:
    """Counts each alarm's toggles on Vigie's clock and says which alarms chatter now."""

    def __init__(self, toggles: int = 3, window_s: float = 60.0, hold_s: float = 600.0) -> None:
        self.toggles = toggles
        self.window_s = window_s
        self.hold_s = hold_s
        self._seen: dict[str, deque[float]] = {}  # alarm id -> toggle times within the window
        self._flagged: dict[str, float] = {}  # alarm id -> last time it chattered
        self._next_prune = float("-inf")

    def configure(self, toggles: int, window_s: float, hold_s: float) -> None:
        """Take new thresholds (an engineer's policy)."""
        self.toggles, self.window_s, self.hold_s = toggles, window_s, hold_s

    def note(self, alarm_id: str, now: float, toggles: int | None = None, window_s: float | None = None) -> bool:
        """Count one raise or clear of `alarm_id` (its own rule when given); return whether it chatters now."""
        times = self._seen.get(alarm_id)
        if times is None:
            times = self._seen[alarm_id] = deque()
        times.append(now)
        window = window_s or self.window_s
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) > (toggles or self.toggles):
            self._flagged[alarm_id] = now
        return alarm_id in self._flagged

    def reset(self, alarm_id: str) -> None:
        """Forget an alarm's toggles and flag (an operator ended its suppression, or it steadied)."""
        self._flagged.pop(alarm_id, None)
        self._seen.pop(alarm_id, None)

    def chattering(self, alarm_id: str) -> bool:
        """Is this alarm flagged as chattering?"""
        return alarm_id in self._flagged

    def expire(self, now: float) -> list[str]:
        """Forget quiet alarms; return the ids whose flag just dropped."""
        dropped = [aid for aid, last in self._flagged.items() if now - last >= self.hold_s]
        for aid in dropped:
            del self._flagged[aid]
        if now >= self._next_prune:  # the toggle counts of quiet alarms, once a window
            self._next_prune = now + self.window_s
            for aid in [aid for aid, t in self._seen.items() if not t or t[-1] <= now - max(self.window_s, 3600.0)]:
                del self._seen[aid]
        return dropped

    @property
    def flagged(self) -> list[str]:
        """Every alarm flagged as chattering now."""
        return list(self._flagged)
