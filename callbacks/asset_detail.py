"""The asset page follows its asset: a push concerning its domain (or one of its alarms) re-reads its latest values."""
from __future__ import annotations

from typing import Callable

from dash import Dash, Input, Output, State, no_update

from layouts import asset_ids as aid
from layouts import ids
from layouts.asset_page import condition_badge, value_rows
from layouts.details import format_time
from layouts.i18n import language
from layouts.shell import PUSH_EVENT

# Runs in the browser for every push: bumps the store only when a delta concerns the asset shown.
CONCERNS = """
function (msg, asset) {
  var nu = window.dash_clientside.no_update;
  if (!msg || !asset || !asset.id) return nu;
  var deltas = msg.deltas || [msg];
  for (var i = 0; i < deltas.length; i++) {
    var d = deltas[i] || {};
    if (d.ch === asset.domain) return Date.now();
    if (d.ch === 'alarms' && (d.alarms || []).some(function (a) { return a.asset === asset.id; })) return Date.now();
  }
  return nu;
}
"""


def register(app: Dash, get_ui: Callable) -> None:
    """Register the asset page's callbacks on `app`; `get_ui()` returns the request's VigieUI."""
    app.clientside_callback(CONCERNS, Output(aid.BUMP, "data"), Input(ids.SOCKET, f"data-{PUSH_EVENT}"), State(aid.ASSET, "data"),
                            prevent_initial_call=True)

    @app.callback(Output(aid.VALUES, "children"), Output(aid.CONDITION, "children"), Output(aid.UPDATED, "children"),
                  Input(aid.BUMP, "data"), State(aid.ASSET, "data"), State(ids.CONFIG, "data"), prevent_initial_call=True)
    def follow(_bump, shown, config):
        ui = get_ui()
        asset = ui.reader.asset((shown or {}).get("id", ""))
        if asset is None:
            return no_update, no_update, no_update
        lang = language((config or {}).get("lang"))
        return value_rows(asset, lang, ui.tz), condition_badge(asset, lang), format_time(asset.get("updated"), ui.tz, lang)
