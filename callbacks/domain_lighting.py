"""The lighting page's faults list follows the lamps: a lighting delta with changed lamps re-reads it (at most every 2 s)."""
from __future__ import annotations

from typing import Callable

from dash import Dash, Input, Output, State

from layouts import ids
from layouts.domain_panels import FAULTS, FAULTS_BUMP, faults_rows
from layouts.i18n import language
from layouts.shell import PUSH_EVENT
from services.history.lighting_faults import read_faults

CHANGED = """
function (msg) {
  var nu = window.dash_clientside.no_update, deltas = (msg && msg.deltas) || [];
  var hit = deltas.some(function (d) { return d.ch === 'lighting' && d.assets && Object.keys(d.assets).length; });
  if (!hit) return nu;
  var now = Date.now(), w = window.vigieFaults = window.vigieFaults || {};
  if (w.last && now - w.last < 2000) {
    if (!w.timer) w.timer = setTimeout(function () { w.timer = null; w.last = Date.now();
      window.dash_clientside.set_props('%s', {data: w.last}); }, 2000 - (now - w.last));
    return nu;
  }
  w.last = now;
  return now;
}
""" % FAULTS_BUMP


def register(app: Dash, get_ui: Callable) -> None:
    """Register the faults list's callbacks on `app`."""
    app.clientside_callback(CHANGED, Output(FAULTS_BUMP, "data"), Input(ids.SOCKET, f"data-{PUSH_EVENT}"),
                            prevent_initial_call=True)

    @app.callback(Output(FAULTS, "children"), Input(FAULTS_BUMP, "data"), State(ids.CONFIG, "data"), prevent_initial_call=True)
    def refresh(_bump, config):
        return faults_rows(read_faults(get_ui().reader), get_ui().reader.now(), language((config or {}).get("lang")))
