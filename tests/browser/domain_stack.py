"""The stack for the asset, domain and wall tests: harness.start_stack's, plus the runtime (journal) and alarm store on the app."""
from __future__ import annotations

import threading
from pathlib import Path

import redis
from flask import Flask
from werkzeug.serving import make_server

from services.settings import Settings

from .harness import Stack, free_port


def start_domain_stack(redis_url: str | None, state_dir: Path, settings: Settings | None = None, port: int | None = None,
                       simulators: bool = False) -> Stack:
    """Engine, recorder (journal in `state_dir`), alarm store and web app on `port` (a free one by default)."""
    from dashboards import create_dash_app
    from services.web.alarms import init_alarms
    from services.runtime import start_services

    settings = (settings or Settings()).with_(redis_url=redis_url, run_simulators=simulators, state_dir=state_dir)
    runtime = start_services(settings)
    stops: list = [runtime.stop]
    try:
        server = Flask("vigie-test")
        server.config["SECRET_KEY"] = "test"
        server.extensions["vigie.runtime"] = runtime
        create_dash_app(server, settings, runtime.reader, runtime.engine)
        init_alarms(server, runtime)
        hub = server.extensions["vigie.ui"].hub
        if hub is not None:
            stops.append(hub.stop)
        port = port or free_port()
        web = serve(server, port)
        stops.append(lambda: stop_web(web))
        client = redis.Redis.from_url(runtime.redis_url)
        stops.append(client.close)
    except Exception:
        for stop in reversed(stops):
            stop()
        raise
    stack = Stack(url=f"http://127.0.0.1:{port}", reader=runtime.reader, engine=runtime.engine, hub=hub, redis=client,
                  settings=settings, redis_url=runtime.redis_url, _stops=stops)
    stack.server, stack.web, stack.port = server, web, port  # for the tests that restart the web server
    return stack


def serve(server: Flask, port: int):
    """Serve `server` on `port` in a thread (Werkzeug, as app.py runs it)."""
    web = make_server("127.0.0.1", port, server, threaded=True)
    threading.Thread(target=web.serve_forever, name="vigie-http", daemon=True).start()
    return web


def stop_web(web) -> None:
    """Stop serving and free the port."""
    web.shutdown()
    web.server_close()
