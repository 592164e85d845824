"""The bus reader's queue and the subscriber's reads, without a redis-server: bytes bound, overflow, order, nothing lost."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis

from services.core.events import StateNeeded
from services.feed.bus import PER_MESSAGE_BYTES, BusChange, FeedQueue, FeedReader, FeedSubscriber
from services.feed.engine import Engine
from services.settings import Settings

DEAD_URL = "redis://127.0.0.1:1/0"  # nothing listens there


def msg(sup: str = "lum", kind: str = "telemetry", size: int = 100, domain: str = "lighting") -> tuple[bytes, bytes]:
    return f"sup.{domain}.{sup}.{kind}".encode(), b"x" * size


def cost(size: int) -> int:
    return size + PER_MESSAGE_BYTES


def wait_until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.01)
    return value


def test_the_queue_holds_at_most_its_bytes_and_counts_what_it_drops_by_domain():
    q = FeedQueue(max_bytes=10 * cost(100))
    q.put([msg(size=100) for _ in range(8)], at=1.0)
    q.put([msg(size=100), msg("eau", domain="water", size=100), msg("eau", domain="water", size=100),
           (b"sup.nowhere", b"x" * 100)], at=2.0)
    assert q.bytes == 10 * cost(100) <= q.max_bytes and q.length == 10
    assert q.dropped == {"water": 1, "unknown": 1} and q.dropped_bytes == 2 * cost(100)
    assert q.stats()["peak_bytes"] == 10 * cost(100) and q.received == 12
    taken = q.take(100, timeout=0)
    assert taken.messages == 10 and q.bytes == 0 and q.length == 0
    assert taken.overflowed == {("water", "eau"): 2.0}  # a bad channel names nobody


def test_an_overflowing_supervisor_is_named_once_per_take_however_many_of_its_messages_were_dropped():
    q = FeedQueue(max_bytes=cost(100))
    q.put([msg(size=100)] + [msg("lum", size=100) for _ in range(50)], at=1.0)
    q.put([msg("lum", size=100)], at=2.0)
    assert q.dropped == {"lighting": 51}
    assert q.take(10, timeout=0).overflowed == {("lighting", "lum"): 1.0}
    assert q.take(10, timeout=0).overflowed == {}
    q.put([msg("lum", size=100), msg("lum", size=100)], at=3.0)  # room for one: the other overflows again, later
    assert q.take(10, timeout=0).overflowed == {("lighting", "lum"): 3.0}


def test_a_message_over_the_payload_limit_is_never_queued_only_its_head_kept():
    q = FeedQueue(max_bytes=1 << 20, max_payload=1000)
    q.put([msg(size=10), msg(size=5000), msg(size=1000)], at=7.0)
    taken = q.take(10, timeout=0)
    assert [len(p) for _, batch in taken.chunks for _, p in batch] == [10, 1000]
    [big] = taken.oversized
    assert (big.channel, big.size, len(big.head), big.at) == (b"sup.lighting.lum.telemetry", 5000, 120, 7.0)
    assert q.bytes == 0 and q.oversized == 1


def test_take_keeps_arrival_order_splits_chunks_and_stops_at_a_bus_change():
    q = FeedQueue(max_bytes=1 << 20)
    first = [(b"sup.lighting.lum.telemetry", str(i).encode()) for i in range(5)]
    q.put(first, at=1.0)
    q.put_change(BusChange(False, "cut", 2.0))
    q.put([(b"sup.lighting.lum.telemetry", b"after")], at=3.0)
    one = q.take(3, timeout=0)
    assert one.chunks == [(1.0, first[:3])] and one.change is None
    two = q.take(100, timeout=0)
    assert two.chunks == [(1.0, first[3:])] and two.change == BusChange(False, "cut", 2.0)
    three = q.take(100, timeout=0)
    assert three.chunks == [(3.0, [(b"sup.lighting.lum.telemetry", b"after")])] and three.change is None
    assert q.bytes == 0 and q.length == 0


def test_a_bus_change_is_queued_even_when_the_queue_is_full():
    q = FeedQueue(max_bytes=cost(10))
    q.put([msg(size=10)], at=1.0)
    q.put_change(BusChange(False, "cut", 2.0))
    assert q.take(10, timeout=0).change == BusChange(False, "cut", 2.0)


def test_heard_names_the_latest_queued_message_of_each_supervisor_and_a_queued_loss():
    q = FeedQueue(max_bytes=1 << 20)
    q.put([msg("lum"), msg("eau", domain="water")], at=1.0)
    q.put([msg("lum", kind="heartbeat")], at=2.0)
    q.put([(b"cmd.lighting.lum", b"{}"), (b"sup.bad channel", b"{}")], at=3.0)
    assert q.heard() == ({"lum": 2.0, "eau": 1.0}, None)
    q.put_change(BusChange(False, "cut", 4.0))
    assert q.heard() == ({"lum": 2.0, "eau": 1.0}, 4.0)
    q.take(100, timeout=0)
    assert q.heard() == ({}, None)


def test_wake_ends_a_consumers_wait_at_once():
    q = FeedQueue(max_bytes=1 << 20)
    threading.Timer(0.05, q.wake).start()
    t0 = time.monotonic()
    assert not q.take(10, timeout=5.0)
    assert time.monotonic() - t0 < 2.0


class BreakingConnection:
    """A subscription connection that delivers some messages, then breaks (as a CLIENT KILL does)."""

    def __init__(self, messages: list[tuple[bytes, bytes]]) -> None:
        self.replies = [[b"pmessage", b"sup.*", ch, p] for ch, p in messages]

    def can_read(self, timeout: float = 0) -> bool:
        return True

    def read_response(self, **_kwargs):
        if self.replies:
            return self.replies.pop(0)
        raise redis.ConnectionError("Connection closed by server.")


def test_what_was_read_before_the_connection_broke_is_returned_and_the_loss_reported_after_it():
    lost: list[str] = []
    sub = FeedSubscriber(DEAD_URL, on_lost=lost.append)
    sent = [msg(size=i) for i in range(1, 6)]
    sub._conn, sub.connected = BreakingConnection(sent), True
    assert sub.poll(0.1, 100) == sent  # the five messages read before the break are kept...
    assert not sub.connected and lost == []
    assert sub.poll(0.1, 100) == [] and lost == ["Connection closed by server."]  # ... and the loss follows them
    assert sub.losses == 1


def test_the_reader_queues_the_messages_read_before_a_cut_then_the_loss():
    q = FeedQueue(max_bytes=1 << 20)
    reader = FeedReader(DEAD_URL, q, name="test-reader", clock=lambda: 42.0, backoff_initial_s=5.0)
    sent = [msg(size=i) for i in range(1, 4)]
    reader.subscriber._conn, reader.subscriber.connected = BreakingConnection(sent), True
    reader.start()
    try:
        wait_until(lambda: q.heard()[1] is not None)
    finally:
        reader.stop()
    taken = q.take(100, timeout=0)
    assert taken.chunks == [(42.0, sent)]
    assert taken.change is not None and taken.change.up is False


def test_the_engine_applies_what_the_reader_queued_with_its_receive_time_and_asks_overflowed_supervisors_once(tmp_path: Path, caplog):
    from tests.unit.test_engine_unit import state, telemetry

    now = [1_782_064_800.0]
    engine = Engine(Settings(state_dir=tmp_path, snapshot_interval_s=0, feed_queue_bytes=len(state()[1]) + PER_MESSAGE_BYTES + 100),
                    DEAD_URL, clock=lambda: now[0], freeze_gc=False)
    seen: list = []
    engine.subscribe(seen.extend)
    queue = engine._queue
    queue.put([state("lum", n=4)], at=now[0] - 54)  # received 54 s before the engine gets to it
    queue.put([telemetry("lum", seq=2, status="ok") for _ in range(3)], at=now[0] - 53)  # no room left: dropped
    engine.start()
    try:
        wait_until(lambda: engine.core.health.get("lum") is not None and StateNeeded("lighting", "lum", "overflow") in seen)
        assert engine.core.health.get("lum").age(now[0]) == 54
        assert queue.stats()["dropped"] == {"lighting": 3}
        queue.put([telemetry("lum", seq=9, status="ok")], at=now[0])  # a gap follows the drop; no second overflow request
        wait_until(lambda: engine.core.health.get("lum").seq == 9)
        assert [e for e in seen if isinstance(e, StateNeeded) and e.reason == "overflow"] == [StateNeeded("lighting", "lum", "overflow")]
        assert [r.getMessage() for r in caplog.records if "bus queue full" in r.getMessage()] == [
            "bus queue full (0 MB): 3 messages dropped so far (lighting 3); asking lum for their state"]
    finally:
        engine.stop()
