"""From raw bytes to mapped entities: JSON decoding, limits, the `.ngsi` channels, source supervisor ids."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from services.contract.channels import DOMAINS

from .entities import MAX_ENTITIES, NotificationError, read_notification
from .inbound import Lookup, Mapped, Refusal, map_entity

NGSI_KIND = "ngsi"  # one of services.contract.channels.ADAPTED_KINDS: the engine leaves it to the relay
NGSI_PATTERN = "sup.*.*.ngsi"
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,40}\Z")
_SUP = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")

# Reasons a notification or an entity is refused, as counted in vigie_ngsi_refused_total{reason=...}
REASONS = (
    "too_large", "bad_json", "bad_encoding", "not_a_notification", "too_many_entities", "no_entity_id", "not_an_entity",
    "missing_id", "missing_type", "bad_id", "too_many_attributes", "unsupported_type", "no_domain", "wrong_domain",
    "bad_domain", "markup_in_text", "bad_value", "bad_source", "other_source", "internal_error",
)


@dataclass(slots=True)
class Intake:
    """What a notification gave: mapped entities by domain, refused entities, warnings by entity."""

    mapped: dict[str, list[Mapped]] = field(default_factory=dict)
    raw: dict[str, list[dict]] = field(default_factory=dict)  # the accepted entities as received, by domain
    refused: list[Refusal] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """How many entities were mapped."""
        return sum(len(v) for v in self.mapped.values())


def decode_json(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse a JSON body; raise NotificationError (too_large, bad_encoding, bad_json) when it cannot be read."""
    if len(payload) > max_bytes:
        raise NotificationError("too_large", f"{len(payload)} bytes; the limit is {max_bytes}")
    try:
        return msgspec.json.decode(payload)
    except (msgspec.DecodeError, RecursionError) as err:
        reason = "bad_encoding" if "UTF-8" in str(err) or "utf-8" in str(err) else "bad_json"
        raise NotificationError(reason, f"not valid JSON: {str(err)[:200]}") from err
    except UnicodeDecodeError as err:
        raise NotificationError("bad_encoding", "the body is not UTF-8") from err


def map_notification(body: Any, *, now: datetime, hint: str | None = None, lookup: Lookup | None = None, context: Any = None,
                     attrs_format: str | None = None, max_entities: int = MAX_ENTITIES) -> Intake:
    """Map every entity of a notification body; raise NotificationError when the body is not one."""
    out = Intake()
    for entity in read_notification(body, context=context, attrs_format=attrs_format, max_entities=max_entities):
        result = map_entity(entity, now=now, hint=hint, lookup=lookup)
        if isinstance(result, Refusal):
            out.refused.append(result)
        else:
            out.mapped.setdefault(result.domain, []).append(result)
            out.raw.setdefault(result.domain, []).append(dict(entity.raw))  # type: ignore[union-attr]
    return out


def source_supervisor(source: str, domain: str) -> str:
    """The supervisor id of an NGSI source in one domain: `ngsi-<source>-<domain>`."""
    if not SOURCE.match(source):
        raise ValueError("a source name is 1 to 40 of A-Z a-z 0-9 _ -")
    return f"ngsi-{source}-{domain}"


def ngsi_channel(domain: str, supervisor: str) -> str:
    """The channel NGSI entities for a supervisor are published on: `sup.<domain>.<supervisor>.ngsi`."""
    return f"sup.{domain}.{supervisor}.{NGSI_KIND}"


def parse_ngsi_channel(channel: str | bytes) -> tuple[str, str] | None:
    """(domain, supervisor) of a `sup.<domain>.<supervisor>.ngsi` channel, or None."""
    if isinstance(channel, bytes):
        channel = channel.decode("utf-8", "replace")
    parts = channel.split(".")
    if len(parts) != 4 or parts[0] != "sup" or parts[3] != NGSI_KIND or parts[1] not in DOMAINS or not _SUP.match(parts[2]):
        return None
    return parts[1], parts[2]


def forward_body(entities: list[dict], context: Any = None, attrs_format: str | None = None) -> bytes:
    """The `.ngsi` payload the HTTP endpoint forwards: the accepted entities as a notification."""
    doc: dict[str, Any] = {"data": entities}
    if context is not None:
        doc["@context"] = context
    if attrs_format:
        doc["attrsFormat"] = attrs_format
    return msgspec.json.encode(doc)
