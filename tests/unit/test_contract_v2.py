"""Contract v2: the `state_ready` announcement, the retained-state key names, and `observedAt` on readings."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from services.contract import Codec, LightingReading, Rejection, StateReady, Telemetry, encode, sup_channel
from services.contract.retained import RetainedVersion, keys_of, parse_state_key, part_key, state_key

T0 = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)


def ready(domain: str = "lighting", supervisor: str = "lum-mtp", **changes) -> StateReady:
    fields = dict(v=2, kind="state_ready", domain=domain, supervisor=supervisor, ts=T0, seq=41, boot="9f3a01c2", version=7,
                  snapshot="9f3a01c2-7", parts=16, assets=30774, definitions=1, refresh_s=15.0)
    return StateReady(**{**fields, **changes})


def announced(**changes) -> bytes:
    """A lighting `state_ready` payload with some JSON fields changed."""
    doc = json.loads(encode(ready()))
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def codec() -> Codec:
    return Codec()


CH = sup_channel("lighting", "lum-mtp", "state_ready")


@pytest.mark.parametrize("domain,supervisor", [("lighting", "lum-mtp"), ("water", "eau-mtp"), ("traffic", "trafic-mtp")])
def test_a_state_ready_goes_round_the_codec_unchanged(codec: Codec, domain: str, supervisor: str) -> None:
    msg = ready(domain, supervisor)
    assert codec.decode(sup_channel(domain, supervisor, "state_ready"), encode(msg)) == msg


@pytest.mark.parametrize("payload,reason", [
    (announced(v=1), "unsupported_version"),  # the new kind is version 2 only
    (announced(v="2"), "unsupported_version"),
    (announced(boot="a:b"), "bad_value"),  # ids that go into key names: no colon
    (announced(snapshot="x:1"), "bad_value"),
    (announced(snapshot="*"), "bad_value"),  # nor a glob character
    (announced(parts=0), "out_of_range"),
    (announced(parts=10001), "out_of_range"),
    (announced(version=0), "out_of_range"),
    (announced(refresh_s=-1), "out_of_range"),
    (announced(supervisor="lum-nimes"), "channel_mismatch"),
    (json.dumps({k: v for k, v in json.loads(announced()).items() if k != "definitions"}).encode(), "missing_field"),
])
def test_a_bad_state_ready_is_refused_with_its_reason(codec: Codec, payload: bytes, reason: str) -> None:
    got = codec.decode(CH, payload)
    assert isinstance(got, Rejection) and got.reason == reason, got


def test_version_1_kinds_still_refuse_version_2(codec: Codec) -> None:
    msg = Telemetry[LightingReading](v=1, kind="telemetry", domain="lighting", supervisor="lum-mtp", ts=T0, seq=1,
                                     readings=[LightingReading(asset="lamp-1", status="ok")])
    payload = encode(msg)
    assert not isinstance(codec.decode("sup.lighting.lum-mtp.telemetry", payload), Rejection)
    got = codec.decode("sup.lighting.lum-mtp.telemetry", payload.replace(b'"v":1', b'"v":2'))
    assert isinstance(got, Rejection) and got.reason == "unsupported_version"


@pytest.mark.parametrize("value,expected", [
    ("2026-06-21T21:59:30+02:00", datetime(2026, 6, 21, 21, 59, 30, tzinfo=timezone(timedelta(hours=2)))),
    ("2026-06-21T19:59:30Z", datetime(2026, 6, 21, 19, 59, 30, tzinfo=timezone.utc)),
])
def test_observed_at_is_an_optional_iso_8601_time_on_every_reading(codec: Codec, value: str, expected: datetime) -> None:
    for domain in ("lighting", "water", "traffic"):
        payload = json.dumps({"v": 1, "kind": "telemetry", "domain": domain, "supervisor": "s-1", "ts": "2026-06-21T20:00:00Z",
                              "seq": 1, "readings": [{"asset": "a-1", "observedAt": value}, {"asset": "a-2"}]}).encode()
        msg = codec.decode(sup_channel(domain, "s-1", "telemetry"), payload)
        assert [r.observedAt for r in msg.readings] == [expected, None]


@pytest.mark.parametrize("value,reason", [("2026-06-21T20:00:00", "wrong_type"), ("yesterday", "bad_value"), (1718990000, "wrong_type")])
def test_observed_at_without_offset_or_unparsable_is_refused(codec: Codec, value: object, reason: str) -> None:
    payload = json.dumps({"v": 1, "kind": "telemetry", "domain": "water", "supervisor": "s-1", "ts": "2026-06-21T20:00:00Z",
                          "seq": 1, "readings": [{"asset": "a-1", "observedAt": value}]}).encode()
    got = codec.decode("sup.water.s-1.telemetry", payload)
    assert isinstance(got, Rejection) and got.reason == reason, got


def test_the_key_names_of_a_retained_state() -> None:
    assert state_key("lighting", "lum-mtp") == "sup:lighting:lum-mtp:state"
    assert part_key("lighting", "lum-mtp", "9f3a01c2-7", 3) == "sup:lighting:lum-mtp:state:9f3a01c2-7:part:3"
    assert keys_of(ready(parts=2)) == ["sup:lighting:lum-mtp:state:9f3a01c2-7:part:1", "sup:lighting:lum-mtp:state:9f3a01c2-7:part:2"]
    assert parse_state_key(b"sup:water:eau-mtp:state") == ("water", "eau-mtp")
    for other in ("sup:water:eau-mtp:state:x-1:part:1", "sup:gas:g-1:state", "vigie:snap:meta", "sup::state", "sup:water:eau-mtp"):
        assert parse_state_key(other) is None, other


def test_a_retained_version_names_its_keys_and_its_announcement() -> None:
    version = RetainedVersion(ready(parts=2), (b"part-1", b"part-2"))
    assert version.manifest_key == "sup:lighting:lum-mtp:state"
    assert version.part_keys() == keys_of(version.ready)
    assert msgspec.json.decode(version.announcement(), type=StateReady) == version.ready
