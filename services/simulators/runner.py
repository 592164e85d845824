"""Drive a simulated supervisor against Redis in wall-clock time, surviving Redis restarts."""
from __future__ import annotations

import logging
import time

import redis

from services.contract import cmd_channel
from services.redis_conn import BUS_ERRORS, connect
from services.threads import LoopThread

from .base import Outgoing, SupervisorSim

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
BACKOFF_MAX_S = 5.0


class Runner:
    """Steps a simulator every `step_s / speed` wall seconds and answers its `cmd.` channel."""

    def __init__(self, sim: SupervisorSim, redis_url: str, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.sim = sim
        self.redis_url = redis_url
        self.speed = speed
        self._loop = LoopThread(self.run, f"sim-{sim.supervisor_id}")
        self.stop_event = self._loop.stopping  # set it (SIGTERM) and the loop ends after its turn
        self.published = 0
        self._client: redis.Redis | None = None
        self._pubsub = None

    def publish(self, out: Outgoing) -> None:
        """Publish messages in order, in one round trip."""
        if not out or self._client is None:
            return
        pipe = self._client.pipeline(transaction=False)
        for channel, payload in out:
            pipe.publish(channel, payload)
        pipe.execute()
        self.published += len(out)

    def _connect(self) -> None:
        self._client = connect(self.redis_url)
        self._client.ping()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(cmd_channel(self.sim.domain, self.sim.supervisor_id))
        self.publish(self.sim.state())  # a (re)started supervisor announces its full state
        log.info("simulator %s.%s connected to Redis", self.sim.domain, self.sim.supervisor_id)

    def _disconnect(self) -> None:
        for closable in (self._pubsub, self._client):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail in many ways
                pass
        self._pubsub = self._client = None

    def run(self) -> None:
        """Run until `stop()`; reconnect with capped back-off when Redis goes away."""
        t0 = time.monotonic()
        wall_step = self.sim.step_s / self.speed
        next_step = next_hb = t0
        backoff = 0.1
        while not self.stop_event.is_set():
            try:
                if self._client is None:
                    self._connect()
                    backoff = 0.1
                now = time.monotonic()
                wait = max(0.0, min(next_step, next_hb) - now)
                msg = self._pubsub.get_message(timeout=min(wait, 0.05))
                while msg is not None:
                    if msg.get("type") == "message":
                        self.publish(self.sim.handle_command(msg["data"]))
                    msg = self._pubsub.get_message(timeout=0)
                now = time.monotonic()
                steps = 0
                while now >= next_step and steps < 50:  # catch up, but stay responsive
                    self.publish(self.sim.step())
                    next_step += wall_step
                    steps += 1
                if now - next_step > 5.0:  # hopelessly behind: drop wall time, keep the sim deterministic
                    next_step = now
                if now >= next_hb:
                    self.publish(self.sim.heartbeat(now - t0))
                    next_hb = now + HEARTBEAT_EVERY_S
            except BUS_ERRORS as err:
                log.warning("simulator %s: Redis unavailable (%s), retrying in %.1fs", self.sim.supervisor_id, err, backoff)
                self._disconnect()
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
        self._disconnect()

    def start(self) -> "Runner":
        """Run in a daemon thread (used by `make run` and the tests)."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for it."""
        self._loop.stop(timeout)
