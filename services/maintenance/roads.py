"""The territory's road graph for crews: every vertex of the road segments, edges weighted in metres.

Built once from the territory's road file (services/territory/geo.py `load_geojson(..., "roads")`): vertices
closer than about a metre are one node, so segments meeting at a junction connect. Only the largest connected
part is kept (a crew's van cannot reach an isolated stub). Shortest paths run on scipy's sparse graph
(`scipy.sparse.csgraph.dijkstra`); points (faults, the depot) snap to the nearest node (a k-d tree on a local
plane). Pure apart from reading the file.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

EARTH_M = 6_371_000.0
SNAP_DIGITS = 5  # 1e-5 degree: about a metre
CHUNK = 64  # sources per Dijkstra call (rows of the full distance matrix kept at once)


@dataclass(frozen=True)
class RoadGraph:
    """Nodes (lon, lat), a symmetric sparse matrix of edge lengths in metres, and a k-d tree to snap points."""

    lonlat: np.ndarray  # (n, 2)
    matrix: csr_matrix
    tree: cKDTree
    lat0: float

    @property
    def nodes(self) -> int:
        return self.lonlat.shape[0]

    def planar(self, lonlat: np.ndarray) -> np.ndarray:
        """Metres on a local plane (good enough over a territory to find the nearest node)."""
        k = math.pi / 180 * EARTH_M
        return np.column_stack((lonlat[:, 0] * k * math.cos(math.radians(self.lat0)), lonlat[:, 1] * k))

    def snap(self, points: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(node index, distance in metres) of the nearest node of each (lon, lat)."""
        dist, idx = self.tree.query(self.planar(np.asarray(points, dtype=float).reshape(-1, 2)))
        return idx.astype(np.int64), dist

    def distances(self, nodes: Sequence[int]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """The shortest road distance in metres between every pair of `nodes` (len x len), and each node's
        predecessor row (to draw the paths afterwards without another search)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.empty((len(nodes), len(nodes)))
        uniq, inverse = np.unique(nodes, return_inverse=True)
        preds: dict[int, np.ndarray] = {}
        for start in range(0, len(uniq), CHUNK):
            block = uniq[start:start + CHUNK]
            rows, pred = dijkstra(self.matrix, directed=False, indices=block, return_predecessors=True)
            sub = rows[:, uniq][:, inverse]
            for r, u in enumerate(range(start, start + len(block))):
                out[inverse == u] = sub[r]
                preds[int(uniq[u])] = pred[r].astype(np.int32)
        return out, preds

    def walk(self, pred: np.ndarray, a: int, b: int) -> list[tuple[float, float]]:
        """The (lon, lat) vertices from node a to node b along a predecessor row of a."""
        seq = [b]
        while seq[-1] != a and pred[seq[-1]] >= 0:
            seq.append(int(pred[seq[-1]]))
        return [(float(self.lonlat[i, 0]), float(self.lonlat[i, 1])) for i in reversed(seq)]


def haversine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle metres between (lon, lat) rows."""
    la, lb = np.radians(a[:, 1]), np.radians(b[:, 1])
    dlat, dlon = lb - la, np.radians(b[:, 0] - a[:, 0])
    h = np.sin(dlat / 2) ** 2 + np.cos(la) * np.cos(lb) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(h))


def build_graph(lines: Iterable[Sequence[Sequence[float]]]) -> RoadGraph:
    """The graph of polylines given as [(lon, lat), ...] (vertices within about a metre merged); largest part only."""
    index: dict[tuple[float, float], int] = {}
    coords: list[tuple[float, float]] = []
    src: list[int] = []
    dst: list[int] = []
    for line in lines:
        prev = None
        for lon, lat, *_ in line:
            key = (round(float(lon), SNAP_DIGITS), round(float(lat), SNAP_DIGITS))
            node = index.get(key)
            if node is None:
                node = index[key] = len(coords)
                coords.append((float(lon), float(lat)))
            if prev is not None and prev != node:
                src.append(prev)
                dst.append(node)
            prev = node
    if not src:
        raise ValueError("no road segment to build a graph from")
    lonlat = np.asarray(coords)
    s, d = np.asarray(src), np.asarray(dst)
    length = np.maximum(haversine(lonlat[s], lonlat[d]), 0.01)
    n = len(coords)
    m = coo_matrix((np.concatenate([length, length]), (np.concatenate([s, d]), np.concatenate([d, s]))), shape=(n, n)).tocsr()
    m.sum_duplicates()
    _, labels = connected_components(m, directed=False)
    keep = np.flatnonzero(labels == np.bincount(labels).argmax())
    m = m[keep][:, keep].tocsr()
    lonlat = lonlat[keep]
    lat0 = float(lonlat[:, 1].mean())
    graph = RoadGraph(lonlat, m, cKDTree(np.zeros((1, 2))), lat0)
    object.__setattr__(graph, "tree", cKDTree(graph.planar(lonlat)))
    return graph


def _lines(fc: dict) -> Iterable[Sequence[Sequence[float]]]:
    for f in fc.get("features", ()):
        g = f.get("geometry") or {}
        if g.get("type") == "LineString":
            yield g["coordinates"]
        elif g.get("type") == "MultiLineString":
            yield from g["coordinates"]


@lru_cache(maxsize=4)
def territory_graph(territory_id: str) -> RoadGraph:
    """The road graph of a territory (built once a process, about a second for Montpellier's 8,011 segments)."""
    from services.territory.geo import load_geojson

    return build_graph(_lines(load_geojson(territory_id, "roads")))
