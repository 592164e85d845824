"""Reading the live state: from the engine in this process, or from the snapshots it writes to Redis.

Both readers answer the same JSON-ready shapes (a test runs both on the same data). `RedisReader` reads what
services/feed/snapshots.py's `SnapshotBuilder` (run by the engine) writes.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

import msgspec
import redis

from services.feed.bus import ERRORS
from services.feed.snapshots import snap_key
from services.core.alarms import PRIORITY_RANK

if TYPE_CHECKING:
    from services.core import Hypervisor
    from services.feed.engine import Engine

DOMAINS = ("lighting", "water", "traffic")
KEY_VALUES = {  # the values a map feature carries, per domain
    "lighting": ("powerState", "status", "illuminanceLevel", "controlMode"),
    "water": ("pressure", "level", "flow", "chlorine", "running", "position", "status"),
    "traffic": ("intensity", "averageVehicleSpeed", "congested", "closed", "signalPlan", "status"),
}
BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


class ReaderUnavailable(RuntimeError):
    """The state cannot be read right now (Redis down)."""


# --- the shared shapes ---------------------------------------------------------------------


def geo_feature(domain: str, id: str, type: str, name: str, geometry: dict | None, condition: str, values: dict) -> dict:
    """A compact map feature: identity, lon/lat (or line coordinates), condition, key values."""
    f: dict[str, Any] = {"id": id, "type": type, "name": name, "condition": condition,
                         "values": {k: values[k] for k in KEY_VALUES[domain] if k in values}}
    if geometry is not None:
        if geometry["type"] == "Point":
            f["lon"], f["lat"] = geometry["coordinates"][0], geometry["coordinates"][1]
        else:
            f["coords"] = geometry["coordinates"]
    return f


def _feature_of(a: Any) -> dict:
    return geo_feature(a.domain, a.id, a.type, a.name, a.geometry, str(a.condition), a.values)


def _point(geometry: dict | None) -> tuple[float, float] | None:
    if geometry is None:
        return None
    c = geometry["coordinates"]
    if geometry["type"] == "Point":
        return c[0], c[1]
    mid = c[len(c) // 2]
    return mid[0], mid[1]


def _matches(a: dict, type: str | None, condition: str | None, bbox: BBox | None) -> bool:
    if type is not None and a["type"] != type:
        return False
    if condition is not None and a["condition"] != condition:
        return False
    if bbox is not None:
        p = _point(a["geometry"])
        return p is not None and bbox[0] <= p[0] <= bbox[2] and bbox[1] <= p[1] <= bbox[3]
    return True


def sort_alarms(alarms: Iterable[dict], active_only: bool, limit: int | None) -> list[dict]:
    """Active ones most urgent then newest first; otherwise newest change first."""
    if active_only:
        out = sorted((a for a in alarms if a["active"]), key=lambda a: (PRIORITY_RANK[a["priority"]], -a["raised_at"], a["id"]))
    else:
        out = sorted(alarms, key=lambda a: (-a["updated_at"], a["id"]))
    return out if limit is None else out[:limit]


def _merge(static: bytes, dynamic: bytes | None) -> dict:
    """An asset from its two snapshot parts: identity (written on definition) and live values."""
    a = _decode(static)
    a["values"], a["condition"], a["updated"] = _decode(dynamic) if dynamic is not None else ({}, "unknown", None)
    return a


def _with_age(sups: list[dict], now: float) -> list[dict]:
    for s in sups:
        s["age_s"] = round(max(0.0, now - s["last_seen"]), 1)
    return sups


def _health(redis_up: bool, engine: str, sups: list[dict], snapshot_age_s: float | None) -> dict:
    live = all(s["status"] == "live" for s in sups)
    status = "down" if not redis_up else ("ok" if live and engine != "stopped" else "degraded")
    return {"status": status, "redis_up": redis_up, "engine": engine, "snapshot_age_s": snapshot_age_s,
            "supervisors": [{k: s[k] for k in ("id", "domain", "status", "age_s")} for s in sups]}


# --- the protocol ----------------------------------------------------------------------------


class Reader(Protocol):
    """What the API and the UI read the live state through."""

    def assets(self, domain: str | None = None, type: str | None = None, condition: str | None = None,
               bbox: BBox | None = None, offset: int = 0, limit: int = 100) -> tuple[int, list[dict]]: ...
    def asset(self, asset_id: str) -> dict | None: ...
    def assets_geo(self, domain: str) -> list[dict]: ...
    def supervisors(self) -> list[dict]: ...
    def alarms(self, active_only: bool = True, limit: int | None = None) -> list[dict]: ...
    def alarms_by_id(self, ids: Iterable[str]) -> dict[str, dict]: ...
    def kpis(self) -> dict[str, list[dict]]: ...
    def kpi_history(self, domain: str) -> dict[str, list[list]]: ...
    def summary(self) -> dict: ...
    def health(self) -> dict: ...


# --- in-process ----------------------------------------------------------------------------


class LocalReader:
    """Reads the engine's core in this process: takes the engine's lock, copies, lets go."""

    def __init__(self, engine: "Engine") -> None:
        self.engine = engine

    def _read(self, fn: Callable[["Hypervisor", float], Any]) -> Any:
        now = self.engine.clock()
        with self.engine.lock:
            raw = _encode(fn(self.engine.core, now))  # a deep copy, in the same JSON shapes as Redis
        return _decode(raw)

    def assets(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        """Assets matching the filters, ordered by id: (total, one page)."""
        def page(core, now):
            found = core.state.query(domain=domain, type=type, condition=condition, bbox=bbox)
            found.sort(key=lambda a: a.id)
            return [len(found), [a.to_dict() for a in found[offset : offset + limit]]]

        total, items = self._read(page)
        return total, items

    def asset(self, asset_id):
        """One asset, or None."""
        return self._read(lambda core, now: (a.to_dict() if (a := core.state.get(asset_id)) else None))

    def assets_geo(self, domain):
        """Every asset of a domain as a compact map feature."""
        return self._read(lambda core, now: [_feature_of(a) for a in core.state.domain(domain).values()])

    def supervisors(self):
        """Every supervisor's health."""
        return self._read(lambda core, now: core.supervisors(now))

    def alarms(self, active_only=True, limit=None):
        """Active alarms (or every alarm held), in operator order."""
        return sort_alarms(self._read(lambda core, now: [a.to_dict() for a in core.alarms.all()]), active_only, limit)

    def alarms_by_id(self, ids):
        """The alarms held among `ids`, by id (a push delta reads only what changed, not the whole book)."""
        return self._read(lambda core, now: {i: a.to_dict() for i in ids if (a := core.alarms.get(i)) is not None})

    def kpis(self):
        """Current KPIs per domain."""
        return self._read(lambda core, now: core.kpis())

    def kpi_history(self, domain):
        """Each KPI's sampled values of one domain: {key: [[t, v], ...]}."""
        return self._read(lambda core, now: {k["key"]: core.kpi_history.series(domain, k["key"]) for k in core.kpis()[domain]})

    def summary(self):
        """The cross-domain strip."""
        return self._read(lambda core, now: core.summary(now))

    def health(self):
        """Redis link, engine and each supervisor's freshness."""
        engine = "running" if self.engine.running else "stopped"
        return _health(self.engine.bus_up, engine, self.supervisors(), None)


# --- from the snapshots in Redis -------------------------------------------------------------


class RedisReader:
    """Reads the snapshots the engine writes to Redis (for a web worker without an engine)."""

    def __init__(self, client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock
        self._cache: dict[str, tuple[bytes | None, dict[str, dict]]] = {}  # domain -> (version, assets)

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ERRORS as err:
            raise ReaderUnavailable(f"Redis does not answer: {err}") from err

    def _json(self, key: str, default: Any) -> Any:
        raw = self._call(lambda: self.client.get(key))
        return default if raw is None else _decode(raw)

    def _domain(self, domain: str) -> dict[str, dict]:
        version = self._call(lambda: self.client.get(snap_key("version", domain)))
        cached = self._cache.get(domain)
        if cached is not None and cached[0] == version and version is not None:
            return cached[1]

        def both():
            pipe = self.client.pipeline(transaction=True)
            pipe.hgetall(snap_key("assets", domain))
            pipe.hgetall(snap_key("values", domain))
            return pipe.execute()

        static, dynamic = self._call(both)
        assets = {k.decode(): _merge(v, dynamic.get(k)) for k, v in static.items()}
        self._cache[domain] = (version, assets)
        return assets

    def assets(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        """Assets matching the filters, ordered by id: (total, one page)."""
        found = [a for d in ((domain,) if domain else DOMAINS) for a in self._domain(d).values() if _matches(a, type, condition, bbox)]
        found.sort(key=lambda a: a["id"])
        return len(found), found[offset : offset + limit]

    def asset(self, asset_id):
        """One asset, or None."""
        def get():
            pipe = self.client.pipeline(transaction=True)
            for d in DOMAINS:
                pipe.hget(snap_key("assets", d), asset_id)
                pipe.hget(snap_key("values", d), asset_id)
            return pipe.execute()

        raw = self._call(get)
        return next((_merge(raw[i], raw[i + 1]) for i in range(0, len(raw), 2) if raw[i] is not None), None)

    def assets_geo(self, domain):
        """Every asset of a domain as a compact map feature."""
        return [geo_feature(domain, a["id"], a["type"], a["name"], a["geometry"], a["condition"], a["values"]) for a in self._domain(domain).values()]

    def supervisors(self):
        """Every supervisor's health, ages on this process's clock."""
        return _with_age(self._json(snap_key("supervisors"), []), self.clock())

    def alarms(self, active_only=True, limit=None):
        """Active alarms (or every alarm held), in operator order."""
        raw = self._call(lambda: self.client.hvals(snap_key("alarms")))
        return sort_alarms([_decode(v) for v in raw], active_only, limit)

    def alarms_by_id(self, ids):
        """The alarms held among `ids`, by id."""
        ids = list(ids)
        raw = self._call(lambda: self.client.hmget(snap_key("alarms"), ids)) if ids else []
        return {i: _decode(v) for i, v in zip(ids, raw) if v is not None}

    def kpis(self):
        """Current KPIs per domain."""
        return self._json(snap_key("kpis"), {d: [] for d in DOMAINS})

    def kpi_history(self, domain):
        """Each KPI's sampled values of one domain: {key: [[t, v], ...]}."""
        return self._json(snap_key("kpi_history", domain), {})

    def summary(self):
        """The cross-domain strip."""
        return self._json(snap_key("summary"), {})

    def health(self):
        """Redis link, the engine's last snapshot and each supervisor's freshness."""
        try:
            meta = self._json(snap_key("meta"), None)
            sups = self.supervisors()
        except ReaderUnavailable:
            return _health(False, "unknown", [], None)
        if meta is None:
            return _health(True, "stopped", sups, None)
        age = round(max(0.0, self.clock() - meta["written_at"]), 1)
        return _health(True, "running" if age < 30.0 else "stopped", sups, age)
