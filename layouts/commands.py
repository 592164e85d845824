"""The commands page from plain data: a map to select on (click, draw, pick), the form, the dialog, the live log.

The domain layers reuse the control room's map styling (assets/vigie_map.js, live conditions);
the selection is drawn on top by assets/commands.js. Text from feeds and people is only ever text.
"""
from __future__ import annotations

import math
from typing import Any

import dash_leaflet as dl
import dash_mantine_components as dmc
from dash import dcc, html

from . import commands_ids as cid
from . import ids
from .commands_i18n import ct
from .commands_panel import ACTIONS, command_form, confirm_modal
from .page import PageData, page_config, page_scope
from .palette import css_variables
from .shell import banner, header

DOMAINS = ("lighting", "water", "traffic")
EMPTY = {"type": "FeatureCollection", "features": []}
STATUSES = ("requested", "sent", "accepted", "applied", "partial", "rejected", "failed", "timed_out")


def js(name: str) -> dict:
    """A function of the browser's `window.vigie`, e.g. `map.lampCluster` or `cmd.selPoint`."""
    return {"variable": f"vigie.{name}"}


def domain_layer(domain: str, url: str | None, theme: str) -> dl.GeoJSON:
    """A domain's assets to click on, styled like the control room's map (live conditions)."""
    hideout = {"domain": domain, "rev": 0, "theme": theme}
    if domain == "lighting":
        return dl.GeoJSON(id=cid.LAYER[domain], url=url, cluster=True, zoomToBoundsOnClick=True, hideout=hideout,
                          clusterToLayer=js("map.lampCluster"), pointToLayer=js("map.lampPoint"),
                          superClusterOptions={"radius": 90, "maxZoom": 17, "minPoints": 3})
    return dl.GeoJSON(id=cid.LAYER[domain], url=url, hideout=hideout, pointToLayer=js("map.assetPoint"), style=js("map.lineStyle"),
                      onEachFeature=js("map.register"))


def fit(bbox: tuple, default_zoom: int, px: tuple[int, int] = (860, 640)) -> tuple[list[float], int]:
    """The center and zoom showing a (min lon, min lat, max lon, max lat) box on a map of about `px` pixels."""
    lon0, lat0, lon1, lat1 = bbox
    y0, y1 = (math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (lat0, lat1))
    zx = math.log2(px[0] * 360 / (256 * max(lon1 - lon0, 1e-6)))
    zy = math.log2(px[1] * 2 * math.pi / (256 * max(y1 - y0, 1e-9)))
    return [(lat0 + lat1) / 2, (lon0 + lon1) / 2], max(default_zoom - 3, min(17, math.floor(min(zx, zy))))


def command_map(d: PageData, domain: str, bbox: tuple | None = None) -> html.Div:
    """The map: base plan, the domain's assets, the selection highlighted, the drawing tools."""
    layers = [domain_layer(dom, d.geo_urls.get(dom) if dom == domain else None, d.theme) for dom in DOMAINS]
    selected = [
        dl.GeoJSON(id=cid.SELECTED_LAYER, data=EMPTY, cluster=True, zoomToBoundsOnClick=True, pointToLayer=js("cmd.selPoint"),
                   clusterToLayer=js("cmd.selCluster"), superClusterOptions={"radius": 40, "maxZoom": 16, "minPoints": 4}),
        dl.GeoJSON(id=f"{cid.SELECTED_LAYER}-lines", data=EMPTY, style=js("cmd.selLine"), interactive=False),
    ]
    draw = dl.FeatureGroup([dl.EditControl(
        id=cid.DRAW, position="topleft",
        draw={"polygon": {"allowIntersection": False, "showArea": False}, "rectangle": {"showArea": False}, "polyline": False,
              "circle": False, "circlemarker": False, "marker": False},
        edit={"edit": False})])
    sw, ne = d.bounds
    center, zoom = fit(bbox, d.zoom) if bbox else (list(d.center), d.zoom)
    return html.Div(className="map-frame cmd-map-frame", children=[
        dl.Map(id=cid.MAP, center=center, zoom=zoom, minZoom=d.zoom - 3, maxZoom=19, preferCanvas=True,
               maxBounds=[[sw[0] - 0.15, sw[1] - 0.15], [ne[0] + 0.15, ne[1] + 0.15]], className="territory-map",
               children=[dl.GeoJSON(id=cid.BASE, url=d.base_url, style=js("map.baseStyle"), interactive=False), *layers, *selected,
                         draw, dl.ScaleControl(position="bottomleft", imperial=False)]),
    ])


def _select(id_: str, label: str, options: list[tuple[str, str]], value: str) -> dmc.Select:
    return dmc.Select(id=id_, label=label, value=value, size="sm", allowDeselect=False, w=150,
                      data=[{"value": v, "label": text} for v, text in options])


def command_log(lang: str, csv_href: str) -> html.Section:
    """The live log of commands, with filters and the CSV export."""
    domains = [("", ct("filter.all", lang))] + [(d, ct(f"domain.{d}", lang)) for d in DOMAINS]
    statuses = [("", ct("filter.all", lang))] + [(s, ct(f"status.{s}", lang)) for s in STATUSES]
    return html.Section(className="cmd-log", children=[
        html.Div(className="cmd-log-head", children=[
            html.H2(ct("list.title", lang), className="panel-title"),
            html.A(ct("list.csv", lang), id=cid.CSV, href=csv_href, className="cmd-csv", download="vigie-commands.csv"),
        ]),
        html.Div(className="cmd-filters", children=[
            _select(cid.FILTER_DOMAIN, ct("filter.domain", lang), domains, ""),
            _select(cid.FILTER_STATUS, ct("filter.status", lang), statuses, ""),
            dmc.Checkbox(id=cid.FILTER_MINE, label=ct("filter.mine", lang), checked=False, size="sm", mt=26),
        ]),
        html.Div(html.Div(ct("list.empty", lang), className="cmd-muted"), id=cid.LIST, className="cmd-list", **{"aria-live": "polite"}),
    ])


def commands_page(d: PageData, domain: str, selection: dict[str, Any] | None, focus: str | None = None,
                  action: str | None = None, bbox: tuple | None = None) -> html.Div:
    """The page: select on the map, command, confirm, follow every command live."""
    domain = domain if domain in ACTIONS else "lighting"
    return html.Div(
        id=cid.PAGE, className=f"vigie-page page-commands theme-{d.theme}", style=css_variables(d.theme),
        children=[
            dcc.Store(id=ids.CONFIG, data=page_config(d)),
            dcc.Store(id=ids.PAGE, data={**page_scope(d), "layers": [], "kpis": []}),  # this page's layers are its own
            dcc.Store(id=cid.SELECTION, data=selection or {"domain": domain, "ids": [], "polygon": None}),
            dcc.Store(id=cid.PLAN),
            dcc.Store(id=cid.FOCUS, data=focus),
            dcc.Store(id=cid.LANG, data=d.lang),
            dcc.Store(id=cid.PUSHED),
            header(d.lang, d.theme, "commands", d.territory_name, d.default_lang),
            banner(d.lang),
            html.Main(className="cmd-main", children=[
                html.Div(className="cmd-map-column", children=[command_map(d, domain, bbox)]),
                html.Div(className="cmd-side", children=[command_form(d.lang, domain, action),
                                                         command_log(d.lang, "/api/v1/commands?format=csv")]),
            ]),
            confirm_modal(d.lang),
            dmc.Drawer(id=cid.DRAWER, opened=False, position="right", size=560, zIndex=1500, title=ct("detail.title", d.lang),
                       children=html.Div(id=cid.DETAIL, className="cmd-detail")),
        ],
    )
