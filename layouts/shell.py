"""The frame every page shares: the push socket and clock (persistent), the header, banner and summary strip."""
from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_mantine_components as dmc
from dash import dcc, html
from dash_socketio import DashSocketIO

from . import ids
from .i18n import t
from .palette import PRIORITY_STYLE

PUSH_EVENT = "push"  # services.web.push.EVENT
SINKS = ("configure", "connected", "push", "select")
NAV = (("overview", "/"), ("lighting", "/lighting"), ("water", "/water"), ("traffic", "/traffic"), ("alarms", "/alarms"), ("commands", "/commands"),
       ("maintenance", "/maintenance"))
OTHER_PAGES = {"supervisors": "/supervisors"}  # pages reached otherwise than by the navigation (the supervisor badges)


def sink(name: str) -> str:
    """Id of the dummy store a clientside callback writes to."""
    return f"sink-{name}"


def app_shell(default_theme: str = "light", socket_url: str | None = None) -> dmc.MantineProvider:
    """The persistent frame: the push socket and the page container (pages bring their own header).

    The clock and the badges' ages tick in the browser (assets/vigie_render.js), not through Dash.
    `socket_url` names another Socket.IO namespace (a replay session's: callbacks/replay_exercise.py).
    """
    return dmc.MantineProvider(
        id=ids.THEME_PROVIDER,
        forceColorScheme="dark" if default_theme == "dark" else "light",
        children=html.Div(
            className="vigie-root",
            children=[
                DashSocketIO(id=ids.SOCKET, eventNames=[PUSH_EVENT], **({"url": socket_url} if socket_url else {})),
                *[dcc.Store(id=sink(n)) for n in SINKS],
                dash.page_container,
            ],
        ),
    )


def href(path: str, lang: str, theme: str, default_lang: str) -> str:
    """A link to `path` keeping the language and theme chosen in the query string."""
    query = {k: v for k, v in (("lang", lang if lang != default_lang else None), ("theme", theme if theme != "light" else None)) if v}
    return path + ("?" + urlencode(query) if query else "")


def header(lang: str, theme: str, current: str, territory_name: str, default_lang: str) -> html.Header:
    """Brand, navigation, supervisor badges (always visible), clock, language and theme switches."""
    other_lang = "en" if lang == "fr" else "fr"
    other_theme = "light" if theme == "dark" else "dark"
    path = dict(NAV).get(current) or OTHER_PAGES.get(current, "/")
    links = [
        dcc.Link(t(f"nav.{key}", lang), href=href(p, lang, theme, default_lang),
                 className="nav-link" + (" active" if key == current else ""), id=f"nav-{key}")
        for key, p in NAV
    ]
    return html.Header(
        className="vigie-header",
        children=[
            html.Div(className="brand", children=[
                html.Span(t("app.title", lang), className="brand-name"),
                html.Span(territory_name, className="brand-territory"),
            ]),
            html.Nav(links, className="vigie-nav"),
            html.Div(className=ids.ANNUNCIATOR_SLOT + " in-header"),  # the Silence button, on pages without the summary strip
            html.A(html.Div(id=ids.SUPERVISORS, className="supervisor-badges", **{"aria-label": t("summary.supervisors", lang)}),
                   href=href("/supervisors", lang, theme, default_lang), className="supervisor-badges-link", id="nav-supervisors",
                   title=t("nav.supervisors", lang)),
            html.Div(className="header-tools", children=[
                html.Span(id=ids.CLOCK_TEXT, className="clock"),
                html.A([html.Span(t("nav.lang", lang), className="tool-long"), html.Span(other_lang.upper(), className="tool-short")],
                       href=href(path, other_lang, theme, default_lang), className="tool-link", id="lang-switch", title=t("nav.lang", lang)),
                html.A([html.Span(t("nav.theme", lang), className="tool-long"), html.Span("◐", className="tool-short")] if theme == "light" else "☀",
                       href=href(path, lang, other_theme, default_lang), className="tool-link", id="theme-switch", title=t("nav.theme", lang)),
            ]),
        ],
    )


def banner(lang: str) -> html.Div:
    """Hidden until Vigie loses Redis or the push connection; then says so (and the data is marked not live)."""
    return html.Div(
        id=ids.BANNER, className="live-banner", role="alert",
        children=[html.Span("▲", className="banner-shape"), html.Span(id=ids.BANNER_TEXT),
                  html.Span(t("banner.not_live", lang), className="banner-tag")],
    )


def summary_strip(lang: str) -> html.Div:
    """Active alarms by priority (shape + colour + word), unacknowledged, stale supervisors."""
    items = [html.Span(t("summary.alarms", lang), className="summary-title")]
    for p, style in PRIORITY_STYLE.items():
        items.append(html.Div(id=f"summary-item-{p}", className=f"summary-item prio-{p} zero", children=[
            html.Span(style["shape"], className="prio-shape"),
            html.Span(id=ids.summary_count(p), className="summary-count"),
            html.Span(t(f"priority.{p}", lang), className="summary-label"),
        ]))
    items.append(html.Div(id="summary-item-unack", className="summary-item unack zero", children=[
        html.Span("!", className="prio-shape"),
        html.Span(id=ids.summary_count("unack"), className="summary-count"),
        html.Span(t("summary.unack", lang), className="summary-label"),
    ]))
    items.append(html.Div(className=ids.ANNUNCIATOR_SLOT))  # the Silence button while something sounds (alarms_annunciate.js)
    items.append(html.Div(id="summary-item-stale", className="summary-item stale zero", children=[
        html.Span("▲", className="prio-shape"),
        html.Span(id=ids.summary_count("stale"), className="summary-count"),
        html.Span(t("summary.stale", lang), className="summary-label"),
    ]))
    return html.Div(items, id=ids.SUMMARY, className="summary-strip")
