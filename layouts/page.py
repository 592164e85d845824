"""One control-room page from plain data: header, banner, summary strip, map, KPI tiles, alarms, details."""
from __future__ import annotations

from dataclasses import dataclass, field

from dash import dcc, html

from . import ids
from .details import alarm_panel, details_frame
from .i18n import catalog
from .kpis import kpi_keys, kpi_panel, trend_graphs
from .map import territory_map
from .palette import css_variables, map_palette
from .shell import banner, header, summary_strip


@dataclass(frozen=True, slots=True)
class PageData:
    """Everything a page needs, read by the dashboard module before building it."""

    key: str  # overview, lighting, water, traffic, wall
    domains: tuple[str, ...]
    lang: str
    default_lang: str
    theme: str
    territory_name: str
    center: tuple[float, float]
    zoom: int
    bounds: tuple
    attribution: str
    kpis: dict[str, list[dict]]
    history: dict[str, dict[str, list]]
    geo_urls: dict[str, str]
    base_url: str
    live_url: str
    replay_url: str = "/vigie/replay"
    geo_rev: dict[str, int] = field(default_factory=dict)
    tile_url: str | None = None
    late_after_s: float = 15.0
    stale_after_s: float = 60.0
    window_ms: int = 250
    kpi_window_h: float = 6.0
    alarm_rows: int = 8
    timezone: str = "Europe/Paris"  # the territory's: the header clock shows its time, whatever the browser's
    kiosk: bool = False  # the video wall (docs/wall.md): the alarms under the map, read from 4 m


def page_config(d: PageData) -> dict:
    """What the browser's live module needs (language, labels, palette, URLs, thresholds)."""
    return {
        "lang": d.lang, "theme": d.theme, "catalog": catalog(d.lang), "palette": map_palette(d.theme),
        "css": css_variables(d.theme), "live_url": d.live_url, "replay_url": d.replay_url, "geo_url": d.geo_urls, "geo_rev": d.geo_rev,
        "late_after_s": d.late_after_s, "stale_after_s": d.stale_after_s, "window_ms": d.window_ms, "timezone": d.timezone,
    }


KIOSK_ALARM_ROWS = 3  # on the wall: the most urgent, each whole on two or three lines of 24 px, under a map kept readable


def page_scope(d: PageData) -> dict:
    """Which domains, KPIs and layers this page shows (the browser updates only those)."""
    return {"key": d.key, "domains": list(d.domains), "layers": list(d.domains),
            "kpis": kpi_keys(d.kpis, d.domains), "alarm_rows": min(d.alarm_rows, KIOSK_ALARM_ROWS) if d.kiosk else d.alarm_rows,
            "trends": trend_graphs(d.kpis, d.history, d.domains, d.theme)}


def control_room(d: PageData) -> html.Div:
    """The page: everything visible at a glance (ISA-101 level 1).

    On the wall (`kiosk`), the alarm list sits under the map, across its width, so that its rows (two lines of large
    type) are never pushed off a screen nobody scrolls; the side column keeps the KPIs (and a domain's lists).
    """
    current = "overview" if d.key == "wall" else d.key
    side = [kpi_panel(dom, d.kpis.get(dom, []), d.history.get(dom, {}), d.lang, d.theme, d.kpi_window_h) for dom in d.domains]
    the_map = territory_map(domains=d.domains, center=d.center, zoom=d.zoom, bounds=d.bounds, lang=d.lang,
                            theme=d.theme, geo_urls=d.geo_urls, geo_rev=d.geo_rev, base_url=d.base_url, tile_url=d.tile_url,
                            attribution=d.attribution)
    if d.kiosk:
        map_column = [html.Div([the_map, details_frame(d.lang)], className="map-holder"), alarm_panel(d.lang)]
        side_column = [html.Div(side, className="kpi-column")]
    else:
        map_column = [the_map, details_frame(d.lang)]
        side_column = [html.Div(side, className="kpi-column"), alarm_panel(d.lang)]
    return html.Div(
        className=f"vigie-page page-{d.key} theme-{d.theme}" + (" single-domain" if len(d.domains) == 1 else "") + (" kiosk" if d.kiosk else ""),
        style=css_variables(d.theme),
        children=[
            dcc.Store(id=ids.CONFIG, data=page_config(d)),
            dcc.Store(id=ids.PAGE, data=page_scope(d)),
            dcc.Store(id=ids.SELECTED),
            dcc.Store(id=ids.DETAILS_REFRESH, data=0),
            header(d.lang, d.theme, current, d.territory_name, d.default_lang),
            banner(d.lang),
            summary_strip(d.lang),
            html.Main(className="vigie-main", children=[
                html.Div(className="map-column", children=map_column),
                html.Div(className="side-column", children=side_column),
            ]),
        ],
    )


def add_side_panels(page: html.Div, panels: list) -> html.Div:
    """A domain page's own panels in the side column, after its KPIs and alarms (the alarms stay above the fold)."""
    side = page.children[-1].children[1]  # control_room's main -> side column
    side.children = [*side.children, *panels]
    return page
