"""Build the whole stack for browser tests, benchmarks and screenshots: engine, reader, web app, push.

Uses services.runtime.start_services (simulators off unless asked). The web server is Werkzeug in
a thread (Socket.IO threading mode), as `app.py` runs it.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import redis
from flask import Flask
from werkzeug.serving import make_server

from services.contract import encode, sup_channel
from services.settings import Settings


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
    """Start Redis (a private one when `redis_url` is None), engine, reader and web app; simulators if asked."""
    from dashboards import create_dash_app
    from services.runtime import start_services

    settings = (settings or Settings()).with_(redis_url=redis_url, run_simulators=simulators)
    runtime = start_services(settings)
    stops: list = [runtime.stop]
    try:
        server = Flask("vigie-test")
        server.config["SECRET_KEY"] = "test"
        _app, _socketio = create_dash_app(server, settings, runtime.reader, runtime.engine)
        hub = server.extensions["vigie.ui"].hub
        if hub is not None:
            stops.append(hub.stop)
        port = free_port()
        http = make_server("127.0.0.1", port, server, threaded=True)
        threading.Thread(target=http.serve_forever, name="vigie-http", daemon=True).start()
        stops.append(http.shutdown)
        client = redis.Redis.from_url(runtime.redis_url)
        stops.append(client.close)
        wait_subscribed(runtime.engine)
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    return Stack(url=f"http://127.0.0.1:{port}", reader=runtime.reader, engine=runtime.engine, hub=hub, redis=client,
                 settings=settings, redis_url=runtime.redis_url, _stops=stops)


def wait_subscribed(engine: Any, timeout: float = 30.0) -> None:
    """Wait until the engine listens to the bus: what a test publishes next is not lost (pub/sub keeps nothing)."""
    end = time.monotonic() + timeout
    while engine is not None and not engine.bus_up:
        if time.monotonic() > end:
            raise TimeoutError("the engine did not subscribe to the bus")
        time.sleep(0.02)
