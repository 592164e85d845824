"""`/replay`: trainers open and drive replay sessions; everyone finds the running sessions to join as a trainee.

Query: `session` (the session to drive), `lang`, `theme`.
"""
from __future__ import annotations

import dash
from callbacks.context import current_ui
from callbacks.replay import manager, trainer_refusal
from layouts.i18n import language
from layouts.page import page_config
from layouts.replay import ReplayPageData, replay_page
from services.replay.scenario import list_scenarios


def layout(lang: str | None = None, theme: str | None = None, session: str | None = None, **_query: str):
    """The replay page in the request's language and theme."""
    ui, m = current_ui(), manager()
    s = ui.settings
    sessions = m.list() if m is not None else []
    trainer = trainer_refusal() is None
    selected = session if session and m is not None and m.get(session) else next((x["id"] for x in sessions), None)
    return replay_page(ReplayPageData(
        lang=language(lang, s.language), default_lang=language(s.language), theme=theme if theme in ("light", "dark") else "light",
        territory_name=ui.territory.name, timezone=ui.territory.timezone, span=m.journal.span() if m is not None else None,
        sessions=sessions, scenarios=list_scenarios() if trainer else [], trainer=trainer, selected=selected if trainer else None,
        config=page_config(ui.page_data("replay", (), lang, theme)),
    ))


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.replay", path="/replay", name="replay", title="Vigie · Exercices", layout=layout)

