"""The engineers' supervisors page: re-read the registry when it moved; a decision button asks, the dialog confirms,
`decide()` authorises, applies and audits (services/web/supervisors.py)."""
from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from callbacks.context import DOMAINS, current_ui
from layouts import ids
from layouts import supervisors_ids as sids
from layouts.i18n import language
from layouts.supervisors import RegistryData, feedback, registry_sections
from layouts.supervisors_i18n import st
from services.supervisors.actions import BadDecision, SupervisorsUnavailable
from services.web.supervisors import decide, may_decide, supervisor_service


def registry_data() -> RegistryData:
    """The registry, where the viewer may decide, the site's policy and the time, for the page."""
    ui = current_ui()
    try:
        rows = supervisor_service().actions.view()
    except (SupervisorsUnavailable, KeyError):
        rows = None
    return RegistryData(rows, {d: may_decide(d) for d in DOMAINS}, ui.settings.supervisors_approval, ui.reader.now(), ui.territory.timezone)


def register(app: Dash) -> None:
    """Register the page's callbacks on `app`."""

    @app.callback(Output(sids.BODY, "children"), Input(sids.REV, "data"), State(ids.CONFIG, "data"), prevent_initial_call=True)
    def refresh(_rev, config):
        return registry_sections(registry_data(), language((config or {}).get("lang")))

    @app.callback(Output(sids.PENDING, "data"), Output(sids.CONFIRM_MODAL, "opened"), Output(sids.CONFIRM_TEXT, "children"),
                  Input({"type": sids.ACTION, "decision": ALL, "supervisor": ALL}, "n_clicks"), State(ids.CONFIG, "data"),
                  prevent_initial_call=True)
    def ask(_clicks, config):
        button = ctx.triggered_id
        if not button or not (ctx.triggered and ctx.triggered[0].get("value")):
            return no_update, no_update, no_update  # buttons drawn anew, not clicked
        lang = language((config or {}).get("lang"))
        pending = {"decision": button["decision"], "supervisor": button["supervisor"]}
        return pending, True, st(f"confirm.{pending['decision']}", lang, id=pending["supervisor"])

    @app.callback(Output(sids.FEEDBACK, "children"), Output(sids.BODY, "children", allow_duplicate=True),
                  Output(sids.CONFIRM_MODAL, "opened", allow_duplicate=True), Output(sids.PENDING, "data", allow_duplicate=True),
                  Input(sids.CONFIRM_OK, "n_clicks"), Input(sids.CONFIRM_CANCEL, "n_clicks"), State(sids.PENDING, "data"),
                  State(ids.CONFIG, "data"), prevent_initial_call=True)
    def confirm(_ok, _cancel, pending, config):
        if ctx.triggered_id != sids.CONFIRM_OK or not pending:
            return no_update, no_update, False, None
        lang = language((config or {}).get("lang"))
        try:
            words = feedback(decide(pending["decision"], pending["supervisor"], via="page"), pending["decision"], lang)
        except BadDecision as err:
            words = str(err)
        except SupervisorsUnavailable as err:
            words = st("fb.unavailable", lang, why=str(err))
        return words, registry_sections(registry_data(), lang), False, None
