"""The offline base map of a territory: what its package has of communes (else its boundary), districts and roads."""
from __future__ import annotations

from .geo import communes, districts, load_territory, road_sites


def _round(coords) -> list:
    return [[round(c[0], 5), round(c[1], 5)] for c in coords]


def base_map(territory: str, roads: bool = True) -> dict:
    """A FeatureCollection of one multi-geometry per kind (commune, district, road), only of the layers that exist:
    communes from the communes layer or else the boundary, districts only from a districts layer."""
    t = load_territory(territory)
    kinds = []
    if t.has("communes") or t.has("boundary"):
        kinds.append(("commune", communes(territory)))
    if t.has("districts"):
        kinds.append(("district", districts(territory)))
    features = []
    for kind, areas in kinds:
        polys = [[_round(ring) for ring in poly] for area in areas for poly in area.polygons]
        if polys:
            features.append({"type": "Feature", "properties": {"kind": kind}, "geometry": {"type": "MultiPolygon", "coordinates": polys}})
    if roads:
        lines = [_round(road.coords) for road in road_sites(territory)]
        features.append({"type": "Feature", "properties": {"kind": "road"}, "geometry": {"type": "MultiLineString", "coordinates": lines}})
    return {"type": "FeatureCollection", "features": features}
