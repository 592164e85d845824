"""GeoJSON as NGSI sends it, reduced to what the feed contract carries (a Point or a LineString); geo queries."""
from __future__ import annotations

from typing import Any

from services.contract.messages import Point
from services.territory.geo import haversine_m, point_in_ring

MAX_POINTS = 5000
Coord = tuple[float, float]


def _coord(raw: Any) -> Coord | None:
    if not isinstance(raw, (list, tuple)) or len(raw) < 2:
        return None
    lon, lat = raw[0], raw[1]
    if isinstance(lon, bool) or isinstance(lat, bool) or not isinstance(lon, (int, float)) or not isinstance(lat, (int, float)):
        return None
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    return (float(lon), float(lat))


def _line(raw: Any) -> list[Coord] | None:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_POINTS:
        return None
    coords = [_coord(c) for c in raw]
    return None if any(c is None for c in coords) else coords  # type: ignore[return-value]


def _ring_moments(ring: list[Coord]) -> tuple[float, float, float]:
    """(signed area, x moment, y moment) of a ring by the shoelace formula (closed or not)."""
    a = mx = my = 0.0
    pts = ring if ring[0] != ring[-1] else ring[:-1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        mx += (x0 + x1) * cross
        my += (y0 + y1) * cross
    return a / 2.0, mx / 6.0, my / 6.0


def area_centroid(polygons: list[list[list[Coord]]]) -> Coord | None:
    """The area-weighted centroid of polygons (outer ring, holes), as shapely's `centroid`; None for a degenerate area."""
    total = mx = my = 0.0
    for rings in polygons:
        for i, ring in enumerate(rings):
            if len(ring) < 3:
                continue
            a, x, y = _ring_moments(ring)
            sign = 1.0 if (i == 0) == (a > 0) else -1.0  # the outer ring adds, holes subtract, whatever their winding
            total, mx, my = total + sign * a, mx + sign * x, my + sign * y
    if abs(total) < 1e-15:
        return None
    return (mx / total, my / total)


def _centroid(coords: list[Coord]) -> Coord:
    return (sum(c[0] for c in coords) / len(coords), sum(c[1] for c in coords) / len(coords))


def to_contract_geometry(raw: Any) -> tuple[dict | None, str | None]:
    """Return (contract geometry, problem): multi-lines keep their longest line, areas their centre point."""
    if not isinstance(raw, dict):
        return None, "not a GeoJSON geometry"
    kind, coords = raw.get("type"), raw.get("coordinates")
    if kind == "Point":
        c = _coord(coords)
        return ({"type": "Point", "coordinates": list(c)}, None) if c else (None, "bad Point coordinates")
    if kind in ("LineString", "MultiPoint"):
        line = _line(coords)
        if line is None and kind == "MultiPoint" and isinstance(coords, list) and len(coords) == 1 and _coord(coords[0]):
            return {"type": "Point", "coordinates": list(_coord(coords[0]))}, None  # type: ignore[arg-type]
        return ({"type": "LineString", "coordinates": [list(c) for c in line]}, None) if line else (None, f"bad {kind} coordinates")
    if kind == "MultiLineString" and isinstance(coords, list):
        lines = [ln for ln in (_line(part) for part in coords[:1000]) if ln]
        if not lines:
            return None, "bad MultiLineString coordinates"
        longest = max(lines, key=lambda ln: sum(haversine_m(a, b) for a, b in zip(ln, ln[1:])))
        return {"type": "LineString", "coordinates": [list(c) for c in longest]}, "MultiLineString reduced to its longest line"
    if kind in ("Polygon", "MultiPolygon") and isinstance(coords, list):
        polys = [coords] if kind == "Polygon" else [p for p in coords[:1000] if isinstance(p, list) and p]
        polygons = [[ln for ln in (_line(r) for r in poly[:16]) if ln] for poly in polys if isinstance(poly, list)]
        polygons = [p for p in polygons if p]
        if not polygons:
            return None, f"bad {kind} coordinates"
        centre = area_centroid(polygons) or _centroid([c for p in polygons for c in p[0]])
        return {"type": "Point", "coordinates": list(centre)}, f"{kind} reduced to its centre point"
    return None, f"unsupported geometry type {str(kind)[:30]!r}"


def representative_point(geometry: dict | None) -> Coord | None:
    """A Point's position, or a line's middle vertex (as the reader places assets)."""
    if not geometry:
        return None
    c = geometry.get("coordinates")
    if geometry.get("type") == "Point":
        return (c[0], c[1])
    if geometry.get("type") == "LineString" and c:
        mid = c[len(c) // 2]
        return (mid[0], mid[1])
    return None


def distance_m(a: Coord, b: Coord) -> float:
    """Great-circle distance in metres."""
    return haversine_m(a, b)


def in_polygon(point: Coord, rings: list[list[Coord]]) -> bool:
    """Is the point inside the polygon's outer ring and outside its holes?"""
    if not rings or not point_in_ring(point[0], point[1], rings[0]):
        return False
    return not any(point_in_ring(point[0], point[1], hole) for hole in rings[1:])


def polygon_rings(raw: Any) -> list[list[Coord]] | None:
    """The rings of a GeoJSON Polygon's coordinates (closed, 4 to 1,000 points each), or None."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 16:
        return None
    rings = []
    for ring in raw:
        coords = _line(ring)
        if coords is None or len(coords) < 4 or len(coords) > 1000 or coords[0] != coords[-1]:
            return None
        rings.append(coords)
    return rings


def bbox_of(rings: list[list[Coord]]) -> tuple[float, float, float, float]:
    """min lon, min lat, max lon, max lat of the outer ring."""
    xs, ys = [c[0] for c in rings[0]], [c[1] for c in rings[0]]
    return (min(xs), min(ys), max(xs), max(ys))


def outside(geometry: Any, extent: tuple[float, float, float, float]) -> Coord | None:
    """A point of a contract geometry (Point, LineString) when none of it lies within `extent`; None when it does."""
    coords = getattr(geometry, "coordinates", None)
    if coords is None:
        return None
    points = [coords] if isinstance(geometry, Point) else list(coords)
    x0, y0, x1, y1 = extent
    if not points or any(x0 <= p[0] <= x1 and y0 <= p[1] <= y1 for p in points):
        return None
    return (float(points[0][0]), float(points[0][1]))
