"""Build the whole stack for browser tests, benchmarks and screenshots: engine, reader, web app, push.

Built by the app factory `app.create_app(settings)`, as `make run` builds it; only the settings differ
(simulators off unless asked, cheap password hashing, anonymous operator access, a temporary state folder).
The web server is Werkzeug in a thread (Socket.IO threading mode) instead of gunicorn's worker process.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import redis

from services.contract import encode, sup_channel
from services.settings import Settings
from tests.factory import serve_room, signed_in_session, stop_http, stack_settings  # noqa: F401 - the stacks import them from here


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    """A running Vigie: its URL, reader, engine, a Redis client to publish with, and how to stop it."""

    url: str
    reader: Any
    engine: Any
    hub: Any
    redis: redis.Redis
    settings: Settings
    redis_url: str = ""
    _stops: list = field(default_factory=list)
    seqs: dict = field(default_factory=dict)

    def publish(self, msg) -> None:
        """Publish a contract message on its channel."""
        self.redis.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))

    def env(self, kind: str, domain: str, supervisor: str) -> dict:
        """Envelope fields with the next sequence number of that supervisor, stamped now."""
        self.seqs[supervisor] = self.seqs.get(supervisor, 0) + 1
        return {"v": 1, "kind": kind, "domain": domain, "supervisor": supervisor,
                "ts": datetime.now(timezone.utc), "seq": self.seqs[supervisor]}

    def wait_for(self, predicate, timeout: float = 5.0, what: str = "condition") -> None:
        """Wait until `predicate()` is true."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.02)
        raise TimeoutError(f"timed out waiting for {what}")

    def stop(self) -> None:
        """Stop everything, last started first."""
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


def start_stack(redis_url: str | None, settings: Settings | None = None, simulators: bool = False) -> Stack:
    """The control room from the app factory on `redis_url` (a private one when None); simulators if asked."""
    settings = stack_settings(settings, redis_url=redis_url, run_simulators=simulators)
    room, url, http = serve_room(settings)
    runtime = room.runtime
    stops: list = [room.stop, lambda: stop_http(http)]
    try:
        client = redis.Redis.from_url(runtime.redis_url)
        stops.append(client.close)
        wait_subscribed(runtime.engine)
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    hub = room.server.extensions["vigie.ui"].hub
    stack = Stack(url=url, reader=runtime.reader, engine=runtime.engine, hub=hub, redis=client,
                  settings=settings, redis_url=runtime.redis_url, _stops=stops)
    stack.room, stack.server, stack.runtime = room, room.server, runtime
    return stack


def wait_subscribed(engine: Any, timeout: float = 30.0) -> None:
    """Wait until the engine listens to the bus: what a test publishes next is not lost (pub/sub keeps nothing)."""
    end = time.monotonic() + timeout
    while engine is not None and not engine.bus_up:
        if time.monotonic() > end:
            raise TimeoutError("the engine did not subscribe to the bus")
        time.sleep(0.02)
