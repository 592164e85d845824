"""Flood control, chattering and shelving on the real stack fed by the real simulators over redis-server."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import redis

from services.alarms.actions import ShelveParams
from services.core.alarm_record import AlarmPolicy
from services.runtime import start_services
from services.settings import Settings
from services.simulators import build

pytestmark = pytest.mark.integration
NIGHT = datetime(2026, 1, 15, 21, 0, tzinfo=timezone.utc)  # 22:00 in Montpellier: the lamps are lit


def wait_until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def runtime(redis_url, tmp_path):
    rt = start_services(Settings(redis_url=redis_url, state_dir=tmp_path, run_simulators=False, snapshot_interval_s=0.5))
    yield rt
    rt.stop()


def publish(client: redis.Redis, messages) -> None:
    pipe = client.pipeline(transaction=False)
    for channel, payload in messages:
        pipe.publish(channel, payload)
    pipe.execute()


def book_read(rt, fn):
    """Read the alarm book on the engine thread."""
    return rt.engine.execute(lambda core, now: (fn(core.alarms), []))


def feed(rt, sim) -> redis.Redis:
    client = redis.Redis.from_url(rt.redis_url)
    publish(client, sim.state())
    n = len(sim.asset_defs())
    wait_until(lambda: len(rt.reader.assets_geo(sim.domain)) == n, what=f"{n} {sim.domain} assets")
    return client


def codes_raised(messages, code: str) -> set[str]:
    from services.contract import Codec

    codec, out = Codec(), set()
    for channel, payload in messages:
        msg = codec.decode(channel, payload)
        if getattr(msg, "kind", "") == "alarm":
            out |= {e.id for e in msg.events if e.code == code and e.action == "raise"}
    return out


def test_a_cabinet_trip_shows_one_parent_with_its_lamps_suppressed_under_it(runtime):
    sim = build("lighting", seed=7, start=NIGHT)
    client = feed(runtime, sim)
    cabinet = max(sim.world.cabinet_ids, key=lambda c: len(sim.world.cabinet_lamps[sim.world.cabinet_ids.index(c)]))
    sim.trip_cabinet(cabinet, reset_after_s=3600)
    out = sim.step()
    lamps_off = {f"{sim.supervisor_id}/{a}" for a in codes_raised(out, "lamp_off")}
    assert len(lamps_off) > 20
    publish(client, out)
    parent_id = f"{sim.supervisor_id}/cabinet_trip:{cabinet}"
    wait_until(lambda: (book_read(runtime, lambda b: b.get(parent_id).children if b.get(parent_id) else 0)) == len(lamps_off),
               what="every lamp-off alarm grouped under the cabinet")
    children = book_read(runtime, lambda b: [(c.id, str(c.state), c.parent) for c in b.children(parent_id)])
    assert {c[0] for c in children} == lamps_off
    assert {(c[1], c[2]) for c in children} == {("suppressed", parent_id)}
    unacked = {a["id"] for a in runtime.reader.alarms(active_only=False) if a["state"] in ("active_unack", "rtn_unack")}
    assert parent_id in unacked and not unacked & lamps_off  # the operator is shown the cause, not the flood
    assert runtime.reader.summary()["alarms_held"]["suppressed"] >= len(lamps_off)


def test_a_pump_trip_hides_the_low_pressure_alarms_of_its_zone(runtime):
    sim = build("water", seed=3, start=NIGHT)
    client = feed(runtime, sim)
    pump = next(a for a in sim.asset_defs() if a.type == "Pump")
    sim.trip_pump(pump.id, duration_s=3600)
    out = []
    for _ in range(4):
        out += sim.step()
    low = {f"{sim.supervisor_id}/{a}" for a in codes_raised(out, "low_pressure")}
    assert low
    publish(client, out)
    parent_id = f"{sim.supervisor_id}/{pump.id}:pump_fault"
    wait_until(lambda: book_read(runtime, lambda b: {c.id for c in b.children(parent_id)}) == low, what="low pressure under the pump")


def test_an_incident_reaches_the_operator_and_the_congestion_around_it_is_an_event_only(runtime):
    """Rationalised (services/alarms/rationalisation.yaml): congestion is recorded, never an alarm; the incident is."""
    sim = build("traffic", seed=5, start=datetime(2026, 1, 15, 7, 30, tzinfo=timezone.utc))  # 08:30, the morning peak
    client = feed(runtime, sim)
    busiest = max(sim.segments, key=lambda s: s.daily if len(s.neighbours) >= 2 else 0)
    sim.start_incident(busiest.id, 60)
    out = []
    for _ in range(4):
        out += sim.step()
    publish(client, out)
    parent_id = f"{sim.supervisor_id}/{busiest.id}:incident"
    caused = {f"{sim.supervisor_id}/{a}" for a in codes_raised(out, "congestion")
              if a.split(":")[0] in set(sim.neighbours(busiest.id))}
    assert caused
    wait_until(lambda: book_read(runtime, lambda b: b.events_only.get("congestion", 0)) >= len(caused), what="congestion recorded")
    assert book_read(runtime, lambda b: [b.get(a) for a in caused]) == [None] * len(caused)
    incident = book_read(runtime, lambda b: b.get(parent_id))
    assert incident is not None and str(incident.state) == "active_unack" and incident.alarm_class == "operator"


def test_a_chattering_lamp_is_flagged_as_maintenance_and_not_in_the_operators_figures(runtime):
    sim = build("lighting", seed=11, start=NIGHT)
    client = feed(runtime, sim)
    chatter_ids = {f"{sim.supervisor_id}/lamp_fault:{sim.world.lamp_ids[i]}" for i in sim.chatter}
    for _ in range(16):  # 16 steps of 10 s, published within a few seconds of Vigie's clock
        publish(client, sim.step())
    wait_until(lambda: book_read(runtime, lambda b: [aid for aid in chatter_ids if aid in b.chatter.flagged]),
               what="a chattering lamp flagged")
    flagged = book_read(runtime, lambda b: [(b.get(a).chattering, b.get(a).alarm_class) for a in b.chatter.flagged if b.get(a)])
    assert flagged and all(f == (True, "maintenance") for f in flagged)  # an intermittent contact: the work order says so
    assert runtime.reader.summary()["alarm_kpis"]["chattering"] == 0  # never presented to the operator


def test_a_shelved_alarm_comes_back_when_its_shelf_time_is_over(runtime):
    sim = build("lighting", seed=13, start=NIGHT)
    client = feed(runtime, sim)
    lamp = next(sim.world.lamp_ids[i] for i in range(100) if sim.fault[i] == "ok" and i not in sim.chatter)
    sim.fail_lamp(lamp, repair_after_s=86400)
    publish(client, sim.step())
    aid = f"{sim.supervisor_id}/lamp_fault:{lamp}"
    wait_until(lambda: book_read(runtime, lambda b: b.get(aid) is not None), what="the lamp fault")
    runtime.engine.execute(lambda core, now: (core.alarms.set_policy(AlarmPolicy(max_shelf_s=3.0, default_shelf_s=1.5)), []))
    from services.alarms.actions import AlarmActions

    (outcome,) = AlarmActions(runtime.engine).apply("shelve", [aid], "alice", ShelveParams(reason="crew on site", minutes=1.5 / 60))
    assert outcome.result == "done" and outcome.state == "shelved"
    wait_until(lambda: book_read(runtime, lambda b: str(b.get(aid).state)) == "active_unack", timeout=5, what="the shelf to expire")
    last = book_read(runtime, lambda b: b.get(aid).history[-1])
    assert (last.action, last.who, last.after) == ("shelf_expired", "vigie", "active_unack")
