"""Replay sessions on a small recorded world: the clock, seeking, isolation, the exercise's actions, the debrief."""
from __future__ import annotations

import pytest

from services.alarms.actions import parse_params
from services.core import Hypervisor
from services.feed.reader import LocalReader
from services.replay.session import Playback, ReplayError, ReplaySession
from services.replay.debrief import debrief_csv
from services.replay.sessions import ReplayManager
from tests.replay_world import T0, FixedEngine, record, world_state


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """20 minutes of the mini world, and a core fed the same records straight (what live had)."""
    live = Hypervisor()
    journal, _ = record(tmp_path_factory.mktemp("journal"), 20, snapshot_s=120, segment_s=300, reference=live)
    yield journal, live
    journal.close()


def session(journal, start=T0 + 60, end=T0 + 1200, **kw) -> ReplaySession:
    return ReplaySession(journal, id=kw.pop("id", "s1"), name="test", start=start, end=end, trainer="trainer", **kw)


def straight_state(tmp_path_factory, t: float) -> dict:
    """The recorded world fed from the start, straight, up to `t` (no snapshot)."""
    core = Hypervisor()
    journal, _ = record(tmp_path_factory.mktemp("straight"), (t - T0) / 60, reference=core, until=t)
    journal.close()
    return world_state(LocalReader(FixedEngine(core, t)))


@pytest.mark.parametrize("minutes", [1.5, 4.0, 9.75, 19.0])
def test_seeking_gives_the_world_fed_straight_from_the_start(recorded, tmp_path_factory, minutes):
    journal, _ = recorded
    t = T0 + minutes * 60
    s = session(journal)
    try:
        s.seek(t)
        assert s.position == t
        assert world_state(s.reader) == straight_state(tmp_path_factory, t)
    finally:
        s.close()


def test_seeking_back_and_forth_lands_on_the_same_world(recorded):
    journal, _ = recorded
    s = session(journal)
    try:
        s.seek(T0 + 700)
        there = world_state(s.reader)
        s.seek(T0 + 130)
        s.seek(T0 + 700)
        assert world_state(s.reader) == there
        s.seek(T0 + 650)
        s.advance_to(T0 + 700)
        assert world_state(s.reader) == there
    finally:
        s.close()


def test_the_clock_runs_at_the_chosen_speed_and_stops_where_asked(recorded):
    journal, _ = recorded
    clock = FakeClock()
    s = session(journal, monotonic=clock, speed=60)
    try:
        s.play()
        clock.now += 2.0
        s.pump()
        assert s.position == T0 + 60 + 120
        s.set_speed(10)
        clock.now += 3.0
        s.pump()
        assert s.position == T0 + 60 + 150
        s.pause()
        clock.now += 100.0
        s.pump()
        assert s.position == T0 + 210 and s.state is Playback.PAUSED
        s.play(until=T0 + 240)
        clock.now += 100.0
        s.pump()
        assert (s.position, s.state) == (T0 + 240, Playback.PAUSED)
        s.play()
        clock.now += 1000.0
        s.pump()
        assert (s.position, s.state) == (T0 + 1200, Playback.ENDED)
        with pytest.raises(ReplayError):
            s.play()
    finally:
        s.close()


@pytest.mark.parametrize("speed, ok", [(0.5, False), (1, True), (2, True), (5, True), (10, True), (60, True), (61, False)])
def test_speeds_go_from_1x_to_60x(recorded, speed, ok):
    journal, _ = recorded
    s = session(journal)
    try:
        if ok:
            s.set_speed(speed)
            assert s.speed == speed
        else:
            with pytest.raises(ReplayError):
                s.set_speed(speed)
        with pytest.raises(ReplayError):
            s.seek(T0 + 5000)
    finally:
        s.close()


def test_two_sessions_and_live_never_see_each_others_acknowledgements(recorded):
    journal, live = recorded
    a, b = session(journal, id="a"), session(journal, id="b")
    try:
        a.seek(T0 + 400)
        b.seek(T0 + 400)
        alarm = "eau-t/sensor-1:low_pressure"
        outcome = a.alarm_action("ack", [alarm], "trainee", parse_params("ack", {"comment": "vu"}))
        assert outcome[0].result == "done"
        assert a.reader.alarms(active_only=False)[0]["acked_by"] == "trainee"
        assert {x["id"]: x["acked_by"] for x in b.reader.alarms(active_only=False)}[alarm] is None
        assert live.alarms.get(alarm).acked_by is None
        b.seek(T0 + 500)
        assert a.position == T0 + 400
    finally:
        a.close()
        b.close()


def test_the_exercise_s_alarm_actions_survive_a_seek(recorded):
    journal, _ = recorded
    s = session(journal)
    try:
        s.seek(T0 + 400)
        s.alarm_action("shelve", ["eau-t/sensor-1:low_pressure"], "trainee", parse_params("shelve", {"reason": "capteur en test", "minutes": 60}))
        s.seek(T0 + 100)
        s.seek(T0 + 420)
        assert {a["id"]: a["state"] for a in s.reader.alarms(active_only=False)}["eau-t/sensor-1:low_pressure"] == "shelved"
    finally:
        s.close()


def test_the_debrief_times_each_acknowledgement_and_lists_the_forgotten(recorded):
    journal, _ = recorded
    manager = ReplayManager(journal)
    try:
        s = manager.create(name="debrief", start=T0 + 30, end=T0 + 1200, trainer="trainer")
        s.advance_to(T0 + 400)
        s.alarm_action("ack", ["eau-t/sensor-1:low_pressure"], "trainee", parse_params("ack", {}))
        s.advance_to(T0 + 500)
        report = manager.debrief(s.id)
        rows = {r["id"]: r for r in report["alarms"]}
        acked = rows["eau-t/sensor-1:low_pressure"]
        assert acked["acked_by"] == "trainee" and acked["time_to_ack_s"] == pytest.approx(400 - acked["annunciated_at"] + T0)
        assert report["unacknowledged"] and "eau-t/sensor-1:low_pressure" not in report["unacknowledged"]
        assert report["summary"]["acknowledged"] == 1
        assert report["actions"][0]["kind"] == "alarm"
        csv = debrief_csv(report)
        assert csv.splitlines()[0].startswith("alarm,priority") and "trainee" in csv
    finally:
        manager.stop()


def test_a_manager_keeps_sessions_apart_and_limits_them(recorded):
    journal, _ = recorded
    manager = ReplayManager(journal, max_sessions=2)
    try:
        one = manager.create(name="one", start=T0, end=T0 + 600, trainer="t")
        two = manager.create(name="two", start=T0 - 9999, end=T0 + 99999, trainer="t")
        assert (two.start, two.end) == journal.span()  # clamped to what was recorded
        with pytest.raises(ReplayError):
            manager.create(name="three", start=T0, end=T0 + 600, trainer="t")
        assert {s["id"] for s in manager.list()} == {one.id, two.id}
        assert manager.close(one.id) and not manager.close(one.id)
        assert manager.get(one.id) is None
    finally:
        manager.stop()
