"""A territory package: a folder with a manifest (`territory.json`) and the layers it names (docs/territory.md).

`VIGIE_TERRITORY` is a folder path or the name of a folder under `services/data/`. The manifest says the
territory's name, time zone, language, latitude, supervisor ids and, per layer, its file, CRS and field mapping.
Layers are read here into WGS84 GeoJSON features; what each layer means is in geo.py.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATA_ROOT = Path(__file__).resolve().parents[1] / "data"  # services/data (settings import this module: no import back)
MANIFEST = "territory.json"
FORMAT = 1
LAYERS = ("roads", "boundary", "communes", "districts", "lamps", "cabinets", "junctions", "counts", "water")
DOMAINS = ("lighting", "water", "traffic")
WGS84 = "EPSG:4326"

Coord = tuple[float, float]  # (lon, lat)


class TerritoryError(ValueError):
    """A territory package that cannot be used; the text names the file and the field."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a package: its file, its CRS (None: read from the file, else WGS84), its field mapping."""

    key: str
    file: str
    crs: str | None = None
    encoding: str = "utf-8"
    fields: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def field_names(self, name: str) -> tuple[str, ...]:
        """The attribute names a mapped field is read from, first non-empty wins (a string or a list in the manifest)."""
        value = self.fields.get(name)
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    def value(self, props: dict, name: str) -> Any:
        """A feature's value for a mapped field (None when unmapped or empty)."""
        for attr in self.field_names(name):
            v = props.get(attr)
            if v not in (None, ""):
                return v
        return None


@dataclass(frozen=True, slots=True)
class Territory:
    """A territory package: its manifest and where its files are."""

    id: str
    name: str
    timezone: str
    latitude: float
    longitude: float
    center: tuple[float, float]
    zoom: int
    bounds: tuple[tuple[float, float], tuple[float, float]]
    attribution: str
    folder: Path
    language: str = "fr"
    supervisors: dict[str, str] = field(default_factory=dict)
    supervisor_names: dict[str, str] = field(default_factory=dict)
    layers: dict[str, Layer] = field(default_factory=dict)
    terrain: dict[str, Any] = field(default_factory=dict)
    water: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """The string that loads this territory again (its folder)."""
        return str(self.folder)

    def has(self, key: str) -> bool:
        """Does the package have this layer?"""
        return key in self.layers

    def layer(self, key: str) -> Layer:
        """One of the package's layers; TerritoryError when the manifest has none."""
        try:
            return self.layers[key]
        except KeyError:
            raise TerritoryError(f"{self.folder / MANIFEST}: no '{key}' layer") from None

    def path(self, key: str) -> Path:
        """Return the path of one of the territory's layer files."""
        return self.folder / self.layer(key).file


_LOADED: dict[str, Path] = {}  # manifest id -> folder of the packages loaded by path (pages name them by id)


def short_code(territory_id: str) -> str:
    """The short code of the supervisor ids: the first word (8 letters at most) and the others' initials (3 at most),
    so that the header's supervisor badges stay short ('bourg-synthetique' -> 'bourgs')."""
    first, *rest = territory_id.split("-")
    return first[:8] + "".join(p[:1] for p in rest if p)[:3]


def resolve(territory: str | Path, data_root: Path = DATA_ROOT) -> Path:
    """The folder of a territory given as a path, as a name under `services/data/`, or as the id of a package
    already loaded by path."""
    text = str(territory)
    candidate = Path(text).expanduser()
    if ("/" in text or candidate.is_absolute()) and candidate.is_dir():
        return candidate.resolve()
    named = data_root / text
    if named.is_dir():
        return named
    if candidate.is_dir():
        return candidate.resolve()
    if text in _LOADED:
        return _LOADED[text]
    raise TerritoryError(f"territory {text!r}: no such folder (a path to a territory package, or a name under {data_root})")


def territory_language(territory: str) -> str:
    """The language a package's manifest gives (`fr` when it says none, or when the package cannot be read: the app
    says why where it loads the territory)."""
    try:
        language = read_manifest(resolve(territory)).get("language", "fr")
    except TerritoryError:
        return "fr"
    return language if language in ("fr", "en") else "fr"


def read_manifest(folder: Path) -> dict:
    """The manifest of a package as parsed JSON; TerritoryError with the reason when unreadable."""
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TerritoryError(f"{path}: missing (every territory package has a manifest)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TerritoryError(f"{path}: unreadable: {err}") from err
    if not isinstance(doc, dict):
        raise TerritoryError(f"{path}: a JSON object is expected")
    return doc


def _layers(doc: dict, path: Path) -> dict[str, Layer]:
    out = {}
    for key, spec in (doc.get("layers") or {}).items():
        if key not in LAYERS:
            raise TerritoryError(f"{path}: layers.{key}: unknown layer (one of {', '.join(LAYERS)})")
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            raise TerritoryError(f"{path}: layers.{key}.file: a file name is required")
        known = {"file", "crs", "encoding", "fields"}
        out[key] = Layer(key, spec["file"], spec.get("crs"), spec.get("encoding", "utf-8"), dict(spec.get("fields") or {}),
                         {k: v for k, v in spec.items() if k not in known})
    return out


@lru_cache(maxsize=8)
def load_territory(territory: str = "montpellier", data_root: Path = DATA_ROOT) -> Territory:
    """Load a territory package (a folder path, or a name under `services/data/`)."""
    folder = resolve(territory, data_root)
    doc = read_manifest(folder)
    path = folder / MANIFEST
    for key in ("id", "name", "timezone"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise TerritoryError(f"{path}: '{key}' is required (text)")
    layers = _layers(doc, path)
    if "roads" not in layers:
        raise TerritoryError(f"{path}: layers.roads is required")
    view = doc.get("view") or {}
    if view:
        center, zoom = tuple(view["center"]), int(view["zoom"])
        bounds = tuple(tuple(b) for b in view["bounds"])
    else:
        bounds, center, zoom = computed_view(folder, layers)
    latitude = float(doc.get("latitude", center[0]))
    longitude = float(doc.get("longitude", center[1]))
    sups = doc.get("supervisors") or {}
    ids = {d: (sups.get(d) or {}).get("id") if isinstance(sups.get(d), dict) else sups.get(d) for d in DOMAINS}
    names = {d: sups[d].get("name", "") for d in DOMAINS if isinstance(sups.get(d), dict)}
    code = short_code(doc["id"])
    ids = {d: ids[d] or f"{prefix}-{code}" for d, prefix in zip(DOMAINS, ("lum", "eau", "trafic"))}
    _LOADED.setdefault(doc["id"], folder)
    return Territory(
        id=doc["id"], name=doc["name"], timezone=doc["timezone"], latitude=latitude, longitude=longitude,
        center=center, zoom=zoom, bounds=bounds, attribution=doc.get("attribution", ""), folder=folder,
        language=doc.get("language", "fr"), supervisors=ids, supervisor_names=names, layers=layers,
        terrain=dict(doc.get("terrain") or {}), water=dict(doc.get("water") or {}),
    )


# --- coordinates -------------------------------------------------------------------------

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


def crs_code(text: str | None) -> str | None:
    """Normalise a CRS name ('EPSG:2154', 'urn:ogc:def:crs:EPSG::2154', 'CRS84', '2154') to 'EPSG:n' (None: none said)."""
    if text is None or str(text).strip() == "":
        return None
    t = str(text).strip().upper()
    if t.endswith(("CRS84", "CRS:84")):
        return WGS84
    digits = t.rsplit(":", 1)[-1]
    if digits.isdigit():
        return f"EPSG:{int(digits)}"
    raise TerritoryError(f"CRS {text!r}: not understood (an EPSG code such as EPSG:2154 is expected)")


def file_crs(doc: dict) -> str | None:
    """The CRS a GeoJSON document says it is in (its legacy 'crs' member), or None."""
    crs = doc.get("crs")
    if isinstance(crs, dict):
        return crs_code((crs.get("properties") or {}).get("name"))
    return None


@lru_cache(maxsize=16)
def transformer(crs: str) -> Callable[[float, float], Coord]:
    """A function turning (x, y) of this CRS into (lon, lat) rounded to 7 decimals."""
    if crs == WGS84:
        return lambda x, y: (x, y)
    if crs == "EPSG:2154":
        return lambert93_to_wgs84  # exact to a millimetre against pyproj, without it
    try:
        from pyproj import CRS, Transformer
        from pyproj.exceptions import CRSError

        try:
            tr = Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True)
        except CRSError as err:
            raise TerritoryError(f"CRS {crs}: unknown to pyproj ({err})") from err
    except ImportError as err:  # pragma: no cover - pyproj is a dependency
        raise TerritoryError(f"CRS {crs}: pyproj is needed to read it") from err

    def convert(x: float, y: float) -> Coord:
        lon, lat = tr.transform(x, y)
        return (round(lon, 7), round(lat, 7))

    return convert


def _convert(coords: Any, fn: Callable[[float, float], Coord]) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return list(fn(coords[0], coords[1]))
    return [_convert(c, fn) for c in coords]


def first_xy(geometry: dict | None) -> tuple[float, float] | None:
    """The first coordinate pair of a geometry, or None."""
    c = (geometry or {}).get("coordinates")
    while isinstance(c, list) and c and isinstance(c[0], list):
        c = c[0]
    return (float(c[0]), float(c[1])) if isinstance(c, list) and len(c) >= 2 and isinstance(c[0], (int, float)) else None


def layer_crs(layer: Layer, doc: dict) -> str:
    """The CRS of a layer's file: what the file says, else what the manifest declares, else WGS84."""
    return file_crs(doc) or crs_code(layer.crs) or WGS84


def read_geojson(folder: Path, layer: Layer) -> dict:
    """A layer's GeoJSON file, its geometries in WGS84 (lon, lat)."""
    path = folder / layer.file
    try:
        doc = json.loads(path.read_text(encoding=layer.encoding))
    except FileNotFoundError:
        raise TerritoryError(f"{path}: missing (layers.{layer.key}.file)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TerritoryError(f"{path}: unreadable GeoJSON: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise TerritoryError(f"{path}: a GeoJSON FeatureCollection is expected")
    crs = layer_crs(layer, doc)
    if crs == WGS84:
        xy = next((p for p in (first_xy(f.get("geometry")) for f in doc["features"] if isinstance(f, dict)) if p), None)
        if xy is not None and (abs(xy[0]) > 180 or abs(xy[1]) > 90):
            raise TerritoryError(f"{path}: coordinates {xy[0]:.0f}, {xy[1]:.0f} are not degrees: declare the file's CRS "
                                 f"(layers.{layer.key}.crs, e.g. EPSG:2154)")
        return doc
    fn = transformer(crs)
    features = []
    for f in doc["features"]:
        g = f.get("geometry") if isinstance(f, dict) else None
        if g and g.get("coordinates") is not None:
            f = {**f, "geometry": {**g, "coordinates": _convert(g["coordinates"], fn)}}
        features.append(f)
    return {"type": "FeatureCollection", "features": features}


def all_xy(geometry: dict | None) -> list[tuple[float, float]]:
    """Every coordinate pair of a geometry."""
    out: list[tuple[float, float]] = []

    def walk(c: Any) -> None:
        if isinstance(c, list) and c and isinstance(c[0], (int, float)):
            out.append((float(c[0]), float(c[1])))
        elif isinstance(c, list):
            for x in c:
                walk(x)

    walk((geometry or {}).get("coordinates"))
    return out


def computed_view(folder: Path, layers: dict[str, Layer]) -> tuple[tuple, tuple[float, float], int]:
    """Bounds, centre and zoom from the data: the communes (else the boundary, else the roads) with a small margin."""
    key = next(k for k in ("communes", "boundary", "districts", "roads") if k in layers)
    doc = read_geojson(folder, layers[key])
    pts = [p for f in doc["features"] if isinstance(f, dict) for p in all_xy(f.get("geometry"))]
    if not pts:
        raise TerritoryError(f"{folder / layers[key].file}: no coordinates (layers.{key})")
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    mx, my = max((x1 - x0) * 0.05, 0.002), max((y1 - y0) * 0.05, 0.002)
    bounds = ((round(y0 - my, 5), round(x0 - mx, 5)), (round(y1 + my, 5), round(x1 + mx, 5)))
    center = (round((y0 + y1) / 2, 5), round((x0 + x1) / 2, 5))
    span = max(x1 - x0, (y1 - y0) / max(math.cos(math.radians(center[0])), 0.1), 1e-4)
    zoom = int(max(8, min(17, math.floor(math.log2(1000 * 360 / (256 * span))))))  # ~1000 px of map across the span
    return bounds, center, zoom
