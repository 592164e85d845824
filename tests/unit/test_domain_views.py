"""The traffic page's lists: only slowed segments, incidents newest first with what they slow around them."""
from __future__ import annotations

from services.history.domain_views import incidents, most_congested


def seg(sid: str, x0: float, speed: float | None, free: float = 50.0, closed: bool = False, occupancy: float = 0.1) -> dict:
    return {"id": sid, "type": "RoadSegment", "name": f"Rue {sid}", "props": {"freeFlowSpeed": free},
            "values": {"averageVehicleSpeed": speed, "closed": closed, "occupancy": occupancy},
            "geometry": {"type": "LineString", "coordinates": [[x0, 43.6], [x0 + 0.001, 43.6]]}}


ROAD = [seg("a", 3.850, 50.0), seg("b", 3.851, 20.0), seg("c", 3.852, 0.0, closed=True), seg("d", 3.853, 39.0),
        seg("e", 3.860, 20.0, occupancy=0.6), seg("f", 3.870, None)]


def test_a_quiet_network_lists_no_congested_segment():
    assert most_congested([seg("a", 3.85, 50.0), seg("b", 3.86, 30.0, free=30.0)]) == []


def test_only_open_slowed_segments_are_listed_slowest_then_fullest_first():
    assert [c.id for c in most_congested(ROAD)] == ["e", "b", "d"]  # a flows, c is closed, f never reported


def alarm(aid: str, asset: str, code: str, raised_at: float, priority: str = "high", active: bool = True) -> dict:
    return {"id": aid, "domain": "traffic", "asset": asset, "code": code, "priority": priority, "active": active,
            "acknowledged": False, "raised_at": raised_at}


def test_incidents_are_newest_first_with_the_slowed_or_closed_segments_sharing_an_end():
    signal = {"id": "sig-1", "type": "TrafficSignal", "name": "Carrefour", "refs": {"seg1": "a", "seg2": "d"}, "values": {}}
    alarms = [alarm("x", "b", "incident", 100.0), alarm("y", "sig-1", "signal_fault", 200.0),
              alarm("z", "e", "congestion", 300.0), alarm("w", "a", "incident", 50.0, active=False),
              {**alarm("v", "a", "incident", 400.0), "domain": "water"}]
    found = incidents(alarms, [*ROAD, signal])
    assert [(i.alarm_id, i.kind) for i in found] == [("y", "signal_fault"), ("x", "incident")]
    assert [n for n, _ in found[1].affected] == ["c"]  # b's ends touch a (flowing) and c (closed)
    assert [n for n, _ in found[0].affected] == ["d"]  # the junction's segments: a flows, d is slowed
    assert found[1].name == "Rue b" and found[1].priority == "high"


def test_no_incident_alarm_means_an_empty_list():
    assert incidents([alarm("z", "e", "congestion", 1.0)], ROAD) == []
