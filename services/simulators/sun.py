"""Sunrise and sunset for a place and a date (NOAA solar calculator equations). Pure functions.

The equations are those of the NOAA Global Monitoring Laboratory's solar calculator
(after Meeus, *Astronomical Algorithms*): accurate to about a minute between latitudes
±72°. Sunrise and sunset are when the Sun's centre is 0.833° below the horizon
(refraction and the solar disc's radius).
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple

SUNRISE_ZENITH = 90.833  # degrees
_J2000 = 2451545.0


class SunTimes(NamedTuple):
    """A day's sunrise and sunset, in the caller's timezone; None during polar day or night."""

    sunrise: datetime | None
    sunset: datetime | None
    solar_noon: datetime


def _julian_day(day: date) -> float:
    """Return the Julian day at 0h UTC of a calendar date."""
    return day.toordinal() + 1721424.5


def _sun_position(jd: float) -> tuple[float, float]:
    """Return the Sun's declination (degrees) and the equation of time (minutes) at a Julian day."""
    jc = (jd - _J2000) / 36525.0
    mean_long = (280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360.0
    mean_anom = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    m = math.radians(mean_anom)
    centre = math.sin(m) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) + math.sin(2 * m) * (0.019993 - 0.000101 * jc) + math.sin(3 * m) * 0.000289
    omega = math.radians(125.04 - 1934.136 * jc)
    apparent_long = math.radians(mean_long + centre - 0.00569 - 0.00478 * math.sin(omega))
    mean_obliq = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliq = math.radians(mean_obliq + 0.00256 * math.cos(omega))
    declination = math.degrees(math.asin(math.sin(obliq) * math.sin(apparent_long)))
    y = math.tan(obliq / 2) ** 2
    l0 = math.radians(mean_long)
    eq_time = 4 * math.degrees(
        y * math.sin(2 * l0) - 2 * ecc * math.sin(m) + 4 * ecc * y * math.sin(m) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0) - 1.25 * ecc * ecc * math.sin(2 * m)
    )
    return declination, eq_time


def _hour_angle(lat: float, declination: float, zenith: float) -> float | None:
    """Return the sunrise hour angle (degrees), or None when the Sun never crosses `zenith`."""
    phi, dec = math.radians(lat), math.radians(declination)
    cos_ha = math.cos(math.radians(zenith)) / (math.cos(phi) * math.cos(dec)) - math.tan(phi) * math.tan(dec)
    if not -1.0 <= cos_ha <= 1.0:
        return None
    return math.degrees(math.acos(cos_ha))


def _event_minutes(jd0: float, lat: float, lon: float, sign: int, zenith: float) -> float | None:
    """Return minutes after 0h UTC of sunrise (sign -1) or sunset (sign +1), refined once."""
    minutes = 720.0 - 4 * lon
    for _ in range(2):  # evaluate the Sun at the event itself, not at noon
        declination, eq_time = _sun_position(jd0 + minutes / 1440.0)
        ha = _hour_angle(lat, declination, zenith)
        if ha is None:
            return None
        minutes = 720.0 - 4 * (lon - sign * ha) - eq_time
    return minutes


def sun_times(lat: float, lon: float, day: date, tz: tzinfo, zenith: float = SUNRISE_ZENITH) -> SunTimes:
    """Return the sunrise, sunset and solar noon of a local calendar day at (lat, lon), in `tz`."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"not a place on Earth: lat={lat}, lon={lon}")
    midnight_utc = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    jd0 = _julian_day(day)

    def at(minutes: float | None) -> datetime | None:
        if minutes is None:
            return None
        return (midnight_utc + timedelta(minutes=minutes)).astimezone(tz)

    _, eq_noon = _sun_position(jd0 + (720.0 - 4 * lon) / 1440.0)
    noon = at(720.0 - 4 * lon - eq_noon)
    assert noon is not None
    return SunTimes(at(_event_minutes(jd0, lat, lon, -1, zenith)), at(_event_minutes(jd0, lat, lon, +1, zenith)), noon)


def is_dark(lat: float, lon: float, when: datetime, tz: tzinfo) -> bool:
    """Is the Sun below the horizon at `when` (a timezone-aware instant)?"""
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    local = when.astimezone(tz)
    times = sun_times(lat, lon, local.date(), tz)
    if times.sunrise is None or times.sunset is None:
        declination, _ = _sun_position(_julian_day(local.date()) + 0.5)
        return (lat >= 0) != (declination >= 0)  # polar night when the Sun is on the other side
    return not times.sunrise <= local < times.sunset
