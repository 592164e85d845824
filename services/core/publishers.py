"""Two publishers on one supervisor id: told apart from a restart by their sequence counters and snapshots.

One supervisor has one counter (docs/feed-protocol.md, section 3). A restart starts a new counter and the
old one never moves again; a second process publishing under the same id keeps *both* counters moving,
interleaved. The watch follows each counter as a *track* (the last number it reached) and takes as evidence
of a second publisher:

* a message continuing a track other than the previous message's (the two counters alternate);
* a number that repeats the last of a track (two publishers whose counters happen to meet);
* a `state` part of a snapshot that a newer snapshot had already abandoned (two snapshots alternate);
* a boot id (contract v2: a supervisor's process run, new at each start) that a newer boot had replaced.

`evidence` pieces within `window_s` flag the id; it clears after `clear_s` without any evidence.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MAX_TRACKS = 4
MAX_SNAPSHOTS = 4


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """How much evidence flags an id, and how long it must stay quiet to clear."""

    window_s: float = 30.0
    evidence: int = 3
    clear_s: float = 60.0


class PublisherWatch:
    """Follows one supervisor id's counters; says when a second publisher appears and when it is gone."""

    __slots__ = ("tracks", "last_track", "evidence", "snapshots", "boots", "flagged_at", "last_evidence")

    def __init__(self) -> None:
        self.tracks: list[list[float]] = []  # [last seq, last heard]
        self.last_track: list[float] | None = None
        self.evidence: deque[float] = deque()
        self.snapshots: deque[str] = deque(maxlen=MAX_SNAPSHOTS)
        self.boots: deque[str] = deque(maxlen=MAX_SNAPSHOTS)
        self.flagged_at: float | None = None
        self.last_evidence: float | None = None

    @property
    def flagged(self) -> bool:
        """Does this id have two publishers now?"""
        return self.flagged_at is not None

    def note(self, seq: int, snapshot: str | None, now: float, cfg: WatchConfig, boot: str | None = None) -> bool | None:
        """Follow one message; True when the id just got flagged, False when it just cleared, else None."""
        found = self._track(seq, now, cfg)
        if snapshot is not None and _came_back(self.snapshots, snapshot):
            found = True
        if boot is not None and _came_back(self.boots, boot):
            found = True
        if not found and not self.evidence and self.flagged_at is None:
            return None  # the usual case: one counter moving on
        if found:
            self.evidence.append(now)
            self.last_evidence = now
        while self.evidence and self.evidence[0] <= now - cfg.window_s:
            self.evidence.popleft()
        if self.flagged_at is None and len(self.evidence) >= cfg.evidence:
            self.flagged_at = now
            return True
        return self.expire(now, cfg)

    def expire(self, now: float, cfg: WatchConfig) -> bool | None:
        """False when a flagged id has shown no evidence for `clear_s` (one publisher left), else None."""
        if self.flagged_at is not None and now - (self.last_evidence or self.flagged_at) >= cfg.clear_s:
            self.flagged_at = None
            self.evidence.clear()
            self.tracks = [self.last_track] if self.last_track is not None else []
            return False
        return None

    def _track(self, seq: int, now: float, cfg: WatchConfig) -> bool:
        """Put `seq` on its track; return whether that is evidence of a second publisher."""
        if len(self.tracks) == 1 and self.tracks[0][0] < seq:  # the usual case: one counter moving on
            t = self.last_track = self.tracks[0]
            t[0], t[1] = seq, now
            return False
        self.tracks = [t for t in self.tracks if t[1] > now - cfg.window_s]
        best: list[float] | None = None
        for t in self.tracks:
            if t[0] == seq:  # the same number again
                t[1] = now
                self.last_track = t
                return True
            if t[0] < seq and (best is None or (t[0], t[1]) > (best[0], best[1])):  # the closest counter below, the latest on a tie
                best = t
        if best is None:  # below every counter: a restart, or a second publisher starting
            best = [seq, now]
            self.tracks.append(best)
            if len(self.tracks) > MAX_TRACKS:
                self.tracks.sort(key=lambda t: t[1])
                del self.tracks[0]
            self.last_track = best
            return False
        switched = self.last_track is not None and best is not self.last_track and len(self.tracks) > 1
        best[0], best[1] = seq, now
        self.last_track = best
        return switched


def _came_back(recent: deque[str], name: str) -> bool:
    """Note `name` as the latest of `recent`; return whether it had been replaced by another and came back."""
    if recent and recent[-1] == name:
        return False
    back = name in recent
    if back:
        recent.remove(name)
    recent.append(name)
    return back
