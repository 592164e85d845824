"""What Vigie needs from the Redis it is given, and what it finds there (CONFIG GET, where the ACL allows it).

Checked by the engine each time its bus subscription comes up (Redis may have restarted with another
configuration), logged, and shown on /healthz (`redis`) and /metrics (`vigie_redis_*`). Nothing is
changed: the Redis belongs to whoever runs it; docs/deploy.md says what to set.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger(__name__)

MIB = 1024 * 1024
SETTINGS = ("client-output-buffer-limit", "appendonly", "save", "maxmemory", "maxmemory-policy")


@dataclass(frozen=True, slots=True)
class Needs:
    """What Vigie needs, derived from its own limits."""

    pubsub_hard_bytes: int  # the pub/sub hard limit: 0 (none) or at least this
    pubsub_soft_bytes: int  # the soft limit: 0 (none) or at least this (or no soft seconds)

    @classmethod
    def for_payload(cls, max_payload_bytes: int) -> "Needs":
        """A burst of state parts at the payload limit (8 of them hard, 4 held for the soft delay) while the reader is scheduled."""
        return cls(max(64 * MIB, 8 * max_payload_bytes), max(32 * MIB, 4 * max_payload_bytes))


def parse_buffer_limits(value: str) -> dict[str, tuple[int, int, int]]:
    """`client-output-buffer-limit` as CONFIG GET answers it: class -> (hard bytes, soft bytes, soft seconds)."""
    parts = value.split()
    out: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(parts) - 3, 4):
        name, hard, soft, seconds = parts[i : i + 4]
        out[name] = (_bytes(hard), _bytes(soft), int(seconds))
    return out


def _bytes(raw: str) -> int:
    """Redis memory units (CONFIG GET answers plain bytes; redis.conf may say 64mb): k/m/g are 1000s, kb/mb/gb 1024s."""
    low = raw.strip().lower()
    for suffix, factor in (("gb", 1024**3), ("mb", MIB), ("kb", 1024), ("g", 1000**3), ("m", 1000**2), ("k", 1000), ("b", 1)):
        if low.endswith(suffix) and low[: -len(suffix)].isdigit():
            return int(low[: -len(suffix)]) * factor
    return int(low)


def _mib(n: int) -> str:
    return f"{n / MIB:g} MiB"


def read_config(client: redis.Redis) -> tuple[dict[str, str], str | None]:
    """The settings Vigie looks at, and why none could be read (None when they could)."""
    found: dict[str, str] = {}
    for name in SETTINGS:
        try:
            reply = client.execute_command("CONFIG", "GET", name)
        except redis.exceptions.NoPermissionError:
            return {}, "NOPERM: the ACL of Vigie's Redis user does not allow CONFIG GET"
        except redis.exceptions.ResponseError as err:  # CONFIG renamed away, a managed Redis, an embedded server
            return {}, f"CONFIG GET refused: {err}"
        pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
        for key, value in pairs:
            k = key.decode() if isinstance(key, bytes) else str(key)
            found[k] = value.decode() if isinstance(value, bytes) else str(value)
    return found, None


def judge(found: dict[str, str], unreadable: str | None, needs: Needs) -> dict[str, Any]:
    """JSON-ready verdict: {status: ok | warning | unknown, reason, settings: {name: {found, needed, status, why}}}."""
    settings: dict[str, dict[str, Any]] = {}

    def put(name: str, value: Any, needed: str, ok: bool | None, why: str) -> None:
        settings[name] = {"found": value, "needed": needed, "status": "unknown" if ok is None else ("ok" if ok else "warning"),
                          "why": why}

    need_buffer = f"pubsub hard 0 or >= {_mib(needs.pubsub_hard_bytes)}, soft 0 or >= {_mib(needs.pubsub_soft_bytes)}"
    need_aof, need_save = "yes", "appendonly yes, or save rules"
    need_policy = "noeviction (or no maxmemory)"
    if unreadable is not None:
        for name, needed in (("client-output-buffer-limit", need_buffer), ("appendonly", need_aof), ("save", need_save),
                             ("maxmemory-policy", need_policy)):
            put(name, None, needed, None, unreadable)
        return {"status": "unknown", "reason": unreadable, "settings": settings}

    pubsub = parse_buffer_limits(found.get("client-output-buffer-limit", "")).get("pubsub")
    if pubsub is None:
        put("client-output-buffer-limit", found.get("client-output-buffer-limit"), need_buffer, None, "no pubsub class in the answer")
    else:
        hard, soft, seconds = pubsub
        ok = (hard == 0 or hard >= needs.pubsub_hard_bytes) and (soft == 0 or seconds == 0 or soft >= needs.pubsub_soft_bytes)
        put("client-output-buffer-limit", {"pubsub_hard_bytes": hard, "pubsub_soft_bytes": soft, "pubsub_soft_seconds": seconds},
            need_buffer, ok, "a subscriber whose backlog in Redis passes these is disconnected and misses what is published "
            "until it is back; Vigie reads in a thread of its own, so only bursts (several states at once) wait there")
    aof = found.get("appendonly")
    save = found.get("save", "")
    put("appendonly", aof, need_aof, aof == "yes" if aof is not None else None,
        "alarms, their journal, commands, audit and accounts live in this Redis: without the append-only file a crash "
        "loses everything since the last RDB snapshot" + ("" if save.strip() else " (and there are none: nothing persists)"))
    put("save", save, need_save, aof == "yes" or bool(save.strip()),
        "with neither, a restart of Redis starts empty")
    policy = found.get("maxmemory-policy")
    maxmemory = int(found.get("maxmemory", "0") or 0)
    put("maxmemory-policy", policy, need_policy, None if policy is None else (policy == "noeviction" or maxmemory == 0),
        "Vigie's keys must never be evicted" + ("" if maxmemory == 0 else f" (maxmemory {_mib(maxmemory)})"))
    statuses = {s["status"] for s in settings.values()}
    status = "warning" if "warning" in statuses else ("unknown" if "unknown" in statuses else "ok")
    return {"status": status, "reason": "", "settings": settings}


def check_redis(client: redis.Redis, max_payload_bytes: int) -> dict[str, Any]:
    """Read and judge the Redis configuration Vigie depends on (connection errors propagate)."""
    found, unreadable = read_config(client)
    return judge(found, unreadable, Needs.for_payload(max_payload_bytes))


def log_verdict(verdict: dict[str, Any], where: str) -> None:
    """One line per setting: what Vigie needs and what it found; a warning where they differ."""
    if verdict["status"] == "unknown" and verdict["reason"]:
        log.info("Redis on %s: configuration not checked (%s); check by hand: %s", where, verdict["reason"],
                 "; ".join(f"{name} {s['needed']}" for name, s in verdict["settings"].items()))
        return
    for name, s in verdict["settings"].items():
        level = logging.WARNING if s["status"] == "warning" else logging.INFO
        log.log(level, "Redis on %s: %s is %s; Vigie needs %s (%s)%s", where, name, s["found"], s["needed"], s["status"],
                f": {s['why']}" if s["status"] == "warning" else "")
