"""Read the territory's open geodata (lamps, roads, junctions, counts, districts, communes).

The territory is configuration: `services/data/<territory>/territory.json` names its files.
Everything here reads local files only; results are cached per process.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from services.settings import PROJECT_ROOT

DATA_ROOT = PROJECT_ROOT / "services" / "data"

Coord = tuple[float, float]  # (lon, lat)


@dataclass(frozen=True, slots=True)
class Territory:
    """A territory's configuration (`territory.json`) and where its files are."""

    id: str
    name: str
    timezone: str
    latitude: float
    longitude: float
    center: tuple[float, float]
    zoom: int
    bounds: tuple[tuple[float, float], tuple[float, float]]
    files: dict
    attribution: str
    folder: Path

    def path(self, key: str) -> Path:
        """Return the path of one of the territory's data files."""
        return self.folder / self.files[key]


@lru_cache(maxsize=8)
def load_territory(territory_id: str = "montpellier", data_root: Path = DATA_ROOT) -> Territory:
    """Load a territory's configuration."""
    folder = data_root / territory_id
    cfg = json.loads((folder / "territory.json").read_text(encoding="utf-8"))
    return Territory(
        id=cfg["id"], name=cfg["name"], timezone=cfg["timezone"], latitude=cfg["latitude"],
        longitude=cfg["longitude"], center=tuple(cfg["center"]), zoom=cfg["zoom"],
        bounds=tuple(tuple(b) for b in cfg["bounds"]), files=cfg["files"],
        attribution=cfg["attribution"], folder=folder,
    )


# --- Lambert-93 (EPSG:2154, RGF93 / GRS80) to WGS84 ---------------------------------------

_A = 6378137.0
_E = math.sqrt(2 * (1 / 298.257222101) - (1 / 298.257222101) ** 2)
_LON0 = math.radians(3.0)
_X0, _Y0 = 700000.0, 6600000.0


def _m(phi: float) -> float:
    return math.cos(phi) / math.sqrt(1 - (_E * math.sin(phi)) ** 2)


def _t(phi: float) -> float:
    es = _E * math.sin(phi)
    return math.tan(math.pi / 4 - phi / 2) / ((1 - es) / (1 + es)) ** (_E / 2)


_P1, _P2, _P0 = math.radians(49.0), math.radians(44.0), math.radians(46.5)
_N = (math.log(_m(_P1)) - math.log(_m(_P2))) / (math.log(_t(_P1)) - math.log(_t(_P2)))
_F = _m(_P1) / (_N * _t(_P1) ** _N)
_RHO0 = _A * _F * _t(_P0) ** _N


def lambert93_to_wgs84(x: float, y: float) -> Coord:
    """Convert Lambert-93 metres to (lon, lat) degrees (inverse Lambert conformal conic 2SP)."""
    dx, dy = x - _X0, _RHO0 - (y - _Y0)
    rho = math.copysign(math.hypot(dx, dy), _N)
    t = (rho / (_A * _F)) ** (1 / _N)
    lon = math.atan2(dx, dy) / _N + _LON0
    phi = math.pi / 2 - 2 * math.atan(t)
    for _ in range(8):
        es = _E * math.sin(phi)
        phi = math.pi / 2 - 2 * math.atan(t * ((1 - es) / (1 + es)) ** (_E / 2))
    return (round(math.degrees(lon), 7), round(math.degrees(phi), 7))


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


def _geojson(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def load_geojson(territory_id: str, key: str) -> dict:
    """Return one of the territory's GeoJSON files as parsed (cached)."""
    return _geojson(load_territory(territory_id).path(key))


def districts(territory_id: str = "montpellier") -> tuple[Area, ...]:
    """The territory's districts (quartiers)."""
    return _districts(territory_id)


@lru_cache(maxsize=4)
def _districts(territory_id: str) -> tuple[Area, ...]:
    t = load_territory(territory_id)
    fc = load_geojson(territory_id, "districts")
    out = []
    for i, f in enumerate(fc["features"]):
        name = str(f["properties"].get(t.files["district_name"]) or f"district-{i}").title()
        out.append(_area(f"district-{i + 1}", name, f["geometry"]))
    return tuple(out)


def communes(territory_id: str = "montpellier") -> tuple[Area, ...]:
    """The territory's communes."""
    return _communes(territory_id)


@lru_cache(maxsize=4)
def _communes(territory_id: str) -> tuple[Area, ...]:
    t = load_territory(territory_id)
    fc = load_geojson(territory_id, "communes")
    return tuple(
        _area(f"commune-{f['properties'][t.files['commune_code']]}", f["properties"][t.files["commune_name"]], f["geometry"])
        for f in fc["features"]
    )


@dataclass(frozen=True, slots=True)
class LampSite:
    """A light support from the inventory."""

    index: int
    lon: float
    lat: float
    kind: str  # LANTERNE, PROJECTEUR, ...


def lamp_sites(territory_id: str = "montpellier") -> tuple[LampSite, ...]:
    """The real light supports (29,969 for Montpellier)."""
    return _lamp_sites(territory_id)


@lru_cache(maxsize=4)
def _lamp_sites(territory_id: str) -> tuple[LampSite, ...]:
    fc = load_geojson(territory_id, "lamps")
    return tuple(
        LampSite(i, f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1], (f["properties"].get("type_lante") or "LANTERNE").upper())
        for i, f in enumerate(fc["features"])
        if f.get("geometry")
    )


@dataclass(frozen=True, slots=True)
class RoadSite:
    """A road segment of the street centre lines."""

    idarc: int
    name: str
    street_code: str
    length_m: float
    coords: tuple[Coord, ...]
    two_way: bool


def road_sites(territory_id: str = "montpellier") -> tuple[RoadSite, ...]:
    """The real road segments (8,011 for Montpellier)."""
    return _road_sites(territory_id)


@lru_cache(maxsize=4)
def _road_sites(territory_id: str) -> tuple[RoadSite, ...]:
    fc = load_geojson(territory_id, "roads")
    out = []
    for f in fc["features"]:
        p, g = f["properties"], f["geometry"]
        if not g or g["type"] != "LineString" or len(g["coordinates"]) < 2:
            continue
        out.append(
            RoadSite(
                idarc=int(p["IDARC"]),
                name=(p.get("LIB_OFF") or p.get("NOMVOI") or "").strip() or "Voie non dénommée",
                street_code=str(p.get("CODE_VOIE") or ""),
                length_m=float(p.get("LEN") or p.get("LONGUEUR") or 0.0),
                coords=tuple((c[0], c[1]) for c in g["coordinates"]),
                two_way=(p.get("SENS_CIRCU") or "").upper().startswith("DOUBLE"),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class JunctionSite:
    """A signalised junction (reprojected from Lambert-93)."""

    index: int
    name: str
    lon: float
    lat: float
    year: int


def junction_sites(territory_id: str = "montpellier") -> tuple[JunctionSite, ...]:
    """The real signalised junctions (373 for Montpellier), in WGS84."""
    return _junction_sites(territory_id)


@lru_cache(maxsize=4)
def _junction_sites(territory_id: str) -> tuple[JunctionSite, ...]:
    t = load_territory(territory_id)
    fc = load_geojson(territory_id, "junctions")
    lambert = t.files.get("junctions_crs") == "EPSG:2154"
    out = []
    for i, f in enumerate(fc["features"]):
        x, y = f["geometry"]["coordinates"][:2]
        lon, lat = lambert93_to_wgs84(x, y) if lambert else (x, y)
        out.append(JunctionSite(i, (f["properties"].get("CAR_LIEU") or f"Carrefour {i}").strip(), lon, lat, int(f["properties"].get("CAR_ANNEE") or 0)))
    return tuple(out)


def daily_counts(territory_id: str = "montpellier") -> dict[int, float]:
    """Average daily traffic (TJM, vehicles/day) per road IDARC, latest count kept."""
    return _daily_counts(territory_id)


@lru_cache(maxsize=4)
def _daily_counts(territory_id: str) -> dict[int, float]:
    t = load_territory(territory_id)
    out: dict[int, tuple[int, float]] = {}
    with open(t.path("counts"), encoding=t.files.get("counts_encoding", "utf-8"), newline="") as fh:
        reader = csv.reader(fh)
        header = [h.split(",")[0] for h in next(reader)]
        col = {h: i for i, h in enumerate(header)}
        for row in reader:
            try:
                idarc = int(float(row[col["IDENTSIG"]]))
                tjm = float(row[col["TJM"]])
                year = int(float(row[col["ANNEE"]]))
            except (ValueError, IndexError):
                continue  # '#N/A' and friends
            if idarc <= 0 or tjm <= 0:
                continue
            if idarc not in out or out[idarc][0] <= year:
                out[idarc] = (year, tjm)
    return {k: v[1] for k, v in out.items()}
