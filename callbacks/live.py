"""Wire the push socket to the browser's live module (clientside only: no server round trip per delta)."""
from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output

from layouts import ids
from layouts.shell import PUSH_EVENT, sink


def register(app: Dash) -> None:
    """Register the clientside callbacks of the live page on `app`."""
    app.clientside_callback(
        ClientsideFunction("vigie", "configure"),
        Output(sink("configure"), "data"), Input(ids.CONFIG, "data"), Input(ids.PAGE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("vigie", "connected"), Output(sink("connected"), "data"), Input(ids.SOCKET, "connected"),
    )
    app.clientside_callback(  # a fallback: the live module reads every push from Dash's store as it lands
        ClientsideFunction("vigie", "push"), Output(sink("push"), "data"), Input(ids.SOCKET, f"data-{PUSH_EVENT}"),
        prevent_initial_call=True,
    )
    app.clientside_callback(ClientsideFunction("vigie", "select"), Output(sink("select"), "data"), Input(ids.SELECTED, "data"))
    app.clientside_callback(
        "function (cfg) { return cfg && cfg.theme === 'dark' ? 'dark' : 'light'; }",
        Output(ids.THEME_PROVIDER, "forceColorScheme"), Input(ids.CONFIG, "data"),
    )
