"""What mapping an NGSI entity gives (an asset and its reading, alarm events) or why it is refused; Vigie ids."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import msgspec

from services.contract.messages import AlarmEvent, AssetDef

DOMAINS = ("lighting", "water", "traffic")
SAFE_ID = re.compile(r"^[A-Za-z0-9:._~@/+-]{1,128}\Z")
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}\Z")
UNSAFE_TEXT = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
Lookup = Callable[[str], "str | None"]  # asset id -> its domain, when Vigie knows it


@dataclass(frozen=True, slots=True)
class Refusal:
    """An entity Vigie will not take, and why (`reason` is counted, `detail` is for people)."""

    entity_id: str
    entity_type: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Mapped:
    """What one entity means for Vigie: an asset (and its reading) and/or alarm events, in one domain."""

    domain: str
    entity_id: str
    entity_type: str
    asset: AssetDef | None = None
    reading: msgspec.Struct | None = None
    alarms: tuple[AlarmEvent, ...] = ()
    define_if_new: bool = False  # a measurement's device: define it only if the source has not
    remove: bool = False  # the entity was deleted
    warnings: tuple[str, ...] = ()


class MapError(Exception):
    """Raised inside the mapping; becomes a Refusal."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail



# --- ids -----------------------------------------------------------------------------------


def asset_id(ngsi_id: str, ngsi_type: str) -> str:
    """Vigie's asset id for an NGSI entity: its urn, or `urn:ngsi-ld:<type>:<id>` for a bare NGSIv2 id."""
    aid = ngsi_id if ngsi_id.startswith("urn:") else f"urn:ngsi-ld:{ngsi_type}:{ngsi_id}"
    if not SAFE_ID.match(aid):
        raise MapError("bad_id", f"id {ngsi_id[:80]!r} is not usable: up to 128 letters, digits and : . _ ~ @ / + -")
    return aid


def ref_id(value: Any, target_type: str | None) -> str | None:
    """The asset id a relationship points to, or None when it is not a usable id."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str) or not value:
        return None
    out = value if value.startswith("urn:") or target_type is None else f"urn:ngsi-ld:{target_type}:{value}"
    return out if SAFE_ID.match(out) else None


def urn_type(value: Any) -> str | None:
    """The entity type written in an `urn:ngsi-ld:<Type>:...` id."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str) and value.startswith("urn:ngsi-ld:"):
        return value.split(":")[2] or None
    return None
