"""Supervisors' alarm codes by their names from the master alarm database (issue 15's catalog), for the pages that
show an alarm outside the console: the map's details, the asset page, the wall's held urgent alarm."""
from __future__ import annotations

from flask import has_app_context

from services.alarms.actions import ActionsUnavailable
from services.web.alarms import alarm_service


def alarm_labels(lang: str) -> dict[str, str]:
    """Alarm code -> its name in `lang` ({} where the database is not at hand: a web-only worker, no app)."""
    if not has_app_context():
        return {}
    try:
        records = alarm_service().actions.rationale()["records"]
    except (ActionsUnavailable, KeyError, AttributeError):
        return {}
    return {r["code"]: r["label"].get(lang) or r["label"].get("fr", "") for r in records if r.get("code") and r.get("label")}

