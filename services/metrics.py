"""Prometheus metrics in Vigie's own registry; the engine counts in plain numbers, exported at scrape time."""
from __future__ import annotations

import time
from bisect import bisect_left
from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROCESSING_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5)
PRIORITIES = ("urgent", "high", "low", "diagnostic")


class LocalHistogram:
    """A histogram kept in plain numbers by its single writer (no lock on the hot path)."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = PROCESSING_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def observe_many(self, total: float, n: int) -> None:
        """Count `n` observations that took `total` together, each at their mean (a batch of messages)."""
        if n > 0:
            self.counts[bisect_left(self.bounds, total / n)] += n
            self.sum += total

    def cumulative(self) -> list[tuple[str, int]]:
        """Prometheus buckets: (upper bound, count of observations <= it), ending with +Inf."""
        out, total = [], 0
        for bound, n in zip((*self.bounds, float("inf")), list(self.counts)):
            total += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), total))
        return out


class Metrics:
    """What Vigie exposes on /metrics.

    The engine thread is the only writer of the plain counters below (`messages`, `rejected`, ...);
    a scrape copies them. Gauges about supervisors, assets and alarms are views the engine
    replaces whole at each tick.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.messages: dict[tuple[str, str, str], int] = {}  # (domain, kind, outcome) -> count
        self.rejected: dict[str, int] = {}
        self.readings: dict[str, int] = {}
        self.state_requests: dict[str, int] = {}
        self.processing = LocalHistogram()
        self.redis_up: bool | None = None  # None: this process does not watch the bus
        self.supervisors: list[dict] = []  # [{id, domain, last_seen, status}]
        self.assets: dict[str, int] = {}
        self.alarms_active: dict[str, int] = {}
        self.feed: Callable[[], dict] | None = None  # the bus queue's counters (FeedQueue.stats), read at scrape time
        self.redis_check: dict | None = None  # what Vigie found in its Redis's configuration (services/feed/redis_check.py)
        self.clock: Callable[[], float] = time.time  # Vigie's time: the territory clock (services/feed/territory_clock.py)
        self.clock_drifts: dict[str, int] = {}  # supervisor -> times its clock was flagged as drifting from Vigie's
        self.api_bad_requests = Counter(
            "vigie_api_bad_requests", "API requests refused for bad parameters", ["endpoint", "reason"], registry=self.registry
        )
        self.engine_requests = Counter(  # services/feed/engine_rpc.py: requests forwarded by web-only workers
            "vigie_engine_requests", "Requests from web-only workers applied by the engine's process", ["op", "outcome"],
            registry=self.registry)
        self.engine_requests_rejected = Counter(
            "vigie_engine_requests_rejected", "Requests from web-only workers refused at the boundary, by reason", ["reason"],
            registry=self.registry)
        self.registry.register(_EngineCollector(self))

    def count_rejection(self, reason: str, domain: str, kind: str) -> None:
        """Count one refused bus message."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        key = (domain, kind, "rejected")
        self.messages[key] = self.messages.get(key, 0) + 1

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


class _EngineCollector:
    """Turns the engine's plain counters into metric families at scrape time."""

    def __init__(self, m: Metrics) -> None:
        self.m = m

    def collect(self) -> Iterator[Metric]:
        m = self.m
        c = CounterMetricFamily("vigie_messages", "Bus messages by domain, kind and outcome", labels=["domain", "kind", "outcome"])
        for (domain, kind, outcome), n in sorted(dict(m.messages).items()):
            c.add_metric([domain, kind, outcome], n)
        yield c
        c = CounterMetricFamily("vigie_messages_rejected", "Bus messages refused, by reason", labels=["reason"])
        for reason, n in sorted(dict(m.rejected).items()):
            c.add_metric([reason], n)
        yield c
        c = CounterMetricFamily("vigie_readings", "Readings applied, by domain", labels=["domain"])
        for domain, n in sorted(dict(m.readings).items()):
            c.add_metric([domain], n)
        yield c
        c = CounterMetricFamily("vigie_state_requests", "State requests sent to supervisors, by reason", labels=["reason"])
        for reason, n in sorted(dict(m.state_requests).items()):
            c.add_metric([reason], n)
        yield c
        h = HistogramMetricFamily("vigie_processing_seconds", "Time to validate and apply one bus message (its batch's mean)")
        h.add_metric([], m.processing.cumulative(), m.processing.sum)
        yield h
        now = m.clock()
        yield GaugeMetricFamily("vigie_territory_speed", "Territory seconds per wall second (1: the wall clock)",
                                value=float(getattr(m.clock, "speed", 1.0)))
        c = CounterMetricFamily("vigie_supervisor_clock_drifts", "Times a supervisor's clock was flagged as drifting from Vigie's",
                                labels=["supervisor"])
        for sid, n in sorted(dict(m.clock_drifts).items()):
            c.add_metric([sid], n)
        yield c
        drift = GaugeMetricFamily("vigie_supervisor_clock_drift", "1 when a supervisor's clock drifts from Vigie's",
                                  labels=["supervisor", "domain"])
        for s in list(m.supervisors):
            drift.add_metric([s["id"], s["domain"]], 1.0 if s.get("clock_drift") else 0.0)
        yield drift
        age = GaugeMetricFamily("vigie_supervisor_age_seconds", "Seconds since a supervisor was last heard", labels=["supervisor", "domain"])
        stale = GaugeMetricFamily("vigie_supervisor_stale", "1 when a supervisor's feed is stale", labels=["supervisor", "domain"])
        for s in list(m.supervisors):
            age.add_metric([s["id"], s["domain"]], max(0.0, now - s["last_seen"]))
            stale.add_metric([s["id"], s["domain"]], 1.0 if s["status"] == "stale" else 0.0)
        yield age
        yield stale
        if m.redis_up is not None:
            yield GaugeMetricFamily("vigie_redis_up", "1 when the engine's Redis link is up", value=1.0 if m.redis_up else 0.0)
        g = GaugeMetricFamily("vigie_assets", "Assets known, by domain", labels=["domain"])
        for domain, n in sorted(dict(m.assets).items()):
            g.add_metric([domain], n)
        yield g
        g = GaugeMetricFamily("vigie_alarms_active", "Active alarms, by priority", labels=["priority"])
        for priority in PRIORITIES:
            g.add_metric([priority], m.alarms_active.get(priority, 0))
        yield g
        if m.feed is not None:
            yield from _feed_families(m.feed())
        if m.redis_check is not None:
            yield from _redis_families(m.redis_check)


def _feed_families(f: dict) -> Iterator[Metric]:
    """The bus reader's queue and subscription (services/feed/bus.py)."""
    yield GaugeMetricFamily("vigie_feed_queue_bytes", "Bytes of bus messages read and waiting for the engine", value=f["bytes"])
    yield GaugeMetricFamily("vigie_feed_queue_peak_bytes", "Most bytes the bus queue has held", value=f["peak_bytes"])
    yield GaugeMetricFamily("vigie_feed_queue_limit_bytes", "The bus queue's bound (VIGIE_FEED_QUEUE_MB)", value=f["max_bytes"])
    yield GaugeMetricFamily("vigie_feed_queue_messages", "Bus messages read and waiting for the engine", value=f["messages"])
    yield CounterMetricFamily("vigie_feed_received", "Bus messages the reader received", value=f["received"])
    c = CounterMetricFamily("vigie_feed_overflow", "Bus messages dropped because the queue was full, by domain", labels=["domain"])
    for domain, n in sorted(f["dropped"].items()):
        c.add_metric([domain], n)
    yield c
    yield CounterMetricFamily("vigie_feed_overflow_bytes", "Bytes of bus messages dropped because the queue was full", value=f["dropped_bytes"])
    yield CounterMetricFamily("vigie_feed_disconnects", "Times the bus subscription was lost (Redis away, the connection cut)",
                              value=f["disconnects"])


def _redis_families(check: dict) -> Iterator[Metric]:
    """What Vigie found in its Redis's configuration (services/feed/redis_check.py); absent what could not be read."""
    settings = check.get("settings", {})
    found = settings.get("client-output-buffer-limit", {}).get("found")
    if isinstance(found, dict):
        yield GaugeMetricFamily("vigie_redis_pubsub_buffer_hard_bytes", "Redis client-output-buffer-limit pubsub hard limit (0: none)",
                                value=found["pubsub_hard_bytes"])
        yield GaugeMetricFamily("vigie_redis_pubsub_buffer_soft_bytes", "Redis client-output-buffer-limit pubsub soft limit (0: none)",
                                value=found["pubsub_soft_bytes"])
        yield GaugeMetricFamily("vigie_redis_pubsub_buffer_soft_seconds", "Redis client-output-buffer-limit pubsub soft seconds",
                                value=found["pubsub_soft_seconds"])
    g = GaugeMetricFamily("vigie_redis_config_ok", "1 when a Redis setting is what Vigie needs, 0 when not (unread settings absent)",
                          labels=["setting"])
    for name, s in sorted(settings.items()):
        if s["status"] != "unknown":
            g.add_metric([name], 1.0 if s["status"] == "ok" else 0.0)
    yield g
