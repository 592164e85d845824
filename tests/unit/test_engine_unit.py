"""The engine's pieces without a redis-server: ingest, rejections, listeners, snapshots (fakeredis), metrics, launcher."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import fakeredis
import pytest
import redis

from services.contract import AssetDef, LightingReading, Point, Rejection, State, Telemetry, encode, sup_channel
from services.core import Hypervisor
from services.core.events import AssetsChanged, StateNeeded
from services.feed.engine import Engine, EngineUnavailable, RejectionLog
from services.metrics import Metrics
from services.feed.reader import LocalReader, RedisReader
from services.redis_launcher import resolve_redis
from services.settings import Settings
from services.feed.snapshots import SnapshotBatch, SnapshotBuilder, snap_key, write_batch

NOW = 1_782_064_800.0  # 2026-06-21 18:00 UTC
TS = datetime.fromtimestamp(NOW, timezone.utc)
DEAD_URL = "redis://127.0.0.1:1/0"  # nothing listens: the engine under test is never started


def state(sup: str = "lum", n: int = 4, seq: int = 1) -> tuple[bytes, bytes]:
    assets = [AssetDef(id=f"{sup}-{i}", type="Streetlight", geometry=Point(coordinates=(3.87 + i / 100, 43.6))) for i in range(n)]
    readings = [LightingReading(asset=f"{sup}-{i}", status="ok", powerState="on") for i in range(n)]
    msg = State[LightingReading](v=1, kind="state", domain="lighting", supervisor=sup, ts=TS, seq=seq, snapshot="s", assets=assets, readings=readings)
    return sup_channel("lighting", sup, "state").encode(), encode(msg)


def telemetry(sup: str = "lum", seq: int = 2, **values) -> tuple[bytes, bytes]:
    msg = Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor=sup, ts=TS, seq=seq,
                                     readings=[LightingReading(asset=f"{sup}-0", **values)])
    return sup_channel("lighting", sup, "telemetry").encode(), encode(msg)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(Settings(state_dir=tmp_path), DEAD_URL, clock=lambda: NOW)


def test_ingest_applies_valid_messages_and_counts_rejections_by_reason(engine: Engine) -> None:
    events = engine.ingest([state(), (b"sup.lighting.lum.telemetry", b"{nope"), (b"sup.gas.lum.telemetry", b"{}"),
                            telemetry(status="defectiveLamp")])
    assert any(isinstance(e, AssetsChanged) for e in events)
    assert engine.metrics.rejected == {"bad_json": 1, "unknown_domain": 1}
    assert engine.metrics.messages == {("lighting", "state", "applied"): 1, ("lighting", "telemetry", "applied"): 1,
                                       ("lighting", "telemetry", "rejected"): 1, ("unknown", "telemetry", "rejected"): 1}
    assert engine.metrics.readings == {"lighting": 5}
    assert LocalReader(engine).asset("lum-0")["condition"] == "fault"


def test_a_core_failure_on_one_message_is_counted_and_the_next_one_applies(tmp_path: Path) -> None:
    class Brittle(Hypervisor):
        def handle(self, msg, now, heard_at=None):
            if msg.supervisor == "boom":
                raise KeyError("bug")
            return super().handle(msg, now, heard_at)

    engine = Engine(Settings(state_dir=tmp_path), DEAD_URL, core=Brittle(), clock=lambda: NOW)
    engine.ingest([state("boom"), state("lum")])
    assert engine.metrics.rejected == {"internal_error": 1}
    assert LocalReader(engine).assets()[0] == 4


def test_a_failing_listener_is_logged_and_the_others_still_hear(engine: Engine, caplog) -> None:
    heard: list = []
    engine.subscribe(lambda events: {}["missing"])
    unsubscribe = engine.subscribe(heard.append)
    engine.ingest([state()])
    assert heard and "event listener" in caplog.text
    unsubscribe()
    engine.ingest([telemetry(status="tripped")])
    assert len(heard) == 1


def test_telemetry_for_unknown_assets_needs_a_state(engine: Engine) -> None:
    events = engine.ingest([telemetry(sup="ghost", seq=1, status="ok")])
    assert StateNeeded("lighting", "ghost", "unknown_asset") in events


def test_requests_need_a_running_engine(engine: Engine) -> None:
    with pytest.raises(EngineUnavailable):
        engine.acknowledge("lum/al-1", "ada")


def test_rejection_log_is_rate_limited_then_says_what_it_left_out(caplog) -> None:
    t = [0.0]
    rlog = RejectionLog(burst=3, window_s=10.0, clock=lambda: t[0])
    caplog.set_level(logging.WARNING, logger="services.feed.engine")
    for i in range(50):
        rlog(b"sup.lighting.lum.telemetry", b"x" * 500, Rejection("bad_json", f"bad {i}"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and all(len(line) < 400 for line in lines)
    t[0] = 11.0
    rlog.flush()
    assert caplog.records[-1].getMessage().startswith("47 more rejected messages not logged") and "bad_json=47" in caplog.text


def test_snapshots_read_back_from_redis_as_the_local_reader_answers(engine: Engine) -> None:
    client = fakeredis.FakeRedis()
    builder = SnapshotBuilder(engine.core)
    engine.ingest([state("lum", n=6), state("lux", n=3)])
    write_batch(client, builder.build(NOW, engine.lock, full=True, bus_up=True))
    local, remote = LocalReader(engine), RedisReader(client, clock=lambda: NOW)
    assert remote.assets() == local.assets() and remote.assets()[0] == 9
    for ev in engine.ingest([telemetry("lum", seq=2, status="brokenLantern")]):
        if isinstance(ev, AssetsChanged):
            builder.assets_changed(ev.domain, ev.asset_ids)
    delta = builder.build(NOW + 1, engine.lock, full=False, bus_up=True)
    assert set(delta.hashes[snap_key("values", "lighting")]) == {"lum-0"}  # only what changed,
    assert delta.hashes[snap_key("assets", "lighting")] == {}  # and identities only when a state defines them
    write_batch(client, delta)
    assert remote.assets(condition="fault") == local.assets(condition="fault") and remote.assets(condition="fault")[0] == 1
    assert remote.assets_geo("lighting") == local.assets_geo("lighting")
    assert remote.kpis() == local.kpis() and remote.summary() == local.summary() and remote.supervisors() == local.supervisors()


def test_a_full_batch_replaces_what_redis_held() -> None:
    client = fakeredis.FakeRedis()
    stale = SnapshotBatch()
    stale.hashes[snap_key("assets", "water")] = {"old": b"{}"}
    write_batch(client, stale)
    full = SnapshotBatch(full=True)
    full.hashes[snap_key("assets", "water")] = {"new": b"{}"}
    write_batch(client, full)
    assert client.hkeys(snap_key("assets", "water")) == [b"new"]


def test_metrics_expose_every_family_from_their_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.count_rejection("bad_json", "lighting", "telemetry")
    a.processing.observe(3e-5)
    text = a.exposition().decode()
    for name in ("vigie_messages_total", 'vigie_messages_rejected_total{reason="bad_json"} 1.0', "vigie_readings_total",
                 "vigie_processing_seconds_bucket", "vigie_processing_seconds_count 1.0", "vigie_supervisor_age_seconds",
                 "vigie_supervisor_stale", "vigie_state_requests_total", "vigie_assets", "vigie_alarms_active"):
        assert name in text
    assert "bad_json" not in b.exposition().decode()


def test_resolve_redis_prefers_redis_url_then_falls_back_to_an_embedded_server(tmp_path: Path, monkeypatch) -> None:
    external = resolve_redis(Settings(redis_url="redis://10.0.0.9:6379/0", state_dir=tmp_path))
    assert (external.kind, external.url) == ("external", "redis://10.0.0.9:6379/0")
    monkeypatch.setattr("services.redis_launcher.shutil.which", lambda name: None)
    embedded = resolve_redis(Settings(state_dir=tmp_path))
    try:
        assert embedded.kind == "embedded"
        client = redis.Redis.from_url(embedded.url, protocol=2)
        assert client.ping() and client.set("k", b"v") and client.get("k") == b"v"
        client.close()
    finally:
        embedded.stop()
