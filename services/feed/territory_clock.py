"""Follow the territory clock kept in Redis (services/contract/clock.py): Vigie's time, and a simulator's.

`TerritoryClock()` answers the territory's time now: the wall clock until an anchor is known, then the
anchor's (`epoch + (wall - anchor wall) * speed`). It never runs back: an announced clock behind the time
this process already gave is anchored again at that time, at the announced pace, and written back for the
others. `sync(client)` takes one look at the key; `start(redis_url)` looks every `follow_s` in a thread.
A writer (the engine's process, a simulator) keeps the key alive while it runs on an accelerated or offset
clock, so a simulator or a Vigie started later joins the same time.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from services.contract.clock import (
    CLOCK_KEY,
    TTL_S,
    ClockAnchor,
    ClockError,
    decode_anchor,
    encode_anchor,
)
from services.threads import LoopThread

log = logging.getLogger(__name__)

FOLLOW_S = 1.0
BACK_TOLERANCE_S = 15.0  # an announced time this far behind ours is taken (ours stands still meanwhile); further: re-anchored
ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError, OSError)


class TerritoryClock:
    """The territory's time (Unix seconds) as one callable; `speed` says how fast it runs."""

    def __init__(self, name: str = "vigie", *, own: ClockAnchor | None = None, writer: bool = True,
                 wall: Callable[[], float] = time.time, follow_s: float = FOLLOW_S) -> None:
        self.name = name
        self.writer = writer
        self.follow_s = follow_s
        self._wall = wall
        self._own = None if own is None or own.is_wall_clock() else own  # set in Redis when it holds no clock
        self._anchor: ClockAnchor | None = self._own
        self._last = float("-inf")
        self._lock = threading.Lock()
        self._loop: LoopThread | None = None
        self._client: redis.Redis | None = None
        self.stats = {"adopted": 0, "anchored_again": 0, "set": 0, "refused": 0, "unreachable": 0}
        self._said_refused = 0.0

    # --- reading ---------------------------------------------------------------------------

    def __call__(self) -> float:
        """The territory's time now; never earlier than what it answered before."""
        a = self._anchor
        w = self._wall()
        t = w if a is None else a.at(w)
        with self._lock:
            if t < self._last:
                return self._last
            self._last = t
        return t

    def at_wall(self, wall: float) -> float:
        """The territory's time at wall time `wall` (on the anchor followed now)."""
        a = self._anchor
        return wall if a is None else a.at(wall)

    @property
    def anchor(self) -> ClockAnchor | None:
        """The anchor followed (None: the wall clock)."""
        return self._anchor

    @property
    def speed(self) -> float:
        """Territory seconds per wall second (1 on the wall clock)."""
        a = self._anchor
        return 1.0 if a is None else a.speed

    @property
    def accelerated(self) -> bool:
        """Does the territory run faster or slower than the wall clock?"""
        return self.speed != 1.0

    def describe(self) -> dict:
        """What /api/v1/clock and the header show."""
        a = self._anchor
        return {"t": round(self(), 3), "speed": self.speed, "wall": round(self._wall(), 3),
                "source": "wall" if a is None else "territory", "by": a.by if a is not None else None}

    # --- following Redis -------------------------------------------------------------------

    def sync(self, client: redis.Redis) -> None:
        """One look at the key: adopt a new anchor, set ours when none, keep it alive; Redis errors propagate."""
        raw = client.get(CLOCK_KEY)
        wall = self._wall()
        if raw is None:
            mine = self._anchor
            if (self.writer and mine is not None and not mine.is_wall_clock()
                    and client.set(CLOCK_KEY, encode_anchor(mine), ex=TTL_S, nx=True)):
                self.stats["set"] += 1
                log.info("territory clock set by %s: x%g, territory time %s", self.name, mine.speed, _when(mine.at(wall)))
            return
        try:
            new = decode_anchor(raw)
        except ClockError as err:
            self._refused(client, raw, str(err), wall)
            return
        if new == self._anchor:
            if self.writer:
                client.expire(CLOCK_KEY, TTL_S)
            return
        ours = self()
        if new.at(wall) < ours - BACK_TOLERANCE_S * max(1.0, new.speed):
            moved = new.moved(ours, wall, self.name)
            if self.writer:
                client.set(CLOCK_KEY, encode_anchor(moved), ex=TTL_S)
            log.warning("territory clock announced by %s is %.0f s behind %s's time (%s): time never runs back here, "
                        "anchored again at %s, x%g", new.by or "?", ours - new.at(wall), self.name, _when(new.at(wall)),
                        _when(ours), new.speed)
            self.stats["anchored_again"] += 1
            self._anchor = moved
            return
        if self._anchor is None or new.speed != self._anchor.speed or new.by != self._anchor.by:
            log.info("%s follows the territory clock of %s: x%g, territory time %s", self.name, new.by or "?", new.speed,
                     _when(new.at(wall)))
        self.stats["adopted"] += 1
        self._anchor = new
        if self.writer:
            client.expire(CLOCK_KEY, TTL_S)

    def _refused(self, client: redis.Redis, raw: bytes, reason: str, wall: float) -> None:
        """The key holds something else: counted, logged once a minute at most, replaced by ours when we have one."""
        self.stats["refused"] += 1
        if wall - self._said_refused >= 60.0:
            self._said_refused = wall
            log.warning("territory clock key %s refused (%s); value starts %r", CLOCK_KEY, reason, bytes(raw[:80]))
        if self.writer and self._anchor is not None:
            client.set(CLOCK_KEY, encode_anchor(self._anchor.moved(self(), wall, self.name)), ex=TTL_S)

    def start(self, redis_url: str) -> TerritoryClock:
        """Follow the key in a thread of its own (Redis down: the clock runs on from its last anchor)."""
        from services.feed.bus import bounded_client

        self._client = bounded_client(redis_url)
        self._loop = LoopThread(self._follow, f"clock-{self.name}")
        self._loop.start()
        return self

    def _follow(self) -> None:
        assert self._loop is not None and self._client is not None
        while not self._loop.stopping.is_set():
            try:
                self.sync(self._client)
            except ERRORS as err:
                self.stats["unreachable"] += 1
                log.debug("territory clock not read: %s", err)
            self._loop.stopping.wait(self.follow_s)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following the key."""
        if self._loop is not None:
            self._loop.stop(timeout)
        if self._client is not None:
            self._client.close()


def link_clock(clock: Callable[[], float]) -> tuple[Callable[[], float], Callable[[float], float]]:
    """For what paces the link (waits for a newer retained version, state requests): the wall clock, and how to turn
    its times into Vigie's. A plain clock (a test's, a replay's) paces both, as before."""
    at_wall = getattr(clock, "at_wall", None)
    return (time.time, at_wall) if at_wall is not None else (clock, lambda t: t)


def clock_view(clock: Callable[[], float]) -> dict:
    """What the summary says of Vigie's clock (the header's "x60"): its pace, 1 on the wall clock or a replay's."""
    speed = float(getattr(clock, "speed", 1.0))
    return {"speed": speed, "simulated": speed != 1.0}


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
