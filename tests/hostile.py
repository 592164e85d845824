"""Hostile feed messages: (channel, payload, expected_reason) triples that Vigie must refuse and count.

`hostile_messages(n, seed)` is deterministic for a given seed. Every channel starts with `sup.`
so that Vigie's pattern subscription `sup.*` receives it. The expected reason is the one
`services.contract.Codec.decode` gives; `tests/unit/test_contract.py` pins that they agree.
`valid_message` / `valid_telemetry` build well-formed traffic to mix with them.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from services.contract import sup_channel
from services.simulators import DEFAULT_IDS

Hostile = tuple[str, bytes, str]
TS = "2026-06-21T22:00:00+02:00"
DOMAINS = ("lighting", "water", "traffic")
KINDS = ("telemetry", "alarm", "state", "heartbeat", "ack")
TOO_LARGE_BYTES = 10 * 1024 * 1024
NESTING_DEPTH = 20_000  # well past msgspec's recursion guard (about 1,000 on CPython 3.11)

_READINGS: dict[str, dict[str, Any]] = {
    "lighting": {"powerState": "on", "status": "ok", "illuminanceLevel": 0.7, "powerConsumption": 48.0, "controlMode": "schedule"},
    "water": {"pressure": 4.2, "flow": 118.5, "chlorine": 0.31, "turbidity": 0.4},
    "traffic": {"intensity": 820.0, "averageVehicleSpeed": 38.5, "occupancy": 0.21, "congested": False},
}
_ASSET_TYPES = {"lighting": "Streetlight", "water": "Junction", "traffic": "RoadSegment"}
_ASSET_PREFIX = {"lighting": "lamp", "water": "junction", "traffic": "segment"}

MARKUP = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Rue <b>Foch</b>",
    "</td><iframe src=//evil.example>",
    "<svg onload=alert(document.cookie)>",
    "voltage > 250",
)
CONTROL = ("\x00", "\x07", "\x08", "\x1b[31mALERT\x1b[0m", "line\x0bbreak", "\x1f")
NON_UTF8 = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\xe9t\xe9")
OUT_OF_RANGE: tuple[tuple[str, str, str], ...] = (  # (domain, reading field, raw JSON value)
    ("lighting", "illuminanceLevel", "1.5"),
    ("lighting", "illuminanceLevel", "-0.2"),
    ("lighting", "powerConsumption", "-1"),
    ("lighting", "powerConsumption", "1e999"),
    ("water", "pressure", "99.0"),
    ("water", "pressure", "-5"),
    ("water", "level", "150"),
    ("water", "chlorine", "25"),
    ("water", "turbidity", "5000"),
    ("water", "position", "1.2"),
    ("water", "flow", "-2e5"),
    ("traffic", "intensity", "-3"),
    ("traffic", "intensity", "60000"),
    ("traffic", "averageVehicleSpeed", "400"),
    ("traffic", "occupancy", "1.5"),
)
BAD_SEQ = ("-1", "-9223372036854775808", "9007199254740993", "18446744073709551616", "1000000000000000000000000000000")
BAD_VERSION = ("2", "0", "99", '"1"', '"v1"', "null", "-1")
FieldPath = tuple[str | int, ...]  # keys from the message root down to one field
BAD_VALUES: tuple[tuple[str, FieldPath, str], ...] = (  # (kind, where, value): not one of the allowed values
    ("alarm", ("events", 0, "severity"), "catastrophic"),
    ("alarm", ("events", 0, "severity"), "CRITICAL"),
    ("alarm", ("events", 0, "action"), "toggle"),
    ("alarm", ("events", 0, "code"), "9 lives"),
    ("ack", ("status",), "done"),
    ("heartbeat", ("status",), "down"),
    ("heartbeat", ("supervisor",), "lum mtp"),
    ("state", ("assets", 0, "type"), "Lamp"),
    ("state", ("assets", 0, "geometry", "type"), "Polygon"),
    ("telemetry", ("ts",), "yesterday"),
)
BAD_READING_VALUES: dict[str, tuple[tuple[str, FieldPath, str], ...]] = {
    "lighting": (
        ("telemetry", ("readings", 0, "powerState"), "dim"),
        ("telemetry", ("readings", 0, "status"), "broken"),
        ("telemetry", ("readings", 0, "controlMode"), "auto"),
    ),
    "water": (("telemetry", ("readings", 0, "status"), "leaking"),),
    "traffic": (
        ("telemetry", ("readings", 0, "signalPlan"), "rainbow"),
        ("telemetry", ("readings", 0, "status"), "jammed"),
    ),
}


def valid_reading(domain: str, asset: str) -> dict[str, Any]:
    """Return a plausible reading of one asset as a JSON-ready dict."""
    return {"asset": asset, **_READINGS[domain]}


def valid_message(
    domain: str, kind: str, *, supervisor: str | None = None, seq: int = 1, ts: str = TS, assets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Return a well-formed supervisor message of any kind as a JSON-ready dict."""
    sup = supervisor or DEFAULT_IDS[domain]
    ids = assets or (f"{_ASSET_PREFIX[domain]}-0001",)
    msg: dict[str, Any] = {"v": 1, "kind": kind, "domain": domain, "supervisor": sup, "ts": ts, "seq": seq}
    if kind == "telemetry":
        msg["readings"] = [valid_reading(domain, a) for a in ids]
    elif kind == "alarm":
        msg["events"] = [{"id": f"al-{ids[0]}", "asset": ids[0], "action": "raise", "severity": "major", "code": "fault", "message": "Défaut signalé", "ts": ts}]
    elif kind == "state":
        msg.update(snapshot=f"{sup}-1", part=1, parts=1, alarms=[], readings=[valid_reading(domain, a) for a in ids])
        msg["assets"] = [
            {"id": a, "type": _ASSET_TYPES[domain], "name": f"Rue de l'Université {i}", "geometry": {"type": "Point", "coordinates": [3.8767, 43.6108]}}
            for i, a in enumerate(ids, start=1)
        ]
    elif kind == "heartbeat":
        msg.update(uptime_s=3600.0, assets=len(ids), status="ok")
    elif kind == "ack":
        msg.update(command_id="cmd-1", status="accepted")
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return msg


def encode_message(msg: dict[str, Any]) -> tuple[str, bytes]:
    """Return the (channel, payload) a supervisor would publish this message as."""
    return sup_channel(msg["domain"], msg["supervisor"], msg["kind"]), json.dumps(msg, ensure_ascii=False).encode()


def valid_telemetry(domain: str, *, supervisor: str | None = None, seq: int = 1, ts: str = TS, assets: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """Return the (channel, payload) of one well-formed telemetry batch."""
    return encode_message(valid_message(domain, "telemetry", supervisor=supervisor, seq=seq, ts=ts, assets=assets))


# --- the generators: each returns one hostile triple --------------------------------------


@dataclass
class _Gen:
    """What every generator draws from: the seeded random source and the supervisor ids."""

    rng: random.Random
    supervisors: dict[str, str]
    _big: bytes | None = field(default=None, repr=False)

    def pick(self, kinds: tuple[str, ...] = KINDS) -> tuple[str, str, dict[str, Any]]:
        """Pick a domain and kind and return a valid message for them."""
        domain, kind = self.rng.choice(DOMAINS), self.rng.choice(kinds)
        return domain, kind, valid_message(domain, kind, supervisor=self.supervisors[domain], seq=self.rng.randint(1, 10**6))

    def big(self) -> bytes:
        """The 10 MB payload, built once and shared."""
        if self._big is None:
            _, head = encode_message(valid_message("lighting", "telemetry", supervisor=self.supervisors["lighting"]))
            self._big = head[:-1] + b',"padding":"' + b"x" * TOO_LARGE_BYTES + b'"}'
        return self._big


def _raw(msg: dict[str, Any], raw: str) -> bytes:
    """Encode `msg`, replacing the string "__RAW__" by raw JSON text (NaN, 1e999, ...)."""
    return json.dumps(msg, ensure_ascii=False).replace('"__RAW__"', raw).encode()


def _text_site(g: _Gen, text: str) -> tuple[str, dict[str, Any]]:
    """Put `text` in a plain-text field: an asset name, an alarm message or an ack reason."""
    domain = g.rng.choice(DOMAINS)
    kind = g.rng.choice(("state", "alarm", "ack"))
    msg = valid_message(domain, kind, supervisor=g.supervisors[domain])
    if kind == "state":
        msg["assets"][0]["name"] = text
    elif kind == "alarm":
        msg["events"][0]["message"] = text
    else:
        msg.update(status="rejected", reason=text)
    return sup_channel(domain, msg["supervisor"], kind), msg


def _bad_json(g: _Gen) -> Hostile:
    domain, kind, msg = g.pick()
    channel, good = encode_message(msg)
    payload = g.rng.choice([
        b"not json", b"", b"{", b"}", b"{'v': 1}", good[:-1] + b",}", good + b"}", good.replace(b":", b"=", 1),
        b"\xef\xbb\xbf" + good, good.decode().encode("utf-16"), b"{v: 1, kind: telemetry}", good.replace(b'"', b"", 2),
    ])
    return channel, payload, "bad_json"


def _truncated(g: _Gen) -> Hostile:
    _, _, msg = g.pick()
    channel, good = encode_message(msg)
    return channel, good[: g.rng.randrange(1, len(good) - 1)], "bad_json"


def _wrong_type(g: _Gen) -> Hostile:
    domain, _, msg = g.pick()
    channel, _ = encode_message(msg)
    case = g.rng.randrange(5)
    if case == 0:
        return channel, g.rng.choice([b"[]", b"42", b'"hello"', b"null", b"true", b"[{}]"]), "wrong_type"
    if case == 1:
        msg["seq"] = g.rng.choice(["5", 5.5, True, [5], {"n": 5}])
    elif case == 2:
        msg["ts"] = g.rng.choice([1750000000, 1750000000.5, ["2026-06-21"], {"t": 1}])
    elif case == 3:
        msg["supervisor"] = g.rng.choice([7, None, ["x"]])
    else:
        msg = valid_message(domain, "telemetry", supervisor=g.supervisors[domain])
        channel, _ = encode_message(msg)
        number = g.rng.choice([f for f, v in _READINGS[domain].items() if isinstance(v, float)])
        msg["readings"] = g.rng.choice(
            ["all", {"asset": "x"}, [["x"]], [42], [{"asset": 123}], [{"asset": None}], [{"asset": "x", number: "high"}]]
        )
    return channel, json.dumps(msg).encode(), "wrong_type"


def _unknown_domain(g: _Gen) -> Hostile:
    _, kind, msg = g.pick()
    domain = g.rng.choice(["gas", "electricity", "waste", "Lighting", "WATER", "eau", "éclairage", "lighting2"])
    return f"sup.{domain}.{msg['supervisor']}.{kind}", json.dumps(msg).encode(), "unknown_domain"


def _unknown_kind(g: _Gen) -> Hostile:
    domain, _, msg = g.pick()
    kind = g.rng.choice(["command", "state_request", "events", "Telemetry", "telemetry2", "", "log", "*"])
    return f"sup.{domain}.{msg['supervisor']}.{kind}", json.dumps(msg).encode(), "unknown_kind"


def _bad_channel(g: _Gen) -> Hostile:
    domain, kind, msg = g.pick()
    sup = msg["supervisor"]
    channel = g.rng.choice([
        f"sup.{domain}", f"sup.{domain}.{sup}", f"sup.{domain}.{sup}.{kind}.extra", f"sup.{domain}.{sup} x.{kind}",
        f"sup.{domain}.<script>.{kind}", f"sup.{domain}.{'s' * 65}.{kind}", f"sup.{domain}..{kind}", "sup.", f"sup.{domain}.é.{kind}",
    ])
    return channel, json.dumps(msg).encode(), "bad_channel"


def _nan_infinity(g: _Gen) -> Hostile:
    domain = g.rng.choice(DOMAINS)
    msg = valid_message(domain, "telemetry", supervisor=g.supervisors[domain])
    field_ = g.rng.choice([f for f, v in _READINGS[domain].items() if isinstance(v, float)])
    msg["readings"][0][field_] = "__RAW__"
    raw = g.rng.choice(["NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"])
    return encode_message(msg)[0], _raw(msg, raw), "bad_json"


def _too_large(g: _Gen) -> Hostile:
    return sup_channel("lighting", g.supervisors["lighting"], "telemetry"), g.big(), "too_large"


def _markup(g: _Gen) -> Hostile:
    channel, msg = _text_site(g, g.rng.choice(MARKUP))
    return channel, json.dumps(msg, ensure_ascii=False).encode(), "markup_in_text"


def _control_char(g: _Gen) -> Hostile:
    channel, msg = _text_site(g, "Armoire " + g.rng.choice(CONTROL) + " nord")
    return channel, json.dumps(msg, ensure_ascii=False).encode(), "markup_in_text"


def _bad_seq(g: _Gen) -> Hostile:
    _, _, msg = g.pick()
    msg["seq"] = "__RAW__"
    return encode_message(msg)[0], _raw(msg, g.rng.choice(BAD_SEQ)), "out_of_range"


def _bad_version(g: _Gen) -> Hostile:
    _, _, msg = g.pick()
    msg["v"] = "__RAW__"
    return encode_message(msg)[0], _raw(msg, g.rng.choice(BAD_VERSION)), "unsupported_version"


def _missing_envelope(g: _Gen) -> Hostile:
    _, kind, msg = g.pick()
    channel, _ = encode_message(msg)
    envelope = ("v", "kind", "domain", "supervisor", "ts", "seq")
    if g.rng.random() < 0.3:
        body = {k: v for k, v in msg.items() if k not in envelope}
        return channel, json.dumps(body).encode(), "missing_field"
    required_body = {"telemetry": ["readings"], "alarm": ["events"], "state": ["snapshot"], "ack": ["command_id", "status"], "heartbeat": []}
    del msg[g.rng.choice(list(envelope) + required_body[kind])]
    return channel, json.dumps(msg).encode(), "missing_field"


def _mismatch(g: _Gen) -> Hostile:
    domain, kind, msg = g.pick()
    channel, _ = encode_message(msg)
    case = g.rng.randrange(3)
    if case == 0:
        msg["supervisor"] = g.rng.choice(["intrus", msg["supervisor"][:60] + "-2"])
    elif case == 1:
        msg["domain"] = g.rng.choice([d for d in DOMAINS if d != domain])
    else:  # every struct takes any kind in its envelope, so the payload stays valid for the channel
        msg["kind"] = g.rng.choice([k for k in KINDS if k != kind])
    return channel, json.dumps(msg).encode(), "channel_mismatch"


def _set(msg: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set a value deep inside a message, e.g. path ("readings", 0, "powerState")."""
    target: Any = msg
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _out_of_range(g: _Gen) -> Hostile:
    domain, field_, raw = g.rng.choice(OUT_OF_RANGE)
    msg = valid_message(domain, g.rng.choice(("telemetry", "state")), supervisor=g.supervisors[domain])
    _set(msg, ("readings", 0, field_), "__RAW__")
    return encode_message(msg)[0], _raw(msg, raw), "out_of_range"


def _unknown_enum(g: _Gen) -> Hostile:
    domain = g.rng.choice(DOMAINS)
    kind, path, value = g.rng.choice(BAD_VALUES + BAD_READING_VALUES[domain])
    msg = valid_message(domain, kind, supervisor=g.supervisors[domain])
    channel, _ = encode_message(msg)
    _set(msg, path, value)
    return channel, json.dumps(msg, ensure_ascii=False).encode(), "bad_value"


def _non_utf8(g: _Gen) -> Hostile:
    domain, kind, msg = g.pick(("telemetry", "state", "alarm"))
    marker = "__BYTES__"
    if kind == "telemetry":
        msg["readings"][0]["asset"] += marker
    elif kind == "state":
        msg["assets"][0]["name"] += marker
    else:
        msg["events"][0]["message"] += marker
    channel, payload = encode_message(msg)
    return channel, payload.replace(marker.encode(), g.rng.choice(NON_UTF8)), "bad_encoding"


def _deep_nesting(g: _Gen) -> Hostile:
    _, _, msg = g.pick()
    channel, good = encode_message(msg)
    depth = NESTING_DEPTH
    if g.rng.random() < 0.25:  # a nested array where an object is expected: refused at the first byte
        return channel, b"[" * depth + b"]" * depth, "wrong_type"
    nested = g.rng.choice([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth])
    return channel, good[:-1] + b',"extra":' + nested + b"}", "bad_json"


CATEGORIES: tuple[Callable[[_Gen], Hostile], ...] = (
    _bad_json, _truncated, _wrong_type, _unknown_domain, _unknown_kind, _bad_channel, _nan_infinity, _too_large,
    _markup, _control_char, _bad_seq, _bad_version, _missing_envelope, _mismatch, _out_of_range, _unknown_enum,
    _non_utf8, _deep_nesting,
)


def hostile_messages(n: int = 1000, seed: int = 0, supervisors: dict[str, str] | None = None) -> list[Hostile]:
    """Return n (channel, payload, expected_reason) triples, spread over every category, shuffled.

    The 10 MB payload is one shared bytes object, used about once per 500 messages.
    `supervisors` maps domain -> supervisor id (default: the simulators' ids).
    """
    g = _Gen(random.Random(seed), {**DEFAULT_IDS, **(supervisors or {})})
    light = [c for c in CATEGORIES if c is not _too_large]
    plan = [_too_large] * min(n, max(1, n // 500))
    plan += [light[i % len(light)] for i in range(n - len(plan))]
    g.rng.shuffle(plan)
    return [make(g) for make in plan]
