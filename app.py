"""Vigie's composition root: the app factory, the production server, the admin CLI.

`create_app(settings)` builds the whole control room (every blueprint, page, API, push server and
background service) as one WSGI app; `make run`, `python app.py`, the systemd units and every test
stack use it, differing only by their settings.

`python app.py` (or `python app.py serve`) serves it through gunicorn (docs/deploy.md): the master
process resolves Redis (REDIS_URL, else the private redis-server it starts and stops last, else an
embedded one), one worker process runs the control room. SIGTERM or SIGINT: the worker stops taking
requests, flushes every writer and stops the engine; then the master stops the private Redis.
`python app.py user|token|audit|redis-acl ...` is the admin CLI (see README); it uses the Redis the
running control room uses and never starts its own.
"""
from __future__ import annotations

import contextvars
import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterable

from services.settings import Settings

log = logging.getLogger("vigie")
CLI_COMMANDS = {"user", "token", "audit", "redis-acl"}
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
GEVENT_WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"  # VIGIE_SERVER_WORKER=gevent (docs/deploy.md)


def create_server(settings: Settings, runtime: Any) -> tuple[Any, Any, Any]:
    """Build the Flask server with security, every API, the Dash app and the push server on it.

    Returns (server, socketio, replay manager)."""
    from flask import Flask

    from dashboards import create_dash_app
    from services.feed.bus import bounded_client
    from services.ngsi.outbound import territory_areas
    from services.ngsi.relay import redis_forwarder
    from services.territory.geo import extent
    from services.redis_conn import connect
    from services.web.alarms import init_alarms
    from services.web.api import create_api
    from services.web.commands import init_commands
    from services.web.ngsi import create_ngsi_blueprint, security_gate
    from services.web.replay import init_replay
    from services.web.security import init_security
    from services.web.supervisors import init_supervisors
    from services.web.workorders import init_workorders

    server = Flask("vigie")
    server.secret_key = settings.secret_key or None  # else one shared by every worker, kept in Redis
    security = init_security(server, settings, connect(runtime.redis_url))  # sign-in, admin pages, audit, headers
    server.extensions["vigie.runtime"] = runtime
    server.register_blueprint(create_api(runtime.reader, runtime.engine, settings, metrics=runtime.metrics, security=security,
                                         day_archive=runtime.day_archive))
    server.register_blueprint(create_ngsi_blueprint(
        runtime.reader, redis_forwarder(bounded_client(runtime.redis_url)), authorize=security_gate(),
        metrics=runtime.metrics, area=territory_areas(settings.territory), extent=extent(settings.territory),
    ))
    dash_app, socketio = create_dash_app(server, settings, runtime.reader, runtime.engine)
    security.register_dash(dash_app)
    init_alarms(server, runtime)  # alarm actions (API and console), journal, KPIs
    init_supervisors(server, runtime)  # the registry of supervisors: API and the engineers' page
    init_commands(server, settings, runtime, security, socketio)  # operator commands: API, page, audit, pushes
    init_workorders(server, settings, runtime, security, socketio)  # work orders (the GMAO link) and maintenance rounds
    replay = init_replay(server, settings, runtime, security)  # journal API, replay sessions, the trainer's page
    return server, socketio, replay


class ControlRoom:
    """The control room as one WSGI app: a "starting" answer until Redis answers, then the whole app.

    Redis down at start does not kill Vigie: `/healthz` answers 503 saying why, every other path a 503
    page, while a thread retries with capped back-off and builds the app as soon as Redis answers.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Any = None
        self.server: Any = None
        self.socketio: Any = None
        self.replay: Any = None
        self.reason = "starting"
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stops: list[Callable[[], None]] = []

    # --- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        server = self.server
        if server is not None and not self._stopping.is_set():
            return self._wsgi(environ, start_response)
        return self._unavailable(environ, start_response)

    def _unavailable(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        import json

        why = "stopping" if self._stopping.is_set() else self.reason
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" or path.startswith(("/api/", "/ngsi-ld/", "/metrics")):
            body = json.dumps({"status": "unavailable", "ready": False, "reason": why}).encode()
            ctype = "application/json"
        else:
            text = ("Vigie démarre : " if self.settings.language == "fr" else "Vigie is starting: ") + why
            body = (f"<!DOCTYPE html><html lang='{self.settings.language}'><meta charset='utf-8'>"
                    f"<meta http-equiv='refresh' content='5'><title>Vigie</title>"
                    f"<body style='font:20px sans-serif;margin:3em'><p>{_html(text)}</p></body></html>").encode()
            ctype = "text/html; charset=utf-8"
        start_response("503 SERVICE UNAVAILABLE", [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                                  ("Retry-After", "5"), ("Cache-Control", "no-store")])
        return [body]

    @property
    def ready(self) -> bool:
        """Whether the whole control room is built and serving."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until the control room is built (tests, the server's boot)."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the control room did not start in {timeout:.0f} s: {self.reason}")

    # --- start and stop ------------------------------------------------------------------------
    def start(self, *, wait: bool = True) -> "ControlRoom":
        """Build the control room, now if Redis answers, else from a thread that retries with capped back-off."""
        from services.redis_conn import BusUnavailable

        try:
            self._build()
            return self
        except BusUnavailable as err:
            self.reason = f"Redis unreachable: {err}"
            log.warning("cannot start yet (%s); /healthz answers 503 until Redis answers", self.reason)
        if wait:
            context = contextvars.copy_context()  # Dash's page registry reads a context variable set in this thread
            self._thread = threading.Thread(target=context.run, args=(self._retry,), name="vigie-start", daemon=True)
            self._thread.start()
        return self

    def _retry(self) -> None:
        from services.redis_conn import BusUnavailable

        delay = 0.5
        while not self._stopping.wait(delay):
            try:
                self._build()
                log.info("Redis answers: the control room is up")
                return
            except BusUnavailable as err:
                self.reason = f"Redis unreachable: {err}"
                delay = min(delay * 2, self.settings.redis_retry_max_s)
                log.warning("still waiting for Redis (%s); next try in %.1f s", err, delay)
            except Exception as err:  # noqa: BLE001 - keep retrying; the reason is on /healthz
                self.reason = f"start failed: {err}"
                log.exception("control room start failed; retrying")
                delay = min(delay * 2, self.settings.redis_retry_max_s)

    def _build(self) -> None:
        from redis import RedisError

        from services.redis_conn import BusUnavailable
        from services.runtime import start_services

        with self._lock:
            if self._stopping.is_set() or self.server is not None:
                return
            if self.settings.redis_url:  # nothing half-started while an external Redis is down
                self._ping(self.settings.redis_url)
            try:
                runtime = start_services(self.settings)
            except (RedisError, OSError) as err:
                raise BusUnavailable(str(err)) from err
            try:
                server, socketio, replay = create_server(self.settings, runtime)
            except (RedisError, OSError, BusUnavailable) as err:
                runtime.stop()
                raise BusUnavailable(str(err)) from err
            except BaseException:
                runtime.stop()
                raise
            self.runtime, self.socketio, self.replay = runtime, socketio, replay
            hub = server.extensions["vigie.ui"].hub
            self._stops = [runtime.stop, replay.stop] + ([hub.stop] if hub is not None else [])
            self._stops.append(server.extensions["vigie.workorders"].stop)  # before the engine and Redis stop (reversed)
            self._wsgi = server.wsgi_app
            if self.settings.proxies > 0:  # the browser's address from X-Forwarded-For, set by that many proxies
                from werkzeug.middleware.proxy_fix import ProxyFix

                n = self.settings.proxies
                self._wsgi = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
            self.server = server
            self.reason = "ready"
            self._ready.set()
            log.info("Vigie control room ready (Redis: %s, engine: %s, simulators: %s)", runtime.redis_kind,
                     "here" if runtime.engine is not None else "another process", "on" if self.settings.run_simulators else "off")

    @staticmethod
    def _ping(url: str) -> None:
        from services.redis_conn import BusUnavailable, connect

        client = connect(url, timeout_s=2.0)
        try:
            client.ping()
        except Exception as err:  # noqa: BLE001 - any failure to answer is "unreachable", with its reason
            raise BusUnavailable(f"{err}") from err
        finally:
            client.close()

    def stop(self, timeout: float = 25.0) -> None:
        """Stop taking requests (503 from now on), then stop the pushes, replay sessions and services (every writer
        flushed), then close the browsers' Socket.IO connections so the server's own graceful stop does not wait
        on them. A second caller (the server's exit hook after its signal) waits for the first to finish."""
        if self._stopping.is_set():
            self._stopped.wait(timeout)
            return
        self._stopping.set()
        try:
            with self._lock:
                for stop in reversed(self._stops):
                    try:
                        stop()
                    except Exception:  # noqa: BLE001 - stop the rest whatever one does
                        log.exception("error while stopping")
                self._stops = []
                self._disconnect_browsers()
            log.info("Vigie control room stopped")
        finally:
            self._stopped.set()

    def _disconnect_browsers(self) -> None:
        """Close every Socket.IO connection: a WebSocket or a long poll holds a server thread until it ends."""
        if self.socketio is None:
            return
        eio = self.socketio.server.eio
        for sid, sock in list(eio.sockets.items()):
            try:  # the close packet, without waiting for a poll the stopping server will not serve
                sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
            except Exception as err:  # noqa: BLE001 - a browser gone already is not a reason to stop the stop
                log.info("closing the browser connection %s: %s", sid, err)
            eio.sockets.pop(sid, None)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def create_app(settings: Settings | None = None, *, wait: bool = True) -> ControlRoom:
    """The app factory: the whole control room for `settings` (Settings.from_env() when None), started."""
    return ControlRoom(settings or Settings.from_env()).start(wait=wait)


# --- the production server ------------------------------------------------------------------------
def serve(settings: Settings) -> int:
    """Serve the control room through gunicorn until SIGTERM or SIGINT; stop the private Redis last."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    from services.redis_launcher import resolve_redis

    handle = resolve_redis(settings)  # in the master: a private Redis outlives worker restarts, and stops last

    class GracefulArbiter(Arbiter):
        """Ctrl-C stops as gracefully as SIGTERM: the worker flushes its writers before Redis stops."""

        def handle_int(self) -> None:
            raise StopIteration

    class VigieServer(BaseApplication):
        def __init__(self) -> None:
            self.room: ControlRoom | None = None
            super().__init__()

        def load_config(self) -> None:
            for key, value in gunicorn_config(settings).items():
                self.cfg.set(key, value)

        def load(self) -> ControlRoom:
            self.room = create_app(settings)  # in the worker process, after the fork: it finds the master's Redis
            return self.room

        def run(self) -> None:
            GracefulArbiter(self).run()

    log.info("Vigie control room on http://%s:%d (Redis: %s, server: gunicorn %s)", settings.host, settings.port,
             handle.kind, settings.server_worker)
    master, code = os.getpid(), 0
    try:
        VigieServer().run()
    except SystemExit as done:
        if os.getpid() != master:
            raise  # a worker leaving: its own exit code, and nothing of the master's to stop
        code = int(done.code or 0)
    finally:
        if os.getpid() == master:
            handle.stop()
            log.info("Vigie stopped (exit %d)", code)
    return code


def gunicorn_config(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for Vigie: one worker (the engine lives in it), plain logs, a standard access log."""

    def post_fork(_server: Any, _worker: Any) -> None:
        os.setpgid(0, 0)  # Ctrl-C reaches the master only; it stops the worker gracefully (SIGTERM)

    def post_worker_init(worker: Any) -> None:
        # gunicorn's graceful stop waits for requests in flight, and a browser's WebSocket never ends by itself:
        # on SIGTERM, stop the control room at once (writers flushed, then the browsers' connections closed).
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(sig: int, frame: Any) -> None:
            if callable(previous):
                previous(sig, frame)
            room = getattr(worker, "wsgi", None)
            if isinstance(room, ControlRoom):
                threading.Thread(target=room.stop, name="vigie-stop", daemon=True).start()

        signal.signal(signal.SIGTERM, on_term)

    def worker_exit(_server: Any, worker: Any) -> None:
        room = getattr(worker, "wsgi", None)
        if isinstance(room, ControlRoom):
            room.stop()  # flush the alarm, command, audit and journal writers; stop the engine

    config: dict[str, Any] = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,  # the engine and the Socket.IO sessions live in it (more workers: docs/deploy.md)
        # gevent: gevent-websocket's worker; with gevent-websocket installed (the `gevent` extra) engine.io upgrades to
        # WebSocket only there (on gunicorn's plain "gevent" worker every upgrade is a 500: browsers stay on long-polling)
        "worker_class": GEVENT_WORKER if settings.server_worker == "gevent" else "gthread",
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "errorlog": "-",
        "loglevel": "info",
        "logconfig_dict": {"version": 1, "disable_existing_loggers": False,
                           "formatters": {"plain": {"format": LOG_FORMAT}, "access": {"format": "%(message)s"}},
                           "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                                   "stream": "ext://sys.stderr"},
                                        "access": {"class": "logging.StreamHandler", "formatter": "access",
                                                   "stream": "ext://sys.stderr"}},
                           "root": {"level": "INFO", "handlers": ["stderr"]},
                           "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
                                       "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
                                       # the gevent worker's access lines (gevent-websocket logs them itself)
                                       "geventwebsocket.handler": {"level": "INFO" if settings.access_log else "WARNING"}}},
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "proc_name": "vigie",
        "control_socket_disable": True,  # gunicorn's control socket is one per user by default: two Vigies would share it
    }
    if settings.server_worker != "gevent":
        config["threads"] = settings.web_threads
    if settings.access_log:
        config["accesslog"] = "-"
        config["access_log_format"] = '%(h)s - %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
    return config


def main(argv: list[str] | None = None) -> int:
    """Serve the control room, or run an admin command."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if argv and argv[0] == "territory":  # files only: no settings, no Redis
        from services.territory.cli import main as territory_main

        return territory_main(argv[1:])
    settings = Settings.from_env()
    if argv and argv[0] in CLI_COMMANDS:
        from services.cli import main as cli_main
        from services.redis_conn import BusUnavailable, connect
        from services.redis_launcher import existing_redis

        try:
            url = existing_redis(settings)  # the Redis the control room runs with; never a second one
            client = connect(url)
        except (BusUnavailable, ValueError) as err:
            print(f"vigie: {err}", file=sys.stderr)
            return 3
        return cli_main(argv, settings, redis_client=client)
    if argv and argv[0] not in {"serve"}:
        print(f"unknown command {argv[0]!r}; use: serve | user | token | audit | redis-acl | territory", file=sys.stderr)
        return 2
    from services.territory.geo import TerritoryError, road_sites

    try:
        road_sites(settings.territory)  # before anything starts: a package without usable roads is said, not a traceback
    except TerritoryError as err:
        print(f"vigie: {err}; `python app.py territory check FOLDER` says what to fix", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # until gunicorn installs its own: a clean stop
    try:
        return serve(settings)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
