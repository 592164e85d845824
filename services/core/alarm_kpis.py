"""The alarm system's own health (EEMUA 191 / ISA-18.2 KPIs), on Vigie's clock.

Counted: alarms *annunciated* to the operator (a raise that reached `active_unack`; suppressed,
shelved and out-of-service raises are not presented, which is the point of flood control), and
acknowledgements with their delay. Rates are per operator position (AlarmPolicy.operators).
"""
from __future__ import annotations

import heapq
from collections import deque
from typing import Iterable

from .alarm_record import AlarmPolicy, AlarmRecord, JournalEntry

TEN_MIN = 600.0
HOUR = 3600.0
# EEMUA 191 benchmarks: average alarm rate per operator ("very likely to be acceptable" / "manageable").
TARGET_PER_10MIN = (1.0, 2.0)
TARGET_PER_HOUR = (6.0, 12.0)
TARGET_FLOOD_SHARE_PCT = (1.0, 5.0)  # ISA-18.2: under ~1 % of 10-minute periods in flood
TARGET_DISTRIBUTION_PCT = {"low": 80.0, "high": 15.0, "urgent": 5.0}  # diagnostic alarms are not annunciated
MAX_EVENTS = 500_000  # annunciations kept, whatever the window


STANDING_EVERY_S = 60.0
TARGET_STANDING = (10.0, 20.0)  # EEMUA 191: fewer than 10 standing alarms


def _grade(value: float | None, targets: tuple[float, float]) -> str:
    if value is None:
        return "ok"
    return "ok" if value <= targets[0] else ("warning" if value <= targets[1] else "bad")


class AlarmStats:
    """Annunciations and acknowledgements over the KPI window, kept incrementally."""

    def __init__(self, policy: AlarmPolicy | None = None, started: float | None = None) -> None:
        self.policy = policy or AlarmPolicy()
        self.started = started
        self._events: deque[tuple[float, str, str]] = deque(maxlen=MAX_EVENTS)  # (at, alarm id, priority)
        self._last10: deque[float] = deque()
        self._last60: deque[float] = deque()
        self._buckets: dict[int, int] = {}  # 10-minute period -> annunciations
        self._per_alarm: dict[str, int] = {}
        self._meta: dict[str, tuple[str, str, str, str]] = {}  # alarm id -> (domain, code, asset, message)
        self._by_priority: dict[str, int] = {}
        self._acks: deque[tuple[float, float]] = deque(maxlen=MAX_EVENTS)  # (at, delay s)
        self._ack_sum = 0.0
        self._last_seen: dict[str, float] = {}  # alarm id -> last annunciation (to rebuild delays from a journal)
        self._standing: deque[tuple[float, int]] = deque()  # (at, operator alarms standing) sampled every STANDING_EVERY_S
        self._maintenance: deque[float] = deque()  # maintenance conditions opened (handed to work orders)

    # --- feeding ---------------------------------------------------------------------------

    def annunciated(self, alarm: AlarmRecord, now: float) -> None:
        """Count an alarm presented to the operator now."""
        self._add(alarm.id, str(alarm.priority), now)
        self._meta[alarm.id] = (alarm.domain, alarm.code, alarm.asset, alarm.message)

    def standing_due(self, now: float) -> bool:
        """Is a standing-alarm sample due?"""
        return not self._standing or now - self._standing[-1][0] >= STANDING_EVERY_S

    def standing(self, n: int, now: float) -> None:
        """Sample the operator alarms standing now (active, shown): EEMUA's standing-alarm figure."""
        if not self._standing or now - self._standing[-1][0] >= STANDING_EVERY_S:
            self._standing.append((now, n))

    def maintenance_opened(self, now: float) -> None:
        """Count a maintenance condition opened (not annunciated: a work order's)."""
        self._maintenance.append(now)

    def acknowledged(self, alarm_id: str, delay_s: float, now: float) -> None:
        """Count an acknowledgement that came `delay_s` after the annunciation."""
        delay = max(0.0, delay_s)
        self._acks.append((now, delay))
        self._ack_sum += delay

    def replay(self, entries: Iterable[JournalEntry], meta: dict[str, tuple[str, str, str, str]] | None = None) -> None:
        """Rebuild from journal entries, oldest first (after a restart)."""
        for e in entries:
            if e.action == "raise" and e.after == "active_unack":
                self._add(e.alarm, e.priority, e.at)
                self._last_seen[e.alarm] = e.at
            elif e.action == "acknowledge" and e.alarm in self._last_seen:
                self.acknowledged(e.alarm, e.at - self._last_seen[e.alarm], e.at)
        self._meta.update(meta or {})
        if self._events and (self.started is None or self._events[0][0] < self.started):
            self.started = self._events[0][0]

    def _add(self, alarm_id: str, priority: str, at: float) -> None:
        if self.started is None:  # rates and flood share are over the time observed, at most the window
            self.started = at
        if len(self._events) == self._events.maxlen:
            self._forget(*self._events[0])
        self._events.append((at, alarm_id, priority))
        self._last10.append(at)
        self._last60.append(at)
        b = int(at // TEN_MIN)
        self._buckets[b] = self._buckets.get(b, 0) + 1
        self._per_alarm[alarm_id] = self._per_alarm.get(alarm_id, 0) + 1
        self._by_priority[priority] = self._by_priority.get(priority, 0) + 1

    def _forget(self, at: float, alarm_id: str, priority: str) -> None:
        n = self._per_alarm.get(alarm_id, 0) - 1
        if n > 0:
            self._per_alarm[alarm_id] = n
        else:
            self._per_alarm.pop(alarm_id, None)
            self._meta.pop(alarm_id, None)
            self._last_seen.pop(alarm_id, None)
        self._by_priority[priority] -= 1

    def trim(self, now: float) -> None:
        """Drop what left the windows."""
        window = self.policy.kpi_window_s
        while self._events and self._events[0][0] <= now - window:
            self._forget(*self._events.popleft())
        for q, span in ((self._last10, TEN_MIN), (self._last60, HOUR)):
            while q and q[0] <= now - span:
                q.popleft()
        oldest = int((now - window) // TEN_MIN)
        for b in [b for b in self._buckets if b < oldest]:
            del self._buckets[b]
        while self._acks and self._acks[0][0] <= now - window:
            self._ack_sum -= self._acks.popleft()[1]
        while self._standing and self._standing[0][0] <= now - window:
            self._standing.popleft()
        while self._maintenance and self._maintenance[0] <= now - window:
            self._maintenance.popleft()

    # --- reading ---------------------------------------------------------------------------

    def tiles(self, now: float, chattering: int, stale: int) -> dict:
        """The live numbers (cheap: for the summary strip and the tiles)."""
        self.trim(now)
        p = self.policy
        ops = max(1, p.operators)
        per10 = round(len(self._last10) / ops, 2)
        per_hour = round(len(self._last60) / ops, 2)
        flood_at = p.flood_per_10min * ops
        span = max(TEN_MIN, min(p.kpi_window_s, now - (self.started if self.started is not None else now)))
        periods = max(1, int(-(-span // TEN_MIN)))
        flooded = sum(1 for n in self._buckets.values() if n >= flood_at)
        flood_share = round(100.0 * min(flooded, periods) / periods, 1)
        mtta = round(self._ack_sum / len(self._acks), 1) if self._acks else None
        return {
            "per_10min": per10, "per_10min_status": _grade(per10, TARGET_PER_10MIN),
            "per_hour": per_hour, "per_hour_status": _grade(per_hour, TARGET_PER_HOUR),
            "in_flood": len(self._last10) >= flood_at,
            "flood_share_pct": flood_share, "flood_share_status": _grade(flood_share, TARGET_FLOOD_SHARE_PCT),
            "chattering": chattering, "stale": stale, "mtta_s": mtta, "acks": len(self._acks),
            "annunciated": len(self._events), "operators": ops,
            **self._standing_figures(), "maintenance_opened": len(self._maintenance),
        }

    def _standing_figures(self) -> dict:
        ns = [n for _t, n in self._standing]
        now_n = ns[-1] if ns else 0
        return {"standing": now_n, "standing_max": max(ns, default=0),
                "standing_mean": round(sum(ns) / len(ns), 1) if ns else 0.0,
                "standing_status": _grade(float(max(ns, default=0)), TARGET_STANDING)}

    def report(self, now: float, chattering_ids: Iterable[str], stale: int) -> dict:
        """Everything on the KPI page: tiles, priority distribution, bad actors, the targets."""
        chatter = set(chattering_ids)
        out = self.tiles(now, len(chatter), stale)
        counted = {k: self._by_priority.get(k, 0) for k in TARGET_DISTRIBUTION_PCT}
        total = sum(counted.values())
        out["distribution"] = [
            {"priority": k, "count": counted[k], "pct": round(100.0 * counted[k] / total, 1) if total else 0.0, "target_pct": target}
            for k, target in TARGET_DISTRIBUTION_PCT.items()
        ]
        out["diagnostic"] = self._by_priority.get("diagnostic", 0)
        top = heapq.nlargest(10, self._per_alarm.items(), key=lambda kv: (kv[1], kv[0]))
        out["bad_actors"] = [
            {"alarm": aid, "count": n, "domain": m[0], "code": m[1], "asset": m[2], "message": m[3], "chattering": aid in chatter}
            for aid, n in top for m in (self._meta.get(aid, ("", "", "", "")),)
        ]
        out["targets"] = {"per_10min": TARGET_PER_10MIN, "per_hour": TARGET_PER_HOUR, "flood_share_pct": TARGET_FLOOD_SHARE_PCT,
                          "flood_per_10min": self.policy.flood_per_10min, "stale_after_s": self.policy.stale_after_s}
        out["window_s"] = self.policy.kpi_window_s
        out["series"] = self.series(now)
        out["per_10min_max"] = max((n for _b, n in out["series"]), default=0.0)
        return out

    def series(self, now: float) -> list[list[float]]:
        """Annunciations per 10-minute period over the window, per operator: [[period start, rate], ...]."""
        ops = max(1, self.policy.operators)
        first = int((now - self.policy.kpi_window_s) // TEN_MIN) + 1
        last = int(now // TEN_MIN)
        if self.started is not None:
            first = max(first, int(self.started // TEN_MIN))
        return [[b * TEN_MIN, round(self._buckets.get(b, 0) / ops, 2)] for b in range(first, last + 1)]
