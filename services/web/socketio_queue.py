"""Flask-SocketIO's message queue for a `VIGIE_SOCKETIO_QUEUE` URL, a Sentinel one included.

Flask-SocketIO 5.7 hands only `redis://` and `rediss://` URLs to python-socketio's RedisManager; any
other scheme goes to Kombu (not installed: "Kombu package is not installed"). The RedisManager itself
follows a Sentinel group, with its own grammar: `redis+sentinel://h1:p1,h2:p2/<db>/<service>` (the db
before the service, every port written, no IPv6, the password not percent-decoded). `queue_options`
builds that manager from Vigie's grammar (services/redis_conn.py), so one URL serves both `REDIS_URL`
and the queue.
"""
from __future__ import annotations

import re
from typing import Any

from services.redis_conn import is_sentinel, parse_sentinel_url

CHANNEL = "flask-socketio"  # Flask-SocketIO's default: every worker must use the same
_PLAIN = re.compile(r"^[A-Za-z0-9._-]+$")


def queue_options(url: str | None, *, write_only: bool = False, timeout_s: float = 5.0) -> dict[str, Any]:
    """Keyword arguments for `SocketIO(...)`: none, `message_queue=url`, or a client manager following Sentinel."""
    if not url:
        return {}
    if not is_sentinel(url):
        return {"message_queue": url}
    import socketio

    where = parse_sentinel_url(url)
    for host, _port in where.sentinels:
        if ":" in host:
            raise ValueError(f"python-socketio cannot reach a sentinel at an IPv6 address ({host}); use a name or IPv4")
    if not _PLAIN.match(where.service):
        raise ValueError(f"python-socketio reads service names of letters, digits, '.', '_' and '-' only, not {where.service!r}")
    hosts = ",".join(f"{host}:{port}" for host, port in where.sentinels)
    options: dict[str, Any] = {
        "protocol": 2, "socket_connect_timeout": timeout_s,
        "username": where.username, "password": where.password,  # the servers' credentials, passed as they are
        "sentinel_kwargs": {"protocol": 2, "socket_connect_timeout": timeout_s, "socket_timeout": timeout_s,
                            "username": where.sentinel_username, "password": where.sentinel_password},
    }
    manager = socketio.RedisManager(f"redis+sentinel://{hosts}/{where.db}/{where.service}", channel=CHANNEL,
                                    write_only=write_only, redis_options=options)
    return {"client_manager": manager}
