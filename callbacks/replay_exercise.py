"""A browser in an exercise sees the replayed world everywhere: the seam between live and a session.

A trainee who joined gets a cookie naming the session. For that browser's requests, the app's
services are the session's: `install` puts an exercise-aware stand-in in front of the UI context
(`vigie.ui`), the alarm service (`vigie.alarms`) and the command service (`vigie.commands`), so every
page, callback and route that reads them (map, KPIs, alarm console, commands, asset details) reads
the session's copy and acts on it. The page shell connects its push socket to the `/exercise`
namespace, in the session's room; the session's push hub emits there only. Live operations in
other browsers are untouched: without the cookie, every read goes to live as before.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from dash import Dash, Input, Output, ctx, no_update
from flask import Flask, current_app, has_request_context, request
from flask_socketio import SocketIO, join_room

from callbacks.context import EXTENSION as UI, VigieUI
from layouts import replay_ids as rid
from layouts.i18n import language
from layouts.replay import clock_text
from layouts.replay_banner import exercise_frame
from layouts.shell import app_shell
from services.web.replay import COOKIE, EXTENSION as REPLAY, exercise_of_request
from services.web.push import PushHub

log = logging.getLogger(__name__)
NAMESPACE = "/exercise"
ROUTED = ("vigie.ui", "vigie.alarms", "vigie.commands")
ROUTER = "vigie.exercise"


def room(session_id: str) -> str:
    """The Socket.IO room of a session's browsers."""
    return f"exercise:{session_id}"


class ExerciseAware:
    """Stands for a service of the app: a request from a browser in an exercise reads the session's, others live.

    A page left open after its exercise ended still carries the cookie: its reads fall back to live (under an
    "exercise ended" banner), but an action service refuses (`ended`), so a click meant for the exercise never
    acts on live operations.
    """

    def __init__(self, live: Any, of_session: Callable[[Any], Any], ended: type[Exception] | None = None) -> None:
        self._live = live
        self._of_session = of_session
        self._ended = ended

    def target(self) -> Any:
        """The service this request should use."""
        if has_request_context() and request.cookies.get(COOKIE):
            session = exercise_of_request()
            if session is not None:
                return self._of_session(session)
            if self._ended is not None:
                raise self._ended("this page belongs to an exercise that has ended: leave it to act on live operations")
        return self._live

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target(), name)


class SessionAlarmActions:
    """The alarm console's actions on a session's copy, noted in the exercise's log (debrief, seeks) like the API's."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def apply(self, action: str, ids: list[str], who: str, params: Any) -> list[Any]:
        """Apply one action to each alarm of the session's copy."""
        return self.session.alarm_action(action, ids, who, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session.alarm_actions, name)


class ExerciseRouter:
    """Builds, per session, what its browsers use in place of live: UI context, alarm service, push hub."""

    def __init__(self, server: Flask, socketio: SocketIO) -> None:
        self.server = server
        self.socketio = socketio
        self._ui: dict[str, VigieUI] = {}
        self._alarms: dict[str, Any] = {}

    def hub(self, session: Any) -> PushHub:
        """The session's push hub, emitting to its room only, stamped with its clock."""
        hub = PushHub(session.reader, lambda event, payload: self.socketio.emit(event, payload, namespace=NAMESPACE, to=room(session.id)),
                      window_s=0.25, wall=lambda: session.position)
        return hub.start()

    def ui(self, session: Any) -> VigieUI:
        """The UI context of a session (shares the live one's settings, territory and base map)."""
        found = self._ui.get(session.id)
        if found is None:
            live = self.server.extensions[UI]
            live = live._live if isinstance(live, ExerciseAware) else live
            hub = self.server.extensions[REPLAY].hub_of(session)
            found = self._ui[session.id] = VigieUI(settings=live.settings, reader=session.reader, territory=live.territory, hub=hub,
                                                   _base=live._base)
        return found

    def alarms(self, session: Any) -> Any:
        """The alarm service of a session (its copy's actions; no store: nothing of it is persisted)."""
        from services.web.alarms import AlarmService

        found = self._alarms.get(session.id)
        if found is None:
            found = self._alarms[session.id] = AlarmService(SessionAlarmActions(session), None)
        return found

    def route(self) -> None:
        """Put the stand-ins in front of the services once they exist (app.py creates some after the Dash app)."""
        ext = self.server.extensions
        manager = ext.get(REPLAY)
        if manager is None:
            return
        for cache in (self._ui, self._alarms):  # an ended session's world goes with it
            for sid in [sid for sid in cache if manager.get(sid) is None]:
                cache.pop(sid, None)
        if manager.hub_factory is None:
            manager.hub_factory = self.hub
        from services.alarms.actions import ActionsUnavailable
        from services.commands.service import CommandsUnavailable

        makers = {"vigie.ui": (self.ui, None), "vigie.alarms": (self.alarms, ActionsUnavailable),
                  "vigie.commands": (lambda s: s.commands, CommandsUnavailable)}
        for name in ROUTED:
            if name in ext and not isinstance(ext[name], ExerciseAware):
                ext[name] = ExerciseAware(ext[name], *makers[name])


def shell_for_request(default_theme: str = "light") -> Any:
    """The app's frame for this page load: live, or the exercise's banner and socket namespace."""
    if not has_request_context() or not request.cookies.get(COOKIE):
        return app_shell(default_theme)
    session = exercise_of_request()
    lang = language(request.args.get("lang"), current_app.extensions[UI].settings.language)
    if session is None:  # the exercise ended: say so, and offer the way back
        return exercise_frame(app_shell(default_theme), None, lang)
    return exercise_frame(app_shell(default_theme, socket_url=NAMESPACE), session.name, lang)


def install(server: Flask, app: Dash, socketio: SocketIO) -> ExerciseRouter:
    """Make the app exercise-aware: frame and socket per browser, services routed per request, the banner's callbacks."""
    router = server.extensions[ROUTER] = ExerciseRouter(server, socketio)
    server.before_request(router.route)
    app.layout = shell_for_request

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth: Any = None) -> bool:
        session = exercise_of_request()
        if session is None:
            return False  # not in an exercise (or it ended): this namespace has nothing for it
        join_room(room(session.id))
        return True

    @app.callback(Output(rid.BANNER_CLOCK, "children"), Output(rid.BANNER_POSITION, "data"), Input(rid.BANNER_TICK, "n_intervals"))
    def banner_clock(n: int) -> tuple[str, dict | None]:
        session = exercise_of_request()
        if session is None:
            return "", None
        status = session.status()
        # the tick's number changes the value every second: paused, the position does not, and the browser must hear it again
        return clock_text(status, session.timezone, language(request.args.get("lang"))), {
            "t": session.position, "n": n, "paused": status["state"] != "playing"}

    app.clientside_callback(  # the browser's clock (header clock, supervisors' ages) is the session's, and stands still while paused
        "function (d) { var V = window.vigie; if (d && d.t && V && V.live) { V.live.offset = d.t - Date.now() / 1000;"
        " V.live.frozen = d.paused ? d.t : null; } return window.dash_clientside.no_update; }",
        Output(f"{rid.BANNER}-sink", "data"), Input(rid.BANNER_POSITION, "data"), prevent_initial_call=True)

    @app.callback(Output(f"{rid.BANNER}-url", "href"), Input(rid.LEAVE, "n_clicks"), prevent_initial_call=True)
    def leave(n: int) -> str:
        if not n:
            return no_update
        ctx.response.set_cookie(COOKIE, "", max_age=0, expires=0, path="/", httponly=True, samesite="Lax")  # forget it
        return "/replay"

    return router
