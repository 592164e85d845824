"""Reads never wait for the engine: the views it publishes after each turn are immutable, consistent, cheap to make."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import msgspec
import pytest

from services.alarms.actions import AlarmActions
from services.contract import Alarm, AlarmEvent, encode, sup_channel
from services.core.views import BUCKETS, FrozenMap
from services.feed.engine import Engine
from services.feed.reader import LocalReader
from services.settings import Settings
from tests.unit.test_engine_unit import DEAD_URL, NOW, TS, state, telemetry


def alarm(sup: str = "lum", seq: int = 3, asset: str = "lum-1") -> tuple[bytes, bytes]:
    msg = Alarm(v=1, kind="alarm", domain="lighting", supervisor=sup, ts=TS, seq=seq,
                events=[AlarmEvent(id=f"lamp_fault:{asset}", asset=asset, action="raise", severity="major", code="lamp_fault",
                                   message="Lamp out")])
    return sup_channel("lighting", sup, "alarm").encode(), encode(msg)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = Engine(Settings(state_dir=tmp_path), DEAD_URL, clock=lambda: NOW)
    e.ingest([state("lum", n=6), state("lux", n=3), alarm()])
    return e


READS = {  # every question a page or the API asks
    "a page": lambda r: r.assets(domain="lighting", limit=2),
    "a filtered page": lambda r: r.assets(condition="ok", bbox=(3.8, 43.5, 3.9, 43.7)),
    "one asset": lambda r: r.asset("lum-3"),
    "the map": lambda r: r.assets_geo("lighting"),
    "alarms": lambda r: r.alarms(),
    "alarms by id": lambda r: r.alarms_by_id(["lum/lamp_fault:lum-1"]),
    "kpis": lambda r: r.kpis(),
    "kpi history": lambda r: r.kpi_history("lighting"),
    "supervisors": lambda r: r.supervisors(),
    "summary": lambda r: r.summary(),
    "health": lambda r: r.health(),
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_read_completes_while_another_thread_holds_the_engine_lock(engine: Engine, read) -> None:
    reader = LocalReader(engine)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        answer: list = []
        reading = threading.Thread(target=lambda: answer.append(read(reader)))
        reading.start()
        reading.join(2.0)
        assert answer, "the read waited for the engine's lock"
    finally:
        release.set()
        holder.join()


def test_a_view_stays_as_it_was_published_while_the_core_moves_on(engine: Engine) -> None:
    before = engine.views.current
    engine.ingest([telemetry("lum", seq=4, status="brokenLantern")])
    after = engine.views.current
    assert after.version > before.version
    assert (before.domains["lighting"].assets.get("lum-0").condition, before.domains["lighting"].assets.get("lum-0").values["status"]) \
        == ("ok", "ok")
    assert (after.domains["lighting"].assets.get("lum-0").condition, after.domains["lighting"].assets.get("lum-0").values["status"]) \
        == ("fault", "brokenLantern")
    assert msgspec.json.decode(before.kpis) != msgspec.json.decode(after.kpis)  # the same turn's KPIs, in both
    with pytest.raises(AttributeError):
        before.domains["lighting"].assets.get("lum-0").condition = "ok"  # type: ignore[misc]
    with pytest.raises(TypeError):
        before.domains["lighting"] = None  # type: ignore[index]


def test_a_reader_gets_its_own_copy(engine: Engine) -> None:
    reader = LocalReader(engine)
    _total, page = reader.assets(domain="lighting", limit=1)
    page[0]["values"]["status"] = "edited by a caller"
    reader.alarms()[0]["state"] = "edited by a caller"
    assert reader.asset(page[0]["id"])["values"]["status"] == "ok"
    assert reader.alarms()[0]["state"] != "edited by a caller"


def test_the_apis_json_is_the_same_answer(engine: Engine) -> None:
    reader = LocalReader(engine)
    total, raw = reader.assets_json(domain="lighting", offset=1, limit=3)
    assert (total, msgspec.json.decode(raw)) == reader.assets(domain="lighting", offset=1, limit=3)
    assert msgspec.json.decode(reader.alarms_json(active_only=False, limit=5)) == reader.alarms(active_only=False, limit=5)


def test_a_turn_copies_only_the_buckets_of_what_changed() -> None:
    old = FrozenMap({f"lamp-{i}": i for i in range(30_000)})
    new, keys_changed = old.evolve({"lamp-7": -7})
    shared = sum(a is b for a, b in zip(old._buckets, new._buckets))
    assert shared == BUCKETS - 1 and not keys_changed
    assert (old.get("lamp-7"), new.get("lamp-7"), len(new)) == (7, -7, 30_000)
    gone, keys_changed = new.evolve({"lamp-7": None, "lamp-new": 1})
    assert keys_changed and len(gone) == 30_000 and "lamp-7" not in gone and "lamp-7" in new


def test_pages_are_in_id_order_across_domains_and_filters(engine: Engine) -> None:
    reader = LocalReader(engine)
    total, items = reader.assets(limit=100)
    assert total == 9 and [a["id"] for a in items] == sorted(a["id"] for a in items)
    assert [a["id"] for a in reader.assets(offset=2, limit=3)[1]] == [a["id"] for a in items[2:5]]
    assert reader.assets(bbox=(3.869, 43.59, 3.881, 43.61))[0] == 4  # lamps 0 and 1 of both supervisors


def test_a_request_is_answered_once_its_change_is_readable(engine: Engine) -> None:
    reader = LocalReader(engine)
    fut: Future = Future()
    events: list = []
    engine._serve((lambda core, now: (True, core.acknowledge("lum/lamp_fault:lum-1", "ada", now)), fut), NOW, events)
    assert not fut.done()  # not before the turn's view is out: the caller must read its own acknowledgement
    engine._publish(events, NOW)
    assert fut.result(0) is True and reader.alarms()[0]["acked_by"] == "ada"


def test_an_action_looks_domains_up_in_the_view_without_a_turn_of_the_engine(engine: Engine) -> None:
    assert not engine.running  # a turn would raise EngineUnavailable
    assert AlarmActions(engine).domains(["lum/lamp_fault:lum-1", "nope"]) == {"lum/lamp_fault:lum-1": "lighting", "nope": None}


def test_a_request_ends_the_engine_threads_wait_for_bus_data(engine: Engine) -> None:
    waited: list[float] = []

    def turn() -> None:  # what the loop waits on between turns when the bus is quiet
        t = time.monotonic()
        engine._queue.take(100, 5.0)
        waited.append(time.monotonic() - t)

    loop = threading.Thread(target=turn)
    loop.start()
    time.sleep(0.05)
    engine.wake()  # what execute() does once the request is queued
    loop.join(2.0)
    assert waited and waited[0] < 1.0
