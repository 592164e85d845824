"""The road-traffic supervisor's static world, and the traffic model its figures feed.

Each real road segment gets a road class (free-flow speed, capacity) from its mapped road
class, speed limit and lanes, else from its name and length (services/territory/roads.py), its real average daily count or an estimate by class, and its neighbours (the
segments sharing an end point); each signalised junction is tied to its nearest segments and
every asset is placed in its district and commune. `profile` shapes a daily count into hourly
flows and `bpr_speed` turns flow over capacity into a speed.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from services.contract import AssetDef, LineString, Point
from services.territory import roads
from services.territory.geo import (
    Area,
    JunctionSite,
    RoadSite,
    communes,
    daily_counts,
    districts,
    junction_sites,
    locate,
    road_sites,
)
from services.territory.grid import BoxGrid

# --- the traffic model -----------------------------------------------------------------

BPR_ALPHA, BPR_BETA = 1.0, 4.0  # urban signalised streets: half the free-flow speed at saturation


def _shares(per_hour: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(per_hour)
    return tuple(x / total for x in per_hour)


# Share of the daily count in each local hour (index = hour), before the day-of-week factor.
WEEKDAY = _shares((
    0.010, 0.006, 0.004, 0.003, 0.004, 0.010, 0.030, 0.068, 0.095, 0.066, 0.052, 0.054,
    0.058, 0.055, 0.054, 0.058, 0.070, 0.092, 0.090, 0.062, 0.040, 0.030, 0.022, 0.015,
))
SATURDAY = _shares((
    0.014, 0.010, 0.007, 0.005, 0.004, 0.006, 0.014, 0.028, 0.045, 0.060, 0.070, 0.074,
    0.068, 0.058, 0.060, 0.066, 0.070, 0.072, 0.068, 0.056, 0.040, 0.032, 0.026, 0.020,
))
SUNDAY = _shares((
    0.018, 0.013, 0.009, 0.006, 0.005, 0.005, 0.009, 0.016, 0.028, 0.045, 0.062, 0.072,
    0.070, 0.062, 0.060, 0.064, 0.070, 0.074, 0.072, 0.062, 0.044, 0.034, 0.024, 0.016,
))
DAY_FACTOR = (1.08, 0.86, 0.62)  # weekday, Saturday, Sunday (the count is an all-days average)
PEAK_WINDOWS = ((7.0, 9.5), (16.5, 19.0))  # local hours, weekdays: signals switch to `peak`


FloatOrArray = float | np.ndarray


@dataclass(frozen=True, slots=True)
class RoadClass:
    """What a road's name and length say about it: free-flow speed, capacity, typical daily count."""

    free_flow: float  # km/h
    capacity: float  # veh/h
    daily: float  # vehicles/day when the road is not counted


MOTORWAY = RoadClass(90.0, 6000.0, 30000.0)
FAST_ARTERIAL = RoadClass(70.0, 2000.0, 6000.0)
ARTERIAL = RoadClass(50.0, 1600.0, 3500.0)
STREET = RoadClass(50.0, 1000.0, 1500.0)
LOCAL_STREET = RoadClass(30.0, 800.0, 700.0)
ACCESS = RoadClass(30.0, 400.0, 200.0)
PEAK_SHARE = 0.075  # a counted road carries at least its daily count x this per hour at capacity


KIND_CLASS = {roads.MOTORWAY: MOTORWAY, roads.FAST_ARTERIAL: FAST_ARTERIAL, roads.ARTERIAL: ARTERIAL, roads.STREET: STREET,
              roads.LOCAL_STREET: LOCAL_STREET, roads.ACCESS: ACCESS}
LANE_CAPACITY = {roads.MOTORWAY: 1800.0}  # veh/h per lane and direction; 900 elsewhere (signals, crossings)


def road_class(name: str, length_m: float) -> RoadClass:
    """Classify a road by the first word of its name and its length (the fallback of `classify`)."""
    return KIND_CLASS[roads.name_kind(name, length_m)]


def classify(site: RoadSite) -> RoadClass:
    """A road's class from its mapped road class, else speed limit, else name (services/territory/roads.py);
    a known speed limit sets the free-flow speed and a known lane count the capacity."""
    kind = roads.road_kind(site)
    rc = KIND_CLASS[kind]
    if site.speed_kmh is None and site.lanes is None:
        return rc
    free = float(min(site.speed_kmh, 130.0)) if site.speed_kmh else rc.free_flow
    capacity = rc.capacity
    if site.lanes:
        per_direction = site.lanes / 2 if site.two_way and site.lanes >= 2 else site.lanes
        capacity = max(400.0, round(per_direction * LANE_CAPACITY.get(kind, 900.0) * (2 if site.two_way else 1), -2))
    return RoadClass(free, capacity, rc.daily)


def profile(local: datetime) -> float:
    """Share of the daily count flowing per hour at this local time (interpolated between hours)."""
    day = 0 if local.weekday() < 5 else local.weekday() - 4
    shape = (WEEKDAY, SATURDAY, SUNDAY)[day]
    h = local.hour + local.minute / 60.0 + local.second / 3600.0
    i, frac = int(h) % 24, h - int(h)
    return DAY_FACTOR[day] * (shape[i] * (1 - frac) + shape[(i + 1) % 24] * frac)


def is_peak(local: datetime) -> bool:
    """Is this a weekday peak period (signals run their `peak` plan)?"""
    h = local.hour + local.minute / 60.0
    return local.weekday() < 5 and any(a <= h < b for a, b in PEAK_WINDOWS)


def bpr_speed(free_flow: FloatOrArray, flow: FloatOrArray, capacity: FloatOrArray) -> FloatOrArray:
    """Mean speed from the BPR volume-delay curve: free flow / (1 + alpha (v/c)^beta); floats or arrays."""
    return free_flow / (1.0 + BPR_ALPHA * (flow / capacity) ** BPR_BETA)


# --- the world -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A road segment's identity and static traffic figures (its traffic lives in the sim's arrays)."""

    id: str
    name: str
    free_flow: float  # km/h
    capacity: float  # veh/h
    daily: float  # vehicles/day
    neighbours: tuple[int, ...]  # segments sharing an end point


@dataclass(frozen=True, slots=True)
class TrafficWorld:
    """A territory's road segments, signalised junctions (id, name, nearest segments) and asset definitions."""

    segments: tuple[Segment, ...]
    junctions: tuple[tuple[str, str, tuple[int, ...]], ...]
    assets: tuple[AssetDef, ...]


def _spread(key: int) -> float:
    """A stable pseudo-random number in [0, 1) for an id (Knuth's multiplicative hash)."""
    return ((key * 2654435761) % 2**32) / 2**32


def _text(value: str) -> str:
    return re.sub(r"[<>\x00-\x1f]", " ", value).strip()[:200]


def _xy(lon: float, lat: float) -> tuple[float, float]:
    """Local metres (equirectangular: good to a few metres over the few hundred metres compared)."""
    return lon * 111320.0 * math.cos(math.radians(lat)), lat * 110574.0


def _midpoint(coords: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    pts = [_xy(*c) for c in coords]
    steps = [math.dist(a, b) for a, b in zip(pts, pts[1:])]
    half, walked = sum(steps) / 2, 0.0
    for (a, b), d in zip(zip(coords, coords[1:]), steps):
        if walked + d >= half and d > 0:
            f = (half - walked) / d
            return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        walked += d
    return coords[0]


def _distance_to_line(p: tuple[float, float], coords: tuple[tuple[float, float], ...]) -> float:
    px, py = _xy(*p)
    best = math.inf
    pts = [_xy(*c) for c in coords]
    for (ax, ay), (bx, by) in zip(pts, pts[1:]):
        dx, dy = bx - ax, by - ay
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(px - ax - t * dx, py - ay - t * dy))
    return best


class _Locator:
    """District and commune of a point, cached by grid cell (~80 x 110 m)."""

    CELL = 0.001

    def __init__(self, territory: str) -> None:
        self.districts = districts(territory)
        self.communes = communes(territory)
        self._cache: dict[tuple[int, int], tuple[Area | None, Area | None]] = {}

    def refs(self, lon: float, lat: float) -> dict[str, str]:
        key = (round(lon / self.CELL), round(lat / self.CELL))
        if key not in self._cache:
            clon, clat = key[0] * self.CELL, key[1] * self.CELL
            self._cache[key] = (locate(clon, clat, self.districts), locate(clon, clat, self.communes))
        district, commune = self._cache[key]
        out = {}
        if district is not None:
            out["district"] = district.id
        if commune is not None:
            out["commune"] = commune.id
        return out


def _topology(sites: Sequence[RoadSite]) -> list[tuple[int, ...]]:
    """Neighbours of each segment: the segments sharing one of its end points."""
    nodes: dict[tuple[float, float], list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        for lon, lat in (site.coords[0], site.coords[-1]):
            nodes[(round(lon, 6), round(lat, 6))].append(i)
    linked: list[set[int]] = [set() for _ in sites]
    for members in nodes.values():
        for i in members:
            linked[i].update(m for m in members if m != i)
    return [tuple(sorted(s)) for s in linked]


def _segment_grid(sites: Sequence[RoadSite], cell: float) -> BoxGrid:
    """Index the segments by the grid cells (in degrees) their bounding boxes overlap."""
    lons, lats = [[c[0] for c in s.coords] for s in sites], [[c[1] for c in s.coords] for s in sites]
    return BoxGrid.of_boxes(((min(x), min(y), max(x), max(y)) for x, y in zip(lons, lats)), cell)


def _nearest_segments(sites: Sequence[RoadSite], grid: BoxGrid, lon: float, lat: float, radius_m: float = 40.0) -> list[int]:
    """The 2-4 segments nearest a junction: all within radius_m (up to 4), else the 2 nearest."""
    for reach in (1, 2, 4, 8):
        cands = grid.block(grid.cell_of(lon, lat), reach)
        ranked = sorted((_distance_to_line((lon, lat), sites[i].coords), i) for i in cands)
        if len(ranked) >= 2:
            near = [i for d, i in ranked if d <= radius_m][:4]
            return near if len(near) >= 2 else [i for _, i in ranked[:2]]
    return [i for _, i in ranked]


def _build_segments(sites: Sequence[RoadSite], counts: dict[int, float], locator: _Locator) -> tuple[list[Segment], list[AssetDef]]:
    neighbours = _topology(sites)
    segments, defs = [], []
    for i, site in enumerate(sites):
        rc = classify(site)
        counted = site.idarc in counts
        daily = counts[site.idarc] if counted else round(rc.daily * (0.5 + _spread(site.idarc)))
        capacity = max(rc.capacity, round(daily * PEAK_SHARE, -2)) if counted else rc.capacity
        seg = Segment(f"seg-{site.idarc}", _text(site.name), rc.free_flow, capacity, daily, neighbours[i])
        refs = {"street": f"street-{site.street_code}"} if site.street_code else {}
        refs.update(locator.refs(*_midpoint(site.coords)))
        props = {"freeFlowSpeed": rc.free_flow, "capacity": capacity, "dailyCount": daily, "counted": counted,
                 "lengthM": round(site.length_m, 1), "twoWay": site.two_way}
        segments.append(seg)
        geometry = LineString(coordinates=list(site.coords))
        defs.append(AssetDef(id=seg.id, type="RoadSegment", name=seg.name, geometry=geometry, refs=refs, props=props))
    return segments, defs


def _build_signals(
    junctions: Sequence[JunctionSite], sites: Sequence[RoadSite], segments: list[Segment], locator: _Locator
) -> tuple[list[tuple[str, str, tuple[int, ...]]], list[AssetDef]]:
    grid = _segment_grid(sites, 0.002)
    signals, defs = [], []
    for j in junctions:
        near = _nearest_segments(sites, grid, j.lon, j.lat)
        sig_id, name = f"sig-{j.index:03d}", _text(j.name)
        refs = locator.refs(j.lon, j.lat)
        refs.update({f"seg{n}": segments[i].id for n, i in enumerate(near, start=1)})
        signals.append((sig_id, name, tuple(near)))
        defs.append(AssetDef(id=sig_id, type="TrafficSignal", name=name, geometry=Point(coordinates=(j.lon, j.lat)), refs=refs,
                             props={"year": j.year} if j.year else {}))
    return signals, defs


def build_world(territory: str = "montpellier") -> TrafficWorld:
    """Return the segments, junctions and asset definitions of a territory, built once per process."""
    return _build_world(territory)


@lru_cache(maxsize=4)
def _build_world(territory: str) -> TrafficWorld:
    """Build the territory's segments, junctions and asset definitions from its real roads and junctions."""
    sites = road_sites(territory)
    locator = _Locator(territory)
    segments, seg_defs = _build_segments(sites, daily_counts(territory), locator)
    junctions, sig_defs = _build_signals(junction_sites(territory), sites, segments, locator)
    return TrafficWorld(tuple(segments), tuple(junctions), tuple(seg_defs + sig_defs))
