"""The day series: local-time buckets (DST days, midnight), energy per hour, savings, stored form. Fixed clock."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.contract import AssetDef, Point
from services.core import CoreConfig, Hypervisor
from services.core.assets import AssetRecord
from services.core.day_series import Bucket, DaySeries, compared_days, day_metrics, slot_of
from services.core.day_view import day_view, decode_day, energy_by_hour, savings, series
from services.core.kpis import Kpi

PARIS = ZoneInfo("Europe/Paris")


def at(*args: int) -> float:
    """A Paris wall-clock instant as a timestamp (fold=0: the first of a repeated hour)."""
    return datetime(*args, tzinfo=PARIS).timestamp()


@pytest.mark.parametrize("ts, day, slot", [
    (at(2026, 11, 25, 0, 0), "2026-11-25", 0),
    (at(2026, 11, 25, 0, 4, 59), "2026-11-25", 0),
    (at(2026, 11, 25, 0, 5), "2026-11-25", 1),
    (at(2026, 11, 25, 23, 59, 59), "2026-11-25", 287),
    (at(2026, 11, 26, 0, 0), "2026-11-26", 0),
    (at(2026, 3, 29, 1, 55), "2026-03-29", 23),  # spring DST day: 01:55 then 03:00
    (at(2026, 3, 29, 1, 55) + 300, "2026-03-29", 36),
    (at(2026, 10, 25, 2, 30), "2026-10-25", 30),  # autumn DST day: 02:30 twice, same slot
    (at(2026, 10, 25, 2, 30) + 3600, "2026-10-25", 30),
])
def test_an_instant_falls_in_its_local_wall_clock_slot(ts, day, slot):
    assert slot_of(ts, PARIS) == (day, slot)


def test_a_day_is_compared_with_yesterday_and_the_same_day_last_week():
    d = datetime(2026, 11, 25).date()
    assert [x.isoformat() for x in compared_days(d)] == ["2026-11-24", "2026-11-18"]


@pytest.mark.parametrize("key, samples, expected", [
    ("chlorine_min", [0.4, 0.2, 0.3], 0.2),
    ("chlorine_max", [0.4, 0.2, 0.3], 0.4),
    ("power_kw", [10.0, 20.0, 30.0], 20.0),
    ("power_kw", [10.0, None, 30.0], 20.0),
])
def test_samples_merge_in_a_bucket_by_the_metric_kind(key, samples, expected):
    b = Bucket()
    for x in samples:
        b.add({key: x})
    assert b.value(key) == pytest.approx(expected) and b.n == len(samples)


def constant_day(start: float, end: float, kw: float, rated_kw: float | None = None, step: float = 30.0) -> DaySeries:
    s = DaySeries("Europe/Paris", sample_s=step)
    t = start
    while t <= end:
        s.add("lighting", t, {"power_kw": kw, "rated_on_kw": kw if rated_kw is None else rated_kw, "lamps_on": 10.0})
        t += step
    return s


@pytest.mark.parametrize("day, hours, total, hour2", [
    ((2026, 11, 25), 24, 2400.0, 100.0),  # an ordinary day
    ((2026, 3, 29), 23, 2300.0, None),  # spring DST day: 02:00-03:00 never happens
    ((2026, 10, 25), 24, 2500.0, 200.0),  # autumn DST day: 02:00-03:00 happens twice
])
def test_energy_per_hour_adds_up_on_short_and_long_days(day, hours, total, hour2):
    start = at(*day)
    end = datetime(*day, tzinfo=PARIS).replace(tzinfo=None) + timedelta(days=1)
    end_ts = end.replace(tzinfo=PARIS).timestamp()
    s = constant_day(start, end_ts, 100.0)
    per_hour = energy_by_hour(s.buckets("lighting", datetime(*day).date().isoformat()))
    assert sum(1 for h in per_hour if h is not None) == hours
    assert sum(h for h in per_hour if h is not None) == pytest.approx(total)
    assert per_hour[2] == (None if hour2 is None else pytest.approx(hour2))
    assert per_hour[0] == pytest.approx(100.0) and per_hour[23] == pytest.approx(100.0)


def test_energy_across_midnight_is_split_between_the_two_days():
    s = DaySeries("Europe/Paris", sample_s=1)
    s.add("lighting", at(2026, 11, 25, 23, 59, 45), {"power_kw": 360.0, "rated_on_kw": 360.0})
    s.add("lighting", at(2026, 11, 26, 0, 0, 15), {"power_kw": 360.0, "rated_on_kw": 360.0})
    before = s.buckets("lighting", "2026-11-25")[287].kwh
    after = s.buckets("lighting", "2026-11-26")[0].kwh
    assert before == pytest.approx(1.5) and after == pytest.approx(1.5)


def test_a_silence_longer_than_an_hour_is_not_integrated():
    s = DaySeries("Europe/Paris", sample_s=1)
    s.add("lighting", at(2026, 11, 25, 1, 0), {"power_kw": 100.0, "rated_on_kw": 100.0})
    s.add("lighting", at(2026, 11, 25, 3, 0), {"power_kw": 100.0, "rated_on_kw": 100.0})
    assert sum(h or 0 for h in energy_by_hour(s.buckets("lighting", "2026-11-25"))) == 0.0


def test_savings_from_dimming_compare_drawn_with_full_power():
    s = constant_day(at(2026, 11, 25, 18, 0), at(2026, 11, 25, 20, 0), kw=150.0, rated_kw=200.0)
    got = savings(s.buckets("lighting", "2026-11-25"))
    assert got["kwh"] == pytest.approx(300.0) and got["saved_kwh"] == pytest.approx(100.0) and got["saved_pct"] == 25.0


def test_a_sample_is_due_once_per_period_of_the_domain_clock():
    s = DaySeries("Europe/Paris", sample_s=30)
    t = at(2026, 11, 25, 12, 0)
    assert s.due("water", t)
    s.add("water", t, {"pressure_mean": 3.0})
    assert not s.due("water", t + 29) and s.due("water", t + 30) and s.due("traffic", t)


def test_changed_buckets_are_taken_once_in_their_stored_form():
    s = DaySeries("Europe/Paris", sample_s=1)
    s.add("traffic", at(2026, 11, 25, 8, 1), {"mean_speed_kmh": 30.0, "congestion_index_pct": 12.0})
    taken = s.take_changed()
    assert [(d, day, slot) for d, day, slot, _ in taken] == [("traffic", "2026-11-25", 96)]
    assert taken[0][3]["m"]["mean_speed_kmh"] == [30.0, 1] and taken[0][3]["v"] == 1
    assert s.take_changed() == []


def test_only_the_last_two_days_stay_in_memory():
    s = DaySeries("Europe/Paris", sample_s=1)
    for d in (23, 24, 25):
        s.add("water", at(2026, 11, d, 12, 0), {"pressure_mean": 3.0})
    assert not s.buckets("water", "2026-11-23") and s.buckets("water", "2026-11-25")
    assert [day for _, day, _, _ in s.take_changed()] == ["2026-11-24", "2026-11-25"]  # what nobody took is dropped with its day


# --- stored form --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, reason", [
    ("not json", "bad_json"),
    ("[1, 2]", "not_an_object"),
    ('{"v": 99, "n": 1, "m": {}}', "bad_version"),
    ('{"v": 1, "n": "x", "m": {}}', "bad_fields"),
    ('{"v": 1, "n": 1, "m": {}, "src": "elsewhere"}', "bad_fields"),
    ('{"v": 1, "n": 1, "m": {"power_kw": [1]}}', "bad_metric"),
    ('{"v": 1, "n": 1, "m": {"power_kw": ["a", 1]}}', "bad_metric"),
    ('{"v": 1, "n": 1, "m": {}, "kwh": "lots"}', "bad_energy"),
])
def test_a_bad_stored_bucket_is_skipped_with_its_reason(raw, reason):
    good = json.dumps(Bucket(1, {"power_kw": [5.0, 1]}).to_dict())
    buckets, skipped = decode_day({b"10": good.encode(), b"11": raw.encode(), b"meta": b"{}"})
    assert list(buckets) == [10] and skipped == {reason: 1}


@pytest.mark.parametrize("slot", [b"-1", b"288", b"noon"])
def test_a_bucket_outside_the_day_is_skipped(slot):
    assert decode_day({slot: json.dumps(Bucket().to_dict())}) == ({}, {"bad_slot": 1})


def test_a_bucket_survives_its_stored_form():
    b = Bucket(3, {"chlorine_min": [0.2, 3]}, 1.5, 2.0, "backfill")
    assert Bucket.from_dict(json.loads(json.dumps(b.to_dict()))) == b


def test_the_day_view_gives_series_energy_and_savings_with_its_source():
    s = constant_day(at(2026, 11, 25, 18, 0), at(2026, 11, 25, 18, 10), kw=60.0, rated_kw=120.0)
    view = day_view("lighting", "2026-11-25", s.buckets("lighting", "2026-11-25"), {"bad_json": 2})
    assert view["source"] == "live" and view["skipped"] == {"bad_json": 2}
    assert [p[0] for p in view["series"]["power_kw"]] == [216, 217, 218]
    assert view["energy_by_hour"][18] == pytest.approx(10.0) and view["savings"]["saved_pct"] == 50.0
    assert series({}, "power_kw") == [] and day_view("water", "d", {})["source"] is None


# --- metrics from assets, and the hypervisor feeding the series -------------------------------------


def record(domain: str, type_: str, values: dict, props: dict | None = None) -> AssetRecord:
    r = AssetRecord(domain, "sup", AssetDef(id=f"{type_}-{len(values)}-{id(values)}", type=type_, geometry=Point(coordinates=(3.8, 43.6)),
                                           props=props or {}))
    r.values = values
    return r


def test_water_metrics_span_the_quality_sensors():
    assets = [record("water", "Device", {"chlorine": 0.2, "turbidity": 0.5}), record("water", "Device", {"chlorine": 0.6, "pressure": 4.0}),
              record("water", "Device", {"pressure": 2.0}), record("water", "Pump", {"running": True})]
    m = day_metrics("water", assets, [])
    assert (m["chlorine_min"], m["chlorine_max"], m["turbidity_max"]) == (0.2, 0.6, 0.5)
    assert m["chlorine_mean"] == pytest.approx(0.4) and m["pressure_mean"] == pytest.approx(3.0)
    assert day_metrics("water", [], [])["chlorine_mean"] is None


def test_lighting_and_traffic_metrics_come_from_the_kpi_maths():
    lamps = [record("lighting", "Streetlight", {"powerState": "low", "powerConsumption": 50.0}, {"powerRating": 100.0}),
             record("lighting", "Streetlight", {"powerState": "off", "powerConsumption": 0.0}, {"powerRating": 100.0})]
    assert day_metrics("lighting", lamps, []) == {"power_kw": 0.05, "rated_on_kw": 0.1, "lamps_on": 1.0}
    kpis = [Kpi("mean_speed_kmh", "traffic", 42.0, "km/h"), Kpi("congestion_index_pct", "traffic", 7.5, "%")]
    assert day_metrics("traffic", [], kpis) == {"mean_speed_kmh": 42.0, "congestion_index_pct": 7.5}


def test_the_hypervisor_samples_its_day_when_it_recomputes_kpis():
    from tests.unit.test_core import NOW, lighting_state

    hv = Hypervisor(CoreConfig(timezone="Europe/Paris"))
    hv.handle(lighting_state(1), NOW)
    hv.tick(NOW)
    taken = hv.day_series.take_changed()
    assert [d for d, *_ in taken] == ["lighting"]
    assert taken[0][3]["m"]["power_kw"] == [0.3, 1] and taken[0][3]["m"]["rated_on_kw"] == [0.3, 1]


@pytest.mark.parametrize("now, wait_s", [
    (at(2026, 11, 25, 23, 59), 120.0),
    (at(2026, 11, 25, 0, 0), 86400.0 + 60.0),
    (at(2026, 3, 28, 23, 0), 3600.0 + 60.0),  # the night the clocks go forward: midnight is still an hour away
    (at(2026, 10, 25, 1, 0), 24 * 3600.0 + 60.0),  # the 25-hour day: 01:00 to midnight is 24 h
])
def test_the_backfill_wakes_a_minute_after_the_next_local_midnight(now, wait_s):
    from services.history.backfill import until_next_day

    assert until_next_day(now, PARIS) == pytest.approx(wait_s)


def test_the_energy_stored_before_an_instant_counts_whole_slots_before_it_and_its_own_slot_pro_rata():
    from zoneinfo import ZoneInfo

    from services.core.day_series import Bucket, energy_before

    tz = ZoneInfo("Europe/Paris")
    at = datetime(2026, 11, 25, 10, 2, 30, tzinfo=tz).timestamp()  # 2 min 30 s into the 10:00 slot (slot 120)
    buckets = {119: Bucket(kwh=5.0), 120: Bucket(kwh=10.0), 121: Bucket(kwh=7.0), 3: Bucket(kwh=1.0)}
    assert energy_before(buckets, at, tz) == pytest.approx(1.0 + 5.0 + 10.0 * 150 / 300)
    assert energy_before({}, at, tz) == 0.0
