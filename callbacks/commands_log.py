"""The command log's callbacks: the live list (pushed progress), the drawer with one command's story, an asset's commands."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from flask import current_app

from layouts import commands_ids as cid
from layouts.commands_i18n import command_words, ct
from layouts.commands_list import LIST_MAX, asset_commands, command_detail, command_row
from services.commands.store import CommandFilter
from services.redis_conn import BusUnavailable

from .commands_form import current_commands

ROWS = 60
DRIFT_ASSET = re.compile(r"^drift observed: (\S+) ")  # the asset a drift step names (services/core/command_book.py)


def _tz() -> Any:
    ui = current_app.extensions.get("vigie.ui")
    if ui is not None:
        return ui.tz
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


def _me() -> str | None:
    from services.web.auth import current_principal

    p = current_principal()
    return p.label if p is not None else None


def asset_section(asset_id: str, asset: dict | None, lang: str, tz: Any) -> list:
    """An asset's pending and latest commands for its details panel ([] when commands are not wired here)."""
    service = current_commands()
    if service is None or asset is None:
        return []
    try:
        docs = service.for_asset(asset_id, limit=5)
    except BusUnavailable:
        return []
    return asset_commands(docs, [command_words(d, lang) for d in docs], lang, tz, asset_id, asset.get("domain", "lighting"))


def register(app: Dash) -> None:
    """Register the log's callbacks on `app`."""

    @app.callback(Output(cid.LIST, "children"), Output(cid.CSV, "href"), Input(cid.PUSHED, "data"), Input(cid.FILTER_DOMAIN, "value"),
                  Input(cid.FILTER_STATUS, "value"), Input(cid.FILTER_MINE, "checked"), Input(cid.FOCUS, "data"), State(cid.LANG, "data"))
    def show_log(_pushed, domain, status, mine, focus, lang):
        service = current_commands()
        if service is None:
            return no_update, no_update
        f = CommandFilter(domain=domain or None, status=status or None, user=_me() if mine else None)
        try:
            _total, docs = service.list(f, limit=ROWS)
        except BusUnavailable:
            return no_update, no_update
        tz = _tz()
        rows = [command_row(d, command_words(d, lang), lang, tz, focused=d["id"] == focus) for d in docs]
        query = {k: v for k, v in (("domain", f.domain), ("status", f.status), ("user", f.user), ("format", "csv"), ("limit", "100000")) if v}
        return rows or ct("list.empty", lang), "/api/v1/commands?" + urlencode(query)

    @app.callback(Output(cid.FOCUS, "data", allow_duplicate=True), Input(cid.row(ALL), "n_clicks"), prevent_initial_call=True)
    def focus(clicks):
        if not ctx.triggered_id or not ctx.triggered or not ctx.triggered[0].get("value"):
            return no_update
        return ctx.triggered_id["id"]

    # The drawer opens in the browser: a server answer for it could be dropped as stale when a push re-runs the story.
    app.clientside_callback(ClientsideFunction("vigie_cmd", "drawer"), Output(cid.DRAWER, "opened"), Input(cid.FOCUS, "data"))

    def target_names(doc: dict | None) -> dict[str, str]:
        """The names of the targets a command's detail lists (those that did not obey, did not answer, drifted)."""
        if not doc:
            return {}
        ids = {*doc["feedback"]["failed_ids"], *doc["feedback"]["missing_ids"], *doc["actual"]["unconfirmed_ids"],
               *(doc["actual"].get("drifted_ids") or [])}
        ids.update(m.group(1) for h in doc["history"] if (m := DRIFT_ASSET.match(h.get("detail") or "")))
        ui = current_app.extensions.get("vigie.ui")
        reader = ui.reader if ui is not None else None
        return {i: (reader.asset(i) or {}).get("name") or i for i in list(ids)[:LIST_MAX]} if reader is not None else {}

    @app.callback(Output(cid.DETAIL, "children"), Input(cid.FOCUS, "data"), Input(cid.PUSHED, "data"), State(cid.LANG, "data"))
    def show_detail(command_id, pushed, lang):
        pushed_ids = (pushed or {}).get("ids") or []
        if not command_id or (ctx.triggered_id == cid.PUSHED and command_id not in pushed_ids):
            return no_update
        doc = current_commands().get(command_id)
        return command_detail(doc, command_words(doc, lang) if doc else "", lang, _tz(), target_names(doc))
