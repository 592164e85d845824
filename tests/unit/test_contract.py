"""The feed contract (v1, and v2's retained state): what the codec accepts, what it refuses and why, and that the
published schemas and doc match it."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from services.contract import Codec, Rejection, sup_channel
from services.contract.codec import MAX_PAYLOAD_BYTES, REASONS
from services.contract.messages import KIND_VERSIONS
from services.contract.schemas import all_schemas, message_schema, write_schemas
from tests.hostile import DOMAINS, KINDS, encode_message, hostile_messages, valid_message

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schemas"
PROTOCOL_DOC = ROOT / "docs" / "feed-protocol.md"
NOT_FROM_THE_CODEC = {"unknown_asset", "internal_error"}  # counted by the engine, not by Codec.decode
CH = "sup.lighting.lum-mtp.telemetry"


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec()


def telemetry(**changes: Any) -> bytes:
    """A valid lighting telemetry payload for CH, with some fields changed (None removes one)."""
    msg = valid_message("lighting", "telemetry", supervisor="lum-mtp")
    for key, value in changes.items():
        if value is None:
            del msg[key]
        else:
            msg[key] = value
    return json.dumps(msg, ensure_ascii=False).encode()


def reading(**fields: Any) -> bytes:
    """A valid lighting telemetry payload for CH whose one reading has these fields."""
    return telemetry(readings=[{"asset": "lamp-0001", **fields}])


def raw(payload: bytes, field: str, text: bytes) -> bytes:
    """Replace the JSON value of the first `"field": <number or string>` by raw text (NaN, 1e999, ...)."""
    return re.sub(rb'("' + field.encode() + rb'": )("[^"]*"|[-0-9.e]+)', lambda m: m.group(1) + text, payload, count=1)


def alarm(**event: Any) -> tuple[str, bytes]:
    msg = valid_message("lighting", "alarm", supervisor="lum-mtp")
    msg["events"][0].update(event)
    return encode_message(msg)


def state_asset(**asset: Any) -> tuple[str, bytes]:
    msg = valid_message("water", "state", supervisor="eau-mtp")
    msg["assets"][0].update(asset)
    return encode_message(msg)


# --- what is accepted ----------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_valid_message_of_every_kind_and_domain_decodes(codec: Codec, domain: str, kind: str) -> None:
    channel, payload = encode_message(valid_message(domain, kind, supervisor="sup-1", seq=42))
    msg = codec.decode(channel, payload)
    assert not isinstance(msg, Rejection), msg
    assert (msg.domain, msg.supervisor, msg.kind, msg.seq) == (domain, "sup-1", kind, 42)


@pytest.mark.parametrize("payload, kind", [
    (b'{"kind": "command", "domain": "water", "supervisor": "eau-mtp", "ts": "2026-06-21T07:00:00Z", "command_id": "c1", "action": "close_valve", "targets": ["valve-1"]}', "command"),
    (b'{"v": 1, "kind": "state_request", "domain": "water", "supervisor": "eau-mtp", "ts": "2026-06-21T07:00:00+02:00", "request_id": "r1"}', "state_request"),
])
def test_commands_and_state_requests_decode_on_the_cmd_channel(codec: Codec, payload: bytes, kind: str) -> None:
    msg = codec.decode_command(payload)
    assert not isinstance(msg, Rejection), msg
    assert type(msg).__name__ == {"command": "Command", "state_request": "StateRequest"}[kind]


def test_unknown_fields_are_ignored_and_plain_text_may_hold_any_language(codec: Codec) -> None:
    channel, payload = alarm(message="Défaut lampe, rue de l'Église \u2013 \u5317\tligne 2\nfin", vendor_extra={"x": 1})
    assert not isinstance(codec.decode(channel, payload), Rejection)


# --- what is refused, and why: one row per trigger -------------------------------------------

REJECTIONS: list[tuple[str, str, str | bytes, bytes]] = [  # (reason, what, channel, payload)
    ("too_large", "over 8 MiB", CH, b" " * (MAX_PAYLOAD_BYTES + 1)),
    ("bad_channel", "three parts", "sup.lighting.lum-mtp", telemetry()),
    ("bad_channel", "five parts", CH + ".x", telemetry()),
    ("bad_channel", "space in supervisor id", "sup.lighting.lum mtp.telemetry", telemetry()),
    ("bad_channel", "channel name not UTF-8", b"sup.lighting.\xff.telemetry", telemetry()),
    ("unknown_domain", "gas", "sup.gas.lum-mtp.telemetry", telemetry()),
    ("unknown_kind", "events", "sup.lighting.lum-mtp.events", telemetry()),
    ("bad_encoding", "Latin-1 byte in a string", CH, telemetry().replace(b"lamp-0001", b"lamp-\xe9")),
    ("bad_json", "not JSON", CH, b"hello"),
    ("bad_json", "truncated", CH, telemetry()[:40]),
    ("bad_json", "empty", CH, b""),
    ("bad_json", "NaN", CH, raw(reading(illuminanceLevel=0.5), "illuminanceLevel", b"NaN")),
    ("bad_json", "Infinity", CH, raw(reading(powerConsumption=1.0), "powerConsumption", b"Infinity")),
    ("bad_json", "UTF-8 BOM", CH, b"\xef\xbb\xbf" + telemetry()),
    ("bad_json", "deeply nested extra field", CH, telemetry()[:-1] + b', "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("unsupported_version", "v=2", CH, telemetry(v=2)),
    ("unsupported_version", "v as a string", CH, telemetry(v="1")),
    ("missing_field", "no seq", CH, telemetry(seq=None)),
    ("missing_field", "no envelope at all", CH, json.dumps({"readings": []}).encode()),
    ("missing_field", "reading without asset", CH, telemetry(readings=[{"powerState": "on"}])),
    ("wrong_type", "seq as a string", CH, telemetry(seq="5")),
    ("wrong_type", "readings as an object", CH, telemetry(readings={"asset": "x"})),
    ("wrong_type", "a JSON array", CH, b"[]"),
    ("wrong_type", "timestamp without offset", CH, telemetry(ts="2026-06-21T22:00:00")),
    ("out_of_range", "illuminanceLevel 1.5", CH, reading(illuminanceLevel=1.5)),
    ("out_of_range", "negative seq", CH, telemetry(seq=-1)),
    ("out_of_range", "seq above 2^53", CH, telemetry(seq=2**53 + 1)),
    ("out_of_range", "number too big for a float", CH, raw(reading(powerConsumption=1.0), "powerConsumption", b"1e999")),
    ("out_of_range", "too many readings", CH, telemetry(readings=[{"asset": "a"}] * 20001)),
    ("out_of_range", "empty asset id", CH, reading(asset="")),
    ("bad_value", "unknown powerState", CH, reading(powerState="dim")),
    ("bad_value", "unparsable timestamp", CH, telemetry(ts="yesterday")),
    ("bad_value", "bad supervisor id in the envelope", CH, telemetry(supervisor="lum mtp")),
    ("bad_value", "unknown severity", *alarm(severity="CRITICAL")),
    ("bad_value", "unknown asset type", *state_asset(type="Hydrant")),
    ("markup_in_text", "script in an alarm message", *alarm(message="<script>alert(1)</script>")),
    ("markup_in_text", "markup in an asset name", *state_asset(name="Rue <b>Foch</b>")),
    ("markup_in_text", "control character in an asset name", *state_asset(name="Rue\x1b[31m Foch")),
    ("channel_mismatch", "another supervisor", CH, telemetry(supervisor="lum-nimes")),
    ("channel_mismatch", "another domain", CH, telemetry(domain="water")),
    ("channel_mismatch", "another kind", CH, telemetry(kind="state")),
]


@pytest.mark.parametrize("reason, channel, payload", [pytest.param(r, c, p, id=f"{r}: {what}") for r, what, c, p in REJECTIONS])
def test_a_bad_message_is_refused_with_its_reason(codec: Codec, reason: str, channel: str | bytes, payload: bytes) -> None:
    got = codec.decode(channel, payload)
    assert isinstance(got, Rejection), got
    assert got.reason == reason, got.detail


def test_the_table_triggers_every_reason_the_codec_can_give() -> None:
    assert {r for r, *_ in REJECTIONS} == set(REASONS) - NOT_FROM_THE_CODEC


@pytest.mark.parametrize("payload, reason", [
    (b"{", "bad_json"),
    (b'{"kind": "command", "user": "\xff"}', "bad_json"),
    (b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "bad_json"),
    (b'{"kind": "reboot"}', "bad_value"),
    (b'{"v": 2, "kind": "command", "domain": "water", "supervisor": "s", "ts": "2026-06-21T07:00:00Z", "command_id": "c", "action": "a", "targets": []}', "unsupported_version"),
])
def test_a_bad_command_is_refused_without_raising(codec: Codec, payload: bytes, reason: str) -> None:
    got = codec.decode_command(payload)
    assert isinstance(got, Rejection) and got.reason == reason, got


# --- the hostile corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile() -> list[tuple[str, bytes, str]]:
    return hostile_messages(1000, seed=0)


def test_every_hostile_message_is_refused_with_its_expected_reason(codec: Codec, hostile: list[tuple[str, bytes, str]]) -> None:
    wrong = []
    for channel, payload, expected in hostile:
        got = codec.decode(channel, payload)
        if not isinstance(got, Rejection) or got.reason != expected:
            wrong.append((channel, payload[:160], expected, got))
    assert not wrong, wrong[:5]


def test_the_hostile_corpus_spans_every_codec_reason_on_channels_vigie_hears(hostile: list[tuple[str, bytes, str]]) -> None:
    assert len(hostile) == 1000
    assert {r for _, _, r in hostile} == set(REASONS) - NOT_FROM_THE_CODEC
    assert all(channel.startswith("sup.") for channel, _, _ in hostile)
    assert sum(len(p) > MAX_PAYLOAD_BYTES for _, p, _ in hostile) == 2


def test_the_hostile_corpus_is_the_same_for_the_same_seed(hostile: list[tuple[str, bytes, str]]) -> None:
    assert hostile_messages(1000, seed=0) == hostile
    assert hostile_messages(1000, seed=1) != hostile
    assert len(hostile_messages(5, seed=3)) == 5


# --- the published schemas -------------------------------------------------------------------


def test_the_committed_schemas_are_up_to_date_with_the_code(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.schema.json")}
    assert sorted(committed) == sorted(fresh)
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"regenerate with: python -m services.contract.schemas docs/schemas ({stale})"


@pytest.mark.parametrize("name", sorted(all_schemas()))
def test_each_schema_is_a_described_draft_2020_12_schema_of_its_kinds_version(name: str) -> None:
    schema = all_schemas()[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(name) and schema["title"] and schema["description"]
    version = 2 if name.startswith("state_ready.") else 1
    assert KIND_VERSIONS.get(name.split(".")[0], 1) == version
    assert schema["properties"]["v"]["const"] == version and schema["$id"].startswith(f"urn:vigie:feed:v{version}:")
    assert schema["properties"]["kind"]["const"] == name.split(".")[0]


def test_units_stay_in_the_field_descriptions() -> None:
    water = message_schema("telemetry", "water")["$defs"]["WaterReading"]["properties"]
    assert "(bar)" in water["pressure"]["description"] and "(m3/h)" in water["flow"]["description"]


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value).tzinfo is not None


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)


def _schema_for(msg: dict[str, Any]) -> dict[str, Any]:
    kind = msg["kind"]
    name = f"{kind}.{msg['domain']}.schema.json" if kind in ("telemetry", "state") else f"{kind}.schema.json"
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _doc_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", PROTOCOL_DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


@pytest.mark.parametrize("example", _doc_examples(), ids=lambda m: f"{m['kind']}.{m['domain']}")
def test_each_example_in_the_protocol_doc_is_valid(codec: Codec, example: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(_schema_for(example), format_checker=FORMATS).validate(example)
    payload = json.dumps(example, ensure_ascii=False).encode()
    if example["kind"] in ("command", "state_request"):
        got = codec.decode_command(payload)
    else:
        got = codec.decode(sup_channel(example["domain"], example["supervisor"], example["kind"]), payload)
    assert not isinstance(got, Rejection), got


def test_the_protocol_doc_shows_every_kind_and_every_domains_telemetry() -> None:
    shown = {(m["kind"], m["domain"]) for m in _doc_examples()}
    assert {k for k, _ in shown} == set(KINDS) | {"command", "state_request", "state_ready"}
    assert {("telemetry", d) for d in DOMAINS} <= shown


SCHEMA_CHECKED = {"unsupported_version", "missing_field", "wrong_type", "out_of_range", "bad_value", "markup_in_text"}


def test_the_schemas_refuse_the_hostile_payloads_the_codec_refuses_for_their_content(hostile: list[tuple[str, bytes, str]]) -> None:
    accepted = []
    for _, payload, reason in hostile:
        if reason not in SCHEMA_CHECKED:
            continue
        try:
            msg = json.loads(payload)
        except (ValueError, RecursionError):
            continue  # not JSON Python can read either (e.g. nested 20,000 deep)
        if not isinstance(msg, dict) or msg.get("kind") not in KINDS or msg.get("domain") not in DOMAINS:
            continue  # no schema to pick: the payload is refused for that already
        if jsonschema.Draft202012Validator(_schema_for(msg), format_checker=FORMATS).is_valid(msg):
            accepted.append((reason, payload[:200]))
    assert not accepted, accepted[:5]


def test_supervisor_id_with_a_trailing_newline_is_refused():
    from services.contract.channels import ChannelError, parse_sup_channel

    with pytest.raises(ChannelError):
        parse_sup_channel("sup.lighting.lum-mtp\n.telemetry")


@pytest.mark.parametrize("asset_id", ["<script>", "lamp 1", "lamp\u202e1", "a" * 129])
def test_asset_ids_defined_in_state_are_restricted_to_safe_characters(asset_id):
    from datetime import datetime, timezone

    from services.contract import AssetDef, Codec, LightingReading, Rejection, State, encode

    msg = State[LightingReading](v=1, kind="state", domain="lighting", supervisor="s", ts=datetime.now(timezone.utc), seq=1,
                                 snapshot="x", assets=[AssetDef(id=asset_id, type="Streetlight")])
    assert isinstance(Codec().decode("sup.lighting.s.state", encode(msg)), Rejection)
