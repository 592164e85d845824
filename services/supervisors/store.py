"""The registry of supervisors in Redis: one writer thread, fed from the engine thread; restored before the engine starts.

Keys: `vigie:supervisors:registry` (hash id -> JSON record: domain, standing, origin, maximum, who decided and
when) and `vigie:supervisors:assets:<id>` (JSON list of the asset ids it owns, from its last complete state).
What a quarantined supervisor sent is not kept: after a restart it is held again as it publishes.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec

from services.core.events import Event, RegistryChanged
from services.feed.bus import ERRORS, bounded_client
from services.redis_conn import BusUnavailable
from services.streams import text
from services.redis_writer import RedisBatchWriter, put_hash

if TYPE_CHECKING:
    from services.core import Hypervisor

log = logging.getLogger(__name__)

REGISTRY_KEY = "vigie:supervisors:registry"
ASSETS_PREFIX = "vigie:supervisors:assets:"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


class RegistryStore(RedisBatchWriter):
    """Reads the registry at start, then writes what the engine thread hands over (kept while Redis is away)."""

    what = "the registry of supervisors"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.client = bounded_client(url, timeout_s)
        self._core: "Hypervisor | None" = None
        self._init_batches("vigie-registry-store", dict)  # pending: registry records, and owned assets, by id

    # --- loading (before the engine starts) ------------------------------------------------

    def restore(self, core: "Hypervisor", now: float) -> list[Event]:
        """Load the registry into `core`; return the events of supervisors the file no longer declares (purged)."""
        try:
            raw = self._call(lambda: self.client.hgetall(REGISTRY_KEY))
            records = []
            for sid, rec in raw.items():
                try:
                    records.append(_decode(rec))
                except msgspec.DecodeError:
                    log.warning("registry record of %s unreadable; it will be first seen again", text(sid))
            ids = [str(r.get("id", "")) for r in records if r.get("standing") == "approved"]
            blobs = self._call(lambda: self.client.mget([ASSETS_PREFIX + i for i in ids])) if ids else []
        except BusUnavailable as err:
            log.warning("registry of supervisors not restored (%s): declared ones only", err)
            return []
        assets = {i: _decode(b) for i, b in zip(ids, blobs) if b}
        events = core.restore_registry(records, assets, now)
        self._core = core
        self._take()
        log.info("registry of supervisors: %d restored, %d declared", len(records),
                 sum(1 for e in core.registry.all() if e.origin == "declared"))
        return events

    def load_records(self) -> list[dict]:
        """Every saved entry (tests, a web-only worker's fallback view)."""
        return [_decode(v) for v in self._call(lambda: self.client.hgetall(REGISTRY_KEY)).values()]

    def _call(self, fn):
        try:
            return fn()
        except ERRORS as err:
            raise BusUnavailable(f"registry store unreachable: {err}") from err

    # --- writing (engine thread hands over, writer thread writes) ----------------------------

    def attach(self, engine) -> "RegistryStore":
        """Follow an engine's registry changes and start writing them."""
        self._core = engine.core
        engine.subscribe(self.on_events)
        return self.start()

    def on_events(self, events: list[Event]) -> None:
        """Take what changed in the registry (on the engine thread)."""
        if self._core is not None and any(type(ev) is RegistryChanged for ev in events):
            self._take()

    def _take(self) -> None:
        reg = self._core.registry
        changed, assets = reg.take_changed()
        if not changed and not assets:
            return
        records = {sid: (_encode(e.to_record()) if (e := reg.get(sid)) is not None else None) for sid in changed}
        owned = {sid: (_encode(sorted(e.assets)) if (e := reg.get(sid)) is not None and e.assets else None) for sid in assets}
        with self._cv:
            self._records.update(records)
            self._other.update(owned)
            self._cv.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending (if Redis answers), then stop."""
        super().stop(timeout)
        self.client.close()

    def _fill(self, pipe: Any, records: dict[str, bytes | None], assets: dict[str, bytes | None]) -> None:
        put_hash(pipe, REGISTRY_KEY, records)
        for sid, raw in assets.items():
            if raw is None:
                pipe.delete(ASSETS_PREFIX + sid)
            else:
                pipe.set(ASSETS_PREFIX + sid, raw)
