"""Generate a plausible drinking-water network along the territory's real streets, from a seed.

No public network exists for Montpellier, so one is drawn: six pressure zones (k-means over
the street nodes), one booster pump at each zone's heart, a distribution tree of pipes along
the shortest street paths from the pump, two reservoirs on the high northern side feeding
the pumps through transmission mains, valves on the mains and ~400 sensors on the pipes.
The result is immutable (its parts are in water_parts.py, the street graph and pipe geometry
in water_graph.py); the simulator keeps its own moving state.
"""
from __future__ import annotations

import math
import random
from functools import lru_cache

from services.territory.geo import Area, Coord, districts, haversine_m, locate
from services.territory.grid import planar

from .water_graph import StreetGraph, chain_coords, kmeans, path_tree, pipe_chains, point_along
from .water_parts import Junction, Pipe, Pump, Reservoir, Sensor, Valve, WaterNetwork, Zone

ZONES = 6
CELL_M = 520.0  # one terminal street node per cell of this size: sets the density of the tree
CITY_DEMAND_M3H = 2000.0  # mean daily consumption of the city
SENSORS = {"pressure": 200, "flow": 100, "quality": 100}
VALVES = 60
DIAMETERS_MM = (100, 125, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800)
SENSOR_LABEL = {"pressure": "Capteur de pression", "flow": "Débitmètre", "quality": "Sonde qualité"}
CENTRE_LAT = 43.61  # where the generator measures its planar distances


def elevation_m(lon: float, lat: float) -> float:
    """Approximate ground elevation: low towards the sea, high in the north, a hill at the Écusson."""
    north = min(1.0, max(0.0, (lat - 43.57) / 0.08))
    ecusson = haversine_m((lon, lat), (3.8765, 43.6110))
    return 8.0 + 62.0 * north + 18.0 * math.exp(-((ecusson / 900.0) ** 2))


def _district(c: Coord, areas: tuple[Area, ...]) -> str:
    area = locate(c[0], c[1], areas)
    if area is None:  # on the commune's edge: the nearest district
        area = min(areas, key=lambda a: (a.bbox[0] + a.bbox[2] - 2 * c[0]) ** 2 + (a.bbox[1] + a.bbox[3] - 2 * c[1]) ** 2)
    return area.id


def _diameter(design_m3h: float) -> int:
    need = 1000.0 * math.sqrt(4 * design_m3h / 3600.0 / math.pi / 1.0)  # 1 m/s
    return next((d for d in DIAMETERS_MM if d >= need), DIAMETERS_MM[-1])


@lru_cache(maxsize=4)
def build_network(territory: str = "montpellier", seed: int = 0) -> WaterNetwork:
    """Draw the water network of a territory; the same seed gives the same network."""
    rng = random.Random(f"water-network-{territory}-{seed}")
    g = StreetGraph(territory)
    areas = districts(territory)
    xy = {n: planar(*g.nodes[n], CENTRE_LAT) for n in g.main}
    centers = sorted(kmeans([xy[n] for n in g.main[::4]], ZONES, rng), key=lambda c: (-round(c[1], -2), c[0]))
    pump_nodes = [min(g.main, key=lambda n: (xy[n][0] - cx) ** 2 + (xy[n][1] - cy) ** 2) for cx, cy in centers]
    dist, parent, origin = g.dijkstra(pump_nodes)

    # reservoirs: on the northern heights, one west, one east; each feeds the three pumps nearest to it
    north = sorted(g.main, key=lambda n: -g.nodes[n][1])[: max(20, len(g.main) // 25)]
    mid_lon = sorted(g.nodes[n][0] for n in g.main)[len(g.main) // 2]
    res_nodes = []
    for group in ([n for n in north if g.nodes[n][0] < mid_lon] or north, [n for n in north if g.nodes[n][0] >= mid_lon] or north):
        cx, cy = sum(xy[n][0] for n in group) / len(group), sum(xy[n][1] for n in group) / len(group)
        res_nodes.append(min(group, key=lambda n: (xy[n][0] - cx) ** 2 + (xy[n][1] - cy) ** 2))
    res_trees = [g.dijkstra([r]) for r in res_nodes]
    by_side = sorted(range(ZONES), key=lambda z: res_trees[0][0].get(pump_nodes[z], 1e9) - res_trees[1][0].get(pump_nodes[z], 1e9))
    zone_res = {z: (0 if rank < ZONES // 2 else 1) for rank, z in enumerate(by_side)}

    # each zone's distribution tree: the shortest street paths from the pump to one node per cell
    pipes_raw: list[dict] = []
    branch_nodes: list[tuple[int, int, int]] = []  # (node, zone, incoming pipe index)
    for z in range(ZONES):
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
        fed = frozenset(pump_nodes[z] for z in range(ZONES) if zone_res[z] == r and pump_nodes[z] != rn)
        children = path_tree(g, rn, sorted(fed), rparent)
        base = len(pipes_raw)
        for up, roads, start, end in pipe_chains(g, rn, children, rparent, fed):
            pipes_raw.append({"zone": -1, "res": r, "parent": base + up if up >= 0 else -1, "roads": roads,
                              "coords": chain_coords(g, roads, start, rparent, end), "start_m": rdist[start], "end": end})
    pipes, subtree, zone_mean = _pipes(g, areas, pipes_raw, pump_nodes, zone_res)
    return _assemble(g, rng, areas, pipes, subtree, zone_mean, branch_nodes, pump_nodes, res_nodes, zone_res)


def _pipes(g: StreetGraph, areas: tuple[Area, ...], raw: list[dict], pump_nodes: list[int],
           zone_res: dict[int, int]) -> tuple[list[Pipe], list[float], list[float]]:
    """Size the pipes: demand shares by length, diameters for the peak flow of what lies downstream."""
    lengths = [sum(g.roads[r].length_m for r in p["roads"]) for p in raw]
    zone_len = [sum(lengths[i] for i, p in enumerate(raw) if p["zone"] == z) for z in range(ZONES)]
    zone_mean = [CITY_DEMAND_M3H * zone_len[z] / sum(zone_len) for z in range(ZONES)]
    subtree = [lengths[i] / zone_len[p["zone"]] if p["zone"] >= 0 else 0.0 for i, p in enumerate(raw)]
    fed_pumps: list[set[int]] = [set() for _ in raw]
    for i in range(len(raw) - 1, -1, -1):  # downstream before upstream
        if raw[i]["zone"] < 0:
            fed_pumps[i] |= {k for k, node in enumerate(pump_nodes) if node == raw[i]["end"] and zone_res[k] == raw[i]["res"]}
        if raw[i]["parent"] >= 0:
            subtree[raw[i]["parent"]] += subtree[i]
            fed_pumps[raw[i]["parent"]] |= fed_pumps[i]
    nominal = [round(1.5 * zone_mean[z], -1) for z in range(ZONES)]
    pipes = []
    for i, p in enumerate(raw):
        z = p["zone"]
        design = 1.6 * zone_mean[z] * subtree[i] if z >= 0 else sum(nominal[k] for k in fed_pumps[i])
        street = g.roads[max(p["roads"], key=lambda r: g.roads[r].length_m)].name
        pipes.append(Pipe(i, f"eau-pipe-{i + 1}", street, p["coords"], round(lengths[i], 1), _diameter(design), p["parent"], z,
                          p["res"], p["start_m"], lengths[i] / zone_len[z] if z >= 0 else 0.0, design,
                          _district(point_along(p["coords"], 0.5), areas), tuple(sorted(fed_pumps[i]))))
    return pipes, subtree, zone_mean


def _sensors(rng: random.Random, areas: tuple[Area, ...], zone_pipes: list[Pipe], subtree: list[float], max_dist: list[float],
             pump_elev: list[float]) -> list[Sensor]:
    """Place the sensors: pressure and quality along the pipes, flow meters at the head of the busy ones."""
    sensors: list[Sensor] = []
    for measures, count in SENSORS.items():
        weights = [math.sqrt(subtree[p.index]) if measures == "flow" else p.length_m for p in zone_pipes]
        for p in rng.choices(zone_pipes, weights=weights, k=count):
            frac = 0.08 if measures == "flow" else rng.uniform(0.15, 0.85)
            at, n = point_along(p.coords, frac), len(sensors) + 1
            sensors.append(Sensor(n - 1, f"eau-sensor-{n}", f"{SENSOR_LABEL[measures]} C{n}, {p.street}", measures, p.index, p.zone, at,
                                  min(1.0, (p.start_m + frac * p.length_m) / max_dist[p.zone]),
                                  pump_elev[p.zone] - elevation_m(*at), _district(at, areas)))
    return sensors


def _valves(rng: random.Random, areas: tuple[Area, ...], pipes: list[Pipe], subtree: list[float], sensors: list[Sensor],
            pump_elev: list[float]) -> list[Valve]:
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
                            pump_elev[p.zone] - elevation_m(*at), _district(at, areas), tuple(sorted(down)),
                            tuple(s for d in sorted(down) for s in on_pipe[d])))
    return valves


def _assemble(g: StreetGraph, rng: random.Random, areas: tuple[Area, ...], pipes: list[Pipe], subtree: list[float], zone_mean: list[float],
              branch_nodes: list[tuple[int, int, int]], pump_nodes: list[int], res_nodes: list[int], zone_res: dict[int, int]) -> WaterNetwork:
    """Place sensors, valves and junctions, name the pumps, zones and reservoirs."""
    zone_pipes = [p for p in pipes if p.zone >= 0]
    max_dist = [max([p.start_m + p.length_m for p in zone_pipes if p.zone == z] or [1.0]) for z in range(ZONES)]
    pump_elev = [elevation_m(*g.nodes[n]) for n in pump_nodes]
    sensors = _sensors(rng, areas, zone_pipes, subtree, max_dist, pump_elev)
    valves = _valves(rng, areas, pipes, subtree, sensors, pump_elev)
    junctions = []
    for n, (node, z, incoming) in enumerate(branch_nodes, start=1):
        at = g.nodes[node]
        junctions.append(Junction(n - 1, f"eau-junction-{n}", f"Nœud N{n}, {pipes[incoming].street}", incoming, z, at,
                                  round(elevation_m(*at), 1), pump_elev[z] - elevation_m(*at), _district(at, areas)))
    names = {a.id: a.name for a in areas}
    pumps, zones = [], []
    for z, node in enumerate(pump_nodes):
        at, district = g.nodes[node], _district(g.nodes[node], areas)
        street = g.roads[g.adj[node][0][1]].name
        pumps.append(Pump(z, f"eau-pump-{z + 1}", f"Surpresseur P{z + 1}, {street}", z, zone_res[z], at, round(pump_elev[z], 1),
                          round(1.5 * zone_mean[z], -1), rng.choice((4.0, 4.5, 5.0)), district))
        worst = min([s.head_m for s in sensors if s.zone == z] or [0.0])
        zones.append(Zone(z, f"zone-{z + 1}", f"Zone {z + 1} – {names[district]}", z, zone_mean[z], max_dist[z],
                          tuple(p.index for p in zone_pipes if p.zone == z), worst))
    reservoirs = []
    for r, node in enumerate(res_nodes):
        at, served = g.nodes[node], tuple(z for z in range(ZONES) if zone_res[z] == r)
        street = g.roads[g.adj[node][0][1]].name
        label = "Réservoir Nord-Ouest" if r == 0 else "Réservoir Nord-Est"
        reservoirs.append(Reservoir(r, f"eau-res-{r + 1}", f"{label}, {street}", at, round(elevation_m(*at) + 12.0, 1),
                                    round(12 * sum(zone_mean[z] for z in served), -3), 8.0, served, _district(at, areas)))
    return WaterNetwork(tuple(reservoirs), tuple(pumps), tuple(zones), tuple(pipes), tuple(valves), tuple(sensors), tuple(junctions))
