"""`/`: the whole territory at a glance, the three domains together."""
from __future__ import annotations

import dash

from callbacks.context import current_ui

DOMAINS = ("lighting", "water", "traffic")


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The overview in the request's language and theme."""
    return current_ui().page("overview", DOMAINS, lang, theme)


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.overview", path="/", name="overview", title="Vigie", layout=layout)
