"""Redis clients configured the way Vigie needs them (RESP2, bounded timeouts)."""
from __future__ import annotations

import redis


class BusUnavailable(RuntimeError):
    """Redis cannot be reached (down, restarting, refused, timed out)."""


BUS_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)


def connect(url: str, *, timeout_s: float = 5.0) -> redis.Redis:
    """Return a client for `url` (redis://, rediss://, with password/ACL user if given).

    RESP2 is used on purpose: redis-py 8's RESP3 path formats a debug string for every
    pub/sub message, up to 3x slower on large messages.
    """
    return redis.Redis.from_url(
        url,
        protocol=2,
        socket_connect_timeout=timeout_s,
        socket_timeout=None,
        health_check_interval=0,
        decode_responses=False,
    )
