"""The live model of the territory's assets: identity, place, relations, latest values, condition."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterable

from services.contract.messages import READING_TYPES, AssetDef, LineString, Point

from .tally import CONTRIBUTIONS, DomainAssets, Tally


class Condition(StrEnum):
    """An asset's condition as shown everywhere (colour means only abnormal)."""

    OK = "ok"
    WARNING = "warning"
    FAULT = "fault"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"  # never reported a value


CONDITION_RANK = {Condition.OK: 0, Condition.UNKNOWN: 1, Condition.MAINTENANCE: 2, Condition.WARNING: 3, Condition.FAULT: 4}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits that make a value abnormal (an engineer's settings)."""

    low_pressure_bar: float = 1.5
    high_pressure_bar: float = 8.0
    min_chlorine_mgl: float = 0.1
    max_chlorine_mgl: float = 1.0
    max_turbidity_ntu: float = 1.0
    low_reservoir_ratio: float = 0.2


class AssetRecord:
    """One asset as Vigie knows it. Mutated only by TerritoryState."""

    __slots__ = ("id", "domain", "supervisor", "type", "name", "geometry", "refs", "props", "values", "condition", "updated", "heard",
                 "tally")

    def __init__(self, domain: str, supervisor: str, d: AssetDef) -> None:
        self.domain = domain
        self.supervisor = supervisor
        self.values: dict[str, Any] = {}
        self.condition = Condition.UNKNOWN
        self.updated: float | None = None
        self.heard: float | None = None  # Vigie's time of the last reading applied (the supervisor's is `updated`)
        self.tally: tuple[int, ...] | None = None  # its part in its domain's running sums (services/core/tally.py)
        self.define(d)

    def define(self, d: AssetDef) -> None:
        """Take the identity, place and relations of an asset definition."""
        self.id = d.id
        self.type = d.type
        self.name = d.name
        self.refs = dict(d.refs)
        self.props = dict(d.props)
        g = d.geometry
        if isinstance(g, Point):
            self.geometry: dict | None = {"type": "Point", "coordinates": list(g.coordinates)}
        elif isinstance(g, LineString):
            self.geometry = {"type": "LineString", "coordinates": [list(c) for c in g.coordinates]}
        else:
            self.geometry = None

    @property
    def point(self) -> tuple[float, float] | None:
        """A representative (lon, lat): the point, or a line's middle vertex."""
        if self.geometry is None:
            return None
        c = self.geometry["coordinates"]
        if self.geometry["type"] == "Point":
            return (c[0], c[1])
        mid = c[len(c) // 2]
        return (mid[0], mid[1])

    def to_dict(self) -> dict:
        """JSON-ready view of the asset."""
        return {
            "id": self.id, "domain": self.domain, "supervisor": self.supervisor, "type": self.type,
            "name": self.name, "geometry": self.geometry, "refs": self.refs, "props": self.props,
            "values": self.values, "condition": str(self.condition), "updated": self.updated,
        }


def _lighting_condition(a: AssetRecord, t: Thresholds) -> Condition:
    status = a.values.get("status")
    if status is None:
        return Condition.UNKNOWN
    return Condition.OK if status == "ok" else Condition.FAULT


def _water_condition(a: AssetRecord, t: Thresholds) -> Condition:
    v = a.values
    if not v:
        return Condition.UNKNOWN
    status = v.get("status")
    if status == "fault":
        return Condition.FAULT
    if status == "maintenance":
        return Condition.MAINTENANCE
    p = v.get("pressure")
    if p is not None and a.type == "Device" and not (t.low_pressure_bar <= p <= t.high_pressure_bar):
        return Condition.WARNING
    cl, tu = v.get("chlorine"), v.get("turbidity")
    if (cl is not None and not t.min_chlorine_mgl <= cl <= t.max_chlorine_mgl) or (tu is not None and tu > t.max_turbidity_ntu):
        return Condition.WARNING
    level, max_level = v.get("level"), a.props.get("maxLevel")
    if level is not None and isinstance(max_level, (int, float)) and max_level > 0 and level / max_level < t.low_reservoir_ratio:
        return Condition.WARNING
    return Condition.OK


def _traffic_condition(a: AssetRecord, t: Thresholds) -> Condition:
    v = a.values
    if not v:
        return Condition.UNKNOWN
    if v.get("status") == "fault" or v.get("closed"):
        return Condition.FAULT
    if v.get("congested") or v.get("signalPlan") == "flashingAmber":
        return Condition.WARNING
    return Condition.OK


CONDITION_RULES: dict[str, Callable[[AssetRecord, Thresholds], Condition]] = {
    "lighting": _lighting_condition,
    "water": _water_condition,
    "traffic": _traffic_condition,
}
READING_FIELDS: dict[str, tuple[str, ...]] = {
    d: tuple(f for f in t.__struct_fields__ if f != "asset") for d, t in READING_TYPES.items()
}


def _merge_function(fields: tuple[str, ...]) -> Callable[[Any, dict], bool]:
    """Build `merge(reading, values) -> changed` with the field loop unrolled.

    This is the ingest hot path (hundreds of thousands of readings a second): plain
    attribute loads are about twice as fast as `getattr` in a loop.
    """
    lines = ["def merge(r, vals):", "    diff = False"]
    for f in fields:
        lines += [f"    v = r.{f}", f"    if v is not None and vals.get({f!r}) != v:", f"        vals[{f!r}] = v", "        diff = True"]
    lines.append("    return diff")
    ns: dict[str, Any] = {}
    exec("\n".join(lines), ns)  # noqa: S102 - source built from our own struct field names only
    return ns["merge"]


MERGERS: dict[str, Callable[[Any, dict], bool]] = {d: _merge_function(f) for d, f in READING_FIELDS.items()}


class TerritoryState:
    """All assets by id, with per-domain indexes. The single writer is the Hypervisor."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._assets: dict[str, AssetRecord] = {}
        # per domain: its records, and the running sums the KPIs read (lighting, traffic: services/core/tally.py)
        self._by_domain: dict[str, DomainAssets] = {
            d: DomainAssets(Tally(*CONTRIBUTIONS[d]) if d in CONTRIBUTIONS else None) for d in READING_TYPES}

    def __len__(self) -> int:
        return len(self._assets)

    def get(self, asset_id: str) -> AssetRecord | None:
        """Return an asset by id, or None."""
        return self._assets.get(asset_id)

    def domain(self, domain: str) -> dict[str, AssetRecord]:
        """The assets of one domain, by id (read-only use)."""
        return self._by_domain[domain]

    def define(self, domain: str, supervisor: str, defs: Iterable[AssetDef]) -> list[str]:
        """Create or update this supervisor's assets from definitions; return the ids it now defines."""
        ids = []
        for d in defs:
            rec = self._assets.get(d.id)
            if rec is None:
                rec = AssetRecord(domain, supervisor, d)
                self._assets[d.id] = rec
                self._by_domain[domain][d.id] = rec
            elif rec.supervisor != supervisor:
                continue  # an id belongs to the supervisor that defined it: no one takes over another's asset
            else:
                rec.define(d)
            tally = self._by_domain[domain].tally
            if tally is not None:
                tally.touch(rec)
            ids.append(d.id)
        return ids

    def retally(self) -> None:
        """Work out every domain's running sums again (records put in place without `define`: an image restored)."""
        for d, index in self._by_domain.items():
            if index.tally is not None:
                index.tally = Tally(*CONTRIBUTIONS[d])
                for rec in dict.values(index):
                    rec.tally = None
                    index.tally.update(rec)

    def remove(self, asset_ids: Iterable[str]) -> list[str]:
        """Forget assets; return the ids that existed."""
        gone = []
        for aid in asset_ids:
            rec = self._assets.pop(aid, None)
            if rec is not None:
                index = self._by_domain[rec.domain]
                index.pop(aid, None)
                if index.tally is not None:
                    index.tally.remove(rec)
                gone.append(aid)
        return gone

    def apply_readings(self, domain: str, supervisor: str, readings: Iterable, ts: float,
                       foreign: list[str] | None = None, *, heard: float | None = None,
                       since: float | None = None) -> tuple[list[str], list[str]]:
        """Apply readings; return (ids whose values changed, ids unknown or not this supervisor's).

        `foreign`: when given, the ids of other supervisors' assets go there instead (never applied either).
        `heard`: Vigie's time now. `since`: an asset Vigie heard of after this time keeps its values (a retained
        state written then, older than the live feed).
        """
        changed: list[str] = []
        unknown: list[str] = []
        assets = self._assets
        merge = MERGERS[domain]
        rule = CONDITION_RULES[domain]
        thresholds = self.thresholds
        tally = self._by_domain[domain].tally
        for r in readings:
            rec = assets.get(r.asset)
            if rec is None or rec.supervisor != supervisor:
                (unknown if rec is None or foreign is None else foreign).append(r.asset)
                continue
            if since is not None and rec.heard is not None and rec.heard > since:
                continue
            rec.updated = ts
            rec.heard = heard
            if merge(r, rec.values):
                rec.condition = rule(rec, thresholds)
                changed.append(r.asset)
                if tally is not None:
                    tally.touch(rec)
        return changed, unknown

    def query(
        self,
        *,
        domain: str | None = None,
        type: str | None = None,
        condition: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        supervisor: str | None = None,
    ) -> list[AssetRecord]:
        """Assets matching every given filter (bbox = min lon, min lat, max lon, max lat)."""
        source: Iterable[AssetRecord] = self._by_domain[domain].values() if domain else self._assets.values()
        out = []
        for a in source:
            if type is not None and a.type != type:
                continue
            if condition is not None and a.condition != condition:
                continue
            if supervisor is not None and a.supervisor != supervisor:
                continue
            if bbox is not None:
                p = a.point
                if p is None or not (bbox[0] <= p[0] <= bbox[2] and bbox[1] <= p[1] <= bbox[3]):
                    continue
            out.append(a)
        return out
