"""The street-lighting supervisor's static world, built once per territory from its real light supports
(or, without a lamp layer, lamps placed along the roads by road class: services/territory/geo.py, marked synthetic).

Each lamp is placed in its district and commune and on its nearest street; the lamps of a
district are split into spatially compact control cabinets of about 37 lamps, and each
district with lamps gets one schedule group. `LightingWorld` also maps every id a command may
target (lamp, cabinet, group, street, district, commune) to the lamps it stands for.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import numpy as np

from services.contract import AssetDef, Point
from services.territory.geo import (
    Area,
    CabinetSite,
    RoadSite,
    cabinet_sites,
    communes,
    districts,
    lamp_sites,
    road_sites,
)
from services.territory.grid import BoxGrid, planar

# lamp type -> (power rating W, readable French label)
LAMP_TYPES: dict[str, tuple[float, str]] = {
    "LANTERNE": (100.0, "Lanterne"),
    "LUMINAIRE AMBIANCE": (70.0, "Luminaire d'ambiance"),
    "PROJECTEUR": (250.0, "Projecteur"),
    "ENCASTRE": (35.0, "Encastré"),
    "BORNE COLONNE": (40.0, "Borne colonne"),
    "LUMINAIRE EN APPLIQUE": (60.0, "Applique"),
}
LAMPS_PER_CABINET = 37.5


@dataclass(frozen=True, slots=True)
class LightingWorld:
    """Lamps, cabinets and groups of a territory, and which lamps each target id stands for."""

    lamp_ids: tuple[str, ...]
    lamp_cabinet: tuple[int, ...]
    lamp_group: tuple[int, ...]
    lamp_rating: tuple[float, ...]
    cabinet_ids: tuple[str, ...]
    cabinet_lamps: tuple[tuple[int, ...], ...]
    group_ids: tuple[str, ...]
    group_names: tuple[str, ...]
    group_refs: tuple[dict[str, str], ...]
    group_lamps: tuple[tuple[int, ...], ...]
    targets: Mapping[str, tuple[int, ...]]  # any lamp/cabinet/group/street/district/commune id -> lamps
    assets: tuple[AssetDef, ...]  # lamps then cabinets (groups carry the live schedule, see the sim)

    def lamp(self, lamp_id: str) -> int:
        """Return a lamp's index; KeyError when the id is not a lamp's."""
        lamps = self.targets.get(lamp_id)
        if not lamp_id.startswith("lamp-") or not lamps:
            raise KeyError(f"unknown lamp {lamp_id!r}")
        return lamps[0]

    def name(self, asset_id: str) -> str:
        """Return a lamp's or a cabinet's name."""
        if asset_id.startswith("lamp-"):
            return self.assets[self.lamp(asset_id)].name
        return self.assets[len(self.lamp_ids) + self.cabinet_ids.index(asset_id)].name


def _in_polygons(x: np.ndarray, y: np.ndarray, area: Area) -> np.ndarray:
    """Which points are inside the area (even-odd rule over every ring, vectorised)."""
    inside = np.zeros(len(x), dtype=bool)
    for poly in area.polygons:
        crossings = np.zeros(len(x), dtype=np.int64)
        for ring in poly:  # holes are rings too: the even-odd count takes them out
            r = np.asarray(ring, dtype=float)[:, :2]
            xi, yi = r[:, 0], r[:, 1]
            xj, yj = np.roll(xi, 1), np.roll(yi, 1)
            dy = np.where(yj == yi, 1.0, yj - yi)
            for s in range(0, len(x), 2048):
                px, py = x[s : s + 2048, None], y[s : s + 2048, None]
                straddles = (yi > py) != (yj > py)
                crossings[s : s + 2048] += (straddles & (px < (xj - xi) * (py - yi) / dy + xi)).sum(axis=1)
        inside |= crossings % 2 == 1
    return inside


def _locate_all(lon: np.ndarray, lat: np.ndarray, areas: tuple[Area, ...], cell_deg: float = 0.001) -> list[Area]:
    """Return each point's area (the nearest one when outside all), deciding once per grid cell no border crosses."""
    border: set[tuple[int, int]] = set()
    for area in areas:
        for ring in (r for poly in area.polygons for r in poly):
            for a, b in zip(ring, ring[1:]):
                for i in range(math.floor(min(a[0], b[0]) / cell_deg), math.floor(max(a[0], b[0]) / cell_deg) + 1):
                    for j in range(math.floor(min(a[1], b[1]) / cell_deg), math.floor(max(a[1], b[1]) / cell_deg) + 1):
                        border.add((i, j))
    ci, cj = np.floor(lon / cell_deg).astype(np.int64), np.floor(lat / cell_deg).astype(np.int64)
    cell_of: dict[tuple[int, int], int] = {}
    probe: list[int] = []  # a point index (exact test) or -(cell number + 1) (the cell's centre stands for it)
    for p, key in enumerate(zip(ci.tolist(), cj.tolist())):
        if key in border:
            probe.append(p)
        else:
            probe.append(-(cell_of.setdefault(key, len(cell_of)) + 1))
    centres = np.array(list(cell_of), dtype=float).reshape(-1, 2)
    qx = np.concatenate([lon[[p for p in probe if p >= 0]], (centres[:, 0] + 0.5) * cell_deg])
    qy = np.concatenate([lat[[p for p in probe if p >= 0]], (centres[:, 1] + 0.5) * cell_deg])
    found = np.full(len(qx), -1)
    for n, area in enumerate(areas):
        x0, y0, x1, y1 = area.bbox
        todo = np.flatnonzero((found < 0) & (qx >= x0) & (qx <= x1) & (qy >= y0) & (qy <= y1))
        found[todo[_in_polygons(qx[todo], qy[todo], area)]] = n
    n_exact = len(qx) - len(centres)
    exact = dict(zip([p for p in probe if p >= 0], found[:n_exact].tolist()))
    outlines = [np.concatenate([np.asarray(poly[0], dtype=float)[:, :2] for poly in a.polygons]) for a in areas]
    out: list[Area] = []
    for p, key in enumerate(probe):
        n = exact[p] if key >= 0 else int(found[n_exact - key - 1])
        out.append(areas[n] if n >= 0 else _nearest_area(float(lon[p]), float(lat[p]), areas, outlines))
    return out


def _nearest_area(lon: float, lat: float, areas: tuple[Area, ...], outlines: list[np.ndarray]) -> Area:
    """Return the area with the outline vertex nearest to the point."""
    k = math.cos(math.radians(lat)) ** 2
    return min(zip(areas, outlines), key=lambda ao: float((k * (ao[1][:, 0] - lon) ** 2 + (ao[1][:, 1] - lat) ** 2).min()))[0]


def _nearest_roads(lon: np.ndarray, lat: np.ndarray, roads: tuple[RoadSite, ...], cell_m: float = 150.0) -> list[int]:
    """Return, for each point, the index of the road with the nearest edge (grid of road edges)."""
    lat0 = float(lat.mean())
    px, py = planar(lon, lat, lat0)
    ends = [(c0, c1, r) for r, road in enumerate(roads) for c0, c1 in zip(road.coords, road.coords[1:])]
    ax, ay = planar(np.array([e[0][0] for e in ends]), np.array([e[0][1] for e in ends]), lat0)
    bx, by = planar(np.array([e[1][0] for e in ends]), np.array([e[1][1] for e in ends]), lat0)
    owner = np.array([e[2] for e in ends])
    boxes = zip(np.minimum(ax, bx).tolist(), np.minimum(ay, by).tolist(), np.maximum(ax, bx).tolist(), np.maximum(ay, by).tolist())
    grid = BoxGrid.of_boxes(boxes, cell_m)
    cells: dict[tuple[int, int], list[int]] = {}
    for p, xy in enumerate(zip(px.tolist(), py.tolist())):
        cells.setdefault(grid.cell_of(*xy), []).append(p)
    best = [0] * len(px)
    for cell, pts in cells.items():
        for r in range(1, 40):  # widen until the nearest edge is provably inside the searched block
            cand = grid.block(cell, r)
            if not cand:
                continue
            e = np.array(cand)
            qx, qy = px[pts][:, None], py[pts][:, None]
            dx, dy = bx[e] - ax[e], by[e] - ay[e]
            t = np.clip(((qx - ax[e]) * dx + (qy - ay[e]) * dy) / np.maximum(dx * dx + dy * dy, 1e-9), 0.0, 1.0)
            d2 = (ax[e] + t * dx - qx) ** 2 + (ay[e] + t * dy - qy) ** 2
            k = d2.argmin(axis=1)
            if d2[np.arange(len(pts)), k].max() <= (r * cell_m) ** 2 or r == 39:
                for p, kk in zip(pts, k):
                    best[p] = int(owner[e[kk]])
                break
    return best


def _split(idx: list[int], xy: np.ndarray, k: int) -> list[list[int]]:
    """Split lamps into k spatially compact, equally sized cabinets (recursive bisection)."""
    if k <= 1:
        return [idx]
    pts = xy[idx]
    axis = 0 if np.ptp(pts[:, 0]) >= np.ptp(pts[:, 1]) else 1
    order = [idx[o] for o in np.argsort(pts[:, axis], kind="stable")]
    k1 = k // 2
    n1 = round(len(order) * k1 / k)
    return _split(order[:n1], xy, k1) + _split(order[n1:], xy, k - k1)


def _nearest_cabinets(xy: np.ndarray, real: tuple[CabinetSite, ...], lat0: float) -> tuple[list[list[int]], list[CabinetSite]]:
    """Each lamp on its nearest listed cabinet; the cabinets that feed at least one lamp, in the layer's order."""
    cxy = np.column_stack(planar(np.array([c.lon for c in real]), np.array([c.lat for c in real]), lat0))
    owner = np.empty(len(xy), dtype=np.int64)
    for s in range(0, len(xy), 2048):
        d2 = ((xy[s : s + 2048, None, :] - cxy[None, :, :]) ** 2).sum(axis=2)
        owner[s : s + 2048] = d2.argmin(axis=1)
    used = sorted(set(owner.tolist()))
    return [np.flatnonzero(owner == c).tolist() for c in used], [real[c] for c in used]


def build_world(territory_id: str = "montpellier") -> LightingWorld:
    """Return the lamps, cabinets and groups of a territory, built once per process."""
    return _build_world(territory_id)


@lru_cache(maxsize=2)
def _build_world(territory_id: str) -> LightingWorld:
    """Build the lamps, cabinets and groups of a territory from its real light supports."""
    sites, roads = lamp_sites(territory_id), road_sites(territory_id)
    lon, lat = np.array([s.lon for s in sites]), np.array([s.lat for s in sites])
    dist = _locate_all(lon, lat, districts(territory_id))
    comm = _locate_all(lon, lat, communes(territory_id))
    road = [roads[r] for r in _nearest_roads(lon, lat, roads)]
    street = [f"street-{r.street_code or r.idarc}" for r in road]
    ids = tuple(f"lamp-{i + 1:05d}" for i in range(len(sites)))

    used = {d.id for d in dist}  # one schedule group per district that has lamps, in the districts' order
    group_areas = [a for a in districts(territory_id) if a.id in used]
    group_of = {a.id: n for n, a in enumerate(group_areas)}
    group_ids = tuple(f"group-{d}" for d in group_of)

    xy = np.column_stack(planar(lon, lat, float(lat.mean())))
    by_district: dict[str, list[int]] = {d: [] for d in group_of}
    for i in range(len(sites)):
        by_district[dist[i].id].append(i)
    real = cabinet_sites(territory_id)
    if real:  # the package lists its cabinets: each lamp hangs on the nearest one
        cabinets, cab_site = _nearest_cabinets(xy, real, float(lat.mean()))
    else:  # grouped here: compact sets of ~37 lamps within each district (synthetic)
        cabinets = [c for lamps in by_district.values() for c in _split(lamps, xy, max(1, round(len(lamps) / LAMPS_PER_CABINET)))]
        cab_site = [None] * len(cabinets)
    cabinet_ids = tuple(f"cabinet-{n + 1:03d}" for n in range(len(cabinets)))
    lamp_cabinet = [0] * len(sites)
    for n, lamps in enumerate(cabinets):
        for i in lamps:
            lamp_cabinet[i] = n

    def main_commune(lamps: list[int]) -> str:
        return Counter(comm[i].id for i in lamps).most_common(1)[0][0]

    assets: list[AssetDef] = []
    for i, s in enumerate(sites):
        rating, label = LAMP_TYPES.get(s.kind, LAMP_TYPES["LANTERNE"])
        assets.append(AssetDef(
            id=ids[i], type="Streetlight", name=f"{label} {i + 1:05d}, {road[i].name}"[:500], geometry=Point((s.lon, s.lat)),
            refs={"cabinet": cabinet_ids[lamp_cabinet[i]], "group": group_ids[group_of[dist[i].id]], "street": street[i], "district": dist[i].id, "commune": comm[i].id},
            props={"powerRating": rating, "lampType": s.kind, **({"synthetic": True} if s.synthetic else {})},
        ))
    for n, lamps in enumerate(cabinets):
        first, site = lamps[0], cab_site[n]
        main_street = Counter(road[i].name for i in lamps).most_common(1)[0][0]
        at = (site.lon, site.lat) if site else (round(float(lon[lamps].mean()), 7), round(float(lat[lamps].mean()), 7))
        assets.append(AssetDef(
            id=cabinet_ids[n], type="StreetlightControlCabinet",
            name=(site.name if site and site.name else f"Armoire {n + 1:03d}, {main_street}")[:500], geometry=Point(at),
            refs={"district": dist[first].id, "commune": main_commune(lamps), "group": group_ids[group_of[dist[first].id]]},
            props={"lamps": len(lamps), "installedPower": sum(LAMP_TYPES.get(sites[i].kind, LAMP_TYPES["LANTERNE"])[0] for i in lamps),
                   **({} if site else {"synthetic": True})},  # grouped here unless the package lists its cabinets
        ))

    targets: dict[str, list[int]] = {}
    for i, a in enumerate(assets[: len(sites)]):
        targets[a.id] = [i]
        for ref in a.refs.values():
            targets.setdefault(ref, []).append(i)
    lamp_group = tuple(group_of[d.id] for d in dist)
    return LightingWorld(
        lamp_ids=ids, lamp_cabinet=tuple(lamp_cabinet), lamp_group=lamp_group,
        lamp_rating=tuple(LAMP_TYPES.get(s.kind, LAMP_TYPES["LANTERNE"])[0] for s in sites),
        cabinet_ids=cabinet_ids, cabinet_lamps=tuple(tuple(c) for c in cabinets),
        group_ids=group_ids, group_names=tuple(f"Programme horaire {a.name}" for a in group_areas),
        group_refs=tuple({"district": d, "commune": main_commune(by_district[d])} for d in group_of), group_lamps=tuple(tuple(targets[g]) for g in group_ids),
        targets=MappingProxyType({k: tuple(v) for k, v in targets.items()}), assets=tuple(assets),
    )
