"""The territory clock: the one time a simulated territory runs on, kept in Redis for the simulators and Vigie.

Real supervisors run on the wall clock and need nothing of this. Simulated supervisors may run faster
(`--speed 60`: a simulated minute per wall second) or from another start (`--start`); they and Vigie then
share one clock, an anchor kept in one Redis key:

    vigie:clock   {"v": 1, "speed": 60.0, "epoch": <territory time at the anchor, Unix s>,
                   "wall": <wall time at the anchor, Unix s>, "by": "<who set it>"}

Territory time at wall time w is `epoch + (w - wall) * speed`. Whoever runs on the clock keeps the key alive
(`TTL_S`, refreshed every few seconds); the first simulator to start on a territory without one sets it.
Pure: the key, the value and the arithmetic; no I/O.
"""
from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta, Struct

CLOCK_KEY = "vigie:clock"
TTL_S = 60  # the key lives this long after the last one running on it refreshed it
MAX_SPEED = 10_000.0
WALL_TOLERANCE_S = 1.0  # an anchor within this of the wall clock at speed 1 is the wall clock

Speed = Annotated[float, Meta(gt=0.0, le=MAX_SPEED, description="Territory seconds per wall second (1: real time)")]
UnixTime = Annotated[float, Meta(ge=0.0, le=32503680000.0, description="Unix time, seconds")]


class ClockAnchor(Struct, kw_only=True, frozen=True):
    """Territory time `epoch` at wall time `wall`, running `speed` times as fast as the wall clock."""

    v: int = 1
    speed: Speed = 1.0
    epoch: UnixTime
    wall: UnixTime
    by: Annotated[str, Meta(max_length=64)] = ""

    def at(self, wall: float) -> float:
        """Territory time at wall time `wall`."""
        return self.epoch + (wall - self.wall) * self.speed

    def wall_of(self, territory: float) -> float:
        """Wall time at which the territory reaches `territory`."""
        return self.wall + (territory - self.epoch) / self.speed

    def is_wall_clock(self) -> bool:
        """Does this anchor run as the wall clock does (speed 1, no offset)?"""
        return self.speed == 1.0 and abs(self.epoch - self.wall) <= WALL_TOLERANCE_S

    def moved(self, territory: float, wall: float, by: str) -> ClockAnchor:
        """The same pace, anchored again at (`territory`, `wall`)."""
        return ClockAnchor(speed=self.speed, epoch=territory, wall=wall, by=by)


_decoder = msgspec.json.Decoder(ClockAnchor)


class ClockError(ValueError):
    """The key holds something that is not a clock anchor; the text says why."""


def encode_anchor(anchor: ClockAnchor) -> bytes:
    """The key's value."""
    return msgspec.json.encode(anchor)


def decode_anchor(raw: bytes | str) -> ClockAnchor:
    """Read the key's value; raise ClockError with the reason when it is not an anchor."""
    try:
        anchor = _decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as err:
        raise ClockError(str(err)[:200]) from err
    if anchor.v != 1:
        raise ClockError(f"unknown clock version {anchor.v}")
    return anchor
