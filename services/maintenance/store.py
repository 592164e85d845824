"""Work orders in Redis, and the GMAO feed: every change written and published on `gmao.workorders`.

Keys: `vigie:wo:state` (hash id -> the order's JSON, history included), `vigie:wo:plan:<id>` (a computed plan of
rounds, JSON, one day). Only the work-order service (services/maintenance/service.py) writes, through this
store's writer thread: a batch is the changed orders plus their GMAO messages, written and published in one
pipeline; a failed batch is kept and retried with capped back-off (Redis away loses nothing). Any process
reads.

The GMAO message (JSON, `v` 1): `{"v": 1, "type": "workorder", "event": "opened" | "changed" | "telemetry", "at": epoch,
"order": {...the order without its history...}, "last": {...its latest history entry...}}`.
"""
from __future__ import annotations

import logging
from typing import Any

import msgspec

from services.feed.bus import ERRORS, bounded_client
from services.redis_conn import BusUnavailable
from services.redis_writer import RedisBatchWriter, put_hash

log = logging.getLogger(__name__)

STATE_KEY = "vigie:wo:state"
PLAN_PREFIX = "vigie:wo:plan:"
PLAN_TTL_S = 86400
CHANNEL = "gmao.workorders"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


def gmao_message(order: dict[str, Any], event: str, at: float) -> bytes:
    """What an external GMAO receives for one change."""
    history = order.get("history") or []
    body = {k: v for k, v in order.items() if k != "history"}
    return _encode({"v": 1, "type": "workorder", "event": event, "at": at, "order": body, "last": history[-1] if history else None})


class WorkOrderStore(RedisBatchWriter):
    """Reads the orders (any thread); writes and publishes what `submit` hands over (its writer thread)."""

    what = "work orders"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.client = bounded_client(url, timeout_s)
        self._init_batches("vigie-workorder-store", list)

    def load(self) -> list[dict[str, Any]]:
        """Every order kept."""
        raw = self._call(lambda: self.client.hgetall(STATE_KEY))
        return [_decode(v) for v in raw.values()]

    def get(self, order_id: str) -> dict[str, Any] | None:
        """One order as stored, or None."""
        raw = self._call(lambda: self.client.hget(STATE_KEY, order_id))
        return _decode(raw) if raw else None

    def save_plan(self, plan_id: str, plan: dict[str, Any]) -> None:
        """Keep a plan of rounds a day (its exports are asked for afterwards, maybe of another worker)."""
        self._call(lambda: self.client.set(PLAN_PREFIX + plan_id, _encode(plan), ex=PLAN_TTL_S))

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        """A plan kept, or None."""
        raw = self._call(lambda: self.client.get(PLAN_PREFIX + plan_id))
        return _decode(raw) if raw else None

    def submit(self, orders: dict[str, bytes | None], messages: list[bytes]) -> None:
        """Hand changed orders (id -> JSON, None to forget) and their GMAO messages to the writer thread."""
        with self._cv:
            self._records.update(orders)
            self._other.extend(messages)
            self._cv.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending (if Redis answers), then stop."""
        super().stop(timeout)
        self.client.close()

    def _call(self, fn):
        try:
            return fn()
        except ERRORS as err:
            raise BusUnavailable(f"work orders unreachable: {err}") from err

    def _fill(self, pipe: Any, records: dict[str, bytes | None], messages: list[bytes]) -> None:
        put_hash(pipe, STATE_KEY, records)
        for m in messages:
            pipe.publish(CHANNEL, m)
