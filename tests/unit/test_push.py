"""The push hub: coalescing per channel, versioned deltas, consistent snapshots, replay. Fake clock, fake reader."""
from __future__ import annotations

import copy
import time

import pytest

from services.core.events import AlarmsChanged, AssetsChanged, AssetsRemoved, KpisChanged, SupervisorChanged
from services.web.push import CONDITION_CODE, PushHub, build_snapshot, geo_collection, geo_columns


class FakeReader:
    """The Reader calls the hub makes, over plain dicts a test edits."""

    def __init__(self) -> None:
        self.assets_by_id = {
            "lamp-1": {"id": "lamp-1", "name": "Lanterne 1", "type": "Streetlight", "condition": "ok", "lon": 3.87, "lat": 43.61},
            "lamp-2": {"id": "lamp-2", "name": "Lanterne 2", "type": "Streetlight", "condition": "ok", "lon": 3.88, "lat": 43.61},
            "pipe-1": {"id": "pipe-1", "name": "Conduite 1", "type": "Pipe", "condition": "ok", "coords": [[3.8, 43.6], [3.81, 43.61]]},
        }
        self.domains = {"lamp-1": "lighting", "lamp-2": "lighting", "pipe-1": "water"}
        self.alarm_list: list[dict] = []
        self.kpi = {"lighting": [{"key": "lamps_faulty", "domain": "lighting", "value": 0, "unit": "", "abnormal": False}],
                    "water": [], "traffic": []}
        self.history = {"lighting": {"lamps_faulty": [[100.0, 0]]}, "water": {}, "traffic": {}}
        self.sups = [{"id": "lum", "domain": "lighting", "status": "live", "reason": "", "last_seen": 10.0, "assets": 2, "age_s": 0.0}]
        self.summ = {"alarms_by_priority": {"urgent": 0, "high": 0, "low": 0, "diagnostic": 0}, "unacknowledged": 0,
                     "supervisors": {"live": 1, "late": 0, "stale": 0}, "bus_up": True, "assets": 3}

    def asset(self, asset_id):
        return self.assets_by_id.get(asset_id)

    def assets(self, domain=None, type=None, condition=None, bbox=None, offset=0, limit=100):
        rows = [a for i, a in self.assets_by_id.items() if self.domains.get(i) == domain and a["condition"] == condition]
        return len(rows), rows[offset : offset + limit]

    def assets_geo(self, domain):
        return [a for i, a in self.assets_by_id.items() if self.domains.get(i) == domain]

    def alarms(self, active_only=True, limit=None):
        return [a for a in self.alarm_list if a["active"] or not active_only]

    def alarms_by_id(self, ids):
        return {a["id"]: a for a in self.alarm_list if a["id"] in set(ids)}

    def kpis(self):
        return copy.deepcopy(self.kpi)

    def kpi_history(self, domain):
        return copy.deepcopy(self.history[domain])

    def supervisors(self):
        return [dict(s) for s in self.sups]

    def summary(self):
        return dict(self.summ)


def alarm(aid: str, asset: str = "lamp-1", active: bool = True, acknowledged: bool = False) -> dict:
    return {"id": aid, "source": "supervisor", "domain": "lighting", "supervisor": "lum", "asset": asset, "code": "lamp_off",
            "severity": "major", "priority": "high", "message": "Lampe éteinte", "active": active,
            "acknowledged": acknowledged, "state": "active_unack", "raised_at": 5.0, "updated_at": 5.0}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader()


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(reader, sent, clock) -> PushHub:
    def emit(event, message):
        assert event == "push" and message["v"] == 1
        sent.extend((d["ch"], d) for d in message["deltas"])

    h = PushHub(reader, emit, window_s=0.25, poll_s=1.0, clock=clock, wall=lambda: 1.7e9)
    h._codes = {"lighting": {"lamp-1": 0, "lamp-2": 0}, "water": {"pipe-1": 0}, "traffic": {}}
    h.flush()  # the first poll: supervisors and summary
    sent.clear()
    return h


def channels(sent: list) -> list[str]:
    return [ch for ch, _ in sent]


def test_an_idle_channel_emits_at_once_then_waits_for_its_window(hub, reader, sent, clock):
    reader.assets_by_id["lamp-1"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
    hub.flush()
    assert channels(sent) == ["lighting"] and sent[0][1]["assets"] == {"lamp-1": 4}

    reader.assets_by_id["lamp-2"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-2",))])
    clock.t += 0.1
    assert hub.flush() == []  # inside the window: held
    clock.t += 0.15
    assert [p["assets"] for _, p in hub.flush()] == [{"lamp-2": 4}]


def test_a_value_change_that_leaves_the_condition_as_it_was_pushes_nothing(hub, reader, sent):
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])  # e.g. a new power reading, still ok
    hub.flush()
    assert sent == []


def test_changes_within_a_window_coalesce_into_one_delta_with_the_latest_state(hub, reader, sent, clock):
    reader.assets_by_id["lamp-1"]["condition"] = "maintenance"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
    hub.flush()
    for condition in ("fault", "ok", "warning"):
        reader.assets_by_id["lamp-2"]["condition"] = condition
        hub.on_events([AssetsChanged("lighting", "lum", ("lamp-2",))])
        clock.t += 0.05
        hub.flush()
    clock.t += 0.25
    hub.flush()
    assert [p["assets"] for _, p in sent] == [{"lamp-1": 2}, {"lamp-2": CONDITION_CODE["warning"]}]


def test_each_channel_counts_its_own_sequence(hub, reader, sent, clock):
    for aid in ("lamp-1", "lamp-2", "pipe-1"):
        reader.assets_by_id[aid]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",)), AssetsChanged("water", "eau", ("pipe-1",))])
    hub.flush()
    clock.t += 0.3
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-2",))])
    hub.flush()
    assert [(ch, p["seq"]) for ch, p in sent] == [("lighting", 1), ("water", 1), ("lighting", 2)]
    assert all(p["v"] == 1 and p["ch"] == ch and p["t"] == 1.7e9 for ch, p in sent)


def test_a_removed_asset_is_listed_and_bumps_the_geometry_revision(hub, reader, sent):
    del reader.assets_by_id["lamp-2"]
    hub.on_events([AssetsRemoved("lighting", "lum", ("lamp-2",))])
    hub.flush()
    assert sent[0][1]["removed"] == ["lamp-2"] and sent[0][1]["geo_rev"] == 1


def test_a_new_asset_bumps_the_geometry_revision_a_known_one_does_not(hub, reader, sent, clock):
    reader.assets_by_id["lamp-1"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
    hub.flush()
    reader.assets_by_id["lamp-3"] = {"id": "lamp-3", "name": "L3", "type": "Streetlight", "condition": "ok", "lon": 3.9, "lat": 43.6}
    reader.domains["lamp-3"] = "lighting"
    clock.t += 0.3
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-3",))])
    hub.flush()
    assert [p["geo_rev"] for _, p in sent] == [0, 1]


def test_kpi_changes_carry_the_values_and_only_new_trend_points(hub, reader, sent, clock):
    hub.on_events([KpisChanged("lighting")])
    hub.flush()
    reader.history["lighting"]["lamps_faulty"].append([160.0, 2])
    reader.kpi["lighting"][0]["value"] = 2
    clock.t += 0.3
    hub.on_events([KpisChanged("lighting")])
    hub.flush()
    assert sent[0][1]["kpis"][0]["value"] == 0 and sent[0][1]["history"] == {"lamps_faulty": [[100.0, 0]]}
    assert sent[1][1]["kpis"][0]["value"] == 2 and sent[1][1]["history"] == {"lamps_faulty": [[160.0, 2]]}


def test_alarm_deltas_carry_the_asset_name_and_list_alarms_gone_from_the_book(hub, reader, sent, clock):
    reader.alarm_list = [alarm("lum/a1")]
    hub.on_events([AlarmsChanged(("lum/a1",))])
    hub.flush()
    reader.alarm_list = []
    clock.t += 0.3
    hub.on_events([AlarmsChanged(("lum/a1",))])
    hub.flush()
    alarm_deltas = [p for ch, p in sent if ch == "alarms"]
    assert alarm_deltas[0]["alarms"][0]["asset_name"] == "Lanterne 1" and alarm_deltas[0]["removed"] == []
    assert alarm_deltas[1]["alarms"] == [] and alarm_deltas[1]["removed"] == ["lum/a1"]


def test_supervisors_are_polled_and_pushed_only_when_they_changed(hub, reader, sent, clock):
    clock.t += 1.0
    hub.flush()
    assert "supervisors" not in channels(sent)
    reader.sups[0]["last_seen"] = 12.0
    clock.t += 1.0
    hub.flush()
    assert channels(sent) == ["supervisors"] and "age_s" not in sent[0][1]["supervisors"][0]


def test_a_status_change_pushes_supervisors_and_the_summary_within_a_window(hub, reader, sent, clock):
    clock.t += 0.25
    reader.sups[0]["status"] = "stale"
    reader.summ["supervisors"] = {"live": 0, "late": 0, "stale": 1}
    hub.on_events([SupervisorChanged("lum", "lighting", "stale")])
    hub.flush()
    assert channels(sent) == ["supervisors", "summary"]
    assert sent[1][1]["summary"]["supervisors"]["stale"] == 1


def test_a_snapshot_names_the_sequence_numbers_it_is_consistent_with(hub, reader, clock):
    reader.assets_by_id["lamp-2"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-2",))])
    hub.flush()
    snap = hub.snapshot()
    assert snap["seq"]["lighting"] == 1
    assert snap["assets"] == {"lighting": {"lamp-2": 4}, "water": {}, "traffic": {}}
    assert snap["geo_rev"] == {"lighting": 0, "water": 0, "traffic": 0}


def test_a_page_that_missed_deltas_gets_them_back_until_they_are_too_old(hub, reader, clock):
    for i in range(70):
        reader.assets_by_id["lamp-1"]["condition"] = ("fault", "ok")[i % 2]
        hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
        clock.t += 0.3
        hub.flush()
    assert [p["seq"] for p in hub.replay("lighting", 67)] == [68, 69, 70]
    assert hub.replay("lighting", 70) == []
    assert hub.replay("lighting", 2) is None  # only the last 64 are kept: take a snapshot


def test_many_changes_at_once_read_only_the_abnormal_assets(hub, reader, sent, clock):
    for i in range(400):
        reader.assets_by_id[f"x-{i}"] = {"id": f"x-{i}", "name": f"X{i}", "type": "Streetlight", "condition": "ok", "lon": 3.8, "lat": 43.6}
        reader.domains[f"x-{i}"] = "lighting"
        hub._codes["lighting"][f"x-{i}"] = 0
    reader.assets_by_id["x-7"]["condition"] = "fault"
    reader.asset = None  # the bulk path must not look assets up one by one
    hub.on_events([AssetsChanged("lighting", "lum", tuple(f"x-{i}" for i in range(400)))])
    hub.flush()
    assert sent[0][1]["assets"] == {"x-7": 4} and sent[0][1]["geo_rev"] == 0


def test_a_failing_transport_does_not_stop_the_hub(reader, clock):
    def broken(event, message):
        raise ConnectionError("socket gone")

    hub = PushHub(reader, broken, window_s=0.25, clock=clock)
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
    assert [ch for ch, _ in hub.flush()] == ["lighting", "supervisors", "summary"]


def test_the_thread_emits_without_being_flushed_by_hand(reader):
    got = []
    hub = PushHub(reader, lambda event, m: got.extend(d["ch"] for d in m["deltas"]), window_s=0.01, poll_s=0.05).start()
    try:
        reader.assets_by_id["lamp-1"]["condition"] = "fault"
        hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
        deadline = time.monotonic() + 2
        while "lighting" not in got and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        hub.stop()
    assert "lighting" in got


@pytest.mark.parametrize(
    "row, geometry, code",
    [
        ({"id": "a", "type": "Streetlight", "condition": "fault", "lon": 3.8, "lat": 43.6}, {"type": "Point", "coordinates": [3.8, 43.6]}, 4),
        ({"id": "b", "type": "RoadSegment", "condition": "warning", "coords": [[3.8, 43.6], [3.9, 43.7]]},
         {"type": "LineString", "coordinates": [[3.8, 43.6], [3.9, 43.7]]}, 3),
        ({"id": "c", "type": "Pump", "condition": "unknown", "lon": 3.8, "lat": 43.6}, {"type": "Point", "coordinates": [3.8, 43.6]}, 1),
        ({"id": "d", "type": "StreetlightGroup", "condition": "ok"}, None, None),
    ],
)
def test_map_features_carry_id_type_and_condition_code(row, geometry, code):
    features = geo_collection([row])["features"]
    if geometry is None:
        assert features == []
    else:
        assert features == [{"type": "Feature", "geometry": geometry, "properties": {"id": row["id"], "k": row["type"], "c": code}}]


def test_a_snapshot_without_a_hub_has_no_sequence_numbers(reader):
    reader.alarm_list = [alarm("lum/a1", asset="lamp-2")]
    snap = build_snapshot(reader)
    assert snap["seq"] is None and snap["alarms"][0]["asset_name"] == "Lanterne 2"


def test_points_travel_as_columns_and_other_geometries_as_features():
    rows = [{"id": "a", "type": "Streetlight", "condition": "fault", "lon": 3.8765432, "lat": 43.6},
            {"id": "b", "type": "StreetlightControlCabinet", "condition": "ok", "lon": 3.9, "lat": 43.61},
            {"id": "c", "type": "Pipe", "condition": "ok", "coords": [[3.8, 43.6], [3.81, 43.61]]}]
    cols = geo_columns(rows)
    assert cols["id"] == ["a", "b"] and cols["c"] == [4, 0] and cols["lon"][0] == 3.876543
    assert [cols["kinds"][k] for k in cols["k"]] == ["Streetlight", "StreetlightControlCabinet"]
    assert [f["properties"]["id"] for f in cols["features"]] == ["c"]


def test_a_segment_slowing_down_pushes_its_speed_band_and_the_snapshot_holds_it(hub, reader, sent, clock):
    reader.assets_by_id["seg-1"] = {"id": "seg-1", "name": "Avenue", "type": "RoadSegment", "condition": "ok",
                                    "values": {"averageVehicleSpeed": 50.0}, "props": {"freeFlowSpeed": 50.0}}
    reader.domains["seg-1"] = "traffic"
    hub._codes["traffic"]["seg-1"] = 0
    hub.on_events([AssetsChanged("traffic", "tra", ("seg-1",))])
    hub.flush()
    assert sent == []  # flows freely, as before: nothing moved

    reader.assets_by_id["seg-1"]["values"]["averageVehicleSpeed"] = 10.0  # still "ok" to the core, but jammed
    clock.t += 1
    hub.on_events([AssetsChanged("traffic", "tra", ("seg-1",))])
    hub.flush()
    assert [(ch, p["bands"], p["assets"]) for ch, p in sent] == [("traffic", {"seg-1": 3}, {})]
    assert hub.snapshot()["bands"]["traffic"] == {"seg-1": 3}

    reader.assets_by_id["seg-1"]["values"]["averageVehicleSpeed"] = 45.0
    clock.t += 1
    hub.on_events([AssetsChanged("traffic", "tra", ("seg-1",))])
    hub.flush()
    assert sent[-1][1]["bands"] == {"seg-1": 0}  # back to normal: the page drops the colour
    assert hub.snapshot()["bands"]["traffic"] == {}


def test_nothing_is_built_while_nobody_listens_and_a_snapshot_catches_up(hub, reader, sent, clock):
    hub.count_audience()
    assert not hub.heard
    reader.assets_by_id["lamp-1"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-1",))])
    assert hub._next_due(clock.t) == clock.t + hub.poll_s  # the thread only checks back now and then
    assert hub.snapshot()["assets"]["lighting"] == {"lamp-1": 4}  # the page reads what changed meanwhile
    assert channels(sent) == ["lighting"]
    hub.listening()
    assert hub.heard
    hub.left()
    assert not hub.heard


def test_a_browser_connecting_gets_what_changed_while_nobody_listened(hub, reader, sent, clock):
    hub.count_audience()
    reader.assets_by_id["lamp-2"]["condition"] = "fault"
    hub.on_events([AssetsChanged("lighting", "lum", ("lamp-2",))])
    hub.listening()
    assert hub._next_due(clock.t) == clock.t  # due at once
    hub.flush()
    assert sent[0][1]["assets"] == {"lamp-2": 4}


def test_many_band_changes_are_computed_from_the_changed_segments_not_the_domain(hub, reader, sent, clock):
    for i in range(400):
        aid = f"seg-{i}"
        reader.assets_by_id[aid] = {"id": aid, "name": aid, "type": "RoadSegment", "condition": "ok",
                                    "values": {"averageVehicleSpeed": 10.0 if i == 3 else 50.0}, "props": {"freeFlowSpeed": 50.0}}
        reader.domains[aid] = "traffic"
        hub._codes["traffic"][aid] = 0
    bulk = reader.assets

    def no_whole_domain(domain=None, type=None, condition=None, **kw):
        assert condition is not None, "the whole domain was read"
        return bulk(domain=domain, type=type, condition=condition, **kw)

    reader.assets = no_whole_domain
    hub.on_events([AssetsChanged("traffic", "tra", tuple(f"seg-{i}" for i in range(400)))])
    hub.flush()
    assert sent[0][1]["bands"] == {"seg-3": 3}


class _View:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Views:
    def __init__(self, domains):
        self.current = _View(domains={d: _View(assets=a) for d, a in domains.items()})


def test_with_the_engine_views_changed_assets_are_looked_up_without_any_read(reader, sent, clock):
    seg = _View(id="seg-1", name="Avenue", type="RoadSegment", condition="warning",
                values={"averageVehicleSpeed": 10.0}, props={"freeFlowSpeed": 50.0})
    lamp = _View(id="lamp-1", name="Lanterne 1", type="Streetlight", condition="ok", values={}, props={})
    reader.views = _Views({"lighting": {"lamp-1": lamp}, "water": {}, "traffic": {"seg-1": seg}})
    reader.asset = reader.assets = reader.assets_geo = None  # nothing is read through the reader's copies
    hub = PushHub(reader, lambda e, m: sent.extend((d["ch"], d) for d in m["deltas"]), clock=clock, wall=lambda: 1.7e9).start()
    try:
        assert hub._codes["traffic"] == {"seg-1": 3} and hub._bands["traffic"] == {"seg-1": 3}
        seg.values, seg.condition = {"averageVehicleSpeed": 45.0}, "ok"
        hub.on_events([AssetsChanged("traffic", "tra", ("seg-1",)), AssetsRemoved("lighting", "lum", ("lamp-1",))])
        hub.flush(clock.t + 10)
    finally:
        hub.stop()
    deltas = dict(sent)
    assert deltas["traffic"]["assets"] == {"seg-1": 0} and deltas["traffic"]["bands"] == {"seg-1": 0}
    assert deltas["lighting"]["removed"] == ["lamp-1"]
