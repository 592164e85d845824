"""`/`: the whole territory at a glance, the three domains together."""
from __future__ import annotations

from dataclasses import replace

import dash

from callbacks.context import current_ui
from layouts.page import control_room

DOMAINS = ("lighting", "water", "traffic")


def layout(lang: str | None = None, theme: str | None = None, kiosk: str | None = None, **_query: str):
    """The overview in the request's language and theme (`kiosk=1`: laid out for the wall)."""
    return control_room(replace(current_ui().page_data("overview", DOMAINS, lang, theme), kiosk=kiosk == "1"))


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.overview", path="/", name="overview", title="Vigie", layout=layout)
