"""The territory map: offline base from the territory's own data, three domain layers styled in the browser.

The big data never travels in `children`: each layer fetches its GeoJSON from a URL once, and
the browser restyles features in place from the live state (assets/vigie_map.js).
"""
from __future__ import annotations

import dash_leaflet as dl
from dash import html

from . import ids
from .i18n import t
from .palette import CONDITION_STYLE

DOMAINS = ("lighting", "water", "traffic")


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


def legend(lang: str) -> html.Div:
    """What shapes and colours mean on the map (shape always backs colour)."""
    rows = [
        html.Div([html.Span(s["shape"], className=f"vm-shape vm-c{code}"), html.Span(t(f"condition.{s['name']}", lang))],
                 className="legend-row")
        for code, s in sorted(CONDITION_STYLE.items(), reverse=True) if code >= 2
    ]
    rows.append(html.Div([html.Span("?", className="vm-shape vm-c1"), html.Span(t("condition.unknown", lang))], className="legend-row"))
    rows.append(html.Div([html.Span("!n", className="vc-u legend-unack"), html.Span(t("map.cluster_unack", lang))],
                         className="legend-row"))
    return html.Div([html.Div(t("legend.title", lang), className="legend-title"), *rows], className="map-legend")


def territory_map(
    *, domains: tuple[str, ...], center: tuple[float, float], zoom: int, bounds, lang: str, theme: str,
    geo_urls: dict[str, str], geo_rev: dict[str, int], base_url: str, tile_url: str | None, attribution: str,
) -> html.Div:
    """The map with its base layers, the domain overlays the page shows, a scale and a legend."""
    bases = [dl.BaseLayer(dl.GeoJSON(id=ids.BASE_LAYER, url=base_url, style=js("baseStyle"), interactive=False),
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
                children=[dl.LayersControl([*bases, *overlays], id=ids.LAYERS_CONTROL, collapsed=False), *hidden,
                          dl.ScaleControl(position="bottomleft", imperial=False)],
            ),
            legend(lang),
        ],
    )
