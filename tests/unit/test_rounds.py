"""Rounds on small road graphs: shortest paths on the roads, crews within their shift, naive orders for comparison, exports."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from services.maintenance.roads import build_graph, haversine
from services.maintenance.rounds import (
    RoundsInvalid,
    RoundsRequest,
    Stop,
    plan_rounds,
    round_csv,
    round_gpx,
)

STEP = 0.01  # degrees between two junctions of the grid (about 800 m east-west, 1,100 m north-south here)
LON0, LAT0 = 3.80, 43.55


def grid(n: int = 5) -> list[list[tuple[float, float]]]:
    """An n x n street grid as polylines (each street a line through every junction)."""
    rows = [[(LON0 + i * STEP, LAT0 + j * STEP) for i in range(n)] for j in range(n)]
    cols = [[(LON0 + i * STEP, LAT0 + j * STEP) for j in range(n)] for i in range(n)]
    return rows + cols


def test_junctions_connect_and_an_isolated_stub_is_left_out():
    g = build_graph(grid(3) + [[(5.0, 45.0), (5.001, 45.0)]])
    assert g.nodes == 9  # the stub far away is not reachable by a van
    (a, b), _ = g.snap([(LON0, LAT0), (LON0 + 2 * STEP, LAT0 + 2 * STEP)])
    d, _ = g.distances([a, b])
    manhattan = haversine(np.array([[LON0, LAT0]]), np.array([[LON0 + 2 * STEP, LAT0]]))[0] + \
        haversine(np.array([[LON0, LAT0]]), np.array([[LON0, LAT0 + 2 * STEP]]))[0]
    assert d[0, 1] == pytest.approx(manhattan, rel=1e-3)  # along the streets, not as the crow flies


def test_the_road_distance_goes_round_a_missing_street():
    lines = [[(LON0, LAT0), (LON0 + STEP, LAT0), (LON0 + STEP, LAT0 + STEP), (LON0, LAT0 + STEP)]]  # a U: no direct street
    g = build_graph(lines)
    (a, b), _ = g.snap([(LON0, LAT0), (LON0, LAT0 + STEP)])
    d, _ = g.distances([a, b])
    assert d[0, 1] > 2 * haversine(np.array([[LON0, LAT0]]), np.array([[LON0, LAT0 + STEP]]))[0]


def stops_on(points: list[tuple[float, float]], fault: str = "defectiveLamp") -> list[Stop]:
    return [Stop(f"wo-{n}", lon, lat, fault, opened_at=float(n), label=f"lamp {n}") for n, (lon, lat) in enumerate(points)]


def test_one_crew_serves_everything_that_fits_and_beats_the_order_of_opening():
    g = build_graph(grid(5))
    corners = [(LON0 + 4 * STEP, LAT0 + 4 * STEP), (LON0, LAT0 + 4 * STEP), (LON0 + 4 * STEP, LAT0), (LON0 + STEP, LAT0 + STEP),
               (LON0 + 3 * STEP, LAT0 + 3 * STEP), (LON0 + STEP, LAT0 + 3 * STEP)]
    plan = plan_rounds(g, stops_on(corners), RoundsRequest(depot=(LON0, LAT0), crews=1, shift_s=8 * 3600, time_limit_s=1.0))
    (r,) = plan.rounds
    assert sorted(s.id for s in r.stops) == [f"wo-{n}" for n in range(6)] and plan.unserved == []
    assert plan.km <= plan.baselines["by_date"]["km"] and plan.km <= plan.baselines["nearest"]["km"] + 1e-9
    assert plan.shorter_than("by_date") > 0.25
    assert r.total_s <= 8 * 3600 and r.path[0] == pytest.approx((LON0, LAT0))  # starts at the depot, along the roads


def test_the_shift_limits_a_crew_and_a_second_crew_takes_the_rest():
    g = build_graph(grid(3))
    points = [(LON0 + i * STEP, LAT0 + j * STEP) for i in range(3) for j in range(3)][1:]  # 8 faults, 60 min each
    req = RoundsRequest(depot=(LON0, LAT0), crews=1, shift_s=4 * 3600, service_min={"columnIssue": 60}, time_limit_s=1.0)
    one = plan_rounds(g, stops_on(points, "columnIssue"), req)
    assert 1 <= len(one.rounds[0].stops) <= 3 and len(one.unserved) == 8 - len(one.rounds[0].stops)
    assert one.rounds[0].total_s <= 4 * 3600
    two = plan_rounds(g, stops_on(points, "columnIssue"), RoundsRequest(depot=(LON0, LAT0), crews=3, shift_s=4 * 3600,
                                                                        service_min={"columnIssue": 60}, time_limit_s=1.0))
    assert sum(len(r.stops) for r in two.rounds) > len(one.rounds[0].stops)


def test_high_priority_is_dropped_last():
    g = build_graph(grid(3))
    stops = [Stop("low", LON0 + 2 * STEP, LAT0 + 2 * STEP, "columnIssue", 0.0, "low"),
             Stop("high", LON0 + 2 * STEP, LAT0, "columnIssue", 1.0, "high")]
    plan = plan_rounds(g, stops, RoundsRequest(depot=(LON0, LAT0), crews=1, shift_s=1.5 * 3600, service_min={"columnIssue": 60},
                                               time_limit_s=1.0))
    assert [s.id for s in plan.rounds[0].stops] == ["high"] and plan.unserved == ["low"]


def test_no_fault_no_round_and_bad_requests_are_refused():
    g = build_graph(grid(2))
    assert plan_rounds(g, [], RoundsRequest(depot=(LON0, LAT0))).rounds == []
    for bad in ({"crews": 0}, {"shift_s": 60}, {"speed_kmh": 500}):
        with pytest.raises(RoundsInvalid):
            plan_rounds(g, stops_on([(LON0, LAT0)]), RoundsRequest(depot=(LON0, LAT0), **bad))


def test_gpx_and_csv_of_a_crew():
    g = build_graph(grid(3))
    plan = plan_rounds(g, stops_on([(LON0 + STEP, LAT0 + STEP), (LON0 + 2 * STEP, LAT0)]),
                       RoundsRequest(depot=(LON0, LAT0), crews=1, time_limit_s=0.5)).to_dict()
    plan["id"] = "r-test"
    gpx = ET.fromstring(round_gpx(plan, 1).split("\n", 1)[1])
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(gpx.findall("g:rte/g:rtept", ns)) == 4  # depot, two stops, depot
    assert len(gpx.findall("g:trk/g:trkseg/g:trkpt", ns)) >= 4
    rows = round_csv(plan, 1).splitlines()
    assert rows[0].startswith("crew,order,work_order") and len(rows) == 3
    with pytest.raises(RoundsInvalid):
        round_gpx(plan, 7)


def test_a_territory_without_roads_is_refused_in_words():
    from services.maintenance.service import plan_for

    class NoOrders:
        def pending(self, domain):
            return [{"id": "wo-1", "lon": 3.87, "lat": 43.61, "fault": "defectiveLamp", "opened_at": 0.0, "priority": "low",
                     "asset_name": "L1", "asset": "lamp-1"}]

    with pytest.raises(RoundsInvalid, match="no road network"):
        plan_for(NoOrders(), "no-such-territory", "lighting", RoundsRequest(depot=(LON0, LAT0)))
