"""The territory map: offline base from the territory's own data, three domain layers styled in the browser.

The big data never travels in `children`: each layer fetches its GeoJSON from a URL once, and
the browser restyles features in place from the live state (assets/vigie_map.js).
"""
from __future__ import annotations

import dash_leaflet as dl
from dash import html

from services.core.assets import Thresholds
from services.core.bands import CONGESTED_BELOW, JAMMED_BELOW, SLOWED_BELOW

from . import ids
from .i18n import t
from .palette import CONDITION_STYLE, PRESSURE_BAND_STYLE, PRIORITY_STYLE, SPEED_BAND_STYLE

DOMAINS = ("lighting", "water", "traffic")
BASE_PANE = "vigie-base"  # below the overlay pane: the base map never covers the domain layers, whatever loads first


def js(name: str) -> dict:
    """A reference to a function of assets/vigie_map.js, resolved in the browser."""
    return {"variable": f"vigie.map.{name}"}


def domain_layer(domain: str, url: str | None, theme: str, defer: bool = False) -> dl.GeoJSON:
    """One domain's layer; `url` None leaves it empty (a page about another domain).

    The lamps get their data from the browser's live module (fetched while Dash starts, kept
    across pages), the other layers from their URL; `defer` lets the browser set that URL once
    the lamps are drawn, so the first paint is not held up by 8,000 road segments.
    """
    hideout = {"domain": domain, "theme": theme}
    if defer and url:
        hideout["deferred_url"], url = url, None
    if domain == "lighting":
        return dl.GeoJSON(
            id=ids.LAYER[domain], cluster=True, zoomToBoundsOnClick=True, hideout=hideout,
            clusterToLayer=js("lampCluster"), pointToLayer=js("lampPoint"),
            superClusterOptions={"radius": 90, "maxZoom": 17, "minPoints": 3},
        )
    return dl.GeoJSON(
        id=ids.LAYER[domain], url=url, hideout=hideout, pointToLayer=js("assetPoint"), style=js("lineStyle"),
        onEachFeature=js("register"),
    )


def _row(symbol: html.Span, label: str) -> html.Div:
    return html.Div([symbol, html.Span(label)], className="legend-row")


def _pct(x: float) -> int:
    return round(x * 100)


def legend(lang: str, domains: tuple[str, ...] = DOMAINS) -> html.Div:
    """What shapes and colours mean on the map: colour is an active alarm's priority (shape backs it), a
    condition without alarm is a neutral shape; the traffic and water pages add their value bands."""
    alarms = [_row(html.Span(s["shape"], className=f"vm-shape vm-p{i}"), t(f"priority.{p}", lang))
              for i, (p, s) in enumerate(PRIORITY_STYLE.items())]
    quiet = [_row(html.Span(s["shape"], className=f"vm-shape vm-c{code}"), t(f"condition.{s['name']}", lang))
             for code, s in sorted(CONDITION_STYLE.items(), reverse=True) if code >= 1]
    sections = [html.Div(t("legend.alarms", lang), className="legend-sub"), html.Div(alarms, className="legend-grid"),
                html.Div(t("legend.no_alarm", lang), className="legend-sub"), html.Div(quiet, className="legend-grid")]
    if "traffic" in domains:
        pct = {"free": {"pct": _pct(SLOWED_BELOW)}, "slowed": {"lo": _pct(CONGESTED_BELOW), "hi": _pct(SLOWED_BELOW)},
               "congested": {"lo": _pct(JAMMED_BELOW), "hi": _pct(CONGESTED_BELOW)}, "jammed": {"pct": _pct(JAMMED_BELOW)}, "closed": {}}
        speed = [_row(html.Span(className=f"legend-line speed-{s['name']}"), t(f"band.{s['name']}", lang, **pct[s["name"]]))
                 for s in SPEED_BAND_STYLE.values()]
        sections += [html.Div(t("legend.speed", lang), className="legend-sub"), html.Div(speed, className="legend-grid")]
    if "water" in domains:
        th = Thresholds()
        bounds = {"low": {"low": f"{th.low_pressure_bar:g}"}, "high": {"high": f"{th.high_pressure_bar:g}"}}
        pressure = [_row(html.Span(s["shape"], className=f"vm-pb vm-pb{code}"), t(f"band.{s['name']}", lang, **bounds[s["name"]]))
                    for code, s in PRESSURE_BAND_STYLE.items() if code]
        sections += [html.Div(t("legend.pressure", lang), className="legend-sub"), html.Div(pressure, className="legend-grid")]
    sections.append(_row(html.Span("!n", className="vc-u legend-unack"), t("map.cluster_unack", lang)))
    return html.Details([html.Summary(t("legend.title", lang), className="legend-title"), *sections], open=True,
                        className="map-legend", id="map-legend")


def territory_map(
    *, domains: tuple[str, ...], center: tuple[float, float], zoom: int, bounds, lang: str, theme: str,
    geo_urls: dict[str, str], geo_rev: dict[str, int], base_url: str, tile_url: str | None, attribution: str,
) -> html.Div:
    """The map with its base layers, the domain overlays the page shows, a scale and a legend."""
    bases = [dl.BaseLayer(dl.GeoJSON(id=ids.BASE_LAYER, url=base_url, style=js("baseStyle"), interactive=False, pane=BASE_PANE),
                          name=t("map.base", lang), checked=True)]
    if tile_url:
        bases.append(dl.BaseLayer(dl.TileLayer(url=tile_url, attribution=attribution), name=t("map.tiles", lang), checked=False))
    overlays = [
        dl.Overlay(domain_layer(d, f"{geo_urls[d]}?rev={geo_rev.get(d, 0)}", theme, defer="lighting" in domains),
                   name=t(f"map.{d}", lang), checked=True)
        for d in DOMAINS if d in domains
    ]
    hidden = [domain_layer(d, None, theme) for d in DOMAINS if d not in domains]  # keep ids stable across pages
    sw, ne = bounds
    pad = 0.15
    max_bounds = [[sw[0] - pad, sw[1] - pad], [ne[0] + pad, ne[1] + pad]]
    return html.Div(
        className="map-frame",
        children=[
            dl.Map(
                id=ids.MAP, center=list(center), zoom=zoom, minZoom=zoom - 3, maxZoom=19, maxBounds=max_bounds,
                preferCanvas=True, zoomControl=True, attributionControl=True, className="territory-map",
                children=[dl.Pane(name=BASE_PANE, style={"zIndex": 250}),
                          dl.LayersControl([*bases, *overlays], id=ids.LAYERS_CONTROL, collapsed=False), *hidden,
                          dl.ScaleControl(position="bottomleft", imperial=False)],
            ),
            legend(lang, domains),
        ],
    )
