"""The territory clock (services/contract/clock.py, services/feed/territory_clock.py) and the clock drift flag, on fakeredis."""
from __future__ import annotations

import fakeredis
import pytest

from services.contract.clock import (
    CLOCK_KEY,
    ClockAnchor,
    ClockError,
    decode_anchor,
    encode_anchor,
)
from services.core.health import SupervisorRegistry, drift_text
from services.feed.territory_clock import TerritoryClock

T0 = 1_780_000_000.0


class Wall:
    """A wall clock the test moves."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_an_anchor_runs_at_its_speed_from_its_epoch():
    a = ClockAnchor(speed=60.0, epoch=T0 + 3600, wall=T0)
    assert a.at(T0) == T0 + 3600
    assert a.at(T0 + 10) == T0 + 3600 + 600
    assert a.wall_of(a.at(T0 + 7)) == pytest.approx(T0 + 7)
    assert not a.is_wall_clock() and ClockAnchor(speed=1.0, epoch=T0 + 0.5, wall=T0).is_wall_clock()


@pytest.mark.parametrize("raw, why", [
    (b"not json", "malformed"),
    (b'{"v": 1, "speed": 0, "epoch": 1, "wall": 1}', "speed 0"),
    (b'{"v": 1, "speed": 60, "epoch": -5, "wall": 1}', "negative time"),
    (b'{"v": 2, "speed": 60, "epoch": 1, "wall": 1}', "unknown version"),
    (b'{"v": 1, "speed": 60, "wall": 1}', "no epoch"),
])
def test_a_key_that_is_not_an_anchor_is_refused_with_a_reason(raw, why):
    with pytest.raises(ClockError):
        decode_anchor(raw)


def test_without_a_key_vigie_runs_on_the_wall_clock_and_writes_nothing():
    r, wall = fakeredis.FakeRedis(), Wall()
    clock = TerritoryClock(wall=wall)
    clock.sync(r)
    assert clock() == T0 and clock.speed == 1.0 and r.get(CLOCK_KEY) is None


def test_vigie_with_its_simulators_at_a_speed_sets_the_clock_and_a_second_process_follows_it():
    r, wall = fakeredis.FakeRedis(), Wall()
    vigie = TerritoryClock(own=ClockAnchor(speed=60.0, epoch=T0, wall=T0, by="vigie"), wall=wall)
    vigie.sync(r)
    assert decode_anchor(r.get(CLOCK_KEY)).by == "vigie" and r.ttl(CLOCK_KEY) > 0
    sim = TerritoryClock("lum-mtp", own=ClockAnchor(speed=600.0, epoch=T0, wall=T0, by="lum-mtp"), wall=wall)
    sim.sync(r)  # the clock already there wins over the one it would set
    wall.t += 10
    assert sim.speed == 60.0 and sim() == vigie() == T0 + 600


def test_vigie_adopts_an_accelerated_clock_announced_later_and_never_runs_back():
    r, wall = fakeredis.FakeRedis(), Wall()
    clock = TerritoryClock(wall=wall)
    clock.sync(r)
    r.set(CLOCK_KEY, encode_anchor(ClockAnchor(speed=60.0, epoch=T0 + 5, wall=T0, by="lum-mtp")))
    clock.sync(r)
    wall.t += 1
    assert clock() == T0 + 65 and clock.speed == 60.0
    # a simulator restarted on its own clock, hours behind: Vigie keeps its time, at the announced pace, and says so in Redis
    r.set(CLOCK_KEY, encode_anchor(ClockAnchor(speed=60.0, epoch=T0 - 7200, wall=wall.t, by="lum-mtp")))
    before = clock()
    clock.sync(r)
    assert clock() >= before and clock.stats["anchored_again"] == 1
    assert decode_anchor(r.get(CLOCK_KEY)).at(wall.t) == pytest.approx(before)


def test_a_garbage_key_is_counted_and_replaced_by_the_writer_s_clock():
    r, wall = fakeredis.FakeRedis(), Wall()
    clock = TerritoryClock(own=ClockAnchor(speed=60.0, epoch=T0, wall=T0, by="vigie"), wall=wall)
    r.set(CLOCK_KEY, b"<garbage>")
    clock.sync(r)
    assert clock.stats["refused"] == 1 and decode_anchor(r.get(CLOCK_KEY)).speed == 60.0


def test_the_clock_never_answers_an_earlier_time():
    wall = Wall()
    clock = TerritoryClock(wall=wall)
    first = clock()
    wall.t -= 30  # the wall clock stepped back (NTP)
    assert clock() == first


@pytest.mark.parametrize("pace, lag, flagged", [
    (1.0, 5.0, False),  # a step of the world and the link
    (1.0, -40.0, True),  # 40 s ahead of Vigie at real time
    (60.0, 1200.0, False),  # 20 wall seconds behind at x60
    (60.0, -3600.0, True),  # an hour ahead at x60: a minute of wall time
    (600.0, 10_000.0, False),
])
def test_a_supervisor_whose_clock_drifts_further_than_30_wall_seconds_is_flagged(pace, lag, flagged):
    reg = SupervisorRegistry(15.0, 60.0, drift_after_s=30.0)
    reg.pace = pace
    h, _, _ = reg.seen("water", "eau", "heartbeat", 1, T0 - lag, T0)
    assert h.clock_drift is flagged and h.to_dict(T0)["clock_drift"] is flagged
    assert [x.id for x in reg.take_drift_changes()] == (["eau"] if flagged else [])
    if flagged:
        assert h.to_dict(T0)["clock_drift_text"]["fr"].startswith("Horloge décalée")
    h, _, _ = reg.seen("water", "eau", "heartbeat", 2, T0 + 1, T0 + 1)  # back in step
    assert not h.clock_drift and h.drifts == (1 if flagged else 0)


def test_silence_is_judged_in_wall_seconds_at_the_clock_s_pace():
    reg = SupervisorRegistry(15.0, 60.0)
    reg.pace = 60.0
    reg.seen("water", "eau", "heartbeat", 1, T0, T0)
    assert not reg.refresh(T0 + 14 * 60)  # 14 wall seconds at x60
    (h,) = reg.refresh(T0 + 16 * 60)
    assert str(h.status) == "late"


def test_drift_words_say_ahead_or_behind_in_both_languages():
    assert drift_text(-27_000) == {"fr": "Horloge décalée : 7 h 30 min en avance sur celle de Vigie",
                                   "en": "Clock drift: 7 h 30 min ahead of Vigie's"}
    assert drift_text(45)["en"] == "Clock drift: 45 s behind Vigie's"


class Stepper:
    """The smallest world the Runner steps: its time, and one telemetry message a step."""

    domain, supervisor_id, step_s = "lighting", "lum-t", 10.0

    def __init__(self, start: float) -> None:
        from datetime import datetime, timezone

        self.now = datetime.fromtimestamp(start, timezone.utc)  # noqa: UP017 - the house style
        self.steps = 0

    def step(self):
        from datetime import timedelta

        self.now += timedelta(seconds=self.step_s)
        self.steps += 1
        return []


def test_the_runner_steps_its_world_up_to_the_territory_clock_and_jumps_when_hopelessly_behind():
    from services.simulators.runner import BEHIND_MAX_S, STEPS_PER_TURN, Runner

    wall = Wall()
    sim = Stepper(T0)
    runner = Runner(sim, "redis://127.0.0.1:1/0", speed=60.0, retain=False,
                    clock=TerritoryClock("lum-t", own=ClockAnchor(speed=60.0, epoch=T0, wall=T0, by="lum-t"), wall=wall))
    wall.t += 1.0  # a wall second at x60: six steps of 10 simulated seconds
    runner._step_to(runner.clock())
    assert sim.steps == 6 and sim.now.timestamp() == T0 + 60
    wall.t += 2.0  # 120 simulated seconds more: caught up, at most STEPS_PER_TURN a turn
    runner._step_to(runner.clock())
    assert sim.now.timestamp() == T0 + 180 and runner.jumps == 0
    wall.t += BEHIND_MAX_S + STEPS_PER_TURN * 10.0 / 60.0 + 1  # the world stalled longer than that: it jumps to the clock
    runner._step_to(runner.clock())
    assert runner.jumps == 1 and runner.clock() - sim.now.timestamp() < sim.step_s
