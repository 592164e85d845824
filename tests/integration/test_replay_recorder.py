"""The recorder on a real redis-server: what it journals, and how it lives through Redis being killed and restarted."""
from __future__ import annotations

import time

import pytest
import redis

from services.alarms.store import JOURNAL_KEY
from services.audit import AUDIT_KEY
from services.journal.store import Journal, JournalConfig
from services.journal.recorder import Recorder
from tests.integration.test_faults import own_redis  # noqa: F401 - the fixture
from tests.replay_world import MiniWorld

pytestmark = pytest.mark.integration


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_bus_commands_and_operator_actions_are_journaled_through_a_redis_restart(own_redis, tmp_path):  # noqa: F811
    url, procs, restart = own_redis
    journal = Journal(JournalConfig(tmp_path))
    recorder = Recorder(journal, url).start()
    world = MiniWorld()
    try:
        wait_until(lambda: recorder.connected, what="the subscription")
        bus = redis.Redis.from_url(url)
        for ch, payload in world.states(time.time()):
            bus.publish(ch, payload)
        bus.publish("cmd.water.eau-t", b'{"kind":"state_request","v":1,"domain":"water","supervisor":"eau-t",'
                                       b'"ts":"2027-01-15T08:00:00Z","request_id":"r1"}')
        bus.publish("sup.water.eau-t.telemetry", b"\x00 not json")  # journaled as it came, refused by the shadow core
        bus.publish("other.channel", b"{}")
        bus.xadd(JOURNAL_KEY, {"at": "1", "alarm": "eau-t/x", "action": "acknowledge", "who": "ana"})
        bus.xadd(JOURNAL_KEY, {"at": "1", "alarm": "eau-t/x", "action": "raise", "who": "supervisor"})
        bus.xadd(AUDIT_KEY, {"actor": "ana", "action": "command.send", "outcome": "ok"})
        wait_until(lambda: recorder.counts["messages"] == 5 and recorder.counts["actions"] == 2, what="the first records")
        procs[0].kill()
        procs[0].wait(5)
        wait_until(lambda: not recorder.connected, what="the loss")
        time.sleep(0.5)
        restart()
        wait_until(lambda: recorder.connected, timeout=20, what="the subscription again")
        bus = redis.Redis.from_url(url)
        for ch, payload in world.step(time.time(), 1):
            bus.publish(ch, payload)
        wait_until(lambda: recorder.counts["messages"] == 5 + 3, what="the records after the restart")
    finally:
        recorder.stop()
    records = list(Journal(JournalConfig(tmp_path), writer=False).records(0, 2e10))
    kinds = [(r.k, r.ch or r.src or ("up" if r.up else "down")) for r in records]
    assert kinds[0] == ("b", "up") and ("b", "down") in kinds and kinds.count(("b", "up")) == 2
    assert [ch for k, ch in kinds if k == "m"] == [
        "sup.lighting.lum-t.state", "sup.water.eau-t.state", "sup.traffic.traf-t.state", "cmd.water.eau-t",
        "sup.water.eau-t.telemetry", "sup.lighting.lum-t.telemetry", "sup.water.eau-t.telemetry", "sup.traffic.traf-t.telemetry"]
    assert next(r for r in records if r.pb).payload() == b"\x00 not json"
    assert [(r.src, r.a.get("who") or r.a.get("actor")) for r in records if r.k == "a"] == [("alarms", "ana"), ("audit", "ana")]
    assert recorder.counts["refused"] == 1 and len(recorder.shadow.state) == 12 + 2 + 4 + 4
    assert [r.t for r in records] == sorted(r.t for r in records)
