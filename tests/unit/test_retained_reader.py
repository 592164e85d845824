"""When the state reader reads a retained state (services/feed/retained.py), turn by turn on a fixed clock, over an
in-memory Redis (fakeredis): what a supervisor wrote (services/feed/retained_writer.py) is read when Vigie needs it
and only then; a v1 supervisor is asked, paced; nothing spins."""
from __future__ import annotations

import random

import fakeredis
import pytest

from services.contract import Codec, State, StateRequest
from services.contract.retained import state_key
from services.feed.retained import RequestPacer, RetainedStateReader
from services.feed.retained_writer import RetainedStateWriter
from tests.unit.test_sim_retained import Lamps


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Commands:
    """What the reader publishes on `cmd.` channels."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, StateRequest]] = []

    def publish(self, channel: str, payload: bytes) -> int:
        self.sent.append((channel, Codec().decode_command(payload)))
        return 1

    def close(self) -> None:
        pass


class World:
    """One simulated supervisor writing its retained state, and a reader applying what it reads."""

    def __init__(self) -> None:
        self.redis = fakeredis.FakeRedis()
        self.clock = Clock()
        self.sim = Lamps(2500)  # two parts
        self.writer = RetainedStateWriter("lighting", "lum-t", refresh_s=10.0, boot="b1")
        self.applied: list[tuple[str, int]] = []
        self.accept = True
        self.commands = Commands()
        self.reader = RetainedStateReader("redis://unused", self.apply, clock=self.clock, client=self.redis, commands=self.commands,
                                          pacer=RequestPacer(rng=random.Random(1), spread_s=0.0))

    def apply(self, part: State, since: float) -> bool:
        if self.accept:
            self.applied.append((part.snapshot, part.part))
        return self.accept

    def write(self):
        self.sim.step()
        return self.writer.write(self.redis, self.sim.retained, self.clock.t).ready

    def versions_read(self) -> list[str]:
        return [snap for snap, part in self.applied if part == 1]


@pytest.fixture
def world() -> World:
    return World()


def test_at_start_every_retained_state_in_redis_is_read_part_by_part(world: World) -> None:
    world.write()
    world.reader.turn()
    assert world.applied == [("b1-1", 1), ("b1-1", 2)] and world.reader.stats["scans"] == 1
    world.reader.turn()
    assert world.versions_read() == ["b1-1"] and world.commands.sent == []  # read once, nobody asked


def test_a_new_version_is_not_read_unless_vigie_needs_it(world: World) -> None:
    world.write()
    world.reader.turn()
    world.reader.announced(world.write())  # readings changed: Vigie heard them on the bus already
    world.reader.turn()
    assert world.versions_read() == ["b1-1"]
    world.reader.need("lighting", "lum-t", "reconnect", 5)  # ... until it reconnects: it may have missed some
    world.reader.turn()
    assert world.versions_read() == ["b1-1", "b1-2"]


def test_after_a_gap_the_first_version_written_after_it_is_read(world: World) -> None:
    world.write()
    world.reader.turn()
    world.sim.step(), world.sim.step()  # one of these was lost: the next message reveals the gap
    world.reader.need("lighting", "lum-t", "sequence_gap", world.sim.seq)
    world.reader.turn()
    assert world.versions_read() == ["b1-1"]  # the current version is older than the loss: wait for the next
    world.clock.t += 8.0
    world.reader.announced(world.write())
    world.reader.turn()
    assert world.versions_read() == ["b1-1", "b1-2"]


def test_a_reading_heard_before_its_asset_was_defined_comes_back_with_the_next_version(world: World) -> None:
    world.write()  # Vigie starts while the supervisor runs: its version is not read yet ...
    world.sim.step()  # ... when a reading of one of its lamps is heard: unknown, dropped
    world.reader.need("lighting", "lum-t", "unknown_asset", world.sim.seq)
    world.reader.turn()
    assert world.versions_read() == ["b1-1"]  # read at once: it defines the lamps, not the reading dropped after it
    world.clock.t += 8.0
    world.reader.announced(world.write())
    world.reader.turn()
    assert world.versions_read() == ["b1-1", "b1-2"]  # the first version written after the reading holds it


def test_after_a_gap_with_no_newer_version_the_wait_ends_after_refresh_s(world: World) -> None:
    first = world.write()
    world.reader.turn()
    world.reader.need("lighting", "lum-t", "sequence_gap", first.seq + 3)  # lost: heartbeats only, no new version comes
    world.reader.turn()
    world.clock.t += 10.0 + 5.0
    world.reader.turn()
    assert world.versions_read() == ["b1-1"] and world.reader._sups["lum-t"].want_seq is None  # what Vigie has is current
    assert world.reader._wait_s() > 0  # nothing left to do at once: the thread sleeps


def test_a_restarted_supervisor_is_read_again(world: World) -> None:
    world.write()
    world.reader.turn()
    world.writer = RetainedStateWriter("lighting", "lum-t", refresh_s=10.0, boot="b2")
    world.reader.announced(world.write())
    world.reader.turn()
    assert world.versions_read() == ["b1-1", "b2-1"]


def test_a_state_the_core_refuses_is_read_again_only_when_the_registry_changes(world: World) -> None:
    world.write()
    world.accept = False  # not approved (yet)
    world.reader.turn()
    world.reader.turn()
    assert world.reader.stats["versions"] == 0 and world.reader._wait_s() > 0  # no spinning on a refusal
    world.accept = True
    world.reader.registry_changed("lum-t")  # learned, approved
    world.reader.turn()
    assert world.versions_read() == ["b1-1"]


def test_a_supervisor_without_retained_state_is_asked_once_paced(world: World) -> None:
    for reason in ("unknown_asset", "sequence_gap"):
        world.reader.need("water", "eau-v1", reason, 7)
    world.reader.turn()
    world.reader.turn()
    assert [(ch, r.reason) for ch, r in world.commands.sent] == [("cmd.water.eau-v1", "sequence_gap")]  # one, the latest reason
    world.reader.need("water", "eau-v1", "reconnect", 8)
    world.clock.t += 1.0
    world.reader.turn()
    assert len(world.commands.sent) == 1  # the back-off (4 to 5 s) holds, reconnect or not
    world.clock.t += 5.0
    world.reader.turn()
    assert [r.reason for _, r in world.commands.sent] == ["sequence_gap", "reconnect"]
    world.reader.state_applied("water", "eau-v1", retained=False)  # its answer
    world.reader.need("water", "eau-v1", "sequence_gap", 30)
    world.clock.t += 1.0
    world.reader.turn()
    assert len(world.commands.sent) == 2  # answered, but the back-off (now 8 to 10 s) still holds


def test_a_retained_state_lost_by_redis_waits_for_the_supervisor_then_asks_it(world: World) -> None:
    world.write()
    world.reader.turn()
    world.redis.flushall()  # a Redis restarted empty; the supervisor rewrites on its reconnect ... or does not
    world.reader.need("lighting", "lum-t", "reconnect", 9)
    world.reader.turn()
    assert world.commands.sent == []
    world.clock.t += 15.0
    world.reader.turn()
    assert [r.reason for _, r in world.commands.sent] == ["retained_missing"]
    assert state_key("lighting", "lum-t").encode() not in world.redis.keys()


def test_once_a_second_publisher_is_gone_the_first_version_announced_after_is_read(world: World) -> None:
    world.write()
    world.reader.turn()
    world.reader.announced(world.write())  # written while its messages were set aside (two publishers): not needed yet
    world.reader.turn()
    world.reader.need("lighting", "lum-t", "single_publisher", None)  # one publisher left: what it said meanwhile was lost
    world.reader.turn()
    assert world.versions_read() == ["b1-1"]  # the version in Redis may predate what was lost: wait for the next one
    world.clock.t += 8.0
    world.reader.announced(world.write())
    world.reader.turn()
    assert world.versions_read() == ["b1-1", "b1-3"]
