"""No command from a training session ever reaches a `cmd.` channel of the live bus.

A whole Vigie (live engine, live command service on the real redis-server, web app with replay
sessions) runs over a recorded journal. A trainee joins a session and commands every way a
browser can: the session's own API, the live command API (the exercise cookie routes it), and the
command service the pages' forms call. A subscriber on `cmd.*` of the live bus hears none of them;
the session's sandbox takes them all. Then the same command from a browser that did not join goes
out on the bus and the subscriber hears it: it was listening.
"""
from __future__ import annotations

import time

import pytest
import redis
from flask import current_app

from services.web.replay import COOKIE
from services.commands.service import Actor, CommandRequest, Selection
from tests.browser.replay_stack import start_replay_stack
from tests.replay_world import MiniWorld

pytestmark = pytest.mark.integration

DIM = {"domain": "lighting", "action": "set_dimming", "params": {"level": 20}, "targets": ["d1"], "confirm": True,
       "reason": "exercice"}
OUTCOMES = ("applied", "partial", "failed", "rejected", "timed_out")


@pytest.fixture
def stack(redis_url, tmp_path):
    st = start_replay_stack(redis_url, tmp_path, world="mini", minutes=30)
    yield st
    st.stop()


def heard(monitor, seconds: float) -> list[str]:
    """The channels of every message published on `cmd.*` within `seconds`."""
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        m = monitor.get_message(timeout=0.1)
        if m is not None and m["type"] == "pmessage":
            out.append(m["channel"].decode())
    return out


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_no_command_from_a_session_reaches_a_cmd_channel_of_the_live_bus(stack, redis_url):
    bus = redis.Redis.from_url(redis_url)
    monitor = bus.pubsub()
    monitor.psubscribe("cmd.*")
    assert monitor.get_message(timeout=2.0)["type"] == "psubscribe"
    for ch, payload in MiniWorld().states(time.time()):  # live knows the recorded supervisors too: a live command would go out
        bus.publish(ch, payload)
    wait_for(lambda: stack.runtime.engine.core.state.get("lamp-1") is not None, what="live to know the lamps")
    trainer, trainee, bystander = stack.login("tina"), stack.login("olga"), stack.login("oscar")
    try:
        opened = trainer.post(f"{stack.url}/api/v1/replay/sessions", json={"name": "Nuit", "start": stack.span[0],
                                                                            "end": stack.span[1], "speed": 60}, timeout=60)
        assert opened.status_code == 201, opened.text
        sid = opened.json()["id"]
        assert trainee.post(f"{stack.url}/api/v1/replay/sessions/{sid}/join", timeout=30).ok and trainee.cookies.get(COOKIE) == sid
        assert trainer.post(f"{stack.url}/api/v1/replay/sessions/{sid}/control", json={"action": "play"}, timeout=30).ok
        session = stack.manager.get(sid)

        by_session_api = trainee.post(f"{stack.url}/api/v1/replay/sessions/{sid}/commands", json=DIM, timeout=60)
        by_live_api = trainee.post(f"{stack.url}/api/v1/commands", json={**DIM, "params": {"level": 50}}, timeout=60)
        assert (by_session_api.status_code, by_live_api.status_code) == (202, 202), (by_session_api.text, by_live_api.text)
        with stack.server.test_request_context("/", headers={"Cookie": f"{COOKIE}={sid}"}):  # what the command form calls
            current_app.extensions["vigie.commands"].submit(
                CommandRequest("lighting", "set_dimming", {"level": 70}, Selection(("cab-1",)), confirm=True, reason="exercice"),
                Actor("trainee", "operator"))
        assert trainer.post(f"{stack.url}/api/v1/replay/sessions/{sid}/inject", json={"event": "supervisor_silent", "target": "eau-t"},
                            timeout=30).ok
        wait_for(lambda: len(session.command_log.all()) == 3, what="the session's log to hold the 3 commands")  # written by its writer thread
        assert trainee.get(f"{stack.url}/api/v1/commands", timeout=30).json()["total"] == 3  # the session's log, for this browser

        assert heard(monitor, 3.0) == []  # while the session plays at 60x, its sandbox answers them: nothing on the bus
        assert [ch for ch, _ in session.sandbox.commands] == ["cmd.lighting.lum-t"] * 3
        with stack.runtime.engine.lock:
            assert not stack.runtime.engine.core.commands.records  # the live command log never saw them
        assert bystander.get(f"{stack.url}/api/v1/commands", timeout=30).json()["total"] == 0
        wait_for(lambda: all(c["status"] in OUTCOMES for c in session.command_log.all()), what="the sandbox's answers")
        report = trainer.get(f"{stack.url}/api/v1/replay/sessions/{sid}/debrief", timeout=30).json()
        assert len(report["commands"]) == 3 and all(c["status"] in OUTCOMES for c in report["commands"])  # taken, and their outcome
        assert [i["event"] for i in report["injections"]] == ["supervisor_silent"]

        live = bystander.post(f"{stack.url}/api/v1/commands", json=DIM, timeout=60)  # an operator who did not join: live
        assert live.status_code == 202, live.text
        assert heard(monitor, 5.0) == ["cmd.lighting.lum-t"]  # the subscriber was listening all along
    finally:
        for s in (trainer, trainee, bystander):
            s.close()
        monitor.close()
        bus.close()
