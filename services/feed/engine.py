"""The engine: one thread owns the Hypervisor and applies bus messages, ticks and requests in order.

Bus messages reach it through a FeedQueue that a reader thread of its own fills (services/feed/bus.py):
however long the engine takes over a large state or a slow request, the subscription is read on time.
"""
from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Callable, TypeVar

from services.feed.bus import ERRORS, BusChange, FeedQueue, FeedReader, Message, Taken, bounded_client, where
from services.feed.redis_check import check_redis, log_verdict
from services.contract import Codec, Rejection, State
from services.contract.channels import ADAPTED_KINDS
from services.core import CoreConfig, Hypervisor
from services.core.events import (
    AlarmsChanged, AssetsChanged, AssetsRemoved, Event, Refused, RegistryChanged, StateAnnounced, StateApplied, StateNeeded,
    SupervisorChanged,
)
from services.core.views import CoreViews
from services.metrics import Metrics
from services.settings import Settings
from services.feed.retained import RetainedStateReader
from services.feed.snapshots import SnapshotBuilder, SnapshotStore
from services.feed.territory_clock import link_clock
from services.threads import LoopThread

log = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[list[Event]], None]
Request = Callable[[Hypervisor, float], tuple[T, list[Event]]]

TICK_S = 1.0
MIN_TICK_WALL_S = 0.05  # on an accelerated territory clock, ticks (expiry, shelving, silence) at most this often in wall time
POLL_S = 0.02  # longest wait for bus data before serving requests again
BATCH = 2000  # messages applied between two looks at the request queue
OVERFLOW_LOG_S = 10.0  # at most one warning this often while the bus queue overflows
FREEZE_GC_FROM = 10_000  # assets: freeze the heap after loading at least this many (and 25% more each time)
KNOWN_DOMAINS = {b"lighting", b"water", b"traffic"}
KNOWN_KINDS = {b"telemetry", b"alarm", b"state", b"heartbeat", b"ack", b"state_ready"}
# kinds an adapter (the NGSI relay) maps into contract messages: not for the engine to decode
ADAPTED_SUFFIXES = tuple(f".{k}".encode() for k in ADAPTED_KINDS)


class EngineUnavailable(RuntimeError):
    """The engine is not running or did not answer in time."""


class RejectionLog:
    """Logs refused messages, at most `burst` lines per `window_s`, then how many went unlogged."""

    def __init__(self, burst: int = 20, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._start = clock()
        self._logged = 0
        self._suppressed: dict[str, int] = {}

    def __call__(self, channel: bytes | str, payload: bytes | str, rejection: Rejection) -> None:
        """Log one rejection with its channel and the start of its payload, unless the budget is spent."""
        self.flush()
        if self._logged < self.burst:
            self._logged += 1
            ch = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else channel
            log.warning("rejected message on %r: %s (%s); payload starts %r", ch[:120], rejection.reason, rejection.detail[:200], payload[:120])
        else:
            self._suppressed[rejection.reason] = self._suppressed.get(rejection.reason, 0) + 1

    def flush(self) -> None:
        """Start a new window when the current one is over, saying what was not logged."""
        now = self.clock()
        if now - self._start < self.window_s:
            return
        if self._suppressed:
            detail = ", ".join(f"{r}={n}" for r, n in sorted(self._suppressed.items()))
            log.warning("%d more rejected messages not logged in the last %.0f s (%s)", sum(self._suppressed.values()), now - self._start, detail)
        self._start, self._logged, self._suppressed = now, 0, {}


def core_config(settings: Settings) -> CoreConfig:
    """The core's settings from Vigie's."""
    tz = "Europe/Paris"
    try:
        from services.territory.geo import load_territory

        tz = load_territory(settings.territory).timezone
    except Exception as err:  # noqa: BLE001 - a missing territory file must not stop the engine
        log.warning("territory %r not readable (%s); using %s", settings.territory, err, tz)
    return CoreConfig(late_after_s=settings.late_after_s, stale_after_s=settings.stale_after_s, bus_grace_s=settings.bus_grace_s,
                      timezone=tz, kpi_window_s=settings.kpi_history_s, language=settings.language)


class Engine:
    """Owns the Hypervisor on one thread; other threads send it requests and read the `views` it publishes.

    `lock` is held while the core changes (a few owners still read the core itself under it); pages and the API
    read `views.current`, an immutable CoreView published after each turn, and never wait for the engine.
    """

    def __init__(self, settings: Settings, redis_url: str, core: Hypervisor | None = None, *,
                 metrics: Metrics | None = None, freeze_gc: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.core = core or Hypervisor(core_config(settings))
        self.metrics = metrics or Metrics()
        self.lock = threading.RLock()  # held while the core changes; readers take it to copy
        self.clock = clock
        self.freeze_gc = freeze_gc
        self._codec = Codec(settings.max_payload_bytes)
        self._queue = FeedQueue(settings.feed_queue_bytes, settings.max_payload_bytes)
        self._reader = FeedReader(redis_url, self._queue, name="vigie-feed", clock=clock, on_subscribed=self._check_redis)
        self._bus = self._reader.subscriber
        self.redis_check: dict | None = None  # what the last check of Redis's configuration found (redis_check.py)
        self.metrics.feed = self.feed_stats
        self._overflow_said = -OVERFLOW_LOG_S
        self._store = SnapshotStore(redis_url)
        self._snapshots = SnapshotBuilder(self.core)
        self._requests: queue.SimpleQueue[tuple[Request, Future]] = queue.SimpleQueue()
        self._answers: list[tuple[Future, object, BaseException | None]] = []  # this turn's, given once its view is out
        self.views = CoreViews(self.core, clock())  # what pages and the API read, without the lock
        self._listeners: list[Listener] = []
        self._rejections = RejectionLog()
        # full states, off this thread; paced on the wall clock (the link), their times handed over on Vigie's
        link, to_vigie = link_clock(clock)
        self.retained = RetainedStateReader(redis_url, lambda part, since: self._apply_retained(part, to_vigie(since)),
                                            metrics=self.metrics, clock=link, max_payload_bytes=settings.max_payload_bytes)
        self._frozen_at = 0
        # the territory clock (services/feed/territory_clock.py): its pace scales what is counted in wall seconds
        self.core.health.drift_after_s = settings.clock_drift_s
        self._commands_config = self.core.commands.config  # the timeouts as configured, for a pace of 1
        self.pace = 1.0
        self._loop = LoopThread(self._run, "vigie-engine")
        self._stop = self._loop.stopping

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Engine":
        """Start the snapshot writer, the engine thread and its bus reader (Redis may still be down: it retries)."""
        self._store.start()
        self.retained.start()
        self._loop.start()
        self._reader.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the engine thread, write the last snapshot, drop the Redis connections."""
        self.retained.stop(timeout)
        self._reader.stop(timeout)
        self._loop.stop(timeout)
        self._store.stop(timeout)

    @property
    def running(self) -> bool:
        """Is the engine thread alive?"""
        return self._loop.alive

    @property
    def bus_up(self) -> bool:
        """Is the feed subscription connected (now: the reader's view, ahead of what the engine has applied)?"""
        return self._reader.connected

    @property
    def feed_reader(self) -> FeedReader:
        """The thread reading the bus for this engine (its counters; hold/release for benchmarks)."""
        return self._reader

    def feed_stats(self) -> dict:
        """The bus reader's counters: its queue (bytes, overflow, oversized) and its subscription (disconnects)."""
        sub = self._reader.subscriber
        return {**self._queue.stats(), "disconnects": sub.losses, "reconnects": sub.reconnects, "connected": sub.connected}

    def _check_redis(self) -> None:
        """On the reader thread, after each subscription: read Redis's configuration, log what differs from what Vigie needs."""
        try:
            client = bounded_client(self.redis_url)
            try:
                verdict = check_redis(client, self.settings.max_payload_bytes)
            finally:
                client.close()
        except ERRORS as err:
            log.info("Redis configuration not checked this time: %s", err)
            return
        if verdict != self.redis_check:
            log_verdict(verdict, where(self.redis_url))
        self.redis_check = self.metrics.redis_check = verdict

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(events)` on the engine thread after each batch; return a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- requests from other threads -------------------------------------------------------

    def execute(self, fn: Request, timeout: float = 5.0) -> T:
        """Run `fn(core, now) -> (value, events)` on the engine thread, between two batches; return the value."""
        if not self.running:
            raise EngineUnavailable("the engine is not running")
        fut: Future = Future()
        self._requests.put((fn, fut))
        self.wake()
        try:
            return fut.result(timeout)
        except FutureTimeout as err:
            raise EngineUnavailable(f"the engine did not answer within {timeout:.0f} s") from err

    def acknowledge(self, alarm_id: str, user: str, timeout: float = 5.0) -> bool:
        """Acknowledge an alarm for `user`; return whether anything changed."""
        def ack(core: Hypervisor, now: float) -> tuple[bool, list[Event]]:
            events = core.acknowledge(alarm_id, user, now)
            return bool(events), events

        return self.execute(ack, timeout)

    def ingest(self, batch: list[Message], now: float | None = None) -> list[Event]:
        """Apply (channel, payload) pairs on the caller's thread, as the loop would (tests, replays, benchmarks)."""
        if self.running:
            raise RuntimeError("the engine thread owns the core: publish on the bus instead")
        now = self.clock() if now is None else now
        events: list[Event] = []
        with self.lock:
            self._follow_pace()
            self._apply(batch, now, events)
            self._clock_drift(events)
            events.extend(self.core.tick(now))
            self._after_tick(now)
        self._publish(events, now)
        self._react(events, now)
        self._deliver(events)
        return events

    def wake(self) -> None:
        """A request is waiting: end the engine thread's wait for bus data now (it serves requests each turn)."""
        self._queue.wake()

    # --- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        next_tick = next_snapshot = 0.0
        interval = self.settings.snapshot_interval_s
        while not self._stop.is_set():
            try:
                taken = self._queue.take(BATCH, 0.0 if not self._requests.empty() else POLL_S)
                now = self.clock()
                events: list[Event] = []
                with self.lock:
                    self._follow_pace()
                    if taken:
                        self._take(taken, now, events)
                        self._clock_drift(events)
                    while not self._requests.empty():
                        self._serve(self._requests.get_nowait(), now, events)
                    if now >= next_tick:  # TICK_S territory seconds, but not more often than MIN_TICK_WALL_S (x600: 30 s)
                        next_tick = now + TICK_S * max(1.0, self.pace * MIN_TICK_WALL_S)
                        heard, lost_at = self._queue.heard()
                        events.extend(self.core.tick(now, heard, lost_at))
                        self._after_tick(now)
                self._publish(events, now)
                if events:
                    self._react(events, now)
                    self._deliver(events)
                if interval > 0 and now >= next_snapshot and self._bus.connected:  # while Redis is away, nothing to write to
                    next_snapshot = now + interval * self.pace  # wall seconds, on the territory clock
                    self._store.submit(self._snapshots.build(now, self.lock, full=self._store.needs_full, bus_up=self.bus_up))
            except Exception:  # noqa: BLE001 - the engine loop never dies; a bug is logged and the loop goes on
                log.exception("engine loop error")
                time.sleep(0.1)

    def _take(self, taken: Taken, now: float, events: list[Event]) -> None:
        """Apply what the reader queued: refusals by size, overflow, messages with their receive time, then a bus change."""
        for oversized in taken.oversized:  # never decoded: counted and logged from their first bytes
            self._reject(oversized.channel, oversized.head,
                         Rejection("too_large", f"{oversized.size} bytes > {self.settings.max_payload_bytes}"))
        if taken.overflowed:
            self._say_overflow(taken.overflowed)
        for (domain, supervisor) in taken.overflowed:
            events.extend(self.core.overflowed(domain, supervisor))
        for received_at, batch in taken.chunks:
            self._apply(batch, now, events, received_at)
        if taken.change is not None:
            (self._on_connected if taken.change.up else self._on_lost)(taken.change, now, events)

    def _say_overflow(self, overflowed: dict[tuple[str, str], float]) -> None:
        """Warn that the bus queue was full, at most once every OVERFLOW_LOG_S (the counters say the rest)."""
        t = time.monotonic()
        if t - self._overflow_said < OVERFLOW_LOG_S:
            return
        self._overflow_said = t
        stats = self._queue.stats()
        log.warning("bus queue full (%d MB): %d messages dropped so far (%s); asking %s for their state",
                    stats["max_bytes"] // 2**20, sum(stats["dropped"].values()),
                    ", ".join(f"{d} {n}" for d, n in sorted(stats["dropped"].items())), ", ".join(sorted(s for _, s in overflowed)))

    def _apply(self, batch: list[Message], now: float, events: list[Event], received_at: float | None = None) -> None:
        decode = self._codec.decode
        handle = self.core.handle
        messages = self.metrics.messages
        readings = self.metrics.readings
        extend = events.extend
        t0 = time.perf_counter()
        for channel, payload in batch:
            if channel.endswith(ADAPTED_SUFFIXES):
                continue
            msg = decode(channel, payload)
            if type(msg) is Rejection:
                self._reject(channel, payload, msg)
                continue
            try:
                evs = handle(msg, now, received_at)
            except Exception as err:  # noqa: BLE001 - a core bug on one message must not stop the feed
                log.exception("core failed on a %s message from %s", msg.kind, msg.supervisor)
                self._reject(channel, payload, Rejection("internal_error", f"{type(err).__name__}: {err}"))
                continue
            if evs and type(evs[-1]) is Refused:  # the registry of supervisors said no (services/core/identity.py)
                refused = evs.pop()
                self._reject(channel, payload, Rejection(refused.reason, refused.detail))
                if not refused.partly:
                    extend(evs)
                    continue
            extend(evs)
            kind = msg.kind
            key = (msg.domain, kind, "applied")
            messages[key] = messages.get(key, 0) + 1
            if kind == "telemetry":
                readings[msg.domain] = readings.get(msg.domain, 0) + len(msg.readings)
            elif kind == "state":
                readings[msg.domain] = readings.get(msg.domain, 0) + len(msg.readings)
                for ev in evs:  # definitions: the snapshot rewrites these assets' identity too
                    if type(ev) is AssetsChanged:
                        self._snapshots.assets_defined(ev.domain, ev.asset_ids)
        self.metrics.processing.observe_many(time.perf_counter() - t0, len(batch))

    # --- the territory clock (engine thread, under the lock) ------------------------------

    def _follow_pace(self) -> None:
        """Scale what is counted in wall seconds to the territory clock's pace: silence, grace, drift, command answers.

        A supervisor answers a command within `ack_timeout_s` wall seconds (the link), then applies it within
        `apply_timeout_s` territory seconds (its world) plus that allowance; at a pace of 1 nothing changes.
        """
        pace = float(getattr(self.clock, "speed", 1.0))
        if pace == self.pace:
            return
        base = self._commands_config
        link = base.ack_timeout_s * (pace - 1.0)
        self.core.health.pace = pace
        self.core.commands.config = replace(base, ack_timeout_s=base.ack_timeout_s * pace,
                                            apply_timeout_s={d: s + link for d, s in base.apply_timeout_s.items()})
        log.info("territory clock at x%g (was x%g): silence, clock drift and command answers judged in wall seconds x%g",
                 pace, self.pace, pace)
        self.pace = pace

    def _clock_drift(self, events: list[Event]) -> None:
        """Say which supervisors' clocks left or rejoined Vigie's: logged, counted, pushed."""
        for h in self.core.health.take_drift_changes():
            events.append(SupervisorChanged(h.id, h.domain, str(h.status)))
            if h.clock_drift:
                self.metrics.clock_drifts[h.id] = self.metrics.clock_drifts.get(h.id, 0) + 1
                log.warning("supervisor %s (%s): its clock is %.0f s %s Vigie's (more than %.0f s at x%g); its timestamps are not "
                            "the territory's time", h.id, h.domain, abs(h.lag_s), "ahead of" if h.lag_s < 0 else "behind",
                            self.core.health.drift_after_s * self.pace, self.pace)
            else:
                log.info("supervisor %s (%s): its clock is back in step with Vigie's (%.1f s)", h.id, h.domain, -h.lag_s)

    def _reject(self, channel: bytes, payload: bytes, rejection: Rejection) -> None:
        parts = channel.split(b".") if isinstance(channel, bytes) else []
        domain = parts[1].decode() if len(parts) == 4 and parts[1] in KNOWN_DOMAINS else "unknown"
        kind = parts[3].decode() if len(parts) == 4 and parts[3] in KNOWN_KINDS else "unknown"
        self.metrics.count_rejection(rejection.reason, domain, kind)
        self._rejections(channel, payload, rejection)

    def _serve(self, request: tuple[Request, Future], now: float, events: list[Event]) -> None:
        fn, fut = request
        if not fut.set_running_or_notify_cancel():
            return
        try:
            value, evs = fn(self.core, now)
        except Exception as err:  # noqa: BLE001 - the caller gets the error, the loop goes on
            self._answers.append((fut, None, err))
            return
        events.extend(evs)
        self._answers.append((fut, value, None))

    def _publish(self, events: list[Event], now: float) -> None:
        """Publish the turn's view for readers, then answer the turn's requests (a caller reads its own change at once)."""
        try:
            self.views.publish(events, now)
        except Exception:  # noqa: BLE001 - a bug here must not stop the engine; readers get a whole new view
            log.exception("publishing the read views failed; rebuilding them")
            try:
                self.views.rebuild(now)
            except Exception:  # noqa: BLE001
                log.exception("rebuilding the read views failed")
        answers, self._answers = self._answers, []
        for fut, value, err in answers:
            if err is None:
                fut.set_result(value)
            else:
                fut.set_exception(err)

    def _after_tick(self, now: float) -> None:
        core, m = self.core, self.metrics
        m.supervisors = [{"id": h.id, "domain": h.domain, "last_seen": h.last_seen, "status": str(h.status), "lag_s": h.lag_s,
                          "clock_drift": h.clock_drift} for h in core.health.all()]
        m.assets = {d: len(core.state.domain(d)) for d in ("lighting", "water", "traffic")}
        active: dict[str, int] = {}
        for a in core.active_alarms():
            active[str(a.priority)] = active.get(str(a.priority), 0) + 1
        m.alarms_active = active
        m.redis_up = self._bus.connected
        self._rejections.flush()
        n = len(core.state)
        if self.freeze_gc and n >= FREEZE_GC_FROM and n >= 1.25 * self._frozen_at:
            gc.collect()
            gc.freeze()  # the territory lives as long as the process: keep the collector off it
            self._frozen_at = n

    def _react(self, events: list[Event], now: float) -> None:
        snapshots = self._snapshots
        for ev in events:
            t = type(ev)
            if t is AssetsChanged or t is AssetsRemoved:
                snapshots.assets_changed(ev.domain, ev.asset_ids)
            elif t is AlarmsChanged:
                snapshots.alarms_changed(ev.alarm_ids)
            elif t is StateNeeded:
                self._request_state(ev, now)
            elif t is StateAnnounced:
                self.retained.announced(ev.ready)
            elif t is StateApplied:
                self.retained.state_applied(ev.domain, ev.supervisor, ev.retained)
            elif t is RegistryChanged:
                self.retained.registry_changed(ev.supervisor)

    def _request_state(self, ev: StateNeeded, now: float) -> None:
        """Hand the need to the state reader, which never blocks this thread: it reads a v2 supervisor's retained
        state from Redis, or sends a v1 supervisor a paced state request (services/feed/retained.py)."""
        h = self.core.health.get(ev.supervisor)
        self.retained.need(ev.domain, ev.supervisor, ev.reason, h.seq if h is not None else None)

    def _apply_retained(self, part: State, since: float) -> bool:
        """Apply one part of a retained state on the engine thread (called by the state reader, which waits); False if refused."""
        def apply(core: Hypervisor, now: float) -> tuple[bool, list[Event]]:
            evs = core.apply_retained(part, now, since)
            if evs and type(evs[-1]) is Refused:  # not a bus message: counted by the reader (stats["not_applied"])
                refused = evs.pop()
                log.info("retained state of %s not applied: %s (%s)", part.supervisor, refused.reason, refused.detail)
                return False, evs
            self.metrics.readings[part.domain] = self.metrics.readings.get(part.domain, 0) + len(part.readings)
            for ev in evs:  # definitions: the snapshot rewrites these assets' identity too
                if type(ev) is AssetsChanged:
                    self._snapshots.assets_defined(ev.domain, ev.asset_ids)
            return True, evs

        try:
            return self.execute(apply, timeout=30.0)
        except EngineUnavailable as err:
            log.info("retained state of %s not applied: %s", part.supervisor, err)
            return False

    def _deliver(self, events: list[Event]) -> None:
        for listener in list(self._listeners):
            try:
                listener(events)
            except Exception:  # noqa: BLE001 - a listener's bug never kills the loop
                log.exception("event listener %r failed", listener)

    # --- bus changes (queued by the reader after the messages read before them; engine thread, under the lock) ----

    def _on_connected(self, change: BusChange, now: float, events: list[Event]) -> None:
        events.extend(self.core.bus_restored(now))
        self.metrics.redis_up = self._reader.connected
        self._store.needs_full = True  # Redis may have restarted empty

    def _on_lost(self, change: BusChange, now: float, events: list[Event]) -> None:
        events.extend(self.core.bus_lost(now, since=change.at))
        self.metrics.redis_up = self._reader.connected
