"""Find the Redis Vigie talks to: REDIS_URL, else a private redis-server, else an embedded one."""
from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import redis

from services.redis_conn import BusUnavailable
from services.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 10.0


@dataclass
class RedisHandle:
    """The Redis in use: its URL, where it comes from, and how to stop it if we started it."""

    url: str
    kind: str  # "external" | "private" | "embedded"
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        """Stop the server if Vigie started it (an external one is left alone)."""
        stop, self._stop = self._stop, (lambda: None)
        stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout_s: float = READY_TIMEOUT_S, alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until Redis at `url` answers PING; raise BusUnavailable if it does not in time."""
    deadline = time.monotonic() + timeout_s
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        while True:
            try:
                if client.ping():
                    return
            except (redis.RedisError, OSError) as err:
                if time.monotonic() > deadline or not alive():
                    raise BusUnavailable(f"Redis at {url} did not answer: {err}") from err
            time.sleep(0.05)
    finally:
        client.close()


def start_redis_server(port: int, data_dir: Path | None, *, appendonly: bool = True, binary: str = "redis-server") -> subprocess.Popen:
    """Start a redis-server on 127.0.0.1:`port` (data in `data_dir`, append-only file when asked)."""
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes", "--save", "",
            "--appendonly", "yes" if appendonly and data_dir else "no", "--loglevel", "warning",
            # a subscriber catching up on a big state burst must not be cut off
            "--client-output-buffer-limit", "pubsub 256mb 64mb 60"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["--dir", str(data_dir)]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stderr is not None:
        proc.stderr.close()


def _private(settings: Settings, binary: str) -> RedisHandle:
    port = free_port()
    data_dir = settings.state_dir / "redis"
    proc = start_redis_server(port, data_dir, binary=binary)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_ready(url, alive=lambda: proc.poll() is None)
    except BusUnavailable:
        err = proc.stderr.read().decode(errors="replace").strip() if proc.poll() is not None and proc.stderr else ""
        _stop_process(proc)
        raise BusUnavailable(f"private redis-server did not start: {err or 'no answer'}") from None
    log.info("Redis: private redis-server on 127.0.0.1:%d (data in %s), stopped with Vigie", port, data_dir)
    return RedisHandle(url, "private", lambda: _stop_process(proc))


def _embedded() -> RedisHandle:
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    server.daemon_threads = True
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="vigie-embedded-redis", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    log.warning("Redis: no REDIS_URL and no redis-server on PATH; using an embedded in-memory Redis on 127.0.0.1:%d "
                "(nothing persists, fine for a demo; install redis-server for real use)", port)
    return RedisHandle(f"redis://127.0.0.1:{port}/0", "embedded", stop)


def resolve_redis(settings: Settings) -> RedisHandle:
    """Use REDIS_URL when set; else start a private redis-server if one is installed; else an embedded one."""
    if settings.redis_url:
        log.info("Redis: external server at %s (from REDIS_URL)", settings.redis_url.split("@")[-1])
        return RedisHandle(settings.redis_url, "external")
    binary = shutil.which("redis-server")
    if binary:
        try:
            return _private(settings, binary)
        except (BusUnavailable, OSError) as err:
            log.warning("Redis: could not start a private redis-server (%s); falling back to an embedded one", err)
    return _embedded()
