"""Change events the core returns; adapters turn them into pushes, snapshots and requests."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from services.contract.messages import StateReady


@dataclass(frozen=True, slots=True)
class AssetsChanged:
    """Some assets of one domain changed (values, condition or definition)."""

    domain: str
    supervisor: str
    asset_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssetsRemoved:
    """Assets a supervisor no longer reports (absent from its last full snapshot)."""

    domain: str
    supervisor: str
    asset_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlarmsChanged:
    """Alarms were raised, cleared, acknowledged or otherwise changed."""

    alarm_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SupervisorChanged:
    """A supervisor's health status changed (live / late / stale)."""

    supervisor: str
    domain: str
    status: str


@dataclass(frozen=True, slots=True)
class KpisChanged:
    """A domain's KPIs were recomputed and at least one value moved."""

    domain: str


@dataclass(frozen=True, slots=True)
class StateNeeded:
    """The core needs a fresh `state` from a supervisor (sequence gap, unknown asset, reconnect)."""

    domain: str
    supervisor: str
    reason: str


@dataclass(frozen=True, slots=True)
class StateAnnounced:
    """A supervisor announced a version of its retained state (contract v2); the adapter reads it when it is needed."""

    domain: str
    supervisor: str
    ready: StateReady


@dataclass(frozen=True, slots=True)
class StateApplied:
    """A whole `state` of a supervisor was applied (`retained`: read from Redis, not heard on the bus)."""

    domain: str
    supervisor: str
    snapshot: str
    retained: bool


@dataclass(frozen=True, slots=True)
class CommandsChanged:
    """Operator commands moved in their lifecycle (sent, answered, confirmed, timed out, override ended)."""

    command_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """The core refused a valid message (registry, ownership, limits): nothing of it applied, or only its own part
    (`partly`: a telemetry's readings of its own assets). Adapters count `reason` like a codec rejection."""

    domain: str
    supervisor: str
    kind: str
    reason: str
    detail: str
    partly: bool = False


@dataclass(frozen=True, slots=True)
class RegistryChanged:
    """A supervisor's registry entry changed (learned, held data, approved, rejected, removed, two publishers, assets)."""

    supervisor: str


Event = Union[AssetsChanged, AssetsRemoved, AlarmsChanged, SupervisorChanged, KpisChanged, StateNeeded, CommandsChanged, Refused,
              RegistryChanged, StateAnnounced, StateApplied]
