"""Find the Redis Vigie talks to: REDIS_URL, else a private redis-server, else an embedded one.

One Redis per installation: the private server's URL and pid are recorded under the state folder
(`<state>/redis/redis.json`) while a lock (`<state>/redis/redis.lock`, held by the process that started it)
makes a second server on the same data folder impossible. Any other Vigie process (a second web worker,
the admin CLI) uses the recorded one.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import redis

from services.redis_conn import BusUnavailable, redacted
from services.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 10.0


@dataclass
class RedisHandle:
    """The Redis in use: its URL, where it comes from, and how to stop it if we started it."""

    url: str
    kind: str  # "external" | "private" | "embedded"
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)
    _owner: int = field(default_factory=os.getpid, repr=False)  # a forked child (a gunicorn worker) never stops it

    def stop(self) -> None:
        """Stop the server if this process started it (an external one, or another process's, is left alone)."""
        stop, self._stop = self._stop, (lambda: None)
        if os.getpid() == self._owner:
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
    # its own session: Ctrl-C in the terminal reaches Vigie, which stops Redis last, after flushing its writers
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


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


STATE_FILE = "redis.json"
LOCK_FILE = "redis.lock"


def _redis_dir(settings: Settings) -> Path:
    return settings.state_dir / "redis"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_private(settings: Settings) -> tuple[str, int] | None:
    """The (url, pid) of the private Redis another Vigie process runs for this state folder, if it answers."""
    path = _redis_dir(settings) / STATE_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(doc["url"]), int(doc["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    try:
        wait_ready(url, timeout_s=1.0)
    except BusUnavailable:
        return None
    return url, pid


class _Lock:
    """The exclusive lock on the state folder's Redis data (released when the holder exits, even killed)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1


def _record(settings: Settings, url: str, pid: int, kind: str) -> Path:
    path = _redis_dir(settings) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": pid, "kind": kind, "owner": os.getpid()}), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def _forget(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _shared(settings: Settings, url: str, pid: int) -> RedisHandle:
    log.info("Redis: the private redis-server already running for %s (pid %d, %s); left running when this process ends",
             settings.state_dir, pid, url)
    return RedisHandle(url, "private")


def _private(settings: Settings, binary: str, lock: _Lock) -> RedisHandle:
    port = free_port()
    data_dir = _redis_dir(settings)
    proc = start_redis_server(port, data_dir, binary=binary)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_ready(url, alive=lambda: proc.poll() is None)
    except BusUnavailable:
        err = proc.stderr.read().decode(errors="replace").strip() if proc.poll() is not None and proc.stderr else ""
        _stop_process(proc)
        raise BusUnavailable(f"private redis-server did not start: {err or 'no answer'}") from None
    record = _record(settings, url, proc.pid, "private")
    log.info("Redis: private redis-server on 127.0.0.1:%d (pid %d, data in %s), stopped with Vigie", port, proc.pid, data_dir)

    def stop() -> None:
        _forget(record)
        _stop_process(proc)
        lock.release()

    return RedisHandle(url, "private", stop)


def _embedded(settings: Settings, lock: _Lock) -> RedisHandle:
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    server.daemon_threads = True
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="vigie-embedded-redis", daemon=True)
    thread.start()

    url = f"redis://127.0.0.1:{port}/0"
    record = _record(settings, url, os.getpid(), "embedded")

    def stop() -> None:
        _forget(record)
        server.shutdown()
        server.server_close()
        lock.release()

    log.warning("Redis: no REDIS_URL and no redis-server on PATH; using an embedded in-memory Redis on 127.0.0.1:%d "
                "(nothing persists, fine for a demo; install redis-server for real use)", port)
    return RedisHandle(url, "embedded", stop)


def resolve_redis(settings: Settings) -> RedisHandle:
    """Use REDIS_URL when set; else the private Redis already running for this state folder; else start one
    (a private redis-server if one is installed, else an embedded one), holding the state folder's lock."""
    if settings.redis_url:
        log.info("Redis: external server at %s (from REDIS_URL)", redacted(settings.redis_url))
        return RedisHandle(settings.redis_url, "external")
    running = running_private(settings)
    if running is not None:
        return _shared(settings, *running)
    lock = _Lock(_redis_dir(settings))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not lock.try_acquire():  # another process holds the data folder: it is starting its server, or running it
        running = running_private(settings)
        if running is not None:
            lock.release()
            return _shared(settings, *running)
        if time.monotonic() > deadline:
            lock.release()
            raise BusUnavailable(f"another process holds {_redis_dir(settings) / LOCK_FILE} but its Redis does not answer")
        time.sleep(0.1)
    try:
        binary = shutil.which("redis-server")
        if binary:
            try:
                return _private(settings, binary, lock)
            except (BusUnavailable, OSError) as err:
                log.warning("Redis: could not start a private redis-server (%s); falling back to an embedded one", err)
        return _embedded(settings, lock)
    except BaseException:
        lock.release()
        raise


def existing_redis(settings: Settings) -> str:
    """The URL of the Redis this installation runs (REDIS_URL, else the recorded private one); never starts one.

    Raises BusUnavailable with what to do when there is none (the admin CLI says it instead of starting its own).
    """
    if settings.redis_url:
        return settings.redis_url
    running = running_private(settings)
    if running is None:
        raise BusUnavailable(
            f"no Redis is running for {settings.state_dir}: start the control room first (make run, or "
            f".venv/bin/python app.py), or set REDIS_URL to the Redis it uses")
    return running[0]

