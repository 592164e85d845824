"""Browser tests share the session's redis-server: each module starts on an empty bus.

A module's stack keeps alarms, commands and snapshots in Redis (as the product does across restarts); without this,
the next module's pages would show the previous module's alarms (an urgent one even takes the wall to its domain).
"""
from __future__ import annotations

import pytest
import redis


@pytest.fixture(scope="module", autouse=True)
def empty_bus(redis_server):
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    client.flushall()
    client.close()
