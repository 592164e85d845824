"""`/alarms/rationalisation`: the master alarm database (ISA-18.2) for engineers; everyone signed in may read it."""
from __future__ import annotations

import dash

from callbacks.alarms_rationale import rationale_data
from callbacks.context import current_ui
from layouts.alarms_rationale import rationale_page


def layout(lang: str | None = None, theme: str | None = None, **_query: str):
    """The page in the request's language and theme."""
    data = current_ui().page_data("alarm_rationale", (), lang, theme, alarm_rows=0)
    return rationale_page(data, rationale_data())


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.alarm_rationale", path="/alarms/rationalisation", name="alarm_rationale",
                       title="Vigie · Rationalisation des alarmes", layout=layout)
