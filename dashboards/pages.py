"""Register the control room's pages: the overview, one page per domain, the wall."""
from __future__ import annotations

from dash import Dash

from . import alarm_kpis, alarms, asset, commands, lighting_page, maintenance, overview, replay, supervisors, wall
from .domain_pages import traffic, water


def register(app: Dash) -> None:
    """Register every page (after the app exists: Dash's page registry requires it)."""
    for page in (overview, lighting_page, water, traffic, alarms, alarm_kpis, wall, commands, maintenance, replay, asset, supervisors):
        page.register()
