"""Read the territory's open geodata (lamps, roads, junctions, counts, districts, communes).

The territory is a package (package.py, docs/territory.md): a folder whose manifest names its layers, their CRS
and field mapping. Only roads are required: without communes, districts or lamps, what stands in for them is
derived from what exists (and lamps placed along the roads are marked synthetic). Everything here reads local
files only; results are cached per process.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache

from .package import (
    DATA_ROOT,
    Coord,
    Territory,
    TerritoryError,
    lambert93_to_wgs84,
    load_territory,
    read_geojson,
)
from .roads import RoadSite, lamp_spacing_m, road_key, road_sites_of

__all__ = ["DATA_ROOT", "Coord", "RoadSite", "Territory", "TerritoryError", "lambert93_to_wgs84", "load_territory"]


# --- small geometry helpers ---------------------------------------------------------------


def point_in_ring(lon: float, lat: float, ring: list[Coord]) -> bool:
    """Ray casting: is the point inside the closed ring?"""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygons_of(geometry: dict) -> list[list[list[Coord]]]:
    """Return a (Multi)Polygon geometry as a list of polygons (lists of rings)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


@dataclass(frozen=True, slots=True)
class Area:
    """A named polygonal area (district, commune) with a bounding box for fast rejection."""

    id: str
    name: str
    polygons: tuple
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lon: float, lat: float) -> bool:
        """Is the point inside the area (outer rings minus holes)?"""
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        for poly in self.polygons:
            if point_in_ring(lon, lat, poly[0]) and not any(point_in_ring(lon, lat, h) for h in poly[1:]):
                return True
        return False


def _area(area_id: str, name: str, geometry: dict) -> Area:
    polys = polygons_of(geometry)
    xs = [c[0] for p in polys for c in p[0]]
    ys = [c[1] for p in polys for c in p[0]]
    return Area(area_id, name, tuple(polys), (min(xs), min(ys), max(xs), max(ys)))


def locate(lon: float, lat: float, areas: tuple[Area, ...]) -> Area | None:
    """Return the first area containing the point, or None."""
    for area in areas:
        if area.contains(lon, lat):
            return area
    return None


def haversine_m(a: Coord, b: Coord) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371000.0 * math.asin(math.sqrt(h))


# --- the territory's layers ---------------------------------------------------------------


def extent(territory_id: str = "montpellier", margin_km: float = 5.0) -> tuple[float, float, float, float]:
    """The territory's extent: its communes' bounding box widened by `margin_km` (min lon, min lat, max lon, max lat)."""
    boxes = [c.bbox for c in communes(territory_id)]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    dlat = margin_km / 111.32
    dlon = dlat / max(math.cos(math.radians((y0 + y1) / 2)), 0.01)
    return (x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)


@lru_cache(maxsize=16)
def load_geojson(territory_id: str, key: str) -> dict:
    """Return one of the territory's GeoJSON layers, in WGS84 (cached)."""
    t = load_territory(territory_id)
    return read_geojson(t.folder, t.layer(key))


def has_layer(territory_id: str, key: str) -> bool:
    """Does the territory's package have this layer?"""
    return load_territory(territory_id).has(key)


def _polygon_areas(territory_id: str, key: str, prefix: str, name_field: str, code_field: str | None) -> tuple[Area, ...]:
    """A polygon layer's areas, named by a mapped field (the n-th feature without a name or code gets its number)."""
    t = load_territory(territory_id)
    layer = t.layer(key)
    out = []
    for i, f in enumerate(load_geojson(territory_id, key)["features"]):
        g = f.get("geometry") if isinstance(f, dict) else None
        if not g or not polygons_of(g):
            continue
        props = f.get("properties") or {}
        code = layer.value(props, code_field) if code_field else None
        name = layer.value(props, name_field)
        area_id = f"{prefix}-{code}" if code is not None else f"{prefix}-{i + 1}"
        out.append(_area(area_id, str(name).strip() if name is not None else f"{t.name} {i + 1}", g))
    return tuple(out)


def _road_box(territory_id: str, prefix: str) -> tuple[Area, ...]:
    """One area over the roads' bounding box, named after the territory (when no polygon layer exists)."""
    t = load_territory(territory_id)
    pts = [c for r in road_sites(territory_id) for c in r.coords]
    x0, y0 = min(p[0] for p in pts) - 0.001, min(p[1] for p in pts) - 0.001
    x1, y1 = max(p[0] for p in pts) + 0.001, max(p[1] for p in pts) + 0.001
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return (Area(f"{prefix}-{t.id}", t.name, (((ring),),), (x0, y0, x1, y1)),)


def districts(territory_id: str = "montpellier") -> tuple[Area, ...]:
    """The territory's districts (quartiers); without that layer, its communes stand for them (else one area)."""
    return _districts(territory_id)


@lru_cache(maxsize=4)
def _districts(territory_id: str) -> tuple[Area, ...]:
    t = load_territory(territory_id)
    if t.has("districts"):
        layer = t.layer("districts")
        out = []
        for i, f in enumerate(load_geojson(territory_id, "districts")["features"]):
            if not f.get("geometry") or not polygons_of(f["geometry"]):
                continue
            name = str(layer.value(f.get("properties") or {}, "name") or f"district-{i}").title()
            out.append(_area(f"district-{i + 1}", name, f["geometry"]))
        if out:
            return tuple(out)
    return tuple(Area(f"district-{n + 1}", a.name, a.polygons, a.bbox) for n, a in enumerate(communes(territory_id)))


def communes(territory_id: str = "montpellier") -> tuple[Area, ...]:
    """The territory's communes; without that layer, its boundary (else one area over its roads) stands for them."""
    return _communes(territory_id)


@lru_cache(maxsize=4)
def _communes(territory_id: str) -> tuple[Area, ...]:
    t = load_territory(territory_id)
    if t.has("communes"):
        out = _polygon_areas(territory_id, "communes", "commune", "name", "code")
        if out:
            return out
    if t.has("boundary"):
        out = _polygon_areas(territory_id, "boundary", "commune", "name", "code")
        if len(out) == 1:
            return (Area(f"commune-{t.id}", t.name if out[0].name.startswith(t.name) else out[0].name, out[0].polygons, out[0].bbox),)
        if out:
            return out
    return _road_box(territory_id, "commune")


@dataclass(frozen=True, slots=True)
class LampSite:
    """A light support from the inventory (or placed along a road when the territory has no lamp layer)."""

    index: int
    lon: float
    lat: float
    kind: str  # LANTERNE, PROJECTEUR, ...
    synthetic: bool = False


def lamp_sites(territory_id: str = "montpellier") -> tuple[LampSite, ...]:
    """The real light supports (29,969 for Montpellier), else lamps placed along the roads (synthetic)."""
    return _lamp_sites(territory_id)


@lru_cache(maxsize=4)
def _lamp_sites(territory_id: str) -> tuple[LampSite, ...]:
    t = load_territory(territory_id)
    if t.has("lamps"):
        layer = t.layer("lamps")
        real = tuple(
            LampSite(i, c[0], c[1], str(layer.value(f.get("properties") or {}, "kind") or "LANTERNE").upper())
            for i, (f, c) in enumerate((f, (f.get("geometry") or {}).get("coordinates")) for f in load_geojson(territory_id, "lamps")["features"])
            if f.get("geometry") and f["geometry"].get("type") == "Point" and c and len(c) >= 2
        )
        if real:
            return real
    return placed_lamps(road_sites(territory_id))


def placed_lamps(roads: tuple[RoadSite, ...]) -> tuple[LampSite, ...]:
    """Lamps along the roads, one every `lamp_spacing_m` of the road's class (motorways unlit unless nothing else is)."""
    out: list[LampSite] = []
    for unlit_motorways in (True, False):
        for road in roads:
            spacing = lamp_spacing_m(road, unlit_motorways)
            if spacing <= 0:
                continue
            steps = [haversine_m(a, b) for a, b in zip(road.coords, road.coords[1:])]
            goal, walked = spacing / 2, 0.0
            for (a, b), d in zip(zip(road.coords, road.coords[1:]), steps):
                while d > 0 and goal <= walked + d:
                    f = (goal - walked) / d
                    out.append(LampSite(len(out), round(a[0] + (b[0] - a[0]) * f, 7), round(a[1] + (b[1] - a[1]) * f, 7), "LANTERNE", True))
                    goal += spacing
                walked += d
            if walked < spacing / 2 and road.coords:  # a short road still gets one lamp, at its middle
                mid = road.coords[len(road.coords) // 2]
                out.append(LampSite(len(out), mid[0], mid[1], "LANTERNE", True))
        if out:
            break
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CabinetSite:
    """A lighting control cabinet from the package's cabinets layer."""

    index: int
    lon: float
    lat: float
    name: str


@lru_cache(maxsize=4)
def cabinet_sites(territory_id: str = "montpellier") -> tuple[CabinetSite, ...]:
    """The real lighting cabinets (Points of the cabinets layer); none without that layer."""
    t = load_territory(territory_id)
    if not t.has("cabinets"):
        return ()
    layer = t.layer("cabinets")
    out = []
    for f in load_geojson(territory_id, "cabinets")["features"]:
        g = f.get("geometry") or {}
        if g.get("type") != "Point" or len(g.get("coordinates") or ()) < 2:
            continue
        name = layer.value(f.get("properties") or {}, "name")
        out.append(CabinetSite(len(out), g["coordinates"][0], g["coordinates"][1], str(name).strip() if name is not None else ""))
    return tuple(out)


def road_sites(territory_id: str = "montpellier") -> tuple[RoadSite, ...]:
    """The real road segments (8,011 for Montpellier)."""
    return _road_sites(territory_id)


@lru_cache(maxsize=4)
def _road_sites(territory_id: str) -> tuple[RoadSite, ...]:
    t = load_territory(territory_id)
    sites = road_sites_of(load_geojson(territory_id, "roads")["features"], t.layer("roads"))
    if not sites:
        raise TerritoryError(f"{t.path('roads')}: no usable road (LineString with two points or more)")
    return sites


@dataclass(frozen=True, slots=True)
class JunctionSite:
    """A signalised junction (in WGS84)."""

    index: int
    name: str
    lon: float
    lat: float
    year: int


def junction_sites(territory_id: str = "montpellier") -> tuple[JunctionSite, ...]:
    """The real signalised junctions (373 for Montpellier), in WGS84; none without that layer."""
    return _junction_sites(territory_id)


def _year(value: object) -> int:
    try:
        return int(float(str(value)[:4])) if value not in (None, "") else 0
    except ValueError:
        return 0


@lru_cache(maxsize=4)
def _junction_sites(territory_id: str) -> tuple[JunctionSite, ...]:
    t = load_territory(territory_id)
    if not t.has("junctions"):
        return ()
    layer = t.layer("junctions")
    out = []
    for i, f in enumerate(load_geojson(territory_id, "junctions")["features"]):
        g = f.get("geometry") or {}
        if g.get("type") != "Point" or len(g.get("coordinates") or ()) < 2:
            continue
        lon, lat = g["coordinates"][:2]
        props = f.get("properties") or {}
        out.append(JunctionSite(i, str(layer.value(props, "name") or f"Carrefour {i}").strip(), lon, lat, _year(layer.value(props, "year"))))
    return tuple(out)


def daily_counts(territory_id: str = "montpellier") -> dict[int, float]:
    """Average daily traffic (vehicles/day) per road (its `idarc`), latest count kept; empty without counts."""
    return _daily_counts(territory_id)


@lru_cache(maxsize=4)
def _daily_counts(territory_id: str) -> dict[int, float]:
    t = load_territory(territory_id)
    if not t.has("counts"):
        return {}
    layer = t.layer("counts")
    by_ref = {r.ref: r.idarc for r in road_sites(territory_id)}
    road_f, daily_f, year_f = (layer.field_names(k)[:1] or (d,) for k, d in (("road", "IDENTSIG"), ("daily", "TJM"), ("year", "ANNEE")))
    out: dict[int, tuple[int, float]] = {}
    with open(t.path("counts"), encoding=layer.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=layer.options.get("delimiter", ","))
        header = [h.split(",")[0].strip() for h in next(reader, [])]
        col = {h: i for i, h in enumerate(header)}
        if road_f[0] not in col or daily_f[0] not in col:
            raise TerritoryError(f"{t.path('counts')}: columns {road_f[0]!r} and {daily_f[0]!r} are needed (layers.counts.fields)")
        for row in reader:
            try:
                idarc = by_ref.get(road_key(row[col[road_f[0]]]))
                tjm = float(row[col[daily_f[0]]])
                year = int(float(row[col[year_f[0]]])) if year_f[0] in col else 0
            except (ValueError, IndexError):
                continue  # '#N/A' and friends
            if idarc is None or idarc <= 0 or tjm <= 0:
                continue
            if idarc not in out or out[idarc][0] <= year:
                out[idarc] = (year, tjm)
    return {k: v[1] for k, v in out.items()}
