"""The road-traffic simulator: real Montpellier roads and junctions, daily profile, incidents, signal plans, commands."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.contract import Ack, Alarm, Codec, Command, LineString, Point, Rejection, State, Telemetry, encode
from services.simulators import build
from services.simulators.traffic import TrafficSim
from services.simulators.traffic_world import profile, road_class
from services.territory.geo import daily_counts, haversine_m, load_territory, road_sites

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = datetime(2026, 3, 10, tzinfo=PARIS)
CODEC = Codec()


def make(hour: float, seed: int = 1, day: datetime = TUESDAY) -> TrafficSim:
    return build("traffic", seed=seed, start=day + timedelta(hours=hour))


def decode(out) -> list:
    """Decode every payload, failing on any Rejection."""
    msgs = [CODEC.decode(ch, payload) for ch, payload in out]
    bad = [m for m in msgs if isinstance(m, Rejection)]
    assert not bad, bad[:3]
    return msgs


def run(sim: TrafficSim, steps: int) -> list:
    out = []
    for _ in range(steps):
        out.extend(sim.step())
    return decode(out)


def readings(msgs: list) -> dict[str, object]:
    """The last reading of each asset in these messages."""
    return {r.asset: r for m in msgs if isinstance(m, Telemetry) for r in m.readings}


def alarm_events(msgs: list) -> list:
    return [e for m in msgs if isinstance(m, Alarm) for e in m.events]


def acks(msgs: list) -> list[Ack]:
    return [m for m in msgs if isinstance(m, Ack)]


def command(sim: TrafficSim, action: str, targets: list[str], cid: str = "c1", **params) -> list:
    cmd = Command(domain="traffic", supervisor=sim.supervisor_id, ts=sim.now, command_id=cid, action=action, targets=targets, params=params)
    return decode(sim.handle_command(encode(cmd)))


def assets(sim: TrafficSim, kind: str) -> list:
    return [a for a in sim.asset_defs() if a.type == kind]


def flow(sim: TrafficSim, segment_ids: list[str]) -> float:
    """Total current intensity (veh/h) of these segments."""
    now = {r.asset: r for r in sim.current_readings()}
    return sum(now[s].intensity for s in segment_ids)


def busiest_with_neighbours(sim: TrafficSim) -> str:
    return max((s for s in sim.segments if len(s.neighbours) >= 2), key=lambda s: s.daily).id


# --- the world ----------------------------------------------------------------------------


def test_every_real_road_segment_and_junction_is_an_asset():
    sim = make(3)
    segments, signals = assets(sim, "RoadSegment"), assets(sim, "TrafficSignal")
    assert (len(segments), len(signals)) == (8011, 373)
    assert {a.id for a in segments} == {f"seg-{r.idarc}" for r in road_sites()}
    assert [a.id for a in signals][:2] == ["sig-000", "sig-001"]
    assert all(isinstance(a.geometry, LineString) for a in segments) and all(isinstance(a.geometry, Point) for a in signals)


def test_junctions_are_reprojected_into_montpellier_next_to_a_road():
    sim = make(3)
    (lat0, lon0), (lat1, lon1) = load_territory().bounds
    by_id = {a.id: a for a in assets(sim, "RoadSegment")}
    gaps = []
    for sig in assets(sim, "TrafficSignal"):
        lon, lat = sig.geometry.coordinates
        assert lon0 < lon < lon1 and lat0 < lat < lat1, sig
        near = [sig.refs[k] for k in ("seg1", "seg2", "seg3", "seg4") if k in sig.refs]
        assert 2 <= len(near) <= 4 and all(n in by_id for n in near)
        gaps.append(min(haversine_m((lon, lat), c) for c in by_id[near[0]].geometry.coordinates))
    assert sorted(gaps)[len(gaps) // 2] < 50  # a Lambert-93 slip would put junctions hundreds of metres off


def test_counted_roads_carry_the_real_daily_count_and_others_an_estimate():
    counts = daily_counts()
    segments = assets(make(3), "RoadSegment")
    counted = [a for a in segments if a.props["counted"]]
    assert len(counted) == sum(1 for r in road_sites() if r.idarc in counts)
    assert all(a.props["dailyCount"] == counts[int(a.id.removeprefix("seg-"))] for a in counted)
    assert all(a.props["dailyCount"] > 0 and a.props["capacity"] > 0 for a in segments)
    mermoz = max(counted, key=lambda a: a.props["dailyCount"])
    assert (mermoz.name, mermoz.props["dailyCount"]) == ("Avenue Jean Mermoz", 31076.0)


def test_segments_refer_to_their_street_district_and_commune():
    celette = next(a for a in assets(make(3), "RoadSegment") if a.id == "seg-293")
    assert celette.name == "Place de la Célette"
    assert celette.refs["street"] == "street-2693"
    assert celette.refs["commune"] == "commune-34172"  # Montpellier
    assert celette.refs["district"].startswith("district-")


@pytest.mark.parametrize(
    "name, length_m, free_flow",
    [
        ("Autoroute A9 La Languedocienne", 900, 90),
        ("Avenue de Toulouse", 800, 70),
        ("Boulevard du Jeu de Paume", 120, 50),
        ("Route de Mende", 600, 70),
        ("Quai des Tanneurs", 140, 50),
        ("Rue Léon Blum", 30, 30),
        ("Rue Georges Méliès", 400, 50),
        ("Impasse des Lilas", 60, 30),
        ("Voie non dénommée", 200, 30),
    ],
)
def test_free_flow_speed_follows_the_road_name_and_length(name, length_m, free_flow):
    assert road_class(name, length_m).free_flow == free_flow


@pytest.mark.parametrize(
    "busier, quieter",
    [
        (TUESDAY.replace(hour=8), TUESDAY.replace(hour=3)),
        (TUESDAY.replace(hour=17, minute=30), TUESDAY.replace(hour=13)),
        (TUESDAY.replace(hour=8), TUESDAY.replace(day=15, hour=8)),  # a weekday morning beats a Sunday morning
        (TUESDAY.replace(hour=8), TUESDAY.replace(hour=11)),
    ],
)
def test_the_hourly_profile_peaks_on_weekday_mornings_and_evenings(busier, quieter):
    assert profile(busier) > profile(quieter)


# --- traffic ------------------------------------------------------------------------------


def test_a_weekday_morning_peak_has_more_traffic_and_congestion_than_the_night():
    morning, night = make(7 + 57 / 60), make(2 + 57 / 60)
    msgs_morning, msgs_night = run(morning, 3), run(night, 3)
    assert morning.intensity.sum() > 10 * night.intensity.sum()
    assert morning.congested.sum() >= 100 and night.congested.sum() == 0
    jammed = {morning._ids[i] for i in morning.congested.nonzero()[0]}
    counted = {a.id for a in assets(morning, "RoadSegment") if a.props["counted"]}
    assert len(jammed & counted) >= 0.5 * len(jammed)  # the busy, counted roads jam
    # the usual rush hour is shown (telemetry, maps, congestion index), not alarmed: an alarm asks for an action
    raised = [e for e in alarm_events(msgs_morning) if e.code == "congestion"]
    assert len(raised) <= 0.1 * len(jammed)
    assert not [e for e in alarm_events(msgs_night) if e.code == "congestion"]
    plans = {r.signalPlan for r in morning.current_readings() if r.signalPlan}
    assert "peak" in plans and {r.signalPlan for r in night.current_readings() if r.signalPlan} <= {"normal", "flashingAmber"}


def test_an_incident_closes_its_segment_and_congests_its_neighbours():
    sim = make(3)
    seg = busiest_with_neighbours(sim)
    neighbours = sim.neighbours(seg)
    assert sim.start_incident(seg, minutes=30)
    msgs = decode(sim.flush()) + run(sim, 3)
    seen = readings(msgs)
    assert (seen[seg].closed, seen[seg].status, seen[seg].intensity) == (True, "closed", 0.0)
    assert all(seen[n].congested for n in neighbours)
    events = alarm_events(msgs)
    incident = [e for e in events if e.code == "incident"]
    assert [(e.asset, e.action, e.severity) for e in incident] == [(seg, "raise", "major")]
    congestion = {e.asset: e for e in events if e.code == "congestion" and e.action == "raise"}
    assert set(congestion) == set(neighbours)
    assert all(seg in e.message and e.severity == "warning" for e in congestion.values())
    later = run(sim, 30)
    assert readings(later)[seg].closed is False
    cleared = {(e.asset, e.code) for e in alarm_events(later) if e.action == "clear"}
    assert (seg, "incident") in cleared and {(n, "congestion") for n in neighbours} <= cleared


def test_incidents_happen_on_their_own_during_the_day():
    events = alarm_events(run(make(10, seed=3), 240))
    assert [e for e in events if e.code == "incident" and e.action == "raise"]


def test_telemetry_goes_by_exception_yet_every_asset_reports_every_15_minutes():
    sim = make(11)
    per_step = [readings(run(sim, 1)) for _ in range(15)]
    assert max(len(r) for r in per_step) < 1500  # not the whole network every minute
    reported = set().union(*per_step)
    assert len(reported) == 8011 + 373


# --- signals ------------------------------------------------------------------------------


def test_a_green_wave_is_accepted_applied_and_reported_then_returns_to_automatic():
    sim = make(3)
    corridor = ["sig-010", "sig-011", "sig-012"]
    first = command(sim, "signal_plan", corridor, plan="greenWave", override_s=600)
    assert [(a.status, a.command_id) for a in acks(first)] == [("accepted", "c1")]
    msgs = run(sim, 1)
    (ack,) = acks(msgs)
    assert (ack.status, ack.applied, ack.failed) == ("applied", corridor, [])
    assert all(readings(msgs)[s].signalPlan == "greenWave" for s in corridor)
    back = readings(run(sim, 11))
    assert all(back[s].signalPlan == "normal" for s in corridor)


def test_a_junction_fault_flashes_amber_raises_an_alarm_and_refuses_plans():
    sim = make(3)
    assert sim.start_signal_fault("sig-020", minutes=40)
    msgs = decode(sim.flush()) + run(sim, 1)
    assert (readings(msgs)["sig-020"].status, readings(msgs)["sig-020"].signalPlan) == ("fault", "flashingAmber")
    assert [(e.code, e.severity) for e in alarm_events(msgs)] == [("signal_fault", "major")]
    command(sim, "signal_plan", ["sig-020", "sig-021"], plan="greenWave")
    (ack,) = acks(run(sim, 1))
    assert (ack.status, ack.applied, ack.failed) == ("partial", ["sig-021"], ["sig-020"])
    assert "fault" in ack.reason
    repaired = run(sim, 40)
    assert readings(repaired)["sig-020"].status == "ok"
    assert ("signal_fault", "clear") in [(e.code, e.action) for e in alarm_events(repaired)]


# --- road closures ------------------------------------------------------------------------


def test_an_operator_closes_a_segment_traffic_diverts_then_reopens_it():
    sim = make(11)
    seg = busiest_with_neighbours(sim)
    before, own = flow(sim, sim.neighbours(seg)), flow(sim, [seg])
    assert acks(command(sim, "close_segment", [seg]))[0].status == "accepted"
    msgs = run(sim, 1)
    assert (acks(msgs)[0].status, acks(msgs)[0].applied) == ("applied", [seg])
    assert (readings(msgs)[seg].closed, readings(msgs)[seg].status) == (True, "closed")
    assert flow(sim, sim.neighbours(seg)) > before + 0.6 * own  # 80 % of its traffic moves to its neighbours
    assert not [e for e in alarm_events(msgs) if e.code == "incident"]
    command(sim, "reopen_segment", [seg], cid="c2")
    msgs = run(sim, 1)
    assert acks(msgs)[0].status == "applied"
    assert (readings(msgs)[seg].closed, readings(msgs)[seg].status) == (False, "ok")


def test_reopening_a_segment_blocked_by_an_incident_fails_with_a_reason():
    sim = make(3)
    seg = busiest_with_neighbours(sim)
    sim.start_incident(seg, minutes=60)
    command(sim, "reopen_segment", [seg])
    (ack,) = acks(run(sim, 1))
    assert ack.status == "failed" and "incident" in ack.reason


@pytest.mark.parametrize(
    "action, targets, params, why",
    [
        ("dim", ["sig-001"], {}, "unknown action"),
        ("signal_plan", ["seg-293"], {"plan": "normal"}, "seg-293 is a RoadSegment"),
        ("signal_plan", ["valve-12"], {"plan": "normal"}, "valve-12 is not an asset"),
        ("close_segment", ["lamp-00042"], {}, "lamp-00042 is not an asset"),
        ("close_segment", ["sig-001"], {}, "sig-001 is a TrafficSignal"),
        ("reopen_segment", [], {}, "at least one target"),
        ("signal_plan", ["sig-001"], {"plan": "disco"}, "unknown signal plan 'disco'"),
        ("signal_plan", ["sig-001"], {}, "unknown signal plan None"),
        ("signal_plan", ["sig-001"], {"plan": "peak", "override_s": 5}, "override_s"),
        ("signal_plan", ["sig-001"], {"plan": "peak", "override_s": True}, "override_s"),
        ("close_segment", ["seg-293"], {"level": 3}, "unknown parameter 'level'"),
    ],
)
def test_bad_commands_are_rejected_with_a_reason(action, targets, params, why):
    sim = make(3)
    (ack,) = acks(command(sim, action, targets, **params))
    assert ack.status == "rejected" and why in ack.reason
    assert not acks(run(sim, 1))  # nothing pending


# --- the contract -------------------------------------------------------------------------


def test_same_seed_and_start_give_byte_identical_messages():
    def script(seed: int) -> list[tuple[str, bytes]]:
        sim = make(7.5, seed=seed)
        out = sim.state()
        for n in range(40):
            if n == 5:
                out += sim.handle_command(encode(Command(domain="traffic", supervisor=sim.supervisor_id, ts=sim.now, command_id="x",
                                                         action="close_segment", targets=["seg-293"])))
            out += sim.step()
        return out

    assert script(5) == script(5)
    assert script(5) != script(6)


def test_state_and_every_message_kind_decode_without_rejection():
    sim = make(8)
    msgs = decode(sim.state() + sim.heartbeat(1.0))
    parts = [m for m in msgs if isinstance(m, State)]
    assert sum(len(p.assets) for p in parts) == 8011 + 373
    assert sum(len(p.readings) for p in parts) == 8011 + 373
    command(sim, "signal_plan", ["sig-001"], plan="flashingAmber")
    sim.start_incident(busiest_with_neighbours(sim), minutes=20)
    kinds = {m.kind for m in run(sim, 30) + msgs}
    assert kinds == {"state", "heartbeat", "telemetry", "alarm", "ack"}
