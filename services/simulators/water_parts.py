"""The parts of a generated water network: reservoirs, pumps, zones, pipes, valves, sensors, junctions.

All immutable, and numbered: each part's `index` is its position in the network's tuple of
its kind, and the parts refer to one another by those indexes.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.territory.geo import Coord


@dataclass(frozen=True, slots=True)
class Pipe:
    """A pipe: a chain of consecutive street segments, oriented from upstream to downstream."""

    index: int
    id: str
    street: str
    coords: tuple[Coord, ...]
    length_m: float
    diameter_mm: int
    parent: int  # upstream pipe index, -1 at a pump or a reservoir
    zone: int  # -1 for a transmission main
    reservoir: int
    start_m: float  # network distance of the upstream end from the pump (zone pipes)
    share: float  # this pipe's own share of its zone's demand
    design_m3h: float
    district: str
    pumps: tuple[int, ...] = ()  # transmission mains: the pumps they feed


@dataclass(frozen=True, slots=True)
class Sensor:
    """A pressure, flow or quality sensor on a pipe."""

    index: int
    id: str
    name: str
    measures: str
    pipe: int
    zone: int
    at: Coord
    dist_frac: float  # 0 at the pump .. 1 at the zone's farthest point
    head_m: float  # pump elevation minus sensor elevation
    district: str


@dataclass(frozen=True, slots=True)
class Valve:
    """A line valve at the upstream end of a pipe."""

    index: int
    id: str
    name: str
    pipe: int
    zone: int
    at: Coord
    diameter_mm: int
    main: bool
    head_m: float  # pump elevation minus valve elevation
    district: str
    downstream_pipes: tuple[int, ...]
    downstream_sensors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Junction:
    """A branching node of a zone's tree, at the downstream end of `pipe`."""

    index: int
    id: str
    name: str
    pipe: int
    zone: int
    at: Coord
    elevation_m: float
    head_m: float
    district: str


@dataclass(frozen=True, slots=True)
class Pump:
    """A booster station feeding one pressure zone."""

    index: int
    id: str
    name: str
    zone: int
    reservoir: int
    at: Coord
    elevation_m: float
    nominal_m3h: float
    setpoint_bar: float
    district: str


@dataclass(frozen=True, slots=True)
class Reservoir:
    """A storage reservoir on the high ground, balancing the zones of its pumps."""

    index: int
    id: str
    name: str
    at: Coord
    elevation_m: float
    capacity_m3: float
    max_level_m: float
    pumps: tuple[int, ...]
    district: str


@dataclass(frozen=True, slots=True)
class Zone:
    """A pressure zone: the area one pump feeds (`zone-<n>`, a ref, not an asset)."""

    index: int
    id: str
    name: str
    pump: int
    mean_m3h: float
    max_dist_m: float
    pipes: tuple[int, ...]  # upstream before downstream
    worst_head_m: float  # the highest point's head relative to the pump (critical point)


@dataclass(frozen=True, slots=True)
class WaterNetwork:
    """The whole generated network; pipes are listed upstream before downstream."""

    reservoirs: tuple[Reservoir, ...]
    pumps: tuple[Pump, ...]
    zones: tuple[Zone, ...]
    pipes: tuple[Pipe, ...]
    valves: tuple[Valve, ...]
    sensors: tuple[Sensor, ...]
    junctions: tuple[Junction, ...]
