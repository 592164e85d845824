"""Getting a supervisor's full state without flooding the bus: v2 retained state read from Redis, v1 requests paced.

A v2 supervisor keeps its full state retained in Redis (services/contract/retained.py) and announces each
version with a small `state_ready`. The `RetainedStateReader` thread reads that state one part key at a
time, when Vigie needs it: at start, after a reconnect, a sequence gap, an overflow or an unknown asset, or
when a supervisor restarted or redefined its assets. It asks nobody. Each part goes through the codec and
then to the engine (`apply`), on the path a v1 `state` part takes, while the engine keeps applying the feed.

A v1 supervisor (no manifest in Redis) gets a `state_request`, paced by `RequestPacer`: at most one in
flight per supervisor, a jittered first delay, then a capped exponential back-off. A reconnect is paced like
any other need. The supervisor's side of v2 is services/feed/retained_writer.py.
"""
from __future__ import annotations

import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from services.contract import Codec, Rejection, State, StateReady, StateRequest, cmd_channel, encode, sup_channel
from services.contract.retained import STATE_KEYS, keys_of, parse_state_key, state_key
from services.feed.bus import ERRORS, CommandPublisher, bounded_client
from services.metrics import Metrics
from services.redis_conn import BusUnavailable
from services.threads import LoopThread

log = logging.getLogger(__name__)

# readings were lost (messages missed, or readings of assets not defined yet, dropped): only a version written after
# them will do
LOSS_REASONS = ("sequence_gap", "overflow", "unknown_asset", "single_publisher", "approved")
NEXT = 2**60  # wanted: the first version announced after the need (its counter unknown: two publishers were, one is left)
WANT_MARGIN_S = 5.0  # beyond the supervisor's refresh_s, how long to wait for a newer version before reading what there is
IDLE_WAIT_S = 1.0
INBOX_MAX = 10_000  # needs and announcements waiting for the thread; beyond (it is not running), dropped
BACKOFF_MAX_S = 10.0

Apply = Callable[[State, float], bool]  # hands one part to the engine, with when its reading began; False: refused


# --- v1: when to send a state request ----------------------------------------------------------------


@dataclass(slots=True)
class _Pace:
    wanted: str | None = None  # the reason of a request waiting to be sent
    not_before: float = 0.0  # no request before this time
    in_flight_until: float | None = None  # a request was sent; its answer is awaited until then
    attempt: int = 0  # requests sent in a row: the back-off's exponent
    last_sent: float | None = None


class RequestPacer:
    """When to send v1 state requests: one in flight per supervisor, jittered, capped exponential back-off. Pure.

    A need waits a random `spread_s` first (a reconnect needs every supervisor at once), then goes out unless
    a request is still in flight (sent less than `answer_timeout_s` ago and not answered). After the n-th
    request in a row, the next waits min(cap_s, base_s * 2**(n-1)), less up to `jitter` of it; a supervisor
    not asked for `quiet_s` starts again at base_s.
    """

    def __init__(self, *, spread_s: float = 2.0, base_s: float = 5.0, cap_s: float = 120.0, jitter: float = 0.2,
                 answer_timeout_s: float = 30.0, quiet_s: float = 300.0, rng: random.Random | None = None) -> None:
        self.spread_s = spread_s
        self.base_s = base_s
        self.cap_s = cap_s
        self.jitter = jitter
        self.answer_timeout_s = answer_timeout_s
        self.quiet_s = quiet_s
        self.rng = rng or random.Random()
        self._sups: dict[str, _Pace] = {}

    def need(self, supervisor: str, reason: str, now: float) -> None:
        """The supervisor's state is needed; several needs before the request goes out make one request."""
        p = self._sups.setdefault(supervisor, _Pace())
        if reason == "reconnect":
            p.in_flight_until = None  # its answer may have been published while Vigie was away: still paced by not_before
        if p.wanted is None:
            p.wanted = reason
            p.not_before = max(p.not_before, now + self.rng.uniform(0.0, self.spread_s))

    def answered(self, supervisor: str) -> None:
        """A whole state (or, from a v2 supervisor, an announcement) arrived: nothing is in flight or wanted any more."""
        p = self._sups.get(supervisor)
        if p is not None:
            p.in_flight_until = None
            p.wanted = None

    def failed(self, supervisor: str, reason: str) -> None:
        """The request could not be sent: it is wanted again (at the time the back-off allows)."""
        p = self._sups.get(supervisor)
        if p is not None:
            p.in_flight_until = None
            p.wanted = p.wanted or reason

    def forget(self, supervisor: str) -> None:
        """Stop pacing a supervisor (it keeps retained state now)."""
        self._sups.pop(supervisor, None)

    def due(self, now: float) -> list[tuple[str, str]]:
        """The (supervisor, reason) requests to send now; each is in flight from now on."""
        out = []
        for sup, p in self._sups.items():
            if p.wanted is None or now < p.not_before or (p.in_flight_until is not None and now < p.in_flight_until):
                continue
            if p.last_sent is not None and now - p.last_sent >= self.quiet_s:
                p.attempt = 0
            p.attempt += 1
            delay = min(self.cap_s, self.base_s * 2 ** min(p.attempt - 1, 30)) * self.rng.uniform(1.0 - self.jitter, 1.0)
            p.not_before, p.in_flight_until, p.last_sent = now + delay, now + self.answer_timeout_s, now
            out.append((sup, p.wanted))
            p.wanted = None
        return out

    def next_due(self) -> float | None:
        """The earliest time a wanted request may go out, or None."""
        times = [max(p.not_before, p.in_flight_until or 0.0) for p in self._sups.values() if p.wanted is not None]
        return min(times) if times else None


# --- the reader --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Supervisor:
    id: str
    domain: str
    protocol: int | None = None  # 2: keeps retained state; 1: answers state requests; None: not known yet
    reason: str = "state"  # why its state was last needed
    check: bool = False  # look at its manifest at the next turn
    applied: str | None = None  # snapshot of the retained version last applied
    applied_boot: str | None = None
    applied_version: int = 0
    refresh_s: float = 15.0
    want_seq: int | None = None  # after a loss: a version announced at or after this seq is awaited ...
    want_until: float = 0.0  # ... until then; after that, what there is is read
    refused: bool = False  # the core refused its last retained version (not an approved supervisor yet)


class RetainedStateReader:
    """The thread that gets supervisors' full states for the engine: v2 from Redis, v1 by paced requests."""

    def __init__(self, redis_url: str, apply: Apply, *, metrics: Metrics | None = None, clock: Callable[[], float] = time.time,
                 pacer: RequestPacer | None = None, max_payload_bytes: int = 8 * 1024 * 1024, page_pause_s: float = 0.0,
                 client=None, commands: CommandPublisher | None = None) -> None:
        self.redis_url = redis_url
        self.apply = apply
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.pacer = pacer or RequestPacer()
        self.page_pause_s = page_pause_s  # a pause between two parts, to leave Redis and the engine to others
        # versions and parts applied; versions refused by the codec, or not applied by the core; parts gone; requests sent
        self.stats = {"versions": 0, "parts": 0, "refused": 0, "not_applied": 0, "missing": 0, "requests": 0, "scans": 0, "dropped": 0}
        self._codec = Codec(max_payload_bytes)
        self._inbox: queue.Queue[tuple] = queue.Queue(INBOX_MAX)
        self._wake = threading.Event()
        self._sups: dict[str, _Supervisor] = {}
        self._scan_due = True  # at start: whatever Redis retains is read
        self._client = client  # a client of one's own (tests); else one is made, and made again after an error
        self._own_client = client is None
        self._commands = commands or CommandPublisher(redis_url)
        self._backoff = 0.1
        self._log_budget = (0.0, 0)
        self._loop = LoopThread(self._run, "vigie-retained")
        self._stop = self._loop.stopping

    # --- from the engine thread (never blocks) -----------------------------------------------------

    def need(self, domain: str, supervisor: str, reason: str, seq: int | None) -> None:
        """The core needs this supervisor's full state (`seq`: the last one applied from it)."""
        self._put(("need", domain, supervisor, reason, seq))

    def announced(self, ready: StateReady) -> None:
        """A supervisor announced a new version of its retained state (or the same one, anew)."""
        self._put(("announced", ready.domain, ready.supervisor, ready))

    def state_applied(self, domain: str, supervisor: str, retained: bool) -> None:
        """A whole state of this supervisor was applied (a v1 one from the bus, or a retained one)."""
        self._put(("applied", domain, supervisor, retained))

    def registry_changed(self, supervisor: str) -> None:
        """The registry's entry for this supervisor changed (first seen, approved...): a state it refused may apply now."""
        self._put(("registry", "", supervisor))

    def _put(self, item: tuple) -> None:
        try:
            self._inbox.put_nowait(item)
        except queue.Full:  # the thread is not running (an engine fed by hand: tests, benchmarks)
            self.stats["dropped"] += 1
            return
        self._wake.set()

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "RetainedStateReader":
        """Start the thread (Redis may be down: it retries)."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and drop its connections."""
        self._loop.stopping.set()
        self._wake.set()
        self._loop.stop(timeout)
        self._drop()

    # --- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._wait_s())
            self._wake.clear()
            try:
                self.turn()
                self._backoff = 0.1
            except ERRORS as err:
                log.warning("retained state: Redis unavailable (%s); retrying in %.1f s", err, self._backoff)
                self._drop()
                self._stop.wait(self._backoff)
                self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)
            except Exception:  # noqa: BLE001 - the reader never dies; a bug is logged and it goes on
                log.exception("retained state reader error")
                self._stop.wait(0.5)

    def turn(self) -> None:
        """One turn of the thread: take what came in, read what is needed, send the requests due (tests call it)."""
        now = self.clock()
        self._drain(now)
        self._turn(now)

    def _wait_s(self) -> float:
        now = self.clock()
        due = [t for t in (self.pacer.next_due(), *(s.want_until for s in self._sups.values() if s.want_seq is not None)) if t]
        if any(s.check for s in self._sups.values()) or self._scan_due:
            return 0.0
        return max(0.0, min([IDLE_WAIT_S, *(t - now for t in due)]))

    def _drain(self, now: float) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            what, domain, supervisor = item[:3]
            s = self._sups.get(supervisor)
            if what == "registry":
                if s is not None and s.refused:
                    s.refused, s.check = False, True
                continue
            if s is None:
                s = self._sups[supervisor] = _Supervisor(supervisor, domain)
            if what == "need":
                self._on_need(s, item[3], item[4], now)
            elif what == "announced":
                self._on_announced(s, item[3])
            elif not item[3]:  # a v1 state: its answer, and the proof it speaks v1
                s.protocol = 1
                self.pacer.answered(supervisor)

    def _on_need(self, s: _Supervisor, reason: str, seq: int | None, now: float) -> None:
        s.reason = reason
        if reason == "reconnect":
            self._scan_due = True
        if s.protocol == 1:
            self.pacer.need(s.id, reason, now)
            return
        if reason in LOSS_REASONS:
            wanted = NEXT if seq is None else seq + (0 if reason == "sequence_gap" else 1)  # a gap: `seq` is the message after it
            s.want_seq = wanted if s.want_seq is None else max(s.want_seq, wanted)
            s.want_until = now + s.refresh_s + WANT_MARGIN_S
        s.check = True

    def _on_announced(self, s: _Supervisor, ready: StateReady) -> None:
        s.protocol, s.refresh_s = 2, ready.refresh_s
        self.pacer.answered(s.id)  # a v2 supervisor answers a request with its announcement
        self.pacer.forget(s.id)
        if s.want_seq == NEXT:  # announced after the need: written after the loss
            s.want_seq = ready.seq
        if (s.applied is None or ready.boot != s.applied_boot or ready.definitions > s.applied_version
                or (s.want_seq is not None and ready.seq >= s.want_seq)):
            s.check = True

    def _turn(self, now: float) -> None:
        client = self._redis()
        if self._scan_due:
            for key in client.scan_iter(match=STATE_KEYS, count=500):
                where = parse_state_key(key)
                if where is not None:
                    s = self._sups.get(where[1]) or self._sups.setdefault(where[1], _Supervisor(where[1], where[0]))
                    s.check = s.check or s.protocol != 1
            self._scan_due = False
            self.stats["scans"] += 1
        for s in list(self._sups.values()):
            if self._stop.is_set():
                return
            if s.check or (s.want_seq is not None and now >= s.want_until):
                s.check = False
                t = self.clock()
                try:
                    self._look(s, t)
                except ERRORS:
                    s.check = True  # looked at again once Redis answers
                    raise
                if s.want_seq is not None and t >= s.want_until:  # its deadline passed: what there was is read (or refused)
                    s.want_seq = None
        for supervisor, reason in self.pacer.due(self.clock()):
            self._ask(self._sups[supervisor], reason)

    def _look(self, s: _Supervisor, now: float) -> None:
        """Read the supervisor's manifest; read its version if Vigie needs it; ask a supervisor without one."""
        manifest = self._manifest(s)
        if manifest is None:
            if s.protocol != 2:
                s.protocol = 1  # no retained state: it answers requests
                self.pacer.need(s.id, s.reason, now)
            elif s.want_seq is None:  # Redis lost it: the supervisor writes it again when it reconnects, and announces it
                s.want_seq, s.want_until = 0, now + s.refresh_s + WANT_MARGIN_S
            elif now >= s.want_until:  # ... and it has not: ask it (a v2 supervisor rewrites a missing state, once)
                s.want_seq = None
                self.pacer.need(s.id, "retained_missing", now)
            return
        if isinstance(manifest, Rejection):
            self._refused(s, f"manifest refused: {manifest.reason} ({manifest.detail})")
            return
        s.protocol, s.refresh_s = 2, manifest.refresh_s
        if not self._worth_reading(s, manifest, now):
            return
        if self._read(s, manifest):
            s.applied, s.applied_boot, s.applied_version = manifest.snapshot, manifest.boot, manifest.version
            if s.want_seq is not None and (manifest.seq >= s.want_seq or now >= s.want_until):
                s.want_seq = None
            self.stats["versions"] += 1
            log.info("read the retained state of %s.%s: version %s, %d part(s), %d asset(s)", s.domain, s.id, manifest.snapshot,
                     manifest.parts, manifest.assets)

    def _manifest(self, s: _Supervisor) -> StateReady | Rejection | None:
        """The supervisor's manifest (its last `state_ready`), a Rejection when unusable, None when there is none."""
        raw = self._redis().get(state_key(s.domain, s.id))
        return None if raw is None else self._codec.decode(sup_channel(s.domain, s.id, "state_ready"), raw)

    @staticmethod
    def _worth_reading(s: _Supervisor, manifest: StateReady, now: float) -> bool:
        if manifest.snapshot == s.applied:
            if s.want_seq is not None and now >= s.want_until:  # no newer version came: nothing changed since
                s.want_seq = None
            return False
        if s.applied is None:  # nothing read yet: its assets are defined now, what was lost comes with the next version
            return True
        return not (s.want_seq is not None and manifest.seq < s.want_seq and now < s.want_until)  # older than a loss: wait

    def _read(self, s: _Supervisor, manifest: StateReady) -> bool:
        """Read one version, part after part, and hand each to the engine; False when it could not be read whole."""
        channel = sup_channel(s.domain, s.id, "state")
        client = self._redis()
        began = self.clock()  # what the engine hears from now on is newer than this version
        for n, key in enumerate(keys_of(manifest), start=1):
            if self._stop.is_set():
                return False
            raw = client.get(key)
            if raw is None:  # replaced meanwhile and expired: read the new version; else lost: ask (paced)
                self.stats["missing"] += 1
                current = self._manifest(s)
                s.check = isinstance(current, StateReady) and current.snapshot != manifest.snapshot
                if not s.check:
                    self.pacer.need(s.id, "retained_missing", self.clock())
                return False
            part = self._codec.decode(channel, raw)
            if isinstance(part, Rejection):
                self._refused(s, f"part {n} refused: {part.reason} ({part.detail})")
                return False
            if (part.snapshot, part.part, part.parts) != (manifest.snapshot, n, manifest.parts):
                self._refused(s, f"part {n} says {part.snapshot} {part.part}/{part.parts}, the manifest {manifest.snapshot} {n}/{manifest.parts}")
                return False
            if not self.apply(part, began):
                s.refused = True
                self.stats["not_applied"] += 1
                return False
            self.stats["parts"] += 1
            if self.page_pause_s:
                self._stop.wait(self.page_pause_s)
        return True

    def _ask(self, s: _Supervisor, reason: str) -> None:
        now = self.clock()
        req = StateRequest(domain=s.domain, supervisor=s.id, ts=datetime.fromtimestamp(now, timezone.utc),
                           request_id=uuid.uuid4().hex[:16], reason=reason)
        try:
            self._commands.publish(cmd_channel(s.domain, s.id), encode(req))
        except BusUnavailable as err:
            log.info("state request to %s not sent: %s", s.id, err)
            self.pacer.failed(s.id, reason)
            return
        self.stats["requests"] += 1
        self.metrics.state_requests[reason] = self.metrics.state_requests.get(reason, 0) + 1
        log.info("asked %s.%s for its state (%s)", s.domain, s.id, reason)

    def _refused(self, s: _Supervisor, detail: str) -> None:
        """A retained state Vigie cannot use: counted, logged (at most 20 lines a minute), left until its next version."""
        self.stats["refused"] += 1
        start, n = self._log_budget
        now = time.monotonic()
        if now - start > 60.0:
            start, n = now, 0
        if n < 20:
            log.warning("retained state of %s.%s not applied: %s", s.domain, s.id, detail[:300])
        self._log_budget = (start, n + 1)

    def _redis(self):
        if self._client is None:
            self._client = bounded_client(self.redis_url, 5.0)
        return self._client

    def _drop(self) -> None:
        if self._client is not None and self._own_client:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail in many ways
                pass
            self._client = None
        self._commands.close()
