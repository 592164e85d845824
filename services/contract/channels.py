"""Channel names of the feed contract."""
from __future__ import annotations

import re
from typing import NamedTuple

DOMAINS = ("lighting", "water", "traffic")
KINDS = ("telemetry", "alarm", "state", "heartbeat", "ack", "state_ready")  # state_ready: contract v2
# Kinds carrying another vocabulary on `sup.<domain>.<supervisor_id>.<kind>`: an adapter maps them to
# contract messages and republishes them (services/ngsi: NGSI entities). The engine leaves them alone.
ADAPTED_KINDS = ("ngsi",)
SUP_PATTERN = "sup.*"  # the one pattern subscription Vigie makes
_SUP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SupChannel(NamedTuple):
    domain: str
    supervisor: str
    kind: str


class ChannelError(ValueError):
    """A channel name that is not `sup.<domain>.<supervisor_id>.<kind>`; `reason` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def sup_channel(domain: str, supervisor: str, kind: str) -> str:
    """Return the channel a supervisor publishes `kind` messages on."""
    return f"sup.{domain}.{supervisor}.{kind}"


def cmd_channel(domain: str, supervisor: str) -> str:
    """Return the channel Vigie sends commands and state requests to a supervisor on."""
    return f"cmd.{domain}.{supervisor}"


def parse_sup_channel(channel: str) -> SupChannel:
    """Split a `sup.` channel name; raise ChannelError with a reason when it is not one."""
    parts = channel.split(".")
    if len(parts) != 4 or parts[0] != "sup":
        raise ChannelError("bad_channel", f"not sup.<domain>.<supervisor>.<kind>: {channel[:120]!r}")
    _, domain, supervisor, kind = parts
    if domain not in DOMAINS:
        raise ChannelError("unknown_domain", f"unknown domain {domain[:40]!r}")
    if not _SUP_ID.fullmatch(supervisor):
        raise ChannelError("bad_channel", f"bad supervisor id {supervisor[:80]!r}")
    if kind not in KINDS:
        raise ChannelError("unknown_kind", f"unknown kind {kind[:40]!r}")
    return SupChannel(domain, supervisor, kind)
