"""Redis clients configured the way Vigie needs them (RESP2, bounded timeouts), direct or through Sentinel.

`REDIS_URL` takes redis-py's forms (`redis://`, `rediss://`, `unix://`) or a Sentinel form naming the
sentinels and the service they watch; a client of that form always talks to the current primary:

    redis+sentinel://[[username]:password@]host[:port][,host[:port]]...[/service_name[/db]]
                     [?sentinel_username=...&sentinel_password=...]

The user and password are the Redis servers' (primary and replicas), as in `redis://`; the sentinels'
own credentials, when they have `requirepass` or ACL users, go in the query. A port left out is 26379,
the db 0; an IPv6 address goes in brackets (`[::1]:26379`); parts are percent-decoded. docs/deploy.md
shows a whole setup.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

import redis
from redis.sentinel import Sentinel


class BusUnavailable(RuntimeError):
    """Redis cannot be reached (down, restarting, refused, timed out)."""


BUS_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
SENTINEL_QUERY = ("sentinel_username", "sentinel_password")


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """What a `redis+sentinel://` URL says: where the sentinels are, which service, and the credentials."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)


def is_sentinel(url: str) -> bool:
    """Does `url` name a Sentinel-watched service rather than one server?"""
    return url.partition("://")[0].lower() == SENTINEL_SCHEME


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Read a `redis+sentinel://` URL (grammar in the module docstring); ValueError says what is wrong."""
    try:
        return _parse_sentinel_url(url)
    except ValueError as err:
        raise ValueError(f"bad Sentinel URL {redacted(url.partition('?')[0])}: {err}") from None


def _parse_sentinel_url(url: str) -> SentinelUrl:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    rest, _, query = rest.partition("?")
    rest, _, _fragment = rest.partition("#")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_host_port(part) for part in hosts.split(","))
    segments = [unquote(s) for s in path.split("/")] if path else []
    if segments and segments[-1] == "":
        segments.pop()  # a trailing slash
    if not segments or not segments[0]:
        raise ValueError("no service name: redis+sentinel://host:26379,.../<service_name>[/<db>]")
    if len(segments) > 2:
        raise ValueError(f"too many path parts in /{path}: expected /<service_name>[/<db>]")
    db = 0
    if len(segments) == 2:
        if not segments[1].isdecimal():
            raise ValueError(f"the db must be a number, not {segments[1]!r}")
        db = int(segments[1])
    params = parse_qs(query, keep_blank_values=True, strict_parsing=False) if query else {}
    unknown = sorted(set(params) - set(SENTINEL_QUERY))
    if unknown:
        raise ValueError(f"unknown query parameter(s) {', '.join(unknown)}; accepted: {', '.join(SENTINEL_QUERY)}")
    return SentinelUrl(sentinels, segments[0], db, username, password,
                       params.get("sentinel_username", [None])[-1] or None,
                       params.get("sentinel_password", [None])[-1] or None)


def _host_port(part: str) -> tuple[str, int]:
    part = part.strip()
    if part.startswith("["):  # [IPv6]:port
        host, bracket, tail = part[1:].partition("]")
        if not bracket:
            raise ValueError(f"unclosed [ in sentinel address {part!r}")
        port = tail[1:] if tail.startswith(":") else ""
        if tail and not tail.startswith(":"):
            raise ValueError(f"bad sentinel address {part!r}")
    else:
        host, _, port = part.partition(":")
    if not host:
        raise ValueError(f"a sentinel address without a host in {part!r}")
    if port and not port.isdecimal():
        raise ValueError(f"bad port in sentinel address {part!r}")
    number = int(port) if port else SENTINEL_PORT
    if not 0 < number < 65536:
        raise ValueError(f"port out of range in sentinel address {part!r}")
    return unquote(host), number


class SentinelRedis(redis.Redis):
    """A client of the primary a Sentinel group names; closing it also closes its connections to the sentinels."""

    sentinel: Sentinel | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.sentinel is not None:
                self.sentinel.close()


def connect(url: str, *, timeout_s: float = 5.0) -> redis.Redis:
    """Return a client for `url` (redis://, rediss://, with password/ACL user if given, or redis+sentinel://).

    RESP2 is used on purpose: redis-py 8's RESP3 path formats a debug string for every
    pub/sub message, up to 3x slower on large messages.

    A Sentinel URL gives a client of the current primary: each new connection asks the sentinels
    where it is, so after a failover the next (re)connection, a subscriber's included, reaches the
    promoted replica; a connection still open to a demoted primary fails (ReadOnlyError becomes a
    ConnectionError) and reconnects the same way.
    """
    options = {"protocol": 2, "socket_connect_timeout": timeout_s, "socket_timeout": None, "health_check_interval": 0,
               "decode_responses": False}
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **options)
    where = parse_sentinel_url(url)
    sentinel = Sentinel(
        list(where.sentinels),
        # a sentinel that does not answer in time is skipped for the next one
        sentinel_kwargs={"protocol": 2, "socket_connect_timeout": timeout_s, "socket_timeout": timeout_s,
                         "username": where.sentinel_username, "password": where.sentinel_password},
        db=where.db, username=where.username, password=where.password, **options,
    )
    client = sentinel.master_for(where.service, redis_class=SentinelRedis)
    client.sentinel = sentinel
    return client


def redacted(url: str) -> str:
    """The URL with its passwords masked (user info and `*password*` query parameters), for logs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, q, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if at:
        user, colon, _secret = userinfo.partition(":")
        netloc = f"{user}:***@{hosts}" if colon else f"{user}@{hosts}"
    if q:
        pairs = []
        for pair in query.split("&"):
            name, eq, _value = pair.partition("=")
            pairs.append(f"{name}=***" if eq and "password" in name.lower() else pair)
        query = "&".join(pairs)
    return f"{scheme}://{netloc}{slash}{path}{q}{query}"
