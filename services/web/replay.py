"""Replay sessions over HTTP, as a Flask Blueprint; `init_replay()` wires it and the journal's (services/web/journal.py).

    GET    /api/v1/replay/scenarios                      the scenario files
    GET    /api/v1/replay/sessions                       every session (trainees pick one to join)
    POST   /api/v1/replay/sessions                       {name, start, end, speed, scenario | scenario_yaml}
    GET    /api/v1/replay/sessions/<id>                  status; DELETE ends it
    POST   /api/v1/replay/sessions/<id>/control          {action: play|pause|seek|speed, t, speed, until}
    POST   /api/v1/replay/sessions/<id>/inject           {event, target, minutes, flow_m3h, note}
    POST   /api/v1/replay/sessions/<id>/join             this browser now shows the session (cookie)
    POST   /api/v1/replay/leave                          back to live operations
    GET    /api/v1/replay/sessions/<id>/timeline
    GET    /api/v1/replay/sessions/<id>/alarms           the session's alarms
    POST   /api/v1/replay/sessions/<id>/alarms/<action>  {ids, params}: ack, shelve... on the session's copy
    POST   /api/v1/replay/sessions/<id>/commands         a command body (as /api/v1/commands), to the sandbox
    GET    /api/v1/replay/sessions/<id>/debrief?format=json|csv
Trainers need `replay.run`; joining and acting in a session needs a signed-in principal who joined.
Times are epoch seconds or ISO 8601.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import msgspec
from flask import Blueprint, Flask, Response, current_app, request

from services.alarms.actions import ACTIONS, BadRequest as AlarmBadRequest, parse_ids, parse_params
from services.web.commands import BadRequest as CommandBadRequest, parse_body
from services.commands.service import Actor, CommandConflict, CommandInvalid, ConfirmationNeeded

from services.web.journal import create_journal_api, error as _error, json_response as _json, parse_time
from services.journal.store import Journal, JournalError
from services.replay.session import ReplayError, ReplaySession
from services.replay.debrief import debrief_csv
from services.replay.scenario import EVENTS, ScenarioError, ScenarioEvent, list_scenarios, load_scenario, parse_scenario
from services.replay.sessions import ReplayManager, plain
from services.replay.timeline import timeline

log = logging.getLogger(__name__)
EXTENSION = "vigie.replay"
COOKIE = "vigie_exercise"
_encode = msgspec.json.Encoder().encode


class ControlBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    t: float | str | None = None
    speed: float | None = None
    until: float | str | None = None


class SessionBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str = "Exercice"
    start: float | str | None = None
    end: float | str | None = None
    speed: float | None = None
    scenario: str | None = None
    scenario_yaml: str | None = None


class ActionBody(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[str]
    params: dict = {}


def _body(kind: type) -> Any:
    try:
        return msgspec.json.decode(request.get_data() or b"{}", type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as err:
        raise ReplayError(f"bad request body: {err}") from None


def create_replay_api(manager: ReplayManager, journal: Journal, security: Any = None) -> Blueprint:
    """The replay blueprint; `security` (services.web.auth.Security) authorises every call, None only in tests."""
    from services.web.auth import current_principal, refusal_response

    bp = Blueprint("vigie_replay_api", __name__)

    def who() -> str:
        p = current_principal() if security is not None else None
        return p.label if p is not None else "anonymous"

    def allowed(action: str, target: str = "") -> Response | None:
        if security is None:
            return None
        decision = security.authorize(current_principal(), action, target=target or request.path)
        return None if decision else refusal_response(decision)

    def audit(action: str, target: str, detail: str = "") -> None:
        if security is not None:
            try:
                security.record(current_principal(), action, "ok", target=target, detail=detail)
            except Exception as err:  # noqa: BLE001 - an unreachable audit log does not stop an exercise
                log.warning("audit of %s not recorded: %s", action, err)

    def session_or_404(session_id: str) -> ReplaySession:
        s = manager.get(session_id[:32])
        if s is None:
            raise LookupError(f"no replay session {session_id[:32]!r}")
        return s

    def participant(s: ReplaySession) -> Response | None:
        """Trainees who joined and the trainer may act in a session."""
        if security is None:
            return None
        name = who()
        if name in s.trainees or name == s.trainer:
            return None
        return _error(403, "not_in_session", "join the session first")

    @bp.errorhandler(ReplayError)
    @bp.errorhandler(ScenarioError)
    @bp.errorhandler(AlarmBadRequest)
    @bp.errorhandler(CommandBadRequest)
    def bad_request(err: Exception) -> Response:
        return _error(400, "bad_request", str(err))

    @bp.errorhandler(LookupError)
    def not_found(err: LookupError) -> Response:
        return _error(404, "not_found", str(err).strip("'\""))

    @bp.errorhandler(JournalError)
    def journal_down(err: JournalError) -> Response:
        return _error(503, "journal_unavailable", str(err))

    @bp.errorhandler(CommandInvalid)
    def invalid(err: CommandInvalid) -> Response:
        return _error(422, "invalid_command", str(err))

    @bp.errorhandler(ConfirmationNeeded)
    def confirm(err: ConfirmationNeeded) -> Response:
        return _json({"error": "confirmation_required", "message": str(err), "plan": err.plan}, 428)

    @bp.errorhandler(CommandConflict)
    def conflict(err: CommandConflict) -> Response:
        return _error(409, "idempotency_conflict", str(err))

    # --- sessions ----------------------------------------------------------------------------

    @bp.get("/api/v1/replay/scenarios")
    def scenarios() -> Response:
        return allowed("replay.run") or _json({"scenarios": list_scenarios()})

    @bp.get("/api/v1/replay/sessions")
    def sessions() -> Response:
        return allowed("dashboard.view") or _json({"sessions": manager.list()})

    @bp.post("/api/v1/replay/sessions")
    def create() -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        body = _body(SessionBody)
        scenario = parse_scenario(body.scenario_yaml) if body.scenario_yaml else (load_scenario(body.scenario) if body.scenario else None)
        span = journal.span() or (0.0, 0.0)
        start = parse_time(body.start, scenario.start.timestamp() if scenario and scenario.start else span[1] - 3600)
        end = parse_time(body.end, scenario.end.timestamp() if scenario and scenario.end else span[1])
        speed = body.speed or (scenario.speed if scenario else 1.0)
        s = manager.create(name=body.name[:200] or "Exercice", start=start, end=end, trainer=who(), speed=speed,
                           scenario=scenario, scenario_file=body.scenario)
        audit("replay.create", s.id, f"{s.name}: {s.start:.0f}-{s.end:.0f} x{s.speed:g}" + (f", scenario {scenario.name}" if scenario else ""))
        return _json(s.status(), 201, {"Location": f"/api/v1/replay/sessions/{s.id}"})

    @bp.get("/api/v1/replay/sessions/<session_id>")
    def one(session_id: str) -> Response:
        return allowed("dashboard.view") or _json(session_or_404(session_id).status())

    @bp.delete("/api/v1/replay/sessions/<session_id>")
    def end(session_id: str) -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        session_or_404(session_id)
        manager.close(session_id)
        audit("replay.end", session_id)
        return _json({"ended": session_id})

    @bp.post("/api/v1/replay/sessions/<session_id>/control")
    def control(session_id: str) -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        s, body = session_or_404(session_id), _body(ControlBody)
        out: dict[str, Any] = {}
        if body.action == "play":
            s.play(None if body.until is None else parse_time(body.until))
        elif body.action == "pause":
            s.pause()
        elif body.action == "seek":
            out["seek_s"] = round(s.seek(parse_time(body.t), who()), 3)
        elif body.action == "speed" and body.speed is not None:
            s.set_speed(body.speed)
        else:
            raise ReplayError("action is play, pause, seek (with t) or speed (with speed)")
        return _json({**s.status(), **out})

    @bp.post("/api/v1/replay/sessions/<session_id>/inject")
    def inject(session_id: str) -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        s = session_or_404(session_id)
        raw = msgspec.json.decode(request.get_data() or b"{}") if request.get_data() else {}
        if not isinstance(raw, dict) or raw.get("event") not in EVENTS:
            raise ReplayError(f"event is one of {', '.join(EVENTS)}")
        try:
            ev = msgspec.convert({**raw, "at": max(0.0, s.position - s.start)}, ScenarioEvent)
        except msgspec.ValidationError as err:
            raise ReplayError(str(err)) from None
        done = s.inject(ev, who())
        audit("replay.inject", s.id, f"{ev.event} {ev.target or ''}: {done['result'] or done['error']}")
        return _json(done, 200 if not done["error"] else 422)

    @bp.post("/api/v1/replay/sessions/<session_id>/join")
    def join(session_id: str) -> Response:
        refused = allowed("dashboard.view")
        if refused is not None:
            return refused
        s = session_or_404(session_id)
        s.join(who())
        audit("replay.join", s.id, s.name)
        resp = _json(s.status())
        resp.set_cookie(COOKIE, s.id, httponly=True, samesite="Lax", secure=request.is_secure, path="/")
        return resp

    @bp.post("/api/v1/replay/leave")
    def leave() -> Response:
        resp = _json({"left": request.cookies.get(COOKIE)})
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @bp.get("/api/v1/replay/sessions/<session_id>/timeline")
    def session_timeline(session_id: str) -> Response:
        refused = allowed("dashboard.view")
        if refused is not None:
            return refused
        s = session_or_404(session_id)
        return _json({**timeline(journal, s.start, s.end), "injections": s.status()["injections"],
                      "exercise": [plain(a) for a in s.log[-500:]]})

    @bp.get("/api/v1/replay/sessions/<session_id>/alarms")
    def session_alarms(session_id: str) -> Response:
        s = session_or_404(session_id)
        return allowed("dashboard.view") or participant(s) or _json({"t": s.position, "alarms": s.reader.alarms(active_only=True)})

    @bp.post("/api/v1/replay/sessions/<session_id>/alarms/<action>")
    def session_alarm_action(session_id: str, action: str) -> Response:
        s = session_or_404(session_id)
        refused = allowed("dashboard.view") or participant(s)
        if refused is not None:
            return refused
        if action not in ACTIONS:
            raise ReplayError(f"action is one of {', '.join(ACTIONS)}")
        body = _body(ActionBody)
        outcomes = s.alarm_action(action, parse_ids(body.ids), who(), parse_params(action, body.params))
        return _json({"outcomes": [o.to_dict() for o in outcomes]})

    @bp.post("/api/v1/replay/sessions/<session_id>/commands")
    def session_command(session_id: str) -> Response:
        s = session_or_404(session_id)
        refused = allowed("dashboard.view") or participant(s)
        if refused is not None:
            return refused
        req = parse_body(request.get_data(), request.headers.get("Idempotency-Key"))
        p = current_principal() if security is not None else None
        doc, existed = s.send_command(req, Actor(who(), str(p.role) if p else "", "user"))
        return _json(doc, 200 if existed else 202)

    @bp.get("/api/v1/replay/sessions/<session_id>/debrief")
    def session_debrief(session_id: str) -> Response:
        refused = allowed("replay.run")
        if refused is not None:
            return refused
        session_or_404(session_id)
        report = manager.debrief(session_id)
        if request.args.get("format") == "csv":
            return Response(debrief_csv(report), mimetype="text/csv",
                            headers={"Content-Disposition": f"attachment; filename=debrief-{session_id}.csv"})
        return _json(report, headers={"Content-Disposition": f"inline; filename=debrief-{session_id}.json"})

    return bp


def exercise_of_request(app: Flask | None = None) -> ReplaySession | None:
    """The session this browser joined (its cookie names one that still runs), or None: live operations."""
    manager: ReplayManager | None = (app or current_app).extensions.get(EXTENSION)
    sid = request.cookies.get(COOKIE)
    return manager.get(sid) if manager is not None and sid else None


def init_replay(server: Flask, settings: Any, runtime: Any, security: Any = None,
                journal_factory: Callable[[], Journal] | None = None) -> ReplayManager:
    """Register the replay API and the sessions of this app (the recorder's journal, or the folder read-only)."""
    from services.commands.service import area_names
    from services.feed.engine import core_config

    from services.journal.store import JournalConfig

    recorder = getattr(runtime, "recorder", None)
    journal = recorder.journal if recorder is not None else (journal_factory or (
        lambda: Journal(JournalConfig.from_settings(settings), writer=False)))()
    config = core_config(settings)
    manager = ReplayManager(journal, config=config, seed=settings.simulator_seed, territory=settings.territory,
                            timezone=config.timezone, names=area_names(settings.territory))
    server.extensions[EXTENSION] = manager
    server.register_blueprint(create_journal_api(journal, security))
    server.register_blueprint(create_replay_api(manager, journal, security))
    return manager
