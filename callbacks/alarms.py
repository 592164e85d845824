"""The alarm console's callbacks: thin adapters from clicks to `perform()` (authorised, audited), and back to words."""
from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from callbacks.context import current_ui
from layouts import alarms_ids as aids
from layouts import ids
from layouts.alarms import feedback
from layouts.alarms_detail import alarm_detail
from layouts.alarms_i18n import at
from layouts.i18n import language
from services.alarms.actions import ActionsUnavailable, BadRequest, parse_params
from services.web.alarms import alarm_service, perform
from services.redis_conn import BusUnavailable

# toolbar button -> (action, parameters from the dialogs' fields: reason, duration, comment)
TOOLBAR = {
    aids.ACK: lambda reason, duration, text: ("ack", {}),
    aids.UNSHELVE: lambda reason, duration, text: ("unshelve", {}),
    aids.ASSIGN: lambda reason, duration, text: ("assign", {}),
    aids.RELEASE: lambda reason, duration, text: ("assign", {"me": False}),
    aids.SHELVE_OK: lambda reason, duration, text: ("shelve", {"reason": reason or "", **(
        {"one_shot": True} if duration == "one_shot" else {"minutes": float(duration or 60)})}),
    aids.COMMENT_OK: lambda reason, duration, text: ("comment", {"text": text or ""}),
}


DETAIL_ACTIONS = {
    aids.DETAIL_ACK: lambda note: ("ack", {"comment": note}),
    aids.DETAIL_COMMENT: lambda note: ("comment", {"text": note}),
    aids.DETAIL_RELEASE: lambda note: ("release-chatter", {"reason": note}),
}


def run(action: str, alarm_ids: list[str], raw: dict, lang: str) -> tuple[str, bool, list[dict]]:
    """Apply an action for the signed-in operator; return the words, whether it took effect, and the states it led to."""
    if not alarm_ids:
        return at("fb.none", lang), False, []
    try:
        outcomes = perform(action, alarm_ids, parse_params(action, raw), via="console")
    except BadRequest as err:
        return str(err), False, []
    except ActionsUnavailable as err:
        return at("fb.unavailable", lang, why=str(err)), False, []
    applied = [{"id": o.alarm, "state": o.state} for o in outcomes if o.result == "done" and o.state]
    return feedback(outcomes, action, lang), any(o.ok for o in outcomes), applied


def register(app: Dash) -> None:
    """Register the console's callbacks on `app` (and those of the master alarm database's page)."""
    from callbacks import alarms_rationale

    alarms_rationale.register(app)
    app.clientside_callback(ClientsideFunction("vigie_alarms", "configure"), Output(aids.sink("config"), "data"), Input(aids.CONFIG, "data"))
    app.clientside_callback(ClientsideFunction("vigie_alarms", "filters"), Output(aids.sink("filters"), "data"),
                            Input(aids.F_DOMAIN, "value"), Input(aids.F_PRIORITY, "value"), Input(aids.F_VIEW, "value"),
                            Input(aids.F_AREA, "value"), Input(aids.F_TEXT, "value"))
    app.clientside_callback(ClientsideFunction("vigie_alarms", "selectNone"), Output(aids.sink("select"), "data"),
                            Input(aids.SELECT_NONE, "n_clicks"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("vigie_alarms", "applied"), Output(aids.sink("applied"), "data"),
                            Input(aids.APPLIED, "data"), prevent_initial_call=True)

    @app.callback(Output(aids.SHELVE_MODAL, "opened"), Output(aids.SHELVE_MODAL, "title"), Output(aids.COMMENT_MODAL, "opened"),
                  Output(aids.COMMENT_MODAL, "title"), Output(aids.FEEDBACK, "children", allow_duplicate=True),
                  Input(aids.SHELVE, "n_clicks"), Input(aids.SHELVE_CANCEL, "n_clicks"), Input(aids.COMMENT, "n_clicks"),
                  Input(aids.COMMENT_CANCEL, "n_clicks"), State(aids.GRID, "selectedRows"), State(ids.CONFIG, "data"),
                  prevent_initial_call=True)
    def open_dialogs(_shelve, _cancel_shelve, _comment, _cancel_comment, rows, config):
        lang, n = language((config or {}).get("lang")), len(rows or [])
        if ctx.triggered_id in (aids.SHELVE_CANCEL, aids.COMMENT_CANCEL):
            return False, no_update, False, no_update, no_update
        if not n:
            return False, no_update, False, no_update, at("fb.none", lang)
        if ctx.triggered_id == aids.SHELVE:
            return True, at("shelve.title", lang, n=n), no_update, no_update, ""
        return no_update, no_update, True, at("comment.title", lang, n=n), ""

    @app.callback(Output(aids.FEEDBACK, "children", allow_duplicate=True), Output(aids.SHELVE_MODAL, "opened", allow_duplicate=True),
                  Output(aids.COMMENT_MODAL, "opened", allow_duplicate=True), Output(aids.SHELVE_REASON, "value"),
                  Output(aids.COMMENT_TEXT, "value"), Output(aids.APPLIED, "data", allow_duplicate=True),
                  *[Input(b, "n_clicks") for b in TOOLBAR], State(aids.GRID, "selectedRows"), State(aids.SHELVE_REASON, "value"),
                  State(aids.SHELVE_DURATION, "value"), State(aids.COMMENT_TEXT, "value"), State(ids.CONFIG, "data"),
                  prevent_initial_call=True)
    def act(*args):
        rows, reason, duration, text, config = args[len(TOOLBAR):]
        lang = language((config or {}).get("lang"))
        action, raw = TOOLBAR[ctx.triggered_id](reason, duration, text)
        words, ok, applied = run(action, [r["id"] for r in rows or [] if "id" in r], raw, lang)
        dialog = ctx.triggered_id in (aids.SHELVE_OK, aids.COMMENT_OK)
        close = False if ok else no_update
        return words, close if dialog else no_update, close if dialog else no_update, "" if ok and dialog else no_update, \
            "" if ok and dialog else no_update, applied or no_update

    @app.callback(Output(aids.DETAIL, "children"), Input(aids.SELECTED, "data"), Input(aids.SELECTED_REV, "data"),
                  State(ids.CONFIG, "data"))  # also at load: the selection kept in the session (Back from an asset page)
    def show_detail(alarm_id, _rev, config):
        lang = language((config or {}).get("lang"))
        if not alarm_id:
            return alarm_detail(None, lang, current_ui().tz)
        try:
            found = alarm_service().actions.detail(alarm_id)
        except (ActionsUnavailable, BusUnavailable) as err:
            return at("fb.unavailable", lang, why=str(err))
        return alarm_detail(found, lang, current_ui().tz, alarm_id)

    @app.callback(Output(aids.FEEDBACK, "children", allow_duplicate=True), Output(aids.DETAIL_NOTE, "value"),
                  Output(aids.APPLIED, "data", allow_duplicate=True),
                  Input(aids.DETAIL_ACK, "n_clicks"), Input(aids.DETAIL_COMMENT, "n_clicks"), Input(aids.DETAIL_RELEASE, "n_clicks"),
                  State(aids.DETAIL_NOTE, "value"), State(aids.SELECTED, "data"), State(ids.CONFIG, "data"), prevent_initial_call=True)
    def detail_act(ack_clicks, comment_clicks, release_clicks, note, alarm_id, config):
        if not (ack_clicks or comment_clicks or release_clicks) or not alarm_id:
            return no_update, no_update, no_update
        lang = language((config or {}).get("lang"))
        action, raw = DETAIL_ACTIONS[ctx.triggered_id](note or "")
        words, ok, applied = run(action, [alarm_id], raw, lang)
        return words, "" if ok else no_update, applied or no_update
