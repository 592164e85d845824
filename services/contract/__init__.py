"""The feed contract (v1, and v2's retained state): channels, typed messages, the codec, key names. Pure: no I/O."""
from .channels import SUP_PATTERN, cmd_channel, parse_sup_channel, sup_channel
from .codec import Codec, Rejection
from .messages import (
    CONTRACT_VERSION,
    Ack,
    Alarm,
    AlarmEvent,
    AssetDef,
    Command,
    Envelope,
    Heartbeat,
    LightingReading,
    LineString,
    Point,
    READING_TYPES,
    State,
    StateReady,
    StateRequest,
    Telemetry,
    TrafficReading,
    WaterReading,
    encode,
)

__all__ = [
    "SUP_PATTERN", "cmd_channel", "parse_sup_channel", "sup_channel", "Codec", "Rejection",
    "CONTRACT_VERSION", "Ack", "Alarm", "AlarmEvent", "AssetDef", "Command", "Envelope", "Heartbeat",
    "LightingReading", "LineString", "Point", "READING_TYPES", "State", "StateReady", "StateRequest", "Telemetry",
    "TrafficReading", "WaterReading", "encode",
]
