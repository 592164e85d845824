"""The street-lighting simulator on Montpellier's 29,969 real light supports."""
from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from services.contract import Ack, Alarm, Codec, Command, LightingReading, Rejection, State, Telemetry, encode
from services.simulators import build
from services.simulators.lighting import LightingSim
from services.simulators.lighting_world import LAMP_TYPES, build_world
from services.territory.geo import communes, districts, lamp_sites, road_sites

TZ = ZoneInfo("Europe/Paris")
CODEC = Codec()
REFS = {"cabinet", "group", "street", "district", "commune"}
_ids = itertools.count(1)


class QuietSim(LightingSim):
    """The simulator without random faults, trips or chatter: only what a test does happens."""

    lamp_failures_per_day = 0.0
    cabinet_trips_per_day = 0.0
    chattering_lamps = 0


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=TZ)


def decode(out: list[tuple[str, bytes]]) -> list:
    msgs = [CODEC.decode(channel, payload) for channel, payload in out]
    assert not [m for m in msgs if isinstance(m, Rejection)]
    return msgs


def run(sim: LightingSim, steps: int = 1) -> list:
    return [m for _ in range(steps) for m in decode(sim.step())]


def readings(msgs: list) -> dict[str, LightingReading]:
    return {r.asset: r for m in msgs if isinstance(m, Telemetry) for r in m.readings}


def events(msgs: list, code: str | None = None) -> list:
    return [e for m in msgs if isinstance(m, Alarm) for e in m.events if code is None or e.code == code]


def command(sim: LightingSim, action: str, targets: list[str], **params) -> Ack:
    cmd = Command(domain="lighting", supervisor=sim.supervisor_id, ts=sim.now, command_id=f"c{next(_ids)}", action=action, targets=targets, params=params)
    (ack,) = decode(sim.handle_command(encode(cmd)))
    return ack


def command_done(sim: LightingSim, action: str, targets: list[str], **params) -> tuple[Ack, list]:
    """Send a command, then step once: return the final ack and the step's other messages."""
    assert command(sim, action, targets, **params).status == "accepted"
    msgs = run(sim)
    (ack,) = [m for m in msgs if isinstance(m, Ack)]
    return ack, msgs


def lamps_of(sim: LightingSim, target: str) -> list[str]:
    return [sim.world.lamp_ids[i] for i in sim.world.targets[target]]


@pytest.fixture(scope="module")
def world():
    return build_world("montpellier")


# --- the world ------------------------------------------------------------------------------


def test_every_real_light_support_is_a_streetlight(world) -> None:
    kinds = Counter(a.type for a in world.assets)
    assert kinds["Streetlight"] == len(world.lamp_ids) == 29_969
    assert 750 <= kinds["StreetlightControlCabinet"] <= 850
    assert len(world.group_ids) == len(districts())


def test_lamp_ids_follow_the_inventory_order(world) -> None:
    first, last = lamp_sites()[0], lamp_sites()[-1]
    assert world.assets[0].id == "lamp-00001" and world.assets[0].geometry.coordinates == (first.lon, first.lat)
    assert world.assets[29_968].id == "lamp-29969" and world.assets[29_968].geometry.coordinates == (last.lon, last.lat)


def test_every_lamp_has_its_five_relations_and_a_readable_name(world) -> None:
    known = {
        "cabinet": set(world.cabinet_ids), "group": set(world.group_ids), "district": {a.id for a in districts()},
        "commune": {a.id for a in communes()}, "street": {f"street-{r.street_code}" for r in road_sites()},
    }
    for lamp in world.assets[:29_969]:
        assert set(lamp.refs) == REFS
        assert all(lamp.refs[k] in known[k] for k in REFS), lamp
        assert re.match(r"^[A-Z][\w' é]+ \d{5}, \S", lamp.name), lamp.name
        assert lamp.props["powerRating"] == LAMP_TYPES[lamp.props["lampType"]][0]


@pytest.mark.parametrize(("lamp_type", "watts"), [("LANTERNE", 100), ("LUMINAIRE AMBIANCE", 70), ("PROJECTEUR", 250), ("ENCASTRE", 35), ("BORNE COLONNE", 40)])
def test_power_rating_follows_the_lamp_type(world, lamp_type: str, watts: float) -> None:
    assert {a.props["powerRating"] for a in world.assets[:29_969] if a.props["lampType"] == lamp_type} == {watts}


def test_cabinets_group_30_to_40_neighbouring_lamps_and_sit_at_their_centroid(world) -> None:
    sizes = [len(lamps) for lamps in world.cabinet_lamps]
    assert sum(30 <= s <= 40 for s in sizes) / len(sizes) > 0.95
    sites = lamp_sites()
    for n, lamps in enumerate(world.cabinet_lamps):
        cabinet = world.assets[29_969 + n]
        lon, lat = np.mean([sites[i].lon for i in lamps]), np.mean([sites[i].lat for i in lamps])
        assert cabinet.geometry.coordinates == pytest.approx((lon, lat), abs=1e-6)
        assert max(abs(sites[i].lat - lat) for i in lamps) < 0.02  # within ~2 km: a neighbourhood
        assert cabinet.props["lamps"] == len(lamps) and {"district", "commune"} <= set(cabinet.refs)


def test_a_lamps_street_is_the_nearest_road(world) -> None:
    roads, sites = road_sites(), lamp_sites()
    edges = [(a, b, f"street-{r.street_code}") for r in roads for a, b in zip(r.coords, r.coords[1:])]
    a, b = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    k = np.cos(np.radians(43.61))
    for i in range(0, 29_969, 997):  # brute force over every road edge for a sample of lamps
        p = np.array([sites[i].lon, sites[i].lat])
        d = (b - a) * [k, 1]
        t = np.clip((((p - a) * [k, 1]) * d).sum(1) / np.maximum((d * d).sum(1), 1e-18), 0, 1)
        dist = np.hypot(*((a + t[:, None] * (b - a) - p) * [k, 1]).T)
        nearest = {edges[j][2] for j in np.flatnonzero(dist <= dist.min() + 1e-7)}
        assert world.assets[i].refs["street"] in nearest


def test_targets_expand_through_the_relations(world) -> None:
    lamp = world.assets[123]
    for ref in REFS:
        assert 123 in world.targets[lamp.refs[ref]]
    assert sum(len(world.targets[d.id]) for d in districts()) == 29_969


# --- the schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "level", "power_state"),
    [("2026-06-21T12:00", 0.0, "off"), ("2026-06-21T21:00", 0.0, "off"), ("2026-06-21T21:45", 1.0, "on"),
     ("2026-06-21T23:30", 0.5, "low"), ("2026-06-22T04:30", 0.5, "low"), ("2026-06-22T05:30", 1.0, "on"),
     ("2026-06-22T06:30", 0.0, "off"), ("2026-12-21T17:30", 1.0, "on"), ("2026-12-22T07:45", 1.0, "on"), ("2026-12-22T08:30", 0.0, "off")],
)
def test_lamps_follow_dusk_dimming_and_dawn(local: str, level: float, power_state: str) -> None:
    sim = QuietSim("lum", seed=1, start=at(local))
    lamps = [r for r in sim.current_readings() if r.asset.startswith("lamp-")]
    assert len(lamps) == 29_969
    assert {(r.illuminanceLevel, r.powerState, r.controlMode) for r in lamps} == {(level, power_state, "schedule")}


def test_dusk_switches_every_lamp_on_in_one_step_then_only_changes_are_reported() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T21:28:00"))
    lit_at = None
    for _ in range(12):
        lamps = {k: r for k, r in readings(run(sim)).items() if k.startswith("lamp-")}
        if lamps:
            assert len(lamps) == 29_969 and {r.powerState for r in lamps.values()} == {"on"}
            lit_at = sim.now
            break
    assert lit_at is not None and abs(lit_at - at("2026-06-21T21:29:29")) <= timedelta(seconds=10)
    assert not [k for k in readings(run(sim, 5)) if k.startswith("lamp-")]


def test_cabinets_report_their_lamps_power_every_minute() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))
    per_step = [readings(run(sim)) for _ in range(6)]
    cabinets = {k: r for step in per_step for k, r in step.items() if k.startswith("cabinet-")}
    assert len(cabinets) == len(sim.world.cabinet_ids)
    lamps = {r.asset: r for r in sim.current_readings()}
    for n, cabinet_id in enumerate(sim.world.cabinet_ids[:50]):
        total = sum(lamps[sim.world.lamp_ids[i]].powerConsumption for i in sim.world.cabinet_lamps[n])
        assert cabinets[cabinet_id].powerConsumption == pytest.approx(total, abs=0.05)
        assert (cabinets[cabinet_id].status, cabinets[cabinet_id].powerState) == ("ok", "on")


def test_set_schedule_changes_one_groups_dimming() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:30"))
    ack, msgs = command_done(sim, "set_schedule", ["group-district-5"], dim_level=20, dim_from="22:00", dim_to="06:00")
    assert ack.status == "applied" and ack.applied == ["group-district-5"]
    changed = {k: r for k, r in readings(msgs).items() if k.startswith("lamp-")}
    assert set(changed) == set(lamps_of(sim, "group-district-5"))
    assert {r.illuminanceLevel for r in changed.values()} == {0.2}
    group = next(a for a in sim.asset_defs() if a.id == "group-district-5")
    assert (group.props["dimLevel"], group.props["dimFrom"], group.props["dimTo"]) == (20, "22:00", "06:00")


# --- commands -------------------------------------------------------------------------------


def test_dimming_lowers_the_power_of_the_lamps_and_their_cabinet() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))
    run(sim, 6)
    before = {r.asset: r for r in sim.current_readings()}
    ack, msgs = command_done(sim, "set_dimming", ["cabinet-010"], level=30)
    assert ack.status == "applied" and sorted(ack.applied) == sorted(lamps_of(sim, "cabinet-010"))
    after = readings(msgs)
    for lamp_id in ack.applied:
        rating = sim.world.lamp_rating[int(lamp_id[5:]) - 1]
        assert after[lamp_id].illuminanceLevel == 0.3 and after[lamp_id].powerState == "low"
        assert after[lamp_id].powerConsumption == pytest.approx(0.3 * rating, rel=0.05)
        assert after[lamp_id].controlMode == "manual" and after[lamp_id].overrideUntil is None
    assert after["cabinet-010"].powerConsumption < 0.4 * before["cabinet-010"].powerConsumption


def test_an_override_expires_and_the_lamps_return_to_their_schedule() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))
    street = sim.world.assets[500].refs["street"]
    ack, msgs = command_done(sim, "switch", [street], on=False, override_s=600)
    assert ack.status == "applied"
    off = readings(msgs)
    for lamp_id in lamps_of(sim, street):
        assert (off[lamp_id].powerState, off[lamp_id].controlMode) == ("off", "override")
        assert off[lamp_id].overrideUntil == sim.now + timedelta(seconds=600)
    back = readings(run(sim, 60))
    for lamp_id in lamps_of(sim, street):
        assert (back[lamp_id].powerState, back[lamp_id].controlMode, back[lamp_id].overrideUntil) == ("on", "schedule", None)


def test_a_permanent_command_holds_until_release() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T12:00"))
    ack, _ = command_done(sim, "switch", ["lamp-00042"], on=True)
    assert ack.status == "applied"
    run(sim, 360)  # an hour later, in daylight
    lamp = next(r for r in sim.current_readings() if r.asset == "lamp-00042")
    assert (lamp.powerState, lamp.controlMode) == ("on", "manual")
    ack, msgs = command_done(sim, "release", ["lamp-00042"])
    assert ack.status == "applied" and readings(msgs)["lamp-00042"].powerState == "off"
    assert readings(msgs)["lamp-00042"].controlMode == "schedule"


REJECTED = [
    ("set_dimming", ["lamp-00001"], {"level": 140}, "from 0 to 100"),
    ("set_dimming", ["lamp-00001"], {"level": "high"}, "level must be a number"),
    ("set_dimming", ["lamp-00001"], {"level": True}, "level must be a number"),
    ("set_dimming", ["lamp-00001"], {}, "needs a level"),
    ("set_dimming", ["lamp-00001"], {"level": 50, "override_s": -5}, "override_s"),
    ("switch", ["lamp-00001"], {"on": "yes"}, "true or false"),
    ("release", ["lamp-00001"], {"level": 10}, "unexpected parameter 'level'"),
    ("explode", ["lamp-00001"], {}, "unknown action 'explode'"),
    ("switch", ["lamp-99999"], {"on": True}, "unknown target 'lamp-99999'"),
    ("switch", [], {"on": True}, "no target"),
    ("set_schedule", ["lamp-00001"], {"dim_level": 30}, "schedule groups"),
    ("set_schedule", ["group-district-1"], {"dim_from": "25:00"}, "HH:MM"),
    ("set_schedule", ["group-district-1"], {"dim_level": 101}, "dim_level"),
]


@pytest.fixture(scope="module")
def night_sim() -> QuietSim:
    return QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))


@pytest.mark.parametrize(("action", "targets", "params", "reason"), REJECTED, ids=[r[3] for r in REJECTED])
def test_bad_commands_are_rejected_with_a_reason(night_sim: QuietSim, action: str, targets: list[str], params: dict, reason: str) -> None:
    ack = command(night_sim, action, targets, **params)
    assert ack.status == "rejected" and reason in ack.reason
    assert not [m for m in run(night_sim) if isinstance(m, Ack)]  # nothing left to apply


def test_a_lamp_that_cannot_obey_makes_the_ack_partial() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))
    street = next(s for s, lamps in sim.world.targets.items() if s.startswith("street-") and len(lamps) > 3)
    broken = lamps_of(sim, street)[0]
    sim.fail_lamp(broken, "brokenLantern")
    ack, _ = command_done(sim, "set_dimming", [street], level=40, override_s=300)
    assert ack.status == "partial" and ack.failed == [broken] and broken not in ack.applied
    assert "could not obey" in ack.reason


# --- faults ---------------------------------------------------------------------------------


def test_a_cabinet_trip_darkens_its_lamps_and_floods_lamp_off_until_reset() -> None:
    sim = QuietSim("lum", seed=1, start=at("2026-06-21T22:00"))
    cabinet, lamps = "cabinet-020", lamps_of(sim, "cabinet-020")
    sim.trip_cabinet(cabinet, reset_after_s=1800)
    msgs = run(sim)
    (trip,) = events(msgs, "cabinet_trip")
    assert (trip.asset, trip.action, trip.severity) == (cabinet, "raise", "major")
    flood = events(msgs, "lamp_off")
    assert sorted(e.asset for e in flood) == sorted(lamps) and {(e.action, e.severity) for e in flood} == {("raise", "minor")}
    dark = readings(msgs)
    assert {(dark[i].powerState, dark[i].status, dark[i].powerConsumption) for i in lamps} == {("off", "tripped", 0.0)}
    assert (dark[cabinet].status, dark[cabinet].powerState, dark[cabinet].powerConsumption) == ("tripped", "off", 0.0)
    ack, _ = command_done(sim, "switch", [cabinet], on=True)
    assert ack.status == "failed" and sorted(ack.failed) == sorted(lamps)
    msgs = run(sim, 180)
    assert [(e.asset, e.action) for e in events(msgs, "cabinet_trip")] == [(cabinet, "clear")]
    assert sorted(e.asset for e in events(msgs, "lamp_off") if e.action == "clear") == sorted(lamps)
    assert {readings(msgs)[i].powerState for i in lamps} == {"on"}


def test_a_daytime_trip_raises_no_lamp_off_and_resets_within_20_to_60_minutes() -> None:
    sim = QuietSim("lum", seed=3, start=at("2026-06-21T12:00"))
    sim.trip_cabinet("cabinet-001")
    msgs = run(sim, 6 * 61)
    assert not events(msgs, "lamp_off")
    trip = events(msgs, "cabinet_trip")
    assert [e.action for e in trip] == ["raise", "clear"]
    assert timedelta(minutes=20) <= trip[1].ts - trip[0].ts <= timedelta(minutes=60, seconds=10)


def test_lamps_fail_and_get_repaired_over_a_day() -> None:
    class Hourly(LightingSim):
        step_s = 120.0  # a day in 720 steps
        cabinet_report_s = 3600.0

    sim = Hourly("lum", seed=7, start=at("2026-06-21T12:00"))
    msgs = run(sim, 720)
    faulty = sum(f != "ok" for f in sim.fault) / len(sim.fault)
    assert 0.01 <= faulty <= 0.02
    raised = Counter(e.action for e in events(msgs, "lamp_fault") if int(e.asset[5:]) - 1 not in sim.chatter)
    assert raised["raise"] > 150 and raised["clear"] > 50
    assert events(msgs, "cabinet_trip")
    assert {e.severity for e in events(msgs, "lamp_fault")} == {"minor"}


def test_a_few_lamps_chatter_several_times_a_minute() -> None:
    sim = LightingSim("lum", seed=1, start=at("2026-06-21T12:00"))
    msgs = run(sim, 30)  # five minutes
    chatter = Counter(e.asset for e in events(msgs, "lamp_fault") if int(e.asset[5:]) - 1 in sim.chatter)
    assert len(chatter) == len(sim.chatter) > 0
    assert min(chatter.values()) >= 2 * 5


# --- the contract ---------------------------------------------------------------------------


def test_same_seed_and_start_give_byte_identical_messages() -> None:
    def transcript(seed: int, steps: int) -> list[bytes]:
        sim = build("lighting", seed=seed, start=at("2026-06-21T21:25"))
        out = []
        for n in range(steps):  # through dusk (21:29:29), with faults, chatter and a command
            if n == 10:
                out += [p for _, p in sim.handle_command(encode(Command(
                    domain="lighting", supervisor=sim.supervisor_id, ts=sim.now, command_id="same", action="set_dimming",
                    targets=["district-5"], params={"level": 70, "override_s": 120})))]
            out += [p for _, p in sim.step()]
        return out

    first = transcript(11, 60)
    assert first == transcript(11, 60)
    assert first[:40] != transcript(12, 15)[:40]


def test_every_payload_decodes_state_included() -> None:
    sim = build("lighting", seed=5, start=at("2026-06-21T21:29"), supervisor_id="lum-test")
    sim.trip_cabinet("cabinet-100")
    out = sim.state()
    for _ in range(12):
        out += sim.step()
    out += sim.heartbeat(120.0)
    msgs = decode(out)
    parts = [m for m in msgs if isinstance(m, State)]
    assert sum(len(p.assets) for p in parts) == 29_969 + len(sim.world.cabinet_ids) + len(sim.world.group_ids)
    assert sum(len(p.readings) for p in parts) == 29_969 + len(sim.world.cabinet_ids)
    assert any(a.code == "cabinet_trip" for a in parts[-1].alarms)
    assert {m.kind for m in msgs} >= {"state", "telemetry", "alarm", "heartbeat"}
