"""`/wall`: the overview for the control centre's video wall (dark theme, more alarm rows), and the start of its
rotation playlist (services/playlist.py, run by assets/wall.js)."""
from __future__ import annotations

import logging
from dataclasses import replace

import dash
from dash import dcc, html

from callbacks.alarm_words import alarm_labels
from callbacks.context import current_ui
from callbacks.wall import PLAYLIST, STARTED
from layouts.i18n import language
from layouts.page import control_room
from services.playlist import PlaylistError, load_playlist

log = logging.getLogger(__name__)
DOMAINS = ("lighting", "water", "traffic")


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The wall view (dark unless asked otherwise) with its playlist (none if the file is unusable: no rotation)."""
    ui = current_ui()
    try:
        playlist = load_playlist(ui.settings.wall_playlist).to_dict()
        playlist["labels"] = alarm_labels(language(lang, ui.settings.language))  # the held urgent alarm by its type's name
    except PlaylistError as err:
        log.error("wall playlist not used: %s", err)
        playlist = None
    page = control_room(replace(ui.page_data("wall", DOMAINS, lang, theme or "dark", alarm_rows=10, default_theme="dark"), kiosk=True))
    return html.Div([dcc.Store(id=PLAYLIST, data=playlist), dcc.Store(id=STARTED), page], className="wall-frame")


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.wall", path="/wall", name="wall", title="Vigie · Mur", layout=layout)
