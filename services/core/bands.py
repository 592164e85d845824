"""Value bands the map draws a feature with: a road segment's speed against its free flow, a water point's
pressure against the thresholds. Normal is band 0 (drawn grey); only the other bands get weight or colour."""
from __future__ import annotations

from enum import IntEnum
from typing import Any, Mapping

from .assets import Thresholds


class SpeedBand(IntEnum):
    """How a road segment flows (wire code)."""

    FREE = 0
    SLOWED = 1
    CONGESTED = 2
    JAMMED = 3
    CLOSED = 4


class PressureBand(IntEnum):
    """Where a water point's pressure sits against the thresholds (wire code)."""

    NORMAL = 0
    LOW = 1
    HIGH = 2


SLOWED_BELOW = 0.8  # of free-flow speed
CONGESTED_BELOW = 0.5  # as the traffic supervisor's congestion (services/simulators/traffic.py)
JAMMED_BELOW = 0.25
BANDED_DOMAINS = ("water", "traffic")  # the lamps have no value band


def speed_ratio(speed: Any, free_flow: Any) -> float | None:
    """Speed over free-flow speed (1 flows freely), None when either is unknown."""
    if not isinstance(speed, (int, float)) or not isinstance(free_flow, (int, float)) or free_flow <= 0:
        return None
    return max(0.0, float(speed) / float(free_flow))


def speed_band(speed: Any, free_flow: Any, closed: bool = False) -> SpeedBand:
    """A segment's band: closed first, then by its speed ratio (unknown speeds count as free)."""
    if closed:
        return SpeedBand.CLOSED
    ratio = speed_ratio(speed, free_flow)
    if ratio is None or ratio >= SLOWED_BELOW:
        return SpeedBand.FREE
    if ratio >= CONGESTED_BELOW:
        return SpeedBand.SLOWED
    if ratio >= JAMMED_BELOW:
        return SpeedBand.CONGESTED
    return SpeedBand.JAMMED


def pressure_band(pressure: Any, t: Thresholds) -> PressureBand:
    """A pressure's band against the low and high thresholds (unknown: normal)."""
    if not isinstance(pressure, (int, float)):
        return PressureBand.NORMAL
    if pressure < t.low_pressure_bar:
        return PressureBand.LOW
    if pressure > t.high_pressure_bar:
        return PressureBand.HIGH
    return PressureBand.NORMAL


def asset_band(domain: str, type: str, values: Mapping[str, Any], props: Mapping[str, Any], t: Thresholds) -> int:
    """The band code of one asset (0 for every asset without one)."""
    if domain == "traffic" and type == "RoadSegment":
        return int(speed_band(values.get("averageVehicleSpeed"), props.get("freeFlowSpeed"), bool(values.get("closed"))))
    if domain == "water" and "pressure" in values:
        return int(pressure_band(values.get("pressure"), t))
    return 0


def bands_of(domain: str, assets: list[dict], t: Thresholds) -> dict[str, int]:
    """Band codes of asset dicts (id, type, values, props), by id."""
    return {a["id"]: asset_band(domain, a.get("type", ""), a.get("values") or {}, a.get("props") or {}, t) for a in assets}
