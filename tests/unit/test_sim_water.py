"""The water supervisor simulator: a generated network on real streets, its dynamics, alarms and commands."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from services.contract import Codec, Command, LineString, Point, Rejection, WaterReading
from services.simulators import build
from services.simulators.water import WaterSim
from services.simulators.water_network import build_network
from services.territory.geo import load_territory, road_sites

PARIS = ZoneInfo("Europe/Paris")
CODEC = Codec()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, 22, hour, minute, tzinfo=PARIS)


def quiet(hour: int = 10, minute: int = 0, seed: int = 42) -> WaterSim:
    """A simulator with no random incidents, so a test sees only what it does."""
    sim = build("water", seed=seed, start=at(hour, minute))
    sim.incident_rate = 0.0
    return sim


def decode(out: list[tuple[str, bytes]]) -> list:
    msgs = [CODEC.decode(ch, payload) for ch, payload in out]
    assert not [m for m in msgs if isinstance(m, Rejection)]
    return msgs


def run(sim: WaterSim, steps: int) -> list:
    """Step the simulator and return every decoded message."""
    return [m for _ in range(steps) for m in decode(sim.step())]


def snapshot(sim: WaterSim) -> tuple[dict, dict[str, WaterReading]]:
    """Assets and readings of a decoded `state`."""
    (state,) = decode(sim.state())
    return {a.id: a for a in state.assets}, {r.asset: r for r in state.readings}


def events(msgs: list, action: str = "raise") -> list:
    return [e for m in msgs if m.kind == "alarm" for e in m.events if e.action == action]


def command(sim: WaterSim, action: str, targets: list[str], **params) -> list:
    """Send a command; return the decoded acks (accepted/rejected now, the outcome after one step)."""
    cmd = Command(domain="water", supervisor=sim.supervisor_id, ts=sim.now, command_id=f"c-{action}", action=action,
                  targets=targets, params=params)
    acks = [m for m in decode(sim.handle_command(msgspec.json.encode(cmd))) if m.kind == "ack"]
    if acks[0].status == "accepted":
        acks += [m for m in run(sim, 1) if m.kind == "ack"]
    return acks


@pytest.fixture(scope="module")
def network() -> tuple[dict, dict[str, WaterReading]]:
    return snapshot(quiet())


def of_type(assets: dict, kind: str) -> list:
    return [a for a in assets.values() if a.type == kind]


def mean_pressure(readings: dict[str, WaterReading], sensors: list[str]) -> float:
    return sum(readings[s].pressure for s in sensors) / len(sensors)


# --- the network ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind, low, high", [
    ("Reservoir", 2, 2), ("Pump", 6, 6), ("Valve", 60, 60), ("Device", 400, 400), ("Pipe", 300, 1500), ("Junction", 50, 600),
])
def test_asset_counts_by_type(network, kind, low, high):
    assert low <= len(of_type(network[0], kind)) <= high


def test_sensors_measure_pressure_flow_and_quality(network):
    assert Counter(a.props["measures"] for a in of_type(network[0], "Device")) == {"pressure": 200, "flow": 100, "quality": 100}


def test_every_coordinate_is_inside_the_montpellier_bounding_box(network):
    (lat0, lon0), (lat1, lon1) = load_territory("montpellier").bounds
    for a in network[0].values():
        coords = [a.geometry.coordinates] if isinstance(a.geometry, Point) else a.geometry.coordinates
        assert all(lon0 <= lon <= lon1 and lat0 <= lat <= lat1 for lon, lat in coords), a.id


def test_pipes_follow_real_streets(network):
    vertices = {c for r in road_sites() for c in r.coords}
    streets = {r.name for r in road_sites()}
    for pipe in of_type(network[0], "Pipe"):
        assert isinstance(pipe.geometry, LineString)
        assert all(tuple(c) in vertices for c in pipe.geometry.coordinates), pipe.id
        assert pipe.props["street"] in streets and pipe.props["diameter"] >= 100 and pipe.props["length"] > 0


def test_reservoirs_stand_on_the_high_northern_side(network):
    assets = network[0]
    pump_lats = [p.geometry.coordinates[1] for p in of_type(assets, "Pump")]
    for res in of_type(assets, "Reservoir"):
        assert res.geometry.coordinates[1] > max(pump_lats)
        assert res.props["capacity"] > 0 and res.props["maxLevel"] > 0 and res.props["elevation"] > 50


def test_sensors_and_valves_point_at_their_pipe_zone_and_district(network):
    assets = network[0]
    zones = {p.refs["zone"] for p in of_type(assets, "Pump")}
    assert zones == {f"zone-{n}" for n in range(1, 7)}
    for a in of_type(assets, "Device") + of_type(assets, "Valve"):
        assert assets[a.refs["pipe"]].type == "Pipe" and a.refs["zone"] in zones and a.refs["district"].startswith("district-")
    assert sum(v.props["main"] for v in of_type(assets, "Valve")) in range(3, 15)
    sim = quiet()
    assert all(v.props["downstreamSensors"] == len(sim.downstream_sensors(v.id)) for v in of_type(assets, "Valve"))


# --- dynamics ------------------------------------------------------------------------------


def test_demand_is_higher_at_0730_than_at_0300():
    flows = []
    for hour, minute in ((3, 0), (7, 30)):
        sim = quiet(hour, minute)
        run(sim, 1)
        assets, readings = snapshot(sim)
        flows.append(sum(readings[a.id].flow for a in of_type(assets, "Device") if a.props["measures"] == "flow"))
        flows.append(sim.demand_m3h)
    night_sensors, night, morning_sensors, morning = flows
    assert morning_sensors > 2 * night_sensors and morning > 2 * night


def test_reservoir_level_falls_when_its_pumps_are_stopped():
    sim = quiet(10)
    assets, before = snapshot(sim)
    pumps = [p.id for p in of_type(assets, "Pump") if p.refs["reservoir"] == "eau-res-1"]
    assert command(sim, "pump", pumps, running=False)[-1].status == "applied"
    run(sim, 60)
    _, after = snapshot(sim)
    assert after["eau-res-1"].level < before["eau-res-1"].level - 0.3
    assert all(after[p].running is False and after[p].flow == 0 for p in pumps)


def test_reservoir_level_rises_when_pumping_exceeds_demand():
    sim = quiet(3)
    assets, before = snapshot(sim)
    pumps = [p.id for p in of_type(assets, "Pump")]
    command(sim, "pump", pumps, running=True)
    run(sim, 60)
    _, after = snapshot(sim)
    assert all(after[r].level > before[r].level + 0.2 and after[r].flow > 0 for r in ("eau-res-1", "eau-res-2"))


def test_a_running_pump_follows_its_setpoint():
    sim = quiet(10)
    assert command(sim, "pump_setpoint", ["eau-pump-2"], bar=6.5)[-1].status == "applied"
    run(sim, 10)
    _, readings = snapshot(sim)
    assert readings["eau-pump-2"].setpoint == 6.5 and readings["eau-pump-2"].pressure == pytest.approx(6.5, abs=0.05)


def test_closing_a_valve_lowers_the_downstream_pressure(network):
    sim = quiet(10)
    assets = network[0]
    valve = max(of_type(assets, "Valve"), key=lambda v: v.props["downstreamSensors"] * (not v.props["main"]))
    sensors = [s for s in sim.downstream_sensors(valve.id) if assets[s].props["measures"] == "pressure"]
    _, before = snapshot(sim)
    assert command(sim, "valve", [valve.id], open=False)[-1].status == "applied"
    msgs = run(sim, 4)
    _, after = snapshot(sim)
    assert after[valve.id].position == 0.0
    assert mean_pressure(after, sensors) < 0.5 < mean_pressure(before, sensors) - 1.0
    assert {e.asset for e in events(msgs) if e.code == "low_pressure"} == set(sensors)


def test_throttling_a_valve_lowers_the_downstream_pressure_a_little(network):
    sim = quiet(8)
    valve = max(of_type(network[0], "Valve"), key=lambda v: v.props["downstreamSensors"])
    sensors = [s for s in sim.downstream_sensors(valve.id) if network[0][s].props["measures"] == "pressure"]
    _, before = snapshot(sim)
    command(sim, "valve", [valve.id], position=15)
    run(sim, 2)
    _, after = snapshot(sim)
    assert 0.5 < mean_pressure(after, sensors) < mean_pressure(before, sensors) - 0.1


def test_a_pump_trip_raises_pump_fault_and_the_low_pressure_flood(network):
    sim = quiet(10)
    assets = network[0]
    sim.trip_pump("eau-pump-3")
    raised = events(run(sim, 3))
    (fault,) = [e for e in raised if e.code == "pump_fault"]
    assert (fault.asset, fault.severity) == ("eau-pump-3", "critical")
    zone_sensors = {a.id for a in of_type(assets, "Device") if a.refs["zone"] == "zone-3" and a.props["measures"] == "pressure"}
    flood = [e for e in raised if e.code == "low_pressure"]
    assert {e.asset for e in flood} == zone_sensors and {e.severity for e in flood} == {"major"}
    _, readings = snapshot(sim)
    assert readings["eau-pump-3"].status == "fault" and readings["eau-pump-3"].running is False


def test_a_tripped_pump_refuses_to_restart_and_clears_after_the_fault():
    sim = quiet(10)
    sim.trip_pump("eau-pump-1", duration_s=600)
    acks = command(sim, "pump", ["eau-pump-1"], running=True)
    assert acks[-1].status == "failed" and "tripped" in acks[-1].reason
    cleared = events(run(sim, 25), "clear")
    assert "eau-pump-1:pump_fault" in {e.id for e in cleared}
    assert {e.code for e in cleared} >= {"pump_fault", "low_pressure"}


def test_a_leak_lowers_the_pressure_downstream_and_raises_leak_suspected(network):
    sim = quiet(3)
    assets = network[0]
    valve = max(of_type(assets, "Valve"), key=lambda v: v.props["downstreamSensors"] * (not v.props["main"]))
    pipe = valve.refs["pipe"]
    sensors = [s for s in sim.downstream_sensors(valve.id) if assets[s].props["measures"] == "pressure"]
    _, before = snapshot(sim)
    sim.start_leak(pipe, flow_m3h=40.0, detect_after_s=300)
    msgs = run(sim, 12)
    _, after = snapshot(sim)
    assert mean_pressure(after, sensors) < mean_pressure(before, sensors) - 0.5
    assert after[pipe].flow > before[pipe].flow + 30
    (leak,) = [e for e in events(msgs) if e.code == "leak_suspected"]
    assert (leak.asset, leak.severity) == (pipe, "major") and pipe in leak.message and valve.refs["zone"] in leak.message


def test_a_chlorine_drop_raises_a_major_water_quality_alarm(network):
    sim = quiet(10)
    sensor = next(a for a in of_type(network[0], "Device") if a.props["measures"] == "quality")
    sim.degrade_quality(sensor.refs["pipe"], chlorine=0.05, duration_s=600)
    raised = [e for e in events(run(sim, 2)) if e.code == "water_quality"]
    assert sensor.id in {e.asset for e in raised} and {e.severity for e in raised} == {"major"}
    assert "water_quality" in {e.code for e in events(run(sim, 25), "clear")}


def test_a_low_reservoir_raises_low_level():
    sim = quiet(10)
    sim.level[0] = 0.15 * sim.net.reservoirs[0].max_level_m
    (low,) = [e for e in events(run(sim, 1)) if e.code == "low_level"]
    assert low.asset == "eau-res-1" and low.severity == "major"


# --- commands ------------------------------------------------------------------------------


@pytest.mark.parametrize("action, targets, params, reason", [
    ("valve", ["eau-valve-1"], {"position": 140}, "between 0 and 100"),
    ("valve", ["eau-valve-1"], {"position": True}, "between 0 and 100"),
    ("valve", ["eau-valve-1"], {}, "either position"),
    ("valve", ["lamp-12"], {"open": True}, "unknown asset 'lamp-12'"),
    ("valve", ["eau-pump-1"], {"open": True}, "Valve assets only"),
    ("valve", ["eau-valve-1"], {"open": "yes"}, "open must be true or false"),
    ("flush", ["eau-valve-1"], {}, "unknown action 'flush'"),
    ("pump", ["eau-pump-1"], {"running": 1}, "running (true/false)"),
    ("pump", ["eau-valve-1"], {"running": True}, "Pump assets only"),
    ("pump", ["eau-pump-1"], {"speed": 3}, "unknown parameter 'speed'"),
    ("pump_setpoint", ["eau-pump-1"], {"bar": 12}, "between 1 and 10"),
    ("pump_setpoint", [], {"bar": 5}, "at least one Pump"),
])
def test_bad_commands_are_rejected_with_a_reason(action, targets, params, reason):
    (ack,) = command(quiet(), action, targets, **params)
    assert ack.status == "rejected" and reason in ack.reason


def test_a_pump_returns_to_automatic_control():
    sim = quiet(10)
    command(sim, "pump", ["eau-pump-1"], running=False)
    assert command(sim, "pump", ["eau-pump-1"], auto=True)[-1].status == "applied"
    assert sim.pump[0].manual is None


# --- the feed ------------------------------------------------------------------------------


def test_same_seed_and_start_give_byte_identical_messages():
    def transcript(sim: WaterSim) -> list[bytes]:
        sim.incident_rate = 50.0
        out = [p for _, p in sim.state()]
        for i in range(120):
            out += [p for _, p in sim.step()]
            if i == 30:
                out += [p for _, p in command_bytes(sim)]
        return out

    assert transcript(build("water", seed=42, start=at(6))) == transcript(build("water", seed=42, start=at(6)))


def test_the_same_seed_draws_the_same_network():
    assert build_network.__wrapped__("montpellier", 42) == build_network("montpellier", 42)


def command_bytes(sim: WaterSim) -> list[tuple[str, bytes]]:
    cmd = Command(domain="water", supervisor=sim.supervisor_id, ts=sim.now, command_id="c1", action="valve",
                  targets=["eau-valve-3"], params={"position": 20})
    return sim.handle_command(msgspec.json.encode(cmd))


def test_every_payload_decodes_without_rejection():
    sim = build("water", seed=42, start=at(5))
    sim.incident_rate = 40.0
    out = sim.state() + sim.heartbeat(1.0)
    for _ in range(150):
        out += sim.step()
    msgs = decode(out)
    assert {m.kind for m in msgs} >= {"state", "heartbeat", "telemetry", "alarm"}
    assert {e.code for e in events(msgs)} >= {"leak_suspected", "pump_fault", "low_pressure"}


def test_every_asset_is_sent_at_least_every_five_minutes(network):
    sim = quiet(2)
    msgs = run(sim, int(timedelta(minutes=5).total_seconds() // sim.step_s))
    sent = {r.asset for m in msgs if m.kind == "telemetry" for r in m.readings}
    assert sent == set(network[0])
