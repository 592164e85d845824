"""The NGSI relay: one thread that turns `sup.<domain>.<supervisor>.ngsi` payloads into contract messages.

It is the single writer of every NGSI source's supervisor (sequence numbers, known assets,
active alarms, kept in Redis so a restart resumes), answers their `state_request`s and sends
their heartbeats while the source keeps notifying. Run exactly one, next to the engine.

Each source speaks contract v2: its full state is retained in Redis (services/feed/retained_writer.py),
written when its assets change (new ones, redefinitions) and at most every `retain_every_s` while its
readings do, after a reconnect or on a state request only if Redis lost it. No full state is published.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable, Iterator

import msgspec
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric

from services.feed.bus import ERRORS, FeedSubscriber, bounded_client
from services.feed.retained_writer import RetainedStateWriter
from services.contract import Codec, Rejection, StateRequest
from services.threads import LoopThread

from .bridge import Outgoing, SourceSupervisor
from .entities import NotificationError
from .intake import MAX_PAYLOAD_BYTES, NGSI_PATTERN, decode_json, map_notification, parse_ngsi_channel

log = logging.getLogger(__name__)

KEY = "vigie:ngsi:"
RELAY_KEY = KEY + "relay"  # "a relay is alive": refreshed at least every heartbeat
RELAY_TTL_S = 15
TICK_S = 0.25
HEARTBEAT_EVERY_S = 5.0


class RelayStats:
    """Plain counters kept by the relay's thread, read at scrape time."""

    def __init__(self) -> None:
        self.payloads: dict[str, int] = {}  # outcome -> count
        self.refused: dict[str, int] = {}  # reason -> entities refused
        self.published = 0

    def payload(self, outcome: str) -> None:
        """Count one `.ngsi` payload."""
        self.payloads[outcome] = self.payloads.get(outcome, 0) + 1

    def refuse(self, reason: str, n: int = 1) -> None:
        """Count refused entities (or a refused payload)."""
        self.refused[reason] = self.refused.get(reason, 0) + n


class _RelayCollector:
    """The relay's counters as Prometheus metric families, at scrape time."""

    def __init__(self, stats: RelayStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        c = CounterMetricFamily("vigie_ngsi_relay_payloads", "`.ngsi` payloads taken by the relay, by outcome", labels=["outcome"])
        for outcome, n in sorted(dict(self.stats.payloads).items()):
            c.add_metric([outcome], n)
        yield c
        c = CounterMetricFamily("vigie_ngsi_relay_refused", "Entities (or payloads) the relay refused, by reason", labels=["reason"])
        for reason, n in sorted(dict(self.stats.refused).items()):
            c.add_metric([reason], n)
        yield c
        yield CounterMetricFamily("vigie_ngsi_relay_published", "Contract messages the relay published", value=self.stats.published)


class NgsiRelay:
    """Maps NGSI payloads from the bus to contract messages and speaks for the NGSI sources."""

    def __init__(self, redis_url: str, *, silence_s: float = 900.0, refresh_s: float = 30.0, min_spacing_s: float = 0.5,
                 max_payload_bytes: int = 8 * 1024 * 1024, registry: CollectorRegistry | None = None,
                 clock: Callable[[], float] = time.time, retain_every_s: float = 15.0) -> None:
        self.redis_url = redis_url
        self.retain_every_s = retain_every_s  # a new retained version at most this long after a reading changed
        self.silence_s = silence_s
        self.refresh_s = refresh_s
        self.min_spacing_s = min_spacing_s
        self.max_payload_bytes = max_payload_bytes or MAX_PAYLOAD_BYTES
        self.clock = clock
        self.stats = RelayStats()
        if registry is not None:
            registry.register(_RelayCollector(self.stats))
        self.sources: dict[tuple[str, str], SourceSupervisor] = {}
        self.retained: dict[tuple[str, str], RetainedStateWriter] = {}  # each source's retained state (contract v2)
        self._feed = FeedSubscriber(redis_url, pattern=NGSI_PATTERN, on_connected=self._connected)
        self._commands = FeedSubscriber(redis_url, pattern="cmd.*")
        self._client = None
        self._codec = Codec()
        self._restored = False
        self._started = clock()
        self._next_heartbeat = 0.0
        self._log_budget = (0.0, 0)
        self._loop = LoopThread(self._run, "vigie-ngsi-relay")
        self._stop = self._loop.stopping

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "NgsiRelay":
        """Start the relay's thread (Redis may be down: it retries)."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and drop the connections."""
        self._loop.stop(timeout)
        self._feed.close()
        self._commands.close()
        try:
            self._redis().delete(RELAY_KEY)  # from now on the HTTP endpoints answer 503 instead of dropping notifications
        except ERRORS:
            pass
        self._drop_client()

    @property
    def connected(self) -> bool:
        """Is the `.ngsi` subscription up?"""
        return self._feed.connected

    def _run(self) -> None:
        next_tick = 0.0
        while not self._stop.is_set():
            try:
                batch = self._feed.poll(0.05)
                now = self.clock()
                for channel, payload in batch:
                    self.handle(channel, payload, now)
                for _, payload in self._commands.poll(0.0):
                    self._publish(self.command(payload, now))
                if now >= next_tick:
                    next_tick = now + TICK_S
                    self._publish(self.tick(now))
            except Exception:  # noqa: BLE001 - the relay never dies; a bug is logged and the loop goes on
                log.exception("NGSI relay loop error")
                time.sleep(0.1)
        self._persist_all()

    # --- the work (also callable directly, from tests) --------------------------------------

    def handle(self, channel: bytes | str, payload: bytes, now: float) -> None:
        """Map one `.ngsi` payload into its source's supervisor (messages go out at the next tick)."""
        where = parse_ngsi_channel(channel)
        if where is None:
            self._refused_payload("bad_source", f"not a sup.<domain>.<supervisor>.ngsi channel: {channel[:80]!r}")
            return
        domain, supervisor = where
        source = self.sources.get(where)
        if source is None:
            source = self.sources[where] = self._new_source(domain, supervisor)
        try:
            body = decode_json(payload, self.max_payload_bytes)
            intake = map_notification(body, now=datetime.fromtimestamp(now, timezone.utc), hint=domain)
        except NotificationError as err:
            source.refused_recently += 1
            self._refused_payload(err.reason, f"{supervisor}: {err}")
            return
        source.take(intake.mapped.get(domain, []), now)
        for refusal in intake.refused:
            self.stats.refuse(refusal.reason)
            self._log(f"{supervisor}: entity {refusal.entity_id!r} ({refusal.entity_type}) refused: {refusal.reason} ({refusal.detail})")
        source.refused_recently += len(intake.refused)
        self.stats.payload("partial" if intake.refused and intake.accepted else "refused" if intake.refused else "accepted")

    def command(self, payload: bytes, now: float) -> Outgoing:
        """Answer what arrives on `cmd.*` for an NGSI source: a full state, or a refusal of a command."""
        msg = self._codec.decode_command(payload)
        if isinstance(msg, Rejection):
            return []
        source = self.sources.get((msg.domain, msg.supervisor))
        if source is None:
            return []
        if isinstance(msg, StateRequest):  # v2: written again only if Redis lost it, never published whole
            log.info("state requested from NGSI source %s (%s)", msg.supervisor, msg.reason)
            self._retain((msg.domain, msg.supervisor), source, now, sync=True)
            return []
        if msg.supervisor.startswith("ngsi-"):  # a vendor speaking NGSI on its own channel answers its own commands
            return source.refuse_command(msg.command_id, now)
        return []

    def tick(self, now: float) -> Outgoing:
        """Messages owed now by every source, and heartbeats of the sources still notifying."""
        if not self._restored and not self._try_restore():
            return []  # never announce a source before what was saved of it is back: its state would drop assets
        out: Outgoing = []
        beat = now >= self._next_heartbeat
        if beat:
            self._next_heartbeat = now + HEARTBEAT_EVERY_S
        for key, source in self.sources.items():
            if source.due(now):  # new assets or redefinitions: a new version first, then their readings
                self._writer(key).changed(definitions=True)
                self._retain(key, source, now)
            flushed = source.flush(now)
            if flushed:
                self._writer(key).changed()
            out.extend(flushed)
            if self._writer(key).due(now) and source.assets:
                self._retain(key, source, now)
            if beat and source.last_heard is not None and now - source.last_heard < self.silence_s:
                out.extend(source.heartbeat(now, now - self._started))
        if out or beat:
            self._persist_all()
        return out

    # --- Redis --------------------------------------------------------------------------------

    def _redis(self):
        if self._client is None:
            self._client = bounded_client(self.redis_url)
        return self._client

    def _publish(self, out: Outgoing) -> None:
        if not out:
            return
        try:
            pipe = self._redis().pipeline(transaction=False)
            for channel, payload in out:
                pipe.publish(channel, payload)
            pipe.execute()
            self.stats.published += len(out)
        except ERRORS as err:
            log.warning("NGSI relay could not publish %d message(s): %s", len(out), err)
            self._drop_client()

    def _persist_all(self) -> None:
        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.set(RELAY_KEY, repr(self.clock()), ex=RELAY_TTL_S)  # the HTTP endpoints forward only while this exists
            for (domain, sup), source in self.sources.items():
                name = f"{domain}:{sup}"
                if source.last_heard is not None:
                    pipe.hset(KEY + "supervisors", name, repr(source.last_heard))
                for aid in source.changed:
                    record = source.record(aid)
                    (pipe.hset(f"{KEY}assets:{name}", aid, record) if record is not None else pipe.hdel(f"{KEY}assets:{name}", aid))
                if source.alarms_changed:
                    pipe.delete(f"{KEY}alarms:{name}")
                    if source.alarms:
                        pipe.hset(f"{KEY}alarms:{name}", mapping={k: msgspec.json.encode(v) for k, v in source.alarms.items()})
                source.changed = set()
                source.alarms_changed = False
            pipe.execute()
        except ERRORS as err:
            log.warning("NGSI relay could not save its sources: %s", err)
            self._drop_client()

    def _connected(self) -> None:
        """On every (re)connect: take back the saved sources once, then make sure each one's state is retained."""
        now = self.clock()
        if not self._restored and not self._try_restore():
            return
        for key, source in self.sources.items():
            if source.assets:
                self._retain(key, source, now, sync=True)  # written again if Redis lost it (or after a relay restart)
        self._persist_all()  # also says "a relay is alive" to the HTTP endpoints

    # --- contract v2: each source's retained state ------------------------------------------------

    def _writer(self, key: tuple[str, str]) -> RetainedStateWriter:
        writer = self.retained.get(key)
        if writer is None:
            writer = self.retained[key] = RetainedStateWriter(key[0], key[1], refresh_s=self.retain_every_s)
        return writer

    def _retain(self, key: tuple[str, str], source: SourceSupervisor, now: float, sync: bool = False) -> None:
        """Write a new version of the source's retained state (`sync`: only if Redis lost it); announced on the bus."""
        writer = self._writer(key)
        build = lambda boot, version, definitions, refresh_s: source.retained(now, boot, version, definitions, refresh_s)  # noqa: E731
        try:
            written = writer.sync(self._redis(), build, now) if sync else bool(writer.write(self._redis(), build, now))
            self.stats.published += written  # the state_ready; the parts are keys, not messages
        except ERRORS as err:
            log.warning("NGSI relay could not write the retained state of %s: %s", key[1], err)
            writer.changed(definitions=True)  # tried again at the next tick
            self._drop_client()

    def _try_restore(self) -> bool:
        try:
            self._restore()
        except ERRORS as err:
            log.warning("NGSI relay could not read its saved sources (will retry): %s", err)
            self._drop_client()
            return False
        self._restored = True
        return True

    def _restore(self) -> None:
        client = self._redis()
        for name, heard in client.hgetall(KEY + "supervisors").items():
            domain, _, sup = name.decode().partition(":")
            if parse_ngsi_channel(f"sup.{domain}.{sup}.ngsi") is None:
                continue
            source = self.sources.get((domain, sup)) or self._new_source(domain, sup)
            source.restore(client.hvals(f"{KEY}assets:{domain}:{sup}"), client.hvals(f"{KEY}alarms:{domain}:{sup}"))
            source.last_heard = max(float(heard), source.last_heard or 0.0)
            self.sources[(domain, sup)] = source
        if self.sources:
            log.info("NGSI relay resumed %d source(s): %s", len(self.sources), ", ".join(s for _, s in self.sources))

    def _new_source(self, domain: str, supervisor: str) -> SourceSupervisor:
        return SourceSupervisor(domain, supervisor, refresh_s=self.refresh_s, min_spacing_s=self.min_spacing_s)

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass
            self._client = None

    # --- logging ----------------------------------------------------------------------------

    def _refused_payload(self, reason: str, detail: str) -> None:
        self.stats.payload("refused")
        self.stats.refuse(reason)
        self._log(detail)

    def _log(self, line: str) -> None:
        """Log refusals, at most 20 lines a minute."""
        start, n = self._log_budget
        now = time.monotonic()
        if now - start > 60.0:
            start, n = now, 0
        if n < 20:
            log.warning("NGSI: %s", line[:400])
        self._log_budget = (start, n + 1)


class NotTaken(RuntimeError):
    """A notification the bus could not take: `reason` is `no_relay` or `bus_unavailable`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def redis_forwarder(client) -> Callable[[str, bytes], None]:
    """How the HTTP endpoints hand entities to the relay: publish, provided a relay is alive; else NotTaken."""
    def forward(channel: str, payload: bytes) -> None:
        try:
            alive = client.exists(RELAY_KEY)
            if alive:
                client.publish(channel, payload)
        except ERRORS as err:
            raise NotTaken("bus_unavailable", f"Vigie cannot reach its bus: {type(err).__name__}") from err
        if not alive:
            raise NotTaken("no_relay", "no NGSI relay is running: the notification was not taken")
    return forward
