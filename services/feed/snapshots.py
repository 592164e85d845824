"""The live state's snapshots in Redis: what the engine writes and `services.feed.reader.RedisReader` reads.

`SnapshotBuilder` turns what changed in the core into a `SnapshotBatch` on the engine thread; `SnapshotStore`
writes batches from its own thread, so a slow Redis never stalls ingestion. Keys are `vigie:snap:...` (`snap_key`).
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Iterable

import msgspec
import redis

from services.feed.bus import ERRORS, bounded_client
from services.threads import QueuedWriter
from services.settings import DOMAINS

if TYPE_CHECKING:
    from services.core import Hypervisor

log = logging.getLogger(__name__)

SNAP = "vigie:snap:"  # prefix of every snapshot key
ALARM_RECONCILE_S = 30.0
_encode = msgspec.json.Encoder().encode


def snap_key(*parts: str) -> str:
    """A snapshot key: `vigie:snap:assets:lighting`, `vigie:snap:alarms`, ... (see SnapshotStore)."""
    return SNAP + ":".join(parts)


class SnapshotBatch:
    """What to write: hash fields (None deletes one), whole strings, version counters to bump."""

    __slots__ = ("full", "hashes", "strings", "bump")

    def __init__(self, full: bool = False) -> None:
        self.full = full  # True: every hash named here replaces what Redis holds
        self.hashes: dict[str, dict[str, bytes | None]] = {}
        self.strings: dict[str, bytes] = {}
        self.bump: set[str] = set()

    def merge(self, newer: "SnapshotBatch") -> "SnapshotBatch":
        """Fold a newer batch into this one (the writer fell behind)."""
        if newer.full:
            return newer
        for key, fields in newer.hashes.items():
            self.hashes.setdefault(key, {}).update(fields)
        self.strings.update(newer.strings)
        self.bump |= newer.bump
        return self


def write_batch(client: redis.Redis, batch: SnapshotBatch) -> None:
    """Write a batch in one transaction (readers never see a half-written snapshot)."""
    pipe = client.pipeline(transaction=True)
    for key, fields in batch.hashes.items():
        if batch.full:
            pipe.delete(key)
        sets = {f: v for f, v in fields.items() if v is not None}
        if sets:
            pipe.hset(key, mapping=sets)
        drops = [f for f, v in fields.items() if v is None]
        if drops and not batch.full:
            pipe.hdel(key, *drops)
    for key, value in batch.strings.items():
        pipe.set(key, value)
    for key in batch.bump:
        pipe.incr(key)
    pipe.execute()


class SnapshotStore(QueuedWriter):
    """Writes the engine's snapshots to Redis from its own thread, so a slow Redis never stalls ingestion."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.needs_full = True  # the engine sends everything until a full write succeeded
        self.writes = 0
        self.failures = 0
        self._pending: SnapshotBatch | None = None
        self._init_writer("vigie-snapshots")
        self._client: redis.Redis | None = None
        self._failing = False

    def submit(self, batch: SnapshotBatch) -> None:
        """Queue a batch for writing (merged with any batch not yet written)."""
        with self._cv:
            if batch.full:
                self.needs_full = False  # set again if writing it fails
            self._pending = batch if self._pending is None else self._pending.merge(batch)
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._pending is None and not self._stop:
                    self._cv.wait()
                batch, self._pending = self._pending, None
                stopping = self._stop
            if batch is not None:
                self.write(batch)
            if stopping:
                break
        if self._client is not None:
            self._client.close()

    def write(self, batch: SnapshotBatch) -> bool:
        """Write one batch; on failure ask the engine for a full one next time."""
        try:
            if self._client is None:
                self._client = bounded_client(self.url, self.timeout_s)
            write_batch(self._client, batch)
        except ERRORS as err:
            self.failures += 1
            self.needs_full = True
            if self._client is not None:
                self._client.close()
                self._client = None
            if not self._failing:
                log.warning("cannot write the snapshot to Redis (%s); will write it whole when Redis answers", err)
            self._failing = True
            return False
        if self._failing:
            log.info("snapshot written to Redis again")
        self._failing = False
        self.writes += 1
        return True


class SnapshotBuilder:
    """Turns what changed in the core into a SnapshotBatch; lives on the engine thread."""

    def __init__(self, core: "Hypervisor") -> None:
        self.core = core
        self._assets: dict[str, set[str]] = {d: set() for d in DOMAINS}  # values to write
        self._defined: dict[str, set[str]] = {d: set() for d in DOMAINS}  # identities to write too
        self._alarms: set[str] = set()
        self._written_alarms: set[str] = set()
        self._last: dict[str, bytes] = {}
        self._next_reconcile = 0.0
        self._written_defs: dict[str, dict[str, int]] = {d: {} for d in DOMAINS}  # id -> hash of the identity written
        self.identities_skipped = 0  # identities a state named again unchanged (not rewritten)

    def assets_changed(self, domain: str, ids: Iterable[str]) -> None:
        """Note assets whose values changed (or that were removed) for the next snapshot."""
        self._assets[domain].update(ids)

    def assets_defined(self, domain: str, ids: Iterable[str]) -> None:
        """Note assets whose identity, place or relations may have changed (from a `state`)."""
        self._defined[domain].update(ids)
        self._assets[domain].update(ids)

    def alarms_changed(self, ids: Iterable[str]) -> None:
        """Note alarms to rewrite (or delete) at the next snapshot."""
        self._alarms.update(ids)

    def build(self, now: float, lock: threading.RLock, *, full: bool, bus_up: bool) -> SnapshotBatch:
        """Everything that changed since the last batch (or everything when `full`); small documents when they differ.

        Under the lock only references are taken (an asset's identity, place and relations are replaced when it is
        redefined, never edited) and values copied; the JSON is written after the lock is let go. An identity is
        written again only when it differs from the one written last (a supervisor's periodic full state names
        every asset: 300,000 lamps, nearly all unchanged)."""
        batch = SnapshotBatch(full)
        core = self.core
        taken: dict[str, tuple[list, list]] = {}
        with lock:
            for d in DOMAINS:
                by_id = core.state.domain(d)
                ids, self._assets[d] = (by_id.keys() if full else self._assets[d]), set()
                defined, self._defined[d] = (ids if full else self._defined[d]), set()
                if not ids and not full:
                    continue
                static, dynamic = taken[d] = ([], [])
                for aid in ids:
                    a = by_id.get(aid)
                    if a is None:
                        static.append((aid, None))
                        dynamic.append((aid, None))
                        continue
                    if aid in defined:
                        static.append((aid, (a.id, a.domain, a.supervisor, a.type, a.name, a.geometry, a.refs, a.props)))
                    dynamic.append((aid, (dict(a.values), a.condition, a.updated)))
            self._alarm_fields(batch, full, now)
            docs = {
                snap_key("kpis"): core.kpis(),
                snap_key("supervisors"): core.supervisors(now),
                snap_key("summary"): core.summary(now),
                **{snap_key("kpi_history", d): {k["key"]: core.kpi_history.series(d, k["key"]) for k in core.kpis()[d]} for d in DOMAINS},
            }
            counts = {d: len(core.state.domain(d)) for d in DOMAINS}
        for d, (static, dynamic) in taken.items():
            batch.hashes[snap_key("assets", d)] = self._identities(d, static, full)
            batch.hashes[snap_key("values", d)] = {aid: None if v is None else _encode(v) for aid, v in dynamic}
            batch.bump.add(snap_key("version", d))
        for key, doc in docs.items():
            raw = _encode(doc)
            if full or self._last.get(key) != raw or key == snap_key("supervisors"):
                batch.strings[key] = self._last[key] = raw
        batch.strings[snap_key("meta")] = _encode({"written_at": now, "bus_up": bus_up, "assets": counts, "format": 1})
        return batch

    def _identities(self, domain: str, static: list, full: bool) -> dict[str, bytes | None]:
        """The identity fields to write: every one when `full`, else those that differ from what was written."""
        written = self._written_defs[domain]
        out: dict[str, bytes | None] = {}
        for aid, ident in static:
            if ident is None:
                out[aid] = None
                written.pop(aid, None)
                continue
            i, dom, sup, typ, name, geometry, refs, props = ident
            raw = _encode({"id": i, "domain": dom, "supervisor": sup, "type": typ, "name": name, "geometry": geometry,
                           "refs": refs, "props": props})
            digest = hash(raw)
            if full or written.get(aid) != digest:
                out[aid] = raw
                written[aid] = digest
        self.identities_skipped += len(static) - len(out)
        return out

    def _alarm_fields(self, batch: SnapshotBatch, full: bool, now: float) -> None:
        alarms = self.core.alarms
        if full or now >= self._next_reconcile:  # also catches alarms the book trimmed silently
            self._next_reconcile = now + ALARM_RECONCILE_S
            held = {a.id: a for a in alarms.all()}
            fields: dict[str, bytes | None] = {aid: None for aid in self._written_alarms - held.keys()}
            fields.update((aid, _encode(a.to_dict())) for aid, a in held.items() if full or aid in self._alarms)
            self._written_alarms = set(held)
        else:
            fields = {}
            for aid in self._alarms:
                a = alarms.get(aid)
                fields[aid] = None if a is None else _encode(a.to_dict())
                (self._written_alarms.add if a is not None else self._written_alarms.discard)(aid)
        self._alarms = set()
        if fields or full:
            batch.hashes[snap_key("alarms")] = fields
