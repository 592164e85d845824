"""The command form's callbacks: domain, picks, map selection, live preview, the confirmation dialog, sending.

Thin adapters: each reads its inputs, calls the command service, and maps the answer (or the
refusal, in words) to outputs. Authorisation is checked here, on the server, for every send.
"""
from __future__ import annotations

import uuid

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from layouts import commands_ids as cid
from layouts.commands_i18n import command_words, ct, number, where
from layouts.commands_panel import ACTIONS, PICK_KINDS, action_options, confirmation, pick_kind_options
from services.commands.service import CommandConflict, CommandInvalid, CommandsUnavailable, ConfirmationNeeded

from . import water_isolation
from .commands_form import current_commands, form_params, next_selection, request_of

PARAM_INPUTS = (cid.LEVEL, cid.ON, cid.OVERRIDE, cid.POSITION, cid.RUNNING, cid.BAR, cid.SIGNAL_PLAN, cid.DIM_LEVEL, cid.DIM_FROM, cid.DIM_TO)
PARAM_PROPS = {cid.ON: "value", cid.RUNNING: "value"}
EMPTY = {"type": "FeatureCollection", "features": []}
REFUSALS = (CommandInvalid, ConfirmationNeeded, CommandConflict, CommandsUnavailable)


def _params(action: str | None, values: tuple) -> dict:
    return form_params(action, dict(zip(PARAM_INPUTS, values)))


def _authorize(domain: str, target: str):
    """The security layer's decision (refusals are audited), or None when the app runs without it (tests)."""
    from flask import current_app

    from services.web.auth import EXTENSION, authorize

    return authorize("command.send", domain, target=target) if EXTENSION in current_app.extensions else None


def _actor():
    from services.commands.service import Actor
    from services.web.auth import client_ip, current_principal

    p = current_principal()
    return Actor(p.label, str(p.role), str(p.kind), client_ip()) if p is not None else Actor("anonymous", kind="anonymous", ip=client_ip())


def register(app: Dash) -> None:
    """Register the form's callbacks on `app` (and the water isolation panel's)."""
    water_isolation.register(app)
    app.clientside_callback(ClientsideFunction("vigie_cmd", "params"), Output(cid.PARAM_ROWS, "className"), Input(cid.ACTION, "value"))

    @app.callback(Output(cid.ACTION, "data"), Output(cid.ACTION, "value"), Output(cid.PICK_KIND, "data"), Output(cid.PICK_KIND, "value"),
                  *[Output(cid.LAYER[d], "url") for d in ACTIONS], Input(cid.DOMAIN, "value"), State(cid.LANG, "data"),
                  prevent_initial_call=True)
    def switch_domain(domain, lang):
        urls = [f"/vigie/geo/{d}" if d == domain else None for d in ACTIONS]
        return action_options(domain, lang), ACTIONS[domain][0], pick_kind_options(domain, lang), PICK_KINDS[domain][0], *urls

    @app.callback(Output(cid.PICK, "data"), Output(cid.PICK, "value"), Input(cid.PICK_KIND, "value"), State(cid.DOMAIN, "value"))
    def pick_choices(kind, domain):
        service = current_commands()
        try:
            return (service.choices(domain, kind) if service and kind else []), None
        except CommandsUnavailable:
            return [], None

    @app.callback(Output(cid.SELECTION, "data"), *[Input(cid.LAYER[d], "clickData") for d in ACTIONS], Input(cid.DRAW, "geojson"),
                  Input(cid.PICK, "value"), Input(cid.CLEAR, "n_clicks"), Input(cid.DOMAIN, "value"), State(cid.SELECTION, "data"),
                  prevent_initial_call=True)
    def select(_l, _w, _t, _draw, _pick, _clear, domain, selection):
        trigger = ctx.triggered_id
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        return next_selection(trigger, value, selection, domain)

    @app.callback(Output(cid.SUMMARY, "children"), Output(cid.ERROR, "children"), Output(cid.REVIEW, "disabled"), Output(cid.PLAN, "data"),
                  Output(cid.SELECTED_LAYER, "data"), Output(f"{cid.SELECTED_LAYER}-lines", "data"), Output(cid.MAP, "viewport"),
                  Input(cid.SELECTION, "data"), Input(cid.ACTION, "value"), *[Input(i, PARAM_PROPS.get(i, "value")) for i in PARAM_INPUTS],
                  State(cid.DOMAIN, "value"), State(cid.LANG, "data"))
    def preview(selection, action, *rest):
        *values, domain, lang = rest
        service = current_commands()
        if service is None or not selection or not (selection.get("ids") or selection.get("polygon")) or action not in (ACTIONS.get(domain) or ()):
            return ct("selection.none", lang), "", True, None, EMPTY, EMPTY, no_update
        hint = water_isolation.form_hint(selection, domain, action, _params(action, tuple(values)), lang)
        if hint is not None:  # a pipe (isolated through its valves), a valve's opening not given yet: words, not an error
            return hint[0], "", True, None, hint[1], hint[2], no_update
        try:
            plan = service.preview(request_of(selection, domain, action, _params(action, tuple(values))), geo=True)
        except REFUSALS as err:
            return ct("selection.none", lang) if not selection.get("ids") else "", str(err), True, None, EMPTY, EMPTY, no_update
        points, lines = plan.pop("points"), plan.pop("lines")
        summary = f"{where(plan['label'], lang)} — {ct('confirm.assets', lang, n=number(plan['count'], lang, 0))}"
        fit = ctx.triggered_id == cid.SELECTION and plan.get("bbox") and selection.get("origin") == "pick"
        box = plan.get("bbox") or (0, 0, 0, 0)
        view = {"bounds": [[box[1], box[0]], [box[3], box[2]]], "transition": "flyToBounds",
                "options": {"maxZoom": 17, "padding": [40, 40]}} if fit else no_update
        return summary, "", False, plan, points, lines, view

    @app.callback(Output(cid.MODAL, "opened"), Output(cid.MODAL_BODY, "children"), Output(cid.KEY, "data"),
                  Output(f"{cid.REASON}-row", "className"), Output(cid.REASON, "value"), Output(cid.SECOND, "checked"),
                  Input(cid.REVIEW, "n_clicks"), Input(cid.MODAL_CLOSE, "n_clicks"), State(cid.PLAN, "data"), State(cid.LANG, "data"),
                  prevent_initial_call=True)
    def dialog(_review, _close, plan, lang):
        if ctx.triggered_id == cid.MODAL_CLOSE or not plan:
            return False, no_update, no_update, no_update, no_update, no_update
        body = confirmation(plan, command_words(plan, lang), lang)
        return True, body, uuid.uuid4().hex, "cmd-reason-row" + (" shown" if plan["large"] else ""), "", False

    @app.callback(Output(cid.MODAL, "opened", allow_duplicate=True), Output(cid.NOTICE, "children"), Output(cid.FOCUS, "data"),
                  Output(f"{cid.MODAL}-error", "children"), Input(cid.SEND, "n_clicks"), State(cid.SELECTION, "data"),
                  State(cid.DOMAIN, "value"), State(cid.ACTION, "value"), *[State(i, PARAM_PROPS.get(i, "value")) for i in PARAM_INPUTS],
                  State(cid.REASON, "value"), State(cid.SECOND, "checked"), State(cid.KEY, "data"), State(cid.LANG, "data"),
                  prevent_initial_call=True)
    def send(_n, selection, domain, action, *rest):
        *values, reason, second, key, lang = rest
        req = request_of(selection, domain, action, _params(action, tuple(values)), reason=reason, confirm=second, key=key)
        decision = _authorize(domain, ",".join(req.selection.ids)[:200] or "drawn area")
        if decision is not None and not decision:
            return no_update, no_update, no_update, decision.message
        try:
            doc, existed = current_commands().submit(req, _actor())
        except REFUSALS as err:
            return no_update, no_update, no_update, str(err)
        return False, ct("sent.again" if existed else "sent.ok", lang, id=doc["id"]), doc["id"], ""

    @app.callback(Output(cid.NOTICE, "children", allow_duplicate=True), Output(cid.FOCUS, "data", allow_duplicate=True),
                  Input(cid.cancel(ALL), "n_clicks"), State(cid.LANG, "data"), prevent_initial_call=True)
    def cancel(clicks, lang):
        if not ctx.triggered_id or not any(c for c in clicks or () if c):
            return no_update, no_update
        command_id = ctx.triggered_id["id"]
        service = current_commands()
        domain = service.domain_of(command_id)
        decision = _authorize(domain or "", command_id)
        if decision is not None and not decision:
            return decision.message, no_update
        try:
            doc, _ = service.cancel(command_id, _actor())
        except REFUSALS as err:
            return str(err), no_update
        return ct("sent.ok", lang, id=doc["id"]), doc["id"]
