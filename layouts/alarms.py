"""The alarm console page from plain data: filters, actions, the live grid, a map to locate assets, history.

Text from feeds and people is only ever placed as text (Dash children, grid cells).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dash_leaflet as dl
import dash_mantine_components as dmc
from dash import dcc, html

from . import alarms_ids as aids
from . import ids
from .alarms_grid import alarm_grid
from .alarms_i18n import alarm_catalog, at
from .details import details_frame
from .i18n import t
from .map import territory_map
from .page import PageData, page_config, page_scope
from .palette import PRIORITY_STYLE, css_variables
from .shell import banner, header, summary_strip

DOMAINS = ("lighting", "water", "traffic")
VIEWS = ("handle", "unack", "shelved", "suppressed", "out_of_service", "maintenance", "all")
SHELF_MINUTES = (15, 30, 60, 120, 240, 480)
KEEP = {"persistence": True, "persistence_type": "session"}  # the filters survive Back from an asset page


@dataclass(frozen=True, slots=True)
class ConsoleData:
    """What the console adds to a control-room page's data."""

    areas: dict[str, str] = field(default_factory=dict)  # area id -> name
    max_shelf_s: float = 8 * 3600.0
    default_shelf_s: float = 3600.0
    sound: bool = True  # the wall does not sound
    timezone: str = "Europe/Paris"  # the territory's: times read the same on every console and in the panels
    labels: dict[str, str] = field(default_factory=dict)  # alarm code -> its name (master alarm database), this language
    journal_url: str = "/api/v1/alarms/journal.csv"
    kpis_url: str = "/alarms/kpis"


def console_config(d: PageData, c: ConsoleData) -> dict:
    """What the console's script needs: labels, area names, sound files, the API."""
    return {
        "lang": d.lang, "catalog": alarm_catalog(d.lang), "areas": c.areas, "sound": c.sound, "api": "/api/v1/alarms",
        "timezone": c.timezone,
        "sounds": {"urgent": "/assets/alarm_urgent.wav", "high": "/assets/alarm_high.wav"}, "repeat_s": 10,
        "priorities": {p: {"shape": s["shape"], "label": t(f"priority.{p}", d.lang)} for p, s in PRIORITY_STYLE.items()},
        "domains": {dom: t(f"nav.{dom}", d.lang) for dom in DOMAINS}, "labels": c.labels,
    }


def _chip_group(cid: str, options: list[tuple[str, str]], label: str) -> html.Div:
    return html.Div(className="alarm-filter", children=[
        html.Span(label, className="alarm-filter-label"),
        dmc.ChipGroup(id=cid, multiple=True, value=[v for v, _ in options], **KEEP,
                      children=[dmc.Chip(text, value=v, size="xs", variant="outline") for v, text in options]),
    ])


def filters(d: PageData, c: ConsoleData) -> html.Div:
    """Domain, priority, view (state), area and text."""
    lang = d.lang
    prios = [(p, f"{s['shape']} {t(f'priority.{p}', lang)}") for p, s in PRIORITY_STYLE.items()]
    areas = [{"value": "", "label": at("filter.all_areas", lang)}] + [
        {"value": k, "label": v} for k, v in sorted(c.areas.items(), key=lambda kv: kv[1])]
    return html.Div(className="alarm-filters", children=[
        _chip_group(aids.F_DOMAIN, [(dom, t(f"nav.{dom}", lang)) for dom in DOMAINS], at("filter.domain", lang)),
        _chip_group(aids.F_PRIORITY, prios, at("filter.priority", lang)),
        html.Div(className="alarm-filter", children=[
            html.Span(at("filter.state", lang), className="alarm-filter-label"),
            dmc.SegmentedControl(id=aids.F_VIEW, value="handle", size="xs", **KEEP,
                                 data=[{"value": v, "label": at(f"view.{v}", lang)} for v in VIEWS]),
        ]),
        dmc.Select(id=aids.F_AREA, data=areas, value="", searchable=True, size="xs", w=170, allowDeselect=False, **KEEP,
                   **{"aria-label": at("filter.area", lang)}),
        dmc.TextInput(id=aids.F_TEXT, placeholder=at("filter.text", lang), size="xs", w=240, debounce=200, **KEEP,
                      **{"aria-label": at("filter.text", lang)}),
        html.A(id=aids.KPI_STRIP, className="alarm-kpi-strip", href=c.kpis_url, title=at("act.kpis", lang)),
        html.A(at("act.rationalisation", lang), href="/alarms/rationalisation", className="tool-link"),
    ])


def actions(lang: str, c: ConsoleData) -> html.Div:
    """What an operator does to the selected alarms; silence and links on the right."""
    def button(cid: str, key: str, cls: str = "") -> html.Button:
        return html.Button(at(key, lang), id=cid, n_clicks=0, className=f"alarm-action {cls}".strip())

    return html.Div(className="alarm-actions", children=[
        button(aids.ACK, "act.ack", "primary"), button(aids.SHELVE, "act.shelve"), button(aids.UNSHELVE, "act.unshelve"),
        button(aids.ASSIGN, "act.assign"), button(aids.RELEASE, "act.release"), button(aids.COMMENT, "act.comment"),
        button(aids.SELECT_NONE, "act.select_none", "quiet"),
        html.Span(id=aids.COUNT, className="alarm-count"),
        html.Div(id=aids.FEEDBACK, className="alarm-feedback", role="status", **{"aria-live": "polite"}),
        html.Div(className="alarm-links", children=[
            html.Button("♪ " + at("act.silence", lang), id=aids.SILENCE, n_clicks=0, className="alarm-action silence",
                        **{"data-silence": "1"}),
            html.A(at("act.journal_csv", lang), href=c.journal_url, className="tool-link", download="vigie-alarm-journal.csv"),
        ]),
    ])


def shelve_modal(lang: str, c: ConsoleData) -> dmc.Modal:
    """Reason (mandatory) and duration, at most the engineer's maximum, or one-shot."""
    minutes = [m for m in SHELF_MINUTES if m * 60 <= c.max_shelf_s] or [int(c.max_shelf_s // 60)]
    default = min(minutes, key=lambda m: abs(m * 60 - c.default_shelf_s))
    data = [{"value": str(m), "label": f"{m} min" if m < 60 else f"{m / 60:g} h"} for m in minutes]
    data.append({"value": "one_shot", "label": at("shelve.one_shot", lang)})
    return dmc.Modal(id=aids.SHELVE_MODAL, opened=False, title=at("shelve.title", lang, n="…"), centered=True, children=[
        dmc.Textarea(id=aids.SHELVE_REASON, label=at("shelve.reason", lang), required=True, autosize=True, minRows=2, inputProps={"maxLength": 500}),
        dmc.Select(id=aids.SHELVE_DURATION, label=at("shelve.duration", lang), data=data, value=str(default), allowDeselect=False,
                   description=at("shelve.max", lang, h=f"{c.max_shelf_s / 3600:g}"), mt="sm"),
        html.Div(className="modal-buttons", children=[
            html.Button(at("act.cancel", lang), id=aids.SHELVE_CANCEL, n_clicks=0, className="alarm-action quiet"),
            html.Button(at("act.send", lang), id=aids.SHELVE_OK, n_clicks=0, className="alarm-action primary"),
        ]),
    ])


def comment_modal(lang: str) -> dmc.Modal:
    """A comment on the selected alarms."""
    return dmc.Modal(id=aids.COMMENT_MODAL, opened=False, title=at("comment.title", lang, n="…"), centered=True, children=[
        dmc.Textarea(id=aids.COMMENT_TEXT, label=at("comment.text", lang), autosize=True, minRows=2, inputProps={"maxLength": 500}),
        html.Div(className="modal-buttons", children=[
            html.Button(at("act.cancel", lang), id=aids.COMMENT_CANCEL, n_clicks=0, className="alarm-action quiet"),
            html.Button(at("act.send", lang), id=aids.COMMENT_OK, n_clicks=0, className="alarm-action primary"),
        ]),
    ])


def console_map(d: PageData) -> html.Div:
    """The control room's map with every domain, plus the ring that marks a located asset."""
    frame = territory_map(domains=d.domains, center=d.center, zoom=d.zoom, bounds=d.bounds, lang=d.lang, theme=d.theme,
                          geo_urls=d.geo_urls, geo_rev=d.geo_rev, base_url=d.base_url, tile_url=d.tile_url,
                          attribution=d.attribution)
    leaflet_map = frame.children[0]
    leaflet_map.children = [*leaflet_map.children, dl.DivMarker(
        id=aids.FOCUS, position=[0.0, 0.0], interactive=False, keyboard=False,  # off the territory until an asset is located
        iconOptions={"className": "alarm-focus-ring", "html": "", "iconSize": [46, 46]})]
    return frame


def alarm_console(d: PageData, c: ConsoleData) -> html.Div:
    """The console: the page frame of every control-room page around the grid, the map and the history."""
    lang = d.lang
    return html.Div(
        className=f"vigie-page page-alarms theme-{d.theme}",
        style=css_variables(d.theme),
        children=[
            dcc.Store(id=ids.CONFIG, data=page_config(d)),
            dcc.Store(id=ids.PAGE, data=page_scope(d)),
            dcc.Store(id=ids.SELECTED),
            dcc.Store(id=ids.DETAILS_REFRESH, data=0),
            dcc.Store(id=aids.CONFIG, data=console_config(d, c)),
            dcc.Store(id=aids.SELECTED, storage_type="session"),
            dcc.Store(id=aids.APPLIED),
            dcc.Store(id=aids.SELECTED_REV, data=0),
            *[dcc.Store(id=aids.sink(n)) for n in aids.SINKS],
            header(lang, d.theme, "alarms", d.territory_name, d.default_lang),
            banner(lang),
            summary_strip(lang),
            html.Div(className="alarm-toolbar", children=[filters(d, c), actions(lang, c)]),
            html.Main(className="alarm-main", children=[
                html.Section(alarm_grid(lang), className="alarm-grid-frame", **{"aria-label": at("page.title", lang)}),
                html.Div(className="alarm-side", children=[
                    html.Div(className="map-column alarm-map", children=[console_map(d), details_frame(lang)]),
                    html.Section(className="alarm-detail-panel", children=[
                        html.H2(at("detail.title", lang), className="panel-title"),
                        html.Div(html.Div(at("detail.hint", lang), className="details-hint"), id=aids.DETAIL, className="alarm-detail"),
                    ]),
                ]),
            ]),
            shelve_modal(lang, c),
            comment_modal(lang),
        ],
    )


def feedback(outcomes: list, action: str, lang: str) -> str:
    """One line saying what an action did to the alarms asked (Outcome objects)."""
    by: dict[str, list] = {}
    for o in outcomes:
        by.setdefault(o.result, []).append(o)
    parts = []
    if by.get("done"):
        parts.append(at("fb.done", lang, n=len(by["done"]), verb=at(f"verb.{action}", lang)))
    if by.get("already"):
        who = ", ".join(sorted({o.by for o in by["already"] if o.by}))
        parts.append(at("fb.already", lang, n=len(by["already"]), who=who or "—"))
    for result in ("refused", "forbidden"):
        if by.get(result):
            parts.append(at(f"fb.{result}", lang, n=len(by[result]), why=by[result][0].message))
    if by.get("not_found"):
        parts.append(at("fb.not_found", lang, n=len(by["not_found"])))
    return " · ".join(parts)
