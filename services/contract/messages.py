"""The feed contract: typed messages exchanged with supervisors over Redis.

Supervisors publish on ``sup.<domain>.<supervisor_id>.<kind>``; Vigie sends on
``cmd.<domain>.<supervisor_id>``. Every message carries the envelope fields
(``v``, ``kind``, ``domain``, ``supervisor``, ``ts``, ``seq``). The vocabulary follows the
FIWARE Smart Data Models (Streetlight, TrafficFlowObserved, the EPANET water models).
Units are in each field's description; ``docs/schemas/`` is generated from these classes.

Version 1 is the five supervisor kinds and Vigie's two; version 2 adds retained state: a supervisor
keeps its full state in Redis (services/contract/retained.py) and announces each version with a
`state_ready` message, the one kind that carries ``"v": 2``. Version 1 messages are unchanged.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar, Union

import msgspec
from msgspec import Meta, Struct

CONTRACT_VERSION = 2  # the newest version; each kind keeps the version it was introduced in (KIND_VERSIONS)

Domain = Literal["lighting", "water", "traffic"]
Kind = Literal["telemetry", "alarm", "state", "heartbeat", "ack"]  # the version 1 kinds

SupervisorId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z", description="Supervisor id: letters, digits, _ and -")]
# In readings (the hot path) an asset id is only length-checked: it must name an asset defined
# in a `state`, where the id's characters are checked (SafeId), so anything else is unknown.
AssetId = Annotated[str, Meta(min_length=1, max_length=128, description="Asset id, unique in the territory (urn or local id)")]
SafeId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9:._~@/+-]{1,128}\Z", description="Id: letters, digits and : . _ ~ @ / + -")]
Text = Annotated[
    str,
    Meta(
        max_length=500,
        pattern=r"^[^<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z",
        description="Plain text: no markup, no control or bidi-override characters",
    ),
]
Code = Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$", description="Machine code, e.g. lamp_off")]
Timestamp = Annotated[datetime, Meta(tz=True, description="ISO 8601 with offset")]
Seq = Annotated[int, Meta(ge=0, le=2**53, description="Per-supervisor sequence number, +1 for each message")]
Fraction = Annotated[float, Meta(ge=0.0, le=1.0)]
ObservationTimestamp = Annotated[datetime, Meta(tz=True, description="When the values were observed at the source, ISO 8601 with offset (optional)")]
Lon = Annotated[float, Meta(ge=-180.0, le=180.0)]
Lat = Annotated[float, Meta(ge=-90.0, le=90.0)]


def _q(unit: str, lo: float, hi: float, what: str) -> object:
    return Annotated[float, Meta(ge=lo, le=hi, description=f"{what} ({unit})")]


# --- geometry (GeoJSON, WGS84 lon/lat) ---------------------------------------------------


class Point(Struct, tag="Point", tag_field="type", frozen=True):
    coordinates: tuple[Lon, Lat]


class LineString(Struct, tag="LineString", tag_field="type", frozen=True):
    coordinates: Annotated[list[tuple[Lon, Lat]], Meta(min_length=2, max_length=5000)]


Geometry = Union[Point, LineString]


# --- readings, one struct per domain (every field optional but the asset) -----------------

PowerState = Literal["on", "off", "low", "bootingUp"]
LampStatus = Literal["ok", "defectiveLamp", "brokenLantern", "columnIssue", "tripped"]
ControlMode = Literal["schedule", "override", "manual"]


class LightingReading(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A Streetlight or control-cabinet reading (FIWARE Streetlight vocabulary)."""

    asset: AssetId
    observedAt: ObservationTimestamp | None = None
    powerState: PowerState | None = None
    status: LampStatus | None = None
    illuminanceLevel: Annotated[float, Meta(ge=0.0, le=1.0, description="Light output, 0..1 of nominal")] | None = None
    powerConsumption: Annotated[float, Meta(ge=0.0, le=1e7, description="Active power (W)")] | None = None
    controlMode: ControlMode | None = None
    overrideUntil: Timestamp | None = None


ValveStatus = Literal["ok", "fault", "maintenance"]


class WaterReading(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A water-network reading (EPANET Junction/Pipe/Tank/Reservoir/Pump/Valve, WaterQualityObserved)."""

    asset: AssetId
    observedAt: ObservationTimestamp | None = None
    pressure: Annotated[float, Meta(ge=-1.0, le=40.0, description="Pressure (bar)")] | None = None
    flow: Annotated[float, Meta(ge=-1e5, le=1e5, description="Flow (m3/h)")] | None = None
    level: Annotated[float, Meta(ge=0.0, le=100.0, description="Water level (m)")] | None = None
    chlorine: Annotated[float, Meta(ge=0.0, le=20.0, description="Free chlorine (mg/L)")] | None = None
    turbidity: Annotated[float, Meta(ge=0.0, le=4000.0, description="Turbidity (NTU)")] | None = None
    position: Annotated[float, Meta(ge=0.0, le=1.0, description="Valve opening, 0 closed .. 1 open")] | None = None
    running: bool | None = None
    setpoint: Annotated[float, Meta(ge=0.0, le=40.0, description="Pump pressure setpoint (bar)")] | None = None
    status: ValveStatus | None = None


SignalPlan = Literal["normal", "peak", "greenWave", "flashingAmber", "off"]
TrafficStatus = Literal["ok", "fault", "closed"]


class TrafficReading(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A road-segment observation (FIWARE TrafficFlowObserved) or a junction's signal state."""

    asset: AssetId
    observedAt: ObservationTimestamp | None = None
    intensity: Annotated[float, Meta(ge=0.0, le=50000.0, description="Vehicles per hour (veh/h)")] | None = None
    averageVehicleSpeed: Annotated[float, Meta(ge=0.0, le=300.0, description="Mean speed (km/h)")] | None = None
    occupancy: Annotated[float, Meta(ge=0.0, le=1.0, description="Occupancy, 0..1")] | None = None
    congested: bool | None = None
    closed: bool | None = None
    signalPlan: SignalPlan | None = None
    status: TrafficStatus | None = None


R = TypeVar("R", LightingReading, WaterReading, TrafficReading)
READING_TYPES: dict[str, type] = {"lighting": LightingReading, "water": WaterReading, "traffic": TrafficReading}

# --- asset definitions (sent in `state`) -------------------------------------------------

AssetType = Literal[
    "Streetlight",
    "StreetlightControlCabinet",
    "StreetlightGroup",
    "RoadSegment",
    "TrafficSignal",
    "Reservoir",
    "Tank",
    "Pump",
    "Valve",
    "Pipe",
    "Junction",
    "Device",
]
PropValue = Union[str, float, int, bool]


class AssetDef(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """An asset's identity, place and relations."""

    id: SafeId
    type: AssetType
    name: Text = ""
    geometry: Geometry | None = None
    refs: Annotated[dict[Code, SafeId], Meta(max_length=16, description="Relations: cabinet, group, street, district, commune, pipe, zone, segment")] = {}
    props: Annotated[dict[Code, PropValue], Meta(max_length=32, description="Static attributes (powerRating W, capacity m3, freeFlowSpeed km/h, ...)")] = {}


# --- alarm events ------------------------------------------------------------------------

Severity = Literal["critical", "major", "minor", "warning", "info"]


class AlarmEvent(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A supervisor raising or clearing one of its alarms."""

    id: Annotated[SafeId, Meta(description="The supervisor's alarm id (stable across raise/clear)")]
    asset: SafeId
    action: Literal["raise", "clear"]
    severity: Severity = "minor"
    code: Code
    message: Text = ""
    ts: Timestamp | None = None
    cause: Annotated[SafeId, Meta(description="Optional: the id of this supervisor's alarm that causes this one (flood grouping)")] | None = None


# --- the messages ------------------------------------------------------------------------


class Envelope(Struct, kw_only=True, frozen=True):
    """Fields every supervisor message carries."""

    v: Literal[1]
    kind: Kind
    domain: Domain
    supervisor: SupervisorId
    ts: Timestamp
    seq: Seq


class Telemetry(Envelope, Generic[R], kw_only=True, frozen=True):
    """A batch of readings (a synthesis: one message carries many readings)."""

    readings: Annotated[list[R], Meta(max_length=20000)]


class Alarm(Envelope, kw_only=True, frozen=True):
    events: Annotated[list[AlarmEvent], Meta(max_length=20000)]


class State(Envelope, Generic[R], kw_only=True, frozen=True):
    """A full snapshot of the supervisor's assets, possibly in several parts."""

    snapshot: Annotated[SafeId, Meta(max_length=64, description="Id shared by the parts of one snapshot")]
    part: Annotated[int, Meta(ge=1)] = 1
    parts: Annotated[int, Meta(ge=1, le=10000)] = 1
    assets: Annotated[list[AssetDef], Meta(max_length=20000)] = []
    readings: Annotated[list[R], Meta(max_length=20000)] = []
    alarms: Annotated[list[AlarmEvent], Meta(max_length=20000, description="Alarms active at snapshot time (in the last part)")] = []


class Heartbeat(Envelope, kw_only=True, frozen=True):
    uptime_s: Annotated[float, Meta(ge=0.0)] = 0.0
    assets: Annotated[int, Meta(ge=0)] = 0
    status: Literal["ok", "degraded"] = "ok"
    speed: Annotated[float, Meta(gt=0.0, le=10000.0, description=(
        "Pace of the clock `ts` is on: territory seconds per wall second (1: real time; a simulator at --speed 60: 60). "
        "Vigie judges a supervisor's clock drift and silence in wall seconds, scaled by it"))] = 1.0


AckStatus = Literal["accepted", "rejected", "applied", "failed", "partial"]


class Ack(Envelope, kw_only=True, frozen=True):
    """A supervisor's answer to a command: accepted/rejected first, then applied/failed/partial."""

    command_id: Annotated[SafeId, Meta(max_length=64)]
    status: AckStatus
    reason: Text | None = None
    applied: Annotated[list[AssetId], Meta(max_length=200000)] = []
    failed: Annotated[list[AssetId], Meta(max_length=200000)] = []


# --- version 2: retained state -------------------------------------------------------------

KeyId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}\Z", description="Letters, digits, _ . and - (it goes into Redis key names)")]


class StateReady(Struct, kw_only=True, frozen=True):
    """Also the value of the manifest key `sup:<domain>:<supervisor_id>:state`; part n is the key `...:state:<snapshot>:part:<n>`, a v1 `state` part."""

    v: Literal[2]
    kind: Literal["state_ready"]
    domain: Domain
    supervisor: SupervisorId
    ts: Timestamp
    seq: Seq
    boot: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,32}\Z", description="Id of the supervisor's process run, new at each start")]
    version: Annotated[int, Meta(ge=1, le=2**53, description="Version of the retained state, +1 for each new one within a boot")]
    snapshot: Annotated[KeyId, Meta(description="Id of this version's parts: their `snapshot` field and the middle of their key names")]
    parts: Annotated[int, Meta(ge=1, le=10000, description="How many part keys this version has")]
    assets: Annotated[int, Meta(ge=0, le=10_000_000, description="How many assets the parts define")]
    definitions: Annotated[int, Meta(ge=1, le=2**53, description="The version (of this boot) in which the assets or their definitions last changed")]
    refresh_s: Annotated[float, Meta(ge=0.0, le=86400.0, description="A new version is written at most this long after a change (s)")]


SupervisorMessage = Union[Telemetry, Alarm, State, Heartbeat, Ack, StateReady]

# --- Vigie -> supervisor (cmd.<domain>.<supervisor_id>) -----------------------------------

ParamValue = Union[str, float, int, bool, None]


class Command(Struct, kw_only=True, frozen=True, tag="command", tag_field="kind"):
    """An operator command for one supervisor (`"kind": "command"` on the wire)."""

    v: Literal[1] = 1
    domain: Domain
    supervisor: SupervisorId
    ts: Timestamp
    command_id: Annotated[SafeId, Meta(max_length=64)]
    action: Code
    targets: Annotated[list[AssetId], Meta(max_length=200000)]
    params: Annotated[dict[Code, ParamValue], Meta(max_length=32)] = {}
    expires_at: Timestamp | None = None
    user: Text | None = None


class StateRequest(Struct, kw_only=True, frozen=True, tag="state_request", tag_field="kind"):
    """Vigie asking a supervisor for a fresh `state` (`"kind": "state_request"`); a v2 supervisor answers with a `state_ready`."""

    v: Literal[1] = 1
    domain: Domain
    supervisor: SupervisorId
    ts: Timestamp
    request_id: Annotated[SafeId, Meta(max_length=64)]
    reason: Text = ""


CommandMessage = Union[Command, StateRequest]

# message kind -> struct, per domain (generic ones are parametrised by the domain's reading type)
KIND_TYPES: dict[str, object] = {"alarm": Alarm, "heartbeat": Heartbeat, "ack": Ack, "state_ready": StateReady}
GENERIC_KINDS: dict[str, object] = {"telemetry": Telemetry, "state": State}
KIND_VERSIONS: dict[str, int] = {"state_ready": 2}  # the `v` of each kind; absent: 1


def message_type(domain: str, kind: str) -> object:
    """Return the struct type a `sup.<domain>.*.<kind>` payload decodes into."""
    if kind in GENERIC_KINDS:
        return GENERIC_KINDS[kind][READING_TYPES[domain]]  # type: ignore[index]
    return KIND_TYPES[kind]


def encode(msg: Struct) -> bytes:
    """Encode any contract message as JSON bytes."""
    return msgspec.json.encode(msg)
