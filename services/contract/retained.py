"""Contract v2, retained state: where a supervisor keeps its full state in Redis, and what one version is.

Like a retained MQTT topic: the state stays in Redis for whoever needs it, instead of being published
on request. One version is a manifest key and its part keys:

    sup:<domain>:<supervisor_id>:state                              the manifest: the last `state_ready`
    sup:<domain>:<supervisor_id>:state:<snapshot>:part:<n>          part n (1..parts): a v1 `state` part

A supervisor writes the parts first, then, in one MULTI/EXEC, the manifest, an expiry on the parts of
the version it replaces (`GRACE_S`) and the `state_ready` announcement on its `sup.` channel: a reader
that follows the manifest never meets half a version. Pure: names and values, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass

import msgspec

from .channels import DOMAINS
from .messages import StateReady

KEY_PREFIX = "sup:"
STATE_KEYS = "sup:*:state"  # SCAN pattern matching every manifest (part keys end in :part:<n>)
GRACE_S = 30  # a replaced version's parts live this long, for a reader still on them (reading one takes a second or two)


def state_key(domain: str, supervisor: str) -> str:
    """The manifest key of a supervisor's retained state."""
    return f"sup:{domain}:{supervisor}:state"


def part_key(domain: str, supervisor: str, snapshot: str, part: int) -> str:
    """The key of one part of one version."""
    return f"sup:{domain}:{supervisor}:state:{snapshot}:part:{part}"


def parse_state_key(key: str | bytes) -> tuple[str, str] | None:
    """(domain, supervisor) of a manifest key, or None when it is not one."""
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "sup" or parts[3] != "state" or parts[1] not in DOMAINS or not parts[2]:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class RetainedVersion:
    """One version of a supervisor's retained state, ready to write: its encoded parts and its announcement."""

    ready: StateReady
    parts: tuple[bytes, ...]

    @property
    def manifest_key(self) -> str:
        """Where the announcement is kept."""
        return state_key(self.ready.domain, self.ready.supervisor)

    def part_keys(self) -> list[str]:
        """The keys of the parts, in order."""
        return keys_of(self.ready)

    def announcement(self) -> bytes:
        """The `state_ready` payload (also the manifest's value)."""
        return msgspec.json.encode(self.ready)


def keys_of(ready: StateReady) -> list[str]:
    """The part keys a manifest names."""
    return [part_key(ready.domain, ready.supervisor, ready.snapshot, n) for n in range(1, ready.parts + 1)]
