"""The engine against a real redis-server: feeds in, state, KPIs, health, state requests and snapshots out."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import msgspec
import pytest
import redis

from services.feed.bus import bounded_client
from services.contract import (
    Alarm, AlarmEvent, AssetDef, Codec, Heartbeat, LightingReading, Point, State, StateRequest, Telemetry, encode, sup_channel,
)
from services.feed.engine import Engine
from services.feed.reader import LocalReader, RedisReader
from services.runtime import start_services
from services.settings import Settings

pytestmark = pytest.mark.integration


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, every: float = 0.02) -> object:
    """Poll `predicate` until it is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(every)


class Feed:
    """Hand-made contract messages from one lighting supervisor, numbered like a real one."""

    def __init__(self, supervisor: str = "lum-test", lamps: int = 10) -> None:
        self.supervisor = supervisor
        self.ids = [f"{supervisor}-lamp-{i:03d}" for i in range(lamps)]
        self.seq = 0

    def _env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": "lighting", "supervisor": self.supervisor, "ts": datetime.now(timezone.utc), "seq": self.seq}

    def _out(self, msg: msgspec.Struct) -> tuple[str, bytes]:
        return sup_channel("lighting", self.supervisor, msg.kind), encode(msg)

    def state(self, status: str = "ok") -> tuple[str, bytes]:
        assets = [AssetDef(id=a, type="Streetlight", name=f"Lampe {i}", geometry=Point(coordinates=(3.87 + i * 1e-3, 43.61 + i * 1e-3)),
                           props={"powerRating": 100.0}) for i, a in enumerate(self.ids)]
        readings = [LightingReading(asset=a, status=status, powerState="on", illuminanceLevel=1.0, powerConsumption=100.0) for a in self.ids]
        return self._out(State[LightingReading](**self._env("state"), snapshot=f"s{self.seq}", assets=assets, readings=readings))

    def telemetry(self, **values) -> tuple[str, bytes]:
        return self._out(Telemetry[LightingReading](**self._env("telemetry"), readings=[LightingReading(asset=a, **values) for a in self.ids]))

    def alarm(self, asset: str, action: str = "raise", code: str = "lamp_off") -> tuple[str, bytes]:
        ev = AlarmEvent(id=f"al-{asset}", asset=asset, action=action, severity="major", code=code, message="Lampe éteinte")
        return self._out(Alarm(**self._env("alarm"), events=[ev]))

    def heartbeat(self) -> tuple[str, bytes]:
        return self._out(Heartbeat(**self._env("heartbeat"), assets=len(self.ids)))

    def skip(self, n: int) -> None:
        self.seq += n


def publish(client: redis.Redis, *messages: tuple[str, bytes]) -> None:
    pipe = client.pipeline(transaction=False)
    for channel, payload in messages:
        pipe.publish(channel, payload)
    pipe.execute()


def applied(engine: Engine) -> int:
    return sum(n for (_, _, outcome), n in dict(engine.metrics.messages).items() if outcome == "applied")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, snapshot_interval_s=0.1, run_simulators=False)


@pytest.fixture
def engine(settings: Settings, redis_url: str):
    e = Engine(settings, redis_url).start()
    wait_until(lambda: e.bus_up)
    yield e
    e.stop()


@pytest.fixture
def client(redis_url: str):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def test_state_and_telemetry_published_on_redis_reach_the_live_state(engine: Engine, client: redis.Redis) -> None:
    feed = Feed(lamps=10)
    publish(client, feed.state(), feed.telemetry(status="defectiveLamp", powerState="off"))
    reader = LocalReader(engine)
    wait_until(lambda: reader.assets(domain="lighting", condition="fault")[0] == 10)
    kpis = wait_until(lambda: {k["key"]: k["value"] for k in reader.kpis()["lighting"]}.get("lamps_faulty") == 10 and reader.kpis())
    assert {k["key"] for k in kpis["lighting"]} >= {"lamps_in_service_pct", "lamps_faulty", "lamps_on", "power_kw"}
    [sup] = reader.supervisors()
    assert (sup["id"], sup["status"], sup["assets"]) == ("lum-test", "live", 10)
    assert engine.metrics.readings["lighting"] == 20


def test_without_hiredis_buffer_access_the_subscriber_reads_through_the_public_path(settings, redis_url, client, monkeypatch) -> None:
    monkeypatch.setattr("services.feed.bus._buffered_replies", lambda conn: None)
    engine = Engine(settings, redis_url).start()
    try:
        wait_until(lambda: engine.bus_up)
        feed = Feed(lamps=4)
        publish(client, feed.state(), *[feed.telemetry(illuminanceLevel=i / 10) for i in range(10)])
        wait_until(lambda: engine.metrics.readings.get("lighting") == 44)
    finally:
        engine.stop()


def test_a_sequence_gap_asks_the_supervisor_for_its_state_once_per_interval(engine: Engine, client: redis.Redis) -> None:
    feed = Feed(lamps=3)
    requests = client.pubsub(ignore_subscribe_messages=True)
    requests.subscribe("cmd.lighting.lum-test")
    publish(client, feed.state())
    feed.skip(5)
    publish(client, feed.heartbeat())
    msg = wait_until(lambda: requests.get_message(timeout=0.05))
    req = Codec().decode_command(msg["data"])
    assert isinstance(req, StateRequest)
    assert (req.domain, req.supervisor, req.reason) == ("lighting", "lum-test", "sequence_gap")
    feed.skip(5)
    publish(client, feed.heartbeat())
    wait_until(lambda: engine.core.health.get("lum-test").gaps == 2)
    assert requests.get_message(timeout=0.3) is None  # the second gap, within 5 s, is not asked again
    assert engine.metrics.state_requests == {"sequence_gap": 1}
    requests.close()


def test_telemetry_for_an_unknown_asset_asks_for_the_state(engine: Engine, client: redis.Redis) -> None:
    requests = client.pubsub(ignore_subscribe_messages=True)
    requests.subscribe("cmd.lighting.lum-new")
    publish(client, Feed("lum-new", lamps=2).telemetry(status="ok"))
    msg = wait_until(lambda: requests.get_message(timeout=0.05))
    assert Codec().decode_command(msg["data"]).reason == "unknown_asset"
    requests.close()


def test_the_engine_writes_snapshots_that_a_redis_reader_answers_alike(engine: Engine, client: redis.Redis, redis_url: str) -> None:
    feed, other = Feed("lum-a", lamps=6), Feed("lum-b", lamps=4)
    publish(client, feed.state(), other.state(status="brokenLantern"), feed.alarm(feed.ids[0]), other.alarm(other.ids[1]))
    local, remote = LocalReader(engine), RedisReader(bounded_client(redis_url))
    wait_until(lambda: remote.assets()[0] == 10 and len(remote.alarms()) == 2 and len(remote.supervisors()) == 2)
    wait_until(lambda: remote.summary() == local.summary())
    ack = engine.acknowledge(f"lum-b/al-{other.ids[1]}", "ada")
    assert ack is True and engine.acknowledge(f"lum-b/al-{other.ids[1]}", "ada") is False
    wait_until(lambda: remote.alarms() == local.alarms())
    assert remote.assets(domain="lighting", offset=2, limit=5) == local.assets(domain="lighting", offset=2, limit=5)
    assert remote.assets(condition="fault") == local.assets(condition="fault")
    assert remote.assets(bbox=(3.869, 43.609, 3.8725, 43.6125)) == local.assets(bbox=(3.869, 43.609, 3.8725, 43.6125))
    assert remote.asset(feed.ids[2]) == local.asset(feed.ids[2]) is not None
    assert remote.asset("nope") is local.asset("nope") is None
    assert remote.assets_geo("lighting") and sorted(remote.assets_geo("lighting"), key=lambda f: f["id"]) == sorted(local.assets_geo("lighting"), key=lambda f: f["id"])
    assert remote.kpis() == local.kpis()
    assert remote.kpi_history("lighting") == local.kpi_history("lighting")
    strip = lambda sups: [{k: v for k, v in s.items() if k != "age_s"} for s in sups]  # noqa: E731 - ages move with the clock
    assert strip(remote.supervisors()) == strip(local.supervisors())
    assert remote.health()["status"] == local.health()["status"] == "ok"
    remote.client.close()


def test_a_listener_gets_each_batch_and_a_failing_one_does_not_stop_the_engine(engine: Engine, client: redis.Redis) -> None:
    seen: list[object] = []
    engine.subscribe(lambda events: 1 / 0)
    engine.subscribe(seen.extend)
    feed = Feed(lamps=2)
    publish(client, feed.state())
    wait_until(lambda: any(type(e).__name__ == "AssetsChanged" for e in seen))
    publish(client, feed.telemetry(status="columnIssue"))
    wait_until(lambda: LocalReader(engine).assets(condition="fault")[0] == 2)
    assert engine.running


def test_start_services_runs_the_engine_or_reads_snapshots(redis_url: str, tmp_path: Path) -> None:
    settings = Settings(redis_url=redis_url, state_dir=tmp_path, run_simulators=False, snapshot_interval_s=0.1)
    rt = start_services(settings)
    try:
        assert (rt.redis_kind, rt.redis_url) == ("external", redis_url)
        assert isinstance(rt.reader, LocalReader) and rt.engine is not None
        wait_until(lambda: rt.engine.bus_up)
        publish(redis.Redis.from_url(redis_url), Feed(lamps=3).state())
        wait_until(lambda: rt.reader.assets()[0] == 3)
        web = start_services(settings.with_(run_engine=False))
        try:
            assert web.engine is None and isinstance(web.reader, RedisReader)
            wait_until(lambda: web.reader.assets()[0] == 3)
        finally:
            web.stop()
    finally:
        rt.stop()


def test_a_private_redis_server_keeps_its_data_in_the_state_dir(tmp_path: Path) -> None:
    from services.redis_launcher import resolve_redis

    handle = resolve_redis(Settings(state_dir=tmp_path))
    try:
        assert handle.kind == "private"
        c = redis.Redis.from_url(handle.url)
        c.set("vigie:probe", b"1")
        assert c.config_get("appendonly")["appendonly"] == "yes"
        assert Path(c.config_get("dir")["dir"]) == tmp_path / "redis"
        c.close()
    finally:
        handle.stop()


def test_the_three_simulated_supervisors_on_the_real_montpellier_territory(engine: Engine, client: redis.Redis) -> None:
    for module in ("lighting", "water", "traffic"):
        pytest.importorskip(f"services.simulators.{module}")
    from zoneinfo import ZoneInfo

    from flask import Flask

    from services.web.api import create_api
    from services.simulators import build
    from services.territory.geo import lamp_sites

    start = datetime(2026, 6, 21, 21, 30, tzinfo=ZoneInfo("Europe/Paris"))  # through dusk: every lamp switches on
    sims = [build(d, seed=7, start=start) for d in ("lighting", "water", "traffic")]
    handled = lambda: sum(dict(engine.metrics.messages).values())  # noqa: E731
    sent = 0
    for sim in sims:
        out = sim.state()
        publish(client, *out)
        sent += len(out)
        wait_until(lambda: handled() >= sent, timeout=20)
    for minute in range(1, 75 + 1):  # 75 simulated minutes, through dusk
        out = [m for sim in sims for _ in range(int(60 // sim.step_s)) for m in sim.step()]
        publish(client, *out)
        sent += len(out)
        if minute % 10 == 0:  # let the engine keep up: Redis caps a subscriber's backlog
            wait_until(lambda: handled() >= sent, timeout=20)
    wait_until(lambda: handled() >= sent, timeout=20)
    assert engine.metrics.rejected == {}

    reader = LocalReader(engine)
    lamps = len(lamp_sites())
    assert lamps == 29_969
    wait_until(lambda: reader.assets(domain="lighting", type="Streetlight")[0] == lamps)
    assert all(reader.assets(domain=d)[0] > 0 for d in ("water", "traffic"))
    sups = reader.supervisors()
    assert sorted(s["domain"] for s in sups) == ["lighting", "traffic", "water"]
    assert all(s["status"] == "live" and s["gaps"] == 0 for s in sups)
    kpis = wait_until(lambda: (k := reader.kpis()) and all(k[d] for d in k) and k)
    values = {(d, k["key"]): k["value"] for d, ks in kpis.items() for k in ks}
    assert values[("lighting", "lamps_on")] > 0.9 * lamps  # after dusk
    assert values[("lighting", "lamps_in_service_pct")] > 90
    assert values[("water", "pressure_compliance_pct")] is not None
    assert values[("traffic", "mean_speed_kmh")] > 0

    app = Flask(__name__)
    app.register_blueprint(create_api(reader, engine, engine.settings))
    with app.test_client() as http:
        page = http.get("/api/v1/assets?domain=lighting&kind=Streetlight&limit=5").get_json()
        assert (page["total"], len(page["items"])) == (lamps, 5)
        assert http.get(f"/api/v1/assets/{page['items'][0]['id']}").get_json()["domain"] == "lighting"
        assert http.get("/api/v1/summary").get_json()["assets"] == sum(reader.assets(domain=d)[0] for d in ("lighting", "water", "traffic"))
        assert http.get("/healthz").status_code == 200
