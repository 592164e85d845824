"""A browser in an exercise reads and acts on the session's copy; others on live; a page of an ended exercise acts on nothing."""
from __future__ import annotations

import time

import pytest
from flask import Flask

from callbacks.replay_exercise import ExerciseAware
from services.alarms.actions import ActionsUnavailable
from services.web.replay import COOKIE, EXTENSION


class Manager:
    def __init__(self, sessions: dict) -> None:
        self.sessions = sessions

    def get(self, sid: str):
        return self.sessions.get(sid)


class Service:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def app():
    app = Flask("test")
    app.extensions[EXTENSION] = Manager({"s1": Service("session s1")})
    return app


@pytest.mark.parametrize("cookie, ui, actions", [
    (None, "live", "live"),
    ("s1", "session s1", "session s1"),
    ("gone", "live", ActionsUnavailable),  # an ended exercise: reads fall back to live, actions are refused
])
def test_each_request_reads_the_world_its_browser_is_in(app, cookie, ui, actions):
    live = Service("live")
    reads = ExerciseAware(live, lambda s: s)
    acts = ExerciseAware(live, lambda s: s, ended=ActionsUnavailable)
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers):
        assert reads.name == ui
        if isinstance(actions, str):
            assert acts.name == actions
        else:
            with pytest.raises(actions):
                acts.name
    assert reads.name == acts.name == "live"  # outside a request (threads): live


def test_an_asset_page_in_an_exercise_reads_the_journal_at_the_session_s_clock_and_no_live_alarm_history(app):
    from types import SimpleNamespace

    from dashboards.asset import page_clock, page_services

    live_journal, store = object(), object()
    # a Runtime always has its reader; live pages take Vigie's time (the territory clock) from it
    app.extensions["vigie.runtime"] = SimpleNamespace(recorder=SimpleNamespace(journal=live_journal), alarm_store=store,
                                                      reader=SimpleNamespace(now=time.time))
    session = SimpleNamespace(journal=object(), position=1_700_000_000.0)  # November 2023
    app.extensions[EXTENSION] = Manager({"s1": session})
    with app.test_request_context("/asset/lamp-1", headers={"Cookie": f"{COOKIE}=s1"}):
        assert page_clock() == session.position
        assert (page_services()["journal"], page_services()["alarm_store"]) == (session.journal, None)
    with app.test_request_context("/asset/lamp-1"):
        assert page_clock() > session.position + 86400  # live: Vigie's clock, from the runtime's reader
        assert (page_services()["journal"], page_services()["alarm_store"]) == (live_journal, store)
