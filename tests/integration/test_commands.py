"""Commands end to end on a real redis-server with the real lighting and water simulators.

The simulators are stepped by hand (`SimDriver`) and Vigie's engine runs on their clock, so a
"telemetry cycle", a timeout or an override's expiry is one deterministic step of simulated time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask

from services.accounts import Passwords
from services.web.commands import create_commands_api
from services.audit import AuditLog
from services.feed.bus import CommandPublisher
from services.commands.store import CommandStore
from services.commands.service import CommandService, area_names
from services.contract import AssetDef, Point
from services.core import CoreConfig, Hypervisor
from services.core.command_book import CommandConfig
from services.feed.engine import Engine
from services.settings import Settings
from services.simulators import build
from services.web.security import init_security
from tests.command_world import SimDriver

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 15, 19, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a winter evening: every lamp at full power
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
CONFIG = CommandConfig(ack_timeout_s=10.0, apply_timeout_s={"lighting": 30.0, "water": 90.0, "traffic": 120.0}, verify_s=30.0)


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class Vigie:
    engine: Engine
    service: CommandService
    http: object
    lum: SimDriver
    eau: SimDriver
    tokens: dict[str, dict[str, str]]
    audit: AuditLog
    redis_url: str

    def post(self, body: dict, who: str = "op", **headers):
        return self.http.post("/api/v1/commands", json=body, headers={**self.tokens[who], **headers})

    def get(self, command_id: str) -> dict:
        return self.http.get(f"/api/v1/commands/{command_id}", headers=self.tokens["viewer"]).get_json()

    def until(self, command_id: str, predicate, what: str) -> dict:
        return wait_until(lambda: (d := self.service.get(command_id)) is not None and predicate(d) and d, what=what)

    def kpi(self, key: str) -> float:
        with self.engine.lock:
            return {k["key"]: k["value"] for k in self.engine.core.kpis()["lighting"]}[key]

    def lamps(self, **refs: str) -> list:
        """This module's lamps (the session's bus may carry another test's lamps, without cabinet or district)."""
        with self.engine.lock:
            return [a for a in self.engine.core.state.domain("lighting").values()
                    if a.type == "Streetlight" and a.supervisor == self.lum.sim.supervisor_id
                    and all(a.refs.get(k) == v for k, v in refs.items())]


@pytest.fixture(scope="module")
def vigie(redis_server, tmp_path_factory):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    client = redis.Redis.from_url(url)
    client.flushall()
    lum = SimDriver(build("lighting", seed=11, start=START), url)
    eau = SimDriver(build("water", seed=11, start=START), url)
    eau.sim.incident_rate = 0.0
    lum.sim.lamp_failures_per_day = lum.sim.cabinet_trips_per_day = 0.0
    core = Hypervisor(CoreConfig(timezone="Europe/Paris", commands=CONFIG))
    settings = Settings(state_dir=tmp_path_factory.mktemp("commands"), snapshot_interval_s=0, run_simulators=False, command_rate_per_min=1000)
    engine = Engine(settings, url, core, clock=lum.now, freeze_gc=False).start()
    wait_until(lambda: engine.bus_up, what="the bus")
    lum.publish(lum.sim.state())
    eau.publish(eau.sim.state())
    wait_until(lambda: len(core.state.domain("lighting")) > 30000 and len(core.state.domain("water")) > 1000, timeout=30, what="the state")
    lum.nudge()  # the clock moves: the engine ticks and computes the KPIs of the whole state
    wait_until(lambda: {k["key"]: k["value"] for k in core.kpis()["lighting"]}.get("power_kw"), what="the KPIs")
    audit = AuditLog(client)
    service = CommandService(engine, CommandPublisher(url), CommandStore(client), audit, names=area_names("montpellier"),
                             clock=lum.now).start()
    server = Flask(__name__)
    security = init_security(server, settings, client, passwords=CHEAP)
    server.register_blueprint(create_commands_api(service, security))
    tokens = {}
    for who, role, domains in (("op", "operator", "lighting,water"), ("viewer", "viewer", None), ("water-op", "operator", "water")):
        _, raw = security.store.create_token(who, role, domains, device=False, created_by="test", now=time.time())
        tokens[who] = {"Authorization": f"Bearer {raw}"}
    v = Vigie(engine, service, server.test_client(), lum, eau, tokens, audit, url)
    yield v
    service.stop()
    engine.stop()
    lum.close()
    eau.close()
    client.close()


def smallest(v: Vigie, key: str, at_least: int = 30) -> str:
    """An area (district, cabinet...) with few lamps, for a quick command."""
    counts: dict[str, int] = {}
    for a in v.lamps():
        counts[a.refs[key]] = counts.get(a.refs[key], 0) + 1
    return min((n, ref) for ref, n in counts.items() if n >= at_least)[1]


def test_dimming_a_district_lowers_its_lamps_power_and_the_power_kpi_within_the_next_telemetry_cycle(vigie: Vigie) -> None:
    district = smallest(vigie, "district", at_least=200)
    lamps = vigie.lamps(district=district)
    working = {a.id for a in lamps if a.values["status"] == "ok"}  # about 1.5 % of lamps are out of order at any time
    before_w = sum(a.values["powerConsumption"] for a in lamps if a.id in working)
    before_kw = vigie.kpi("power_kw")
    r = vigie.post({"domain": "lighting", "action": "set_dimming", "params": {"level": 30}, "targets": [district]})
    assert r.status_code == 202, r.get_json()
    cid = r.get_json()["id"]
    assert r.headers["Location"] == f"/api/v1/commands/{cid}"
    assert vigie.lum.pump() == 1
    vigie.until(cid, lambda d: d["status"] == "accepted", "accepted")
    vigie.lum.step()  # one telemetry cycle: the supervisor applies and reports
    done = vigie.until(cid, lambda d: d["actual"]["verification"] == "confirmed", "confirmed by telemetry")
    fb = done["feedback"]
    assert (done["status"], fb["applied"], fb["failed"], fb["missing"]) == ("partial", len(working), len(lamps) - len(working), 0)
    assert done["message"].endswith("out of order)")
    after_w = sum(a.values["powerConsumption"] for a in vigie.lamps(district=district) if a.id in working)
    assert after_w == pytest.approx(0.3 * before_w, rel=0.05)
    vigie.lum.nudge()  # the engine's next tick (a second later) recomputes the KPIs
    wait_until(lambda: vigie.kpi("power_kw") < before_kw - 0.6 * before_w / 1000, what="the lighting power KPI to drop")
    assert [h["status"] for h in vigie.get(cid)["history"]] == ["requested", "sent", "accepted", "partial"]


def test_a_command_to_a_silent_supervisor_times_out_and_says_so(vigie: Vigie) -> None:
    cabinet = smallest(vigie, "cabinet")
    vigie.lum.sim.silenced = True
    try:
        cid = vigie.post({"domain": "lighting", "action": "switch", "params": {"on": False}, "targets": [cabinet]}).get_json()["id"]
        vigie.lum.pump()
        vigie.until(cid, lambda d: d["status"] == "sent", "sent")
        vigie.lum.step()  # ten simulated seconds without an answer
        d = vigie.until(cid, lambda d: d["status"] == "timed_out", "timed out")
        assert d["message"] == "no answer from lum-mtp within 10 s: the supervisor may be down or silent"
    finally:
        vigie.lum.sim.silenced = False
    wait_until(lambda: any(e.target == cid and e.outcome == "expired" and "timed_out" in e.detail
                           for e in vigie.audit.search(action="command.result")), what="the outcome in the audit trail")


def test_a_supervisor_rejection_is_shown_with_its_reason(vigie: Vigie) -> None:
    ghost = AssetDef(id="lamp-99999", type="Streetlight", geometry=Point((3.87, 43.61)), refs={"district": "x"})
    vigie.engine.execute(lambda core, now: (core.state.define("lighting", "lum-mtp", [ghost]), []))  # Vigie's view is out of date
    try:
        cid = vigie.post({"domain": "lighting", "action": "set_dimming", "params": {"level": 50}, "targets": ["lamp-99999"]}).get_json()["id"]
        vigie.lum.pump()
        d = vigie.until(cid, lambda d: d["status"] == "rejected", "rejected")
        assert d["message"] == "unknown target 'lamp-99999'"
        assert vigie.get(cid)["message"] == "unknown target 'lamp-99999'"
    finally:  # the module's engine is shared: a lamp without a cabinet would break the next tests' choice of an area
        vigie.engine.execute(lambda core, now: (core.state.remove(["lamp-99999"]), []))


def test_an_override_counts_down_expires_and_the_lamps_return_to_schedule(vigie: Vigie) -> None:
    cabinet = smallest(vigie, "cabinet", at_least=20)
    cid = vigie.post({"domain": "lighting", "action": "set_dimming", "params": {"level": 20, "override_s": 20}, "targets": [cabinet]}).get_json()["id"]
    vigie.lum.pump()
    vigie.lum.step()
    d = vigie.until(cid, lambda d: d["override"]["state"] == "active" and d["actual"]["verification"] == "confirmed", "the countdown")
    assert d["override"]["until"] == pytest.approx(vigie.lum.now() + 20)
    obeyed = set(vigie.service.get(cid)["feedback"]["applied_ids"])
    assert obeyed and all(a.values["controlMode"] == "override" for a in vigie.lamps(cabinet=cabinet) if a.id in obeyed)
    vigie.lum.step(2)  # 20 simulated seconds later
    d = vigie.until(cid, lambda d: d["override"]["state"] == "ended" and d["override"]["returned"] == len(obeyed), "back to schedule")
    assert all(a.values["controlMode"] == "schedule" and a.values["illuminanceLevel"] == 1.0 for a in vigie.lamps(cabinet=cabinet) if a.id in obeyed)
    wait_until(lambda: any(e.target == cid and "override ended" in e.detail for e in vigie.audit.search(action="command.override")),
               what="the end of the override in the audit trail")


def test_an_override_can_be_cancelled_from_the_api(vigie: Vigie) -> None:
    street = smallest(vigie, "street", at_least=10)
    cid = vigie.post({"domain": "lighting", "action": "switch", "params": {"on": False, "override_s": 3600}, "targets": [street]}).get_json()["id"]
    vigie.lum.pump()
    vigie.lum.step()
    vigie.until(cid, lambda d: d["override"]["state"] == "active", "the override")
    r = vigie.http.post(f"/api/v1/commands/{cid}/cancel", headers=vigie.tokens["op"])
    assert r.status_code == 202, r.get_json()
    cancel = r.get_json()
    assert (cancel["action"], cancel["cancels"]) == ("release", cid)
    vigie.lum.pump()
    vigie.lum.step()
    d = vigie.until(cid, lambda d: d["override"]["state"] == "cancelled", "cancelled")
    assert d["cancelled_by"] == cancel["id"]
    vigie.until(cancel["id"], lambda d: d["actual"]["verification"] == "confirmed", "the lamps back on schedule")
    assert all(a.values["controlMode"] == "schedule" for a in vigie.lamps(street=street))


def test_a_partial_outcome_lists_the_lamps_that_did_not_obey(vigie: Vigie) -> None:
    cabinet = smallest(vigie, "cabinet", at_least=30)
    lamps = sorted(a.id for a in vigie.lamps(cabinet=cabinet))
    for lamp_id in lamps[:3]:
        vigie.lum.sim.fail_lamp(lamp_id, "brokenLantern", repair_after_s=86400)
    vigie.lum.step()
    cid = vigie.post({"domain": "lighting", "action": "set_dimming", "params": {"level": 40}, "targets": [cabinet]}).get_json()["id"]
    vigie.lum.pump()
    vigie.lum.step()
    d = vigie.until(cid, lambda d: d["status"] == "partial" and d["actual"]["verification"] == "confirmed", "partial")
    assert (d["feedback"]["applied"], d["feedback"]["failed"], sorted(d["feedback"]["failed_ids"])) == (len(lamps) - 3, 3, lamps[:3])
    assert "3 of" in d["message"] and "out of order" in d["message"]


def test_closing_a_valve_is_confirmed_by_the_valves_telemetry(vigie: Vigie) -> None:
    valve = next(a for a in vigie.engine.core.state.domain("water").values() if a.type == "Valve" and a.props.get("main") is False)
    r = vigie.http.post("/api/v1/commands/preview", json={"domain": "water", "action": "valve", "params": {"position": 50}, "targets": [valve.id]},
                        headers=vigie.tokens["op"])
    assert r.status_code == 200 and r.get_json()["effect"]["downstream_sensors"] == valve.props["downstreamSensors"]
    cid = vigie.post({"domain": "water", "action": "valve", "params": {"position": 50}, "targets": [valve.id]}).get_json()["id"]
    vigie.eau.pump()
    vigie.eau.step(2)  # a valve strokes fully in a minute
    d = vigie.until(cid, lambda d: d["actual"]["verification"] == "confirmed", "the valve at 50 %")
    assert d["status"] == "applied" and d["actual"]["expect"] == {"field": "position", "value": 0.5}


@pytest.mark.parametrize("who, body, status, said, audited", [  # said in the site's language (French), audited in English
    ("viewer", {"domain": "lighting", "action": "set_dimming", "params": {"level": 10}, "targets": ["lamp-00001"]}, 403,
     "demande le rôle", "needs the role"),
    ("water-op", {"domain": "lighting", "action": "set_dimming", "params": {"level": 10}, "targets": ["lamp-00001"]}, 403,
     "agit sur eau, pas sur éclairage", "acts on water, not on lighting"),
])
def test_roles_and_domains_are_enforced_and_refusals_audited(vigie: Vigie, who, body, status, said, audited) -> None:
    r = vigie.post(body, who)
    assert r.status_code == status and said in r.get_json()["message"]
    assert vigie.http.post("/api/v1/commands", json=body).status_code == 401
    assert any(audited in e.detail for e in vigie.audit.search(action="command.send", outcome="refused"))


@pytest.mark.parametrize("body, status, words", [
    ({"domain": "lighting", "action": "set_dimming", "params": {"level": 140}, "targets": ["lamp-00001"]}, 422,
     "level must be a number from 0 to 100 %, got 140"),
    ({"domain": "lighting", "action": "set_dimming", "params": {"level": 40}, "targets": ["eau-valve-1"]}, 422,
     "eau-valve-1 is a water Valve: set_dimming acts on lighting assets only"),
    ({"domain": "water", "action": "valve", "params": {"position": 10}, "targets": ["lamp-00001"]}, 422, "lamp-00001 is a lighting Streetlight"),
    ({"domain": "lighting", "action": "set_dimming", "params": {"level": 40}, "targets": ["lamp-00001"], "colour": 1}, 400, "bad command body"),
    ({"domain": "lighting", "action": "set_dimming", "params": {"level": 40}, "targets": "lamp-00001"}, 400, "bad command body"),
])
def test_bad_parameters_are_answered_with_the_reason(vigie: Vigie, body, status, words) -> None:
    r = vigie.post(body)
    assert r.status_code == status, r.get_json()
    assert words in r.get_json()["message"]


def test_a_whole_commune_dark_needs_a_reason_and_a_second_confirmation(vigie: Vigie) -> None:
    commune = smallest(vigie, "commune", at_least=50)  # a small commune of the metropolis
    body = {"domain": "lighting", "action": "switch", "params": {"on": False}, "targets": [commune]}
    r = vigie.post(body)
    assert r.status_code == 428 and "would be dark" in r.get_json()["message"] and "give a reason" in r.get_json()["message"]
    assert r.get_json()["plan"]["count"] == len(vigie.lamps(commune=commune))
    r = vigie.post({**body, "reason": "Coupure demandée par Enedis"})
    assert r.status_code == 428 and "confirm a second time" in r.get_json()["message"]
    r = vigie.post({**body, "reason": "Coupure demandée par Enedis", "confirm": True})
    assert r.status_code == 202 and r.get_json()["reason"] == "Coupure demandée par Enedis"
    assert vigie.lum.pump() == 1
    vigie.lum.step()
    vigie.until(r.get_json()["id"], lambda d: d["status"] in ("applied", "partial"), "applied")  # out-of-order lamps fail
    release = vigie.post({"domain": "lighting", "action": "release", "targets": [commune]})
    vigie.lum.pump()
    vigie.lum.step()
    vigie.until(release.get_json()["id"], lambda d: d["status"] in ("applied", "partial"), "released")


def test_a_retried_command_is_sent_once(vigie: Vigie) -> None:
    cabinet = smallest(vigie, "cabinet", at_least=25)
    body = {"domain": "lighting", "action": "set_dimming", "params": {"level": 60}, "targets": [cabinet], "idempotency_key": "dlg-7f3a"}
    first, again = vigie.post(body), vigie.post(body)
    assert (first.status_code, again.status_code, again.get_json()["id"]) == (202, 200, first.get_json()["id"])
    assert vigie.lum.pump(wait_s=1.0, expect=2) == 1
    header = vigie.post({k: v for k, v in body.items() if k != "idempotency_key"}, **{"Idempotency-Key": "dlg-7f3a"})
    assert header.get_json()["id"] == first.get_json()["id"]
    other = vigie.post({**body, "params": {"level": 61}})
    assert other.status_code == 409 and "used for another command" in other.get_json()["message"]


def test_the_log_lists_filters_exports_and_survives_a_restart(vigie: Vigie) -> None:
    cid = vigie.post({"domain": "lighting", "action": "set_dimming", "params": {"level": 70}, "targets": ["lamp-00002"]}).get_json()["id"]
    vigie.lum.pump()
    vigie.until(cid, lambda d: d["status"] == "accepted", "accepted")
    listing = wait_until(lambda: (j := vigie.http.get("/api/v1/commands?domain=lighting&user=token:op&limit=500",
                                                        headers=vigie.tokens["viewer"]).get_json()) and any(i["id"] == cid for i in j["items"]) and j)
    assert all(i["domain"] == "lighting" for i in listing["items"])
    assert vigie.http.get("/api/v1/commands?status=nonsense", headers=vigie.tokens["viewer"]).status_code == 400
    csv = vigie.http.get("/api/v1/commands?format=csv&target=lamp-00002", headers=vigie.tokens["viewer"])
    assert csv.mimetype == "text/csv" and cid in csv.text and csv.text.startswith("id,requested_at,user")
    mine = vigie.http.get("/api/v1/commands?asset=lamp-00002", headers=vigie.tokens["viewer"]).get_json()["items"]
    assert mine[0]["id"] == cid
    # a second Vigie on the same Redis (as after a restart) takes the open command back, with its deadline
    core = Hypervisor(CoreConfig(commands=CONFIG))
    engine = Engine(Settings(snapshot_interval_s=0, run_simulators=False), vigie.redis_url, core, clock=vigie.lum.now, freeze_gc=False).start()
    again = CommandService(engine, CommandPublisher(vigie.redis_url), vigie.service.store, clock=vigie.lum.now).start()
    try:
        restored = again.get(cid)
        assert (restored["status"], restored["deadline"]) == ("accepted", vigie.service.get(cid)["deadline"])
    finally:
        again.stop()
        engine.stop()
    vigie.lum.step()
    vigie.until(cid, lambda d: d["status"] in ("applied", "failed"), "the outcome")
