"""The trainer's page: open a session, drive its clock, inject events, read the debrief; join as a trainee.

Thin adapters over services/replay/sessions.py (the app's `vigie.replay` manager): every trainer
action is authorised (`replay.run`) and audited like the API's; refusals become words.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from dash import ALL, Dash, Input, Output, Patch, State, ctx, html, no_update
from flask import current_app

from layouts import replay_ids as rid
from layouts.replay import clock_text, debrief_view, injections_list, local, session_list
from layouts.replay_i18n import rt
from layouts.replay_timeline import timeline_figure
from services.web.replay import COOKIE, EXTENSION
from services.replay.session import ReplayError
from services.replay.scenario import EVENTS, ScenarioError, ScenarioEvent, load_scenario
from services.replay.timeline import timeline


def manager() -> Any:
    """The app's replay sessions (None when replay is not wired on this server)."""
    return current_app.extensions.get(EXTENSION)


def trainer_refusal(target: str = "") -> str | None:
    """Why the current principal may not drive sessions (None: allowed; no security layer: allowed)."""
    if "vigie.security" not in current_app.extensions:
        return None
    from services.web.auth import authorize

    decision = authorize("replay.run", target=target or "/replay")
    return None if decision else decision.message


def who() -> str:
    """Who acts (without a security layer, in tests: one anonymous trainer)."""
    if "vigie.security" not in current_app.extensions:
        return "trainer"
    from services.web.auth import current_principal

    p = current_principal()
    return p.label if p is not None else "anonymous"


def audit(action: str, target: str, detail: str = "") -> None:
    if "vigie.security" in current_app.extensions:
        from services.web.auth import record

        record(action, "ok", target=target, detail=detail)


def parse_local(value: str | None, tz: ZoneInfo) -> float:
    """A `datetime-local` value in the territory's time zone, as epoch seconds."""
    try:
        return datetime.fromisoformat(value or "").replace(tzinfo=tz).timestamp()
    except ValueError:
        raise ReplayError(f"not a date and time: {str(value)[:40]!r}") from None


def message(lang: str, key: str, **fmt: Any) -> html.Span:
    return html.Span(rt(key, lang, **fmt), className="rp-error" if key == "msg.error" else "")


def register(app: Dash) -> None:
    """Register the replay page's callbacks on `app`."""

    @app.callback(Output(rid.SESSION, "data", allow_duplicate=True), Output(rid.MESSAGE, "children", allow_duplicate=True),
                  Input(rid.OPEN, "n_clicks"), State(rid.NAME, "value"), State(rid.START, "value"), State(rid.END, "value"),
                  State(rid.SPEED, "value"), State(rid.SCENARIO, "value"), State(rid.LANG, "data"), prevent_initial_call=True)
    def open_session(n, name, start, end, speed, scenario, lang):
        m, refused = manager(), trainer_refusal()
        if not n or m is None or refused:
            return no_update, (message(lang, "msg.error", error=refused) if refused else no_update)
        try:
            tz = ZoneInfo(m.timezone)
            s = m.create(name=(name or rt("open.name.default", lang))[:200], start=parse_local(start, tz), end=parse_local(end, tz),
                         trainer=who(), speed=float(speed or 1), scenario=load_scenario(scenario) if scenario else None,
                         scenario_file=scenario)
        except (ReplayError, ScenarioError) as err:
            return no_update, message(lang, "msg.error", error=str(err))
        audit("replay.create", s.id, f"{s.name}: {s.start:.0f}-{s.end:.0f} x{s.speed:g}")
        return s.id, message(lang, "msg.opened", name=s.name)

    @app.callback(Output(rid.SESSION, "data", allow_duplicate=True), Input({"type": rid.PICK, "id": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def pick(clicks):
        return ctx.triggered_id["id"] if any(clicks) and isinstance(ctx.triggered_id, dict) else no_update

    @app.callback(Output(rid.URL, "href"), Input({"type": rid.JOIN, "id": ALL}, "n_clicks"), Input(rid.JOIN_MINE, "n_clicks"),
                  State(rid.SESSION, "data"), prevent_initial_call=True)
    def join(clicks, mine, selected):
        sid = ctx.triggered_id["id"] if isinstance(ctx.triggered_id, dict) else selected
        s = manager().get(sid) if sid and manager() is not None else None
        if s is None or not (any(clicks or []) or mine):
            return no_update
        s.join(who())
        audit("replay.join", s.id, s.name)
        ctx.response.set_cookie(COOKIE, s.id, httponly=True, samesite="Lax", path="/")
        return "/"

    @app.callback(Output(rid.STATUS, "children"), Output(rid.CLOCK, "children"), Output(rid.INJECTIONS, "children"),
                  Output(rid.SESSIONS, "children"), Output(rid.TIMELINE, "figure"), Output(rid.SEEK, "min"), Output(rid.SEEK, "max"),
                  Output(rid.SPEED_NOW, "value"), Input(rid.TICK, "n_intervals"), Input(rid.SESSION, "data"), State(rid.LANG, "data"))
    def tick(n, sid, lang):
        m = manager()
        s = m.get(sid) if m is not None and sid else None
        sessions = session_list(m.list(), lang, ZoneInfo(m.timezone), trainer_refusal() is None) if m is not None and (n or 0) % 5 == 0 else no_update
        if s is None:
            return rt("session.none", lang), "", [], sessions, no_update, 0, 1, None
        st, tz = s.status(), ZoneInfo(s.timezone)
        fresh = ctx.triggered_id == rid.SESSION or (n or 0) % 15 == 0
        figure = timeline_figure({**timeline(s.journal, s.start, s.end), "injections": st["injections"]}, s.position, tz, lang) if fresh else _line(s.position, tz)
        speed = s.speed if ctx.triggered_id == rid.SESSION else no_update
        return (f"{rt('session.title', lang)} « {s.name} »", clock_text(st, s.timezone, lang), injections_list(st["injections"], lang, tz),
                sessions, figure, s.start, s.end, speed)

    @app.callback(Output(rid.MESSAGE, "children", allow_duplicate=True), Output(rid.SESSION, "data", allow_duplicate=True),
                  Input(rid.PLAY, "n_clicks"), Input(rid.PAUSE, "n_clicks"), Input(rid.SPEED_NOW, "value"), Input(rid.SEEK, "value"),
                  Input(rid.TIMELINE, "clickData"), Input(rid.END_SESSION, "n_clicks"), State(rid.SESSION, "data"), State(rid.LANG, "data"),
                  prevent_initial_call=True)
    def control(_play, _pause, speed, seek, click, _end, sid, lang):
        m, refused = manager(), trainer_refusal(sid or "")
        s = m.get(sid) if m is not None and sid else None
        if s is None or refused:
            return (message(lang, "msg.error", error=refused) if refused else no_update), no_update
        try:
            return drive(s, ctx.triggered_id, speed, seek, click, lang)
        except ReplayError as err:
            return message(lang, "msg.error", error=str(err)), no_update

    @app.callback(Output(rid.MESSAGE, "children", allow_duplicate=True), Input(rid.INJECT, "n_clicks"), State(rid.INJECT_EVENT, "value"),
                  State(rid.INJECT_TARGET, "value"), State(rid.INJECT_MINUTES, "value"), State(rid.SESSION, "data"),
                  State(rid.LANG, "data"), prevent_initial_call=True)
    def inject(n, event, target, minutes, sid, lang):
        m, refused = manager(), trainer_refusal(sid or "")
        s = m.get(sid) if m is not None and sid else None
        if not n or s is None or refused or event not in EVENTS:
            return message(lang, "msg.error", error=refused) if refused else no_update
        try:
            ev = msgspec.convert({"at": max(0.0, s.position - s.start), "event": event, "target": (target or "").strip() or None,
                                  "minutes": minutes or None}, ScenarioEvent)
        except msgspec.ValidationError as err:
            return message(lang, "msg.error", error=str(err))
        done = s.inject(ev, who())
        audit("replay.inject", s.id, f"{event} {target or ''}: {done['result'] or done['error']}")
        if done["error"]:
            return message(lang, "msg.error", error=done["error"])
        return message(lang, "msg.injected", event=rt(f"event.{event}", lang), name=done["target_name"], minutes=done["minutes"])

    @app.callback(Output(rid.DEBRIEF, "children"), Input(rid.DEBRIEF_REFRESH, "n_clicks"), Input(rid.SESSION, "data"),
                  State(rid.LANG, "data"))
    def debrief(_n, sid, lang):
        m = manager()
        report = m.debrief(sid) if m is not None and sid and trainer_refusal(sid) is None else None
        return debrief_view(report, lang, ZoneInfo(m.timezone), sid) if report is not None else []


def drive(s: Any, trigger: Any, speed: Any, seek: Any, click: Any, lang: str) -> tuple[Any, Any]:
    """Apply one control of the trainer to a session; return (message, session id)."""
    if trigger == rid.PLAY:
        s.play()
    elif trigger == rid.PAUSE:
        s.pause()
    elif trigger == rid.SPEED_NOW and speed and float(speed) != s.speed:
        s.set_speed(float(speed))
    elif trigger in (rid.SEEK, rid.TIMELINE):
        t = seek if trigger == rid.SEEK else ((click or {}).get("points") or [{}])[0].get("customdata")
        if t is None:
            return no_update, no_update
        return message(lang, "msg.sought", s=s.seek(float(t), who())), no_update
    elif trigger == rid.END_SESSION:
        manager().close(s.id)
        audit("replay.end", s.id, s.name)
        return message(lang, "msg.ended"), None
    else:
        return no_update, no_update
    audit("replay.control", s.id, f"{trigger} x{s.speed:g} at {local(s.position, ZoneInfo(s.timezone), '%H:%M:%S')}")
    return no_update, no_update


def _line(position: float, tz: ZoneInfo) -> Patch:
    """Move the timeline's position line only (a partial update)."""
    patch = Patch()
    x = datetime.fromtimestamp(position, tz)
    patch["layout"]["shapes"][0]["x0"] = x
    patch["layout"]["shapes"][0]["x1"] = x
    return patch
