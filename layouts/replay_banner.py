"""The exercise frame: a permanent "EXERCICE / REPLAY" banner and a distinct frame colour around every page.

A browser that joined a replay session gets it around the whole app (map, KPIs, alarms, domain
pages, asset details), so nobody can take the replayed world for live operations.
"""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from . import replay_ids as rid
from .replay_i18n import rt

EXERCISE_COLOUR = "#8e24aa"  # purple: no alarm priority or condition uses it (layouts/palette.py)


def exercise_banner(name: str | None, lang: str) -> html.Div:
    """The banner: what this is, which session (None: it has ended), its clock, and the way back to live operations."""
    return html.Div(id=rid.BANNER, className="exercise-banner" + ("" if name else " ended"), role="status", children=[
        html.Span(rt("banner", lang), className="exercise-tag"),
        html.Span(name or rt("banner.ended", lang), className="exercise-name"),
        html.Span(id=rid.BANNER_CLOCK, className="exercise-clock"),
        html.Span(rt("banner.hint", lang) if name else rt("banner.ended.hint", lang), className="exercise-hint"),
        html.Button(rt("leave", lang), id=rid.LEAVE, className="exercise-leave", n_clicks=0),
        dcc.Interval(id=rid.BANNER_TICK, interval=1000),
        dcc.Store(id=rid.BANNER_POSITION),  # the session's clock: the page's clocks and ages follow it, paused or at 60x
        dcc.Store(id=f"{rid.BANNER}-sink"),
        dcc.Location(id=f"{rid.BANNER}-url", refresh=True),
    ])


def exercise_frame(shell: Any, name: str | None, lang: str) -> html.Div:
    """The whole app inside the exercise's frame, under its banner."""
    return html.Div(className="exercise-frame", style={"--exercise": EXERCISE_COLOUR},
                    children=[exercise_banner(name, lang), shell])
