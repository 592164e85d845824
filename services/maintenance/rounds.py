"""Maintenance rounds: N crews leave a depot, repair what fits in a shift, come back; over the real road graph.

A vehicle-routing problem with time limits solved by Google OR-Tools (routing library: every crew's time
dimension capped at the shift, travel at `speed_kmh` plus each fault type's service time; a fault that fits
in no shift is dropped at a penalty, high priority dropped last), on the shortest road distances
(services/maintenance/roads.py). Two naive orders are computed on the same distances for comparison:
`by_date` (crews take the faults in the order they were opened) and `nearest` (each crew goes to the nearest
fault that still fits). Exports: GPX (a route of the stops and a track along the roads) and CSV, per crew.
"""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from services.maintenance.roads import RoadGraph

SERVICE_MIN = {"defectiveLamp": 20, "brokenLantern": 40, "columnIssue": 60, "intermittent": 30, "lamp_off": 20, "sensor_drift": 30}
DEFAULT_SERVICE_MIN = 30
DROP_PENALTY_M = 1_000_000  # leaving a fault out costs as much as 1,000 km: serve all that fits
PRIORITY_WEIGHT = {"high": 10, "normal": 3, "low": 1}


class RoundsInvalid(ValueError):
    """A request the planner refuses; the message says why."""


@dataclass(frozen=True, slots=True)
class Stop:
    """A fault to repair: its work order, where, what, since when."""

    id: str
    lon: float
    lat: float
    fault: str = ""
    opened_at: float = 0.0
    priority: str = "normal"
    label: str = ""


@dataclass(frozen=True, slots=True)
class RoundsRequest:
    """Depot, crews, shift; service minutes per fault type; a search time limit (None: scaled to the size)."""

    depot: tuple[float, float]
    crews: int = 2
    shift_s: float = 8 * 3600.0
    speed_kmh: float = 25.0
    service_min: dict[str, float] = field(default_factory=lambda: dict(SERVICE_MIN))
    time_limit_s: float | None = None

    def check(self, stops: int) -> None:
        """Refuse what cannot be planned, in words."""
        if not 1 <= self.crews <= 500:
            raise RoundsInvalid("crews must be between 1 and 500")
        if not 1800 <= self.shift_s <= 24 * 3600:
            raise RoundsInvalid("the shift must last between 30 minutes and 24 hours")
        if not 5 <= self.speed_kmh <= 90:
            raise RoundsInvalid("the speed must be between 5 and 90 km/h")
        if stops > 5000:
            raise RoundsInvalid("at most 5,000 faults in one plan")

    def service_s(self, fault: str) -> int:
        return int(60 * self.service_min.get(fault, DEFAULT_SERVICE_MIN))


@dataclass
class Round:
    """One crew's round: its stops in order, kilometres, driving and working time, the road path."""

    crew: int
    stops: list[Stop]
    km: float
    drive_s: float
    work_s: float
    arrivals_s: list[float]
    cum_km: list[float] = field(default_factory=list)
    path: list[tuple[float, float]] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return self.drive_s + self.work_s

    def to_dict(self, *, path: bool = True) -> dict[str, Any]:
        d = {"crew": self.crew, "km": round(self.km, 3), "drive_min": round(self.drive_s / 60, 1), "work_min": round(self.work_s / 60, 1),
             "total_min": round(self.total_s / 60, 1),
             "stops": [{"id": s.id, "lon": s.lon, "lat": s.lat, "fault": s.fault, "label": s.label, "arrival_min": round(a / 60, 1),
                        "cum_km": round(k, 3)} for s, a, k in zip(self.stops, self.arrivals_s, self.cum_km, strict=False)]}
        if path:
            d["path"] = [[round(x, 6), round(y, 6)] for x, y in self.path]
        return d


@dataclass
class Plan:
    """Every crew's round, what fits in no shift, the naive orders' kilometres for comparison, how long it took."""

    rounds: list[Round]
    unserved: list[str]
    km: float
    baselines: dict[str, dict[str, float]]
    compute_s: float
    cpu_s: float
    depot: tuple[float, float]

    def shorter_than(self, baseline: str) -> float | None:
        """How much shorter per fault served than a naive order (0.25 = 25 % shorter), None when it served none."""
        b = self.baselines[baseline]
        served = sum(len(r.stops) for r in self.rounds)
        if not served or not b["served"] or not b["km"]:
            return None
        return 1 - (self.km / served) / (b["km"] / b["served"])

    def to_dict(self, *, path: bool = True) -> dict[str, Any]:
        return {"depot": list(self.depot), "km": round(self.km, 3), "served": sum(len(r.stops) for r in self.rounds),
                "unserved": self.unserved, "compute_s": round(self.compute_s, 3), "cpu_s": round(self.cpu_s, 3),
                "baselines": self.baselines,
                "shorter_than": {k: (None if (v := self.shorter_than(k)) is None else round(v, 4)) for k in self.baselines},
                "rounds": [r.to_dict(path=path) for r in self.rounds]}


def _matrix(graph: RoadGraph, depot: tuple[float, float], stops: Sequence[Stop]) -> tuple[np.ndarray, np.ndarray, dict]:
    """Road metres between the depot (index 0) and every stop, with the walk from the road to the point."""
    nodes, off = graph.snap([depot, *[(s.lon, s.lat) for s in stops]])
    dist, preds = graph.distances(nodes)
    dist = dist + off[:, None] + off[None, :]
    np.fill_diagonal(dist, 0.0)
    return dist, nodes, preds


def _solve(dist: np.ndarray, service: np.ndarray, weight: np.ndarray, req: RoundsRequest, limit_s: float,
           starts: Sequence[list[list[int]]] = ()) -> list[list[int]]:
    """OR-Tools routing; each crew's visiting order as indices into the matrix (0 the depot, excluded).

    The first of `starts` (the nearest-first rounds, then the same with a margin for OR-Tools' rounding of each leg's
    seconds) that is feasible as OR-Tools counts time seeds the search: the result is never longer than it. With none,
    OR-Tools builds its own first solution."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = dist.shape[0]
    metres = np.rint(dist).astype(np.int64)
    speed = req.speed_kmh / 3.6
    seconds = (np.rint(dist / speed).astype(np.int64) + service[:, None])  # travel from i, after working at i
    manager = pywrapcp.RoutingIndexManager(n, req.crews, 0)
    routing = pywrapcp.RoutingModel(manager)
    m_list, s_list = metres.tolist(), seconds.tolist()

    def distance(i: int, j: int) -> int:
        return m_list[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def duration(i: int, j: int) -> int:
        return s_list[manager.IndexToNode(i)][manager.IndexToNode(j)]

    cost = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    clock = routing.RegisterTransitCallback(duration)
    routing.AddDimension(clock, 0, int(req.shift_s), True, "time")
    for node in range(1, n):
        routing.AddDisjunction([manager.NodeToIndex(node)], int(DROP_PENALTY_M * weight[node]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION if n <= 400
                                      else routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(limit_s * 1000))
    routing.CloseModelWithParameters(params)
    initial = None
    for start in starts:
        initial = routing.ReadAssignmentFromRoutes(start, True)
        if initial is not None:
            break
    solution = routing.SolveFromAssignmentWithParameters(initial, params) if initial is not None else routing.SolveWithParameters(params)
    if solution is None:
        return [[] for _ in range(req.crews)]
    out = []
    for v in range(req.crews):
        seq, i = [], routing.Start(v)
        while not routing.IsEnd(i):
            node = manager.IndexToNode(i)
            if node:
                seq.append(node)
            i = solution.Value(routing.NextVar(i))
        out.append(seq)
    return out


def _greedy(dist: np.ndarray, service: np.ndarray, req: RoundsRequest, order: list[int] | None, margin_s: float = 0.0) -> list[list[int]]:
    """A naive order: crews one after the other take the faults `order` gives (None: the nearest that fits).

    `margin_s` shortens the shift (the seed of the search: OR-Tools rounds each leg's seconds)."""
    speed = req.speed_kmh / 3.6
    left = list(order) if order is not None else list(range(1, dist.shape[0]))
    rounds = []
    for _ in range(req.crews):
        seq, here, used = [], 0, 0.0
        while left:
            if order is None:
                cand = sorted(left, key=lambda j: dist[here, j])
            else:
                cand = left[:1]
            took = False
            for j in cand:
                need = dist[here, j] / speed + service[j] + dist[j, 0] / speed
                if used + need <= req.shift_s - margin_s:
                    used += dist[here, j] / speed + service[j]
                    seq.append(j)
                    left.remove(j)
                    here, took = j, True
                    break
                if order is not None:
                    break
            if not took:
                break
        rounds.append(seq)
    return rounds


def _km(dist: np.ndarray, seqs: list[list[int]]) -> float:
    total = 0.0
    for seq in seqs:
        if seq:
            path = [0, *seq, 0]
            total += float(sum(dist[a, b] for a, b in pairwise(path)))
    return total / 1000


def plan_rounds(graph: RoadGraph, stops: Sequence[Stop], req: RoundsRequest, *, paths: bool = True) -> Plan:
    """Every crew's round over the road graph, the faults left out, and the two naive orders' kilometres."""
    req.check(len(stops))
    wall, cpu = time.perf_counter(), time.process_time()
    if not stops:
        return Plan([], [], 0.0, {"by_date": {"km": 0.0, "served": 0}, "nearest": {"km": 0.0, "served": 0}}, 0.0, 0.0, req.depot)
    dist, nodes, preds = _matrix(graph, req.depot, stops)
    service = np.array([0, *[req.service_s(s.fault) for s in stops]], dtype=np.int64)
    weight = np.array([0, *[PRIORITY_WEIGHT.get(s.priority, 1) for s in stops]])
    limit = req.time_limit_s if req.time_limit_s is not None else min(6.0, 1.0 + len(stops) / 80)
    by_date = _greedy(dist, service, req, sorted(range(1, len(stops) + 1), key=lambda i: (stops[i - 1].opened_at, stops[i - 1].id)))
    nearest = _greedy(dist, service, req, None)
    seed = _greedy(dist, service, req, None, margin_s=60.0 * (1 + max(map(len, nearest), default=0) // 20))
    seqs = _solve(dist, service, weight, req, limit, (nearest, seed))
    speed = req.speed_kmh / 3.6
    rounds = []
    for crew, seq in enumerate(seqs, start=1):
        legs = [0, *seq, 0]
        drive = sum(dist[a, b] for a, b in pairwise(legs)) / speed
        t, km, arrivals, cum = 0.0, 0.0, [], []
        for a, b in pairwise(legs[:-1]):
            t += dist[a, b] / speed + (service[a] if a else 0)
            km += dist[a, b] / 1000
            arrivals.append(float(t))
            cum.append(float(km))
        path: list[tuple[float, float]] = []
        if paths and seq:
            for a, b in pairwise(legs):
                path += graph.walk(preds[int(nodes[a])], int(nodes[a]), int(nodes[b]))[(1 if path else 0):]
        rounds.append(Round(crew, [stops[i - 1] for i in seq], _km(dist, [seq]), float(drive), float(service[seq].sum()) if seq else 0.0,
                            arrivals, cum, path))
    served = {i for seq in seqs for i in seq}
    return Plan(rounds, [stops[i - 1].id for i in range(1, len(stops) + 1) if i not in served], _km(dist, seqs),
                {"by_date": {"km": round(_km(dist, by_date), 3), "served": sum(map(len, by_date))},
                 "nearest": {"km": round(_km(dist, nearest), 3), "served": sum(map(len, nearest))}},
                time.perf_counter() - wall, time.process_time() - cpu, req.depot)


# --- exports ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("crew", "order", "work_order", "asset", "fault", "lon", "lat", "arrival_min", "cumulative_km")


def round_csv(plan: dict[str, Any], crew: int | None = None) -> str:
    """One crew's round (or every round) of a plan (`Plan.to_dict()`) as CSV, stops in visiting order."""
    from services.streams import csv_cell

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in plan["rounds"]:
        if crew is not None and r["crew"] != crew:
            continue
        for n, s in enumerate(r["stops"], start=1):
            w.writerow([r["crew"], n, csv_cell(s["id"]), csv_cell(s["label"]), csv_cell(s["fault"]), f"{s['lon']:.6f}", f"{s['lat']:.6f}",
                        f"{s['arrival_min']:.1f}", f"{s.get('cum_km', 0):.3f}"])
    return out.getvalue()


def round_gpx(plan: dict[str, Any], crew: int, name: str = "Vigie") -> str:
    """One crew's round of a plan as GPX 1.1: a route through the depot and the stops, and a track along the roads."""
    r = next((x for x in plan["rounds"] if x["crew"] == crew), None)
    if r is None:
        raise RoundsInvalid(f"no crew {crew} in this plan")
    dlon, dlat = plan["depot"]
    pts = [f'<rtept lat="{dlat:.6f}" lon="{dlon:.6f}"><name>depot</name></rtept>']
    pts += [f'<rtept lat="{s["lat"]:.6f}" lon="{s["lon"]:.6f}"><name>{n}. {escape(s["id"])}</name>'
            f'<desc>{escape(s["fault"])} {escape(s["label"])}</desc></rtept>' for n, s in enumerate(r["stops"], start=1)]
    pts.append(f'<rtept lat="{dlat:.6f}" lon="{dlon:.6f}"><name>depot</name></rtept>')
    trk = "".join(f'<trkpt lat="{y:.6f}" lon="{x:.6f}"/>' for x, y in r.get("path", []))
    title = escape(f"{name} crew {crew}")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="Vigie" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<metadata><name>{title}</name></metadata><rte><name>{title}</name>{''.join(pts)}</rte>"
            f"<trk><name>{title}</name><trkseg>{trk}</trkseg></trk></gpx>\n")
