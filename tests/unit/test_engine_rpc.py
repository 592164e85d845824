"""The request/reply wire between web-only workers and the engine's process: format, validation, refusals, metrics."""
from __future__ import annotations

import threading
import time

import fakeredis
import msgspec
import pytest
from msgspec import Struct

from services.feed.engine_remote import ApplyArgs, RemoteAlarmActions, RemoteCommandService, request_doc, request_of, RequestDoc
from services.feed.engine_rpc import (
    HEARTBEAT, REPLY, REQUESTS, EngineClient, EngineRpcServer, EngineUnreachable, Rejected, RemoteRefusal, decode_request,
    encode_request,
)
from services.alarms.actions import ActionsUnavailable, BadRequest
from services.commands.service import CommandInvalid, CommandRequest, CommandsUnavailable, ConfirmationNeeded, Selection
from services.metrics import Metrics

NOW = 1_800_000_000.0
RID = "0123456789abcdef0123456789abcdef"


class Echo(Struct, forbid_unknown_fields=True):
    text: str


def served(metrics: Metrics | None = None) -> tuple[EngineRpcServer, fakeredis.FakeRedis]:
    r = fakeredis.FakeRedis()
    server = EngineRpcServer("redis://fake", metrics, client=r)
    server.serve("echo", Echo, lambda a: a.text.upper())
    return server, r


def reply_of(r: fakeredis.FakeRedis, rid: str) -> dict:
    return msgspec.json.decode(r.lpop(REPLY + rid))


def counted(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_request_is_versioned_json_with_an_id_and_a_deadline():
    rid, raw = encode_request("alarm.apply", {"ids": ["a"]}, NOW + 5)
    doc = msgspec.json.decode(raw)
    assert doc == {"v": 1, "id": rid, "op": "alarm.apply", "deadline": NOW + 5, "args": {"ids": ["a"]}}
    assert len(rid) == 32 and decode_request(raw, NOW).op == "alarm.apply"


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "malformed"),
    (b"[1, 2]", "malformed"),
    (b'{"v": 2, "id": "%s", "op": "echo", "deadline": 1800000005}' % RID.encode(), "malformed"),  # unknown version
    (b'{"v": 1, "id": "short", "op": "echo", "deadline": 1800000005}', "malformed"),
    (b'{"v": 1, "id": "%s", "op": "echo", "deadline": 1800000005, "extra": 1}' % RID.encode(), "malformed"),
    (b'{"v": 1, "id": "%s", "op": "Echo!", "deadline": 1800000005}' % RID.encode(), "malformed"),
    (b'{"v": 1, "id": "%s", "op": "echo", "deadline": 1899999999}' % RID.encode(), "malformed"),  # too far ahead
    (b'{"v": 1, "id": "%s", "op": "echo", "deadline": 1799999990}' % RID.encode(), "expired"),
])
def test_a_bad_request_is_rejected_with_its_reason(raw, reason):
    with pytest.raises(Rejected) as err:
        decode_request(raw, NOW)
    assert err.value.reason == reason


def test_the_server_applies_a_request_and_replies_on_its_own_key():
    metrics = Metrics()
    server, r = served(metrics)
    rid, raw = encode_request("echo", {"text": "ack"}, time.time() + 5)
    server.handle(raw)
    assert 0 < r.ttl(REPLY + rid) <= 30  # nobody waiting: the reply goes away by itself
    assert reply_of(r, rid) == {"v": 1, "id": rid, "ok": True, "result": "ACK", "error": "", "message": "", "extra": {}}
    assert counted(metrics, "vigie_engine_requests_total", op="echo", outcome="ok") == 1


@pytest.mark.parametrize("op, args, reason", [
    ("echo", {"text": 3}, "bad_args"),
    ("echo", {"text": "x", "more": 1}, "bad_args"),
    ("drop_tables", {}, "unknown_op"),
])
def test_a_well_formed_request_with_bad_arguments_is_answered_rejected_and_counted(op, args, reason):
    metrics = Metrics()
    server, r = served(metrics)
    rid, raw = encode_request(op, args, time.time() + 5)
    server.handle(raw)
    reply = reply_of(r, rid)
    assert reply["ok"] is False and reply["error"] == "bad_request" and reply["message"]
    assert counted(metrics, "vigie_engine_requests_rejected_total", reason=reason) == 1


def test_a_malformed_request_is_counted_and_the_server_carries_on():
    metrics = Metrics()
    server, r = served(metrics)
    assert server.handle(b"\xff{garbage") is None
    rid, raw = encode_request("echo", {"text": "next"}, time.time() + 5)
    server.handle(raw)
    assert reply_of(r, rid)["result"] == "NEXT"
    assert counted(metrics, "vigie_engine_requests_rejected_total", reason="malformed") == 1


def test_a_failing_handler_answers_internal_and_the_loop_survives():
    metrics = Metrics()
    server, r = served(metrics)
    server.serve("boom", Echo, lambda a: 1 / 0)
    rid, raw = encode_request("boom", {"text": "x"}, time.time() + 5)
    server.handle(raw)
    assert reply_of(r, rid)["error"] == "internal"
    assert counted(metrics, "vigie_engine_requests_total", op="boom", outcome="failed") == 1


def test_without_an_engine_heartbeat_the_client_fails_at_once():
    client = EngineClient("redis://fake", timeout_s=5, client=fakeredis.FakeRedis())
    start = time.monotonic()
    with pytest.raises(EngineUnreachable, match="no engine process"):
        client.call("echo", {"text": "x"})
    assert time.monotonic() - start < 4


def test_the_client_reads_a_refusal_as_its_kind_words_and_extra():
    r = fakeredis.FakeRedis()
    r.set(HEARTBEAT, b"{}")
    client = EngineClient("redis://fake", timeout_s=2, client=r)
    server = EngineRpcServer("redis://fake", client=r)

    def refuse(a: Echo) -> None:
        raise RemoteRefusal("invalid_command", "level: from 0 to 100", {"field": "level"})

    server.serve("echo", Echo, refuse)

    def serve_one() -> None:
        got = r.brpop([REQUESTS], timeout=2)
        server.handle(got[1])

    threading.Thread(target=serve_one, daemon=True).start()
    with pytest.raises(RemoteRefusal) as err:
        client.call("echo", {"text": "x"})
    assert (err.value.kind, str(err.value), err.value.extra) == ("invalid_command", "level: from 0 to 100", {"field": "level"})


class Canned:
    """An EngineClient answering from a table (or raising), to pin how the facades map replies."""

    timeout_s = 1.0

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict]] = []

    def call(self, op, args=None, timeout_s=None):
        self.calls.append((op, args))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize("failure, expected", [
    (EngineUnreachable("the engine's process did not answer within 1 s"), ActionsUnavailable),
    (RemoteRefusal("bad_request", "ids: too many"), BadRequest),
    (RemoteRefusal("internal", "ZeroDivisionError"), ActionsUnavailable),
])
def test_remote_alarm_actions_turn_failures_into_the_existing_exceptions(failure, expected):
    with pytest.raises(expected):
        RemoteAlarmActions(Canned(failure)).domains(["a"])


def test_remote_alarm_actions_send_the_parsed_parameters_back_as_plain_json():
    from services.alarms.actions import parse_params

    canned = Canned([{"alarm": "a", "result": "done", "message": "", "by": None, "at": None, "state": "active_ack"}])
    (outcome,) = RemoteAlarmActions(canned).apply("shelve", ["a"], "alice", parse_params("shelve", {"reason": "crew", "minutes": 30}), {"a": "lighting"})
    assert outcome.result == "done" and outcome.state == "active_ack"
    op, args = canned.calls[0]
    assert op == "alarm.apply" and args["params"] == {"reason": "crew", "minutes": 30.0, "one_shot": False}
    msgspec.convert(args, ApplyArgs)  # what the engine's side will accept


@pytest.mark.parametrize("failure, expected", [
    (EngineUnreachable("no engine process is running"), CommandsUnavailable),
    (RemoteRefusal("invalid_command", "level: 0 to 100", {"field": "level"}), CommandInvalid),
    (RemoteRefusal("confirmation_required", "give a reason", {"plan": {"count": 9000}}), ConfirmationNeeded),
])
def test_remote_commands_turn_failures_into_the_existing_exceptions(failure, expected):
    req = CommandRequest("lighting", "switch", {"on": False}, Selection(("lamp-1",)))
    with pytest.raises(expected) as err:
        RemoteCommandService(Canned(failure), store=None).preview(req)
    if expected is ConfirmationNeeded:
        assert err.value.plan == {"count": 9000}
    if expected is CommandInvalid:
        assert err.value.field == "level"


def test_a_command_request_survives_the_wire():
    req = CommandRequest("lighting", "set_dimming", {"level": 40, "override_s": None}, Selection(("a", "b"), ((3.8, 43.6), (3.9, 43.6), (3.9, 43.7))),
                         reason="works", confirm=True, key="k-1")
    doc = msgspec.json.decode(msgspec.json.encode(request_doc(req)), type=RequestDoc)
    back = request_of(doc)
    assert back == req and back.fingerprint() == req.fingerprint()
