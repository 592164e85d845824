"""The control room's Dash app: pages, callbacks, the Socket.IO push server and its coalescing hub."""
from __future__ import annotations

import logging
from typing import Any

from dash import Dash
from flask import Flask
from flask_socketio import SocketIO

from callbacks import commands as command_callbacks
from callbacks import asset_detail, commands_log, details, live
from callbacks import wall as wall_callbacks
from callbacks import day_charts, domain_lighting, domain_lists
from callbacks.domain_routes import create_domain_routes
from callbacks import replay as replay_callbacks
from callbacks import replay_exercise
from callbacks import alarm_kpis as alarm_kpi_callbacks
from callbacks import alarms as alarm_callbacks
from callbacks import supervisors as supervisor_callbacks
from callbacks import maintenance as maintenance_callbacks
from callbacks.context import EXTENSION, VigieUI, current_ui
from callbacks.routes import create_routes
from layouts.shell import app_shell
from services.web.compression import init_compression
from services.web.push import PushHub, follow_audience
from services.settings import PROJECT_ROOT, Settings
from services.territory.geo import load_territory

from . import pages

log = logging.getLogger(__name__)

INDEX = """<!DOCTYPE html>
<html lang="fr">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>{%config%}{%scripts%}{%renderer%}</footer>
    </body>
</html>"""


def create_socketio(server: Flask, settings: Settings) -> SocketIO:
    """The Socket.IO server on `server` (threads, or gevent under gunicorn's gevent worker; Redis message queue
    when several web workers)."""
    mode = "gevent" if settings.server_worker == "gevent" else "threading"
    from services.web.socketio_queue import queue_options

    return SocketIO(server, async_mode=mode, **queue_options(settings.socketio_message_queue),
                    cors_allowed_origins=[], logger=False, engineio_logger=False)


def create_dash_app(server: Flask, settings: Settings, reader: Any, engine: Any) -> tuple[Dash, SocketIO]:
    """Build the Dash app on `server`, its Socket.IO server and, when `engine` runs here, the push hub."""
    init_compression(server)  # gzip for text, immutable cache for versioned static URLs (services/web/compression.py)
    socketio = create_socketio(server, settings)
    hub = None
    if engine is not None:
        hub = PushHub(reader, lambda event, payload: socketio.emit(event, payload), window_s=settings.coalesce_ms / 1000,
                      wall=reader.now)  # each message's `t`: Vigie's time (the territory clock, services/feed/territory_clock.py)
        if not settings.socketio_message_queue:  # every browser connects here: build deltas only while one listens
            follow_audience(socketio, hub)
        hub.start()
        engine.subscribe(hub.on_events)
    # else: a web-only worker; the engine's process pushes through the message queue
    ui = VigieUI(settings=settings, reader=reader, territory=load_territory(settings.territory), hub=hub)
    server.extensions[EXTENSION] = ui
    ui.warm_up()
    server.register_blueprint(create_routes(current_ui))
    server.register_blueprint(create_domain_routes(current_ui))
    app = Dash(
        __name__, server=server, use_pages=True, pages_folder="", assets_folder=str(PROJECT_ROOT / "assets"),
        serve_locally=True, title="Vigie", update_title=None, suppress_callback_exceptions=True,
        index_string=INDEX, meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    pages.register(app)
    app.layout = app_shell()
    live.register(app)
    details.register(app, current_ui)
    asset_detail.register(app, current_ui)
    wall_callbacks.register(app)
    domain_lighting.register(app, current_ui)
    domain_lists.register(app, current_ui)
    day_charts.register(app, current_ui)
    alarm_callbacks.register(app)
    alarm_kpi_callbacks.register(app)
    supervisor_callbacks.register(app)
    command_callbacks.register(app)
    commands_log.register(app)
    maintenance_callbacks.register(app)
    replay_callbacks.register(app)
    replay_exercise.install(server, app, socketio)  # a browser that joined a replay session sees its world (app.layout too)
    return app, socketio
