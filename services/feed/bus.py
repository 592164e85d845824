"""The Redis side of the engine: the `sup.*` feed subscriber and the `cmd.` publisher (snapshots: services/feed/snapshots.py).

The subscriber follows python-socketio's Redis manager: one subscription, capped exponential
back-off while Redis is away, and a callback on every reconnect so its owner can re-sync
(pub/sub forgets what was published while nobody listened).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.contract import SUP_PATTERN
from services.redis_conn import BUS_ERRORS, BusUnavailable, connect, redacted

log = logging.getLogger(__name__)

Message = tuple[bytes, bytes]  # (channel, payload)
ERRORS = (*BUS_ERRORS, redis.RedisError)


def bounded_client(url: str, timeout_s: float = 2.0) -> redis.Redis:
    """A client whose calls fail within `timeout_s` instead of hanging or retrying for seconds."""
    client = connect(url, timeout_s=timeout_s)
    client.get_connection_kwargs().update(socket_timeout=timeout_s)
    client.set_retry(Retry(NoBackoff(), 1))  # one immediate retry: a pooled connection may predate a restart
    return client


def _buffered_replies(conn: object) -> Callable[[], object] | None:
    """The hiredis reader's `gets` behind a redis-py connection, when there is one (else None: the slower public path).

    The subscriber drains complete replies already in the buffer with it: 3 to 4 times cheaper a message
    than `read_response()`, which matters at tens of thousands of messages a second. Anything that is not
    a reply list (an incomplete one, an error) sends the loop back to `read_response()`.
    """
    reader = getattr(getattr(conn, "_parser", None), "_reader", None)
    gets = getattr(reader, "gets", None)
    return gets if callable(gets) and hasattr(reader, "has_data") else None


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
    ) -> None:
        self.url = url
        self.pattern = pattern.encode()
        self.on_connected = on_connected
        self.on_lost = on_lost
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.idle_ping_s = idle_ping_s
        self.timeout_s = timeout_s
        self.connected = False
        self.reconnects = 0
        self._client: redis.Redis | None = None
        self._pubsub = None
        self._conn = None
        self._backoff = backoff_initial_s
        self._retry_at = 0.0
        self._was_lost = False
        self._last_data = 0.0
        self._ping_sent: float | None = None

    def poll(self, timeout: float, max_messages: int = 2000) -> list[Message]:
        """Return up to `max_messages` (channel, payload) pairs, waiting at most `timeout` for the first."""
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
        try:
            return self._drain(timeout, max_messages)
        except ERRORS as err:
            self._lost(err)
            return []

    def _connect(self) -> None:
        self._client = bounded_client(self.url, self.timeout_s)
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

    def _drain(self, timeout: float, max_messages: int) -> list[Message]:
        conn = self._conn
        out: list[Message] = []
        if not conn.can_read(timeout=timeout):
            self._check_idle()
            return out
        read = conn.read_response
        append = out.append
        buffered = _buffered_replies(conn)
        while True:
            reply = read(disconnect_on_error=False, push_request=True)  # reads the socket; it times out after timeout_s mid-message
            while True:
                if type(reply) is list and len(reply) == 4 and reply[0] == b"pmessage":
                    append((reply[2], reply[3]))
                    if len(out) >= max_messages:
                        break
                if buffered is None:
                    break
                reply = buffered()  # the replies already received, without redis-py's per-reply overhead
                if type(reply) is not list:  # nothing complete left in the buffer
                    break
            if len(out) >= max_messages or not conn.can_read(timeout=0):
                break
        self._last_data = time.monotonic()
        self._ping_sent = None
        return out

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
