"""The simulated traffic day against Montpellier's counts (issue 18.7): figures within bands.

The same measures as benchmarks/traffic_day.py (which draws docs/traffic-day.png), on shorter runs.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from benchmarks.traffic_day import DAYS, Day, peak_share, real_peak_shares
from services.simulators.traffic import DAY_FACTOR, TrafficSim, day_share

PARIS = ZoneInfo("Europe/Paris")
TUESDAY, SATURDAY = DAYS["Tue"], DAYS["Sat"]


def run(start: datetime, hours: float, every: int = 15) -> Day:
    sim = TrafficSim("traf-cal", seed=7, start=start)
    sim.incident_rate = 0.0  # the ordinary day: incidents are tested on their own
    day = Day(sim)
    for k in range(int(hours * 60)):
        sim.step()
        if k % every == every - 1:
            day.sample()
    return day


def at(day: Day, hh: int, mm: int) -> dict:
    return next(r for r in day.rows if (r["t"].hour, r["t"].minute) == (hh, mm))


@pytest.fixture(scope="module")
def weekday() -> Day:
    return run(TUESDAY + timedelta(hours=5), 15)


def test_the_weekday_profile_peaks_at_0800_and_1730_and_sums_to_the_day() -> None:
    minutes = [TUESDAY + timedelta(minutes=m) for m in range(24 * 60)]
    shares = np.array([day_share(t) for t in minutes])
    assert shares.sum() / 60 == pytest.approx(DAY_FACTOR[0], rel=0.01)
    morning, evening = shares[: 12 * 60].argmax(), shares[12 * 60 :].argmax() + 12 * 60
    assert abs(morning - 8 * 60) <= 10 and abs(evening - (17 * 60 + 30)) <= 10


def test_weekends_are_quieter_in_the_morning_and_lighter_all_day() -> None:
    for hour in (8, 17.5):
        t = timedelta(hours=hour)
        assert day_share(SATURDAY + t) < 0.8 * day_share(TUESDAY + t)
        assert day_share(SATURDAY + timedelta(days=1) + t) < day_share(SATURDAY + t)


def test_the_peak_hour_share_matches_the_counts(weekday: Day) -> None:
    real_am, real_pm = real_peak_shares()
    assert 0.085 <= real_am <= 0.1 and 0.085 <= real_pm <= 0.1  # the counts themselves (PHJM/TJM, PHJS/TJM)
    assert peak_share(weekday, 8.0) == pytest.approx(real_am, rel=0.15)
    assert peak_share(weekday, 17.5) == pytest.approx(real_pm, rel=0.15)


@pytest.mark.parametrize("hh, mm, busiest, network", [
    (8, 0, (20, 70), (3, 20)),  # morning rush: tens of percent of the busiest links congested
    (17, 30, (20, 70), (3, 20)),  # evening rush
    (12, 0, (0, 15), (0, 3)),  # midday
    (5, 45, (0, 2), (0, 0.5)),  # early morning
])
def test_congestion_index_bands(weekday: Day, hh, mm, busiest, network) -> None:
    r = at(weekday, hh, mm)
    assert busiest[0] <= r["top_index"] <= busiest[1]
    assert network[0] <= r["index"] <= network[1]


def test_rush_hour_slows_the_busiest_links_and_the_mean_speed(weekday: Day) -> None:
    dawn, rush = at(weekday, 5, 45), at(weekday, 17, 30)
    assert rush["top_ratio"] <= 0.8 and dawn["top_ratio"] >= 0.97
    assert dawn["speed"] - rush["speed"] >= 5.0


def test_saturday_evening_is_well_below_a_weekday_evening(weekday: Day) -> None:
    sat = run(SATURDAY + timedelta(hours=16, minutes=30), 1.5)
    assert at(sat, 17, 30)["top_index"] < 0.5 * at(weekday, 17, 30)["top_index"]


def test_an_incident_queue_grows_upstream_while_it_lasts_then_goes() -> None:
    sim = TrafficSim("traf-cal", seed=7, start=TUESDAY + timedelta(hours=16, minutes=50))
    sim.incident_rate = 0.0
    sim.step()
    seg = sim._ids[int(np.argmax(sim._daily))]
    assert sim.start_incident(seg, 40)
    reach = []
    for minute in range(1, 36):
        sim.step()
        if minute in (2, 12, 30):
            behind = [i for i, cause in sim._queue.items() if cause == seg]
            reach.append(len(behind))
            assert all(sim.speed[i] < 0.5 * sim._free[i] for i in behind)
    assert reach[0] >= 2 and reach[1] > reach[0] and reach[2] > reach[1]
    for _ in range(10):
        sim.step()
    assert seg not in sim._queue.values() and int(np.argmax(sim._daily)) not in sim.incidents
