"""Contract v2 against a real redis-server: a simulator's retained state is read by Vigie without asking anyone,
a Redis restart costs one rewrite, and a v1 supervisor still gets its state requests, paced."""
from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
import redis

from services.accounts.redis_acl import supervisor_acl, vigie_acl
from services.contract import Codec, StateRequest, cmd_channel, encode
from services.contract.retained import state_key
from services.feed.engine import Engine
from services.feed.reader import LocalReader
from services.settings import Settings
from services.simulators.runner import Runner
from tests.integration.test_engine import Feed, publish, wait_until
from tests.integration.test_faults import TinyLighting, own_redis  # noqa: F401 - own_redis is a fixture

pytestmark = pytest.mark.integration


class Bus:
    """Everything published on `sup.*` and `cmd.*` while the test runs, by channel."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe("sup.*", "cmd.*")
        self.seen: list[tuple[str, bytes]] = []
        wait_until(lambda: self.client.pubsub_numpat() >= 1)

    def drain(self) -> list[tuple[str, bytes]]:
        while (m := self.pubsub.get_message(timeout=0.01)) is not None:
            if m["type"] == "pmessage":
                self.seen.append((m["channel"].decode(), m["data"]))
        return self.seen

    def on(self, suffix: str) -> list[bytes]:
        return [payload for channel, payload in self.drain() if channel.endswith(suffix)]

    def commands(self) -> list[bytes]:
        return [payload for channel, payload in self.drain() if channel.startswith("cmd.")]

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


def assets(engine: Engine) -> int:
    return LocalReader(engine).assets()[0]


def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, snapshot_interval_s=0.0, run_simulators=False)


def test_a_v2_simulator_is_read_after_a_vigie_restart_without_any_state_request(redis_url: str, tmp_path: Path) -> None:
    bus = Bus(redis_url)
    runner = Runner(TinyLighting("lum-v2"), redis_url, speed=50.0, refresh_s=0.5).start()
    engine = Engine(settings(tmp_path), redis_url, freeze_gc=False).start()
    try:
        wait_until(lambda: assets(engine) == 20, timeout=10)
        engine.stop()
        wait_until(lambda: runner.retained.writes >= 3)  # the world moved on while Vigie was away: newer versions
        engine = Engine(settings(tmp_path), redis_url, freeze_gc=False).start()  # a restarted Vigie knows nothing
        wait_until(lambda: assets(engine) == 20 and engine.retained.stats["versions"] >= 1, timeout=10)  # read from Redis
        assert [s["id"] for s in LocalReader(engine).supervisors()] == ["lum-v2"]
        time.sleep(0.5)
        assert bus.commands() == [] and engine.metrics.state_requests == {}  # nobody was asked
        assert bus.on(".state") == []  # no full state ever went through pub/sub
        assert bus.on(".state_ready")  # only announcements
    finally:
        runner.stop()
        engine.stop()
        bus.close()


def test_after_a_redis_restart_the_simulator_writes_its_state_once_and_vigie_reads_it(own_redis, tmp_path: Path) -> None:  # noqa: F811
    url, procs, restart = own_redis
    sim = TinyLighting("lum-v2")
    runner = Runner(sim, url, speed=50.0, refresh_s=3600.0).start()  # no periodic versions: only those the restart causes
    engine = Engine(settings(tmp_path), url, freeze_gc=False).start()
    try:
        wait_until(lambda: assets(engine) == 20 and engine.retained.stats["versions"] == 1, timeout=10)
        assert runner.retained.writes == 1
        procs[0].kill()
        procs[0].wait(5)
        wait_until(lambda: not engine.bus_up)
        restart()  # an empty Redis: the retained keys are gone
        client = redis.Redis.from_url(url)
        wait_until(lambda: client.exists(state_key("lighting", "lum-v2")), timeout=10)
        wait_until(lambda: engine.bus_up and engine.retained.stats["versions"] == 2, timeout=15)
        assert runner.retained.writes == 2  # written once more, by the simulator's own reconnect
        bus = Bus(url)
        syncs = runner.syncs
        client.publish(cmd_channel("lighting", "lum-v2"), encode(StateRequest(
            domain="lighting", supervisor="lum-v2", ts="2026-06-21T22:00:00Z", request_id="r1", reason="test")))
        wait_until(lambda: runner.syncs == syncs + 1, timeout=5)  # a request makes it check its retained state ...
        assert runner.retained.writes == 2  # ... which Redis holds whole: no second write
        assert bus.on(".state") == [] and bus.on(".state_ready") == []  # and no full state on the bus
        assert assets(engine) == 20 and engine.metrics.state_requests == {}
        bus.close()
        client.close()
    finally:
        runner.stop()
        engine.stop()


@pytest.fixture
def acl_urls(redis_url: str):
    """Vigie's user and one supervisor's, with the rules docs/security.md documents; removed afterwards."""
    admin = redis.Redis.from_url(redis_url)
    admin.execute_command(*vigie_acl("vigie-rt", "vigie-pw"))
    admin.execute_command(*supervisor_acl("lighting", "lum-acl", "sup-pw"))
    host = redis_url.split("//", 1)[1].rsplit("/", 1)[0]
    yield {"vigie": f"redis://vigie-rt:vigie-pw@{host}/0", "sup": f"redis://sup-lighting-lum-acl:sup-pw@{host}/0"}
    admin.execute_command("ACL", "DELUSER", "vigie-rt", "sup-lighting-lum-acl")
    admin.close()


def test_under_the_documented_acls_a_simulator_retains_its_state_and_vigie_reads_it(acl_urls: dict, tmp_path: Path) -> None:
    runner = Runner(TinyLighting("lum-acl"), acl_urls["sup"], speed=50.0, refresh_s=0.5).start()
    engine = Engine(settings(tmp_path), acl_urls["vigie"], freeze_gc=False).start()
    sup = redis.Redis.from_url(acl_urls["sup"], protocol=2)
    try:
        wait_until(lambda: assets(engine) == 20 and engine.retained.stats["versions"] >= 1, timeout=10)
        assert runner.retained is not None and runner.retained.writes >= 1  # still version 2: its keys are its own
        assert engine.metrics.state_requests == {}
        assert sup.get(state_key("lighting", "lum-acl")) is not None
        for call in (lambda: sup.set(state_key("lighting", "lum-other"), b"{}"), lambda: sup.get(state_key("water", "lum-acl")),
                     lambda: sup.set("vigie:snap:meta", b"{}"), lambda: sup.keys("*")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                call()
    finally:
        sup.close()
        runner.stop()
        engine.stop()


def kill_feed(client: redis.Redis) -> None:
    """Cut the engine's subscription (the `vigie-feed` client), as a network blip would."""
    for c in client.client_list():
        if c.get("name") == "vigie-feed":
            client.client_kill_filter(_id=c["id"])


def test_a_v1_supervisor_still_works_and_gets_at_most_one_paced_request_per_reconnect(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    feed = Feed("lum-v1", lamps=5)
    requests = client.pubsub(ignore_subscribe_messages=True)
    requests.subscribe(cmd_channel("lighting", "lum-v1"))
    engine = Engine(settings(tmp_path), redis_url, freeze_gc=False).start()
    codec = Codec()
    got: list[StateRequest] = []

    def answer() -> list[StateRequest]:
        """Collect the requests; answer each with a full state, as a v1 supervisor does."""
        while (m := requests.get_message(timeout=0.01)) is not None:
            got.append(codec.decode_command(m["data"]))
            publish(client, feed.state())
        return got

    try:
        wait_until(lambda: engine.bus_up)
        publish(client, feed.state())
        wait_until(lambda: assets(engine) == 5)
        kill_feed(client)
        wait_until(lambda: answer(), timeout=8)  # the reconnect asks it, once, within the jitter
        assert [(r.reason, r.supervisor) for r in got] == [("reconnect", "lum-v1")]
        wait_until(lambda: engine.retained.pacer.next_due() is None and not engine.retained._inbox.qsize(), timeout=5)
        for _ in range(3):  # a Redis connection flapping: three reconnects in a row
            wait_until(lambda: engine.bus_up)
            kill_feed(client)
            time.sleep(0.3)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # the back-off (at least 4 s after the first request) holds them back
            answer()
            time.sleep(0.05)
        assert len(got) == 1
        wait_until(lambda: len(answer()) == 2, timeout=10)  # then one request for the three of them
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            answer()
            time.sleep(0.05)
        assert [r.reason for r in got] == ["reconnect", "reconnect"]
        assert engine.metrics.state_requests == {"reconnect": 2}
        assert assets(engine) == 5 and not engine.retained.stats["versions"]
        assert isinstance(msgspec.json.decode(encode(got[0])), dict)
    finally:
        engine.stop()
        requests.close()
        client.close()
