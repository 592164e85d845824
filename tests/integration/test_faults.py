"""Faults the engine must ride out: Redis killed and restarted, a silent supervisor, a hostile feed."""
from __future__ import annotations

import collections
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis

from services.feed.bus import bounded_client
from services.contract import AssetDef, Command, LightingReading, Point
from services.feed.engine import Engine
from services.feed.reader import LocalReader, RedisReader
from services.redis_launcher import free_port, start_redis_server, wait_ready
from services.settings import Settings
from services.simulators.base import CommandResult, SupervisorSim
from services.simulators.runner import Runner
from tests.hostile import hostile_messages
from tests.integration.test_engine import Feed, publish, wait_until

pytestmark = pytest.mark.integration


class TinyLighting(SupervisorSim):
    """A lighting supervisor with a handful of lamps whose output swings every step."""

    domain = "lighting"
    step_s = 10.0

    def __init__(self, supervisor_id: str, lamps: int = 20) -> None:
        super().__init__(supervisor_id, seed=1, start=datetime.now(timezone.utc))
        self.ids = [f"{supervisor_id}-{i:02d}" for i in range(lamps)]
        self.level = 0.5

    def asset_defs(self) -> list[AssetDef]:
        return [AssetDef(id=a, type="Streetlight", geometry=Point(coordinates=(3.87 + i * 1e-4, 43.61))) for i, a in enumerate(self.ids)]

    def current_readings(self) -> list[LightingReading]:
        return [LightingReading(asset=a, status="ok", powerState="on", illuminanceLevel=self.level) for a in self.ids]

    def advance(self, now: datetime, dt_s: float) -> None:
        self.level = 1.0 if self.level < 1.0 else 0.5
        for r in self.current_readings():
            self.changed(r)

    def check_command(self, cmd: Command) -> str | None:
        return "no commands here"

    def apply_command(self, cmd: Command) -> CommandResult:
        return CommandResult()


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, on a port it can be restarted on."""
    port = free_port()
    procs = [start_redis_server(port, None, appendonly=False)]
    url = f"redis://127.0.0.1:{port}/0"
    wait_ready(url)

    def restart() -> None:
        procs.append(start_redis_server(port, None, appendonly=False))
        wait_ready(url)

    yield url, procs, restart
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(5)


def statuses(reader: LocalReader) -> set[tuple[str, str]]:
    return {(s["status"], s["reason"]) for s in reader.supervisors()}


def test_redis_killed_and_restarted_marks_feeds_stale_then_resyncs(own_redis, tmp_path: Path) -> None:
    url, procs, restart = own_redis
    engine = Engine(Settings(state_dir=tmp_path, snapshot_interval_s=0.1), url).start()
    runner = Runner(TinyLighting("lum-tiny"), url, speed=50.0).start()
    reader = LocalReader(engine)
    try:
        wait_until(lambda: reader.assets()[0] == 20 and statuses(reader) == {("live", "")})
        procs[0].kill()  # kill -9: no goodbye on the socket
        procs[0].wait(5)
        wait_until(lambda: statuses(reader) == {("unknown", "bus_down")})
        assert not engine.bus_up and reader.health()["status"] == "down"
        time.sleep(1.0)  # the supervisor keeps publishing into the void meanwhile
        assert statuses(reader) == {("unknown", "bus_down")} and engine.metrics.redis_up is False
        restart()
        wait_until(lambda: engine.bus_up and statuses(reader) == {("live", "")}, timeout=10)
        wait_until(lambda: engine.retained.stats["versions"] >= 2)  # its state read again (contract v2: retained, nobody asked)
        assert engine.metrics.state_requests == {}
        remote = RedisReader(bounded_client(url))  # the restarted Redis started empty: the snapshot is written whole again
        wait_until(lambda: remote.assets()[0] == 20 and remote.health()["status"] == "ok", timeout=5)
        remote.client.close()
        assert not [a for a in reader.alarms() if a["code"] == "supervisor_stale"]
    finally:
        runner.stop()
        engine.stop()


def test_redis_down_when_the_engine_starts_does_not_stop_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    engine = Engine(Settings(state_dir=tmp_path, snapshot_interval_s=0.1), url).start()
    proc = None
    try:
        wait_until(lambda: engine.metrics.redis_up is False)
        assert engine.running and LocalReader(engine).health()["status"] == "down"
        proc = start_redis_server(port, None, appendonly=False)
        wait_ready(url)
        wait_until(lambda: engine.bus_up, timeout=8)
        publish(redis.Redis.from_url(url), Feed(lamps=4).state())
        wait_until(lambda: LocalReader(engine).assets()[0] == 4)
    finally:
        engine.stop()
        if proc is not None:
            proc.kill()
            proc.wait(5)


def test_a_silenced_supervisor_becomes_stale_within_the_configured_delay(redis_url: str, tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, late_after_s=0.5, stale_after_s=1.5)
    engine = Engine(settings, redis_url).start()
    sim = TinyLighting("lum-quiet")
    runner = Runner(sim, redis_url, speed=50.0).start()
    reader = LocalReader(engine)
    try:
        wait_until(lambda: statuses(reader) == {("live", "")})
        sim.silenced = True
        wait_until(lambda: statuses(reader) == {("stale", "silent")}, timeout=settings.stale_after_s + 1.5)
        [alarm] = [a for a in reader.alarms() if a["code"] == "supervisor_stale"]
        assert (alarm["supervisor"], alarm["priority"]) == ("lum-quiet", "high")
        sim.silenced = False
        wait_until(lambda: statuses(reader) == {("live", "")}, timeout=3)
        assert engine.metrics.supervisors[0]["status"] in ("live", "stale")  # the gauge view follows at the next tick
    finally:
        runner.stop()
        engine.stop()


def test_hostile_messages_are_refused_and_counted_while_valid_telemetry_flows(redis_url: str, tmp_path: Path, caplog) -> None:
    engine = Engine(Settings(state_dir=tmp_path), redis_url).start()
    client = redis.Redis.from_url(redis_url)
    feed = Feed("lum-honest", lamps=5)
    hostile = hostile_messages(1000, seed=0)
    try:
        wait_until(lambda: engine.bus_up)
        caplog.set_level(logging.WARNING, logger="services.feed.engine")
        publish(client, feed.state())
        valid = 1
        levels = []
        for i in range(0, len(hostile), 20):  # 20 hostile, then one honest batch, and so on
            publish(client, *[(ch, payload) for ch, payload, _ in hostile[i : i + 20]])
            levels.append(round(i / len(hostile), 3))
            publish(client, feed.telemetry(status="ok", powerState="on", illuminanceLevel=levels[-1]))
            valid += 1
        handled = lambda: sum(dict(engine.metrics.messages).values())  # noqa: E731
        wait_until(lambda: handled() >= len(hostile) + valid, timeout=15)
        assert engine.metrics.rejected == dict(collections.Counter(reason for _, _, reason in hostile))
        assert sum(n for (_, _, outcome), n in engine.metrics.messages.items() if outcome == "applied") == valid
        assert engine.metrics.readings["lighting"] == 5 * valid
        reader = LocalReader(engine)
        assert {a["values"]["illuminanceLevel"] for a in reader.assets()[1]} == {levels[-1]}
        [sup] = [s for s in reader.supervisors() if s["id"] == "lum-honest"]
        assert (sup["gaps"], sup["messages"]["telemetry"]) == (0, valid - 1)
        logged = [r for r in caplog.records if r.getMessage().startswith("rejected message")]
        assert 0 < len(logged) <= 20  # rate-limited: a flood cannot drown the log
        assert engine.running
    finally:
        client.close()
        engine.stop()
