"""Generate a plausible drinking-water network along the territory's real streets, from a seed.

No public network exists (for Montpellier or elsewhere), so one is drawn on the largest connected
part of the street graph (or its parts joined, water_graph.py): up to six pressure zones (k-means
over the street nodes, one per 40 nodes at least), one booster pump at each zone's heart, a
distribution tree of pipes along the shortest street paths from the pump, two reservoirs (one for a
single zone) on the high northern side feeding the pumps through transmission mains, valves on the
mains and up to ~400 sensors on the pipes. The ground rises from the south of the territory's
streets to their north with a hill at their heart, unless the package's manifest says otherwise
(`terrain`); every asset is marked synthetic.
The result is immutable (its parts are in water_parts.py, the street graph and pipe geometry
in water_graph.py); the simulator keeps its own moving state.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from services.territory.geo import (
    Area,
    Coord,
    districts,
    haversine_m,
    load_territory,
    locate,
)
from services.territory.grid import planar
from services.territory.package import TerritoryError

from .water_graph import (
    StreetGraph,
    chain_coords,
    kmeans,
    path_tree,
    pipe_chains,
    point_along,
)
from .water_parts import (
    Junction,
    Pipe,
    Pump,
    Reservoir,
    Sensor,
    Valve,
    WaterNetwork,
    Zone,
)

ZONES = 6
CELL_M = 520.0  # one terminal street node per cell of this size: sets the density of the tree
SENSORS = {"pressure": 200, "flow": 100, "quality": 100}
VALVES = 60
DIAMETERS_MM = (100, 125, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800)
SENSOR_LABEL = {"pressure": "Capteur de pression", "flow": "Débitmètre", "quality": "Sonde qualité"}
NODES_PER_ZONE = 40  # a zone for every this many street nodes, up to ZONES
SENSOR_PIPES = 500  # with fewer distribution pipes than this, sensors are fewer in proportion
DEMAND_M3H_PER_KM = 10.5  # mean consumption per km of drawn distribution pipe (Montpellier: 2,000 m³/h over 190 km) without `water.demand_m3h`


@dataclass(frozen=True, slots=True)
class Terrain:
    """Approximate ground elevation: `base_m` at `low_lat` rising by `rise_m` to `high_lat`, a hill at `hill`."""

    low_lat: float
    high_lat: float
    hill: Coord
    rise_m: float = 62.0
    base_m: float = 8.0
    hill_m: float = 18.0
    hill_radius_m: float = 900.0

    @classmethod
    def of(cls, spec: dict, nodes: list[Coord]) -> Terrain:
        """The manifest's `terrain` where it says, else from the streets' extent (south low, north high, hill at the heart)."""
        lats = sorted(c[1] for c in nodes)
        lons = sorted(c[0] for c in nodes)
        low, high = float(spec.get("low_lat", lats[0])), float(spec.get("high_lat", lats[-1]))
        hill = tuple(spec.get("hill", (lons[len(lons) // 2], lats[len(lats) // 2])))
        return cls(low, high if high > low else low + 0.01, (float(hill[0]), float(hill[1])), float(spec.get("rise_m", 62.0)))

    def elevation_m(self, lon: float, lat: float) -> float:
        """Ground elevation at a point."""
        north = min(1.0, max(0.0, (lat - self.low_lat) / (self.high_lat - self.low_lat)))
        hill = haversine_m((lon, lat), self.hill)
        return self.base_m + self.rise_m * north + self.hill_m * math.exp(-((hill / self.hill_radius_m) ** 2))


def _district(c: Coord, areas: tuple[Area, ...]) -> str:
    area = locate(c[0], c[1], areas)
    if area is None:  # on the commune's edge: the nearest district
        area = min(areas, key=lambda a: (a.bbox[0] + a.bbox[2] - 2 * c[0]) ** 2 + (a.bbox[1] + a.bbox[3] - 2 * c[1]) ** 2)
    return area.id


def _at_least(value: float, digits: int, floor: float) -> float:
    """`value` rounded to `digits`, but never below `floor` (a small town's reservoir is not rounded to nothing)."""
    return max(round(value, digits), floor)


def _storage_m3(volume: float) -> float:
    """A reservoir's capacity from 12 h of its zones' mean demand, to the thousand m³ for a city; a village's holds
    a day (twice that, to ten m³, at least 100 m³), as small French reservoirs do."""
    return round(volume, -3) if volume >= 1000 else max(round(2 * volume, -1), 100.0)


def _diameter(design_m3h: float) -> int:
    need = 1000.0 * math.sqrt(4 * design_m3h / 3600.0 / math.pi / 1.0)  # 1 m/s
    return next((d for d in DIAMETERS_MM if d >= need), DIAMETERS_MM[-1])


@lru_cache(maxsize=4)
def build_network(territory: str = "montpellier", seed: int = 0) -> WaterNetwork:
    """Draw the water network of a territory; the same seed gives the same network."""
    t = load_territory(territory)
    rng = random.Random(f"water-network-{t.id}-{seed}")
    g = StreetGraph(territory)
    if len(g.main) < 2:
        raise TerritoryError(f"{t.path('roads')}: no two road ends are connected: a water network needs streets that meet")
    areas = districts(territory)
    terrain = Terrain.of(t.terrain, [g.nodes[n] for n in g.main])
    lat0 = round(sum(g.nodes[n][1] for n in g.main) / len(g.main), 2)  # where planar distances are measured
    xy = {n: planar(*g.nodes[n], lat0) for n in g.main}
    zones = max(1, min(ZONES, len(g.main) // NODES_PER_ZONE))
    centers = sorted(kmeans([xy[n] for n in g.main[::4]], zones, rng), key=lambda c: (-round(c[1], -2), c[0]))
    pump_nodes = list(dict.fromkeys(min(g.main, key=lambda n: (xy[n][0] - cx) ** 2 + (xy[n][1] - cy) ** 2) for cx, cy in centers))
    zones = len(pump_nodes)
    dist, parent, origin = g.dijkstra(pump_nodes)

    # reservoirs: on the northern heights, one west, one east; each feeds the three pumps nearest to it
    north = sorted(g.main, key=lambda n: -g.nodes[n][1])[: max(20, len(g.main) // 25)]
    mid_lon = sorted(g.nodes[n][0] for n in g.main)[len(g.main) // 2]
    res_nodes = []
    sides = ([n for n in north if g.nodes[n][0] < mid_lon] or north, [n for n in north if g.nodes[n][0] >= mid_lon] or north)
    for group in sides if zones >= 2 else (north,):
        cx, cy = sum(xy[n][0] for n in group) / len(group), sum(xy[n][1] for n in group) / len(group)
        res_nodes.append(min(group, key=lambda n: (xy[n][0] - cx) ** 2 + (xy[n][1] - cy) ** 2))
    res_trees = [g.dijkstra([r]) for r in res_nodes]
    by_side = sorted(range(zones), key=lambda z: res_trees[0][0].get(pump_nodes[z], 1e9) - res_trees[-1][0].get(pump_nodes[z], 1e9))
    zone_res = {z: (0 if rank < zones // 2 or len(res_nodes) == 1 else 1) for rank, z in enumerate(by_side)}

    # each zone's distribution tree: the shortest street paths from the pump to one node per cell
    pipes_raw: list[dict] = []
    branch_nodes: list[tuple[int, int, int]] = []  # (node, zone, incoming pipe index)
    for z in range(zones):
        cells: dict[tuple[int, int], tuple[float, int]] = {}
        for n in (n for n in g.main if origin[n] == z and n != pump_nodes[z]):
            x, y = xy[n]
            key = (int(x // CELL_M), int(y // CELL_M))
            off = (x - (key[0] + 0.5) * CELL_M) ** 2 + (y - (key[1] + 0.5) * CELL_M) ** 2
            cells[key] = min(cells.get(key, (math.inf, n)), (off, n))
        children = path_tree(g, pump_nodes[z], [cells[k][1] for k in sorted(cells)], parent)
        base = len(pipes_raw)
        for up, roads, start, end in pipe_chains(g, pump_nodes[z], children, parent):
            pipes_raw.append({"zone": z, "res": zone_res[z], "parent": base + up if up >= 0 else -1, "roads": roads,
                              "coords": chain_coords(g, roads, start, parent, end), "start_m": dist[start], "end": end})
            if len(children[end]) >= 2:
                branch_nodes.append((end, z, len(pipes_raw) - 1))

    # transmission mains: the shortest street paths from each reservoir to its pumps
    for r, rn in enumerate(res_nodes):
        rdist, rparent, _ = res_trees[r]
        fed = frozenset(pump_nodes[z] for z in range(zones) if zone_res[z] == r and pump_nodes[z] != rn)
        children = path_tree(g, rn, sorted(fed), rparent)
        base = len(pipes_raw)
        for up, roads, start, end in pipe_chains(g, rn, children, rparent, fed):
            pipes_raw.append({"zone": -1, "res": r, "parent": base + up if up >= 0 else -1, "roads": roads,
                              "coords": chain_coords(g, roads, start, rparent, end), "start_m": rdist[start], "end": end})
    demand = float(t.water.get("demand_m3h", 0.0)) or DEMAND_M3H_PER_KM * sum(
        sum(g.roads[r].length_m for r in p["roads"]) for p in pipes_raw if p["zone"] >= 0) / 1000.0
    pipes, subtree, zone_mean = _pipes(g, areas, pipes_raw, pump_nodes, zone_res, max(demand, 1.0))
    return _assemble(g, rng, areas, terrain, pipes, subtree, zone_mean, branch_nodes, pump_nodes, res_nodes, zone_res)


def _pipes(g: StreetGraph, areas: tuple[Area, ...], raw: list[dict], pump_nodes: list[int],
           zone_res: dict[int, int], demand_m3h: float) -> tuple[list[Pipe], list[float], list[float]]:
    """Size the pipes: demand shares by length, diameters for the peak flow of what lies downstream."""
    zones = len(pump_nodes)
    lengths = [sum(g.roads[r].length_m for r in p["roads"]) for p in raw]
    zone_len = [max(sum(lengths[i] for i, p in enumerate(raw) if p["zone"] == z), 1.0) for z in range(zones)]
    zone_mean = [demand_m3h * zone_len[z] / sum(zone_len) for z in range(zones)]
    subtree = [lengths[i] / zone_len[p["zone"]] if p["zone"] >= 0 else 0.0 for i, p in enumerate(raw)]
    fed_pumps: list[set[int]] = [set() for _ in raw]
    for i in range(len(raw) - 1, -1, -1):  # downstream before upstream
        if raw[i]["zone"] < 0:
            fed_pumps[i] |= {k for k, node in enumerate(pump_nodes) if node == raw[i]["end"] and zone_res[k] == raw[i]["res"]}
        if raw[i]["parent"] >= 0:
            subtree[raw[i]["parent"]] += subtree[i]
            fed_pumps[raw[i]["parent"]] |= fed_pumps[i]
    nominal = [_at_least(1.5 * zone_mean[z], -1, 5.0) for z in range(zones)]
    pipes = []
    for i, p in enumerate(raw):
        z = p["zone"]
        design = max(1.6 * zone_mean[z] * subtree[i] if z >= 0 else sum(nominal[k] for k in fed_pumps[i]), 0.1)
        street = g.roads[max(p["roads"], key=lambda r: g.roads[r].length_m)].name
        pipes.append(Pipe(i, f"eau-pipe-{i + 1}", street, p["coords"], round(lengths[i], 1), _diameter(design), p["parent"], z,
                          p["res"], p["start_m"], lengths[i] / zone_len[z] if z >= 0 else 0.0, design,
                          _district(point_along(p["coords"], 0.5), areas), tuple(sorted(fed_pumps[i]))))
    return pipes, subtree, zone_mean


def _sensors(rng: random.Random, areas: tuple[Area, ...], terrain: Terrain, zone_pipes: list[Pipe], subtree: list[float],
             max_dist: list[float], pump_elev: list[float]) -> list[Sensor]:
    """Place the sensors: pressure and quality along the pipes, flow meters at the head of the busy ones."""
    sensors: list[Sensor] = []
    if not zone_pipes:
        return sensors
    for measures, most in SENSORS.items():
        count = most if len(zone_pipes) >= SENSOR_PIPES else max(1, round(most * len(zone_pipes) / SENSOR_PIPES))
        weights = [math.sqrt(subtree[p.index]) if measures == "flow" else p.length_m for p in zone_pipes]
        for p in rng.choices(zone_pipes, weights=weights, k=count):
            frac = 0.08 if measures == "flow" else rng.uniform(0.15, 0.85)
            at, n = point_along(p.coords, frac), len(sensors) + 1
            sensors.append(Sensor(n - 1, f"eau-sensor-{n}", f"{SENSOR_LABEL[measures]} C{n}, {p.street}", measures, p.index, p.zone, at,
                                  min(1.0, (p.start_m + frac * p.length_m) / max_dist[p.zone]),
                                  pump_elev[p.zone] - terrain.elevation_m(*at), _district(at, areas)))
    return sensors


def _valves(rng: random.Random, areas: tuple[Area, ...], terrain: Terrain, pipes: list[Pipe], subtree: list[float],
            sensors: list[Sensor], pump_elev: list[float]) -> list[Valve]:
    """Put valves at the head of the zones' trunk mains and of branches, with what lies downstream of each."""
    kids: list[list[int]] = [[] for _ in pipes]
    on_pipe: list[list[int]] = [[] for _ in pipes]
    for p in pipes:
        if p.parent >= 0:
            kids[p.parent].append(p.index)
    for s in sensors:
        on_pipe[s.pipe].append(s.index)
    zone_pipes = [p for p in pipes if p.zone >= 0]
    mains = sorted((p.index for p in zone_pipes if p.parent < 0), key=lambda i: -subtree[i])[: max(ZONES, 8)]
    others = [p.index for p in zone_pipes if p.index not in mains and kids[p.index]]
    picked = list(mains)
    while len(picked) < VALVES and others:
        picked.append(others.pop(rng.choices(range(len(others)), weights=[math.sqrt(subtree[o]) for o in others])[0]))
    valves = []
    for n, i in enumerate(sorted(picked), start=1):
        down, stack = [], [i]
        while stack:
            down.append(stack.pop())
            stack.extend(kids[down[-1]])
        p, at = pipes[i], pipes[i].coords[0]
        valves.append(Valve(n - 1, f"eau-valve-{n}", f"Vanne V{n}, {p.street}", i, p.zone, at, p.diameter_mm, i in mains,
                            pump_elev[p.zone] - terrain.elevation_m(*at), _district(at, areas), tuple(sorted(down)),
                            tuple(s for d in sorted(down) for s in on_pipe[d])))
    return valves


def _assemble(g: StreetGraph, rng: random.Random, areas: tuple[Area, ...], terrain: Terrain, pipes: list[Pipe], subtree: list[float],
              zone_mean: list[float],
              branch_nodes: list[tuple[int, int, int]], pump_nodes: list[int], res_nodes: list[int], zone_res: dict[int, int]) -> WaterNetwork:
    """Place sensors, valves and junctions, name the pumps, zones and reservoirs."""
    zone_pipes = [p for p in pipes if p.zone >= 0]
    max_dist = [max([p.start_m + p.length_m for p in zone_pipes if p.zone == z] + [1.0]) for z in range(len(pump_nodes))]
    pump_elev = [terrain.elevation_m(*g.nodes[n]) for n in pump_nodes]
    sensors = _sensors(rng, areas, terrain, zone_pipes, subtree, max_dist, pump_elev)
    valves = _valves(rng, areas, terrain, pipes, subtree, sensors, pump_elev)
    junctions = []
    for n, (node, z, incoming) in enumerate(branch_nodes, start=1):
        at = g.nodes[node]
        junctions.append(Junction(n - 1, f"eau-junction-{n}", f"Nœud N{n}, {pipes[incoming].street}", incoming, z, at,
                                  round(terrain.elevation_m(*at), 1), pump_elev[z] - terrain.elevation_m(*at), _district(at, areas)))
    names = {a.id: a.name for a in areas}
    pumps, zones = [], []
    for z, node in enumerate(pump_nodes):
        at, district = g.nodes[node], _district(g.nodes[node], areas)
        street = g.roads[g.adj[node][0][1]].name
        pumps.append(Pump(z, f"eau-pump-{z + 1}", f"Surpresseur P{z + 1}, {street}", z, zone_res[z], at, round(pump_elev[z], 1),
                          _at_least(1.5 * zone_mean[z], -1, 5.0), rng.choice((4.0, 4.5, 5.0)), district))
        worst = min([s.head_m for s in sensors if s.zone == z] or [0.0])
        zones.append(Zone(z, f"zone-{z + 1}", f"Zone {z + 1} – {names[district]}", z, zone_mean[z], max_dist[z],
                          tuple(p.index for p in zone_pipes if p.zone == z), worst))
    reservoirs = []
    for r, node in enumerate(res_nodes):
        at, served = g.nodes[node], tuple(z for z in range(len(pump_nodes)) if zone_res[z] == r)
        street = g.roads[g.adj[node][0][1]].name
        label = "Réservoir Nord" if len(res_nodes) == 1 else "Réservoir Nord-Ouest" if r == 0 else "Réservoir Nord-Est"
        reservoirs.append(Reservoir(r, f"eau-res-{r + 1}", f"{label}, {street}", at, round(terrain.elevation_m(*at) + 12.0, 1),
                                    _storage_m3(12 * sum(zone_mean[z] for z in served)), 8.0, served, _district(at, areas)))
    return WaterNetwork(tuple(reservoirs), tuple(pumps), tuple(zones), tuple(pipes), tuple(valves), tuple(sensors), tuple(junctions))
