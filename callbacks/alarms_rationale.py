"""The engineers' page of the master alarm database: pick a code, edit its record, save (authorised, validated, audited)."""
from __future__ import annotations

from dash import Dash, Input, Output, State, ctx, no_update

from layouts import alarms_ids as aids
from layouts import ids
from layouts.alarms_i18n import at
from layouts.alarms_rationale import (
    RationaleData,
    code_options,
    form_values,
    lists,
    record_from_form,
)
from layouts.i18n import language
from services.alarms.actions import ActionsUnavailable
from services.core.alarm_rationale import RationaleError
from services.web.alarms import (
    RationaleForbidden,
    alarm_service,
    may_edit_rationale,
    revert_rationale,
    save_rationale,
)

FIELDS = aids.RAT_FIELDS
EDIT_DOMAINS = ("lighting", "water", "traffic", "vigie")


def rationale_data() -> RationaleData:
    """The listing in force and where the viewer may edit."""
    try:
        found = alarm_service().actions.rationale()
    except (ActionsUnavailable, KeyError) as err:
        return RationaleData(error=str(err))
    return RationaleData(found["records"], found["to_rationalise"], found["default"],
                         {d: may_edit_rationale(d if d != "vigie" else None) for d in EDIT_DOMAINS})


def _record(data: RationaleData, code: str | None) -> dict | None:
    if not code:
        return None
    found = next((r for r in data.records if r["code"] == code), None)
    if found is None and any(u["code"] == code for u in data.to_rationalise):
        u = next(u for u in data.to_rationalise if u["code"] == code)
        found = {**data.default, "code": code, "domain": u.get("domain", ""), "default": True}
    return found


def register(app: Dash) -> None:
    """Register the page's callbacks on `app`."""

    @app.callback(*[Output(aids.rat_field(f), "value") for f in FIELDS], Output(aids.RAT_SAVE, "disabled"),
                  Output(aids.RAT_REVERT, "disabled"), Output(aids.RAT_FEEDBACK, "children", allow_duplicate=True),
                  Input(aids.RAT_CODE, "value"), State(ids.CONFIG, "data"), prevent_initial_call=True)
    def pick(code, config):
        lang = language((config or {}).get("lang"))
        data = rationale_data()
        record = _record(data, code)
        if record is None:
            return *([no_update] * len(FIELDS)), True, True, at("rat.pick", lang)
        values = form_values(record, lang)
        domain = values["domain"] or "vigie"
        values["domain"] = domain
        editable = data.editable.get(str(domain), False)
        return *[values[f] for f in FIELDS], not editable, not editable or bool(record.get("default")), \
            "" if editable else at("rat.forbidden", lang)

    @app.callback(Output(aids.RAT_FEEDBACK, "children", allow_duplicate=True), Output(aids.RAT_REV, "data"),
                  Input(aids.RAT_SAVE, "n_clicks"), Input(aids.RAT_REVERT, "n_clicks"), State(aids.RAT_CODE, "value"),
                  *[State(aids.rat_field(f), "value") for f in FIELDS], State(aids.RAT_REV, "data"), State(ids.CONFIG, "data"),
                  prevent_initial_call=True)
    def save(_save, _revert, code, *rest):
        values, rev, config = dict(zip(FIELDS, rest[:len(FIELDS)])), rest[-2], rest[-1]
        lang = language((config or {}).get("lang"))
        if not code:
            return at("rat.pick", lang), no_update
        try:
            if ctx.triggered_id == aids.RAT_REVERT:
                revert_rationale(code)
                return at("rat.reverted", lang, code=code), (rev or 0) + 1
            save_rationale(record_from_form(code, values))
        except RationaleError as err:
            return at("rat.refused", lang, why=str(err)), no_update
        except RationaleForbidden:
            return at("rat.forbidden", lang), no_update
        except ActionsUnavailable as err:
            return at("fb.unavailable", lang, why=str(err)), no_update
        return at("rat.saved", lang, code=code), (rev or 0) + 1

    @app.callback(Output("rat-lists", "children"), Output(aids.RAT_CODE, "data"), Input(aids.RAT_REV, "data"),
                  State(ids.CONFIG, "data"), prevent_initial_call=True)
    def refresh(_rev, config):
        lang = language((config or {}).get("lang"))
        data = rationale_data()
        return lists(data, lang), code_options(data, lang)
