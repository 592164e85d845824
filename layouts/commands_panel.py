"""The command form (domain, action, parameters, selection) and the confirmation dialog, from plain data."""
from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import dcc, html

from . import commands_ids as cid
from .commands_i18n import ct, duration, large_words, number, value_word, where
from .i18n import t
from .water_isolation import PANEL as ISOLATION_PANEL
from .water_isolation import wt

ACTIONS = {
    "lighting": ("set_dimming", "switch", "release", "set_schedule"),
    "water": ("valve", "pump", "pump_setpoint"),
    "traffic": ("signal_plan", "close_segment", "reopen_segment"),
}
PICK_KINDS = {
    "lighting": ("district", "cabinet", "street", "commune", "group"),
    "water": ("asset",),
    "traffic": ("asset", "corridor", "district"),
}
OVERRIDES_S = (900, 1800, 3600, 7200, 14400, 28800)
PLANS = ("normal", "peak", "greenWave", "flashingAmber", "auto")


def _row(label: str, control: Any, input_id: str) -> html.Div:
    return html.Div([html.Label(label, className="cmd-label", htmlFor=input_id), control], id=f"{input_id}-row", className="cmd-field")


def param_fields(lang: str) -> html.Div:
    """Every parameter input; the action shows only its own (the rest stay hidden)."""
    return html.Div(id=cid.PARAM_ROWS, className="cmd-params", children=[
        _row(ct("param.level", lang), dmc.NumberInput(id=cid.LEVEL, min=0, max=100, step=5, value=50, size="sm"), cid.LEVEL),
        _row(ct("param.on", lang), dmc.SegmentedControl(id=cid.ON, value="false", size="sm", data=[
            {"value": "true", "label": ct("param.on.true", lang)}, {"value": "false", "label": ct("param.on.false", lang)}]), cid.ON),
        _row(ct("param.position", lang), dmc.NumberInput(id=cid.POSITION, min=0, max=100, step=10, value=None, size="sm",
                                                         placeholder=wt("position.placeholder", lang)), cid.POSITION),
        _row(ct("param.running", lang), dmc.SegmentedControl(id=cid.RUNNING, value="stop", size="sm", data=[
            {"value": v, "label": ct(f"param.running.{v}", lang)} for v in ("start", "stop", "auto")]), cid.RUNNING),
        _row(ct("param.bar", lang), dmc.NumberInput(id=cid.BAR, min=1, max=10, step=0.1, decimalScale=1, value=4, size="sm"), cid.BAR),
        _row(ct("param.plan", lang), dmc.Select(id=cid.SIGNAL_PLAN, value="greenWave", size="sm", allowDeselect=False, data=[
            {"value": p, "label": ct(f"plan.{p}", lang)} for p in PLANS]), cid.SIGNAL_PLAN),
        _row(ct("param.dim_level", lang), dmc.NumberInput(id=cid.DIM_LEVEL, min=0, max=100, step=5, value=50, size="sm"), cid.DIM_LEVEL),
        _row(ct("param.dim_from", lang), dmc.TextInput(id=cid.DIM_FROM, value="23:00", size="sm"), cid.DIM_FROM),
        _row(ct("param.dim_to", lang), dmc.TextInput(id=cid.DIM_TO, value="05:00", size="sm"), cid.DIM_TO),
        _row(ct("param.override", lang), dmc.Select(id=cid.OVERRIDE, value="7200", size="sm", allowDeselect=False, data=[
            {"value": "0", "label": ct("param.override.none", lang)}, *[{"value": str(s), "label": duration(s, lang)} for s in OVERRIDES_S]]),
            cid.OVERRIDE),
    ])


def action_options(domain: str, lang: str) -> list[dict]:
    """The actions of a domain, for the action select."""
    return [{"value": a, "label": ct(f"action.{a}", lang)} for a in ACTIONS.get(domain, ())]


def pick_kind_options(domain: str, lang: str) -> list[dict]:
    """How assets may be picked in a domain (cabinet, street, district...)."""
    return [{"value": k, "label": ct(f"pick.{k}", lang)} for k in PICK_KINDS.get(domain, ())]


def command_form(lang: str, domain: str = "lighting", action: str | None = None) -> html.Section:
    """The form on the right of the map: what to do, to what."""
    action = action if action in ACTIONS[domain] else ACTIONS[domain][0]
    return html.Section(className="cmd-form", children=[
        html.H2(ct("new", lang), className="panel-title"),
        dmc.SegmentedControl(id=cid.DOMAIN, value=domain, fullWidth=True, size="sm",
                             data=[{"value": d, "label": ct(f"domain.{d}", lang)} for d in ACTIONS]),
        _row(ct("action", lang), dmc.Select(id=cid.ACTION, data=action_options(domain, lang), value=action, size="sm",
                                            allowDeselect=False), cid.ACTION),
        param_fields(lang),
        html.Div(className="cmd-pick", children=[
            dmc.Select(id=cid.PICK_KIND, data=pick_kind_options(domain, lang), value=PICK_KINDS[domain][0], size="sm",
                       allowDeselect=False, label=ct("pick.kind", lang), w=130),
            dmc.Select(id=cid.PICK, data=[], value=None, size="sm", searchable=True, clearable=True, limit=60,
                       label=ct("pick.value", lang), placeholder=ct("pick.placeholder", lang), nothingFoundMessage="—", style={"flex": 1}),
        ]),
        html.Div(className="cmd-selection-head", children=[
            html.Span(ct("selection", lang), className="cmd-label"),
            html.Button(ct("selection.clear", lang), id=cid.CLEAR, n_clicks=0, className="cmd-link-button"),
        ]),
        html.Div(ct("selection.none", lang), id=cid.SUMMARY, className="cmd-summary", **{"aria-live": "polite"}),
        html.Div(id=cid.ERROR, className="cmd-error", role="alert"),
        html.Section(id=ISOLATION_PANEL, className="wiso-panel", **{"aria-live": "polite"}),
        html.Button(ct("review", lang), id=cid.REVIEW, n_clicks=0, disabled=True, className="cmd-primary"),
        html.Div(id=cid.NOTICE, className="cmd-notice", **{"aria-live": "polite"}),
    ])


def _counts(counts: dict[str, int], lang: str) -> str:
    return " · ".join(f"{number(n, lang, 0)} {value_word(k, lang)}" for k, n in counts.items())


def current_lines(current: dict[str, Any], lang: str) -> list[str]:
    """The targets' state now, one line per measured value."""
    lines = [f"{t(f'value.{key}', lang)} : {_counts(v, lang)}" for key, v in current.items() if isinstance(v, dict) and v]
    for key, label in (("level_pct", "current.level"), ("position_pct", "current.position"), ("setpoint_bar", "current.setpoint")):
        if current.get(key) is not None:
            lines.append(ct(label, lang, v=number(current[key], lang)))
    if current.get("unknown"):
        lines.append(ct("current.unknown", lang, n=number(current["unknown"], lang, 0)))
    return lines


def effect_lines(plan: dict[str, Any], lang: str) -> list[str]:
    """The expected effect in words (power, downstream network, roads, override)."""
    e, a, out = plan["effect"], plan["action"], []
    if "lamps" in e and "groups" not in e:
        out.append(ct("effect.lamps", lang, n=number(e["lamps"], lang, 0), c=e["cabinets"], d=e["districts"]))
        if "power_after_w" in e:
            kw = lambda w: number(w / 1000, lang, 1)  # noqa: E731
            saved = e["saved_w"]
            out.append(ct("effect.power", lang, now=kw(e["power_now_w"]), after=kw(e["power_after_w"])) + " — " +
                       ct("effect.saved" if saved >= 0 else "effect.more", lang, saved=kw(abs(saved))))
        if e.get("dark"):
            out.append(ct("effect.dark", lang, n=number(e["dark"], lang, 0)))
        if e.get("faulty"):
            out.append(ct("effect.faulty", lang, n=number(e["faulty"], lang, 0)))
    elif "groups" in e:
        out.append(ct("effect.groups", lang, n=e["groups"], lamps=number(e["lamps"], lang, 0)))
    elif a == "valve":
        out.append(ct("effect.valve", lang, pos=number(e["position_pct"], lang, 0), pipes=e["downstream_pipes"],
                      km=number(e["pipe_km"], lang, 2), sensors=e["downstream_sensors"]))
    elif a in ("pump", "pump_setpoint"):
        out.append(ct("effect.pump", lang, n=e["pumps"], zones=e["zones"], sensors=e["zone_sensors"]))
    elif a == "signal_plan":
        out.append(ct("effect.signals", lang, n=e["junctions"], segments=e["segments"]))
    else:
        out.append(ct("effect.segments", lang, n=e["segments"], vpd=number(e["vehicles_per_day"], lang, 0), km=number(e["road_km"], lang, 2)))
    if plan["params"].get("override_s"):
        out.append(ct("effect.override", lang, d=duration(plan["params"]["override_s"], lang)))
    elif a in ("set_dimming", "switch", "pump", "signal_plan") and not plan["params"].get("auto") and plan["params"].get("plan") != "auto":
        out.append(ct("effect.permanent", lang))
    return out


def confirmation(plan: dict[str, Any], words: str, lang: str) -> list:
    """The dialog's body: targets, current state, expected effect, and for a large effect its rules."""
    body = [
        html.H3(f"{words} — {where(plan['label'], lang)}", className="cmd-confirm-what"),
        html.Section(className="cmd-confirm-block", children=[
            html.H4(ct("confirm.targets", lang)),
            html.P([f"{ct('confirm.assets', lang, n=number(plan['count'], lang, 0))} · {ct('confirm.supervisor', lang)} {plan['supervisor']} · ",
                    html.Span(ct("confirm.map", lang), className="cmd-muted")]),
        ]),
        html.Section(className="cmd-confirm-block", children=[
            html.H4(ct("confirm.current", lang)), *[html.P(x) for x in current_lines(plan["current"], lang)]]),
        html.Section(className="cmd-confirm-block", children=[
            html.H4(ct("confirm.effect", lang)), *[html.P(x) for x in effect_lines(plan, lang)]]),
    ]
    if plan["large"]:
        body.append(html.Section(id=cid.LARGE_BOX, className="cmd-large", role="alert", children=[
            html.H4([html.Span("△ ", className="cmd-large-shape"), ct("confirm.large", lang)]),
            html.Ul([html.Li(large_words(x, lang)) for x in plan["large"]]),
        ]))
    return body


def confirm_modal(lang: str) -> dmc.Modal:
    """The confirmation dialog (its body is filled from the preview)."""
    return dmc.Modal(id=cid.MODAL, opened=False, size="lg", title=ct("confirm.title", lang), zIndex=2000, yOffset="3vh", children=[
        html.Div(id=cid.MODAL_BODY),
        html.Div(id=f"{cid.REASON}-row", className="cmd-reason-row", children=[
            dmc.Textarea(id=cid.REASON, label=ct("confirm.reason", lang), autosize=True, minRows=1),
            dmc.Checkbox(id=cid.SECOND, label=ct("confirm.second", lang), checked=False, mt="sm"),
        ]),
        html.Div(id=f"{cid.MODAL}-error", className="cmd-error", role="alert"),
        html.Div(className="cmd-modal-actions", children=[
            html.Button(ct("cancel", lang), id=cid.MODAL_CLOSE, n_clicks=0, className="cmd-secondary"),
            html.Button(ct("send", lang), id=cid.SEND, n_clicks=0, className="cmd-primary"),
        ]),
        dcc.Store(id=cid.KEY),
    ])
