"""The wall's playlist goes to the browser's wall module once (the rotation runs there: assets/wall.js)."""
from __future__ import annotations

from dash import Dash, Input, Output

PLAYLIST = "wall-playlist"  # dcc.Store on /wall
STARTED = "wall-started"


def register(app: Dash) -> None:
    """Register the wall's clientside callback on `app`."""
    app.clientside_callback("function (p) { return window.vigieWall.start(p); }", Output(STARTED, "data"), Input(PLAYLIST, "data"))
