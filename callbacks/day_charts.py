"""The domain pages' "over the day" charts follow the push: a delta with the domain's KPIs re-reads the day archive
(at most every 10 s: a bucket is 5 minutes of the domain's clock)."""
from __future__ import annotations

import logging
import time
from typing import Callable

from dash import Dash, Input, Output, State
from flask import current_app

from layouts import ids
from layouts.day_charts import CHARTS, SAVINGS, bump_id, figures, graph_id, savings_lines
from layouts.i18n import language
from layouts.shell import PUSH_EVENT
from services.history.day_archive import ArchiveUnavailable, DayArchive

from .push_bump import KPIS_OF, throttled_bump

log = logging.getLogger(__name__)

THROTTLE_MS = 10000


def read_days(domain: str, now: float | None = None) -> dict:
    """Today, yesterday and last week of a domain from this app's day archive (empty days if it cannot be read)."""
    runtime = current_app.extensions.get("vigie.runtime")
    archive: DayArchive | None = getattr(runtime, "day_archive", None)
    if now is None:  # the territory's time (its clock runs faster when the supervisors are simulated at a speed)
        reader = getattr(runtime, "reader", None)
        now = reader.now() if reader is not None else time.time()
    tz = current_app.extensions["vigie.ui"].tz
    if archive is None:
        return DayArchive.empty(domain, now, tz)
    try:
        return archive.compared(domain, now)
    except ArchiveUnavailable as err:
        log.info("day archive not readable for %s: %s", domain, err)
        return DayArchive.empty(domain, now, tz)


def register(app: Dash, get_ui: Callable) -> None:
    """Register the day charts' callbacks for the three domain pages on `app`."""
    for domain, charts in CHARTS.items():
        app.clientside_callback(throttled_bump(KPIS_OF, "vigieDay", domain, bump_id(domain), THROTTLE_MS),
                                Output(bump_id(domain), "data"), Input(ids.SOCKET, f"data-{PUSH_EVENT}"), prevent_initial_call=True)
        outputs = [Output(graph_id(domain, c), "figure") for c in charts]
        if domain == "lighting":
            outputs.append(Output(SAVINGS, "children"))

        def refresh(_bump, config, domain=domain):
            config = config or {}
            lang, theme = language(config.get("lang")), config.get("theme") or "light"
            days = read_days(domain)
            out = figures(domain, days, lang, theme)
            return [*out, savings_lines(days, lang)] if domain == "lighting" else out

        app.callback(outputs, Input(bump_id(domain), "data"), State(ids.CONFIG, "data"), prevent_initial_call=True)(refresh)
