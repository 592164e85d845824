"""KPI tiles per domain: label from the catalog, a large number, its unit, its trend as a small chart."""
from __future__ import annotations

from dash import dcc, html

from . import ids
from .i18n import t
from .palette import PRIORITY_STYLE, THEMES

TREND_POINTS = 720


def sparkline(points: list, theme: str) -> dict:
    """A bare plotly figure (no axes, no hover) of (epoch s, value) points."""
    pts = [p for p in points if p[1] is not None]
    neutral = THEMES.get(theme, THEMES["light"])
    return {
        "data": [{
            "type": "scatter", "mode": "lines", "x": [p[0] * 1000 for p in pts], "y": [p[1] for p in pts],
            "line": {"color": neutral["muted"], "width": 1.5, "shape": "linear"}, "hoverinfo": "skip",
        }],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 2, "b": 2}, "height": 24, "showlegend": False,
            "xaxis": {"visible": False, "type": "date", "fixedrange": True},
            "yaxis": {"visible": False, "fixedrange": True},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def kpi_tile(domain: str, kpi: dict, history: list, lang: str, theme: str, window_h: float) -> html.Div:
    """One tile; its number is filled and kept live by the browser (ids.kpi_value)."""
    key = kpi["key"]
    unit = kpi.get("unit") or ""
    return html.Div(
        id=ids.kpi_tile(domain, key),
        className="kpi-tile" + (" abnormal" if kpi.get("abnormal") else ""),
        children=[
            html.Div(t(f"kpi.{key}", lang), className="kpi-label", title=t(f"kpi.{key}", lang)),
            html.Div(className="kpi-figure", children=[
                html.Span(id=ids.kpi_value(domain, key), className="kpi-value"),  # written by the browser
                html.Span(unit, className="kpi-unit"),
                # off target: the shape backs the tile's colour; the words are there for screen readers
                html.Span([html.Span(PRIORITY_STYLE["high"]["shape"], className="prio-shape", **{"aria-hidden": "true"}),
                           html.Span(t("kpi.abnormal", lang), className="visually-hidden")],
                          className="kpi-flag", title=t("kpi.abnormal", lang)),
            ]),
            # the chart (a dcc.Graph, see trend_graph) is mounted by the browser once the map is painted:
            # loading plotly.js first would hold the first paint up by about a second
            html.Div(id=ids.kpi_trend_slot(domain, key), className="kpi-trend-slot",
                     title=t("kpi.trend", lang, hours=f"{window_h:g}")),
        ],
    )


def kpi_panel(domain: str, kpis: list[dict], history: dict, lang: str, theme: str, window_h: float = 6) -> html.Section:
    """A domain's tiles under the domain's name."""
    return html.Section(
        className=f"kpi-panel kpi-{domain}",
        children=[
            html.H2(t(f"domain.{domain}", lang), className="panel-title"),
            html.Div([kpi_tile(domain, k, history.get(k["key"], []), lang, theme, window_h) for k in kpis],
                     className="kpi-grid"),
        ],
    )


GRAPH_CONFIG = {"staticPlot": True, "displayModeBar": False, "responsive": True}


def trend_graph(domain: str, key: str, history: list, theme: str) -> dcc.Graph:
    """The small chart of a KPI's trend."""
    return dcc.Graph(id=ids.kpi_trend(domain, key), figure=sparkline(history, theme), className="kpi-trend",
                     config=GRAPH_CONFIG, style={"height": "24px"})


def trend_graphs(kpis_by_domain: dict[str, list[dict]], history: dict, domains: tuple[str, ...], theme: str) -> list[dict]:
    """Each trend chart as the browser mounts it into its slot: [{slot, graph}] in Dash's JSON form."""
    out = []
    for d in domains:
        for k in kpis_by_domain.get(d, []):
            graph = trend_graph(d, k["key"], history.get(d, {}).get(k["key"], []), theme)
            out.append({"slot": ids.kpi_trend_slot(d, k["key"]), "graph": graph.to_plotly_json()})
    return out


def kpi_keys(kpis_by_domain: dict[str, list[dict]], domains: tuple[str, ...]) -> list[list[str]]:
    """[domain, key] pairs the page shows (the browser updates only these)."""
    return [[d, k["key"]] for d in domains for k in kpis_by_domain.get(d, [])]
