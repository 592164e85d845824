"""The maintenance page's callbacks: list and map the work orders, show one, move it, compute the rounds.

Thin: the work-order service (services/maintenance/service.py, hung on the app as `vigie.workorders`) does the
work; refusals come back as words. The list follows the service's pushes (assets/maintenance.js sets `mnt-pushed`).
"""
from __future__ import annotations

import logging
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import current_app

from layouts import maintenance as lm
from layouts import maintenance_ids as mid
from layouts.maintenance_i18n import mt

log = logging.getLogger(__name__)
EXTENSION = "vigie.workorders"


def current_workorders() -> Any:
    """The work-order service of the app serving this request (None when not wired)."""
    return current_app.extensions.get(EXTENSION)


def _tz() -> str:
    ui = current_app.extensions.get("vigie.ui")
    return ui.territory.timezone if ui is not None else "Europe/Paris"


def may_manage(domain: str) -> bool:
    """Whether the person may change this domain's work orders (to show the buttons; the change itself is authorised)."""
    from services.web.request import EXTENSION as SECURITY
    from services.web.request import current_principal, security_of

    if SECURITY not in current_app.extensions:
        return True
    return security_of().allowed(current_principal(), "workorder.manage", domain)


def _actor() -> Any:
    from services.maintenance.service import Actor
    from services.web.request import client_ip, current_principal

    p = current_principal()
    return Actor(p.label, str(p.role), str(p.kind), client_ip()) if p is not None else Actor("anonymous", kind="anonymous", ip=client_ip())


def query(domain: str | None, status: str | None, priority: str | None, fault: str | None, text: str | None) -> dict[str, str]:
    """The filters as the API's query string reads them."""
    return {"domain": domain or "", "status": status or "", "priority": priority or "", "fault": fault or "", "q": (text or "")[:80]}


def listing(q: dict[str, str], by: str | None) -> tuple[int, list[dict], list[dict] | None]:
    """(total, orders shown, groups when grouping) for the filters."""
    from services.web.workorders import parse_filter

    service = current_workorders()
    f = parse_filter(q)
    total, items = service.list(f, limit=1000)
    return total, items, (service.groups(f, by) if by in ("cabinet", "street") else None)


def depot_of(click: Any) -> list[float] | None:
    """[lon, lat] of a click on the map (dash-leaflet's `clickData`), None when it does not read as a place."""
    latlng = (click or {}).get("latlng") if isinstance(click, dict) else None
    try:
        lat, lon = (float(latlng["lat"]), float(latlng["lng"])) if isinstance(latlng, dict) else (float(latlng[0]), float(latlng[1]))
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return [lon, lat] if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def register(app: Dash) -> None:
    """Register the page's callbacks on `app`."""
    from services.maintenance.rounds import RoundsInvalid
    from services.maintenance.service import (
        WorkOrderInvalid,
        WorkOrderNotFound,
        WorkOrdersUnavailable,
    )
    from services.redis_conn import BusUnavailable

    @app.callback(Output(mid.GRID, "rowData"), Output(mid.ORDERS_LAYER, "data"), Output(mid.COUNT, "children"), Output(mid.CSV, "href"),
                  Output(mid.GROUPS, "children"),
                  Input(mid.FILTER_DOMAIN, "value"), Input(mid.FILTER_STATUS, "value"), Input(mid.FILTER_PRIORITY, "value"),
                  Input(mid.FILTER_FAULT, "value"), Input(mid.FILTER_TEXT, "value"), Input(mid.GROUP_BY, "value"),
                  Input(mid.PUSHED, "data"), Input(mid.REFRESH, "data"), State(mid.LANG, "data"))
    def refresh(domain, status, priority, fault, text, by, _pushed, _refresh, lang):
        q = query(domain, status, priority, fault, text)
        try:
            total, items, groups = listing(q, by)
        except (BusUnavailable, WorkOrdersUnavailable) as err:
            log.warning("maintenance page: %s", err)
            return [], lm.EMPTY, mt("unavailable", lang), lm.csv_href(q), None
        count = mt("count", lang, n=total) if total <= len(items) else mt("count.of", lang, n=len(items), total=total)
        return (lm.order_rows(items, lang, _tz()), lm.orders_geojson(items, lang), count, lm.csv_href(q),
                lm.groups_table(groups, by, lang) if groups is not None else None)

    @app.callback(Output(mid.SELECTED, "data"), Input(mid.GRID, "cellClicked"), Input(mid.ORDERS_LAYER, "clickData"),
                  prevent_initial_call=True)
    def select(cell, click):
        if ctx.triggered_id == mid.ORDERS_LAYER:
            return ((click or {}).get("properties") or {}).get("id") or no_update
        return (cell or {}).get("rowId") or no_update

    @app.callback(Output(mid.DETAIL, "children"), Input(mid.SELECTED, "data"), Input(mid.PUSHED, "data"), Input(mid.REFRESH, "data"),
                  State(mid.LANG, "data"))
    def detail(order_id, pushed, _refresh, lang):
        if ctx.triggered_id == mid.PUSHED and order_id not in ((pushed or {}).get("ids") or []):
            return no_update
        service = current_workorders()
        try:
            order = service.get(order_id) if order_id and service is not None else None
        except BusUnavailable:
            return [mt("unavailable", lang)]
        return lm.detail_panel(order, lang, _tz(), may_manage(order["domain"]) if order else False)

    @app.callback(Output(mid.FEEDBACK, "children"), Output(mid.REFRESH, "data"),
                  Input({"type": mid.STATUS_BUTTON, "status": ALL}, "n_clicks"), State(mid.SELECTED, "data"), State(mid.NOTE, "value"),
                  State(mid.REFRESH, "data"), State(mid.LANG, "data"), prevent_initial_call=True)
    def move(clicks, order_id, note, n, lang):
        if not order_id or not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
            return no_update, no_update
        from services.web.request import EXTENSION as SECURITY
        from services.web.request import authorize

        status = ctx.triggered_id["status"]
        service = current_workorders()
        domain = service.domain_of(order_id)
        if SECURITY in current_app.extensions:
            decision = authorize("workorder.manage", domain, target=order_id)
            if not decision:
                return mt("action.refused", lang, why=decision.message), no_update
        changes = {"status": status, **({"note": note} if note else {})}
        try:
            doc = service.update(order_id, changes, _actor())
        except (WorkOrderInvalid, WorkOrderNotFound, WorkOrdersUnavailable) as err:
            return mt("action.refused", lang, why=str(err)), no_update
        return mt("action.done.ok", lang, id=doc["id"], status=mt(f"status.{doc['status']}", lang)), (n or 0) + 1

    @app.callback(Output(mid.DEPOT, "data"), Output(mid.DEPOT_LAYER, "data"), Output(mid.DEPOT_TEXT, "children"),
                  Input(mid.MAP, "clickData"), State(mid.LANG, "data"), prevent_initial_call=True)
    def place_depot(click, lang):
        depot = depot_of(click)
        if depot is None:
            return no_update, no_update, no_update
        return depot, lm.depot_geojson(depot), mt("rounds.depot.here", lang, lat=f"{depot[1]:.5f}", lon=f"{depot[0]:.5f}")

    @app.callback(Output(mid.ROUNDS, "children"), Output(mid.ROUNDS_LAYER, "data"), Input(mid.COMPUTE, "n_clicks"),
                  State(mid.FILTER_DOMAIN, "value"), State(mid.CREWS, "value"), State(mid.SHIFT, "value"), State(mid.DEPOT, "data"),
                  State(mid.LANG, "data"), prevent_initial_call=True)
    def compute(_n, domain, crews, shift, depot, lang):
        from services.web.request import EXTENSION as SECURITY
        from services.web.request import authorize
        from services.web.workorders import compute_rounds

        domain = domain or "lighting"
        if SECURITY in current_app.extensions:
            decision = authorize("workorder.manage", domain, target="rounds")
            if not decision:
                return lm.rounds_summary(None, lang, decision.message), lm.EMPTY
        try:
            plan = compute_rounds(current_workorders(), current_app.extensions["vigie.ui"].settings, domain, int(crews or 2),
                                  float(shift or 8), tuple(depot) if depot else None)
        except (RoundsInvalid, BusUnavailable, WorkOrdersUnavailable, ValueError) as err:
            return lm.rounds_summary(None, lang, str(err)), lm.EMPTY
        return lm.rounds_summary(plan, lang), lm.rounds_geojson(plan)
