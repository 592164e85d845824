"""Per-principal rate limits and the growing delay after failed sign-ins, counted in Redis."""
from __future__ import annotations

from dataclasses import dataclass

import redis

from services.redis_conn import BUS_ERRORS, BusUnavailable

from .store import PREFIX


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` hits per `window_s` seconds."""

    count: int
    window_s: float


@dataclass(frozen=True, slots=True)
class RateResult:
    """Whether one more hit fits, and when to come back if not."""

    allowed: bool
    count: int
    retry_after_s: float = 0.0


def signin_delay(failures: int, *, free: int, base_s: float, cap_s: float) -> float:
    """Return how long to wait after `failures` consecutive failures: none at first, then doubling."""
    if failures < free:
        return 0.0
    return min(cap_s, base_s * 2 ** min(failures - free, 30))


class RateLimiter:
    """Fixed-window counters: `hit` counts one more and says whether it is allowed."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def hit(self, scope: str, who: str, limit: Limit, *, now: float) -> RateResult:
        """Count one hit of `who` in `scope`; refuse beyond the limit."""
        window = int(now // limit.window_s)
        key = f"{PREFIX}rate:{scope}:{who}:{window}"
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, int(limit.window_s) + 1)
            count = int(pipe.execute()[0])
        except BUS_ERRORS as err:
            raise BusUnavailable(f"rate limiter unreachable: {err}") from err
        if count <= limit.count:
            return RateResult(True, count)
        return RateResult(False, count, (window + 1) * limit.window_s - now)


class SigninThrottle:
    """Slow down repeated failed sign-ins, per account name and per client address."""

    def __init__(self, client: redis.Redis, *, free_per_name: int = 3, free_per_ip: int = 20,
                 base_s: float = 1.0, cap_s: float = 60.0, forget_after_s: float = 900.0) -> None:
        self.client = client
        self.free = {"name": free_per_name, "ip": free_per_ip}
        self.base_s = base_s
        self.cap_s = cap_s
        self.forget_after_s = forget_after_s

    def wait_s(self, name: str, ip: str, *, now: float) -> float:
        """Return how long this name/address must still wait before trying again (0: try now)."""
        waits = [0.0]
        for kind, who in (("name", name), ("ip", ip)):
            failures, last = self._read(kind, who)
            delay = signin_delay(failures, free=self.free[kind], base_s=self.base_s, cap_s=self.cap_s)
            waits.append(last + delay - now)
        return max(waits)

    def failed(self, name: str, ip: str, *, now: float) -> None:
        """Count a failed sign-in for this name and this address."""
        try:
            pipe = self.client.pipeline(transaction=False)
            for kind, who in (("name", name), ("ip", ip)):
                key = self._key(kind, who)
                pipe.hincrby(key, "failures", 1)
                pipe.hset(key, "last", repr(now))
                pipe.expire(key, int(self.forget_after_s))
            pipe.execute()
        except BUS_ERRORS as err:
            raise BusUnavailable(f"sign-in throttle unreachable: {err}") from err

    def succeeded(self, name: str) -> None:
        """Forget the failures of this name after a successful sign-in."""
        try:
            self.client.delete(self._key("name", name))
        except BUS_ERRORS as err:
            raise BusUnavailable(f"sign-in throttle unreachable: {err}") from err

    def _read(self, kind: str, who: str) -> tuple[int, float]:
        try:
            failures, last = self.client.hmget(self._key(kind, who), "failures", "last")
        except BUS_ERRORS as err:
            raise BusUnavailable(f"sign-in throttle unreachable: {err}") from err
        return int(failures or 0), float(last or 0.0)

    @staticmethod
    def _key(kind: str, who: str) -> str:
        return f"{PREFIX}signin:{kind}:{who[:80]}"
