"""The alarm API on the real stack: redis-server, engine, security, store. Who may act, one result per race, restart."""
from __future__ import annotations

import csv
import io
import threading
import time
from datetime import datetime, timezone

import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask

from services.accounts import Passwords
from services.contract import Alarm, AlarmEvent, LightingReading, State, WaterReading, encode, sup_channel
from services.contract.messages import AssetDef, Point
from tests.factory import stack_settings
from services.settings import Settings
from tests.integration.signin import signed_in as _signed_in

pytestmark = pytest.mark.integration
PW = "correct horse battery"
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
LAMPS = [f"lamp-{i}" for i in range(6)]


class Feed:
    """Publishes contract messages for two supervisors with their own sequence numbers."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.seq: dict[str, int] = {}

    def env(self, kind: str, domain: str, sup: str) -> dict:
        self.seq[sup] = self.seq.get(sup, 0) + 1
        return {"v": 1, "kind": kind, "domain": domain, "supervisor": sup, "ts": datetime.now(timezone.utc), "seq": self.seq[sup]}

    def send(self, msg) -> None:
        self.client.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))

    def territory(self) -> None:
        at = Point(coordinates=(3.88, 43.61))
        self.send(State[LightingReading](**self.env("state", "lighting", "lum"), snapshot="s1",
                                         assets=[AssetDef(id=i, type="Streetlight", name=f"Lanterne {i}", geometry=at) for i in LAMPS],
                                         readings=[LightingReading(asset=i, status="ok") for i in LAMPS]))
        self.send(State[WaterReading](**self.env("state", "water", "eau"), snapshot="s1",
                                      assets=[AssetDef(id="pump-1", type="Pump", name="Pompe 1", geometry=at)]))

    def raise_(self, domain: str, sup: str, *events: tuple[str, str, str]) -> None:
        self.send(Alarm(**self.env("alarm", domain, sup), events=[
            AlarmEvent(id=aid, asset=asset, action="raise", severity=sev, code=aid.split(":")[0], message=f"{aid} on {asset}")
            for aid, asset, sev in events]))


def wait_until(predicate, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def build(redis_url: str):
    """The control room from the app factory, sign-in required; its Flask server is driven by test clients."""
    from app import create_app

    room = create_app(stack_settings(Settings(redis_url=redis_url, run_simulators=False, snapshot_interval_s=0.2),
                                    anonymous_role=None), wait=False)
    assert room.ready, room.reason
    room.runtime.room = room  # stopped with the runtime below
    return room.runtime, room.server, room.server.extensions["vigie.security"]


@pytest.fixture
def stack(redis_url):
    runtime, server, security = build(redis_url)
    for name, role, domains in (("alice", "operator", "lighting"), ("bob", "operator", "lighting"), ("wanda", "operator", "water"),
                                ("eve", "engineer", "all"), ("victor", "viewer", None)):
        security.store.create_user(name, role, domains, PW, now=time.time())
    feed = Feed(redis_url)
    feed.territory()
    wait_until(lambda: len(runtime.reader.assets_geo("lighting")) == len(LAMPS))
    feed.raise_("lighting", "lum", *[(f"lamp_off:{i}", i, "minor") for i in LAMPS])
    feed.raise_("water", "eau", ("pump_fault:pump-1", "pump-1", "critical"))
    wait_until(lambda: len(runtime.reader.alarms()) == len(LAMPS) + 1)
    yield runtime, server, security
    runtime.room.stop()


def signed_in(server: Flask, name: str):
    return _signed_in(server, name, PW)


def test_an_operator_acknowledges_with_a_comment_and_it_is_journaled_and_audited(stack):
    runtime, server, security = stack
    alice = signed_in(server, "alice")
    r = alice.post("/api/v1/alarms/lum/lamp_off:lamp-0/ack", json={"comment": "crew called"})
    assert r.status_code == 200 and r.get_json()["result"] == "done"
    wait_until(lambda: next(a for a in runtime.reader.alarms() if a["id"] == "lum/lamp_off:lamp-0")["acked_by"] == "alice")
    runtime.alarm_store.flush()
    (entry,) = runtime.alarm_store.journal(alarm="lum/lamp_off:lamp-0", action="acknowledge")
    assert (entry.who, entry.why, entry.before, entry.after) == ("alice", "crew called", "active_unack", "active_ack")
    audited = security.audit.search(action="alarm.acknowledge")
    assert [(e.actor, e.outcome, e.domain, e.target) for e in audited] == [("alice", "ok", "lighting", "lum/lamp_off:lamp-0")]


def test_two_operators_acknowledging_at_once_get_one_result_and_the_second_sees_who(stack):
    runtime, server, security = stack
    clients = {name: signed_in(server, name) for name in ("alice", "bob")}
    answers: dict[str, dict] = {}
    go = threading.Barrier(2)

    def ack(name: str) -> None:
        go.wait()
        answers[name] = clients[name].post("/api/v1/alarms/lum/lamp_off:lamp-1/ack", json={}).get_json()

    threads = [threading.Thread(target=ack, args=(n,)) for n in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = sorted(a["result"] for a in answers.values())
    assert results == ["already", "done"]
    first = next(n for n, a in answers.items() if a["result"] == "done")
    second = next(a for a in answers.values() if a["result"] == "already")
    assert second["by"] == first and first in second["message"]


def test_an_operator_of_lighting_cannot_touch_a_water_alarm_and_a_viewer_nothing(stack):
    runtime, server, security = stack
    r = signed_in(server, "alice").post("/api/v1/alarms/eau/pump_fault:pump-1/ack", json={})
    assert r.status_code == 403 and r.get_json()["result"] == "forbidden" and "water" in r.get_json()["message"]
    r = signed_in(server, "victor").post("/api/v1/alarms/lum/lamp_off:lamp-2/shelve", json={"reason": "noisy"})
    assert r.status_code == 403
    assert {e.actor for e in security.audit.search(outcome="refused")} >= {"alice", "victor"}
    assert signed_in(server, "wanda").post("/api/v1/alarms/eau/pump_fault:pump-1/ack", json={}).status_code == 200


@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"reason": "   "}, 400), ({"reason": "noisy", "minutes": 100000}, 400), ({"reason": "noisy", "colour": 1}, 400),
    ({"reason": "noisy", "minutes": 600}, 409),  # more than the engineer's 8 h maximum
    ({"reason": "crew on site", "minutes": 30}, 200),
])
def test_shelving_needs_a_reason_and_respects_the_maximum(stack, body, status):
    runtime, server, _ = stack
    r = signed_in(server, "alice").post("/api/v1/alarms/lum/lamp_off:lamp-3/shelve", json=body)
    assert r.status_code == status, r.get_json()


def test_bulk_acknowledge_answers_per_alarm(stack):
    runtime, server, _ = stack
    ids = [f"lum/lamp_off:{i}" for i in LAMPS] + ["eau/pump_fault:pump-1", "lum/nothing"]
    r = signed_in(server, "bob").post("/api/v1/alarms/ack", json={"ids": ids, "comment": "night round"})
    body = r.get_json()
    assert (body["done"], body["forbidden"], body["not_found"]) == (len(LAMPS), 1, 1)
    assert [x["result"] for x in body["results"]][-2:] == ["forbidden", "not_found"]
    wait_until(lambda: runtime.reader.summary()["unacknowledged"] == 1)


def test_assignment_and_comments_show_on_the_alarm_and_in_its_history(stack):
    runtime, server, _ = stack
    alice = signed_in(server, "alice")
    assert alice.post("/api/v1/alarms/lum/lamp_off:lamp-4/assign", json={}).get_json()["result"] == "done"
    assert alice.post("/api/v1/alarms/lum/lamp_off:lamp-4/comment", json={"text": "ladder <2 m> needed"}).status_code == 200
    detail = alice.get("/api/v1/alarms/lum/lamp_off:lamp-4").get_json()
    assert detail["alarm"]["assignee"] == "alice" and detail["alarm"]["comments"] == 1
    assert [(h["action"], h["who"], h["why"]) for h in detail["history"]][-2:] == [("assign", "alice", "alice"),
                                                                                    ("comment", "alice", "ladder <2 m> needed")]


def test_the_journal_as_json_and_csv(stack):
    runtime, server, _ = stack
    alice = signed_in(server, "alice")
    alice.post("/api/v1/alarms/lum/lamp_off:lamp-5/ack", json={"comment": "=HYPERLINK(\"x\")"})
    runtime.alarm_store.flush()
    items = alice.get("/api/v1/alarms/journal?action=acknowledge").get_json()["items"]
    assert [(i["alarm"], i["who"]) for i in items] == [("lum/lamp_off:lamp-5", "alice")]
    rows = list(csv.DictReader(io.StringIO(alice.get("/api/v1/alarms/journal.csv?alarm=lum/lamp_off:lamp-5").text)))
    assert [r["action"] for r in rows] == ["acknowledge", "raise"] and rows[0]["why"].startswith("'=")
    assert len(alice.get("/api/v1/alarms/journal?limit=3").get_json()["items"]) == 3


def test_the_policy_is_the_engineers(stack):
    runtime, server, _ = stack
    assert signed_in(server, "alice").put("/api/v1/alarms/policy", json={"max_shelf_s": 60}).status_code == 403
    eve = signed_in(server, "eve")
    assert eve.put("/api/v1/alarms/policy", json={"max_shelf_s": 0}).status_code == 400
    assert eve.put("/api/v1/alarms/policy", json={"max_shelf_s": 1800, "default_shelf_s": 900}).get_json()["max_shelf_s"] == 1800
    r = eve.post("/api/v1/alarms/lum/lamp_off:lamp-0/shelve", json={"reason": "noisy", "minutes": 45})
    assert r.status_code == 409 and "0.5 h" in r.get_json()["message"]


def test_the_alarm_list_its_history_and_the_policy_survive_a_restart(redis_url, stack):
    runtime, server, _ = stack
    eve = signed_in(server, "eve")
    eve.put("/api/v1/alarms/policy", json={"operators": 2})
    eve.post("/api/v1/alarms/lum/lamp_off:lamp-0/shelve", json={"reason": "crew on site", "minutes": 60})
    eve.post("/api/v1/alarms/lum/lamp_off:lamp-1/ack", json={"comment": "seen"})
    wait_until(lambda: runtime.reader.summary()["alarms_held"]["shelved"] == 1)
    before = {a["id"]: a for a in runtime.reader.alarms(active_only=False)}
    kpis = runtime.reader.summary()["alarm_kpis"]
    runtime.room.stop()

    again, _server, _ = build(redis_url)
    try:
        after = {a["id"]: a for a in again.reader.alarms(active_only=False)}
        assert after == before
        assert [h["action"] for h in again.engine.execute(lambda core, now: (core.alarms.history("lum/lamp_off:lamp-1"), []))] \
            == ["raise", "acknowledge"]
        assert again.engine.execute(lambda core, now: (core.alarms.policy.operators, [])) == 2
        restored = again.reader.summary()["alarm_kpis"]
        assert (restored["annunciated"], restored["acks"]) == (kpis["annunciated"], kpis["acks"])
    finally:
        again.room.stop()


def test_both_readers_give_the_changed_alarms_by_id(stack):
    from services.feed.bus import bounded_client
    from services.feed.reader import RedisReader

    runtime, _server, _ = stack
    ids = ["lum/lamp_off:lamp-0", "eau/pump_fault:pump-1", "lum/none"]
    local = runtime.reader.alarms_by_id(ids)
    assert sorted(local) == sorted(ids[:2]) and local["eau/pump_fault:pump-1"]["priority"] == "urgent"
    remote = RedisReader(bounded_client(runtime.redis_url))
    wait_until(lambda: remote.alarms_by_id(ids) == runtime.reader.alarms_by_id(ids))


def test_an_alarm_raised_between_authorisation_and_action_is_not_acted_on(stack):
    """Ids not held are passed to the book unauthorised (it can only answer not found); one raised meanwhile is refused."""
    from services.alarms.actions import AckParams, AlarmActions

    runtime, _server, _ = stack
    (outcome,) = AlarmActions(runtime.engine).apply("ack", ["eau/pump_fault:pump-1"], "alice", AckParams(), {"eau/pump_fault:pump-1": None})
    assert (outcome.result, outcome.message) == ("refused", "the alarm changed meanwhile; try again")
    assert runtime.reader.alarms_by_id(["eau/pump_fault:pump-1"])["eau/pump_fault:pump-1"]["acknowledged"] is False


# --- the master alarm database over HTTP (issue 15) -----------------------------------------------------------------


def test_the_alarm_detail_carries_its_response_procedure_and_maintenance_is_listed_apart(stack):
    runtime, server, _ = stack
    feed = Feed(runtime.redis_url)
    feed.raise_("lighting", "lum", ("lamp_fault:lamp-0", "lamp-0", "minor"))
    victor = signed_in(server, "victor")
    wait_until(lambda: victor.get("/api/v1/alarms/maintenance").get_json()["items"])
    (item,) = victor.get("/api/v1/alarms/maintenance").get_json()["items"]
    assert (item["id"], item["code"], item["asset"]) == ("lum/lamp_fault:lamp-0", "lamp_fault", "lamp-0")
    fault = next(a for a in runtime.reader.alarms() if a["id"] == "lum/lamp_fault:lamp-0")
    assert fault["alarm_class"] == "maintenance"
    summary = runtime.reader.summary()
    assert summary["unacknowledged"] == len(LAMPS) + 1 and summary["alarms_held"]["maintenance"] == 1  # not the operator's
    procedure = victor.get("/api/v1/alarms/eau/pump_fault:pump-1").get_json()["procedure"]
    assert procedure["class"] == "operator" and procedure["priority"] == "urgent" and procedure["respond_min"] == 5
    assert "secours" in procedure["action"]["fr"] and procedure["action"]["en"]


def test_engineers_edit_the_database_validated_audited_in_force_without_restart_and_kept(redis_url, stack):
    runtime, server, security = stack
    record = {"code": "valve_stuck", "domain": "water", "class": "maintenance", "priority": "low",
              "label": {"fr": "Vanne bloquée", "en": "Valve stuck"}, "consequence": {"fr": "c", "en": "c"},
              "action": {"fr": "Ordre de travail", "en": "Work order"}}
    feed = Feed(runtime.redis_url)
    feed.raise_("water", "eau", ("valve_stuck:v-1", "pump-1", "major"))
    eve, wanda = signed_in(server, "eve"), signed_in(server, "wanda")
    wait_until(lambda: [u["code"] for u in eve.get("/api/v1/alarms/rationalisation").get_json()["to_rationalise"]] == ["valve_stuck"])
    assert next(a for a in runtime.reader.alarms() if a["id"] == "eau/valve_stuck:v-1")["alarm_class"] == "operator"
    assert wanda.put("/api/v1/alarms/rationalisation/valve_stuck", json=record).status_code == 403  # an operator
    bad = eve.put("/api/v1/alarms/rationalisation/valve_stuck", json={**record, "priority": "medium"})
    assert bad.status_code == 400 and "priority" in bad.get_json()["message"]
    r = eve.put("/api/v1/alarms/rationalisation/valve_stuck", json=record)
    assert r.status_code == 200 and r.get_json()["class"] == "maintenance"
    listing = eve.get("/api/v1/alarms/rationalisation").get_json()
    assert listing["to_rationalise"] == [] and any(x["code"] == "valve_stuck" for x in listing["records"])
    feed.raise_("water", "eau", ("valve_stuck:v-2", "pump-1", "major"))  # the next raise follows the new record
    wait_until(lambda: any(a["id"] == "eau/valve_stuck:v-2" and a["alarm_class"] == "maintenance" for a in runtime.reader.alarms()))
    audited = [e for e in security.audit.search(action="settings.thresholds") if e.target == "alarm type valve_stuck"]
    assert [(e.actor, e.action, e.outcome) for e in audited] == [("eve", "settings.thresholds", "ok")]
    runtime.room.stop()
    again, server2, _ = build(redis_url)
    try:
        kept = again.engine.execute(lambda core, now: (core.alarms.rationale.lookup("valve_stuck").alarm_class, []))
        assert kept == "maintenance"
        assert signed_in(server2, "eve").delete("/api/v1/alarms/rationalisation/valve_stuck").get_json()["default"] is True
    finally:
        again.room.stop()
