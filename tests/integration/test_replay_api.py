"""Who may do what with replay sessions, with the real security layer on redis-server, and what the audit trail keeps."""
from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask

from services.accounts import Passwords
from services.web.journal import create_journal_api
from services.web.replay import create_replay_api
from services.replay.sessions import ReplayManager
from services.settings import Settings
from services.web.security import init_security
from tests.replay_world import T0, record

pytestmark = pytest.mark.integration
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(redis_url, tmp_path):
    journal, _ = record(tmp_path, 10, snapshot_s=120, segment_s=300)
    base = Settings()
    server = Flask(__name__)
    security = init_security(server, SimpleNamespace(**{f.name: getattr(base, f.name) for f in fields(base)}),
                             redis.Redis.from_url(redis_url), passwords=CHEAP)
    manager = ReplayManager(journal)
    server.register_blueprint(create_journal_api(journal, security))
    server.register_blueprint(create_replay_api(manager, journal, security))
    tokens = {}
    for name, role, domains in (("formatrice", "trainer", None), ("ana", "operator", {"water"}), ("vic", "viewer", None)):
        _, tokens[name] = security.store.create_token(name, role, domains, device=False, created_by="test", now=T0)
    yield server.test_client(), tokens, security
    manager.stop()
    journal.close()


def call(client, tokens, who: str, method: str, path: str, body: dict | None = None):
    return client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})


def test_trainers_drive_sessions_and_trainees_act_in_them_once_joined(app):
    client, tokens, security = app
    assert call(client, tokens, "ana", "POST", "/api/v1/replay/sessions", {"start": T0, "end": T0 + 600}).status_code == 403
    created = call(client, tokens, "formatrice", "POST", "/api/v1/replay/sessions", {"name": "Nuit", "start": T0, "end": T0 + 600})
    assert created.status_code == 201
    sid = created.get_json()["id"]
    assert [s["id"] for s in call(client, tokens, "vic", "GET", "/api/v1/replay/sessions").get_json()["sessions"]] == [sid]
    for who, path, body in (("ana", f"/api/v1/replay/sessions/{sid}/control", {"action": "play"}),
                            ("ana", f"/api/v1/replay/sessions/{sid}/inject", {"event": "supervisor_silent"}),
                            ("vic", f"/api/v1/replay/sessions/{sid}/debrief", None)):
        assert call(client, tokens, who, "POST" if body else "GET", path, body).status_code == 403, path
    assert call(client, tokens, "formatrice", "POST", f"/api/v1/replay/sessions/{sid}/control", {"action": "seek", "t": T0 + 400}).status_code == 200
    ack = f"/api/v1/replay/sessions/{sid}/alarms/ack"
    body = {"ids": ["eau-t/sensor-1:low_pressure"]}
    refused = call(client, tokens, "ana", "POST", ack, body)
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_in_session"
    assert call(client, tokens, "ana", "POST", f"/api/v1/replay/sessions/{sid}/join").status_code == 200
    assert call(client, tokens, "ana", "POST", ack, body).get_json()["outcomes"][0]["result"] == "done"
    report = call(client, tokens, "formatrice", "GET", f"/api/v1/replay/sessions/{sid}/debrief").get_json()
    assert report["session"]["trainees"] == ["token:ana"] and report["summary"]["acknowledged"] == 1
    assert call(client, tokens, "ana", "DELETE", f"/api/v1/replay/sessions/{sid}").status_code == 403
    assert call(client, tokens, "formatrice", "DELETE", f"/api/v1/replay/sessions/{sid}").status_code == 200
    kept = {(e.actor, e.action) for e in security.audit.search(action="replay.")}
    assert {("token:formatrice", "replay.create"), ("token:ana", "replay.join"), ("token:formatrice", "replay.end")} <= kept
    assert ("token:ana", "replay.run") in {(e.actor, e.action) for e in security.audit.search(outcome="refused")}


def test_exports_naming_people_need_the_audit_right(app):
    client, tokens, _ = app
    since, until = T0, T0 + 300
    assert call(client, tokens, "ana", "GET", f"/api/v1/journal/export?since={since}&until={until}").status_code == 403
    assert call(client, tokens, "ana", "GET", f"/api/v1/journal/export?since={since}&until={until}&format=parquet").status_code == 200
    assert call(client, tokens, "vic", "GET", f"/api/v1/journal/assets/sensor-1/history?since={since}&until={until}").status_code == 200
