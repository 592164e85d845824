"""The pure core: state, sequence tracking, health, alarms, KPIs. Fixed clock, no I/O."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.contract import (
    Ack, Alarm, AlarmEvent, AssetDef, Heartbeat, LightingReading, Point, State, Telemetry, TrafficReading, WaterReading,
)
from services.core import AlarmsChanged, AssetsChanged, CoreConfig, Hypervisor, KpisChanged, StateNeeded, SupervisorChanged
from services.core.alarms import AlarmBook, AlarmState, Priority
from services.core.assets import Condition
from services.core.events import AssetsRemoved
from services.core.kpis import EnergyMeter

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
NOW = T0.timestamp()
NOW_DAY = date(2026, 11, 25)  # T0's day in Paris


def env(kind: str, seq: int, domain: str = "lighting", sup: str = "lum", at: datetime = T0) -> dict:
    return {"v": 1, "kind": kind, "domain": domain, "supervisor": sup, "ts": at, "seq": seq}


def lamp(i: int, rating: float = 100.0) -> AssetDef:
    return AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lampe {i}", geometry=Point(coordinates=(3.87 + i * 1e-4, 43.61)),
                    refs={"cabinet": "cab-1"}, props={"powerRating": rating})


def lighting_state(seq: int, n: int = 3, snapshot: str = "s1", alarms: list[AlarmEvent] | None = None) -> State:
    return State[LightingReading](
        **env("state", seq), snapshot=snapshot, assets=[lamp(i) for i in range(n)],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok", powerState="on", illuminanceLevel=1.0, powerConsumption=100.0) for i in range(n)],
        alarms=alarms or [],
    )


def telemetry(seq: int, *readings: LightingReading, at: datetime = T0) -> Telemetry:
    return Telemetry[LightingReading](**env("telemetry", seq, at=at), readings=list(readings))


@pytest.fixture
def hv() -> Hypervisor:
    h = Hypervisor(CoreConfig(late_after_s=10, stale_after_s=30))
    h.handle(lighting_state(1), NOW)
    return h


def test_state_defines_assets_with_values_and_condition(hv):
    a = hv.state.get("lamp-1")
    assert a.type == "Streetlight" and a.values["powerConsumption"] == 100.0
    assert a.condition is Condition.OK
    assert len(hv.state.query(domain="lighting")) == 3


def test_telemetry_reports_only_assets_whose_values_changed(hv):
    events = hv.handle(telemetry(2, LightingReading(asset="lamp-0", powerConsumption=100.0),
                                 LightingReading(asset="lamp-1", powerConsumption=50.0)), NOW)
    assert events == [AssetsChanged("lighting", "lum", ("lamp-1",))]


def test_a_fault_status_makes_the_asset_faulty(hv):
    hv.handle(telemetry(2, LightingReading(asset="lamp-2", status="defectiveLamp")), NOW)
    assert hv.state.get("lamp-2").condition is Condition.FAULT


@pytest.mark.parametrize(
    "seqs, expect_state_needed",
    [
        ([2, 3, 4], False),  # in order
        ([2, 4], True),  # gap: 3 lost while nobody listened
        ([2, 2], False),  # duplicate: ignored
        ([2, 1], False),  # restart: the supervisor sends a state itself
    ],
)
def test_sequence_numbers(hv, seqs, expect_state_needed):
    events = []
    for s in seqs:
        events += hv.handle(Heartbeat(**env("heartbeat", s)), NOW)
    assert any(isinstance(e, StateNeeded) and e.reason == "sequence_gap" for e in events) is expect_state_needed


def test_reading_for_an_unknown_asset_asks_for_state(hv):
    events = hv.handle(telemetry(2, LightingReading(asset="lamp-999", status="ok")), NOW)
    assert StateNeeded("lighting", "lum", "unknown_asset") in events


def test_a_supervisor_cannot_write_another_supervisors_assets(hv):
    msg = Telemetry[LightingReading](**env("telemetry", 1, sup="intruder"), readings=[LightingReading(asset="lamp-0", status="brokenLantern")])
    hv.handle(msg, NOW)
    assert hv.state.get("lamp-0").values["status"] == "ok"


def test_complete_snapshot_removes_assets_no_longer_reported(hv):
    events = hv.handle(lighting_state(2, n=2, snapshot="s2"), NOW)
    assert AssetsRemoved("lighting", "lum", ("lamp-2",)) in events
    assert hv.state.get("lamp-2") is None


def test_partial_snapshot_removes_nothing(hv):
    part = State[LightingReading](**env("state", 2), snapshot="s2", part=1, parts=2, assets=[lamp(0)])
    hv.handle(part, NOW)
    assert hv.state.get("lamp-2") is not None


@pytest.mark.parametrize(
    "age_s, status",
    [(0, "live"), (9, "live"), (10, "late"), (29, "late"), (30, "stale"), (3600, "stale")],
)
def test_supervisor_liveness_by_silence(hv, age_s, status):
    hv.tick(NOW + age_s)
    assert hv.health.get("lum").status == status


def test_stale_supervisor_raises_and_clears_a_vigie_alarm(hv):
    events = hv.tick(NOW + 31)
    assert SupervisorChanged("lum", "lighting", "stale") in events
    assert hv.alarms.get("vigie/supervisor_stale/lum").active
    hv.handle(Heartbeat(**env("heartbeat", 2)), NOW + 32)
    assert hv.health.get("lum").status == "live"
    assert not hv.alarms.get("vigie/supervisor_stale/lum").active


def test_bus_lost_makes_everything_unknown_and_restored_asks_every_state(hv):
    hv.bus_lost(NOW + 1)
    assert hv.health.get("lum").status == "unknown" and hv.summary(NOW)["bus_up"] is False
    events = hv.bus_restored(NOW + 2)
    assert StateNeeded("lighting", "lum", "reconnect") in events


@pytest.mark.parametrize(
    "severity, priority",
    [("critical", Priority.URGENT), ("major", Priority.HIGH), ("minor", Priority.LOW), ("warning", Priority.LOW), ("info", Priority.DIAGNOSTIC)],
)
def test_severity_maps_to_priority(hv, severity, priority):
    ev = AlarmEvent(id="a1", asset="lamp-0", action="raise", severity=severity, code="lamp_fault", message="x")
    hv.handle(Alarm(**env("alarm", 2), events=[ev]), NOW)
    assert hv.alarms.get("lum/a1").priority is priority


# The alarm states reachable before the alarm-management issue: (actions) -> state, or gone (None)
ALARM_TRANSITIONS = [
    (["raise"], AlarmState.ACTIVE_UNACK),
    (["raise", "ack"], AlarmState.ACTIVE_ACK),
    (["raise", "clear"], AlarmState.RTN_UNACK),
    (["raise", "ack", "clear"], None),
    (["raise", "clear", "ack"], None),
    (["raise", "clear", "raise"], AlarmState.ACTIVE_UNACK),
    (["raise", "ack", "ack"], AlarmState.ACTIVE_ACK),
]


@pytest.mark.parametrize("actions, final", ALARM_TRANSITIONS)
def test_alarm_transitions(actions, final):
    book = AlarmBook()
    for i, act in enumerate(actions):
        if act == "raise":
            book.raise_("s/a", source="supervisor", domain="lighting", supervisor="s", asset="x", code="c", severity="major", message="m", at=i)
        elif act == "clear":
            book.clear("s/a", at=i)
        else:
            book.acknowledge("s/a", user="op", at=i)
    a = book.get("s/a")
    assert (a.state if a else None) == final


def test_second_acknowledgement_changes_nothing_and_keeps_the_first_user():
    book = AlarmBook()
    book.raise_("s/a", source="supervisor", domain="water", supervisor="s", asset="x", code="c", severity="major", message="m", at=0)
    assert book.acknowledge("s/a", "alice", 1) is not None
    assert book.acknowledge("s/a", "bob", 2) is None
    assert book.get("s/a").acked_by == "alice"


def test_state_resync_clears_alarms_that_ended_while_away(hv):
    ev = AlarmEvent(id="a1", asset="lamp-0", action="raise", severity="minor", code="lamp_fault")
    hv.handle(Alarm(**env("alarm", 2), events=[ev]), NOW)
    hv.handle(lighting_state(3, snapshot="s3", alarms=[]), NOW)
    assert not hv.alarms.get("lum/a1").active


def test_acks_are_kept_for_the_command_tracker(hv):
    hv.handle(Ack(**env("ack", 2), command_id="c1", status="accepted"), NOW)
    assert [a.command_id for a in hv.acks] == ["c1"]


def test_lighting_kpis(hv):
    hv.handle(telemetry(2, LightingReading(asset="lamp-0", status="defectiveLamp", powerState="off", powerConsumption=0.5),
                        LightingReading(asset="lamp-1", illuminanceLevel=0.5, powerConsumption=50.0)), NOW)
    hv.tick(NOW)
    k = {x["key"]: x for x in hv.kpis()["lighting"]}
    assert k["lamps_in_service_pct"]["value"] == pytest.approx(66.67)
    assert k["lamps_in_service_pct"]["abnormal"] is True
    assert k["power_kw"]["value"] == pytest.approx(0.15, abs=0.01)
    assert k["dimming_savings_pct"]["value"] == pytest.approx(25.0, abs=0.5)  # 150 W of 200 W rated on


def test_energy_integrates_power_over_the_domain_clock_and_resets_at_local_midnight():
    m = EnergyMeter("Europe/Paris")
    t = datetime(2026, 11, 25, 21, 0, tzinfo=timezone.utc).timestamp()  # 22:00 in Paris
    m.add(t, 100.0)
    assert m.add(t + 3600, 100.0) == pytest.approx(100.0)  # 1 h at 100 kW
    assert m.add(t + 7200 + 60, 100.0) < 5.0  # past 00:00 Paris: a new day


def test_energy_today_carries_what_was_drawn_before_the_meter_started_that_day_only():
    m = EnergyMeter("Europe/Paris")
    t = datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc).timestamp()  # 15:00 in Paris: a restart mid-day
    m.set_before(date(2026, 11, 25), 800.0)
    m.add(t, 100.0)
    assert m.add(t + 3600, 100.0) == pytest.approx(900.0)  # 800 kWh before the restart + 1 h at 100 kW
    assert m.add(t + 10 * 3600, 100.0) < 5.0  # the next day starts from nothing: the carry was that day's


def test_a_core_told_the_energy_before_its_start_shows_it_in_energy_today():
    hv = Hypervisor()
    hv.energy_before(NOW_DAY, 1234.5)
    hv.handle(lighting_state(3), NOW)
    hv.tick(NOW)
    k = {x["key"]: x["value"] for x in hv.kpis()["lighting"]}
    assert k["energy_today_kwh"] == pytest.approx(1234.5)


def test_energy_today_says_history_is_being_prepared_instead_of_a_figure_that_will_jump():
    hv = Hypervisor()
    hv.energy_history_pending(True)
    hv.handle(lighting_state(3), NOW)
    hv.tick(NOW)
    (k,) = [x for x in hv.kpis()["lighting"] if x["key"] == "energy_today_kwh"]
    assert (k["value"], k["note"]) == (None, "preparing")
    hv.energy_before(NOW_DAY, 1234.5)
    hv.energy_history_pending(False)
    hv.tick(NOW + 1)
    (k,) = [x for x in hv.kpis()["lighting"] if x["key"] == "energy_today_kwh"]
    assert k["value"] == pytest.approx(1234.5, abs=1) and "note" not in k


def test_water_and_traffic_kpis():
    hv = Hypervisor()
    wdefs = [AssetDef(id="p1", type="Device", props={"measures": "pressure"}), AssetDef(id="p2", type="Device"),
             AssetDef(id="r1", type="Reservoir", props={"capacity": 10000.0, "maxLevel": 10.0})]
    hv.handle(State[WaterReading](**env("state", 1, "water", "eau"), snapshot="w", assets=wdefs,
                                  readings=[WaterReading(asset="p1", pressure=3.0), WaterReading(asset="p2", pressure=0.5),
                                            WaterReading(asset="r1", level=5.0, flow=500.0)]), NOW)
    tdefs = [AssetDef(id="s1", type="RoadSegment", props={"length": 100.0}), AssetDef(id="s2", type="RoadSegment", props={"length": 300.0})]
    hv.handle(State[TrafficReading](**env("state", 1, "traffic", "tra"), snapshot="t", assets=tdefs,
                                    readings=[TrafficReading(asset="s1", averageVehicleSpeed=50.0, intensity=100.0, congested=False),
                                              TrafficReading(asset="s2", averageVehicleSpeed=10.0, intensity=300.0, congested=True)]), NOW)
    events = hv.tick(NOW)
    assert KpisChanged("water") in events and KpisChanged("traffic") in events
    w = {x["key"]: x["value"] for x in hv.kpis()["water"]}
    t = {x["key"]: x["value"] for x in hv.kpis()["traffic"]}
    assert w["pressure_compliance_pct"] == 50.0 and w["reservoir_autonomy_h"] == 10.0
    assert hv.state.get("p2").condition is Condition.WARNING
    assert t["mean_speed_kmh"] == 20.0 and t["congestion_index_pct"] == 75.0


def test_kpi_history_samples_on_the_domain_clock(hv):
    for minute in range(0, 5):
        at = T0 + timedelta(minutes=minute)
        hv.handle(telemetry(2 + minute, LightingReading(asset="lamp-0", powerConsumption=float(10 + minute)), at=at), NOW)
        hv.tick(NOW)
    assert len(hv.kpi_history.series("lighting", "power_kw")) == 5


def test_summary_counts_alarms_by_priority_and_unacknowledged(hv):
    evs = [AlarmEvent(id=f"a{i}", asset="lamp-0", action="raise", severity=s, code="c") for i, s in enumerate(["critical", "major", "minor"])]
    hv.handle(Alarm(**env("alarm", 2), events=evs), NOW)
    hv.acknowledge("lum/a0", "op", NOW)
    s = hv.summary(NOW)
    assert s["alarms_by_priority"] == {"urgent": 1, "high": 1, "low": 1, "diagnostic": 0}
    assert s["unacknowledged"] == 2 and s["supervisors"]["live"] == 1


def test_a_supervisor_cannot_take_over_another_supervisors_asset(hv):
    intruder = State[LightingReading](**env("state", 1, sup="intruder"), snapshot="x", assets=[lamp(0)])
    hv.handle(intruder, NOW)
    assert hv.state.get("lamp-0").supervisor == "lum"


def test_the_alarm_vigie_raises_for_a_silent_supervisor_speaks_the_sites_language() -> None:
    from services.core.hypervisor import STALE_TEXT

    assert STALE_TEXT["fr"].format(supervisor="eau-mtp", seconds=60.0) == "Superviseur eau-mtp muet depuis plus de 60 s"
    assert STALE_TEXT["en"].format(supervisor="eau-mtp", seconds=60.0) == "Supervisor eau-mtp silent for more than 60 s"
