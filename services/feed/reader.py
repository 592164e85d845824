"""Reading the live state: from the engine in this process, or from the snapshots it writes to Redis.

Both readers answer the same JSON-ready shapes (a test runs both on the same data). `LocalReader` reads the
immutable views the engine publishes after each turn (services/core/views.py), never under the engine's lock;
`RedisReader` reads what services/feed/snapshots.py's `SnapshotBuilder` (run by the engine) writes.
"""
from __future__ import annotations

import heapq
import time
from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

import msgspec
import redis

from services.feed.territory_clock import clock_view
from services.feed.bus import ERRORS
from services.feed.snapshots import snap_key
from services.core.alarms import PRIORITY_RANK
from services.core.views import CoreViews

if TYPE_CHECKING:
    from services.core.views import AssetView, CoreView, DomainView
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
    def assets_json(self, domain: str | None = None, type: str | None = None, condition: str | None = None,
                    bbox: BBox | None = None, offset: int = 0, limit: int = 100) -> tuple[int, msgspec.Raw]: ...
    def asset(self, asset_id: str) -> dict | None: ...
    def assets_geo(self, domain: str) -> list[dict]: ...
    def supervisors(self) -> list[dict]: ...
    def alarms(self, active_only: bool = True, limit: int | None = None) -> list[dict]: ...
    def alarms_json(self, active_only: bool = True, limit: int | None = None) -> msgspec.Raw: ...
    def alarms_by_id(self, ids: Iterable[str]) -> dict[str, dict]: ...
    def kpis(self) -> dict[str, list[dict]]: ...
    def kpi_history(self, domain: str) -> dict[str, list[list]]: ...
    def summary(self) -> dict: ...
    def health(self) -> dict: ...
    def now(self) -> float: ...


# --- in-process ----------------------------------------------------------------------------


def _copy(doc: Any) -> Any:
    """A deep copy in the JSON shapes RedisReader answers (callers may edit what they get)."""
    return _decode(_encode(doc))


def _page_matches(a: "AssetView", type: str | None, condition: str | None, bbox: BBox | None) -> bool:
    if type is not None and a.type != type:
        return False
    if condition is not None and a.condition != condition:
        return False
    if bbox is not None:
        p = a.point
        return p is not None and bbox[0] <= p[0] <= bbox[2] and bbox[1] <= p[1] <= bbox[3]
    return True


def _in_id_order(doms: list["DomainView"]) -> Iterator["AssetView"]:
    """The assets of these domains' views, ordered by id."""
    runs = [_ordered(d) for d in doms]
    return runs[0] if len(runs) == 1 else heapq.merge(*runs, key=lambda a: a.id)


def _ordered(d: "DomainView") -> Iterator["AssetView"]:
    get = d.assets.get
    for i in d.ids():
        yield get(i)


class FollowedViews:
    """Views of an engine-shaped handle that publishes none (a replay session): kept from its events, under its lock.

    A handle without events at all (a bare core in a test) gets a whole new view at each read, built under its lock.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        with engine.lock:
            self._views = CoreViews(engine.core, engine.clock())
        self._follows = callable(getattr(engine, "subscribe", None))
        if self._follows:
            engine.subscribe(self._on_events)

    @property
    def current(self) -> "CoreView":
        """The latest view."""
        if not self._follows:
            with self.engine.lock:
                return CoreViews(self.engine.core, self.engine.clock()).current
        return self._views.current

    def _on_events(self, events: list) -> None:
        with self.engine.lock:
            if self._views.core is not self.engine.core:  # the session rebuilt its world (a seek)
                self._views = CoreViews(self.engine.core, self.engine.clock())
            else:
                self._views.publish(events, self.engine.clock())


class LocalReader:
    """Reads the engine's published views in this process: never its lock, whatever a page asks.

    The engine publishes an immutable `CoreView` after each turn (services/core/views.py); a read takes the current
    one and filters, sorts and serialises it on the reader's thread while the engine goes on.
    """

    def __init__(self, engine: "Engine") -> None:
        self.engine = engine
        views = getattr(engine, "views", None)
        self.views = views if views is not None else FollowedViews(engine)
        self._alarm_order: dict[bool, tuple[Any, list[bytes]]] = {}  # active_only -> (the book's view, its docs in order)

    def assets(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        """Assets matching the filters, ordered by id: (total, one page)."""
        total, page = self._page(domain, type, condition, bbox, offset, limit)
        return total, _decode(page)  # fresh objects for this caller

    def assets_json(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        """The same as `assets`, the page as JSON to write as it is (the API)."""
        total, page = self._page(domain, type, condition, bbox, offset, limit)
        return total, msgspec.Raw(page)

    def _page(self, domain, type, condition, bbox, offset, limit) -> tuple[int, bytes]:
        view = self.views.current
        doms = [view.domains[d] for d in ((domain,) if domain else DOMAINS)]
        ordered = _in_id_order(doms)
        if type is None and condition is None and bbox is None:  # a page costs its own size, not the domain's
            return sum(len(d.assets) for d in doms), _encode([a.to_dict() for a in islice(ordered, offset, offset + limit)])
        matching = [a for a in ordered if _page_matches(a, type, condition, bbox)]
        return len(matching), _encode([a.to_dict() for a in matching[offset : offset + limit]])

    def asset(self, asset_id):
        """One asset, or None."""
        view = self.views.current
        for d in DOMAINS:
            a = view.domains[d].assets.get(asset_id)
            if a is not None:
                return _copy(a.to_dict())
        return None

    def assets_geo(self, domain):
        """Every asset of a domain as a compact map feature, ordered by id."""
        d = self.views.current.domains[domain]
        return _copy([geo_feature(a.domain, a.id, a.type, a.name, a.geometry, str(a.condition), a.values)
                      for i in d.ids() if (a := d.assets.get(i)) is not None])

    def now(self) -> float:
        """Vigie's time now: the engine's clock (the territory clock, or a replay session's position)."""
        return self.engine.clock()

    def supervisors(self):
        """Every supervisor's health, ages on the engine's clock now."""
        return _with_age(_decode(self.views.current.supervisors), self.engine.clock())

    def alarms(self, active_only=True, limit=None):
        """Active alarms (or every alarm held), in operator order."""
        return _decode(self._alarm_list(active_only, limit))  # one decode: fresh objects for this caller

    def alarms_json(self, active_only=True, limit=None):
        """The same list as `alarms`, as JSON to write as it is (the API: no decoding, no encoding again)."""
        return msgspec.Raw(self._alarm_list(active_only, limit))

    def _alarm_list(self, active_only: bool, limit: int | None) -> bytes:
        """The JSON array of `alarms`, in sort_alarms's order (sorted once per version of the book)."""
        alarms = self.views.current.alarms
        cached = self._alarm_order.get(active_only)
        if cached is None or cached[0] is not alarms:
            if active_only:
                held = sorted((a for a in alarms.values() if a.active), key=lambda a: (a.rank, -a.raised_at, a.id))
            else:
                held = sorted(alarms.values(), key=lambda a: (-a.updated_at, a.id))
            cached = self._alarm_order[active_only] = (alarms, [a.doc for a in held])
        docs = cached[1] if limit is None else cached[1][:limit]
        return b"[" + b",".join(docs) + b"]"

    def alarms_by_id(self, ids):
        """The alarms held among `ids`, by id (a push delta reads only what changed, not the whole book)."""
        alarms = self.views.current.alarms
        return {i: _decode(a.doc) for i in ids if (a := alarms.get(i)) is not None}

    def kpis(self):
        """Current KPIs per domain."""
        return _decode(self.views.current.kpis)

    def kpi_history(self, domain):
        """Each KPI's sampled values of one domain: {key: [[t, v], ...]}."""
        return _decode(self.views.current.kpi_history[domain])

    def summary(self):
        """The cross-domain strip, and the pace of Vigie's clock (services/feed/territory_clock.py)."""
        return {**_decode(self.views.current.summary), "clock": clock_view(self.engine.clock)}

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
        self.now = clock  # Vigie's time now (the territory clock this worker follows)
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

    def assets_json(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        """The same as `assets`, the page as JSON to write as it is."""
        total, items = self.assets(domain, type, condition, bbox, offset, limit)
        return total, msgspec.Raw(_encode(items))

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

    def alarms_json(self, active_only=True, limit=None):
        """The same list as `alarms`, as JSON to write as it is."""
        return msgspec.Raw(_encode(self.alarms(active_only, limit)))

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
        """The cross-domain strip, and the pace of Vigie's clock (the territory clock this worker follows)."""
        return {**self._json(snap_key("summary"), {}), "clock": clock_view(self.clock)}

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
