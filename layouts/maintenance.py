"""The maintenance page from plain data: filters, a map and a grid of work orders, one order's story, the rounds.

Pure: rows come from the work-order service (services/maintenance/service.py) as dicts, plans of rounds from
services/maintenance/rounds.py `Plan.to_dict()`. Text from feeds and people is only ever text. Colour only for
what is abnormal: a high-priority order; the crews' rounds are told apart by number and dash as well as by hue.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
import dash_leaflet as dl
import dash_mantine_components as dmc
from dash import dcc, html

from . import ids
from . import maintenance_ids as mid
from .maintenance_i18n import mt
from .page import PageData, page_config, page_scope
from .palette import css_variables
from .shell import banner, header

DOMAINS = ("lighting", "water", "traffic")
STATUSES = ("open", "planned", "in_progress", "done", "verified", "reopened")
PRIORITIES = ("high", "normal", "low")
FAULTS = ("defectiveLamp", "brokenLantern", "columnIssue", "intermittent", "lamp_off", "sensor_drift")
NEXT = {"open": ("planned", "in_progress", "done"), "planned": ("in_progress", "done", "open"), "in_progress": ("done", "planned"),
        "reopened": ("planned", "in_progress", "done"), "done": ("reopened",), "verified": ("reopened",)}
EMPTY = {"type": "FeatureCollection", "features": []}
CSV_PATH = "/api/v1/workorders"


def js(name: str) -> dict:
    """A function of the browser's `window.vigie`, e.g. `mnt.point`."""
    return {"variable": f"vigie.{name}"}


def _when(ts: float | None, tz: str, lang: str) -> str:
    if not ts:
        return ""
    at = datetime.fromtimestamp(ts, ZoneInfo(tz))
    return at.strftime("%d/%m %H:%M") if lang == "fr" else at.strftime("%d %b %H:%M")


def _number(value: float, lang: str, digits: int = 1) -> str:
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def _select(id_: str, label: str, options: list[tuple[str, str]], value: str, width: int = 150) -> dmc.Select:
    return dmc.Select(id=id_, label=label, value=value, size="xs", allowDeselect=False, w=width,
                      data=[{"value": v, "label": text} for v, text in options])


def csv_href(query: dict[str, str]) -> str:
    """The CSV export of what the filters keep."""
    return CSV_PATH + "?" + urlencode({**{k: v for k, v in query.items() if v}, "format": "csv", "limit": "100000"})


def filters(lang: str) -> html.Div:
    """Domain, status (to do by default), priority, fault, words, grouping; the CSV export of the same."""
    every = [("", mt("filter.all", lang))]
    return html.Div(className="mnt-filters", children=[
        _select(mid.FILTER_DOMAIN, mt("filter.domain", lang), every + [(d, mt(f"domain.{d}", lang)) for d in DOMAINS], "lighting", 130),
        _select(mid.FILTER_STATUS, mt("filter.status", lang),
                [("pending", mt("filter.pending", lang)), ("", mt("filter.all", lang))] + [(s, mt(f"status.{s}", lang)) for s in STATUSES],
                "pending", 140),
        _select(mid.FILTER_PRIORITY, mt("filter.priority", lang), every + [(p, mt(f"priority.{p}", lang)) for p in PRIORITIES], "", 120),
        _select(mid.FILTER_FAULT, mt("filter.fault", lang), every + [(f, mt(f"fault.{f}", lang)) for f in FAULTS], "", 170),
        dmc.TextInput(id=mid.FILTER_TEXT, label=mt("filter.text", lang), placeholder=mt("filter.text.placeholder", lang), size="xs",
                      w=190, debounce=400),
        _select(mid.GROUP_BY, mt("group.by", lang), [("", mt("group.none", lang)), ("cabinet", mt("group.cabinet", lang)),
                                                     ("street", mt("group.street", lang))], "", 130),
        html.A(mt("csv", lang), id=mid.CSV, href=csv_href({"status": "pending", "domain": "lighting"}), className="mnt-csv",
               download="vigie-workorders.csv"),
    ])


def order_grid(lang: str) -> dag.AgGrid:
    """The work orders, one row each (pending first, high priority first, oldest first)."""
    cols = [("priority", 95), ("fault", 150), ("asset", 210), ("street", 180), ("status", 100), ("telemetry", 130), ("opened", 105),
            ("cabinet", 170), ("id", 190)]
    return dag.AgGrid(
        id=mid.GRID, rowData=[], className="ag-theme-quartz mnt-grid",
        columnDefs=[{"field": c, "headerName": mt(f"col.{c}", lang), "width": w, "cellClass": f"mnt-cell-{c}"} for c, w in cols],
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                         "animateRows": False, "rowHeight": 30, "headerHeight": 32,
                         "rowClassRules": {"mnt-row-high": "params.data.priority_key === 'high'"}},
        style={"height": "100%", "width": "100%"},
    )


def order_rows(items: list[dict[str, Any]], lang: str, tz: str) -> list[dict[str, Any]]:
    """Grid rows in the operator's words."""
    return [{"id": o["id"], "status": mt(f"status.{o['status']}", lang), "priority": mt(f"priority.{o['priority']}", lang),
             "priority_key": o["priority"], "fault": mt(f"fault.{o['fault']}", lang), "asset": o["asset_name"] or o["asset"],
             "street": o["street_name"], "cabinet": o.get("cabinet_name") or o["cabinet"], "opened": _when(o["opened_at"], tz, lang),
             "telemetry": mt("telemetry.active" if o["fault_active"] else "telemetry.clear", lang)} for o in items]


def orders_geojson(items: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The orders with a place, as points (the browser styles them: assets/maintenance.js)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [o["lon"], o["lat"]]},
         "properties": {"id": o["id"], "priority": o["priority"], "status": o["status"],
                        "tooltip": mt("fault." + o["fault"], lang) + " · " + (o["asset_name"] or o["asset"])}}
        for o in items if o.get("lon") is not None and o.get("lat") is not None]}


def rounds_geojson(plan: dict[str, Any] | None) -> dict[str, Any]:
    """Each crew's road path as a line, its stops numbered, and the depot."""
    if not plan:
        return EMPTY
    feats: list[dict[str, Any]] = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": list(plan["depot"])},
                                    "properties": {"depot": True, "tooltip": "depot"}}]
    for r in plan["rounds"]:
        if r.get("path"):
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": r["path"]},
                          "properties": {"crew": r["crew"]}})
        for n, s in enumerate(r["stops"], start=1):
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                          "properties": {"crew": r["crew"], "n": n, "tooltip": f"{r['crew']}.{n} {s['label']}"}})
    return {"type": "FeatureCollection", "features": feats}


def depot_geojson(depot: list[float] | None) -> dict[str, Any]:
    """The depot chosen on the map, drawn as the rounds draw it."""
    if not depot:
        return EMPTY
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": list(depot)},
                                                       "properties": {"depot": True}}]}


def order_map(d: PageData) -> html.Div:
    """The base plan, the work orders, the rounds on top."""
    sw, ne = d.bounds
    return html.Div(className="map-frame mnt-map-frame", children=[
        dl.Map(id=mid.MAP, center=list(d.center), zoom=d.zoom, minZoom=d.zoom - 3, maxZoom=19, preferCanvas=True,  # orders: DOM marks
               maxBounds=[[sw[0] - 0.15, sw[1] - 0.15], [ne[0] + 0.15, ne[1] + 0.15]], className="territory-map",
               children=[dl.GeoJSON(id=mid.BASE, url=d.base_url, style=js("map.baseStyle"), interactive=False),
                         dl.GeoJSON(id=mid.ROUNDS_LAYER, data=EMPTY, style=js("mnt.routeStyle"), pointToLayer=js("mnt.stopPoint"),
                                    onEachFeature=js("mnt.tooltip")),
                         dl.GeoJSON(id=mid.ORDERS_LAYER, data=EMPTY, pointToLayer=js("mnt.point"), onEachFeature=js("mnt.tooltip")),
                         dl.GeoJSON(id=mid.DEPOT_LAYER, data=EMPTY, pointToLayer=js("mnt.stopPoint"), interactive=False),
                         dl.ScaleControl(position="bottomleft", imperial=False)]),
    ])


def groups_table(groups: list[dict[str, Any]], by: str, lang: str) -> html.Table:
    """Counts by cabinet or street (the largest first)."""
    head = html.Tr([html.Th(mt(f"group.col.{c}", lang)) for c in ("key", "count", "pending", "high")])
    rows = [html.Tr([html.Td(g["name"]), html.Td(g["count"]), html.Td(g["pending"]),
                     html.Td(g["high"], className="mnt-high" if g["high"] else "")]) for g in groups[:200]]
    return html.Table(className="mnt-groups-table", children=[html.Thead(head), html.Tbody(rows)])


def detail_panel(o: dict[str, Any] | None, lang: str, tz: str, can_manage: bool) -> list:
    """One work order: what, where, since when, its history, and what may be done next."""
    if o is None:
        return [html.P(mt("detail.empty", lang), className="mnt-muted")]
    facts = [("detail.asset", o["asset_name"] or o["asset"]), ("col.fault", mt(f"fault.{o['fault']}", lang)),
             ("col.priority", mt(f"priority.{o['priority']}", lang)), ("col.status", mt(f"status.{o['status']}", lang)),
             ("col.telemetry", mt("telemetry.active" if o["fault_active"] else "telemetry.clear", lang)),
             ("col.street", o["street_name"]), ("col.cabinet", o.get("cabinet_name") or o["cabinet"]),
             ("detail.since", _when(o["opened_at"], tz, lang)), ("detail.source", mt(f"source.{o['source']}", lang)),
             ("detail.assignee", o["assignee"]), ("detail.external", o["external_ref"])]
    history = [html.Li([html.Span(_when(h["at"], tz, lang), className="mnt-when"), " ", html.Span(h["who"], className="mnt-who"), " · ",
                        _history_words(h, lang), (" — " + h["note"]) if h.get("note") else ""]) for h in reversed(o.get("history", []))]
    actions: list = []
    if can_manage:
        actions = [dmc.Textarea(id=mid.NOTE, label=mt("detail.note", lang), autosize=True, minRows=1, maxRows=3, size="xs"),
                   html.Div(className="mnt-actions", children=[
                       dmc.Button(mt(f"action.{s}", lang), id={"type": mid.STATUS_BUTTON, "status": s}, size="xs",
                                  variant="filled" if s == "done" else "default") for s in NEXT.get(o["status"], ())])]
    else:
        actions = [html.P(mt("action.readonly", lang), className="mnt-muted")]
    return [
        html.H3(o["id"], className="mnt-detail-id"),
        html.Dl(className="mnt-facts", children=[x for k, v in facts if v for x in (html.Dt(mt(k, lang)), html.Dd(v))]),
        dcc.Link(mt("detail.open_asset", lang), href=f"/asset/{o['asset']}", className="mnt-asset-link"),
        *actions,
        html.H4(mt("detail.history", lang)),
        html.Ol(history, className="mnt-history"),
    ]


def _history_words(h: dict[str, Any], lang: str) -> str:
    if h["action"] == "open":
        return mt("history.open", lang)
    if h["action"] == "status":
        return mt("history.status", lang, before=mt(f"status.{h['before']}", lang), after=mt(f"status.{h['after']}", lang))
    word = mt(f"history.{h['action']}", lang)
    return f"{word}: {h['after']}" if h.get("after") else word


def rounds_summary(plan: dict[str, Any] | None, lang: str, error: str | None = None) -> list:
    """The rounds computed: totals, how much shorter than the naive orders, each crew with its GPX and CSV."""
    if error:
        return [html.P(mt("rounds.error", lang, why=error), className="mnt-error", role="alert")]
    if not plan:
        return [html.P(mt("rounds.none", lang), className="mnt-muted")]
    out: list = [html.P(mt("rounds.summary", lang, served=plan["served"], crews=len([r for r in plan["rounds"] if r["stops"]]),
                           km=_number(plan["km"], lang), s=_number(plan["compute_s"], lang)), className="mnt-rounds-total")]
    if plan["unserved"]:
        out.append(html.P(mt("rounds.unserved", lang, n=len(plan["unserved"])), className="mnt-warning"))
    for key, words in (("by_date", "date"), ("nearest", "nearest")):
        ratio, base = plan["shorter_than"].get(key), plan["baselines"][key]
        if ratio is None:
            continue
        if base["served"] != plan["served"]:  # not the same faults: kilometres side by side, no ratio
            out.append(html.P(mt("rounds.other", lang, what=mt(f"rounds.what.{words}", lang), served=base["served"],
                                 km=_number(base["km"], lang)), className="mnt-ratio"))
            continue
        pct = _number(abs(ratio) * 100, lang, 0)
        text = mt(f"rounds.vs_{words}", lang, pct=pct) if ratio >= 0 else mt("rounds.longer", lang, pct=pct, what=mt(f"rounds.what.{words}", lang))
        out.append(html.P(text, className="mnt-ratio"))
    crews = []
    for r in plan["rounds"]:
        if not r["stops"]:
            continue
        h = f"{int(r['total_min'] // 60)} h {int(r['total_min'] % 60):02d}"
        base = f"/api/v1/workorders/rounds/{plan['id']}?crew={r['crew']}"
        crews.append(html.Li(className=f"mnt-crew mnt-crew-{(r['crew'] - 1) % 6 + 1}", children=[
            html.Span(mt("rounds.crew", lang, n=r["crew"]), className="mnt-crew-name"), " ",
            html.Span(mt("rounds.crew.line", lang, stops=len(r["stops"]), km=_number(r["km"], lang), h=h)), " ",
            html.A(mt("rounds.gpx", lang), href=base + "&format=gpx", download=f"vigie-round-crew{r['crew']}.gpx", className="mnt-export"), " ",
            html.A(mt("rounds.csv", lang), href=base + "&format=csv", download=f"vigie-round-crew{r['crew']}.csv", className="mnt-export"),
        ]))
    out.append(html.Ol(crews, className="mnt-crews"))
    return out


def rounds_panel(lang: str) -> html.Section:
    """Crews and shift, the compute button, the result."""
    return html.Section(className="mnt-panel mnt-rounds-panel", children=[
        html.H2(mt("rounds.title", lang), className="panel-title"),
        html.Div(className="mnt-rounds-form", children=[
            dmc.NumberInput(id=mid.CREWS, label=mt("rounds.crews", lang), value=2, min=1, max=20, step=1, size="xs", w=100),
            dmc.NumberInput(id=mid.SHIFT, label=mt("rounds.shift", lang), value=8, min=1, max=12, step=0.5, size="xs", w=150),
            dmc.Button(mt("rounds.compute", lang), id=mid.COMPUTE, size="xs", mt=22),
        ]),
        html.P(mt("rounds.depot.centre", lang), id=mid.DEPOT_TEXT, className="mnt-muted mnt-depot-text"),
        dcc.Loading(html.Div(rounds_summary(None, lang), id=mid.ROUNDS, className="mnt-rounds"), type="dot", delay_show=300),
    ])


def maintenance_page(d: PageData) -> html.Div:
    """The page: filters, the map and the grid (or counts by group), the order's story, the rounds."""
    lang = d.lang
    return html.Div(id=mid.PAGE, className=f"vigie-page page-maintenance theme-{d.theme}", style=css_variables(d.theme), children=[
        dcc.Store(id=ids.CONFIG, data=page_config(d)),
        dcc.Store(id=ids.PAGE, data={**page_scope(d), "layers": [], "kpis": []}),
        dcc.Store(id=mid.LANG, data=lang),
        dcc.Store(id=mid.PUSHED),
        dcc.Store(id=mid.REFRESH, data=0),
        dcc.Store(id=mid.SELECTED),
        dcc.Store(id=mid.PLAN),
        dcc.Store(id=mid.DEPOT),
        header(lang, d.theme, "maintenance", d.territory_name, d.default_lang),
        banner(lang),
        html.Div(className="mnt-head", children=[
            html.H1(mt("title", lang), className="mnt-title"),
            html.P(mt("intro", lang), className="mnt-intro"),
        ]),
        filters(lang),
        html.Main(className="mnt-main", children=[
            html.Div(className="mnt-map-column", children=[order_map(d), rounds_panel(lang)]),
            html.Div(className="mnt-side", children=[
                html.Div(className="mnt-list-head", children=[html.Span(id=mid.COUNT, className="mnt-count", **{"aria-live": "polite"}),
                                                              html.Div(id=mid.FEEDBACK, className="mnt-feedback", role="status")]),
                html.Div(order_grid(lang), className="mnt-grid-frame"),
                html.Div(id=mid.GROUPS, className="mnt-groups"),
                html.Section(detail_panel(None, lang, "UTC", False), id=mid.DETAIL, className="mnt-panel mnt-detail"),
            ]),
        ]),
    ])
