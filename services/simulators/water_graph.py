"""The street graph a water network is drawn on, and the geometry that turns its paths into pipes.

Nodes are the ends of the territory's road segments and edges the segments themselves;
shortest paths from a pump (or a reservoir) make a tree, and the tree is cut into pipes that
follow one street as long as they can.
"""
from __future__ import annotations

import heapq
import math
import random

from services.territory.geo import Coord, RoadSite, haversine_m, road_sites

MAX_PIPE_M = 650.0  # a chain of street segments longer than this starts a new pipe
MIN_PIPE_M = 150.0  # a chain shorter than this keeps going into the next street
MAX_PIPE_COORDS = 800


MAIN_SHARE = 0.9  # a largest connected part holding this share of the street nodes carries the network alone
MIN_PART_NODES = 3  # smaller parts are left out when parts are joined


class StreetGraph:
    """The street graph: nodes are segment ends, edges are road segments.

    The network is drawn on `main`: the largest connected part when it holds MAIN_SHARE of the nodes, else every
    part of MIN_PART_NODES nodes or more joined to it by straight links (synthetic roads named "Liaison", each
    from a part to the nearest node already joined)."""

    def __init__(self, territory: str) -> None:
        self.roads = list(road_sites(territory))
        self.links = 0  # synthetic roads added to join the parts
        self.nodes: list[Coord] = []
        self.adj: list[list[tuple[int, int, float]]] = []  # (neighbour, road index, length)
        ids: dict[tuple[float, float], int] = {}
        for r, road in enumerate(self.roads):
            a, b = (self._node(ids, road.coords[0]), self._node(ids, road.coords[-1]))
            if a != b:
                length = road.length_m or sum(haversine_m(p, q) for p, q in zip(road.coords, road.coords[1:]))
                self.adj[a].append((b, r, length))
                self.adj[b].append((a, r, length))
        parts = self._components()
        main = parts[0] if parts else []
        if len(main) < MAIN_SHARE * len(self.nodes):
            main = self._join([p for p in parts if len(p) >= MIN_PART_NODES] or parts[:1])
        self.main = sorted(main)

    def _node(self, ids: dict, c: Coord) -> int:
        key = (round(c[0], 6), round(c[1], 6))
        if key not in ids:
            ids[key] = len(self.nodes)
            self.nodes.append(c)
            self.adj.append([])
        return ids[key]

    def _components(self) -> list[list[int]]:
        """The connected parts, largest first (ties: the one with the lowest node first)."""
        seen = [False] * len(self.nodes)
        parts: list[list[int]] = []
        for s in range(len(self.nodes)):
            if seen[s]:
                continue
            seen[s], comp, stack = True, [], [s]
            while stack:
                u = stack.pop()
                comp.append(u)
                for v, _, _ in self.adj[u]:
                    if not seen[v]:
                        seen[v] = True
                        stack.append(v)
            parts.append(comp)
        return sorted(parts, key=lambda c: (-len(c), min(c)))

    def _join(self, parts: list[list[int]]) -> list[int]:
        """Join the parts into one graph: each next part (nearest first) is linked to the nearest joined node."""
        joined, rest = list(parts[0]), [list(p) for p in parts[1:]]
        lat0 = sum(self.nodes[n][1] for n in joined) / len(joined)
        k = math.cos(math.radians(lat0)) ** 2
        while rest:
            best = (math.inf, 0, 0, 0)
            step = max(1, len(joined) // 400)
            probe = joined[::step]
            for i, part in enumerate(rest):
                for v in part[:: max(1, len(part) // 200)]:
                    vx, vy = self.nodes[v]
                    for u in probe:
                        ux, uy = self.nodes[u]
                        d = k * (ux - vx) ** 2 + (uy - vy) ** 2
                        if d < best[0]:
                            best = (d, i, u, v)
            _, i, u, v = best
            a, b = self.nodes[u], self.nodes[v]
            length = max(1.0, haversine_m(a, b))
            r = len(self.roads)
            self.roads.append(RoadSite(-(self.links + 1), "Liaison", "", round(length, 1), (a, b), True, f"liaison-{self.links + 1}"))
            self.links += 1
            self.adj[u].append((v, r, length))
            self.adj[v].append((u, r, length))
            joined.extend(rest.pop(i))
        return joined

    def dijkstra(self, sources: list[int]) -> tuple[dict[int, float], dict[int, tuple[int, int]], dict[int, int]]:
        """Shortest street paths from the nearest source: distance, (parent node, road), source index."""
        dist = {s: 0.0 for s in sources}
        origin = {s: i for i, s in enumerate(sources)}
        parent: dict[int, tuple[int, int]] = {}
        heap = [(0.0, s) for s in sources]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, r, w in self.adj[u]:
                if d + w < dist.get(v, math.inf):
                    dist[v], parent[v], origin[v] = d + w, (u, r), origin[u]
                    heapq.heappush(heap, (d + w, v))
        return dist, parent, origin

    def oriented(self, road: int, start: int) -> list[Coord]:
        """The road's coordinates, starting at node `start`."""
        coords = list(self.roads[road].coords)
        s = self.nodes[start]
        return coords if (round(coords[0][0], 6), round(coords[0][1], 6)) == (round(s[0], 6), round(s[1], 6)) else coords[::-1]


def _nearest(x: float, y: float, centers: list[tuple[float, float]]) -> int:
    """Return the index of the centre nearest a point."""
    best, best_d = 0, math.inf
    for i, (cx, cy) in enumerate(centers):
        d = (x - cx) ** 2 + (y - cy) ** 2
        if d < best_d:
            best, best_d = i, d
    return best


def kmeans(points: list[tuple[float, float]], k: int, rng: random.Random) -> list[tuple[float, float]]:
    """Return k centres of the points (k-means++ seeding, then 15 rounds)."""
    centers = [points[rng.randrange(len(points))]]
    while len(centers) < k:  # k-means++ seeding
        d2 = [min((x - cx) ** 2 + (y - cy) ** 2 for cx, cy in centers) for x, y in points]
        centers.append(points[rng.choices(range(len(points)), weights=d2)[0]])
    for _ in range(15):
        groups: list[list[tuple[float, float]]] = [[] for _ in centers]
        for x, y in points:
            groups[_nearest(x, y, centers)].append((x, y))
        centers = [(sum(p[0] for p in g) / len(g), sum(p[1] for p in g) / len(g)) if g else c for g, c in zip(groups, centers)]
    return centers


def point_along(coords: tuple[Coord, ...], frac: float) -> Coord:
    """Return the point a fraction `frac` of the way along a line."""
    steps = [haversine_m(a, b) for a, b in zip(coords, coords[1:])]
    goal = frac * sum(steps)
    for (a, b), s in zip(zip(coords, coords[1:]), steps):
        if goal <= s and s > 0:
            t = goal / s
            return (round(a[0] + t * (b[0] - a[0]), 7), round(a[1] + t * (b[1] - a[1]), 7))
        goal -= s
    return coords[-1]


def path_tree(g: StreetGraph, root: int, targets: list[int], parent: dict[int, tuple[int, int]]) -> dict[int, list[int]]:
    """The children of each node on the union of the shortest paths root -> targets."""
    children: dict[int, list[int]] = {root: []}
    for t in targets:
        path, v = [], t
        while v not in children:
            path.append(v)
            v = parent[v][0]
        for node in reversed(path):
            children[v].append(node)
            children[node] = []
            v = node
    for kids in children.values():
        kids.sort()
    return children


def pipe_chains(g: StreetGraph, root: int, children: dict[int, list[int]], parent: dict[int, tuple[int, int]],
            stops: frozenset[int] = frozenset()) -> list[tuple[int, list[int], int, int]]:
    """Cut the tree into pipes: (parent chain, roads, start node, end node), upstream first; a pipe ends at a stop."""
    out: list[tuple[int, list[int], int, int]] = []
    stack = [(root, -1)]
    while stack:
        u, up = stack.pop()
        for v in reversed(children[u]):
            roads, cur = [parent[v][1]], v
            length = g.roads[roads[0]].length_m
            street = g.roads[roads[0]].name
            while len(children[cur]) == 1 and length < MAX_PIPE_M and cur not in stops:
                nxt = children[cur][0]
                road = parent[nxt][1]
                if g.roads[road].name != street and length >= MIN_PIPE_M:
                    break
                roads.append(road)
                length += g.roads[road].length_m
                cur = nxt
            out.append((up, roads, u, cur))
            if children[cur]:
                stack.append((cur, len(out) - 1))
    return out


def chain_coords(g: StreetGraph, roads: list[int], start: int, parent: dict[int, tuple[int, int]], end: int) -> tuple[Coord, ...]:
    """Return a pipe's line from node `start` to node `end` along its roads (at most MAX_PIPE_COORDS points)."""
    nodes = [end]
    while nodes[-1] != start:
        nodes.append(parent[nodes[-1]][0])
    nodes.reverse()
    coords: list[Coord] = []
    for u, road in zip(nodes, roads):
        seg = g.oriented(road, u)
        coords.extend(seg[1:] if coords else seg)
    if len(coords) > MAX_PIPE_COORDS:
        k = math.ceil(len(coords) / MAX_PIPE_COORDS)
        coords = coords[:-1:k] + [coords[-1]]
    return tuple(coords)
