"""A running Vigie with a journal already recorded, for the replay browser test and the screenshots.

The journal is written before the services start (the mini world of tests/replay_world.py, or the
three real simulators); then the control room, built by the app factory as `make run` builds it,
records into it and serves its replay sessions.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from services.settings import Settings

from .harness import serve_room, signed_in_session, stop_http, stack_settings


@dataclass
class ReplayStack:
    """A running Vigie: its URL, runtime, replay manager, Flask app, and how to stop it."""

    url: str
    runtime: object
    manager: object
    span: tuple[float, float]
    stops: list = field(default_factory=list)
    server: object = None

    def login(self, name: str) -> "requests.Session":
        """An HTTP session signed in as `name` through the sign-in form, its CSRF header set."""
        return signed_in_session(self.url, name, PASSWORD)

    def stop(self) -> None:
        for stop in reversed(self.stops):
            try:
                stop()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


def record_simulators(directory: Path, start: datetime, minutes: float) -> None:
    """Record the three simulators (stepped as fast as they go) into a journal folder."""
    from services.journal.store import Journal, JournalConfig
    from services.journal.recorder import Recorder
    from services.simulators import build

    journal = Journal(JournalConfig(directory))
    recorder = Recorder(journal, "redis://127.0.0.1:1/0", streams=False)
    sims = [build(d, seed=42, start=start) for d in ("lighting", "water", "traffic")]
    t = start.timestamp()
    for sim in sims:
        for ch, payload in sim.state():
            recorder.record(t, ch.encode(), payload)
    recorder.feed.advance(t)
    while t < start.timestamp() + minutes * 60:
        t += 10.0
        for sim in sims:
            out = []
            while sim.now.timestamp() + sim.step_s <= t:
                out += sim.step()
            for ch, payload in out + sim.heartbeat(t - start.timestamp()):
                recorder.record(t + 0.5, ch.encode(), payload)
        recorder.feed.advance(t + 0.5)
    journal.close()


TRAINER, OPERATORS, PASSWORD = "tina", ("olga", "oscar"), "replay-password-1"


def start_replay_stack(redis_url: str, state_dir: Path, *, world: str = "mini", minutes: float = 30.0) -> ReplayStack:
    """Record `minutes` of a world ending an hour ago, start the control room (app factory) on that state folder.

    A browser that does not sign in is an anonymous trainer; the accounts `tina` (trainer) and `olga`, `oscar`
    (operators) sign in with `stack.login(name)`."""
    from tests.replay_world import record

    journal_dir = state_dir / "journal"
    start = time.time() - 3600 - minutes * 60
    start -= start % 60
    if world == "mini":
        record(journal_dir, minutes, snapshot_s=120, segment_s=300, t0=start)[0].close()
    else:
        record_simulators(journal_dir, datetime.fromtimestamp(start, ZoneInfo("Europe/Paris")), minutes)
    settings = stack_settings(Settings(redis_url=redis_url, state_dir=state_dir, run_simulators=False, anonymous_role="trainer"))
    room, url, http = serve_room(settings)
    stops: list = [room.stop, lambda: stop_http(http)]
    security = room.server.extensions["vigie.security"]
    for name, role in ((TRAINER, "trainer"), *((o, "operator") for o in OPERATORS)):
        security.store.create_user(name, role, "all", PASSWORD, now=time.time())
    runtime = room.runtime
    span = runtime.recorder.journal.span()
    return ReplayStack(url=url, runtime=runtime, manager=room.replay, span=span, stops=stops, server=room.server)
