"""The day archive on a real Redis: the engine's buckets written, read back, bad values skipped; the backfill; the API."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask

from services.web.api import create_api
from services.core.day_series import Bucket
from services.history.day_archive import RETENTION_S, DayArchive, day_key
from services.history.backfill import backfill, start_backfill
from services.feed.engine import Engine
from services.feed.reader import LocalReader
from services.settings import Settings
from tests.unit.test_core import lighting_state

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")


def wait_until(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def engine(redis_url, tmp_path):
    e = Engine(Settings(state_dir=tmp_path, snapshot_interval_s=0, late_after_s=1e6, stale_after_s=1e6), redis_url, freeze_gc=False)
    yield e
    e.stop()


def test_the_engine_buckets_reach_redis_with_their_retention(engine, redis_url):
    from services.contract import encode, sup_channel

    archive = DayArchive(redis_url).attach(engine)
    try:
        msg = lighting_state(1)
        engine.ingest([(sup_channel("lighting", "lum", "state").encode(), encode(msg))], now=msg.ts.timestamp())
        day = msg.ts.astimezone(PARIS).date().isoformat()
        client = redis.Redis.from_url(redis_url)
        wait_until(lambda: client.exists(day_key("lighting", day)))
        assert 0 < client.ttl(day_key("lighting", day)) <= RETENTION_S
        view = archive.view("lighting", day)
        assert view["source"] == "live" and view["series"]["power_kw"][0][1] == pytest.approx(0.3)
    finally:
        archive.stop()


def test_bad_stored_values_are_skipped_and_counted(redis_url):
    client = redis.Redis.from_url(redis_url)
    good = json.dumps(Bucket(1, {"mean_speed_kmh": [40.0, 1]}).to_dict())
    client.hset(day_key("traffic", "2026-11-25"), mapping={"10": good, "11": "{not json", "12": '{"v": 7}', "x": good})
    archive = DayArchive(redis_url)
    view = archive.view("traffic", "2026-11-25")
    assert view["series"]["mean_speed_kmh"] == [[10, 40.0]]
    assert view["skipped"] == {"bad_json": 1, "bad_version": 1, "bad_slot": 1} and archive.skipped == view["skipped"]
    assert archive.view("traffic", "2026-11-24")["source"] is None  # an empty day is no error


def test_the_backfill_makes_only_the_missing_compared_days_marked_simulated(redis_url):
    archive = DayArchive(redis_url)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS).timestamp()
    today = date(2026, 11, 25)
    for domain in ("lighting", "traffic"):
        for d in (today - timedelta(days=1), today - timedelta(days=7)):
            archive.write_day(domain, d.isoformat(), {0: Bucket(1, {"x": [1.0, 1]})})
        archive.write_day(domain, today.isoformat(), {}, meta={"source": "backfill"})
    archive.write_day("water", today.isoformat(), {100: Bucket(1, {"pressure_mean": [9.0, 1]})})  # the live engine was first
    written = backfill(archive, Settings(run_simulators=True), "Europe/Paris", now=now, step_s=3600.0)
    assert written == {"water": ["2026-11-25", "2026-11-24", "2026-11-18"]}  # today first: the energy tile waits for it
    view = archive.view("water", "2026-11-24")
    assert view["source"] == "backfill" and len(view["series"]["chlorine_mean"]) == 24
    today_view = archive.view("water", "2026-11-25")  # midnight to 09:00 simulated, 08:20 left as the engine wrote it
    assert today_view["source"] == "mixed" and today_view["live_from_slot"] == 100
    assert [s for s, _ in today_view["series"]["chlorine_mean"]] == [12 * h for h in range(10)]
    assert dict(today_view["series"]["pressure_mean"])[100] == 9.0
    meta = json.loads(redis.Redis.from_url(redis_url).hget(day_key("water", "2026-11-24"), "meta"))
    assert meta["source"] == "backfill"
    assert backfill(archive, Settings(run_simulators=True), "Europe/Paris", now=now, step_s=3600.0) == {}


def test_no_backfill_for_real_supervisors(redis_url):
    assert start_backfill(DayArchive(redis_url), Settings(run_simulators=False), "Europe/Paris") is None


# --- the read API -----------------------------------------------------------------------------------


@pytest.fixture
def http(redis_url, engine):
    archive = DayArchive(redis_url)
    today = datetime.now(PARIS).date().isoformat()
    archive.write_day("lighting", today, {216: Bucket(2, {"power_kw": [100.0, 2]}, 8.0, 10.0)})
    app = Flask(__name__)
    app.register_blueprint(create_api(LocalReader(engine), engine, Settings(), day_archive=archive))
    with app.test_client() as c:
        yield c, today


def test_the_api_gives_a_domain_day(http):
    c, today = http
    for query in (f"domain=lighting&day={today}", "domain=lighting"):
        doc = c.get(f"/api/v1/kpis/day?{query}").get_json()
        assert doc["day"] == today and doc["series"]["power_kw"] == [[216, 100.0]]
        assert doc["energy_by_hour"][18] == 8.0 and doc["savings"]["saved_pct"] == 20.0
    assert c.get("/api/v1/kpis/day?domain=water&day=2026-01-01").get_json()["series"]["chlorine_mean"] == []


@pytest.mark.parametrize("query, reason", [
    ("", "bad_domain"),
    ("domain=gas", "bad_domain"),
    ("domain=water&day=yesterday", "bad_day"),
    ("domain=water&day=2026-13-01", "bad_day"),
    ("domain=water&day=20261125", "bad_day"),
    ("domain=water&day=2999-01-01", "bad_day"),
])
def test_the_api_refuses_bad_parameters_with_a_reason(http, query, reason):
    c, _ = http
    r = c.get(f"/api/v1/kpis/day?{query}")
    assert r.status_code == 400 and r.get_json()["error"] == reason


def test_the_api_says_when_the_archive_is_down(engine):
    app = Flask(__name__)
    app.register_blueprint(create_api(LocalReader(engine), engine, Settings(), day_archive=DayArchive("redis://127.0.0.1:1/0")))
    r = app.test_client().get("/api/v1/kpis/day?domain=water")
    assert r.status_code == 503 and r.get_json()["error"] == "unavailable"


def test_a_restart_mid_day_keeps_energy_today_from_the_archive(redis_url):
    from services.core import Hypervisor

    archive = DayArchive(redis_url)
    restart = datetime(2026, 11, 25, 15, 0, tzinfo=PARIS).timestamp()
    archive.write_day("lighting", "2026-11-25", {10: Bucket(kwh=100.0), 170: Bucket(kwh=50.0), 200: Bucket(kwh=9.0)})
    core = Hypervisor()
    assert archive.restore_energy(core, restart) == pytest.approx(150.0)  # slot 200 is 16:40: after the restart
    msg = lighting_state(1)  # 21:00 in Paris, the same day
    core.handle(msg, msg.ts.timestamp())
    core.tick(msg.ts.timestamp())
    assert {k["key"]: k["value"] for k in core.kpis()["lighting"]}["energy_today_kwh"] == pytest.approx(150.0)


def test_an_unreadable_archive_leaves_energy_today_counting_from_the_start():
    from services.core import Hypervisor

    archive = DayArchive("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens there
    assert archive.restore_energy(Hypervisor(), time.time()) == 0.0
