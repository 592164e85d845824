"""Vigie's composition root: settings, Redis, engine and simulators, the web app, the push server.

`python app.py` serves the control room (port from PORT, default 8050).
`python app.py user|token|audit ...` is the admin CLI (see README).
Nothing imports this module.
"""
from __future__ import annotations

import logging
import sys

from flask import Flask

from services.settings import Settings

log = logging.getLogger("vigie")
CLI_COMMANDS = {"user", "token", "audit", "redis-acl"}


def create_server(settings: Settings, runtime) -> tuple[Flask, object]:
    """Build the Flask server with security, the read API and the Dash app on it; return (server, socketio)."""
    from dashboards import create_dash_app
    from services.web.api import create_api
    from services.web.alarms import init_alarms
    from services.web.commands import init_commands
    from services.feed.bus import bounded_client
    from services.ngsi.outbound import territory_areas
    from services.ngsi.relay import redis_forwarder
    from services.web.ngsi import create_ngsi_blueprint, security_gate
    from services.redis_conn import connect
    from services.web.security import init_security

    server = Flask("vigie")
    server.secret_key = settings.secret_key or None  # else one shared by every worker, kept in Redis
    security = init_security(server, settings, connect(runtime.redis_url))  # sign-in, admin pages, audit, headers
    server.extensions["vigie.runtime"] = runtime
    server.register_blueprint(create_api(runtime.reader, runtime.engine, settings, metrics=runtime.metrics, security=security,
                                         day_archive=runtime.day_archive))
    server.register_blueprint(create_ngsi_blueprint(
        runtime.reader, redis_forwarder(bounded_client(runtime.redis_url)), authorize=security_gate(),
        metrics=runtime.metrics, area=territory_areas(settings.territory),
    ))
    dash_app, socketio = create_dash_app(server, settings, runtime.reader, runtime.engine)
    security.register_dash(dash_app)
    init_alarms(server, runtime)  # alarm actions (API and console), journal, KPIs
    init_commands(server, settings, runtime, security, socketio)  # operator commands: API, page, audit, pushes
    return server, socketio


def main(argv: list[str] | None = None) -> int:
    """Serve the control room, or run an admin command."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if argv and argv[0] in CLI_COMMANDS:
        from services.cli import main as cli_main
        from services.redis_conn import connect
        from services.redis_launcher import resolve_redis

        redis_handle = resolve_redis(settings)  # the same Redis the control room runs with
        try:
            return cli_main(argv, settings, redis_client=connect(redis_handle.url))
        finally:
            redis_handle.stop()
    if argv and argv[0] not in {"serve"}:
        print(f"unknown command {argv[0]!r}; use: serve | user | token | audit | redis-acl", file=sys.stderr)
        return 2
    from services.runtime import start_services

    runtime = start_services(settings)
    try:
        server, socketio = create_server(settings, runtime)
        log.info("Vigie control room on http://%s:%d (Redis: %s)", settings.host, settings.port, runtime.redis_kind)
        socketio.run(server, host=settings.host, port=settings.port, allow_unsafe_werkzeug=True, use_reloader=False)
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
