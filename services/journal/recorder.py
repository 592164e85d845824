"""The recorder: its own subscription to `sup.*` and `cmd.*`, everything into the journal, snapshots of a shadow core.

It runs in its own thread next to the engine, and needs nothing from it: a shadow Hypervisor fed
with exactly what is journaled (journal_feed.Feed) gives the snapshots, so a replay rebuilt from a
snapshot and the journal's tail is bit for bit what the recorder saw. Operator actions come from the
append-only Redis streams (the alarm journal, the audit trail), read from where the journal stops,
so an action is journaled even if the recorder was away. Like the engine it survives Redis going
away (back-off, then a `b` record saying when the bus was lost and found again).

Its subscription is read by a thread of its own into a byte-bounded queue (services/feed/bus.py), as
the engine's: a slow disk or a large state never gets the subscription cut by Redis, a cut is seen
as soon as it happens, and what was read before it is journaled before the `b` record.
"""
from __future__ import annotations

import logging
import queue
import time
from dataclasses import replace
from typing import Any, Callable

from services.alarms.store import JOURNAL_KEY
from services.audit import AUDIT_KEY
from services.feed.territory_clock import link_clock
from services.feed.bus import ERRORS, FeedQueue, FeedReader, Taken, bounded_client
from services.contract import Codec, Rejection
from services.contract.codec import MAX_PAYLOAD_BYTES
from services.core import CoreConfig, Hypervisor
from services.core.events import AlarmsChanged, AssetsRemoved, Event, StateAnnounced, StateApplied, StateNeeded
from services.feed.retained import RetainedStateReader
from services.threads import LoopThread

from services.journal import image as core_image
from services.journal.store import Journal, JournalError
from services.journal.feed import ADAPTED_SUFFIXES, Feed
from services.journal.files import Record, is_json
from services.journal.history import readings_of

log = logging.getLogger(__name__)

PATTERN = "[sc][um][pd].*"  # one subscription, so sup.* and cmd.* keep their relative order; others are dropped
PREFIXES = (b"sup.", b"cmd.")
SYSTEM_ACTORS = frozenset({"supervisor", "vigie", ""})
STREAMS_EVERY_S = 0.5
FLUSH_EVERY_S = 0.5
BATCH = 2000
QUEUE_BYTES = 256 * 1024 * 1024  # Settings.feed_queue_bytes
OVERFLOW_LOG_S = 10.0


class _Silent:
    """The recorder's state reader never sends a state request: the engine asks; the recorder hears the answer."""

    def publish(self, channel: str, payload: bytes) -> int:
        return 0

    def close(self) -> None:
        pass


class Recorder:
    """Journals the bus and the operators' actions; one thread, started with `start()`."""

    def __init__(self, journal: Journal, redis_url: str, config: CoreConfig | None = None, *,
                 clock: Callable[[], float] = time.time, streams: bool = True, queue_bytes: int = QUEUE_BYTES) -> None:
        self.journal = journal
        self.redis_url = redis_url
        self.clock = clock
        self.streams = streams
        self.shadow = Hypervisor(config)
        self.feed = Feed(self.shadow, on_tick=self._on_tick)
        self.codec = Codec()
        self.counts = {"messages": 0, "actions": 0, "refused": 0, "snapshots": 0, "errors": 0, "dropped": 0}
        self.queue = FeedQueue(queue_bytes, MAX_PAYLOAD_BYTES)
        self.reader = FeedReader(redis_url, self.queue, pattern=PATTERN, name="vigie-recorder", clock=clock)
        # v2 supervisors keep their full state in Redis and only announce it: the recorder reads it as the engine
        # does, to journal it ("r" records) and give its shadow core the definitions; it never asks anyone for one
        self._retained_parts: "queue.Queue[Any]" = queue.Queue(maxsize=4096)
        link, to_vigie = link_clock(clock)  # paced on the wall clock, its times on Vigie's (services/feed/territory_clock.py)
        self.retained = RetainedStateReader(redis_url, lambda part, since: self._take_retained(part, to_vigie(since)), clock=link,
                                            max_payload_bytes=MAX_PAYLOAD_BYTES, commands=_Silent())
        self._overflow_said = float("-inf")
        self._client: Any = None
        self._stream_ids: dict[str, str] = {}
        self._defs_dirty = True
        self._defs_id: str | None = None
        self._full: float | None = None  # the last full image; later ones hold only what changed since
        self._changed: dict[str, set[str]] = {}  # assets whose values changed since the last full image
        self._alarms_changed: set[str] = set()  # alarms changed (or gone) since then
        self._next_streams = self._next_flush = 0.0
        self._journal_config = journal.config  # as configured, for a pace of 1
        self._pace = 1.0
        self._loop = LoopThread(self._run, "vigie-recorder")
        self._stop = self._loop.stopping

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Recorder":
        """Resume after the journal's last record (actions included), then record in a thread."""
        span = self.journal.span()
        since_ms = int((span[1] if span else self.clock()) * 1000)
        self._stream_ids = {JOURNAL_KEY: f"{since_ms}-0", AUDIT_KEY: f"{since_ms}-0"}
        self._loop.start()
        self.retained.start()
        self.reader.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop recording and seal the journal's open segment."""
        self.reader.stop(timeout)
        self.retained.stop(timeout)
        self._loop.stop(timeout)
        if self._client is not None:
            self._client.close()
        self.journal.close()

    @property
    def connected(self) -> bool:
        """Is the recorder's subscription up (the reader's view: it knows of a cut before the journal does)?"""
        return self.reader.connected

    # --- the loop ----------------------------------------------------------------------------

    def _follow_pace(self) -> None:
        """On an accelerated territory clock (services/feed/territory_clock.py), cut segments and take images as often in
        wall time as at x1: every `segment_s`, `snapshot_s`, `full_s` times the pace (a seek at x60 replays at most an hour)."""
        pace = float(getattr(self.clock, "speed", 1.0))
        if pace == self._pace:
            return
        base = self._journal_config
        self.journal.config = replace(base, **{k: float(max(1, round(getattr(base, k) * pace))) for k in ("segment_s", "snapshot_s", "full_s")})
        log.info("journal on the territory clock at x%g: a segment every %.0f s, an image every %.0f s, a full one every %.0f s "
                 "(territory seconds)", pace, self.journal.config.segment_s, self.journal.config.snapshot_s, self.journal.config.full_s)
        self._pace = pace

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self.queue.take(BATCH, 0.05)
                now = self.clock()
                self._follow_pace()
                if taken:
                    self._take(now, taken)
                self._take_retained_parts(now)
                self.feed.advance(now)  # as the engine: this turn's messages, then the tick
                if self.streams and now >= self._next_streams:
                    self._next_streams = now + STREAMS_EVERY_S
                    self._read_actions(now)
                if now >= self._next_flush:
                    self._next_flush = now + FLUSH_EVERY_S
                    self.journal.flush()
            except Exception:  # noqa: BLE001 - the recorder never dies; a bug or a full disk is logged
                self.counts["errors"] += 1
                log.exception("recorder loop error")
                self._stop.wait(0.5)

    def _take(self, now: float, taken: Taken) -> None:
        """Journal what the reader queued, at the recorder's time (journal records keep the order they are applied in)."""
        if taken.oversized:
            self.counts["refused"] += len(taken.oversized)
            for big in taken.oversized:
                log.warning("recorder: %d-byte message on %r not journaled (over the payload limit)", big.size,
                            big.channel[:120].decode("utf-8", "replace"))
        if taken.overflowed:
            dropped = sum(self.queue.stats()["dropped"].values())
            if now - self._overflow_said >= OVERFLOW_LOG_S:  # the count says the rest
                self._overflow_said = now
                log.warning("recorder: its queue was full; %d messages not journaled so far (from %s)", dropped,
                            ", ".join(sorted(f"{d}.{s}" for d, s in taken.overflowed)))
            self.counts["dropped"] = dropped
        for _received_at, batch in taken.chunks:
            for channel, payload in batch:
                if channel.startswith(PREFIXES):
                    self.record(now, channel, payload)
        if taken.change is not None:
            self._bus_record(taken.change.up, "subscribed" if taken.change.up else taken.change.reason, now)

    def _take_retained(self, part: Any, since: float) -> bool:
        """From the state reader's thread: a part of a retained state, journaled and applied on the recorder's."""
        try:
            self._retained_parts.put(part, timeout=5.0)
        except queue.Full:
            self.counts["dropped"] += 1
            return False
        return True

    def _take_retained_parts(self, now: float) -> None:
        from services.contract import encode

        while True:
            try:
                part = self._retained_parts.get_nowait()
            except queue.Empty:
                return
            name = f"sup.{part.domain}.{part.supervisor}.state"
            readings = list(readings_of(part))
            if readings:
                self._changed.setdefault(part.domain, set()).update(r[0] for r in readings)
            self.journal.message(now, name, encode(part), True, readings, retained=True)
            self.counts["messages"] += 1
            self._defs_dirty = True
            self._note(self.feed.apply(Record(t=now, k="r", ch=name), part))

    def record(self, t: float, channel: bytes, payload: bytes) -> None:
        """Journal one bus message and feed it to the shadow core."""
        name = channel.decode("utf-8", "replace")
        msg: Any = None
        if name.startswith("sup.") and not name.endswith(ADAPTED_SUFFIXES):
            msg = self.codec.decode(channel, payload)
            valid = not isinstance(msg, Rejection) or is_json(payload)
        else:
            valid = not isinstance(self.codec.decode_command(payload), Rejection) or is_json(payload)
        if isinstance(msg, Rejection):
            self.counts["refused"] += 1
            msg = None
        readings = list(readings_of(msg)) if msg is not None and msg.kind in ("telemetry", "state") else ()
        if readings:
            self._changed.setdefault(msg.domain, set()).update(r[0] for r in readings)
        self.journal.message(t, name, payload, valid, readings)
        self.counts["messages"] += 1
        if msg is not None:
            events = self.feed.apply(Record(t=t, k="m", ch=name), msg)
            if msg.kind == "state":
                self._defs_dirty = True
            self._note(events)

    def _note(self, events: list[Event]) -> None:
        """Keep what changed since the last full image (removed assets, changed alarms)."""
        for ev in events:
            t = type(ev)
            if t is StateAnnounced:
                self.retained.announced(ev.ready)
            elif t is StateApplied:
                self.retained.state_applied(ev.domain, ev.supervisor, ev.retained)
            elif t is StateNeeded:
                h = self.shadow.health.get(ev.supervisor)
                self.retained.need(ev.domain, ev.supervisor, ev.reason, h.seq if h is not None else None)
            elif t is AlarmsChanged:
                self._alarms_changed.update(ev.alarm_ids)
            elif t is AssetsRemoved:
                self._defs_dirty = True
                self._changed.setdefault(ev.domain, set()).update(ev.asset_ids)

    def _bus_record(self, up: bool, why: str, t: float) -> None:
        try:
            self.journal.bus(t, up, why)
        except JournalError as err:
            log.warning("recorder: %s", err)
        self._note(self.feed.apply(Record(t=t, k="b", up=up, why=why)))

    # --- operator actions from the Redis streams ---------------------------------------------

    def _read_actions(self, now: float) -> None:
        try:
            if self._client is None:
                self._client = bounded_client(self.redis_url)
            found = self._client.xread(self._stream_ids, count=500)
        except ERRORS:
            if self._client is not None:
                self._client.close()
            self._client = None  # back on the next round; the streams keep what was written meanwhile
            return
        for key, entries in found or ():
            name = key.decode() if isinstance(key, bytes) else key
            for entry_id, fields in entries:
                eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                self._stream_ids[name] = eid
                action = {(k.decode() if isinstance(k, bytes) else k): (v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
                          for k, v in fields.items()}
                if name == JOURNAL_KEY:
                    if action.get("who", "") in SYSTEM_ACTORS:
                        continue
                    self.journal.action(now, "alarms", action)
                else:
                    action["at"] = int(eid.split("-")[0]) / 1000
                    self.journal.action(now, "audit", action)
                self.counts["actions"] += 1

    # --- snapshots -----------------------------------------------------------------------------

    def _on_tick(self, at: float, events: list[Event]) -> None:
        self._note(events)
        if at % self.journal.config.snapshot_s == 0:
            self.snapshot(at)

    def snapshot(self, at: float) -> None:
        """Store the shadow core's image as of `at`: whole every `full_s` (or when assets came or went), else what changed."""
        raw = None
        full = self._defs_dirty or self._full is None or at % self.journal.config.full_s == 0
        if self._defs_dirty or self._defs_id is None or not self.journal.has_defs(self._defs_id):
            raw = core_image.definitions(self.shadow)
            self._defs_id = core_image.defs_id(raw)
            self._defs_dirty = False
        only, alarms = (None, None) if full else (self._changed, self._alarms_changed)
        try:
            self.journal.write_snapshot(at, core_image.capture(self.shadow, at, self._defs_id, only, alarms), self._defs_id, raw,
                                        None if full else self._full)
        except (JournalError, OSError) as err:
            self.counts["errors"] += 1
            log.warning("recorder: snapshot at %.0f not written: %s", at, err)
            return
        self.counts["snapshots"] += 1
        if full:
            self._full, self._changed, self._alarms_changed = at, {}, set()
