"""A web-only worker forwards alarm actions and commands to the engine's process over the real redis-server."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import msgspec
import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask

from services.accounts import Passwords
from services.contract import Alarm, AlarmEvent, LightingReading, State, encode, sup_channel
from services.contract.messages import AssetDef, Point
from services.feed.engine_remote import RemoteAlarmActions
from services.feed.engine_rpc import REPLY, REQUESTS, EngineClient, encode_request
from tests.factory import stack_settings
from services.settings import Settings
from tests.integration.signin import signed_in as _signed_in

pytestmark = pytest.mark.integration
PW = "correct horse battery"
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
LAMPS = [f"lamp-{i}" for i in range(4)]


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (value := predicate()):
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def worker(settings: Settings):
    """A control room from the app factory (engine worker or web-only worker): runtime, Flask app, security, commands."""
    from app import create_app

    room = create_app(stack_settings(settings, anonymous_role=None), wait=False)
    assert room.ready, room.reason
    server, runtime = room.server, room.runtime
    runtime.room = room  # stopped through it at teardown
    return runtime, server, server.extensions["vigie.security"], server.extensions["vigie.commands"]


def feed(url: str) -> None:
    client = redis.Redis.from_url(url)
    env = lambda kind, seq: {"v": 1, "kind": kind, "domain": "lighting", "supervisor": "lum", "ts": datetime.now(timezone.utc), "seq": seq}
    at = Point(coordinates=(3.88, 43.61))
    client.publish(sup_channel("lighting", "lum", "state"), encode(State[LightingReading](
        **env("state", 1), snapshot="s1", assets=[AssetDef(id=i, type="Streetlight", name=f"Lanterne {i}", geometry=at) for i in LAMPS],
        readings=[LightingReading(asset=i, status="ok", powerState="on") for i in LAMPS])))
    client.publish(sup_channel("lighting", "lum", "alarm"), encode(Alarm(**env("alarm", 2), events=[
        AlarmEvent(id=f"lamp_fault:{i}", asset=i, action="raise", severity="minor", code="lamp_fault", message=f"fault on {i}")
        for i in LAMPS])))
    client.close()


@pytest.fixture
def workers(redis_url, tmp_path):
    settings = Settings(redis_url=redis_url, run_simulators=False, snapshot_interval_s=0.2, state_dir=tmp_path, command_rate_per_min=1000)
    engine = worker(settings)
    web = worker(settings.with_(run_engine=False))
    engine[2].store.create_user("alice", "operator", "lighting", PW, now=time.time())
    _, raw = engine[2].store.create_token("op", "operator", "lighting", device=False, created_by="test", now=time.time())
    feed(redis_url)
    wait_until(lambda: len(engine[0].reader.alarms()) == len(LAMPS), what="alarms raised")
    yield engine, web, {"Authorization": f"Bearer {raw}"}
    for runtime, _, _, _service in (web, engine):
        runtime.room.stop()


def signed_in(server: Flask, name: str):
    return _signed_in(server, name, PW)


def test_a_web_only_worker_acknowledges_an_alarm_that_the_engine_applies_with_the_right_user(workers):
    engine, web, _ = workers
    assert isinstance(web[1].extensions["vigie.alarms"].actions, RemoteAlarmActions)
    r = signed_in(web[1], "alice").post("/api/v1/alarms/lum/lamp_fault:lamp-0/ack", json={"comment": "crew called"})
    assert r.status_code == 200 and r.get_json()["result"] == "done"
    acked = wait_until(lambda: next(a for a in engine[0].reader.alarms() if a["id"] == "lum/lamp_fault:lamp-0")["acked_by"], what="ack")
    assert acked == "alice"
    audited = web[2].audit.search(action="alarm.acknowledge")  # audited by the worker that took the request
    assert [(e.actor, e.outcome, e.domain) for e in audited] == [("alice", "ok", "lighting")]
    again = signed_in(web[1], "alice").post("/api/v1/alarms/lum/lamp_fault:lamp-0/ack", json={})
    assert again.get_json()["result"] == "already" and again.get_json()["by"] == "alice"


def test_a_web_only_worker_reads_an_alarm_and_the_kpis_through_the_engine(workers):
    engine, web, _ = workers
    alice = signed_in(web[1], "alice")
    assert alice.get("/api/v1/alarms/lum/lamp_fault:lamp-1").get_json()["alarm"]["id"] == "lum/lamp_fault:lamp-1"
    assert alice.get("/api/v1/alarms/kpis").status_code == 200
    assert alice.get("/api/v1/alarms/policy").get_json() == engine[1].extensions["vigie.alarms"].actions.policy().to_dict()


def test_a_command_sent_to_a_web_only_worker_reaches_the_supervisor_exactly_once(workers, redis_url):
    engine, web, token = workers
    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe("cmd.lighting.lum")
    listener.get_message(timeout=1)  # the subscription's confirmation
    body = {"domain": "lighting", "action": "switch", "params": {"on": False}, "targets": ["lamp-2"], "idempotency_key": "k-1"}
    preview = web[1].test_client().post("/api/v1/commands/preview", json=body, headers=token)
    assert preview.status_code == 200 and preview.get_json()["assets"] == ["lamp-2"]
    r = web[1].test_client().post("/api/v1/commands", json=body, headers=token)
    assert r.status_code == 202, r.text
    again = web[1].test_client().post("/api/v1/commands", json=body, headers=token)  # a retry: same key, same command
    assert again.status_code == 200 and again.get_json()["id"] == r.get_json()["id"]
    sent = wait_until(lambda: listener.get_message(timeout=0.2), what="the command on cmd.lighting.lum")
    cmd = msgspec.json.decode(sent["data"])
    assert (cmd["command_id"], cmd["targets"], cmd["user"]) == (r.get_json()["id"], ["lamp-2"], "token:op")
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        assert listener.get_message(timeout=0.2) is None, "sent twice"
    audited = web[2].audit.search(action="command.send")
    assert [(e.actor, e.outcome, e.target) for e in audited] == [("token:op", "ok", r.get_json()["id"])]
    assert engine[3].get(r.get_json()["id"])["user"] == "token:op"
    listener.close()


def test_a_refused_command_comes_back_with_its_reason(workers):
    _, web, token = workers
    r = web[1].test_client().post("/api/v1/commands", json={"domain": "lighting", "action": "set_dimming", "params": {"level": 400},
                                                           "targets": ["lamp-1"]}, headers=token)
    assert r.status_code == 422 and r.get_json()["field"] == "level"


def test_a_malformed_request_is_rejected_counted_and_the_engine_carries_on(workers, redis_url):
    engine, web, _ = workers
    client = redis.Redis.from_url(redis_url)
    client.lpush(REQUESTS, b'{"v": 1, "op": "alarm.apply", "args": "drop everything"}')
    rid, raw = encode_request("alarm.apply", {"action": "ack", "ids": ["lum/lamp_fault:lamp-3"], "who": "<script>"}, time.time() + 5)
    client.lpush(REQUESTS, raw)
    reply = msgspec.json.decode(client.blpop([REPLY + rid], timeout=5)[1])
    assert reply["ok"] is False and reply["error"] == "bad_request" and "who" in reply["message"]
    metrics = engine[0].metrics.registry
    assert metrics.get_sample_value("vigie_engine_requests_rejected_total", {"reason": "malformed"}) == 1
    assert metrics.get_sample_value("vigie_engine_requests_rejected_total", {"reason": "bad_args"}) == 1
    assert next(a for a in engine[0].reader.alarms() if a["id"] == "lum/lamp_fault:lamp-3")["acked_by"] is None
    assert web[1].extensions["vigie.alarms"].actions.domains(["lum/lamp_fault:lamp-3"]) == {"lum/lamp_fault:lamp-3": "lighting"}
    client.close()


def test_without_an_engine_process_a_web_only_worker_answers_503_with_the_reason(redis_url, tmp_path):
    runtime, server, security, service = worker(Settings(redis_url=redis_url, run_simulators=False, run_engine=False, state_dir=tmp_path))
    try:
        security.store.create_user("alice", "operator", "lighting", PW, now=time.time())
        start = time.monotonic()
        r = signed_in(server, "alice").post("/api/v1/alarms/lum/lamp_fault:lamp-0/ack", json={})
        assert r.status_code == 503 and "no engine process" in r.get_json()["message"]
        _, raw = security.store.create_token("op", "operator", "lighting", device=False, created_by="test", now=time.time())
        r = server.test_client().post("/api/v1/commands", json={"domain": "lighting", "action": "switch", "params": {"on": True},
                                                                "targets": ["lamp-0"]}, headers={"Authorization": f"Bearer {raw}"})
        assert r.status_code == 503 and "no engine process" in r.get_json()["message"]
        assert time.monotonic() - start < runtime.engine_client.timeout_s
    finally:
        service.stop()
        runtime.stop()


def test_an_engine_that_does_not_answer_in_time_gives_a_clear_reason(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.set("vigie:rpc:engine", b"{}", ex=5)  # an engine that checked in, then hangs
    slow = EngineClient(redis_url, timeout_s=0.5)
    with pytest.raises(Exception, match="did not answer within 0.5 s"):
        RemoteAlarmActions(slow).kpis()
    slow.close()
    client.close()


def test_the_engine_side_survives_a_redis_restart(workers, redis_server):
    engine, web, _ = workers
    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    blocked = wait_until(lambda: [c for c in admin.client_list() if c.get("cmd") == "brpop"], what="the server waiting")
    for info in blocked:
        admin.client_kill_filter(_id=info["id"])  # the server's blocking connection drops, as in a restart
    actions = web[1].extensions["vigie.alarms"].actions
    assert wait_until(lambda: _answers(actions), timeout=15, what="the engine answering again") == {"lum/lamp_fault:lamp-1": "lighting"}
    admin.close()


def _answers(actions):
    try:
        return actions.domains(["lum/lamp_fault:lamp-1"])
    except Exception:  # noqa: BLE001 - not yet back
        return None


def test_the_channel_survives_a_redis_server_restart(tmp_path):
    import socket
    import subprocess

    from msgspec import Struct

    from services.feed.engine_rpc import EngineRpcServer, EngineUnreachable

    class Ping(Struct):
        n: int

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]

    def up() -> subprocess.Popen:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        wait_until(lambda: _pings(port), what="redis-server up")
        return proc

    proc = up()
    url = f"redis://127.0.0.1:{port}/0"
    server = EngineRpcServer(url, backoff_max_s=0.5)
    server.serve("ping", Ping, lambda a: a.n + 1)
    server.start()
    client = EngineClient(url, timeout_s=2)
    try:
        assert wait_until(lambda: _call(client, 1), what="first answer") == 2
        proc.terminate()
        proc.wait(10)
        with pytest.raises(EngineUnreachable, match="Redis cannot be reached"):
            client.call("ping", {"n": 1})
        proc = up()
        assert wait_until(lambda: _call(client, 41), timeout=15, what="an answer after the restart") == 42
    finally:
        server.stop()
        client.close()
        proc.terminate()
        proc.wait(10)


def _pings(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        return False


def _call(client: EngineClient, n: int):
    from services.feed.engine_rpc import EngineUnreachable

    try:
        return client.call("ping", {"n": n})
    except EngineUnreachable:
        return None
