"""The Redis side of the engine: the `sup.*` feed subscriber and the `cmd.` publisher (snapshots: services/feed/snapshots.py).

The subscriber follows python-socketio's Redis manager: one subscription, capped exponential
back-off while Redis is away, and a callback on every reconnect so its owner can re-sync
(pub/sub forgets what was published while nobody listened).

Reading never waits for the consumer: a `FeedReader` thread drains the subscription into a
`FeedQueue` bounded in bytes, and the consumer (the engine, the recorder) takes batches from it at
its own pace. Redis therefore never holds a backlog for Vigie (its `client-output-buffer-limit
pubsub` would cut the subscription); a backlog waits in the queue, and past its bound what does
not fit is dropped, counted and its supervisors named, so the consumer asks them for one resync.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.contract import SUP_PATTERN
from services.contract.channels import ChannelError, parse_sup_channel
from services.threads import LoopThread
from services.redis_conn import BUS_ERRORS, BusUnavailable, connect, redacted

log = logging.getLogger(__name__)

Message = tuple[bytes, bytes]  # (channel, payload)
ERRORS = (*BUS_ERRORS, redis.RedisError)
READ_SIZE = 1 << 20  # bytes the subscriber takes from its socket at once: one wait for the interpreter per megabyte
FEED_SIZE = 32 * 1024  # ... handed to hiredis in slices: it moves its unparsed rest at each reply, so it is kept small
PER_MESSAGE_BYTES = 128  # what a queued message costs besides its payload: the channel, the tuple, object headers
READ_WAIT_S = 0.1  # the reader's longest wait for data before it checks the link and whether to stop
READ_BATCH = 2000  # messages the reader hands the queue at once, at most


def bounded_client(url: str, timeout_s: float = 2.0, **connection: object) -> redis.Redis:
    """A client whose calls fail within `timeout_s` instead of hanging or retrying for seconds.

    `connection`: more redis-py connection options (`client_name`, `socket_read_size`).
    """
    client = connect(url, timeout_s=timeout_s)
    client.get_connection_kwargs().update(socket_timeout=timeout_s, **connection)
    client.set_retry(Retry(NoBackoff(), 1))  # one immediate retry: a pooled connection may predate a restart
    return client


def _buffered_replies(conn: object) -> tuple[Callable[[], object], Callable[..., None], socket.socket] | None:
    """The hiredis reader behind a redis-py connection (`gets`, `feed`) and its socket, when there is one (else None:
    the slower public path, `read_response()` a reply at a time).

    The subscriber reads the socket itself, a megabyte at a time, feeds hiredis in small slices and drains
    the complete replies with `gets`: 3 to 4 times cheaper a message than `read_response()`, which matters
    at tens of thousands of messages a second, and one release of the interpreter per megabyte rather than
    per 32 KiB, which matters when another thread (the engine) is busy.
    """
    parser = getattr(conn, "_parser", None)
    reader = getattr(parser, "_reader", None)
    sock = getattr(parser, "_sock", None) or getattr(conn, "_sock", None)
    gets, feed = getattr(reader, "gets", None), getattr(reader, "feed", None)
    if callable(gets) and callable(feed) and hasattr(reader, "has_data") and sock is not None:
        return gets, feed, sock
    return None


def _parse(gets: Callable[[], object], append: Callable[[Message], None]) -> int:
    """Append every complete `pmessage` hiredis holds; other replies (subscription confirmations, PONG) are skipped.
    Return how many replies were complete."""
    n = 0
    while True:
        reply = gets()
        if type(reply) is list:
            if len(reply) == 4 and reply[0] == b"pmessage":
                append((reply[2], reply[3]))
        elif isinstance(reply, BaseException):  # an error reply from the server
            raise reply
        else:  # nothing complete left
            return n
        n += 1


def where(url: str) -> str:
    """A Redis URL without its passwords (for logs)."""
    return redacted(url)


class FeedSubscriber:
    """The one `sup.*` pattern subscription, polled by its owner's thread; it never dies on input."""

    def __init__(
        self,
        url: str,
        *,
        pattern: str = SUP_PATTERN,
        on_connected: Callable[[], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        idle_ping_s: float = 5.0,
        timeout_s: float = 2.0,
        client_name: str | None = None,
    ) -> None:
        self.url = url
        self.client_name = client_name  # shown by CLIENT LIST, so an operator can tell Vigie's subscriptions apart
        self.pattern = pattern.encode()
        self.on_connected = on_connected
        self.on_lost = on_lost
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.idle_ping_s = idle_ping_s
        self.timeout_s = timeout_s
        self.connected = False
        self.reconnects = 0
        self.losses = 0  # times the subscription was lost (Redis away, the connection cut)
        self._broken: BaseException | None = None  # a loss to report once what was read before it is handed over
        self._client: redis.Redis | None = None
        self._pubsub = None
        self._conn = None
        self._backoff = backoff_initial_s
        self._retry_at = 0.0
        self._was_lost = False
        self._last_data = 0.0
        self._ping_sent: float | None = None
        self._buffer = bytearray(READ_SIZE)

    def poll(self, timeout: float, max_messages: int = 2000) -> list[Message]:
        """Return up to `max_messages` (channel, payload) pairs, waiting at most `timeout` for the first.

        When the connection breaks after some messages were read, they are returned first, and the
        loss (`on_lost`) is reported by the next call: nothing read is thrown away, and the owner
        sees the messages and the loss in the order they happened.
        """
        if self._broken is not None:
            err, self._broken = self._broken, None
            self._lost(err)
            return []
        if self._conn is None:
            wait = self._retry_at - time.monotonic()
            if wait > 0:
                time.sleep(min(timeout, wait))
                return []
            try:
                self._connect()
            except ERRORS as err:
                self._lost(err)
                return []
        out: list[Message] = []
        try:
            self._drain(timeout, max_messages, out)
        except ERRORS as err:
            if not out:
                self._lost(err)
            else:
                self.connected = False
                self._broken = err
        return out

    def _connect(self) -> None:
        self._client = bounded_client(self.url, self.timeout_s, client_name=self.client_name)
        self._pubsub = self._client.pubsub()
        self._pubsub.psubscribe(self.pattern)
        self._conn = conn = self._pubsub.connection
        deadline = time.monotonic() + self.timeout_s
        while True:  # wait for the confirmation: from here on nothing published is missed
            if not conn.can_read(timeout=max(0.0, deadline - time.monotonic())):
                raise redis.TimeoutError("no answer to PSUBSCRIBE")
            reply = conn.read_response(disconnect_on_error=False, push_request=True, timeout=self.timeout_s)
            if isinstance(reply, list) and reply and reply[0] == b"psubscribe":
                break
        self.connected = True
        self._backoff = self.backoff_initial_s
        self._last_data = time.monotonic()
        self._ping_sent = None
        if self._was_lost:
            self.reconnects += 1
            log.info("Redis feed back on %s: subscribed to %s again", where(self.url), self.pattern.decode())
        else:
            log.info("Redis feed: subscribed to %s on %s", self.pattern.decode(), where(self.url))
        self._was_lost = False
        self._callback(self.on_connected)

    def _drain(self, timeout: float, max_messages: int, out: list[Message]) -> None:
        conn = self._conn
        if not conn.can_read(timeout=timeout):
            self._check_idle()
            return
        read = conn.read_response
        append = out.append
        fast = _buffered_replies(conn)
        if fast is None:
            while len(out) < max_messages:
                reply = read(disconnect_on_error=False, push_request=True)  # it times out after timeout_s mid-message
                if type(reply) is list and len(reply) == 4 and reply[0] == b"pmessage":
                    append((reply[2], reply[3]))
                if not conn.can_read(timeout=0):
                    break
        else:  # may return a little more than max_messages: everything one read of the socket completes
            gets, feed, sock = fast
            if not _parse(gets, append):  # bytes wait on the socket, or the rest of a reply does: read, waiting up to timeout_s
                self._feed(feed, gets, append, self._read_now(sock))
            while len(out) < max_messages:
                n = self._read_now(sock, wait=False)
                if n == 0:
                    break
                self._feed(feed, gets, append, n)
        self._last_data = time.monotonic()
        self._ping_sent = None

    def _read_now(self, sock: socket.socket, wait: bool = True) -> int:
        """Read what the socket holds into the buffer (up to READ_SIZE): wait at most timeout_s for it, or not at all."""
        try:
            if not wait:
                sock.settimeout(0)
            n = sock.recv_into(self._buffer)
        except (BlockingIOError, ssl.SSLWantReadError):
            return 0
        except socket.timeout as err:
            raise redis.TimeoutError(f"nothing to read for {self.timeout_s} s") from err
        finally:
            if not wait:
                sock.settimeout(self.timeout_s)
        if n == 0:
            raise redis.ConnectionError("Connection closed by server.")
        return n

    def _feed(self, feed: Callable[..., None], gets: Callable[[], object], append: Callable[[Message], None], n: int) -> None:
        """Hand `n` bytes of the buffer to hiredis in small slices, taking the complete messages after each."""
        buf = self._buffer
        for off in range(0, n, FEED_SIZE):
            feed(buf, off, min(FEED_SIZE, n - off))
            _parse(gets, append)

    def _check_idle(self) -> None:
        """Ping a quiet connection; a PING left unanswered means the link is dead."""
        now = time.monotonic()
        if self._ping_sent is not None:
            if now - self._ping_sent > self.timeout_s + 1.0:
                raise redis.TimeoutError(f"no answer to PING for {now - self._ping_sent:.0f} s")
        elif now - self._last_data > self.idle_ping_s:
            self._conn.send_command("PING", check_health=False)
            self._ping_sent = now

    def _lost(self, err: BaseException) -> None:
        first = not self._was_lost
        self._close()
        self._retry_at = time.monotonic() + self._backoff
        if first:
            log.warning("Redis feed lost on %s (%s); retrying with back-off up to %.0f s", where(self.url), err, self.backoff_max_s)
        else:
            log.debug("Redis feed still down (%s); next try in %.1f s", err, self._backoff)
        self._backoff = min(self._backoff * 2, self.backoff_max_s)
        if first:
            self._was_lost = True
            self.losses += 1
            self._callback(self.on_lost, str(err))

    def _callback(self, fn: Callable | None, *args) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a callback's bug must not stop the feed
            log.exception("feed callback %s failed", getattr(fn, "__name__", fn))

    def _close(self) -> None:
        self.connected = False
        for closable in (self._pubsub, self._client):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail in many ways
                pass
        self._client = self._pubsub = self._conn = None

    def close(self) -> None:
        """Drop the subscription."""
        self._broken = None
        self._close()

    def run(self, handler: Callable[[list[Message]], None], stop: threading.Event, timeout: float = 0.1) -> None:
        """Poll until `stop` is set, handing each batch to `handler` (for a standalone listener)."""
        while not stop.is_set():
            batch = self.poll(timeout)
            if batch:
                try:
                    handler(batch)
                except Exception:  # noqa: BLE001 - bad input never kills the loop
                    log.exception("feed handler failed on a batch of %d messages", len(batch))
        self.close()


# --- reading in a thread of its own ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BusChange:
    """The subscription went down or came back; queued in order with the messages read around it."""

    up: bool
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class Oversized:
    """A message over the payload limit: counted, never queued nor decoded; only its first bytes are kept (for the log)."""

    channel: bytes
    head: bytes
    size: int
    at: float


@dataclass(slots=True)
class Taken:
    """One take from a FeedQueue: messages in arrival order, then at most one bus change."""

    chunks: list[tuple[float, list[Message]]] = field(default_factory=list)  # (received at, messages)
    change: BusChange | None = None  # what happened to the subscription after these messages
    oversized: list[Oversized] = field(default_factory=list)
    overflowed: dict[tuple[str, str], float] = field(default_factory=dict)  # (domain, supervisor) -> first drop

    @property
    def messages(self) -> int:
        """How many messages the chunks hold."""
        return sum(len(msgs) for _, msgs in self.chunks)

    def __bool__(self) -> bool:
        return bool(self.chunks or self.change or self.oversized or self.overflowed)


class _Chunk:
    """Messages received together: one receive time, their queued size, their channels once someone asks."""

    __slots__ = ("at", "messages", "nbytes", "channels")

    def __init__(self, at: float, messages: list[Message], nbytes: int) -> None:
        self.at = at
        self.messages = messages
        self.nbytes = nbytes
        self.channels: set[bytes] | None = None


def _size(messages: list[Message]) -> int:
    return sum(map(len, map(itemgetter(1), messages))) + PER_MESSAGE_BYTES * len(messages)


def _supervisor_of(channel: bytes) -> tuple[str, str] | None:
    """(domain, supervisor) of a well-formed `sup.` channel, else None."""
    try:
        sup = parse_sup_channel(channel.decode("utf-8"))
    except (UnicodeDecodeError, ChannelError):
        return None
    return sup.domain, sup.supervisor


class FeedQueue:
    """What a reader thread received and its consumer has not taken yet, bounded in bytes.

    One producer (`put`, `put_change`) and one consumer (`take`). A message that does not fit is
    dropped at the door and counted (`dropped`, by domain); its supervisor is named once in the next
    `take` (`Taken.overflowed`) so the consumer can ask it for its state. A message larger than
    `max_payload` is never queued: it comes out as `Taken.oversized`, to be counted as `too_large`.
    Bus changes are always queued, whatever the bound: they are tiny and their order matters.
    """

    def __init__(self, max_bytes: int, max_payload: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_payload = max_payload
        self._cv = threading.Condition(threading.Lock())
        self._items: deque[_Chunk | BusChange] = deque()
        self._oversized: list[Oversized] = []
        self._overflowed: dict[tuple[str, str], float] = {}
        self._woken = False
        self._sup_names: dict[bytes, tuple[str, str] | None] = {}  # channel -> (domain, supervisor), for heard()
        self.bytes = 0  # queued now
        self.peak_bytes = 0
        self.length = 0  # messages queued now
        self.received = 0  # messages put, all time (oversized and dropped ones included)
        self.dropped: dict[str, int] = {}  # domain ("unknown" for a bad channel) -> messages dropped for want of room
        self.dropped_bytes = 0
        self.oversized = 0

    # --- the reader's side -------------------------------------------------------------------

    def put(self, messages: list[Message], at: float) -> None:
        """Queue messages received at `at`, as many as fit; count and name the rest."""
        if not messages:
            return
        limit = self.max_payload
        big = None
        if limit is not None and max(map(len, map(itemgetter(1), messages))) > limit:
            big = [Oversized(ch, p[:120], len(p), at) for ch, p in messages if len(p) > limit]
            messages = [m for m in messages if len(m[1]) <= limit]
        nbytes = _size(messages)
        with self._cv:
            self.received += len(messages) + (len(big) if big else 0)
            if big:
                self.oversized += len(big)
                self._oversized.extend(big)
            if messages:
                if self.bytes + nbytes <= self.max_bytes:
                    self._append(_Chunk(at, messages, nbytes))
                else:
                    self._squeeze(messages, at)
            self._cv.notify()

    def _append(self, chunk: _Chunk) -> None:
        self._items.append(chunk)
        self.bytes += chunk.nbytes
        self.length += len(chunk.messages)
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes

    def _squeeze(self, messages: list[Message], at: float) -> None:
        """The queue is (nearly) full: keep each message that still fits, drop the others."""
        kept: list[Message] = []
        room = self.max_bytes - self.bytes
        for channel, payload in messages:
            size = len(payload) + PER_MESSAGE_BYTES
            if size <= room:
                kept.append((channel, payload))
                room -= size
                continue
            who = _supervisor_of(channel)
            domain = who[0] if who else "unknown"
            self.dropped[domain] = self.dropped.get(domain, 0) + 1
            self.dropped_bytes += size
            if who is not None and who not in self._overflowed:
                self._overflowed[who] = at
        if kept:
            self._append(_Chunk(at, kept, _size(kept)))

    def put_change(self, change: BusChange) -> None:
        """Queue a bus change after what was received before it."""
        with self._cv:
            self._items.append(change)
            self._cv.notify()

    # --- the consumer's side -----------------------------------------------------------------

    def take(self, max_messages: int, timeout: float) -> Taken:
        """Take up to `max_messages` messages in arrival order (then a bus change, if one comes next);
        wait at most `timeout` for something when the queue is empty (`wake()` ends the wait)."""
        out = Taken()
        with self._cv:
            if not self._items and not self._oversized and not self._overflowed and timeout > 0 and not self._woken:
                self._cv.wait(timeout)
            self._woken = False
            if self._oversized:
                out.oversized, self._oversized = self._oversized, []
            if self._overflowed:
                out.overflowed, self._overflowed = self._overflowed, {}
            room = max_messages
            items = self._items
            while items and room > 0:
                head = items[0]
                if type(head) is BusChange:
                    out.change = items.popleft()
                    break
                n = len(head.messages)
                if n <= room:
                    items.popleft()
                    out.chunks.append((head.at, head.messages))
                    self.bytes -= head.nbytes
                    self.length -= n
                    room -= n
                else:  # take the front of a chunk; the rest stays first in line
                    part, head.messages = head.messages[:room], head.messages[room:]
                    size = _size(part)
                    head.nbytes -= size
                    out.chunks.append((head.at, part))
                    self.bytes -= size
                    self.length -= room
                    room = 0
        return out

    def wake(self) -> None:
        """End a consumer's wait in `take` now (it has something else to do)."""
        with self._cv:
            self._woken = True
            self._cv.notify()

    def heard(self) -> tuple[dict[str, float], float | None]:
        """What waits in the queue, for judging freshness: (supervisor id -> when the reader received its latest
        message still queued, when the bus was lost if that loss is queued too).

        A backlog must not make a supervisor look silent: its messages are here, only not applied yet; and
        nobody can be judged silent past a loss of the bus the consumer has not reached.
        """
        out: dict[str, float] = {}
        lost_at = None
        names = self._sup_names
        with self._cv:
            for item in reversed(self._items):  # newest first: the first time seen is the latest
                if type(item) is BusChange:
                    if not item.up:
                        lost_at = item.at  # ends as the earliest queued loss
                    continue
                if item.channels is None:
                    item.channels = {m[0] for m in item.messages}
                for channel in item.channels:
                    if channel not in names:
                        if len(names) > 100_000:  # hostile channel names: forget, rather than grow without end
                            names.clear()
                        names[channel] = _supervisor_of(channel) if channel.startswith(b"sup.") else None
                    who = names[channel]
                    if who is not None and who[1] not in out:
                        out[who[1]] = item.at
        return out, lost_at

    def stats(self) -> dict:
        """Counters for /metrics and /healthz (a consistent copy)."""
        with self._cv:
            return {"bytes": self.bytes, "peak_bytes": self.peak_bytes, "max_bytes": self.max_bytes, "messages": self.length,
                    "received": self.received, "dropped": dict(self.dropped), "dropped_bytes": self.dropped_bytes,
                    "oversized": self.oversized}


class FeedReader:
    """A thread that drains one subscription into a FeedQueue, whatever the consumer is doing.

    The subscription's losses and returns go into the queue as BusChange, after the messages read
    before them, so the consumer applies what was read, then learns the bus went away.
    """

    def __init__(self, url: str, queue: FeedQueue, *, pattern: str = SUP_PATTERN, name: str = "vigie-feed-reader",
                 clock: Callable[[], float] = time.time, batch: int = READ_BATCH,
                 on_subscribed: Callable[[], None] | None = None, **subscriber: object) -> None:
        self.queue = queue
        self.clock = clock
        self.batch = batch
        self.on_subscribed = on_subscribed  # run on the reader thread after each (re)subscription (the engine checks Redis)
        self.subscriber = FeedSubscriber(url, pattern=pattern, on_connected=self._connected, on_lost=self._lost,
                                         client_name=name, **subscriber)
        self.cpu_s = 0.0  # CPU time the reader thread has used (benchmarks)
        self._reading = threading.Event()
        self._reading.set()
        self._loop = LoopThread(self._run, name)

    def start(self) -> "FeedReader":
        """Start reading (Redis may be down: the subscriber retries with back-off)."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and drop the subscription."""
        self._reading.set()
        self._loop.stop(timeout)
        self.subscriber.close()

    @property
    def connected(self) -> bool:
        """Is the subscription up right now (not: has the consumer caught up)?"""
        return self.subscriber.connected

    @property
    def alive(self) -> bool:
        """Is the reader thread running?"""
        return self._loop.alive

    def hold(self) -> None:
        """Stop reading until `release()` (Redis keeps what is published meanwhile, up to its limit): for benchmarks."""
        self._reading.clear()

    def release(self) -> None:
        """Read again after `hold()`."""
        self._reading.set()

    def _connected(self) -> None:
        self.queue.put_change(BusChange(True, "subscribed", self.clock()))
        if self.on_subscribed is not None:
            self.on_subscribed()  # the subscriber's callback guard logs a failure; Redis holds what arrives meanwhile

    def _lost(self, why: str) -> None:
        self.queue.put_change(BusChange(False, why, self.clock()))

    def _run(self) -> None:
        stop, reading, poll, put, clock = self._loop.stopping, self._reading, self.subscriber.poll, self.queue.put, self.clock
        cpu0 = time.thread_time()
        while not stop.is_set():
            if not reading.is_set():
                reading.wait(READ_WAIT_S)
                continue
            try:
                batch = poll(READ_WAIT_S, self.batch)
                if batch:
                    put(batch, clock())
            except Exception:  # noqa: BLE001 - the reader never dies; a bug is logged and reading goes on
                log.exception("feed reader error")
                stop.wait(0.1)
            self.cpu_s = time.thread_time() - cpu0


class CommandPublisher:
    """Publishes on `cmd.` channels; Redis errors become BusUnavailable."""

    def __init__(self, url: str, timeout_s: float = 2.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._client: redis.Redis | None = None

    def publish(self, channel: str, payload: bytes) -> int:
        """Publish one message; return how many subscribers received it."""
        try:
            if self._client is None:
                self._client = bounded_client(self.url, self.timeout_s)
            return int(self._client.publish(channel, payload))
        except ERRORS as err:
            self.close()
            raise BusUnavailable(f"cannot publish on {channel}: {err}") from err

    def close(self) -> None:
        """Drop the connection (the next publish reconnects)."""
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass
            self._client = None
