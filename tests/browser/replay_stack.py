"""A running Vigie with a journal already recorded, for the replay browser test and the screenshots.

The journal is written before the services start (the mini world of tests/replay_world.py, or the
three real simulators); then the runtime's recorder goes on writing into it, and the web app has
the replay sessions wired as app.py wires them.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.serving import make_server

from services.settings import Settings

from .harness import free_port


@dataclass
class ReplayStack:
    """A running Vigie: its URL, runtime, replay manager, Flask app, and how to stop it."""

    url: str
    runtime: object
    manager: object
    span: tuple[float, float]
    stops: list = field(default_factory=list)
    server: object = None

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


def start_replay_stack(redis_url: str, state_dir: Path, *, world: str = "mini", minutes: float = 30.0) -> ReplayStack:
    """Record `minutes` of a world ending an hour ago, start Vigie on that state folder, serve it."""
    from dashboards import create_dash_app
    from services.web.alarms import init_alarms
    from services.web.commands import init_commands
    from services.web.replay import init_replay
    from services.runtime import start_services
    from tests.replay_world import record

    journal_dir = state_dir / "journal"
    start = time.time() - 3600 - minutes * 60
    start -= start % 60
    if world == "mini":
        record(journal_dir, minutes, snapshot_s=120, segment_s=300, t0=start)[0].close()
    else:
        record_simulators(journal_dir, datetime.fromtimestamp(start, ZoneInfo("Europe/Paris")), minutes)
    settings = Settings(redis_url=redis_url, state_dir=state_dir, run_simulators=False)
    runtime = start_services(settings)
    stops: list = [runtime.stop]
    try:
        server = Flask("vigie-replay-test")
        server.config["SECRET_KEY"] = "test"
        _app, socketio = create_dash_app(server, settings, runtime.reader, runtime.engine)
        init_alarms(server, runtime)
        init_commands(server, settings, runtime, None, socketio)
        manager = init_replay(server, settings, runtime)
        stops.append(manager.stop)
        hub = server.extensions["vigie.ui"].hub
        if hub is not None:
            stops.append(hub.stop)
        port = free_port()
        http = make_server("127.0.0.1", port, server, threaded=True)
        threading.Thread(target=http.serve_forever, name="vigie-http", daemon=True).start()
        stops.append(http.shutdown)
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    span = runtime.recorder.journal.span()
    return ReplayStack(url=f"http://127.0.0.1:{port}", runtime=runtime, manager=manager, span=span, stops=stops, server=server)
