"""The trainer's page from plain data: open a session over a recorded period, drive its clock on a timeline,
inject events, read the debrief; and, for everyone, the running sessions to join as a trainee."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import dcc, html

from . import ids
from . import replay_ids as rid
from .i18n import t
from .palette import PRIORITY_STYLE, css_variables
from .replay_i18n import rt
from .shell import header

SPEEDS = (1, 2, 5, 10, 60)
EVENTS = ("pipe_burst", "cabinet_trip", "traffic_incident", "supervisor_silent")


@dataclass(frozen=True, slots=True)
class ReplayPageData:
    """What the page shows, read by the dashboard module."""

    lang: str
    default_lang: str
    theme: str
    territory_name: str
    timezone: str
    span: tuple[float, float] | None
    sessions: list[dict] = field(default_factory=list)
    scenarios: list[dict] = field(default_factory=list)
    trainer: bool = True
    selected: str | None = None
    config: dict = field(default_factory=dict)  # the live module's page config: the header clock in the territory's time


def local(ts: float, tz: ZoneInfo, fmt: str = "%d/%m %H:%M") -> str:
    """A journal time as the territory's local time."""
    return datetime.fromtimestamp(ts, tz).strftime(fmt)


def clock_text(status: dict, timezone: str, lang: str) -> str:
    """A session's clock as the banner and the trainer read it: time, speed, state."""
    return f"{local(status['position'], ZoneInfo(timezone), '%d/%m %H:%M:%S')} · ×{status['speed']:g} · {rt('state.' + status['state'], lang)}"


def input_value(ts: float, tz: ZoneInfo) -> str:
    """A time as a `datetime-local` input value."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%dT%H:%M")


def open_form(d: ReplayPageData) -> html.Section:
    """Name, period, speed and scenario of a new session."""
    tz = ZoneInfo(d.timezone)
    if d.span is None:
        return html.Section(className="rp-card", children=[html.H2(rt("open.title", d.lang)), html.P(rt("open.empty", d.lang))])
    start, end = max(d.span[0], d.span[1] - 3 * 3600), d.span[1]
    field_ = lambda label, control: html.Label(className="rp-field", children=[html.Span(label), control])  # noqa: E731
    return html.Section(className="rp-card", children=[
        html.H2(rt("open.title", d.lang)),
        html.P(rt("open.recorded", d.lang, start=local(d.span[0], tz), end=local(d.span[1], tz)), className="rp-muted"),
        field_(rt("open.name", d.lang), dcc.Input(id=rid.NAME, value=rt("open.name.default", d.lang), maxLength=200, debounce=True)),
        html.Div(className="rp-row", children=[
            field_(rt("open.start", d.lang), dcc.Input(id=rid.START, type="datetime-local", value=input_value(start, tz))),
            field_(rt("open.end", d.lang), dcc.Input(id=rid.END, type="datetime-local", value=input_value(end, tz))),
        ]),
        field_(rt("open.speed", d.lang), dcc.RadioItems(id=rid.SPEED, options=[{"label": f"×{s}", "value": s} for s in SPEEDS],
                                                       value=10, inline=True, className="rp-speeds")),
        field_(rt("open.scenario", d.lang), dcc.Dropdown(
            id=rid.SCENARIO, clearable=True, placeholder=rt("open.scenario.none", d.lang),
            options=[{"label": f"{s['name']} ({s['events']})", "value": s["file"]} for s in d.scenarios if "error" not in s])),
        html.Button(rt("open.go", d.lang), id=rid.OPEN, className="rp-button primary", n_clicks=0, disabled=not d.trainer),
        html.P(rt("open.forbidden", d.lang), className="rp-muted") if not d.trainer else None,
    ])


def session_list(sessions: list[dict], lang: str, tz: ZoneInfo, trainer: bool) -> list:
    """The running sessions: join as a trainee, or drive (trainers)."""
    if not sessions:
        return [html.P(rt("sessions.none", lang), className="rp-muted")]
    out = []
    for s in sessions:
        out.append(html.Div(className="rp-session", children=[
            html.Div([html.Strong(s["name"]), html.Span(f" · {local(s['start'], tz)} → {local(s['end'], tz, '%H:%M')} · ×{s['speed']:g}"),
                      html.Span(f" · {rt('state.' + s['state'], lang)} · {rt('sessions.trainees', lang, n=len(s['trainees']))}",
                                className="rp-muted")]),
            html.Div(className="rp-session-actions", children=[
                html.Button(rt("sessions.pick", lang), id={"type": rid.PICK, "id": s["id"]}, className="rp-button", n_clicks=0)
                if trainer else None,
                html.Button(rt("sessions.join", lang), id={"type": rid.JOIN, "id": s["id"]}, className="rp-button", n_clicks=0),
            ]),
        ]))
    return out


def session_panel(lang: str) -> html.Section:
    """The selected session: clock, controls, timeline, injection, debrief (filled by the callbacks)."""
    return html.Section(className="rp-card rp-session-panel", children=[
        html.Div(className="rp-session-head", children=[
            html.H2(id=rid.STATUS, children=rt("session.none", lang)),
            html.Span(id=rid.CLOCK, className="rp-clock"),
        ]),
        html.Div(className="rp-controls", children=[
            html.Button("▶ " + rt("play", lang), id=rid.PLAY, className="rp-button primary", n_clicks=0),
            html.Button("❚❚ " + rt("pause", lang), id=rid.PAUSE, className="rp-button", n_clicks=0),
            dcc.RadioItems(id=rid.SPEED_NOW, options=[{"label": f"×{s}", "value": s} for s in SPEEDS], value=None, inline=True,
                           className="rp-speeds"),
            html.Button(rt("join_mine", lang), id=rid.JOIN_MINE, className="rp-button", n_clicks=0),
            html.Button(rt("end", lang), id=rid.END_SESSION, className="rp-button danger", n_clicks=0),
        ]),
        html.H3(rt("timeline.title", lang)),
        dcc.Graph(id=rid.TIMELINE, config={"displayModeBar": False, "responsive": True}, className="rp-timeline",
                  figure={"data": [], "layout": {"height": 230}}),
        dcc.Slider(id=rid.SEEK, min=0, max=1, step=1, value=0, updatemode="mouseup", marks=None, allow_direct_input=False,
                   className="rp-seek"),
        html.Div(className="rp-columns", children=[
            html.Div(className="rp-inject", children=[
                html.H3(rt("inject.title", lang)),
                html.Div(className="rp-row", children=[
                    dcc.Dropdown(id=rid.INJECT_EVENT, clearable=False, value=EVENTS[0], className="rp-event",
                                 options=[{"label": rt(f"event.{e}", lang), "value": e} for e in EVENTS]),
                    dcc.Input(id=rid.INJECT_TARGET, placeholder=rt("inject.target", lang), maxLength=128, className="rp-target"),
                    dcc.Input(id=rid.INJECT_MINUTES, type="number", min=1, max=1440, step=1, placeholder=rt("inject.minutes", lang),
                              className="rp-minutes"),
                    html.Button(rt("inject.go", lang), id=rid.INJECT, className="rp-button", n_clicks=0),
                ]),
                html.Ul(id=rid.INJECTIONS, className="rp-injections"),
            ]),
            html.Div(className="rp-debrief", children=[
                html.Div(className="rp-debrief-head", children=[
                    html.H3(rt("debrief.title", lang)),
                    html.Button(rt("debrief.refresh", lang), id=rid.DEBRIEF_REFRESH, className="rp-button", n_clicks=0),
                ]),
                html.Div(id=rid.DEBRIEF),
            ]),
        ]),
    ])


def injections_list(injections: list[dict], lang: str, tz: ZoneInfo) -> list:
    """Scheduled and fired events, with what was done or why not."""
    if not injections:
        return [html.Li(rt("inject.none", lang), className="rp-muted")]
    out = []
    for i in injections:
        state = "error" if i["error"] else ("fired" if i["fired"] else "pending")
        what = i["error"] or (rt("inj.what", lang, name=i["target_name"] or i["target"], minutes=i["minutes"]) if i["target_name"] else "")
        out.append(html.Li(className=f"inj-{state}", children=[
            html.Span(local(i["at"], tz, "%H:%M:%S"), className="num"), " ", html.Strong(rt(f"event.{i['event']}", lang)),
            f" · {rt('inj.' + state, lang)}", html.Div(what or i.get("note") or "", className="rp-muted")]))
    return out


def _wait(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def debrief_view(report: dict, lang: str, tz: ZoneInfo, session_id: str) -> list:
    """The debrief in short: the figures, the alarms that waited longest or were never acknowledged, the commands, exports."""
    s = report["summary"]
    tiles = [(rt("debrief.annunciated", lang), s["annunciated"]), (rt("debrief.acked", lang), s["acknowledged"]),
             (rt("debrief.never", lang), s["never_acknowledged"]), (rt("debrief.median", lang), _wait(s["median_s"])),
             (rt("debrief.p90", lang), _wait(s["p90_s"])), (rt("debrief.commands", lang), f"{s['commands']} ({s['commands_failed']} ✗)")]
    rows = sorted(report["alarms"], key=lambda r: (r["acked_at"] is not None, -(r["time_to_ack_s"] or 0)))[:12]
    table = html.Table(className="rp-table", children=[
        html.Thead(html.Tr([html.Th(rt("debrief.priority", lang)), html.Th(rt("debrief.alarm", lang)), html.Th(rt("debrief.wait", lang)),
                            html.Th(rt("debrief.by", lang)), html.Th(rt("debrief.reference", lang))])),
        html.Tbody([html.Tr([
            html.Td(html.Span(PRIORITY_STYLE.get(r["priority"], {}).get("shape", ""), className=f"prio-{r['priority']}")),
            html.Td([html.Div(r["message"] or r["code"]), html.Div(r["asset"], className="rp-muted")]),
            html.Td(_wait(r["time_to_ack_s"]) if r["acked_at"] is not None else "✗", className="num"),
            html.Td(r["acked_by"] or "—"), html.Td(_wait(r.get("reference_s") if r.get("reference_s") is not None else r.get("on_duty_s")),
                                                  className="num")]) for r in rows]),
    ])
    commands = [html.Li([html.Span(local(c["requested_at"], tz, "%H:%M:%S"), className="num"), f" {c['action']} · {c['label']} · ",
                         html.Strong(c["status"])]) for c in report["commands"][-8:]]
    comparison = report.get("comparison", {})
    ref = comparison.get("reference") or comparison.get("on_duty")
    ref_line = None
    if ref is not None:
        label = rt("debrief.reference", lang) if "reference" in comparison else rt("debrief.on_duty", lang)
        ref_line = html.P(f"{label} : {rt('debrief.median', lang).lower()} {_wait(ref.get('median_s'))}"
                          + (f" · {rt('debrief.missing', lang, n=len(ref['commands_missing']))}" if ref.get("commands_missing") else ""),
                          className="rp-muted")
    base = f"/api/v1/replay/sessions/{session_id}/debrief"
    return [
        html.Div(className="rp-tiles", children=[html.Div(className="rp-tile", children=[html.Span(str(v), className="num rp-tile-v"),
                                                                                           html.Span(k)]) for k, v in tiles]),
        ref_line, table, html.Ul(commands, className="rp-commands") if commands else None,
        html.Div(className="rp-exports", children=[html.A(rt("debrief.json", lang), href=base, target="_blank"),
                                                   html.A(rt("debrief.csv", lang), href=base + "?format=csv")]),
    ]


def replay_page(d: ReplayPageData) -> html.Div:
    """The page."""
    tz = ZoneInfo(d.timezone)
    return html.Div(className=f"vigie-page page-replay theme-{d.theme}", style=css_variables(d.theme), children=[
        dcc.Store(id=ids.CONFIG, data=d.config),  # the header's clock and badges, as on every other page
        dcc.Store(id=ids.PAGE, data={"key": "replay", "domains": [], "layers": [], "kpis": [], "alarm_rows": 0, "trends": []}),
        dcc.Store(id=rid.LANG, data=d.lang),
        dcc.Store(id=rid.SESSION, data=d.selected),
        dcc.Location(id=rid.URL, refresh=True),
        dcc.Interval(id=rid.TICK, interval=1000),
        header(d.lang, d.theme, "replay", d.territory_name, d.default_lang),
        html.Div(id=rid.MESSAGE, className="rp-message", role="status"),
        html.Main(className="rp-main", children=[
            html.Div(className="rp-side", children=[
                open_form(d),
                html.Section(className="rp-card", children=[html.H2(rt("sessions.title", d.lang)),
                                                            html.Div(id=rid.SESSIONS, children=session_list(d.sessions, d.lang, tz, d.trainer))]),
            ]),
            # a trainee's page keeps the panel's components, hidden: the session list's tick writes to them (dash-renderer
            # logged "A nonexistent object was used in an Output" every second without them)
            session_panel(d.lang) if d.trainer else html.Div(session_panel(d.lang), hidden=True),
        ]),
    ])


__all__ = ["ReplayPageData", "replay_page", "session_list", "injections_list", "debrief_view", "local", "t"]
