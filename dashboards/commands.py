"""`/commands`: select on the map, command with a confirmation, follow every command live.

Query: `domain` (lighting, water, traffic), `target` (an asset or area id to start from), `command` (open its story).
"""
from __future__ import annotations

import dash

from callbacks.commands_form import current_commands
from callbacks.context import URLS, current_ui
from layouts.commands import commands_page
from layouts.i18n import language
from layouts.page import PageData

DOMAINS = ("lighting", "water", "traffic")


def page_data(lang: str | None, theme: str | None) -> PageData:
    """The control room's page data (map, live module) for the commands page: every domain's conditions."""
    ui = current_ui()
    t, s = ui.territory, ui.settings
    return PageData(
        key="commands", domains=DOMAINS, lang=language(lang, s.language), default_lang=language(s.language),
        theme=theme if theme in ("light", "dark") else "light", territory_name=t.name, center=t.center, zoom=t.zoom,
        bounds=t.bounds, attribution=t.attribution, kpis={}, history={}, geo_urls={d: URLS["geo"].format(domain=d) for d in DOMAINS},
        base_url=URLS["base"] + "?roads=1", live_url=URLS["live"], replay_url=URLS["replay"], geo_rev=ui.geo_rev(),
        tile_url=s.tile_url, late_after_s=s.late_after_s, stale_after_s=s.stale_after_s, window_ms=s.coalesce_ms, timezone=t.timezone,
    )


def layout(lang: str | None = None, theme: str | None = None, domain: str | None = None, target: str | None = None,
           command: str | None = None, action: str | None = None, **_query: str):
    """The commands page, starting from a domain, a target, an action or a command when the link says so."""
    domain = domain if domain in DOMAINS else "lighting"
    selection = {"domain": domain, "ids": [target[:128]], "polygon": None, "origin": "url"} if target else None
    service = current_commands()
    bbox = service.bounds_of(domain, [target[:128]]) if target and service is not None else None
    return commands_page(page_data(lang, theme), domain, selection, focus=command[:64] if command else None, action=action, bbox=bbox)


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.commands", path="/commands", name="commands", title="Vigie · Commandes", layout=layout)
