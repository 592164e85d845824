"""The stack for the asset, domain and wall tests: the app factory's control room with its journal in `state_dir`."""
from __future__ import annotations

from pathlib import Path

import redis

from services.settings import Settings

from .harness import Stack, serve_room, stop_http, stack_settings


def start_domain_stack(redis_url: str | None, state_dir: Path, settings: Settings | None = None, port: int | None = None,
                       simulators: bool = False) -> Stack:
    """The control room (recorder journal in `state_dir`) on `port` (a free one by default)."""
    settings = stack_settings(settings, redis_url=redis_url, run_simulators=simulators, state_dir=state_dir)
    room, url, web = serve_room(settings, port)
    runtime = room.runtime
    stops: list = [room.stop, lambda: stop_web(stack.web)]
    client = redis.Redis.from_url(runtime.redis_url)
    stops.append(client.close)
    hub = room.server.extensions["vigie.ui"].hub
    stack = Stack(url=url, reader=runtime.reader, engine=runtime.engine, hub=hub, redis=client,
                  settings=settings, redis_url=runtime.redis_url, _stops=stops)
    stack.room, stack.server, stack.runtime = room, room.server, runtime
    stack.web, stack.port = web, int(url.rsplit(":", 1)[1])  # for the tests that restart the web server
    return stack


def serve(room, port: int):
    """Serve the control room on `port` again (Werkzeug in a thread)."""
    import threading

    from werkzeug.serving import make_server

    web = make_server("127.0.0.1", port, room, threaded=True)
    threading.Thread(target=web.serve_forever, name="vigie-http", daemon=True).start()
    return web


def stop_web(web) -> None:
    """Stop serving and free the port."""
    stop_http(web)
