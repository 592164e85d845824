"""A feed that cannot be knocked over, on a real redis-server: huge messages, a killed subscription, a busy engine,
a slow recorder, and what Vigie finds in its Redis's configuration."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from services.accounts.redis_acl import vigie_acl
from services.feed.engine import Engine
from services.journal.recorder import Recorder
from services.journal.store import Journal, JournalConfig
from services.settings import Settings
from services.web.api import create_api
from services.feed.reader import LocalReader
from tests.integration.test_engine import Feed, applied, publish, wait_until

pytestmark = pytest.mark.integration
MB = 1024 * 1024


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's redis-server that puts its pub/sub buffer limit back as it found it."""
    c = redis.Redis.from_url(redis_url)
    before = c.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    yield c
    c.config_set("client-output-buffer-limit", before)
    c.close()


def set_pubsub_limit(client: redis.Redis, hard: str, soft: str, seconds: int) -> None:
    client.config_set("client-output-buffer-limit", f"pubsub {hard} {soft} {seconds}")


def subscription(client: redis.Redis, name: str) -> dict | None:
    """The named connection in CLIENT LIST, or None."""
    return next((c for c in client.client_list() if c.get("name") == name), None)


def settled(engine: Engine) -> None:
    """Wait for the engine's next turn: the counters move inside a turn, the readers' view is published at its end."""
    engine.execute(lambda core, now: (None, []), 10.0)


def start_engine(settings: Settings, url: str) -> Engine:
    engine = Engine(settings, url).start()
    wait_until(lambda: engine.bus_up and engine.redis_check is not None)
    return engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, snapshot_interval_s=0.1, run_simulators=False)


def test_a_43_mb_message_is_refused_by_size_and_the_subscription_is_not_cut(settings, redis_url, admin) -> None:
    set_pubsub_limit(admin, "256mb", "64mb", 60)  # what Vigie asks of its Redis (docs/deploy.md)
    engine = start_engine(settings, redis_url)
    try:
        feed = Feed("lum-big", lamps=5)
        publish(admin, feed.state())
        wait_until(lambda: applied(engine) == 1)
        sub_before = subscription(admin, "vigie-feed")
        assert admin.publish("sup.lighting.lum-big.state", b"{" + b" " * (43 * MB) + b"}") == 1
        publish(admin, feed.telemetry(status="ok", illuminanceLevel=0.5))
        wait_until(lambda: applied(engine) == 2, timeout=15)
        settled(engine)
        assert engine.metrics.rejected == {"too_large": 1}
        assert engine.metrics.messages[("lighting", "state", "rejected")] == 1
        stats = engine.feed_stats()
        assert (stats["oversized"], stats["disconnects"], stats["bytes"]) == (1, 0, 0)
        assert stats["peak_bytes"] < MB  # never queued, never decoded
        assert engine.bus_up and subscription(admin, "vigie-feed")["id"] == sub_before["id"]  # the same connection
        [sup] = LocalReader(engine).supervisors()
        assert (sup["status"], sup["gaps"]) == ("live", 0)
    finally:
        engine.stop()


def test_a_killed_subscription_reconnects_and_what_was_read_before_is_applied(settings, redis_url, admin) -> None:
    engine = start_engine(settings.with_(bus_grace_s=120.0), redis_url)
    gate, parked = threading.Event(), threading.Event()
    worker = threading.Thread(target=engine.execute, args=(lambda core, now: (parked.set() or gate.wait(30), []), 40.0), daemon=True)
    try:
        feed = Feed("lum-kill", lamps=20)
        worker.start()
        parked.wait(5)  # the engine is busy: what the reader reads waits in its queue
        sent = [feed.state()] + [feed.telemetry(illuminanceLevel=i / 500) for i in range(500)]
        publish(admin, *sent)
        wait_until(lambda: engine.feed_stats()["messages"] == len(sent))
        admin.client_kill_filter(_id=subscription(admin, "vigie-feed")["id"])
        wait_until(lambda: engine.feed_stats()["disconnects"] == 1 and engine.bus_up)  # seen and mended by the reader alone
        assert applied(engine) == 0
        gate.set()
        wait_until(lambda: applied(engine) == len(sent))
        settled(engine)
        assert engine.metrics.readings["lighting"] == 20 * len(sent)
        assert LocalReader(engine).asset("lum-kill-lamp-000")["values"]["illuminanceLevel"] == 499 / 500
        wait_until(lambda: engine.metrics.state_requests.get("reconnect") == 1)  # after the messages: it knew lum-kill
        bus_alarm = engine.core.alarms.get("vigie/bus_lost")
        assert bus_alarm is not None and not bus_alarm.active  # raised when the loss was applied, cleared on the return
        assert [s["status"] for s in LocalReader(engine).supervisors()] == ["unknown"]  # back, in its grace period
    finally:
        gate.set()
        engine.stop()


def test_a_blocked_engine_does_not_get_its_subscription_cut_while_a_publisher_floods(settings, redis_url, admin) -> None:
    set_pubsub_limit(admin, "16mb", "8mb", 10)  # a reader that waited for the engine would be cut (the flood is > 20 MB)
    engine = start_engine(settings, redis_url)
    feed = Feed("lum-flood", lamps=100)
    publish(admin, feed.state())
    wait_until(lambda: applied(engine) == 1)
    sub_before = subscription(admin, "vigie-feed")

    busy_now, published = threading.Event(), threading.Event()

    def busy(core, now):  # a slow request holding the engine thread (and the interpreter) until the flood is published
        busy_now.set()
        end = time.monotonic() + 40.0
        while time.monotonic() < end and not published.is_set():
            sum(range(2000))
        return None, []

    blocker = threading.Thread(target=engine.execute, args=(busy, 50.0), daemon=True)
    try:
        blocker.start()
        busy_now.wait(5)
        flood = [feed.telemetry(illuminanceLevel=(i % 100) / 100, powerConsumption=float(i % 500)) for i in range(3000)]
        size = sum(len(p) for _, p in flood)
        assert size > 20 * MB  # past the hard limit, had it waited in Redis
        for i in range(0, len(flood), 100):
            publish(admin, *flood[i : i + 100])
        assert blocker.is_alive() and applied(engine) == 1  # all of it was published while the engine was busy
        time.sleep(1.0)  # the engine stays busy a while longer
        published.set()
        wait_until(lambda: applied(engine) == 1 + len(flood), timeout=60)
        settled(engine)
        stats = engine.feed_stats()
        assert (stats["disconnects"], stats["dropped"]) == (0, {})
        assert stats["peak_bytes"] > 15 * MB  # the backlog waited in Vigie's queue, not in Redis
        assert subscription(admin, "vigie-feed")["id"] == sub_before["id"]
        [sup] = LocalReader(engine).supervisors()
        assert (sup["status"], sup["gaps"]) == ("live", 0)
    finally:
        blocker.join(10)
        engine.stop()


def test_the_recorder_sees_a_cut_within_seconds_while_its_disk_is_slow(redis_url, admin, tmp_path) -> None:
    journal = Journal(JournalConfig(tmp_path))
    write = journal.message

    def slow_write(*args, **kwargs):  # a slow disk: 10 ms a record
        time.sleep(0.01)
        return write(*args, **kwargs)

    journal.message = slow_write
    recorder = Recorder(journal, redis_url, streams=False).start()
    try:
        wait_until(lambda: recorder.connected)
        feed = Feed("lum-rec", lamps=3)
        sent = [feed.state()] + [feed.heartbeat() for _ in range(299)]  # 3 s of writing
        publish(admin, *sent)
        wait_until(lambda: recorder.queue.stats()["received"] == len(sent))
        killed_at = time.monotonic()
        admin.client_kill_filter(_id=subscription(admin, "vigie-recorder")["id"])
        wait_until(lambda: recorder.reader.subscriber.losses == 1 and recorder.connected, timeout=5)
        assert time.monotonic() - killed_at < 5 and recorder.counts["messages"] < len(sent)  # noticed before the journal caught up
        wait_until(lambda: recorder.counts["messages"] == len(sent), timeout=30)
    finally:
        recorder.stop()
    records = list(Journal(JournalConfig(tmp_path), writer=False).records(0, 2e10))
    kinds = [r.k if r.k == "m" else ("up" if r.up else "down") for r in records]
    assert kinds == ["up"] + ["m"] * len(sent) + ["down", "up"]  # every message read before the cut, then the cut


def test_vigie_says_what_its_redis_lacks_on_healthz_and_metrics(settings, redis_url, admin) -> None:
    set_pubsub_limit(admin, "32mb", "8mb", 60)  # Redis's own default
    engine = start_engine(settings, redis_url)
    try:
        app = Flask(__name__)
        app.register_blueprint(create_api(LocalReader(engine), engine, settings))
        with app.test_client() as http:
            check = http.get("/healthz").get_json()["redis"]
            metrics = http.get("/metrics").get_data(as_text=True)
        buffer = check["settings"]["client-output-buffer-limit"]
        assert (check["status"], buffer["status"]) == ("warning", "warning")
        assert buffer["found"] == {"pubsub_hard_bytes": 32 * MB, "pubsub_soft_bytes": 8 * MB, "pubsub_soft_seconds": 60}
        assert buffer["needed"] == "pubsub hard 0 or >= 64 MiB, soft 0 or >= 32 MiB"
        assert check["settings"]["maxmemory-policy"]["status"] == "ok"
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(metrics) for s in f.samples}
        assert samples[("vigie_redis_pubsub_buffer_hard_bytes", ())] == 32 * MB
        assert samples[("vigie_redis_config_ok", (("setting", "client-output-buffer-limit"),))] == 0
        assert samples[("vigie_feed_queue_limit_bytes", ())] == 256 * MB and samples[("vigie_feed_disconnects_total", ())] == 0
    finally:
        engine.stop()


def test_without_the_right_to_read_config_vigie_says_so_and_runs(settings, redis_url, admin) -> None:
    admin.execute_command(*vigie_acl("vigie-check", "check-pw"))
    host = redis_url.split("//", 1)[1].rsplit("/", 1)[0]
    engine = start_engine(settings, f"redis://vigie-check:check-pw@{host}/0")
    try:
        assert engine.redis_check["status"] == "unknown" and "NOPERM" in engine.redis_check["reason"]
        assert {s["status"] for s in engine.redis_check["settings"].values()} == {"unknown"}
        publish(admin, Feed("lum-acl", lamps=2).state())
        wait_until(lambda: applied(engine) == 1)
    finally:
        engine.stop()
        admin.execute_command("ACL", "DELUSER", "vigie-check")
