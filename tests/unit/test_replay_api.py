"""The replay and journal API on a small recorded world (no security layer: it is tested with the real one in integration)."""
from __future__ import annotations

import io

import msgspec
import pytest
from flask import Flask

from services.web.journal import create_journal_api, parse_time
from services.web.replay import COOKIE, create_replay_api
from services.replay.session import ReplayError
from services.replay.sessions import ReplayManager
from tests.replay_world import T0, record


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    journal, _ = record(tmp_path_factory.mktemp("journal"), 20, snapshot_s=120, segment_s=300)
    manager = ReplayManager(journal)
    app = Flask("test")
    app.register_blueprint(create_journal_api(journal))
    app.register_blueprint(create_replay_api(manager, journal))
    yield app.test_client(), manager
    manager.stop()
    journal.close()


def post(client, path: str, body: dict, status: int = 200) -> dict:
    resp = client.post(path, data=msgspec.json.encode(body), content_type="application/json")
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("raw, seconds", [(1800000000, 1800000000.0), ("1800000000.5", 1800000000.5),
                                          ("2027-01-15T09:00:00+01:00", 1800000000.0)])
def test_times_are_epoch_seconds_or_iso_with_an_offset(raw, seconds):
    assert parse_time(raw) == seconds


@pytest.mark.parametrize("raw", ["2027-01-15T09:00:00", "tomorrow", None])
def test_a_time_without_offset_or_meaning_is_refused(raw):
    with pytest.raises(ReplayError):
        parse_time(raw)


def test_a_session_is_opened_driven_joined_acted_in_and_debriefed(api):
    client, manager = api
    info = client.get("/api/v1/journal").get_json()
    assert info["span"] == [T0, T0 + 1200] and info["snapshots"] > 5
    s = post(client, "/api/v1/replay/sessions", {"name": "Nuit", "start": T0 + 60, "end": "2027-01-15T08:19:00Z", "speed": 5}, 201)
    assert (s["start"], s["end"], s["speed"], s["state"]) == (T0 + 60, T0 + 1140, 5.0, "paused")
    sid = s["id"]
    assert [x["id"] for x in client.get("/api/v1/replay/sessions").get_json()["sessions"]] == [sid]
    moved = post(client, f"/api/v1/replay/sessions/{sid}/control", {"action": "seek", "t": T0 + 400})
    assert moved["position"] == T0 + 400 and moved["seek_s"] < 5
    post(client, f"/api/v1/replay/sessions/{sid}/control", {"action": "speed", "speed": 60})
    assert post(client, f"/api/v1/replay/sessions/{sid}/control", {"action": "play", "until": T0 + 401})["state"] == "playing"
    post(client, f"/api/v1/replay/sessions/{sid}/control", {"action": "pause"})
    joined = client.post(f"/api/v1/replay/sessions/{sid}/join")
    assert COOKIE in joined.headers["Set-Cookie"] and "HttpOnly" in joined.headers["Set-Cookie"]
    alarms = client.get(f"/api/v1/replay/sessions/{sid}/alarms").get_json()["alarms"]
    assert "eau-t/sensor-1:low_pressure" in {a["id"] for a in alarms}
    done = post(client, f"/api/v1/replay/sessions/{sid}/alarms/ack", {"ids": ["eau-t/sensor-1:low_pressure"], "params": {"comment": "vu"}})
    assert done["outcomes"][0]["result"] == "done"
    injected = post(client, f"/api/v1/replay/sessions/{sid}/inject", {"event": "supervisor_silent", "target": "traf-t", "minutes": 2})
    assert injected["fired"] and injected["target"] == "traf-t" and injected["minutes"] == 2
    report = client.get(f"/api/v1/replay/sessions/{sid}/debrief").get_json()
    assert report["summary"]["acknowledged"] == 1 and report["injections"][0]["event"] == "supervisor_silent"
    assert client.get(f"/api/v1/replay/sessions/{sid}/debrief?format=csv").mimetype == "text/csv"
    timeline = client.get(f"/api/v1/replay/sessions/{sid}/timeline").get_json()
    assert timeline["alarms"] and timeline["injections"] and timeline["exercise"]
    assert client.delete(f"/api/v1/replay/sessions/{sid}").status_code == 200
    assert client.get(f"/api/v1/replay/sessions/{sid}").status_code == 404


@pytest.mark.parametrize("path, body, status", [
    ("/api/v1/replay/sessions", {"start": "yesterday"}, 400),
    ("/api/v1/replay/sessions", {"start": T0 + 9999, "end": T0 + 99999}, 400),
    ("/api/v1/replay/sessions", {"colour": "red"}, 400),
    ("/api/v1/replay/sessions", {"scenario": "../../app.py"}, 400),
    ("/api/v1/replay/sessions", {"scenario_yaml": "name: x\nevents: [{at: 1, event: meteor}]"}, 400),
    ("/api/v1/replay/sessions/nope/control", {"action": "play"}, 404),
])
def test_bad_requests_are_refused_with_a_reason(api, path, body, status):
    client, _ = api
    resp = client.post(path, data=msgspec.json.encode(body), content_type="application/json")
    assert resp.status_code == status and resp.get_json()["message"]


def test_controls_and_events_a_session_refuses(api):
    client, manager = api
    sid = post(client, "/api/v1/replay/sessions", {"start": T0, "end": T0 + 600}, 201)["id"]
    try:
        for body in ({"action": "rewind"}, {"action": "speed", "speed": 100}, {"action": "seek", "t": T0 + 5000}):
            assert client.post(f"/api/v1/replay/sessions/{sid}/control", json=body).status_code == 400
        assert client.post(f"/api/v1/replay/sessions/{sid}/inject", json={"event": "earthquake"}).status_code == 400
        bad = client.post(f"/api/v1/replay/sessions/{sid}/inject", json={"event": "pipe_burst", "target": "nope"})
        assert bad.status_code == 422 and "nope" in bad.get_json()["error"]
        assert client.post(f"/api/v1/replay/sessions/{sid}/alarms/explode", json={"ids": ["x"]}).status_code == 400
    finally:
        manager.close(sid)


def test_the_journal_exports_and_answers_history(api):
    import pyarrow.parquet as pq

    client, _ = api
    lines = client.get(f"/api/v1/journal/export?since={T0}&until={T0 + 120}").get_data().splitlines()
    assert len(lines) > 20 and msgspec.json.decode(lines[0])["k"] == "m"
    parquet = client.get(f"/api/v1/journal/export?since={T0}&until={T0 + 120}&format=parquet&table=readings")
    assert parquet.mimetype == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(parquet.get_data())).num_rows > 20
    assert client.get(f"/api/v1/journal/export?since={T0}&until={T0 + 30 * 86400}").status_code == 400
    points = client.get(f"/api/v1/journal/assets/sensor-2/history?since={T0}&until={T0 + 600}").get_json()["points"]
    assert points and all("pressure" in v for _, v in points)
    marks = client.get(f"/api/v1/journal/timeline?since={T0}&until={T0 + 1200}").get_json()
    assert {m["code"] for m in marks["alarms"]} == {"low_pressure", "lamp_fault"} and marks["counts"]
