"""The pieces of an exercise: scenario files, what the sandbox takes over, its messages, the session's command log."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.commands.store import CommandFilter
from services.contract import Alarm, AlarmEvent, Heartbeat, LightingReading, State, Telemetry
from services.core import Hypervisor
from services.replay.engine import MemoryCommandStore, handle_unsequenced
from services.replay.sandbox import Sandbox
from services.replay.debrief import Watched, debrief
from services.replay.scenario import (
    SCENARIO_DIR, ScenarioError, list_scenarios, load_scenario, offset_s, parse_scenario, reference_of,
)
from tests.replay_world import T0, MiniWorld

AT = datetime.fromtimestamp(T0, timezone.utc)


@pytest.mark.parametrize("raw, seconds", [
    (0, 0.0), (90, 90.0), (12.5, 12.5), ("05:00", 300.0), ("1:02:03", 3723.0), ("00:00:30", 30.0),
    ("90s", 90.0), ("5m", 300.0), ("5 min", 300.0), ("1.5h", 5400.0),
])
def test_offsets_are_written_as_people_write_them(raw, seconds):
    assert offset_s(raw) == seconds


@pytest.mark.parametrize("raw", ["soon", "5 days", True, "1:2", "-5m"])
def test_an_offset_that_means_nothing_is_refused(raw):
    with pytest.raises(ScenarioError):
        offset_s(raw)


@pytest.mark.parametrize("text, why", [
    ("just a line", "mapping"),
    ("name: x\nevents: [{at: 10, event: meteor}]", "meteor"),
    ("name: x\nevents: [{at: 10, event: pipe_burst, minutes: 0}]", "minutes"),
    ("name: x\nevents: [{at: 10, event: pipe_burst, target: '<b>'}]", "target"),
    ("name: x\nevents: [{at: 10, event: cabinet_trip, colour: red}]", "colour"),
    ("name: x\nstart: 2026-06-21T20:00:00+02:00\nend: 2026-06-21T18:00:00+02:00", "end must come after start"),
    ("name: x\nreference: ../../etc/passwd", "reference"),
    ("name: x\nspeed: 120", "speed"),
])
def test_a_wrong_scenario_says_what_is_wrong(text, why):
    with pytest.raises(ScenarioError, match=why):
        parse_scenario(text)


def test_the_example_scenarios_read():
    found = list_scenarios()
    assert found and all("error" not in s for s in found), found
    for s in found:
        scenario = load_scenario(s["file"])
        assert scenario.events and [e.at for e in scenario.events] == sorted(e.at for e in scenario.events)
    assert {e.event for s in found for e in load_scenario(s["file"]).events} == {
        "pipe_burst", "cabinet_trip", "traffic_incident", "supervisor_silent"}
    with pytest.raises(ScenarioError):
        load_scenario("../settings.py", SCENARIO_DIR)


def lighting_core() -> Hypervisor:
    from services.contract import Codec

    core, codec = Hypervisor(), Codec()
    for ch, payload in MiniWorld().states(T0):
        core.handle(codec.decode(ch, payload), T0)
    return core


def sandbox(core: Hypervisor) -> Sandbox:
    return Sandbox(seed=1, territory="montpellier", timezone="Europe/Paris", now=T0, core_of=lambda: core)


def telemetry(*assets: str, seq: int = 5) -> Telemetry:
    return Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor="lum-t", ts=AT, seq=seq,
                                      readings=[LightingReading(asset=a, powerConsumption=1.0) for a in assets])


def test_recorded_readings_and_alarms_of_owned_assets_are_set_aside():
    box = sandbox(lighting_core())
    box.own("lighting", ["lamp-1", "group-d1"])
    assert "lamp-11" in box.owned["lighting"]  # a group's lamps come with it
    kept = box.filter(telemetry("lamp-1", "cab-1"), T0)
    assert [r.asset for r in kept.readings] == ["cab-1"] and kept.seq == 5  # the message stays: no sequence gap
    alarm = Alarm(v=1, kind="alarm", domain="lighting", supervisor="lum-t", ts=AT, seq=6, events=[
        AlarmEvent(id="a", asset="lamp-1", action="raise", code="lamp_fault"), AlarmEvent(id="b", asset="cab-1", action="raise", code="x")])
    assert [e.id for e in box.filter(alarm, T0).events] == ["b"]
    assert box.filter(telemetry("cab-2"), T0).readings[0].asset == "cab-2"


def test_a_recorded_state_keeps_the_alarms_the_sandbox_raised():
    box = sandbox(lighting_core())
    box.own("lighting", ["lamp-1"])
    box._route(Alarm(v=1, kind="alarm", domain="lighting", supervisor="lum-t", ts=AT, seq=1,
                     events=[AlarmEvent(id="lamp_off:lamp-1", asset="lamp-1", action="raise", code="lamp_off")]))
    state = State[LightingReading](v=1, kind="state", domain="lighting", supervisor="lum-t", ts=AT, seq=9, snapshot="s2",
                                   readings=[LightingReading(asset="lamp-1", status="ok"), LightingReading(asset="lamp-2", status="ok")],
                                   alarms=[AlarmEvent(id="x", asset="lamp-1", action="raise", code="lamp_fault")])
    kept = box.filter(state, T0)
    assert [r.asset for r in kept.readings] == ["lamp-2"]
    assert [e.id for e in kept.alarms] == ["lamp_off:lamp-1"]


def test_a_silent_supervisor_says_nothing_until_its_silence_ends():
    box = sandbox(lighting_core())
    box.silent["lum-t"] = T0 + 60
    hb = Heartbeat(v=1, kind="heartbeat", domain="lighting", supervisor="lum-t", ts=AT, seq=3)
    assert box.filter(hb, T0 + 59) is None
    assert box.filter(hb, T0 + 60) is hb
    box.take(T0 + 61)
    assert "lum-t" not in box.silent


def test_the_sandbox_takes_commands_for_known_channels_only(monkeypatch):
    box = sandbox(lighting_core())
    assert box.publish("sup.lighting.lum-t.telemetry", b"{}") == 0
    assert box.publish("cmd.sewers.x", b"{}") == 0


def test_a_sandbox_message_leaves_the_recorded_sequence_alone():
    core = lighting_core()
    before = core.health.get("lum-t").seq
    events = handle_unsequenced(core, telemetry("lamp-3", seq=1), T0 + 1)
    assert events and core.state.get("lamp-3").values["powerConsumption"] == 1.0
    assert core.health.get("lum-t").seq == before and core.health.get("lum-t").gaps == 0


def test_the_session_command_log_keeps_the_newest_version():
    store = MemoryCommandStore()
    doc = {"id": "c1", "rev": 2, "requested_at": T0, "domain": "lighting", "status": "applied", "user": "ana", "action": "switch",
           "supervisor": "lum-t", "label": "d1", "targets": ["d1"], "feedback": {}, "actual": {}}
    assert store.save([doc]) == 1
    assert store.save([{**doc, "rev": 1, "status": "sent"}]) == 0
    assert store.get("c1")["status"] == "applied"
    assert store.query(CommandFilter(domain="lighting"))[0] == 1 and store.query(CommandFilter(domain="water"))[0] == 0
    assert store.recent(T0 + 1) == [] and store.all() == [store.get("c1")]


def test_the_debrief_compares_a_trainee_with_the_scenario_s_reference_run():
    reference = reference_of(load_scenario("autoroute_bloquee.yaml"))
    incident = Watched("trafic-mtp/seg-21222:incident", "high", "traffic", "incident", "seg-21222", "Incident", T0, acked_at=T0 + 95,
                       acked_by="stagiaire")
    trip = Watched("lum-mtp/cabinet_trip:cabinet-001", "high", "lighting", "cabinet_trip", "cabinet-001", "Disjonction", T0 + 240)
    report = debrief(session={"name": "essai"}, watched={w.id: w for w in (incident, trip)}, commands=[], injections=[], actions=[],
                     reference=reference, on_duty={}, now=T0 + 600)
    rows = {r["id"]: r for r in report["alarms"]}
    assert rows[incident.id]["time_to_ack_s"] == 95 and rows[incident.id]["reference_s"] == 30
    assert report["unacknowledged"] == [trip.id]
    cmp = report["comparison"]["reference"]
    assert (cmp["slower"], cmp["faster"]) == (1, 0) and cmp["median_s"] == 41
    assert cmp["commands_missing"] == [{"action": "close_segment", "label": "Autoroute A9 La Languedocienne"}]
