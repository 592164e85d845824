"""Sunrise and sunset (NOAA equations) against published times."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.simulators.sun import is_dark, sun_times

PARIS_TZ = ZoneInfo("Europe/Paris")
MONTPELLIER = (43.6108, 3.8767)


def _minutes_apart(when: datetime, hhmm: str) -> float:
    hours, minutes = map(int, hhmm.split(":"))
    expected = when.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    return abs((when - expected).total_seconds()) / 60


# place, latitude, longitude, local date, sunrise, sunset, tolerance (min)
PUBLISHED = [
    # Paris, 22 Dec 2019, as published (dateandtime.info, quoted by parisdepeches.fr): 08:42 / 16:56
    ("Paris", 48.8566, 2.3522, date(2019, 12, 22), "08:42", "16:56", 2),
    # Montpellier (43.6108 N, 3.8767 E), solstices of 2026, in CEST / CET
    ("Montpellier", *MONTPELLIER, date(2026, 6, 21), "06:03", "21:29", 3),
    ("Montpellier", *MONTPELLIER, date(2026, 12, 21), "08:14", "17:10", 3),
]


@pytest.mark.parametrize(("place", "lat", "lon", "day", "sunrise", "sunset", "tol"), PUBLISHED, ids=[f"{p[0]}-{p[3]}" for p in PUBLISHED])
def test_sunrise_and_sunset_match_published_times(place, lat, lon, day, sunrise, sunset, tol) -> None:
    times = sun_times(lat, lon, day, PARIS_TZ)
    assert _minutes_apart(times.sunrise, sunrise) <= tol
    assert _minutes_apart(times.sunset, sunset) <= tol


def test_results_are_timezone_aware_in_the_local_offset() -> None:
    summer = sun_times(*MONTPELLIER, date(2026, 6, 21), PARIS_TZ)
    winter = sun_times(*MONTPELLIER, date(2026, 12, 21), PARIS_TZ)
    assert summer.sunset.utcoffset() == timedelta(hours=2)
    assert winter.sunset.utcoffset() == timedelta(hours=1)
    assert summer.sunrise.date() == summer.sunset.date() == date(2026, 6, 21)


def test_solar_noon_sits_between_sunrise_and_sunset() -> None:
    times = sun_times(*MONTPELLIER, date(2026, 3, 20), PARIS_TZ)
    assert times.sunrise < times.solar_noon < times.sunset
    assert abs((times.solar_noon - times.sunrise) - (times.sunset - times.solar_noon)) < timedelta(minutes=2)


def test_polar_day_and_night_have_no_sunrise() -> None:
    tromso = (69.65, 18.96)
    assert sun_times(*tromso, date(2026, 6, 21), PARIS_TZ)[:2] == (None, None)
    assert sun_times(*tromso, date(2026, 12, 21), PARIS_TZ)[:2] == (None, None)
    assert not is_dark(*tromso, datetime(2026, 6, 21, 0, 30, tzinfo=PARIS_TZ), PARIS_TZ)
    assert is_dark(*tromso, datetime(2026, 12, 21, 12, 0, tzinfo=PARIS_TZ), PARIS_TZ)


@pytest.mark.parametrize(
    ("local", "dark"),
    [("2026-06-21T12:00", False), ("2026-06-21T21:00", False), ("2026-06-21T21:45", True), ("2026-06-22T05:30", True),
     ("2026-06-22T06:30", False), ("2026-12-21T17:30", True), ("2026-12-21T08:30", False)],
)
def test_is_dark_in_montpellier(local: str, dark: bool) -> None:
    assert is_dark(*MONTPELLIER, datetime.fromisoformat(local).replace(tzinfo=PARIS_TZ), PARIS_TZ) is dark


def test_naive_times_and_impossible_places_are_refused() -> None:
    with pytest.raises(ValueError):
        is_dark(*MONTPELLIER, datetime(2026, 6, 21, 12), PARIS_TZ)
    with pytest.raises(ValueError):
        sun_times(95.0, 3.0, date(2026, 6, 21), PARIS_TZ)
