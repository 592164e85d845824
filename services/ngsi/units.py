"""Numbers, UN/CEFACT unit codes and ISO 8601 times as NGSI brokers send them, made into Vigie's units."""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

# quantity -> {UN/CEFACT common code: factor to Vigie's unit}; Vigie's unit is the one with factor 1.
UNITS: dict[str, dict[str, float]] = {
    "pressure": {"BAR": 1.0, "MBR": 1e-3, "PAL": 1e-5, "KPA": 1e-2, "MPA": 10.0, "ATM": 1.01325, "PS": 0.0689476,
                 "HP": 9.80665e-5, "MTR": 0.0980665, "HN": 1.33322e-3},  # MTR, HP: metres / mm of water column
    "flow": {"MQH": 1.0, "MQS": 3600.0, "G51": 3.6, "L2": 0.06, "E32": 1e-3},  # m3/h; G51 l/s, L2 l/min, E32 l/h
    "length": {"MTR": 1.0, "CMT": 0.01, "MMT": 1e-3, "KTM": 1000.0, "FOT": 0.3048, "INH": 0.0254},  # m
    "diameter": {"MMT": 1.0, "CMT": 10.0, "MTR": 1000.0, "INH": 25.4},  # mm
    "volume": {"MTQ": 1.0, "LTR": 1e-3},  # m3
    "power": {"WTT": 1.0, "KWT": 1e3, "MAW": 1e6},  # W
    "speed": {"KMH": 1.0, "MTS": 3.6, "HM": 1.609344},  # km/h
    "concentration": {"M1": 1.0, "GL": 1e3, "KMQ": 1e3, "GP": 1e-3},  # mg/L (GP: mg/m3)
    "fraction": {"C62": 1.0, "P1": 0.01},  # 0..1
    "turbidity": {"NTU": 1.0, "C62": 1.0},
    "count": {"C62": 1.0, "H10": 1.0},  # H10 (reciprocal hour): a count per hour, as Vigie counts vehicles
}
# Vigie's own unit per quantity, as the UN/CEFACT code written on outbound attributes.
VIGIE_UNIT = {"pressure": "BAR", "flow": "MQH", "length": "MTR", "diameter": "MMT", "volume": "MTQ", "power": "WTT",
              "speed": "KMH", "concentration": "M1", "fraction": "C62"}
# Unit words that NGSIv2 providers put in an attribute's `type` (Cygnus examples: "centigrade", "percentage").
TYPE_WORDS = {"percentage": "P1", "percent": "P1", "bar": "BAR", "millibar": "MBR", "pascal": "PAL", "kilopascal": "KPA",
              "watt": "WTT", "kilowatt": "KWT", "metre": "MTR", "meter": "MTR", "kmh": "KMH", "km/h": "KMH"}

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?\s*$")
_DURATION = re.compile(r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


class UnitError(ValueError):
    """A value that cannot be read, or a unit Vigie does not know for this quantity."""


def number(raw: Any) -> float:
    """Return a finite float from a JSON number or a numeric string ("26.5"); raise UnitError otherwise."""
    if isinstance(raw, bool):
        raise UnitError("a boolean is not a number")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str) and len(raw) <= 64 and _NUMBER.match(raw):
        value = float(raw)
    else:
        raise UnitError(f"not a number: {str(raw)[:40]!r}")
    if not math.isfinite(value):
        raise UnitError("not a finite number")
    return value


def convert(raw: Any, quantity: str, unit: str | None, default: str | None = None) -> float:
    """Return `raw` in Vigie's unit for `quantity`; no unit means `default` (else Vigie's own unit)."""
    value = number(raw)
    table = UNITS[quantity]
    code = (unit or default or "").strip().upper()
    if not code:
        return value
    code = TYPE_WORDS.get(code.lower(), code)
    factor = table.get(code)
    if factor is None:
        raise UnitError(f"unit {code[:12]!r} is not one Vigie converts for {quantity} (knows {', '.join(sorted(table))})")
    return value * factor


def boolean(raw: Any) -> bool:
    """Return a boolean from true/false or "true"/"false" (any case)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise UnitError(f"not a boolean: {str(raw)[:40]!r}")


def instant(raw: Any) -> datetime:
    """Return an aware datetime from ISO 8601 (no offset: UTC), or the end of an ISO interval."""
    if isinstance(raw, dict) and "@value" in raw:  # JSON-LD typed value {"@type": "DateTime", "@value": ...}
        raw = raw["@value"]
    if not isinstance(raw, str) or len(raw) > 100:
        raise UnitError("not an ISO 8601 date-time")
    if "/" in raw:
        return interval(raw)[1]
    text = raw.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise UnitError(f"not an ISO 8601 date-time: {raw[:40]!r}") from err
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def duration(raw: str) -> timedelta:
    """Return an ISO 8601 duration (PT5M, P1DT2H, P2W) as a timedelta (a month is 30 days, a year 365)."""
    m = _DURATION.match(raw.strip())
    if m is None:
        raise UnitError(f"not an ISO 8601 duration: {raw[:40]!r}")
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)


def interval(raw: str) -> tuple[datetime, datetime]:
    """Return (start, end) of an ISO 8601 interval: start/end, start/duration or duration/end."""
    start_s, sep, end_s = raw.partition("/")
    if not sep:
        when = instant(raw)
        return when, when
    if start_s.startswith("P"):
        end = instant(end_s)
        return end - duration(start_s), end
    start = instant(start_s)
    if end_s.startswith("P"):
        return start, start + duration(end_s)
    if end_s and "T" not in end_s and ":" in end_s:  # "2016-12-07T11:10:00/11:15:00": the end repeats only the time
        end_s = start_s.split("T")[0] + "T" + end_s
    end = instant(end_s)
    if end < start:
        raise UnitError("an interval that ends before it starts")
    return start, end


def iso(ts: float | datetime | None) -> str | None:
    """Return epoch seconds or a datetime as ISO 8601 UTC with a Z, or None."""
    if ts is None:
        return None
    when = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
