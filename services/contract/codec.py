"""Decode bus payloads into typed contract messages, or a Rejection with a reason."""
from __future__ import annotations

from dataclasses import dataclass

import msgspec

from .channels import DOMAINS, KINDS, ChannelError, SupChannel, parse_sup_channel
from .messages import Command, CommandMessage, StateRequest, SupervisorMessage, message_type

MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
MAX_CACHED_CHANNELS = 4096

# Rejection reasons, as counted in vigie_messages_rejected_total{reason=...}
REASONS = (
    "too_large",
    "bad_channel",
    "unknown_domain",
    "unknown_kind",
    "bad_encoding",
    "bad_json",
    "unsupported_version",
    "missing_field",
    "wrong_type",
    "out_of_range",
    "bad_value",
    "markup_in_text",
    "channel_mismatch",
    "unknown_asset",
    "internal_error",
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message was refused; `detail` is for the log, `reason` for the counters."""

    reason: str
    detail: str


def _classify(err: msgspec.ValidationError) -> str:
    text = str(err)
    if "`$.v`" in text:
        return "unsupported_version"
    if text.startswith("Object missing required field"):
        return "missing_field"
    if "regex '^[^<>" in text:
        return "markup_in_text"
    if ">=" in text or "<=" in text or "length" in text or "out of range" in text:
        return "out_of_range"
    if text.startswith("Invalid enum value") or "regex" in text or "Invalid" in text:
        return "bad_value"
    return "wrong_type"


class Codec:
    """Decodes `sup.*` payloads with one prebuilt msgspec decoder per (domain, kind)."""

    def __init__(self, max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.max_payload_bytes = max_payload_bytes
        self._decoders = {
            (d, k): msgspec.json.Decoder(message_type(d, k)) for d in DOMAINS for k in KINDS
        }
        self._command_decoder = msgspec.json.Decoder(CommandMessage)
        # channel name -> (parsed channel, its decoder): a territory has a few dozen channels,
        # and parsing one costs more than a small message's whole decode
        self._channels: dict[str | bytes, tuple[SupChannel, msgspec.json.Decoder]] = {}

    def _route(self, channel: str | bytes) -> tuple[SupChannel, msgspec.json.Decoder] | Rejection:
        """Parse a channel name once; later calls are a dict lookup."""
        route = self._channels.get(channel)
        if route is not None:
            return route
        name = channel
        if isinstance(name, bytes):
            try:
                name = name.decode("utf-8")
            except UnicodeDecodeError:
                return Rejection("bad_channel", "channel name is not UTF-8")
        try:
            ch = parse_sup_channel(name)
        except ChannelError as err:
            return Rejection(err.reason, str(err))
        route = (ch, self._decoders[(ch.domain, ch.kind)])
        if len(self._channels) < MAX_CACHED_CHANNELS:  # hostile traffic cannot grow it without bound
            self._channels[channel] = route
        return route

    def decode(self, channel: str | bytes, payload: bytes | str) -> SupervisorMessage | Rejection:
        """Return the typed message, or a Rejection saying why it is refused."""
        if len(payload) > self.max_payload_bytes:
            return Rejection("too_large", f"{len(payload)} bytes > {self.max_payload_bytes}")
        route = self._route(channel)
        if type(route) is Rejection:
            return route
        ch, decoder = route
        try:
            msg = decoder.decode(payload)
        except msgspec.ValidationError as err:
            return Rejection(_classify(err), str(err)[:300])
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as err:
            reason = "bad_encoding" if "UTF-8" in str(err) or "utf-8" in str(err) else "bad_json"
            return Rejection(reason, str(err)[:300])
        return self._check_envelope(ch, msg)

    @staticmethod
    def _check_envelope(ch: SupChannel, msg: SupervisorMessage) -> SupervisorMessage | Rejection:
        if msg.kind != ch.kind or msg.domain != ch.domain or msg.supervisor != ch.supervisor:
            return Rejection(
                "channel_mismatch",
                f"envelope says {msg.domain}.{msg.supervisor}.{msg.kind}, channel {ch.domain}.{ch.supervisor}.{ch.kind}",
            )
        return msg

    def decode_command(self, payload: bytes | str) -> Command | StateRequest | Rejection:
        """Decode what arrives on a `cmd.` channel (used by supervisors and the simulators)."""
        if len(payload) > self.max_payload_bytes:
            return Rejection("too_large", f"{len(payload)} bytes")
        try:
            return self._command_decoder.decode(payload)
        except msgspec.ValidationError as err:
            return Rejection(_classify(err), str(err)[:300])
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as err:
            return Rejection("bad_json", str(err)[:300])
