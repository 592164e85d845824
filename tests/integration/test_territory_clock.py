"""One territory clock (issue 20): the same scenario at x1, x60 and x600, per simulated second, on the shipped app.

The control room comes from the app factory with `VIGIE_RUN_SIMULATORS=0`; the lighting simulator runs as an
external supervisor would, its own `Runner` thread at `--speed` S against the same real redis-server, and sets
the territory clock there. Vigie follows it: a dimming command sent through POST /api/v1/commands ends `applied`
(before, at x60 it ended `failed`, "expired before it could be applied"), an alarm acknowledged and shelved for
0.2 simulated minutes comes back from the shelf after 12 simulated seconds (within one engine tick: 1 s, 3 s and
30 s of territory time at x1, x60, x600), the day chart has today's buckets of the territory's day, and no
supervisor's clock is flagged. A supervisor on the wall clock while the territory runs at x60 is flagged.
"""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis

from services.contract import Heartbeat, encode, sup_channel
from services.contract.clock import CLOCK_KEY, decode_anchor
from services.settings import Settings
from services.simulators import build
from services.simulators.runner import BEHIND_MAX_S, STEPS_PER_TURN, Runner
from tests.factory import stack_settings
from tests.integration.signin import signed_in

pytestmark = pytest.mark.integration

PW = "territory clock password"
SHELF_MIN = 0.2  # 12 simulated seconds
ALARM = "lum-mtp/test-clock"  # Vigie's id: the supervisor's, then the supervisor's own ("test-clock")


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def lighting():
    """The lighting world with one standing alarm to handle (the first build reads the territory: 10 s; the next ones 0.3 s)."""
    sim = build("lighting", seed=20, start=datetime.now(ZoneInfo("Europe/Paris")))
    sim.lamp_failures_per_day = sim.cabinet_trips_per_day = 0.0
    lamp = next(a.id for a in sim.asset_defs() if a.type == "Streetlight")
    sim.raise_alarm("test-clock", lamp, "lamp_failure", "major", "Lampe en panne (test de l'horloge)")
    return sim


def run_scenario(redis_url: str, state_dir, speed: float) -> dict:
    """Dim a district, acknowledge and shelve an alarm, let the shelf expire, read the day chart: outcomes in territory seconds."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    from app import create_app

    runner = Runner(lighting(), redis_url, speed=speed).start()  # an external supervisor at --speed S
    room = None
    try:
        room = create_app(stack_settings(Settings(redis_url=redis_url, run_simulators=False, state_dir=state_dir),
                                         anonymous_role=None), wait=False)
        assert room.ready, room.reason
        clock = room.runtime.clock
        room.server.extensions["vigie.security"].store.create_user("clock-op", "operator", "all", PW, now=time.time())
        http = signed_in(room.server, "clock-op", PW)
        wait_until(lambda: clock.speed == speed, what=f"Vigie on the territory clock at x{speed:g}")
        reader = room.runtime.reader
        wait_until(lambda: reader.assets(domain="lighting", limit=1)[0] > 30000, timeout=60, what="the lighting state")
        wait_until(lambda: reader.alarms_by_id([ALARM]), what=f"the alarm (active: {[a['id'] for a in reader.alarms()][:5]})")
        lamps = reader.assets(domain="lighting", type="Streetlight", limit=100_000)[1]
        districts: dict[str, int] = {}
        for a in lamps:
            d = (a.get("refs") or {}).get("district")
            if d:
                districts[d] = districts.get(d, 0) + 1
        district = min((n, d) for d, n in districts.items() if n >= 50)[1]

        sent_at = clock()
        r = http.post("/api/v1/commands", json={"domain": "lighting", "action": "set_dimming", "params": {"level": 40},
                                                "targets": [district]})
        assert r.status_code == 202, r.get_json()
        cid = r.get_json()["id"]
        done = wait_until(lambda: (d := http.get(f"/api/v1/commands/{cid}").get_json()).get("status") in
                          ("applied", "partial", "failed", "rejected", "timed_out") and d, what="the command's end")
        applied_after = clock() - sent_at
        lamps_ok = {a["id"] for a in lamps if (a.get("refs") or {}).get("district") == district and a.get("values", {}).get("status") == "ok"}

        assert http.post(f"/api/v1/alarms/{ALARM}/ack", json={}).status_code == 200
        r = http.post(f"/api/v1/alarms/{ALARM}/shelve", json={"minutes": SHELF_MIN, "reason": "test"})
        assert r.status_code == 200, r.get_json()
        back = wait_until(lambda: (a := reader.alarms_by_id([ALARM]).get(ALARM)) and a.get("state") != "shelved" and a,
                          timeout=SHELF_MIN * 60 / speed + 10, what="the shelf's end")

        def shelf() -> list[dict]:  # the alarm journal's times of the shelving and of the return, in territory seconds
            items = http.get(f"/api/v1/alarms/journal?alarm={ALARM}").get_json()["items"]
            return [e for e in items if "shelved" in (e["before"], e["after"]) and e["before"] != e["after"]]

        went, came = sorted(wait_until(lambda: len(s := shelf()) >= 2 and s, what="the shelf in the journal")[:2], key=lambda e: e["at"])
        assert went["after"] == "shelved" and came["before"] == "shelved", (went, came)
        shelf_s = came["at"] - went["at"]

        today = datetime.fromtimestamp(clock(), ZoneInfo("Europe/Paris")).date().isoformat()
        chart = wait_until(lambda: (c := http.get("/api/v1/kpis/day?domain=lighting").get_json()) and c.get("day") == today and c,
                           what="the day chart")
        sups = http.get("/api/v1/supervisors").get_json()["items"]
        return {"status": done["status"], "reason": done.get("reason"), "applied": done["feedback"]["applied"], "lamps_ok": len(lamps_ok),
                "applied_after_s": applied_after, "acknowledged": back["acknowledged"],
                "state": back["state"], "shelf_s": shelf_s, "day": chart["day"], "today": today,
                "drift": [s["id"] for s in sups if s.get("clock_drift")], "lag": [s["lag_s"] for s in sups],
                "anchor": decode_anchor(client.get(CLOCK_KEY)) if client.get(CLOCK_KEY) else None}
    finally:
        runner.stop()
        if room is not None:
            room.stop()
        client.close()


@pytest.fixture(scope="module")
def outcomes(redis_server, tmp_path_factory) -> dict[float, dict]:
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    return {s: run_scenario(url, tmp_path_factory.mktemp(f"clock{int(s)}"), s) for s in (1.0, 60.0, 600.0)}


@pytest.mark.parametrize("speed", [1.0, 60.0, 600.0])
def test_a_dimming_command_sent_through_the_api_is_applied_by_every_working_lamp_at_every_speed(outcomes, speed):
    o = outcomes[speed]
    assert o["status"] in ("applied", "partial") and "expired" not in (o["reason"] or ""), o  # partial: lamps out of order
    assert o["applied"] >= o["lamps_ok"] > 0, o
    assert o["applied_after_s"] <= 60.0 + 10.0 * (speed - 1)  # lighting's apply time, plus the link's 10 wall seconds at the pace


@pytest.mark.parametrize("speed", [1.0, 60.0, 600.0])
def test_a_shelf_of_twelve_simulated_seconds_ends_after_twelve_simulated_seconds(outcomes, speed):
    o = outcomes[speed]
    tick = max(1.0, speed * 0.05)  # the engine's tick on the territory clock (services/feed/engine.py)
    assert o["state"] == "active_unack", o  # back from the shelf, to be acknowledged again (ISA-18.2)
    assert SHELF_MIN * 60 <= o["shelf_s"] <= SHELF_MIN * 60 + tick + 0.5 * speed, o  # and half a wall second for a loaded engine


@pytest.mark.parametrize("speed", [1.0, 60.0, 600.0])
def test_the_day_chart_is_the_territory_s_day_and_no_clock_is_flagged(outcomes, speed):
    o = outcomes[speed]
    assert o["day"] == o["today"], o
    assert not o["drift"], o
    # a world that cannot step as fast as the clock runs lags it, by BEHIND_MAX_S wall seconds at most before it jumps
    # (and the link: a few wall seconds on a loaded machine)
    assert all(abs(lag) <= (BEHIND_MAX_S + 5.0) * speed + 10.0 * STEPS_PER_TURN for lag in o["lag"]), (o["lag"], o["drift"])


def test_the_clock_in_redis_is_the_simulator_s_when_accelerated_and_none_at_speed_one(outcomes):
    assert outcomes[1.0]["anchor"] is None
    assert outcomes[60.0]["anchor"].speed == 60.0 and outcomes[60.0]["anchor"].by == "lum-mtp"
    assert outcomes[600.0]["anchor"].speed == 600.0


def test_a_supervisor_on_the_wall_clock_while_the_territory_runs_at_x60_is_flagged(redis_server, tmp_path):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    client = redis.Redis.from_url(url)
    client.flushall()
    from app import create_app

    settings = stack_settings(Settings(redis_url=url, run_simulators=False, state_dir=tmp_path), clock_drift_s=2.0)
    from services.contract.clock import ClockAnchor, encode_anchor

    now = time.time()
    client.set(CLOCK_KEY, encode_anchor(ClockAnchor(speed=60.0, epoch=now + 3600, wall=now, by="test")), ex=60)
    room = create_app(settings, wait=False)
    try:
        assert room.ready, room.reason
        wait_until(lambda: room.runtime.clock.speed == 60.0, what="the territory clock")
        seq = 0

        def beat() -> None:
            nonlocal seq
            seq += 1
            hb = Heartbeat(v=1, kind="heartbeat", domain="water", supervisor="eau-reel", ts=datetime.now(ZoneInfo("UTC")), seq=seq)
            client.publish(sup_channel("water", "eau-reel", "heartbeat"), encode(hb))

        def flagged():
            beat()
            return [s for s in room.runtime.reader.supervisors() if s["id"] == "eau-reel" and s.get("clock_drift")]

        (sup,) = wait_until(flagged, what="the drift flag")
        assert sup["lag_s"] > 3000  # an hour behind the territory's time
        assert room.runtime.metrics.clock_drifts.get("eau-reel") == 1
        page = room.server.test_client().get("/api/v1/supervisors").get_json()
        assert any(s["id"] == "eau-reel" and s["clock_drift"] for s in page["items"])
    finally:
        room.stop()
        client.close()
