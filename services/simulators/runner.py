"""Drive a simulated supervisor against Redis in wall-clock time, surviving Redis restarts.

The runner speaks contract v2 for a simulator that can build a retained version (`retained`): its full
state is kept in Redis (services/feed/retained_writer.py), rewritten at most every `refresh_s` while the
world changes; after a reconnect, or on a `state_request`, it is written again only if Redis lost it. A
simulator without `retained`, or one whose Redis user may not write its keys, speaks v1: its full state
is published, on (re)connect and on request.
"""
from __future__ import annotations

import logging
import time

import redis

from services.contract import cmd_channel
from services.feed.retained_writer import RetainedStateWriter
from services.redis_conn import BUS_ERRORS, connect
from services.threads import LoopThread

from .base import Outgoing, SupervisorSim

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
BACKOFF_MAX_S = 5.0
REFRESH_S = 15.0  # a new retained version at most this long after a change (wall seconds)
SYNC_EVERY_S = 1.0  # state requests answered at most this often (each checks the retained state in Redis)


class Runner:
    """Steps a simulator every `step_s / speed` wall seconds and answers its `cmd.` channel."""

    def __init__(self, sim: SupervisorSim, redis_url: str, speed: float = 1.0, *, retain: bool = True, refresh_s: float = REFRESH_S) -> None:
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
        can_retain = retain and callable(getattr(sim, "retained", None))
        self.retained = RetainedStateWriter(sim.domain, sim.supervisor_id, refresh_s=refresh_s) if can_retain else None
        if self.retained is not None:
            sim.retains = True
        self._synced_at = float("-inf")
        self.syncs = 0  # (v2) times the retained state was checked after a (re)connect or a request

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
        if self.retained is not None:
            self._sync()  # (v2) written again only if Redis lost it (a restarted Redis may come back empty)
        else:
            self.publish(self.sim.state())  # (v1) a (re)started supervisor publishes its full state
        log.info("simulator %s.%s connected to Redis", self.sim.domain, self.sim.supervisor_id)

    # --- contract v2: the retained state ------------------------------------------------------------

    def _sync(self) -> None:
        """Make sure Redis holds the state whole, writing it only if Redis lost it (after a (re)connect, on a request)."""
        if self.sim.silenced or self.retained is None:
            return
        self._synced_at = time.monotonic()
        self.syncs += 1
        self._retained_call(lambda: self.retained.sync(self._client, self.sim.retained, self._synced_at))

    def _refresh(self, now: float) -> None:
        """Write a new version when the world changed and the last one is `refresh_s` old; answer a pending request."""
        if self.retained is None or self.sim.silenced:
            return
        if self.sim.dirty:
            self.sim.dirty = False
            self.retained.changed()
        if self.sim.state_requested and now - self._synced_at >= SYNC_EVERY_S:
            self.sim.state_requested = False
            self._sync()
        elif self.retained.due(now):
            self._retained_call(lambda: self.retained.write(self._client, self.sim.retained, now))

    def _retained_call(self, call) -> None:
        """Run a write of the retained state; a Redis user that may not write keys turns the runner to v1."""
        try:
            call()
        except redis.exceptions.NoPermissionError as err:
            log.warning("simulator %s may not write its retained state (%s): it publishes its full state instead (contract v1)",
                        self.sim.supervisor_id, err)
            self.retained = None
            self.sim.retains = False
            self.publish(self.sim.state())
        except redis.exceptions.ResponseError as err:  # e.g. Redis out of memory: tried again at the next change
            log.warning("simulator %s could not write its retained state: %s", self.sim.supervisor_id, err)
            self.retained.changed()

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
                self._refresh(now)
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
