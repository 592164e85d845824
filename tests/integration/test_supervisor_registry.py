"""The registry of supervisors on the real stack (redis-server, app factory, engine, security, stores).

A forged supervisor's alarm on another supervisor's asset is refused and counted; two publishers on one id raise
one alarm and no state request; a quarantined supervisor is applied when an engineer approves it (audited) and
the registry survives a restart; a removed supervisor takes its stale alarm with it.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import redis

from services.contract import Alarm, AlarmEvent, AssetDef, Heartbeat, Point, State, WaterReading, encode, sup_channel
from services.settings import Settings
from tests.factory import stack_settings
from tests.integration.signin import signed_in

pytestmark = pytest.mark.integration
PW = "registry test password"
AT = Point(coordinates=(3.88, 43.61))


class Publisher:
    """One process publishing contract messages under a supervisor id, with its own counter."""

    def __init__(self, client: redis.Redis, sup: str, domain: str = "water", seq: int = 0) -> None:
        self.client, self.sup, self.domain, self.seq = client, sup, domain, seq

    def env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": self.domain, "supervisor": self.sup, "ts": datetime.now(timezone.utc), "seq": self.seq}

    def send(self, msg) -> None:
        self.client.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))

    def state(self, *ids: str, alarms: list[AlarmEvent] | None = None) -> None:
        self.send(State[WaterReading](**self.env("state"), snapshot=f"{self.sup}-{self.seq}",
                                      assets=[AssetDef(id=i, type="Valve", name=f"Vanne {i}", geometry=AT) for i in ids],
                                      alarms=alarms or []))

    def alarm(self, asset: str, severity: str = "critical") -> None:
        self.send(Alarm(**self.env("alarm"), events=[AlarmEvent(id=f"valve_fault:{asset}", asset=asset, action="raise",
                                                                severity=severity, code="valve_fault", message="Vanne bloquée")]))

    def beat(self) -> None:
        self.send(Heartbeat(**self.env("heartbeat")))


def wait_until(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def build(redis_url: str, tmp_path, **settings):
    from app import create_app

    base = Settings(redis_url=redis_url, run_simulators=False, snapshot_interval_s=0.2, state_dir=tmp_path)
    room = create_app(stack_settings(base, anonymous_role=None, **settings), wait=False)
    assert room.ready, room.reason
    store = room.server.extensions["vigie.security"].store
    for name, role, domains in (("eve", "engineer", "water"), ("olga", "operator", "water"), ("lea", "engineer", "lighting")):
        if store.get_user(name) is None:
            store.create_user(name, role, domains, PW, now=time.time())
    return room


def held(room, alarm_id: str):
    return room.runtime.engine.execute(lambda core, _now: (core.alarms.get(alarm_id), []))


def registry(room) -> dict[str, dict]:
    return {r["id"]: r for r in signed_in(room.server, "eve", PW).get("/api/v1/supervisors/registry").get_json()["items"]}


@pytest.fixture
def bus(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_a_forged_supervisors_alarm_on_another_supervisors_asset_is_refused_and_counted(redis_url, bus, tmp_path):
    room = build(redis_url, tmp_path)
    try:
        eau = Publisher(bus, "eau-mtp")
        eau.state("eau-valve-9", "eau-valve-10")
        wait_until(lambda: room.runtime.reader.asset("eau-valve-10") is not None)
        Publisher(bus, "evil-1").alarm("eau-valve-10", "critical")
        metrics = room.runtime.metrics
        wait_until(lambda: metrics.rejected.get("foreign_asset") == 1)
        assert held(room, "evil-1/valve_fault:eau-valve-10") is None and room.runtime.reader.alarms() == []
        text = room.server.test_client().get("/metrics").get_data(as_text=True)
        assert 'vigie_messages_rejected_total{reason="foreign_asset"} 1.0' in text
        assert 'vigie_messages_total{domain="water",kind="alarm",outcome="rejected"} 1.0' in text
        rows = registry(room)
        assert rows["eau-mtp"]["origin"] == "declared" and rows["eau-mtp"]["assets"] == 2
        assert rows["evil-1"]["standing"] == "approved" and rows["evil-1"]["origin"] == "learned"  # open mode: learned, owns nothing
    finally:
        room.stop()


def test_two_publishers_on_one_id_raise_one_alarm_and_no_state_request(redis_url, bus, tmp_path):
    room = build(redis_url, tmp_path)
    requests = bus.pubsub()
    requests.subscribe("cmd.water.eau-mtp")
    try:
        first = Publisher(bus, "eau-mtp")
        first.state("eau-valve-1")
        wait_until(lambda: room.runtime.reader.asset("eau-valve-1") is not None)
        second = Publisher(bus, "eau-mtp", seq=0)  # a second process started under the same id
        for _ in range(40):
            first.beat()
            second.beat()
            time.sleep(0.02)
        wait_until(lambda: (a := held(room, "vigie/two_publishers/eau-mtp")) is not None and a.active)
        vigie = [a for a in room.runtime.reader.alarms() if a["supervisor"] == "eau-mtp"]
        assert [a["id"] for a in vigie] == ["vigie/two_publishers/eau-mtp"]
        assert vigie[0]["message"].startswith("Deux émetteurs pour eau-mtp") and vigie[0]["priority"] == "high"
        wait_until(lambda: room.runtime.metrics.rejected.get("two_publishers", 0) > 20)
        assert room.runtime.metrics.state_requests == {}
        sent = []
        while (m := requests.get_message(timeout=0.2)) is not None:
            if m["type"] == "message":
                sent.append(m["data"])
        assert sent == []  # never asked for its state: the answer would come from both
        assert registry(room)["eau-mtp"]["flagged"] is True
    finally:
        requests.close()
        room.stop()


def test_a_quarantined_supervisor_is_applied_when_an_engineer_approves_it_and_the_registry_survives_a_restart(redis_url, bus, tmp_path):
    room = build(redis_url, tmp_path, supervisors_approval="required")
    try:
        new = Publisher(bus, "eau-nord")
        new.state("nord-valve-1", "nord-valve-2", alarms=[AlarmEvent(id="leak", asset="nord-valve-1", action="raise", severity="major",
                                                                     code="leak", message="Fuite suspectée")])
        wait_until(lambda: "eau-nord" in registry(room) and (registry(room)["eau-nord"]["held"] or {}).get("held") == 1)
        assert room.runtime.reader.asset("nord-valve-1") is None and room.runtime.reader.alarms() == []
        olga = signed_in(room.server, "olga", PW)
        refused = olga.post("/api/v1/supervisors/eau-nord/approve", json={})
        assert refused.status_code == 403 and refused.get_json()["result"] == "forbidden"
        assert signed_in(room.server, "lea", PW).post("/api/v1/supervisors/eau-nord/approve").status_code == 403  # lighting only
        eve = signed_in(room.server, "eve", PW)
        done = eve.post("/api/v1/supervisors/eau-nord/approve", json={"max_assets": 500})
        assert done.status_code == 200 and done.get_json()["result"] == "done"
        wait_until(lambda: room.runtime.reader.asset("nord-valve-1") is not None)
        assert [a["id"] for a in room.runtime.reader.alarms()] == ["eau-nord/leak"]
        audit = room.server.extensions["vigie.security"].audit.search(action="supervisor.approve")
        assert [(e.actor, e.domain, e.target, e.outcome) for e in audit] == [("eve", "water", "eau-nord", "ok")]
        assert eve.post("/api/v1/supervisors/eau-mtp/remove").status_code == 409  # declared: changed in the file
        room.runtime.registry_store.flush()
    finally:
        room.stop()
    again = build(redis_url, tmp_path, supervisors_approval="required")
    try:
        rows = registry(again)
        assert rows["eau-nord"]["standing"] == "approved" and rows["eau-nord"]["assets"] == 2 and rows["eau-nord"]["limit"] == 500
        Publisher(bus, "evil-2").alarm("nord-valve-2")  # before eau-nord speaks again: the registry remembers whose it is
        wait_until(lambda: "evil-2" in registry(again))
        assert registry(again)["evil-2"]["held"]["foreign_alarms"] == 1  # quarantined, and the page says whose asset it names
    finally:
        again.stop()


def test_a_removed_supervisor_takes_its_stale_alarm_with_it(redis_url, bus, tmp_path):
    room = build(redis_url, tmp_path, late_after_s=0.5, stale_after_s=1.0)
    try:
        old = Publisher(bus, "eau-old")
        old.state("old-valve-1")
        wait_until(lambda: (a := held(room, "vigie/supervisor_stale/eau-old")) is not None and a.active)
        eve = signed_in(room.server, "eve", PW)
        r = eve.post("/api/v1/supervisors/eau-old/remove")
        assert r.status_code == 200 and r.get_json()["result"] == "done"
        assert held(room, "vigie/supervisor_stale/eau-old") is None
        assert room.runtime.reader.asset("old-valve-1") is None
        assert "eau-old" not in [s["id"] for s in room.runtime.reader.supervisors()]
        room.runtime.alarm_store.flush()
        room.runtime.registry_store.flush()
        assert not bus.hexists("vigie:alarms:state", "vigie/supervisor_stale/eau-old")
        assert not bus.hexists("vigie:supervisors:registry", "eau-old")
    finally:
        room.stop()


def test_a_web_only_worker_reads_the_registry_and_decides_through_the_engines_process(redis_url, bus, tmp_path):
    from services.feed.engine_remote import RemoteSupervisorActions
    from services.feed.engine_rpc import EngineClient
    from services.supervisors.actions import BadDecision

    room = build(redis_url, tmp_path, supervisors_approval="required")
    client = EngineClient(redis_url)
    try:
        Publisher(bus, "eau-nord").state("nord-valve-1")
        remote = RemoteSupervisorActions(client)
        wait_until(lambda: remote.domain_of("eau-nord") == "water")
        assert remote.decide("approve", "eau-nord", "eve")["result"] == "done"
        wait_until(lambda: room.runtime.reader.asset("nord-valve-1") is not None)
        assert remote.decide("approve", "eau-nord", "eve")["result"] == "already"
        with pytest.raises(BadDecision):
            remote.decide("promote", "eau-nord", "eve")
    finally:
        client.close()
        room.stop()
