"""Drive a simulated supervisor against Redis on the territory clock, surviving Redis restarts.

The world steps until its time reaches the territory clock's (services/contract/clock.py), the one time the
simulators and Vigie share: the runner follows the clock kept in Redis, and sets it when none is there and
its own runs apart from the wall clock (a `speed` other than 1, or a `start` far from now). Several
simulators, started at different moments or in other processes, so run on one time; and Vigie, reading
the same clock, judges commands, shelving and charts per simulated second.

The runner speaks contract v2 for a simulator that can build a retained version (`retained`): its full
state is kept in Redis (services/feed/retained_writer.py), rewritten at most every `refresh_s` while the
world changes; after a reconnect, or on a `state_request`, it is written again only if Redis lost it. A
simulator without `retained`, or one whose Redis user may not write its keys, speaks v1: its full state
is published, on (re)connect and on request.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

import redis

from services.contract import cmd_channel
from services.contract.clock import ClockAnchor
from services.feed.retained_writer import RetainedStateWriter
from services.feed.territory_clock import TerritoryClock
from services.redis_conn import BUS_ERRORS, connect
from services.threads import LoopThread

from .base import Outgoing, SupervisorSim

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
BACKOFF_MAX_S = 5.0
REFRESH_S = 15.0  # a new retained version at most this long after a change (wall seconds)
SYNC_EVERY_S = 1.0  # state requests answered at most this often (each checks the retained state in Redis)
CLOCK_EVERY_S = 1.0  # the territory clock in Redis looked at this often (wall seconds)
BEHIND_MAX_S = 5.0  # a world this many wall seconds of steps behind the clock jumps to it (logged, counted)
STEPS_PER_TURN = 50
WALL_START_S = 300.0  # a start this close to now at speed 1 is the wall clock (the time to build the world is not an offset)


class Runner:
    """Steps a simulator up to the territory clock's time and answers its `cmd.` channel.

    `speed` is the pace the runner sets the territory clock to when Redis holds none; a clock already
    there (set by another simulator or by Vigie) is followed, whatever this runner was asked.
    """

    def __init__(self, sim: SupervisorSim, redis_url: str, speed: float = 1.0, *, retain: bool = True, refresh_s: float = REFRESH_S,
                 clock: TerritoryClock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.sim = sim
        self.redis_url = redis_url
        self.speed = speed
        self.clock = clock  # None: built at run() from the world's start and `speed`
        self.jumps = 0  # times the world was too far behind the clock and jumped to it
        self._said_speed = False
        self._said_clock = False
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
        if self.clock is not None:
            self._follow_clock()  # before the state (writing it takes a while): Vigie may be reading the clock meanwhile
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

    def own_clock(self) -> TerritoryClock:
        """The clock this runner proposes: the world's start at `speed` (the wall clock when that is what it is)."""
        wall = time.time()
        start = self.sim.now.timestamp()
        if self.speed == 1.0 and abs(start - wall) <= WALL_START_S:
            return TerritoryClock(self.sim.supervisor_id)
        if abs(start - wall) <= WALL_START_S:  # built a moment ago: its territory starts now
            start = wall
        return TerritoryClock(self.sim.supervisor_id, own=ClockAnchor(speed=self.speed, epoch=start, wall=wall, by=self.sim.supervisor_id))

    def _follow_clock(self) -> None:
        """Look at the territory clock in Redis (set it when none); say once when it runs at another pace than asked."""
        assert self.clock is not None and self._client is not None
        try:
            self.clock.sync(self._client)
        except redis.exceptions.ResponseError as err:  # a supervisor's least-privilege Redis user may not touch vigie:*
            if not self._said_clock:
                self._said_clock = True
                log.warning("simulator %s may not read the territory clock (%s): it runs on its own (x%g); Vigie flags "
                            "its clock if it drifts from the territory's", self.sim.supervisor_id, err, self.clock.speed)
            return
        if self.clock.speed != self.speed and not self._said_speed:
            self._said_speed = True
            a = self.clock.anchor
            log.warning("simulator %s asked to run at x%g follows the territory clock at x%g (set by %s)",
                        self.sim.supervisor_id, self.speed, self.clock.speed, a.by if a is not None else "?")

    def _step_to(self, target: float) -> None:
        """Step the world until its time reaches `target` (a turn at most STEPS_PER_TURN steps); jump when hopelessly behind."""
        sim = self.sim
        start = sim.now.timestamp()
        if target - start > BEHIND_MAX_S * max(1.0, self.clock.speed) + sim.step_s * STEPS_PER_TURN:
            self.jumps += 1
            log.warning("simulator %s is %.0f simulated seconds behind the territory clock: it jumps to %s",
                        sim.supervisor_id, target - start, datetime.fromtimestamp(target, sim.now.tzinfo).isoformat(timespec="seconds"))
            sim.now = datetime.fromtimestamp(target - sim.step_s, sim.now.tzinfo)
        steps = 0
        while sim.now.timestamp() + sim.step_s <= target and steps < STEPS_PER_TURN:  # catch up, but stay responsive
            self.publish(sim.step())
            steps += 1

    def _next_step_wall(self) -> float:
        """Monotonic time at which the world's next step is due."""
        due = self.sim.now.timestamp() + self.sim.step_s
        lead = (due - self.clock()) / max(self.clock.speed, 1e-9)
        return time.monotonic() + max(0.0, lead)

    def run(self) -> None:
        """Run until `stop()`; reconnect with capped back-off when Redis goes away."""
        t0 = time.monotonic()
        if self.clock is None:
            self.clock = self.own_clock()
        next_hb = next_clock = t0
        backoff = 0.1
        while not self.stop_event.is_set():
            try:
                if self._client is None:
                    self._connect()
                    backoff = 0.1
                now = time.monotonic()
                wait = max(0.0, min(self._next_step_wall(), next_hb) - now)
                msg = self._pubsub.get_message(timeout=min(wait, 0.05))
                while msg is not None:
                    if msg.get("type") == "message":
                        self.publish(self.sim.handle_command(msg["data"]))
                    msg = self._pubsub.get_message(timeout=0)
                now = time.monotonic()
                if now >= next_clock:
                    self._follow_clock()
                    next_clock = now + CLOCK_EVERY_S
                self._step_to(self.clock())
                self._refresh(now)
                if now >= next_hb:
                    self.publish(self.sim.heartbeat(now - t0, self.clock.speed))
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
