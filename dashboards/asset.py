"""`/asset/<asset_id>`: one asset (level 3): identity, relations, latest values, 24 h charts, alarm and command history.

The URL is the view: an engineer can send it to a colleague (`?lang=` and `?theme=` kept).
"""
from __future__ import annotations

import time

import dash
from flask import current_app, has_request_context

from callbacks.alarm_words import alarm_labels
from callbacks.commands_log import asset_section
from callbacks.context import current_ui
from callbacks.water_isolation import pipe_sensors
from layouts.asset_page import AssetPageData, asset_page
from layouts.i18n import language
from layouts.page import page_config
from services.web.replay import exercise_of_request
from services.history.asset_detail import gather
from services.places import ref_names

MAX_ID = 128


def page_services() -> dict:
    """The journal, alarm store and command service of this app, those that run here.

    A trainee's page (a browser in a replay session) reads the journal up to the session's clock and no alarm
    store: live operations' alarm history has no place in the exercise.
    """
    ext = current_app.extensions
    runtime = ext.get("vigie.runtime")
    session = exercise_of_request() if has_request_context() else None
    if session is not None:
        return {"journal": session.journal, "alarm_store": None, "commands": ext.get("vigie.commands")}
    recorder = getattr(runtime, "recorder", None)
    alarms = ext.get("vigie.alarms")
    return {"journal": getattr(recorder, "journal", None), "alarm_store": getattr(alarms, "store", None) or getattr(runtime, "alarm_store", None),
            "commands": ext.get("vigie.commands")}


def page_clock() -> float:
    """Now, for this page: the session's clock in a replay session, else Vigie's (the territory clock)."""
    session = exercise_of_request() if has_request_context() else None
    if session is not None:
        return session.position
    runtime = current_app.extensions.get("vigie.runtime") if has_request_context() else None
    return runtime.reader.now() if runtime is not None else time.time()


def can_command(domain: str) -> bool:
    """Whether the signed-in user may command this domain (no security set up here: the command page decides)."""
    security = current_app.extensions.get("vigie.security")
    if security is None:
        return True
    from services.web.auth import current_principal

    return bool(security.allowed(current_principal(), "command.send", domain))


def layout(asset_id: str = "", lang: str | None = None, theme: str | None = None, **_query: str):
    """The asset's page in the request's language and theme."""
    ui = current_ui()
    asset_id = (asset_id or "")[:MAX_ID]
    detail = gather(ui.reader, asset_id, page_clock(), **page_services())
    base = ui.page_data("asset", (), lang, theme)
    domain = (detail.asset or {}).get("domain", "")
    commands = asset_section(asset_id, detail.asset, base.lang, ui.tz) if detail.asset else []
    d = AssetPageData(lang=base.lang, default_lang=base.default_lang, theme=base.theme, territory_name=base.territory_name,
                      config=page_config(base), tz=ui.tz, command_section=commands,
                      can_command=bool(domain) and can_command(domain), water=pipe_sensors(detail.asset, ui.reader),
                      names=ref_names(ui.reader, ui.territory.id, [ref for _k, ref, _l in detail.relations])[0],
                      alarm_labels=alarm_labels(base.lang) if detail.alarms else {})
    return asset_page(detail, d)


def register() -> None:
    """Register the page."""
    dash.register_page("vigie.asset", path_template="/asset/<asset_id>", name="asset", title="Vigie · Équipement", layout=layout)
