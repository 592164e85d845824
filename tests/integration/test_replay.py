"""Record an hour of the three simulators on a real redis-server, replay it, and compare with what live showed.

The simulators are stepped as fast as they go and published on the bus; the live engine and the
recorder both listen, on a clock that follows the simulated time. At chosen instants the live
state is noted; sessions then replay the journal (at 60x, and by seeking) and must show the same
world at those instants. Sessions act on their own copy: nothing they do reaches the bus.
"""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis

from services.alarms.actions import parse_params
from services.commands.service import Actor, CommandRequest, Selection
from services.feed.engine import Engine, core_config
from services.journal.store import Journal, JournalConfig
from services.feed.reader import LocalReader
from services.journal.recorder import Recorder
from services.replay.session import ReplaySession
from services.replay.scenario import load_scenario
from services.settings import Settings
from services.simulators import build
from tests.replay_world import world_state

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 10, 18, 10, tzinfo=ZoneInfo("Europe/Paris"))  # dusk comes at ~18:50: every lamp switches on
T0 = START.timestamp()
HOUR = 3600.0
STEP_S = 60.0  # the bus gets a minute of the three supervisors at a time
CHECKS = (T0 + 245.0, T0 + 1055.0, T0 + 2585.0, T0 + 3545.0)  # between two bursts of messages


class SimClock:
    """Vigie's clock follows the simulated time (the bus is driven much faster than real time)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _ticked(recorder: Recorder, t: float, timeout: float = 10.0) -> None:
    """Wait until the recorder's clock has passed `t` (its loop ticks its shadow core as time goes)."""
    end = time.monotonic() + timeout
    while recorder.feed.next_tick is not None and recorder.feed.next_tick <= t and time.monotonic() < end:
        time.sleep(0.005)


def _drain(engine: Engine, recorder: Recorder, published: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        applied = sum(engine.metrics.messages.values())
        if applied >= published and recorder.counts["messages"] >= published:
            engine.execute(lambda core, now: (None, []))  # one full turn of the engine loop after the last message
            engine.execute(lambda core, now: (None, []))
            return
        time.sleep(0.005)
    raise TimeoutError(f"engine {sum(engine.metrics.messages.values())}, recorder {recorder.counts['messages']} of {published}")


@pytest.fixture(scope="module")
def hour(redis_server, tmp_path_factory):
    """An hour of the three simulators recorded; the live engine keeps running (its state stays as at the end)."""
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    settings = Settings(redis_url=url, snapshot_interval_s=0)
    clock = SimClock()
    journal_dir = tmp_path_factory.mktemp("journal")
    engine = Engine(settings, url, clock=clock, freeze_gc=False).start()
    recorder = Recorder(Journal(JournalConfig(journal_dir, max_age_s=1e12)), url, core_config(settings), clock=clock, streams=False).start()
    bus = redis.Redis.from_url(url)
    sims = [build(d, seed=42, start=START) for d in ("lighting", "water", "traffic")]
    deadline = time.monotonic() + 10
    while not (engine.bus_up and recorder.connected) and time.monotonic() < deadline:
        time.sleep(0.01)
    published, live = 0, {}

    def publish(out):
        nonlocal published
        pipe = bus.pipeline(transaction=False)
        for ch, payload in out:
            pipe.publish(ch, payload)
        pipe.execute()
        published += len(out)

    def turn(t: float, out: list) -> None:
        """Tick both at a whole second with nothing arriving, then publish a step's messages half a second later."""
        clock.now = t
        _drain(engine, recorder, published)
        _ticked(recorder, t)
        clock.now = t + 0.5
        publish(out)
        _drain(engine, recorder, published)

    turn(T0, [m for sim in sims for m in sim.state()])
    checks = list(CHECKS)
    t = T0
    while t < T0 + HOUR:
        t += STEP_S
        out = []
        for sim in sims:
            while sim.now.timestamp() + sim.step_s <= t:
                out += sim.step()
            out += sim.heartbeat(t - T0)
        turn(t, out)
        if checks and t + STEP_S > checks[0]:
            clock.now = checks.pop(0)
            _drain(engine, recorder, published)
            _ticked(recorder, clock.now)
            reader = LocalReader(engine)
            live[clock.now] = (world_state(reader, energy=False), reader.kpis()["lighting"])
    recorder.stop()  # seals the journal
    journal = Journal(JournalConfig(journal_dir, max_age_s=1e12))
    yield {"journal": journal, "live": live, "engine": engine, "url": url, "settings": settings}
    journal.close()
    engine.stop()
    bus.close()


def session(hour, **kw) -> ReplaySession:
    config = core_config(hour["settings"])
    return ReplaySession(hour["journal"], id=kw.pop("id", "s"), name="test", start=kw.pop("start", T0 + 120), end=T0 + HOUR,
                         trainer="trainer", config=config, timezone=config.timezone, **kw)


def energy(kpis: list[dict]) -> float:
    return next(k["value"] for k in kpis if k["key"] == "energy_today_kwh")


def test_the_replay_at_60x_and_by_seeking_shows_what_live_showed(hour):
    s = session(hour, speed=60)
    try:
        s.play(until=CHECKS[0])
        deadline = time.monotonic() + 30
        while s.position < CHECKS[0] and time.monotonic() < deadline:
            s.pump()
            time.sleep(0.02)
        seen = {CHECKS[0]: (world_state(s.reader, energy=False), s.reader.kpis()["lighting"])}
        for t in CHECKS[1:]:
            s.seek(t)
            seen[t] = (world_state(s.reader, energy=False), s.reader.kpis()["lighting"])
        for t, (state, kpis) in hour["live"].items():
            assert seen[t][0] == state, f"at +{(t - T0) / 60:.1f} min"
            assert energy(seen[t][1]) == pytest.approx(energy(kpis), rel=0.02)  # integrated on each one's tick times
        assert len(seen[CHECKS[-1]][0]["assets"]) > 38_000
    finally:
        s.close()


def test_seeking_anywhere_in_the_hour_lands_there_and_says_how_long_it_took(hour):
    s = session(hour)
    try:
        walls, cpus = [], []
        for t in (T0 + HOUR - 10, T0 + 300, T0 + 2000, T0 + HOUR - 10):
            c0 = time.thread_time()
            walls.append(s.seek(t))
            cpus.append(time.thread_time() - c0)
            assert s.position == t and walls[-1] > 0
        # measured, not asserted (a shared machine): the figures are benchmarks/replay.py's, in docs/replay.md
        print(f"seek times (s): wall {', '.join(f'{x:.2f}' for x in walls)}; CPU {', '.join(f'{x:.2f}' for x in cpus)}")
    finally:
        s.close()


def test_sessions_act_on_their_own_copy_and_nothing_reaches_the_bus(hour):
    monitor = redis.Redis.from_url(hour["url"]).pubsub()
    monitor.psubscribe("*")
    monitor.get_message(timeout=1.0)
    a, b = session(hour, id="a", start=T0 + 2400), session(hour, id="b", start=T0 + 2400)
    engine = hour["engine"]
    try:
        alarm = next(x["id"] for x in a.reader.alarms() if not x["acknowledged"] and x["state"] == "active_unack")
        assert a.alarm_action("ack", [alarm], "trainee", parse_params("ack", {}))[0].result == "done"
        power = lambda s: next(k["value"] for k in s.reader.kpis()["lighting"] if k["key"] == "power_kw")  # noqa: E731
        before = power(a)
        doc, _ = a.send_command(CommandRequest("lighting", "set_dimming", {"level": 20}, Selection(("district-1",)), confirm=True,
                                               reason="exercice"), Actor("trainee", "operator"))
        a.advance_to(T0 + 2460)
        assert a.commands.get(doc["id"])["status"] in ("applied", "partial")
        assert power(a) < before * 0.95  # the dimmed district draws less, in the session
        assert power(b) == pytest.approx(before, rel=0.02)
        assert {x["id"]: x["acknowledged"] for x in b.reader.alarms(active_only=False)}[alarm] is False
        with engine.lock:
            assert engine.core.alarms.get(alarm) is None or engine.core.alarms.get(alarm).acked_by is None
            assert not engine.core.commands.records
        assert a.sandbox.commands and a.sandbox.commands[0][0] == "cmd.lighting.lum-mtp"
        time.sleep(0.3)
        leaked = [m for m in iter(lambda: monitor.get_message(timeout=0.2), None) if m["type"] == "pmessage"]
        assert leaked == []  # no command, no state request, nothing at all on the live bus
    finally:
        a.close()
        b.close()
        monitor.close()


def test_a_scenario_s_events_happen_in_the_session_only(hour):
    s = session(hour, start=T0 + 600, scenario=load_scenario("soiree_agitee.yaml"))
    try:
        def codes() -> set[str]:
            return {a["code"] for a in s.reader.alarms(active_only=False) if a["supervisor"] in ("eau-mtp", "lum-mtp", "trafic-mtp")}

        s.advance_to(T0 + 600 + 7 * 60, budget=None)
        assert "leak_suspected" in codes()
        s.advance_to(T0 + 600 + 21 * 60, budget=None)
        assert {"cabinet_trip", "incident"} <= codes()
        s.advance_to(T0 + 600 + 32 * 60, budget=None)
        assert {x["id"]: x["status"] for x in s.reader.supervisors()}["eau-mtp"] == "stale"
        s.advance_to(T0 + 600 + 37 * 60, budget=None)
        assert {x["id"]: x["status"] for x in s.reader.supervisors()}["eau-mtp"] == "live"
        done = s.status()["injections"]
        assert [i["fired"] for i in done] == [True] * 4 and not any(i["error"] for i in done)
        with hour["engine"].lock:
            live_codes = {a.code for a in hour["engine"].core.alarms.all()}
        assert "leak_suspected" not in live_codes or all(
            a.asset not in s.sandbox.owned["water"] for a in hour["engine"].core.alarms.all() if a.code == "leak_suspected")
    finally:
        s.close()
